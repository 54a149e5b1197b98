// placeholder until web lands
