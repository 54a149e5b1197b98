// `paidoc user ...`: account administration from the command line.
#include <unistd.h>

#include <iostream>
#include <string>

#include <fmt/format.h>

#include "auth/auth.h"
#include "cli/commands.h"
#include "common/clock.h"

namespace paidoc::cli {

CLI::App* add_user_commands(CLI::App& app, UserArgs& args) {
  auto* user = app.add_subcommand("user", "manage accounts");
  user->require_subcommand(1);
  args.add = user->add_subcommand("add", "create an account; the password is read from stdin");
  args.add->add_option("--email", args.email, "email address")->required();
  args.add->add_option("--role", args.role, "reader, editor or admin")
      ->check(CLI::IsMember({"reader", "editor", "admin"}))
      ->capture_default_str();
  return user;
}

int run_user(const Globals& g, const UserArgs& args) {
  if (!*args.add) return 1;
  // One line from stdin; a prompt only when a person is typing.
  if (isatty(STDIN_FILENO)) std::cerr << "password: " << std::flush;
  std::string password;
  if (!std::getline(std::cin, password))
    return fail(Status::invalid("no password on stdin (pipe it in: echo PASSWORD | paidoc user add ...)"));
  if (!password.empty() && password.back() == '\r') password.pop_back();

  auto st = open_store(g);
  if (!st.ok()) return fail(st.status());
  auth::Accounts accounts(**st, Clock::system());
  Result<auth::Account> a = accounts.add_user(args.email, password, *auth::parse_role(args.role));
  if (!a.ok()) return fail(a.status());
  std::cout << fmt::format("added user {} {} ({})\n", a->id, a->email, auth::role_name(a->role));
  return 0;
}

}  // namespace paidoc::cli
