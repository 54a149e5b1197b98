// The payment configuration of `paidoc serve`: flags, key files, and the
// providers they make. A provider is on only when every one of its settings
// is given; a partial configuration is an error naming what is missing, so a
// typo in the config file never silently turns a payment method off.
#include <array>
#include <cerrno>
#include <cctype>
#include <memory>
#include <optional>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "auth/auth.h"
#include "cli/commands.h"
#include "commerce/provider.h"
#include "common/money.h"

namespace paidoc::cli {

namespace {

// Reads a whole key file. kInvalidArgument naming the flag and the file.
Result<std::string> read_key_file(const std::string& flag, const std::string& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::invalid(fmt::format("{} {}: cannot read ({})", flag, path,
                                       errno ? std::strerror(errno) : "unknown error"));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::invalid(fmt::format("{} {}: read failed", flag, path));
  std::string s = buf.str();
  if (s.empty()) return Status::invalid(fmt::format("{} {}: the file is empty", flag, path));
  return s;
}

bool is_base64_text(const std::string& s) {
  size_t chars = 0;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=') ++chars;
    else if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return chars > 0;
}

// A key file: PEM, or the bare base64 (DER) that Alipay's key tool and the
// merchant platforms print. Whether the key inside loads is the provider's
// to say (the start-up check below names the flag then).
Result<std::string> read_key(const std::string& flag, const std::string& path, const char* expected) {
  Result<std::string> s = read_key_file(flag, path);
  if (!s.ok()) return s;
  if (s->find("-----BEGIN ") != std::string::npos || is_base64_text(*s)) return s;
  return Status::invalid(fmt::format("{} {}: not a key file: expected {}, as PEM (-----BEGIN …) or bare base64",
                                     flag, path, expected));
}

// A certificate file (Alipay certificate mode): PEM, one or more certificates.
Result<std::string> read_certificate(const std::string& flag, const std::string& path) {
  Result<std::string> s = read_key_file(flag, path);
  if (!s.ok()) return s;
  if (s->find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return Status::invalid(fmt::format(
        "{} {}: not a certificate file: expected PEM (-----BEGIN CERTIFICATE-----), as downloaded from Alipay",
        flag, path));
  return s;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// A flag and where its value is.
struct Setting {
  const char* flag;
  const std::string* value;
};

// "ID:DAYS:YUAN:DAILY_DOWNLOADS:NAME", e.g. "vip30:30:30.00:20:VIP 月卡".
Result<commerce::Plan> parse_plan(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Status::invalid(
        fmt::format("--plan '{}': {} (expected ID:DAYS:YUAN:DAILY_DOWNLOADS:NAME)", text, why));
  };
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    size_t colon = text.find(':', start);
    if (colon == std::string::npos) return bad("too few fields");
    parts.push_back(text.substr(start, colon - start));
    start = colon + 1;
  }
  parts.push_back(text.substr(start));
  commerce::Plan p;
  p.id = parts[0];
  if (p.id.empty() || p.id.size() > 32) return bad("the id must be 1 to 32 characters");
  for (char c : p.id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
      return bad("the id may hold only letters, digits, '_' and '-'");
  try {
    size_t used = 0;
    p.days = std::stoll(parts[1], &used);
    // At most 100 years: a plan's days become seconds added to vip_until.
    if (used != parts[1].size() || p.days <= 0 || p.days > 36500)
      return bad("days must be a whole number from 1 to 36500");
    p.daily_downloads = std::stoll(parts[3], &used);
    if (used != parts[3].size() || p.daily_downloads < 0)
      return bad("daily downloads must be a whole number, 0 for unlimited");
  } catch (...) {
    return bad("days and daily downloads must be whole numbers");
  }
  Result<Fen> price = Fen::parse_yuan(parts[2]);
  if (!price.ok()) return bad(price.status().message());
  if (price->value() <= 0 || *price > kMaxAmount)
    return bad(fmt::format("the price must be from 0.01 to {} yuan", kMaxAmount.plain_yuan_string()));
  p.price = *price;
  p.name = trim(parts[4]);
  if (p.name.empty()) return bad("the name is empty");
  return p;
}

// A transport that answers locally and remembers that a request was built
// (so the keys signed it). The start-up check never reaches a gateway.
struct ProbeTransport {
  std::shared_ptr<bool> sent = std::make_shared<bool>(false);
  std::string answer;
  commerce::Transport transport() const {
    auto flag = sent;
    auto body = answer;
    return [flag, body](const commerce::HttpRequest&) -> Result<commerce::HttpAnswer> {
      *flag = true;
      return commerce::HttpAnswer{200, {}, body};
    };
  }
};

// Providers load their keys when made but report a bad key only when asked
// to start a payment. Starting one for a made-up order at start-up, with a
// provider whose transport answers locally (Alipay builds a signed redirect,
// WeChat Pay signs a request that goes nowhere), turns a key that does not
// load into an error now, naming its flag. A probe that got as far as
// sending its signed request has loaded every key it needs; the local answer
// (unsigned) is not the gateway's and is not judged.
Status self_check(commerce::PaymentProvider& provider, const std::string& site_url, const bool& sent,
                  const std::vector<std::pair<std::string, std::string>>& field_to_flag) {
  commerce::PaymentOrder probe;
  probe.out_trade_no = "SELFCHECK0000000001";
  probe.amount = Fen(1);
  probe.subject = "paidoc start-up check";
  probe.return_url = site_url + "/";
  probe.notify_url = site_url + "/api/v1/payments/" + provider.name() + "/notify";
  Result<commerce::PaymentStart> r = provider.start(probe);
  if (r.ok()) return Status();
  const std::string why = r.status().message();
  for (const auto& [field, flag] : field_to_flag)
    if (why.find(field) != std::string::npos)
      return Status::invalid(fmt::format("{}: the key does not load: {}", flag, why));
  if (sent) return Status();
  return Status::invalid(fmt::format("{} is misconfigured: {}", provider.name(), why));
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// a.b.c.d -> its four numbers; nullopt for anything else.
std::optional<std::array<int, 4>> ipv4(const std::string& host) {
  std::array<int, 4> n{};
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    size_t end = i < 3 ? host.find('.', pos) : host.size();
    if (end == std::string::npos || end == pos || end - pos > 3) return std::nullopt;
    int v = 0;
    for (size_t k = pos; k < end; ++k) {
      if (host[k] < '0' || host[k] > '9') return std::nullopt;
      v = v * 10 + (host[k] - '0');
    }
    if (v > 255) return std::nullopt;
    n[static_cast<size_t>(i)] = v;
    pos = end + 1;
  }
  return n;
}

}  // namespace

std::string unreachable_base_url(const std::string& base_url) {
  if (base_url.empty()) return "--base-url is empty";
  std::string lower;
  for (char c : base_url) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!starts_with(lower, "https://")) return fmt::format("--base-url {} is not https://", base_url);
  std::string authority = lower.substr(8, lower.find_first_of("/?#", 8) - 8);
  if (size_t at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  std::string host;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    host = authority.substr(1, close == std::string::npos ? std::string::npos : close - 1);
  } else {
    host = authority.substr(0, authority.find(':'));
  }
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty()) return fmt::format("--base-url {} names no host", base_url);
  if (host == "localhost" || ends_with(host, ".localhost") || host == "::1" || host == "::" ||
      host == "0.0.0.0")
    return fmt::format("--base-url {} names a loopback address", base_url);
  if (host.find('.') == std::string::npos && host.find(':') == std::string::npos)
    return fmt::format("--base-url {} names a local host (no domain)", base_url);
  if (ends_with(host, ".local") || ends_with(host, ".internal") || ends_with(host, ".lan") ||
      ends_with(host, ".home.arpa"))
    return fmt::format("--base-url {} names a local host", base_url);
  if (auto ip = ipv4(host)) {
    const auto& n = *ip;
    if (n[0] == 127) return fmt::format("--base-url {} names a loopback address", base_url);
    if (n[0] == 10 || (n[0] == 172 && n[1] >= 16 && n[1] <= 31) || (n[0] == 192 && n[1] == 168) ||
        (n[0] == 169 && n[1] == 254) || (n[0] == 100 && n[1] >= 64 && n[1] <= 127) || n[0] == 0)
      return fmt::format("--base-url {} names a private network address", base_url);
  }
  if (host.find(':') != std::string::npos) {
    if (starts_with(host, "fc") || starts_with(host, "fd") || starts_with(host, "fe8") ||
        starts_with(host, "fe9") || starts_with(host, "fea") || starts_with(host, "feb"))
      return fmt::format("--base-url {} names a private network address", base_url);
    if (starts_with(host, "::ffff:")) return unreachable_base_url("https://" + host.substr(7) + "/");
  }
  return "";
}

std::string notify_url_warning(const std::string& base_url, const std::string& site_url,
                               const std::vector<std::string>& providers) {
  std::vector<std::string> real;
  for (const auto& p : providers)
    if (p == "alipay" || p == "wechat") real.push_back(p);
  if (real.empty()) return "";
  std::string why = unreachable_base_url(base_url);
  if (why.empty()) return "";
  std::string base = site_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string urls;
  for (const auto& p : real)
    urls += (urls.empty() ? "" : ", ") + base + "/api/v1/payments/" + p + "/notify";
  return fmt::format(
      "{}: no gateway can reach the notify URL{} {}, so payments are found only by the query job; set "
      "--base-url to the site's public https:// address",
      why, real.size() == 1 ? "" : "s", urls);
}

void add_payment_options(CLI::App* serve, PaymentArgs& a) {
  const char* g = "Payments";
  serve->add_option("--order-ttl", a.order_ttl, "seconds an unpaid order stays payable")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group(g);
  serve->add_option("--plan", a.plans,
                    "VIP plan ID:DAYS:YUAN:DAILY_DOWNLOADS:NAME (repeat; replaces the built-in vip30/vip365)")
      ->group(g);
  serve->add_option("--max-topup", a.max_topup,
                    "largest single wallet top-up, yuan (0.01..10000000; default 5000)")->group(g);
  serve->add_flag("--payment-sandbox", a.sandbox,
                  "enable the sandbox provider: fake payments signed with a per-process secret (on with --demo)")
      ->group(g);

  serve->add_option("--alipay-app-id", a.alipay_app_id, "Alipay app id")->group(g);
  serve->add_option("--alipay-private-key-file", a.alipay_private_key_file,
                    "our RSA private key, PEM or bare base64 (signs requests)")
      ->group(g);
  serve->add_option("--alipay-public-key-file", a.alipay_public_key_file,
                    "public-key mode: Alipay's public key, PEM or bare base64 (verifies notifications)")
      ->group(g);
  serve->add_option("--alipay-app-cert-file", a.alipay_app_cert_file,
                    "certificate mode: our app certificate appCertPublicKey_*.crt (PEM)")
      ->group(g);
  serve->add_option("--alipay-cert-file", a.alipay_cert_file,
                    "certificate mode: Alipay's certificate alipayCertPublicKey_RSA2.crt (PEM)")
      ->group(g);
  serve->add_option("--alipay-root-cert-file", a.alipay_root_cert_file,
                    "certificate mode: Alipay's root certificate alipayRootCert.crt (PEM)")
      ->group(g);
  serve->add_option("--alipay-gateway", a.alipay_gateway, "Alipay gateway URL (default: production)")->group(g);
  serve->add_flag("--alipay-mobile", a.alipay_mobile,
                  "always use alipay.trade.wap.pay (phones get it without this flag)")
      ->group(g);

  serve->add_option("--wechat-mchid", a.wechat_mchid, "WeChat Pay merchant id")->group(g);
  serve->add_option("--wechat-appid", a.wechat_appid, "WeChat app id bound to the merchant")->group(g);
  serve->add_option("--wechat-serial-no", a.wechat_serial_no, "serial number of our merchant certificate")
      ->group(g);
  serve->add_option("--wechat-private-key-file", a.wechat_private_key_file,
                    "our merchant private key apiclient_key.pem, PEM or bare base64 (signs API requests)")
      ->group(g);
  serve->add_option("--wechat-platform-key-file", a.wechat_platform_key_file,
                    "a WeChat Pay platform certificate or public key (verifies answers and notifications)")
      ->group(g);
  serve->add_option("--wechat-platform-serial", a.wechat_platform_serial,
                    "serial of --wechat-platform-key-file (its Wechatpay-Serial)")
      ->group(g);
  serve->add_option("--wechat-platform-cert", a.wechat_platform_certs,
                    "SERIAL=FILE: a platform certificate and its serial (repeat: several during a rotation)")
      ->group(g);
  serve->add_option("--wechat-public-key-id", a.wechat_public_key_id,
                    "public-key mode: the WeChat Pay public key id, PUB_KEY_ID_…")
      ->group(g);
  serve->add_option("--wechat-public-key-file", a.wechat_public_key_file,
                    "public-key mode: the WeChat Pay public key pub_key.pem, PEM or bare base64")
      ->group(g);
  serve->add_option("--wechat-apiv3-key-file", a.wechat_apiv3_key_file,
                    "file holding the 32-character APIv3 key (decrypts notifications)")
      ->group(g);
  serve->add_option("--wechat-api-base", a.wechat_api_base, "WeChat Pay API base URL (default: production)")
      ->group(g);
  serve->add_flag("--wechat-h5", a.wechat_h5, "H5 payments are enabled for the merchant: phones outside WeChat use H5")
      ->group(g);
  serve->add_option("--wechat-app-secret-file", a.wechat_app_secret_file,
                    "file holding the official account's AppSecret: enables JSAPI inside WeChat")
      ->group(g);
}

Result<Payments> make_payments(const PaymentArgs& a, bool demo, const std::string& site_url,
                               const Clock& clock) {
  Payments p;
  p.options.order_ttl = a.order_ttl;
  p.options.site_url = site_url;
  if (a.order_ttl <= 0) return Status::invalid("--order-ttl: must be a positive number of seconds");
  if (!a.plans.empty()) {
    p.options.plans.clear();
    for (const auto& text : a.plans) {
      Result<commerce::Plan> plan = parse_plan(text);
      if (!plan.ok()) return plan.status();
      for (const auto& other : p.options.plans)
        if (other.id == plan->id) return Status::invalid(fmt::format("--plan: id '{}' given twice", plan->id));
      p.options.plans.push_back(*plan);
    }
  }
  if (!a.max_topup.empty()) {
    Result<Fen> max = Fen::parse_yuan(a.max_topup);
    if (!max.ok()) return Status::invalid("--max-topup: " + max.status().message());
    if (max->value() <= 0 || *max > kMaxAmount)
      return Status::invalid(fmt::format("--max-topup {}: expected yuan from 0.01 to {}", a.max_topup,
                                         kMaxAmount.plain_yuan_string()));
    p.options.max_topup = *max;
  }

  // Alipay: app id and private key, then Alipay's public key (public-key
  // mode) or three certificates (certificate mode).
  {
    const std::vector<Setting> certs = {{"--alipay-app-cert-file", &a.alipay_app_cert_file},
                                        {"--alipay-cert-file", &a.alipay_cert_file},
                                        {"--alipay-root-cert-file", &a.alipay_root_cert_file}};
    std::vector<std::string> certs_given, certs_missing;
    for (const auto& c : certs) (c.value->empty() ? certs_missing : certs_given).push_back(c.flag);
    const bool cert_mode = !certs_given.empty();
    const bool key_mode = !a.alipay_public_key_file.empty();
    if (cert_mode && key_mode)
      return Status::invalid(fmt::format(
          "Alipay: --alipay-public-key-file (public-key mode) and {} (certificate mode) are both given; "
          "use one mode",
          join(certs_given)));
    if (cert_mode && !certs_missing.empty())
      return Status::invalid(fmt::format("Alipay certificate mode is partly configured: missing {} (given: {})",
                                         join(certs_missing), join(certs_given)));
    std::vector<std::string> missing;
    if (a.alipay_app_id.empty()) missing.push_back("--alipay-app-id");
    if (a.alipay_private_key_file.empty()) missing.push_back("--alipay-private-key-file");
    if (!cert_mode && !key_mode)
      missing.push_back(
          "--alipay-public-key-file (or, in certificate mode, --alipay-app-cert-file, --alipay-cert-file and "
          "--alipay-root-cert-file)");
    const bool any = !a.alipay_app_id.empty() || !a.alipay_private_key_file.empty() || cert_mode || key_mode;
    if (any && !missing.empty())
      return Status::invalid(fmt::format("Alipay is partly configured: missing {}", join(missing)));
    if (any) {
      commerce::AlipayConfig c;
      c.app_id = a.alipay_app_id;
      if (!a.alipay_gateway.empty()) c.gateway = a.alipay_gateway;
      c.mobile = a.alipay_mobile;
      Result<std::string> priv =
          read_key("--alipay-private-key-file", a.alipay_private_key_file, "an RSA private key (PKCS #8 or PKCS #1)");
      if (!priv.ok()) return priv.status();
      c.app_private_key_pem = *priv;
      std::vector<std::pair<std::string, std::string>> fields = {
          {"app_private_key_pem", "--alipay-private-key-file " + a.alipay_private_key_file}};
      if (key_mode) {
        Result<std::string> pub =
            read_key("--alipay-public-key-file", a.alipay_public_key_file, "Alipay's RSA public key");
        if (!pub.ok()) return pub.status();
        c.alipay_public_key_pem = *pub;
        fields.push_back({"alipay_public_key_pem", "--alipay-public-key-file " + a.alipay_public_key_file});
      } else {
        for (auto [flag, path, out, field] :
             {std::tuple{"--alipay-app-cert-file", &a.alipay_app_cert_file, &c.app_cert_pem, "app_cert_pem"},
              std::tuple{"--alipay-cert-file", &a.alipay_cert_file, &c.alipay_cert_pem, "alipay_cert_pem"},
              std::tuple{"--alipay-root-cert-file", &a.alipay_root_cert_file, &c.alipay_root_cert_pem,
                         "alipay_root_cert_pem"}}) {
          Result<std::string> cert = read_certificate(flag, *path);
          if (!cert.ok()) return cert.status();
          *out = *cert;
          fields.push_back({field, std::string(flag) + " " + *path});
        }
      }
      p.enabled.push_back(fmt::format("alipay (app {}{}{})", c.app_id, cert_mode ? ", certificates" : "",
                                      c.mobile ? ", mobile" : ""));
      ProbeTransport probe_transport;
      probe_transport.answer = "{}";
      commerce::AlipayConfig probe_config = c;
      probe_config.transport = probe_transport.transport();
      auto probe = commerce::make_alipay(std::move(probe_config), clock);
      auto provider = commerce::make_alipay(std::move(c), clock);
      // A redirect needs no transport: a failing start is the keys' fault.
      Status ok = self_check(*probe, site_url, false, fields);
      if (!ok.is_ok()) return ok;
      p.providers["alipay"] = std::move(provider);
    }
  }

  // WeChat Pay: merchant id, app id, our key and its serial, the APIv3 key,
  // and at least one key that verifies WeChat's signatures.
  {
    std::vector<std::string> missing;
    for (const auto& s : std::vector<Setting>{{"--wechat-mchid", &a.wechat_mchid},
                                              {"--wechat-appid", &a.wechat_appid},
                                              {"--wechat-serial-no", &a.wechat_serial_no},
                                              {"--wechat-private-key-file", &a.wechat_private_key_file},
                                              {"--wechat-apiv3-key-file", &a.wechat_apiv3_key_file}})
      if (s.value->empty()) missing.push_back(s.flag);
    // Each verifying key: serial, file, the flag that named it.
    struct Verifier {
      std::string serial, file, flag;
    };
    std::vector<Verifier> verifiers;
    if (a.wechat_platform_key_file.empty() != a.wechat_platform_serial.empty())
      return Status::invalid(fmt::format("WeChat Pay: {} is given without {}",
                                         a.wechat_platform_key_file.empty() ? "--wechat-platform-serial"
                                                                            : "--wechat-platform-key-file",
                                         a.wechat_platform_key_file.empty() ? "--wechat-platform-key-file"
                                                                            : "--wechat-platform-serial"));
    if (!a.wechat_platform_key_file.empty())
      verifiers.push_back({a.wechat_platform_serial, a.wechat_platform_key_file, "--wechat-platform-key-file"});
    for (const auto& text : a.wechat_platform_certs) {
      size_t eq = text.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
        return Status::invalid(fmt::format("--wechat-platform-cert '{}': expected SERIAL=FILE", text));
      verifiers.push_back({trim(text.substr(0, eq)), trim(text.substr(eq + 1)), "--wechat-platform-cert"});
    }
    if (a.wechat_public_key_id.empty() != a.wechat_public_key_file.empty())
      return Status::invalid(fmt::format("WeChat Pay: {} is given without {}",
                                         a.wechat_public_key_id.empty() ? "--wechat-public-key-file"
                                                                        : "--wechat-public-key-id",
                                         a.wechat_public_key_id.empty() ? "--wechat-public-key-id"
                                                                        : "--wechat-public-key-file"));
    if (!a.wechat_public_key_id.empty()) {
      if (a.wechat_public_key_id.rfind("PUB_KEY_ID_", 0) != 0)
        return Status::invalid(fmt::format(
            "--wechat-public-key-id {}: expected the id the merchant platform shows, PUB_KEY_ID_…",
            a.wechat_public_key_id));
      verifiers.push_back({a.wechat_public_key_id, a.wechat_public_key_file, "--wechat-public-key-file"});
    }
    if (verifiers.empty())
      missing.push_back(
          "a verifying key: --wechat-platform-cert SERIAL=FILE, --wechat-platform-key-file with "
          "--wechat-platform-serial, or --wechat-public-key-id with --wechat-public-key-file");
    const bool any = missing.size() < 6 || a.wechat_h5 || !a.wechat_app_secret_file.empty();
    if (any && !missing.empty())
      return Status::invalid(fmt::format("WeChat Pay is partly configured: missing {}", join(missing)));
    if (any) {
      commerce::WechatConfig c;
      c.mchid = a.wechat_mchid;
      c.appid = a.wechat_appid;
      c.merchant_serial_no = a.wechat_serial_no;
      c.h5 = a.wechat_h5;
      if (!a.wechat_api_base.empty()) c.api_base = a.wechat_api_base;
      Result<std::string> priv = read_key("--wechat-private-key-file", a.wechat_private_key_file,
                                          "the merchant RSA private key (apiclient_key.pem)");
      if (!priv.ok()) return priv.status();
      c.merchant_private_key_pem = *priv;
      std::vector<std::pair<std::string, std::string>> fields = {
          {"merchant_private_key_pem", "--wechat-private-key-file " + a.wechat_private_key_file}};
      for (const auto& v : verifiers) {
        if (c.platform_keys.count(v.serial))
          return Status::invalid(fmt::format("{} {}: serial {} is given twice", v.flag, v.file, v.serial));
        Result<std::string> key =
            read_key(v.flag, v.file, "a WeChat Pay platform certificate or public key");
        if (!key.ok()) return key.status();
        c.platform_keys[v.serial] = *key;
        fields.push_back({"platform key " + v.serial, v.flag + " " + v.file});
        fields.push_back({"platform_keys[" + v.serial + "]", v.flag + " " + v.file});
      }
      c.public_key_id = a.wechat_public_key_id;
      Result<std::string> key = read_key_file("--wechat-apiv3-key-file", a.wechat_apiv3_key_file);
      if (!key.ok()) return key.status();
      std::string apiv3 = trim(*key);
      if (apiv3.size() != 32)
        return Status::invalid(fmt::format("--wechat-apiv3-key-file {}: the APIv3 key must be 32 bytes, found {}",
                                           a.wechat_apiv3_key_file, apiv3.size()));
      c.apiv3_key = apiv3;
      if (!a.wechat_app_secret_file.empty()) {
        Result<std::string> secret = read_key_file("--wechat-app-secret-file", a.wechat_app_secret_file);
        if (!secret.ok()) return secret.status();
        c.app_secret = trim(*secret);
        for (char ch : c.app_secret)
          if (!std::isalnum(static_cast<unsigned char>(ch)))
            return Status::invalid(fmt::format(
                "--wechat-app-secret-file {}: expected the official account's AppSecret (letters and digits "
                "on one line)",
                a.wechat_app_secret_file));
      }
      std::vector<std::string> modes = {"native"};
      if (c.h5) modes.push_back("h5");
      if (!c.app_secret.empty()) modes.push_back("jsapi");
      p.enabled.push_back(fmt::format("wechat (mchid {}, appid {}{}{})", c.mchid, c.appid,
                                      modes.size() > 1 ? ", " : "", modes.size() > 1 ? join(modes) : ""));
      // The start-up check signs a probe order with a provider whose transport
      // answers locally: the keys are exercised, nothing is sent to WeChat.
      ProbeTransport probe_transport;
      probe_transport.answer = R"({"code_url":"weixin://selfcheck"})";
      commerce::WechatConfig probe_config = c;
      probe_config.transport = probe_transport.transport();
      auto probe = commerce::make_wechat(std::move(probe_config), clock);
      auto provider = commerce::make_wechat(std::move(c), clock);
      Status ok = self_check(*probe, site_url, *probe_transport.sent, fields);
      if (!ok.is_ok()) return ok;
      p.providers["wechat"] = std::move(provider);
    }
  }

  // Sandbox: fake payments for trying the site. Its secret lives only in
  // this process, so nobody can forge a sandbox notification from outside.
  if (a.sandbox || demo) {
    commerce::SandboxConfig c;
    c.secret = auth::new_token();
    c.base_url = site_url;
    p.sandbox = c;
    p.enabled.push_back(a.sandbox ? "sandbox" : "sandbox (demo)");
    p.providers["sandbox"] = commerce::make_sandbox(std::move(c), clock);
  }
  return p;
}

}  // namespace paidoc::cli
