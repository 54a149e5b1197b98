#include "mail/mail.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <vector>

namespace paidoc::mail {

namespace {

bool has_line_break(std::string_view s) {
  return s.find('\r') != std::string_view::npos || s.find('\n') != std::string_view::npos;
}

bool printable_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

// Length of the UTF-8 sequence that starts with byte c (1 for a stray byte).
size_t utf8_len(unsigned char c) {
  if (c >= 0xF0) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC0) return 2;
  return 1;
}

// RFC 5322 date-time in UTC: "Sun, 06 Dec 2026 16:20:00 +0000". Built by
// hand: strftime's day and month names follow the locale.
std::string rfc5322_date(int64_t now) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

// "Name" <addr> for an ASCII name (quoted, with \ and " escaped), an
// encoded word otherwise, or just the address.
std::string mailbox(std::string_view address, std::string_view name) {
  std::string a = "<" + std::string(address) + ">";
  if (name.empty()) return a;
  if (printable_ascii(name)) {
    std::string q = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    return q + "\" " + a;
  }
  return encode_header_text(name) + " " + a;
}

bool is_local_host(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]";
}

uint16_t port_of(const SmtpOptions& o) {
  if (o.port != 0) return o.port;
  switch (o.security) {
    case Security::kTls:
      return 465;
    case Security::kNone:
      return 25;
    case Security::kStartTls:
      break;
  }
  return 587;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Feeds the formatted message to libcurl's upload.
struct Upload {
  std::string_view data;
  size_t at = 0;
};

size_t read_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* u = static_cast<Upload*>(user);
  size_t n = std::min(size * count, u->data.size() - u->at);
  std::memcpy(buffer, u->data.data() + u->at, n);
  u->at += n;
  return n;
}

class SmtpTransport final : public Transport {
 public:
  explicit SmtpTransport(SmtpOptions o) : o_(std::move(o)) { global_init(); }

  Status send(const Message& m) override {
    Result<std::string> text = format_message(m, o_.from_address, o_.from_name, std::time(nullptr),
                                              new_message_id(o_.from_address));
    if (!text.ok()) return text.status();
    CURL* curl = curl_easy_init();
    if (!curl) return Status::unavailable("mail: curl_easy_init failed");
    std::string host = o_.host;
    if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
    std::string url = std::string(o_.security == Security::kTls ? "smtps://" : "smtp://") + host +
                      ":" + std::to_string(port_of(o_));
    std::string from = "<" + o_.from_address + ">";
    std::string to = "<" + m.to + ">";
    curl_slist* rcpt = curl_slist_append(nullptr, to.c_str());
    Upload up{*text};
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(o_.timeout_seconds));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(o_.timeout_seconds));
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_USE_SSL, o_.security == Security::kNone
                                                ? static_cast<long>(CURLUSESSL_NONE)
                                                : static_cast<long>(CURLUSESSL_ALL));
    if (!o_.user.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, o_.user.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, o_.password.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(text->size()));
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
      std::string why = error[0] ? error : curl_easy_strerror(rc);
      return Status::unavailable("mail: sending through " + url + " failed: " + why);
    }
    return Status();
  }

 private:
  const SmtpOptions o_;
};

}  // namespace

std::optional<Security> parse_security(std::string_view s) {
  if (s == "starttls") return Security::kStartTls;
  if (s == "tls") return Security::kTls;
  if (s == "none") return Security::kNone;
  return std::nullopt;
}

const char* security_name(Security s) {
  switch (s) {
    case Security::kTls:
      return "tls";
    case Security::kNone:
      return "none";
    case Security::kStartTls:
      break;
  }
  return "starttls";
}

bool plausible_address(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  size_t at = a.find('@');
  if (at == std::string_view::npos || at == 0 || a.find('@', at + 1) != std::string_view::npos)
    return false;
  for (unsigned char c : a)
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == '"' || c == '\\')
      return false;
  std::string_view domain = a.substr(at + 1);
  size_t dot = domain.find('.');
  return dot != std::string_view::npos && dot != 0 && dot + 1 < domain.size();
}

Status validate(const SmtpOptions& o) {
  if (o.host.empty()) return Status::invalid("--mail-host: the SMTP server's host is required");
  if (has_line_break(o.host) || o.host.find('/') != std::string::npos)
    return Status::invalid("--mail-host: not a host name");
  if (!plausible_address(o.from_address))
    return Status::invalid("--mail-from: not an email address: '" + o.from_address + "'");
  if (has_line_break(o.from_name)) return Status::invalid("--mail-from-name: no line breaks");
  if (has_line_break(o.user)) return Status::invalid("--mail-user: no line breaks");
  if (!o.user.empty() && o.password.empty())
    return Status::invalid("--mail-password-file: a password is required with --mail-user");
  if (o.security == Security::kNone && !is_local_host(o.host))
    return Status::invalid(
        "--mail-security none: only for a server on this machine (127.0.0.1 or localhost); "
        "use starttls or tls for '" + o.host + "'");
  if (o.timeout_seconds < 1) return Status::invalid("mail timeout: at least 1 second");
  return Status();
}

std::string encode_header_text(std::string_view text) {
  if (printable_ascii(text)) return std::string(text);
  // 45 bytes of UTF-8 become 60 base64 characters: with "=?UTF-8?B?" and
  // "?=" a word stays within 75. Words end on character boundaries.
  constexpr size_t kChunk = 45;
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = i;
    while (end < text.size()) {
      size_t n = utf8_len(static_cast<unsigned char>(text[end]));
      if (end + n - i > kChunk) break;
      end += n;
    }
    if (end == i) end = std::min(text.size(), i + kChunk);
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(text.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string new_message_id(std::string_view from_address) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  size_t at = from_address.find('@');
  return id + "@" +
         std::string(at == std::string_view::npos ? "localhost" : from_address.substr(at + 1));
}

Result<std::string> format_message(const Message& m, std::string_view from_address,
                                   std::string_view from_name, int64_t now,
                                   std::string_view message_id) {
  if (!plausible_address(m.to)) return Status::invalid("mail: the recipient is not an address");
  if (!plausible_address(from_address)) return Status::invalid("mail: the sender is not an address");
  if (has_line_break(m.subject) || has_line_break(from_name) || has_line_break(message_id))
    return Status::invalid("mail: a header field holds a line break");
  // The body with CRLF line ends, then base64 in lines of 76.
  std::string body;
  body.reserve(m.body.size() + m.body.size() / 32);
  for (size_t i = 0; i < m.body.size(); ++i) {
    char c = m.body[i];
    if (c == '\r') continue;
    if (c == '\n') body += '\r';
    body += c;
  }
  std::string encoded = base64(body);
  std::string out;
  out += "From: " + mailbox(from_address, from_name) + "\r\n";
  out += "To: <" + m.to + ">\r\n";
  out += "Subject: " + encode_header_text(m.subject) + "\r\n";
  out += "Date: " + rfc5322_date(now) + "\r\n";
  out += "Message-ID: <" + std::string(message_id) + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: base64\r\n";
  out += "\r\n";
  for (size_t i = 0; i < encoded.size(); i += 76) out += encoded.substr(i, 76) + "\r\n";
  return out;
}

std::unique_ptr<Transport> smtp_transport(SmtpOptions o) {
  return std::make_unique<SmtpTransport>(std::move(o));
}

}  // namespace paidoc::mail
