// PasswordResets: "忘记密码" — a reset link by mail, then a new password.
//
// request() answers the same for every well-formed email: whether an
// account has it, is disabled, or a limit was reached is never told to the
// requester. The work behind it (limits, the account lookup, the link, the
// mail) runs on this service's own worker thread after request() has
// returned, so the answer also takes the same time. Failures are logged
// (spdlog), never answered.
//
// A link holds a token of 32 random bytes (new_token()); the store keeps
// only its SHA-256 (store::PasswordResetStore). It works once, until
// ResetOptions::link_ttl has passed, and only for a live, enabled account.
// reset() sets the new password, ends every session of the account, uses
// up every other link of the account and records "user.password_reset" in
// the audit log, in one store transaction.
//
// Limits (stored throttles, store::ThrottleStore, so they hold across
// restarts and processes): mails per email address per hour, per account
// per day, and requests per client address per hour. Over a limit nothing
// is sent and the answer is the same.
//
// Thread-safety: safe from many threads. The destructor waits for the
// requests already accepted.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "auth/auth.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/work_pool.h"
#include "mail/mail.h"
#include "store/accounts.h"
#include "store/password_resets.h"

namespace paidoc::auth {

struct ResetOptions {
  std::string site_name = "paidoc 文库";  // in the mail's subject and signature
  int64_t link_ttl = 30 * 60;              // a link works this long (seconds)
  int mails_per_address_per_hour = 3;      // per email asked for, known or not
  int mails_per_account_per_day = 3;
  int requests_per_ip_per_hour = 20;       // 0: no limit per client address
  size_t queue = 256;                      // requests waiting for the worker; more are dropped (logged)
};

// What the pages and their tests need to know about a link.
inline constexpr const char* kResetLinkInvalid = "重置链接无效或已过期，请重新申请。";

class PasswordResets {
 public:
  // REQUIRES: the stores, the clock and `transport` outlive this object.
  // `transport` null: resets are off (enabled() is false) — the site then
  // tells readers to contact it. `password_cost` is the accounts'
  // Options (Accounts::options()): new passwords are hashed as at
  // registration.
  PasswordResets(store::AccountStore& accounts, store::PasswordResetStore& resets,
                 mail::Transport* transport, const Clock& clock, ResetOptions options,
                 Options password_cost);
  ~PasswordResets();
  PasswordResets(const PasswordResets&) = delete;
  PasswordResets& operator=(const PasswordResets&) = delete;

  bool enabled() const { return transport_ != nullptr; }

  // Asks for a link for `email`. kInvalidArgument (zh-CN, naming 邮箱) when
  // the email is not an address; kFailedPrecondition when resets are off;
  // otherwise OK at once — the rest happens on the worker. `base_url` is
  // the site's absolute URL without a trailing slash; the link is
  // base_url + "/password/reset?token=" + token.
  Status request(std::string_view email, const Client& client, std::string_view base_url);

  // OK when `token` names a live link of a live, enabled account;
  // kNotFound with kResetLinkInvalid otherwise.
  Status check(std::string_view token);

  // Sets `new_password` (the registration rules: kInvalidArgument with
  // validate_password's message) through a live link; kNotFound with
  // kResetLinkInvalid when the link is unknown, used or expired, or its
  // account deleted or disabled. Answers the account's email (for the
  // sign-in form).
  Result<std::string> reset(std::string_view token, std::string_view new_password,
                            const Client& client);

  // Blocks until every request accepted so far has been handled (tests;
  // shutdown).
  void wait_idle();

 private:
  void handle(const std::string& email, const Client& client, const std::string& base_url);

  store::AccountStore& accounts_;
  store::PasswordResetStore& resets_;
  mail::Transport* transport_;
  const Clock& clock_;
  const ResetOptions options_;
  const Options password_cost_;
  std::mutex mu_;
  std::condition_variable idle_;
  int pending_ = 0;  // guarded by mu_
  std::unique_ptr<WorkPool> worker_;  // last: stopped first
};

}  // namespace paidoc::auth
