// Reading a whole file, with a reason a person can act on when it fails.
#pragma once

#include <string>

#include "common/status.h"

namespace paidoc {

// The bytes of the file at `path`. On failure: kNotFound (no such file),
// kInvalidArgument (a folder) or kUnavailable (permissions, I/O), each
// with the message "PATH: cannot read: REASON (WHAT TO DO)", REASON being
// the system's (e.g. "No such file or directory").
// Thread-safe.
Result<std::string> read_file(const std::string& path);

}  // namespace paidoc
