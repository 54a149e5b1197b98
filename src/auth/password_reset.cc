// PasswordResets: reset links by mail (password_reset.h; the words and
// rules are in CONTEXT.md).
#include "auth/password_reset.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace paidoc::auth {

namespace {

constexpr const char* kBadEmail = "邮箱格式不正确，请检查后重新输入。";
constexpr const char* kResetsOff = "本站未开通邮件找回密码，请联系本站客服。";
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 24 * 3600;

// Throttle keys. The address key is the email asked for, known or not.
std::string address_key(std::string_view email) { return "reset-email:" + std::string(email); }
std::string account_key(int64_t user_id) { return "reset-account:" + std::to_string(user_id); }
std::string ip_key(std::string_view ip) { return "reset-ip:" + std::string(ip); }

// A fixed window: at most `max` hits per `window` seconds, the window
// starting with its first hit; the max-th hit locks the key until the
// window ends.
store::ThrottleRule window_rule(std::string key, int64_t window, int max) {
  store::ThrottleRule r;
  r.key = std::move(key);
  r.window_seconds = window;
  r.max_count = max;
  r.lock_until_window_end = true;
  return r;
}

std::string minutes_text(int64_t seconds) { return std::to_string((seconds + 59) / 60) + " 分钟"; }

mail::Message reset_mail(const std::string& to, const std::string& site, const std::string& link,
                         int64_t ttl) {
  mail::Message m;
  m.to = to;
  m.subject = "【" + site + "】重置密码";
  m.body = "您好：\n\n"
           "我们收到了为 " + site + " 账号 " + to + " 重置密码的申请。"
           "请在 " + minutes_text(ttl) + "内打开下面的链接，设置新密码：\n\n" +
           link + "\n\n"
           "该链接只能使用一次。重置后，此账号在所有设备上的登录都会退出。\n"
           "如果不是您本人申请，请忽略这封邮件，您的密码不会改变。\n\n" +
           site + "\n";
  return m;
}

}  // namespace

PasswordResets::PasswordResets(store::AccountStore& accounts, store::PasswordResetStore& resets,
                               mail::Transport* transport, const Clock& clock,
                               ResetOptions options, Options password_cost)
    : accounts_(accounts),
      resets_(resets),
      transport_(transport),
      clock_(clock),
      options_(std::move(options)),
      password_cost_(password_cost) {
  if (transport_) worker_ = std::make_unique<WorkPool>("mail", 1, options_.queue);
}

PasswordResets::~PasswordResets() {
  if (worker_) worker_->shutdown();
}

Status PasswordResets::request(std::string_view email, const Client& client,
                               std::string_view base_url) {
  std::string normalized = normalize_email(email);
  if (!validate_email(normalized).is_ok()) return Status::invalid(kBadEmail);
  if (!enabled()) return Status::failed_precondition(kResetsOff);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++pending_;
  }
  auto done = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    if (--pending_ == 0) idle_.notify_all();
  };
  bool accepted = worker_->try_submit(
      [this, done, normalized, client, base = std::string(base_url)] {
        try {
          handle(normalized, client, base);
        } catch (const std::exception& e) {
          spdlog::error("password reset: {}", e.what());
        }
        done();
      });
  if (!accepted) {
    done();
    spdlog::warn("password reset: the mail queue is full; a request was dropped");
  }
  return Status();
}

void PasswordResets::handle(const std::string& email, const Client& client,
                            const std::string& base_url) {
  const int64_t now = clock_.now();
  std::vector<store::ThrottleRule> rules = {
      window_rule(address_key(email), kHour, options_.mails_per_address_per_hour)};
  if (options_.requests_per_ip_per_hour > 0)
    rules.push_back(window_rule(ip_key(client.ip), kHour, options_.requests_per_ip_per_hour));
  Result<store::ThrottleHit> hit = accounts_.hit_throttles(rules, now);
  if (!hit.ok()) {
    spdlog::error("password reset: counting the limits failed: {}", hit.status().message());
    return;
  }
  if (!hit->admitted) {
    spdlog::info("password reset: limit reached (address or client), nothing sent");
    return;
  }
  Result<store::User> user = accounts_.find_user_by_email(email);
  if (!user.ok()) {
    if (user.status().code() != Code::kNotFound)
      spdlog::error("password reset: reading the account failed: {}", user.status().message());
    return;  // no such account: nothing to send, nothing to tell
  }
  if (user->disabled_at != 0) {
    spdlog::info("password reset: account {} is disabled, nothing sent", user->id);
    return;
  }
  Result<store::ThrottleHit> per_account = accounts_.hit_throttles(
      {window_rule(account_key(user->id), kDay, options_.mails_per_account_per_day)}, now);
  if (!per_account.ok()) {
    spdlog::error("password reset: counting the limits failed: {}",
                  per_account.status().message());
    return;
  }
  if (!per_account->admitted) {
    spdlog::info("password reset: account {} reached its daily limit, nothing sent", user->id);
    return;
  }
  std::string token = new_token();
  store::PasswordReset r;
  r.user_id = user->id;
  r.token_hash = token_hash(token);
  r.created_at = now;
  r.expires_at = now + options_.link_ttl;
  r.ip = client.ip;
  if (Result<store::PasswordReset> made = resets_.create_password_reset(r); !made.ok()) {
    spdlog::error("password reset: storing the link for account {} failed: {}", user->id,
                  made.status().message());
    return;
  }
  std::string link = base_url + "/password/reset?token=" + token;
  Status sent = transport_->send(reset_mail(user->email, options_.site_name, link, options_.link_ttl));
  if (!sent.is_ok()) {
    spdlog::error("password reset: the mail to account {} was not sent: {}", user->id,
                  sent.message());
    return;
  }
  spdlog::info("password reset: link mailed to account {}", user->id);
}

Status PasswordResets::check(std::string_view token) {
  if (token.empty()) return Status::not_found(kResetLinkInvalid);
  Result<store::PasswordReset> r = resets_.find_password_reset(token_hash(token));
  if (!r.ok()) {
    if (r.status().code() == Code::kNotFound) return Status::not_found(kResetLinkInvalid);
    return r.status();
  }
  if (r->used_at != 0 || r->expires_at <= clock_.now()) return Status::not_found(kResetLinkInvalid);
  Result<store::User> u = accounts_.get_user(r->user_id);
  if (!u.ok()) {
    if (u.status().code() == Code::kNotFound) return Status::not_found(kResetLinkInvalid);
    return u.status();
  }
  if (u->deleted_at != 0 || u->disabled_at != 0) return Status::not_found(kResetLinkInvalid);
  return Status();
}

Result<std::string> PasswordResets::reset(std::string_view token, std::string_view new_password,
                                          const Client& client) {
  if (Status s = check(token); !s.is_ok()) return s;
  if (Status s = validate_password(new_password); !s.is_ok()) return s;
  const std::string hash_of_token = token_hash(token);
  Result<store::PasswordReset> r = resets_.find_password_reset(hash_of_token);
  if (!r.ok()) return r.status();
  Result<store::User> u = accounts_.get_user(r->user_id);
  if (!u.ok()) return u.status();
  Result<std::string> hash = hash_password(new_password, password_cost_);
  if (!hash.ok()) return hash.status();
  store::AuditEntry e;
  e.at = clock_.now();
  e.actor_user_id = u->id;
  e.actor = u->email;
  e.action = store::audit_action::kUserPasswordReset;
  e.details = "{}";
  e.ip = client.ip;
  // The store checks again, in the transaction that uses the link up: of
  // two resets racing with one link, one wins and the other gets kNotFound.
  Result<int64_t> done = resets_.complete_password_reset(hash_of_token, *hash, e.at, e);
  if (!done.ok()) {
    if (done.status().code() == Code::kNotFound) return Status::not_found(kResetLinkInvalid);
    return done.status();
  }
  spdlog::info("password reset: account {} set a new password through a link", u->id);
  return u->email;
}

void PasswordResets::wait_idle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return pending_ == 0; });
}

}  // namespace paidoc::auth
