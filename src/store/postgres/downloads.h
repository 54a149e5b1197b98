// The downloads and settings half of the SQLite backend. Internal to
// store/postgres/; same conventions as orders.h.
#pragma once

#include <string>

#include "common/status.h"
#include "store/downloads.h"
#include "store/postgres/connection.h"

namespace paidoc::store::postgres {

// REQUIRES: inside a write transaction on c.
Result<Download> record_download_in(Connection& c, const NewDownload& d);
Result<std::string> setting_or_init_in(Connection& c, const std::string& name,
                                       const std::string& value_if_absent);
Result<Download> get_download_in(Connection& c, int64_t id);

}  // namespace paidoc::store::postgres
