// The payment configuration of `paidoc serve`: flags, key files, and the
// providers they make. A provider is on only when every one of its settings
// is given; a partial configuration is an error naming what is missing, so a
// typo in the config file never silently turns a payment method off.
#include <cerrno>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
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

Result<std::string> read_pem(const std::string& flag, const std::string& path) {
  Result<std::string> s = read_key_file(flag, path);
  if (!s.ok()) return s;
  if (s->find("-----BEGIN ") == std::string::npos)
    return Status::invalid(fmt::format("{} {}: not a PEM file (no -----BEGIN line)", flag, path));
  return s;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// A provider is all or nothing: names the first missing flag when some, but
// not all, of `flags` are set. Answers whether the provider is configured.
struct Setting {
  const char* flag;
  const std::string* value;
};
Result<bool> all_or_nothing(const char* provider, const std::vector<Setting>& settings) {
  std::vector<std::string> missing;
  for (const auto& s : settings)
    if (s.value->empty()) missing.push_back(s.flag);
  if (missing.empty()) return true;
  if (missing.size() == settings.size()) return false;
  std::string list;
  for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  return Status::invalid(fmt::format("{} is partly configured: missing {}", provider, list));
}

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
    if (used != parts[1].size() || p.days <= 0) return bad("days must be a positive whole number");
    p.daily_downloads = std::stoll(parts[3], &used);
    if (used != parts[3].size() || p.daily_downloads < 0)
      return bad("daily downloads must be a whole number, 0 for unlimited");
  } catch (...) {
    return bad("days and daily downloads must be whole numbers");
  }
  Result<Fen> price = Fen::parse_yuan(parts[2]);
  if (!price.ok()) return bad(price.status().message());
  if (price->value() <= 0) return bad("the price must be more than 0");
  p.price = *price;
  p.name = trim(parts[4]);
  if (p.name.empty()) return bad("the name is empty");
  return p;
}

// Providers load their keys when made but report a bad key only when asked
// to start a payment. Starting one for a made-up order at start-up (no
// network I/O: Alipay builds a signed redirect, WeChat Pay a signed request)
// turns a key that does not load into an error now, naming its flag.
Status self_check(commerce::PaymentProvider& provider, const std::string& site_url,
                  const std::vector<std::pair<std::string, std::string>>& field_to_flag) {
  commerce::PaymentOrder probe;
  probe.out_trade_no = "SELFCHECK0000000001";
  probe.amount = Fen(1);
  probe.subject = "paidoc start-up check";
  probe.return_url = site_url + "/";
  probe.notify_url = site_url + "/api/v1/payments/" + provider.name() + "/notify";
  Result<commerce::PaymentStart> r = provider.start(probe);
  // kUnavailable: the keys loaded and signed the probe, and only the answer
  // was not believed (a local probe transport cannot sign as the gateway).
  if (r.ok() || r.status().code() == Code::kUnavailable) return Status();
  const std::string why = r.status().message();
  for (const auto& [field, flag] : field_to_flag)
    if (why.find(field) != std::string::npos)
      return Status::invalid(fmt::format("{}: the key does not load: {}", flag, why));
  return Status::invalid(fmt::format("{} is misconfigured: {}", provider.name(), why));
}

}  // namespace

void add_payment_options(CLI::App* serve, PaymentArgs& a) {
  const char* g = "Payments";
  serve->add_option("--order-ttl", a.order_ttl, "seconds an unpaid order stays payable")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group(g);
  serve->add_option("--plan", a.plans,
                    "VIP plan ID:DAYS:YUAN:DAILY_DOWNLOADS:NAME (repeat; replaces the built-in vip30/vip365)")
      ->group(g);
  serve->add_option("--max-topup", a.max_topup, "largest single wallet top-up, yuan (default 5000)")->group(g);
  serve->add_flag("--payment-sandbox", a.sandbox,
                  "enable the sandbox provider: fake payments signed with a per-process secret (on with --demo)")
      ->group(g);

  serve->add_option("--alipay-app-id", a.alipay_app_id, "Alipay app id")->group(g);
  serve->add_option("--alipay-private-key-file", a.alipay_private_key_file,
                    "PEM file: our RSA private key (signs requests)")
      ->group(g);
  serve->add_option("--alipay-public-key-file", a.alipay_public_key_file,
                    "PEM file: Alipay's public key (verifies notifications)")
      ->group(g);
  serve->add_option("--alipay-gateway", a.alipay_gateway, "Alipay gateway URL (default: production)")->group(g);
  serve->add_flag("--alipay-mobile", a.alipay_mobile, "use alipay.trade.wap.pay (phones) instead of page.pay")
      ->group(g);

  serve->add_option("--wechat-mchid", a.wechat_mchid, "WeChat Pay merchant id")->group(g);
  serve->add_option("--wechat-appid", a.wechat_appid, "WeChat app id bound to the merchant")->group(g);
  serve->add_option("--wechat-serial-no", a.wechat_serial_no, "serial number of our merchant certificate")
      ->group(g);
  serve->add_option("--wechat-private-key-file", a.wechat_private_key_file,
                    "PEM file: our merchant private key (signs API requests)")
      ->group(g);
  serve->add_option("--wechat-platform-key-file", a.wechat_platform_key_file,
                    "PEM file: WeChat Pay platform public key (verifies notifications)")
      ->group(g);
  serve->add_option("--wechat-platform-serial", a.wechat_platform_serial,
                    "serial of that platform key (expected Wechatpay-Serial)")
      ->group(g);
  serve->add_option("--wechat-apiv3-key-file", a.wechat_apiv3_key_file,
                    "file holding the 32-character APIv3 key (decrypts notifications)")
      ->group(g);
  serve->add_option("--wechat-api-base", a.wechat_api_base, "WeChat Pay API base URL (default: production)")
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
    if (max->value() <= 0) return Status::invalid("--max-topup: must be more than 0");
    p.options.max_topup = *max;
  }

  // Alipay.
  Result<bool> alipay = all_or_nothing("Alipay", {{"--alipay-app-id", &a.alipay_app_id},
                                                  {"--alipay-private-key-file", &a.alipay_private_key_file},
                                                  {"--alipay-public-key-file", &a.alipay_public_key_file}});
  if (!alipay.ok()) return alipay.status();
  if (*alipay) {
    commerce::AlipayConfig c;
    c.app_id = a.alipay_app_id;
    if (!a.alipay_gateway.empty()) c.gateway = a.alipay_gateway;
    c.mobile = a.alipay_mobile;
    Result<std::string> priv = read_pem("--alipay-private-key-file", a.alipay_private_key_file);
    if (!priv.ok()) return priv.status();
    Result<std::string> pub = read_pem("--alipay-public-key-file", a.alipay_public_key_file);
    if (!pub.ok()) return pub.status();
    c.app_private_key_pem = *priv;
    c.alipay_public_key_pem = *pub;
    p.enabled.push_back(fmt::format("alipay (app {}{})", c.app_id, c.mobile ? ", mobile" : ""));
    auto provider = commerce::make_alipay(std::move(c), clock);
    Status ok = self_check(*provider, site_url,
                           {{"app_private_key_pem", "--alipay-private-key-file " + a.alipay_private_key_file},
                            {"alipay_public_key_pem", "--alipay-public-key-file " + a.alipay_public_key_file}});
    if (!ok.is_ok()) return ok;
    p.providers["alipay"] = std::move(provider);
  }

  // WeChat Pay.
  Result<bool> wechat = all_or_nothing("WeChat Pay",
                                       {{"--wechat-mchid", &a.wechat_mchid},
                                        {"--wechat-appid", &a.wechat_appid},
                                        {"--wechat-serial-no", &a.wechat_serial_no},
                                        {"--wechat-private-key-file", &a.wechat_private_key_file},
                                        {"--wechat-platform-key-file", &a.wechat_platform_key_file},
                                        {"--wechat-platform-serial", &a.wechat_platform_serial},
                                        {"--wechat-apiv3-key-file", &a.wechat_apiv3_key_file}});
  if (!wechat.ok()) return wechat.status();
  if (*wechat) {
    commerce::WechatConfig c;
    c.mchid = a.wechat_mchid;
    c.appid = a.wechat_appid;
    c.merchant_serial_no = a.wechat_serial_no;
    if (!a.wechat_api_base.empty()) c.api_base = a.wechat_api_base;
    Result<std::string> priv = read_pem("--wechat-private-key-file", a.wechat_private_key_file);
    if (!priv.ok()) return priv.status();
    Result<std::string> platform = read_pem("--wechat-platform-key-file", a.wechat_platform_key_file);
    if (!platform.ok()) return platform.status();
    Result<std::string> key = read_key_file("--wechat-apiv3-key-file", a.wechat_apiv3_key_file);
    if (!key.ok()) return key.status();
    std::string apiv3 = trim(*key);
    if (apiv3.size() != 32)
      return Status::invalid(fmt::format("--wechat-apiv3-key-file {}: the APIv3 key must be 32 bytes, found {}",
                                         a.wechat_apiv3_key_file, apiv3.size()));
    c.merchant_private_key_pem = *priv;
    c.platform_keys[a.wechat_platform_serial] = *platform;
    c.apiv3_key = apiv3;
    p.enabled.push_back(fmt::format("wechat (mchid {}, appid {})", c.mchid, c.appid));
    // The start-up check signs a probe order with a provider whose transport
    // answers locally: the keys are exercised, nothing is sent to WeChat.
    commerce::WechatConfig probe_config = c;
    probe_config.transport = [](const commerce::HttpRequest&) -> Result<commerce::HttpAnswer> {
      return commerce::HttpAnswer{200, {}, R"({"code_url":"weixin://selfcheck"})"};
    };
    auto probe = commerce::make_wechat(std::move(probe_config), clock);
    auto provider = commerce::make_wechat(std::move(c), clock);
    Status ok = self_check(
        *probe, site_url,
        {{"merchant_private_key_pem", "--wechat-private-key-file " + a.wechat_private_key_file},
         {"platform key", "--wechat-platform-key-file " + a.wechat_platform_key_file}});
    if (!ok.is_ok()) return ok;
    p.providers["wechat"] = std::move(provider);
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
