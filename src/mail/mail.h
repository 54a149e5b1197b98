// mail: outgoing mail — one plain-text UTF-8 message to one recipient,
// formatted here (RFC 5322 headers, RFC 2047 encoded subject and sender
// name, a base64 text/plain body) and handed to an SMTP server by libcurl.
//
// Sending blocks: connecting, TLS and the SMTP dialogue take up to
// SmtpOptions::timeout_seconds. Call Transport::send from a worker thread,
// never from an I/O thread (the password-reset service runs its own
// worker, auth/password_reset.h).
//
// Thread-safety: format_message and the helpers are pure. A Transport made
// by smtp_transport() is safe from many threads (each send is its own
// connection).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace paidoc::mail {

// How the connection to the SMTP server is protected.
enum class Security {
  kStartTls,  // plain connection upgraded with STARTTLS, which is required
  kTls,       // TLS from the first byte (smtps, usually port 465)
  kNone,      // no TLS: only for a server on this machine (127.0.0.1, ::1, localhost)
};

// "starttls" | "tls" | "none"; nullopt for anything else.
std::optional<Security> parse_security(std::string_view s);
const char* security_name(Security s);

struct SmtpOptions {
  std::string host;                       // REQUIRES: non-empty
  uint16_t port = 0;                      // 0: 587 (starttls), 465 (tls), 25 (none)
  Security security = Security::kStartTls;
  std::string user;                       // empty: no SMTP AUTH
  std::string password;                   // the file's content, never a flag
  std::string from_address;               // REQUIRES: an address (a@b.c)
  std::string from_name;                  // display name, may be Chinese; "" none
  int timeout_seconds = 30;               // the whole send, connect included
};

// kInvalidArgument naming the flag: no host, an invalid from address, a
// from name or user with a line break, security none for a host that is
// not this machine, a user without a password.
Status validate(const SmtpOptions& o);

// One message. Header fields must not contain CR or LF (format_message
// refuses them: no header injection).
struct Message {
  std::string to;       // one address
  std::string subject;  // UTF-8
  std::string body;     // UTF-8 text; lines end in \n (sent as CRLF)
};

// The message as sent: From, To, Subject (RFC 2047 "B" encoded words when
// not plain ASCII), Date (RFC 5322, UTC, from `now` in unix seconds),
// Message-ID (`message_id` without brackets), MIME-Version,
// Content-Type: text/plain; charset=UTF-8, Content-Transfer-Encoding:
// base64; CRLF line ends. kInvalidArgument for a CR or LF in a header
// field or a recipient that is not an address.
Result<std::string> format_message(const Message& m, std::string_view from_address,
                                   std::string_view from_name, int64_t now,
                                   std::string_view message_id);

// `text` as one or more RFC 2047 encoded words (=?UTF-8?B?…?=, each at most
// 75 characters, joined by CRLF SP), or unchanged when it is printable
// ASCII.
std::string encode_header_text(std::string_view text);

// A fresh Message-ID for a message from `from_address`: 32 random hex
// digits, "@", the address's domain.
std::string new_message_id(std::string_view from_address);

// True for a plausible single address: one '@', no spaces, controls,
// brackets or commas, a dot in the domain, at most 254 bytes.
bool plausible_address(std::string_view address);

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends m; blocks until the server accepted it or the send failed.
  // kUnavailable with the reason (libcurl's words) when the server cannot
  // be reached or refuses; kInvalidArgument for a message format_message
  // refuses.
  virtual Status send(const Message& m) = 0;
};

// SMTP through libcurl. REQUIRES: validate(o) is OK.
std::unique_ptr<Transport> smtp_transport(SmtpOptions o);

}  // namespace paidoc::mail
