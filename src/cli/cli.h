// The command line: `paidoc serve|check|import ...` (README.md, "CLI").
#pragma once

namespace paidoc::cli {

// Runs the CLI and returns the process exit code.
int run(int argc, char** argv);

}  // namespace paidoc::cli
