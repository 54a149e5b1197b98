// The --mail-* flags of `paidoc serve`: the SMTP server that password-reset
// links are sent through (mail/mail.h).
#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "mail/mail.h"

namespace paidoc::cli {

void add_mail_options(CLI::App* serve, MailArgs& a) {
  const char* g = "Mail (password reset)";
  serve->add_option("--mail-host", a.host, "SMTP server; without it password reset by mail is off")
      ->group(g);
  serve->add_option("--mail-port", a.port, "SMTP port (0: 587 starttls, 465 tls, 25 none)")
      ->capture_default_str()->group(g);
  serve->add_option("--mail-security", a.security,
                    "starttls | tls | none (none only for a server on 127.0.0.1/localhost)")
      ->capture_default_str()->group(g);
  serve->add_option("--mail-user", a.user, "SMTP user name (empty: no authentication)")->group(g);
  serve->add_option("--mail-password-file", a.password_file,
                    "file holding the SMTP password (its first line)")->group(g);
  serve->add_option("--mail-from", a.from, "sender address, e.g. noreply@example.cn")->group(g);
  serve->add_option("--mail-from-name", a.from_name, "sender name shown to readers")->group(g);
  serve->add_option("--reset-link-ttl", a.reset_link_ttl,
                    "seconds a password-reset link stays valid")->capture_default_str()->group(g);
}

Status apply_mail_options(const MailArgs& a, web::ServerOptions* opts) {
  if (a.reset_link_ttl < 60 || a.reset_link_ttl > 86400)
    return Status::invalid(fmt::format("--reset-link-ttl {}: expected 60..86400 seconds",
                                       a.reset_link_ttl));
  opts->password_resets.link_ttl = a.reset_link_ttl;
  if (a.host.empty()) {
    for (const auto& [flag, value] :
         {std::pair<const char*, const std::string*>{"--mail-user", &a.user},
          {"--mail-password-file", &a.password_file},
          {"--mail-from", &a.from}}) {
      if (!value->empty()) return Status::invalid(fmt::format("{} needs --mail-host", flag));
    }
    opts->mail.reset();
    return Status();
  }
  mail::SmtpOptions m;
  m.host = a.host;
  if (a.port < 0 || a.port > 65535)
    return Status::invalid(fmt::format("--mail-port {}: expected 0..65535", a.port));
  m.port = static_cast<uint16_t>(a.port);
  std::optional<mail::Security> sec = mail::parse_security(a.security);
  if (!sec)
    return Status::invalid(
        fmt::format("--mail-security {}: expected starttls, tls or none", a.security));
  m.security = *sec;
  m.user = a.user;
  if (!a.password_file.empty()) {
    std::ifstream in(a.password_file, std::ios::binary);
    if (!in)
      return Status::invalid(
          fmt::format("--mail-password-file {}: cannot read the file", a.password_file));
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    if (line.empty())
      return Status::invalid(
          fmt::format("--mail-password-file {}: the first line is empty", a.password_file));
    m.password = line;
  }
  m.from_address = a.from;
  m.from_name = a.from_name;
  if (Status s = mail::validate(m); !s.is_ok()) return s;
  opts->mail = std::move(m);
  return Status();
}

}  // namespace paidoc::cli
