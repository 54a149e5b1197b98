// Roles, permissions and the small credential helpers of auth.h: email and
// password rules, tokens and their hashes. Accounts lives in accounts.cc.

#include "auth/auth.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>

namespace paidoc::auth {

namespace {

// libsodium must be initialised once before use; sodium_init is itself
// thread-safe and idempotent, the static makes later calls free.
void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) std::abort();  // no safe randomness: refuse to run at all
}

constexpr size_t kMaxEmailBytes = 254;
constexpr size_t kMaxPasswordBytes = 1024;
constexpr size_t kTokenBytes = 32;

bool is_ascii_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// U+3000 IDEOGRAPHIC SPACE, which Chinese input methods produce.
constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";

std::string_view trim(std::string_view s) {
  for (;;) {
    if (!s.empty() && is_ascii_space(static_cast<unsigned char>(s.front()))) {
      s.remove_prefix(1);
    } else if (s.starts_with(kIdeographicSpace)) {
      s.remove_prefix(kIdeographicSpace.size());
    } else {
      break;
    }
  }
  for (;;) {
    if (!s.empty() && is_ascii_space(static_cast<unsigned char>(s.back()))) {
      s.remove_suffix(1);
    } else if (s.ends_with(kIdeographicSpace)) {
      s.remove_suffix(kIdeographicSpace.size());
    } else {
      break;
    }
  }
  return s;
}

int64_t count_code_points(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;  // every byte that is not a continuation byte
  }
  return n;
}

}  // namespace

// ---- roles and permissions ------------------------------------------------------

bool allowed(gate::Role role, Permission p) {
  switch (role) {
    case gate::Role::kSystem:
    case gate::Role::kAdmin:
      return true;
    case gate::Role::kEditor:
      return p == Permission::kPublish || p == Permission::kReadOwnAccount;
    case gate::Role::kReader:
      return p == Permission::kReadOwnAccount;
    case gate::Role::kAnonymous:
      return false;
  }
  return false;  // an out-of-range value: deny
}

std::optional<gate::Role> parse_role(std::string_view s) {
  if (s == "reader") return gate::Role::kReader;
  if (s == "editor") return gate::Role::kEditor;
  if (s == "admin") return gate::Role::kAdmin;
  return std::nullopt;
}

const char* role_name(gate::Role r) {
  switch (r) {
    case gate::Role::kAnonymous:
      return "anonymous";
    case gate::Role::kReader:
      return "reader";
    case gate::Role::kEditor:
      return "editor";
    case gate::Role::kAdmin:
      return "admin";
    case gate::Role::kSystem:
      return "system";
  }
  return "anonymous";
}

// ---- helpers --------------------------------------------------------------------

std::string normalize_email(std::string_view email) {
  std::string out(trim(email));
  // ASCII only: lower-casing arbitrary Unicode is locale business, and the
  // domain part of a real address is ASCII (or punycode) anyway.
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status validate_email(std::string_view e) {
  static const char* kMessage = "邮箱格式不正确";
  if (e.empty() || e.size() > kMaxEmailBytes) return Status::invalid(kMessage);
  for (unsigned char c : e) {
    if (c <= 0x20 || c == 0x7F) return Status::invalid(kMessage);  // spaces, controls
  }
  const size_t at = e.find('@');
  if (at == std::string_view::npos || e.find('@', at + 1) != std::string_view::npos) {
    return Status::invalid(kMessage);
  }
  std::string_view local = e.substr(0, at);
  std::string_view domain = e.substr(at + 1);
  if (local.empty() || domain.size() < 3) return Status::invalid(kMessage);
  if (domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return Status::invalid(kMessage);
  }
  return Status();
}

Status validate_password(std::string_view password) {
  if (count_code_points(password) < kMinPasswordChars) {
    return Status::invalid("密码至少需要 " + std::to_string(kMinPasswordChars) + " 个字符");
  }
  if (password.size() > kMaxPasswordBytes) {
    return Status::invalid("密码过长，最多 " + std::to_string(kMaxPasswordBytes) + " 字节");
  }
  return Status();
}

std::string new_token() {
  ensure_sodium();
  unsigned char raw[kTokenBytes];
  randombytes_buf(raw, sizeof raw);
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  char text[sodium_base64_ENCODED_LEN(kTokenBytes, kVariant)];
  sodium_bin2base64(text, sizeof text, raw, sizeof raw, kVariant);
  sodium_memzero(raw, sizeof raw);
  return std::string(text);
}

std::string token_hash(std::string_view token) {
  ensure_sodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex);
}

std::string session_csrf_token(std::string_view session_token) {
  ensure_sodium();
  static constexpr std::string_view kLabel = "paidoc csrf token v1";
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(session_token.data()),
                              session_token.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(kLabel.data()),
                                kLabel.size());
  crypto_auth_hmacsha256_final(&st, mac);
  sodium_memzero(&st, sizeof st);
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  char text[sodium_base64_ENCODED_LEN(sizeof mac, kVariant)];
  sodium_bin2base64(text, sizeof text, mac, sizeof mac, kVariant);
  return std::string(text);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Walks the longer input whole, so the time depends only on the lengths
  // (which are not secret here: tokens and hashes have fixed sizes).
  const size_t n = std::max(a.size(), b.size());
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

}  // namespace paidoc::auth
