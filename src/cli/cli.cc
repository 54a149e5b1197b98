namespace paidoc::cli { int run(int, char**) { return 1; } }
