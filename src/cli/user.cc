// `paidoc user ...`: account administration from the command line.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "auth/auth.h"
#include "cli/commands.h"
#include "common/clock.h"

namespace paidoc::cli {

namespace {

int run_add(const Globals& g, const UserArgs& args) {
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

// disable / enable: recorded in the audit log as cli:<os user>.
int run_set_disabled(const Globals& g, const UserArgs& args, bool disabled) {
  const std::string email = auth::normalize_email(args.email);
  if (email.empty()) return fail(Status::invalid("--email: empty"));
  auto st = open_store(g);
  if (!st.ok()) return fail(st.status());
  Result<store::User> user = (*st)->find_user_by_email(email);
  if (!user.ok()) {
    if (user.status().code() == Code::kNotFound)
      return fail(Status::not_found(fmt::format("no account with email {}", email)));
    return fail(user.status());
  }
  auth::Accounts accounts(**st, Clock::system());
  // The command line has no account: user id 0, labelled by the OS user.
  store::AuditActor by;
  by.label = cli_actor();
  Status s = disabled ? accounts.disable(user->id, by) : accounts.enable(user->id, by);
  if (!s.is_ok()) return fail(s);
  const bool was = user->disabled_at != 0;
  if (was == disabled)
    std::cout << fmt::format("user {} {} was already {}\n", user->id, email,
                             disabled ? "disabled" : "enabled");
  else
    std::cout << fmt::format("{} user {} {}\n", disabled ? "disabled" : "enabled", user->id,
                             email);
  return 0;
}

}  // namespace

std::string cli_actor() {
  const char* user = std::getenv("USER");
  if (user && *user) return std::string("cli:") + user;
  return "cli";
}

CLI::App* add_user_commands(CLI::App& app, UserArgs& args) {
  auto* user = app.add_subcommand("user", "manage accounts");
  user->require_subcommand(1);
  args.add = user->add_subcommand("add", "create an account; the password is read from stdin");
  args.add->add_option("--email", args.email, "email address")->required();
  args.add->add_option("--role", args.role, "reader, editor or admin")
      ->check(CLI::IsMember({"reader", "editor", "admin"}))
      ->capture_default_str();
  args.disable = user->add_subcommand(
      "disable", "disable an account: it can no longer sign in and its sessions end");
  args.disable->add_option("--email", args.email, "email address")->required();
  args.enable = user->add_subcommand("enable", "enable a disabled account again");
  args.enable->add_option("--email", args.email, "email address")->required();
  return user;
}

int run_user(const Globals& g, const UserArgs& args) {
  if (*args.add) return run_add(g, args);
  if (*args.disable) return run_set_disabled(g, args, true);
  if (*args.enable) return run_set_disabled(g, args, false);
  return 1;
}

}  // namespace paidoc::cli
