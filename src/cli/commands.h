// Internal to src/cli: what the subcommands share.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "common/status.h"
#include "store/store.h"

namespace paidoc::cli {

struct Globals {
  std::string data = "./paidoc-data";
  std::string db;  // overrides data when set
};

// "sqlite:DIR/paidoc.db" for --data DIR (the folder is created), or --db.
Result<std::unique_ptr<store::Store>> open_store(const Globals& g);

// Prints "paidoc: message" to stderr; returns exit code 1.
int fail(const Status& s);

// `paidoc user add --email E [--role R]` (password on stdin). Registers the
// subcommand; run_user() executes it when it was chosen.
struct UserArgs {
  CLI::App* add = nullptr;
  std::string email;
  std::string role = "reader";
};
CLI::App* add_user_commands(CLI::App& app, UserArgs& args);
int run_user(const Globals& g, const UserArgs& args);

}  // namespace paidoc::cli
