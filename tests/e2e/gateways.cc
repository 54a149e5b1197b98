// e2e_gateways: Alipay and WeChat Pay stand-ins for the browser journeys.
//   e2e_gateways DIR
// Makes fresh keys (our Alipay app key, Alipay's gateway key, our WeChat Pay
// merchant key, WeChat's platform key, an APIv3 key) and writes the files
// paidoc reads into DIR; starts the stand-ins of tests/commerce
// (alipay_standin.h, wechat_standin.h) on free 127.0.0.1 ports, with the
// buyer's pages on; prints one JSON line:
//   {"alipay": {"port", "gateway", "app_id", "private_key_file", "public_key_file"},
//    "wechat": {"port", "api_base", "mchid", "appid", "serial_no", "private_key_file",
//               "platform_serial", "platform_key_file", "apiv3_key_file", "scan_url"},
//    "serve_args": [the `paidoc serve` flags for both]}
// and serves until stdin closes, SIGTERM or SIGINT.
//
// What the buyer sees: Alipay's cashier at the gateway URL paidoc redirects
// to ("确认付款 ¥X", then back to return_url), WeChat's H5 page at the
// h5_url (phones, --wechat-h5), and for the QR code (desktops) a POST to
// scan_url, which pays the latest unpaid Native order (or ?out_trade_no=).
// Each pays the trade and POSTs the gateway's signed notification to the
// notify_url paidoc gave.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>

#include "commerce/alipay_standin.h"
#include "commerce/wechat_standin.h"
#include "common/clock.h"

namespace gw = paidoc::commerce::fake_gateway;

namespace {

// Ids in the gateways' formats; any value works against the stand-ins.
constexpr const char* kAlipayAppId = "2021000000000001";
constexpr const char* kWxAppId = "wx8888888888888888";
constexpr const char* kWxMchId = "1900000001";
constexpr const char* kWxMerchantSerial = "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C";
constexpr const char* kWxPlatformSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";

std::string write_file(const std::filesystem::path& dir, const std::string& name,
                       const std::string& bytes) {
  std::filesystem::path p = dir / name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + p.string());
  std::filesystem::permissions(p, std::filesystem::perms::owner_read |
                                      std::filesystem::perms::owner_write);
  return p.string();
}

std::string random_apiv3_key() {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string key;
  for (int i = 0; i < 32; ++i) key += kChars[rd() % (sizeof kChars - 1)];
  return key;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: e2e_gateways DIR   (serves until stdin closes or SIGTERM)\n";
    return 2;
  }
  // SIGTERM and SIGINT are waited for below; the stand-ins' threads inherit
  // the mask, so none of them is interrupted.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  try {
    std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    // Four keys, made side by side (each takes a while).
    auto make = [] { return std::async(std::launch::async, gw::generate_rsa_2048); };
    auto app_key = make(), alipay_key = make(), merchant_key = make(), platform_key = make();
    gw::KeyPair app = app_key.get();            // ours, signs Alipay requests
    gw::KeyPair alipay = alipay_key.get();      // Alipay's, signs answers
    gw::KeyPair merchant = merchant_key.get();  // ours, signs WeChat requests
    gw::KeyPair platform = platform_key.get();  // WeChat's, signs answers
    std::string apiv3 = random_apiv3_key();

    nlohmann::json a = {
        {"app_id", kAlipayAppId},
        {"private_key_file", write_file(dir, "alipay-app-private.pem", app.private_pem)},
        {"public_key_file", write_file(dir, "alipay-public.pem", alipay.public_pem)},
    };
    nlohmann::json w = {
        {"mchid", kWxMchId},
        {"appid", kWxAppId},
        {"serial_no", kWxMerchantSerial},
        {"private_key_file", write_file(dir, "wechat-merchant-private.pem", merchant.private_pem)},
        {"platform_serial", kWxPlatformSerial},
        {"platform_key_file", write_file(dir, "wechat-platform-public.pem", platform.public_pem)},
        {"apiv3_key_file", write_file(dir, "wechat-apiv3.key", apiv3 + "\n")},
    };

    gw::AlipayStandin alipay_gateway(kAlipayAppId, app.public_pem, alipay.private_pem);
    gw::WechatStandin::Options o;
    o.appid = kWxAppId;
    o.mchid = kWxMchId;
    o.merchant_serial = kWxMerchantSerial;
    o.merchant_public_pem = merchant.public_pem;
    o.platform_serial = kWxPlatformSerial;
    o.platform_private_pem = platform.private_pem;
    o.apiv3_key = apiv3;
    o.buyer_pages = true;
    gw::WechatStandin wechat_gateway(o, paidoc::Clock::system());

    auto port_of = [](const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); };
    a["port"] = port_of(alipay_gateway.url());
    a["gateway"] = alipay_gateway.gateway_url();
    w["port"] = port_of(wechat_gateway.url());
    w["api_base"] = wechat_gateway.url();
    w["scan_url"] = wechat_gateway.url() + "/standin/scan";
    nlohmann::json args = {
        "--alipay-app-id", a["app_id"], "--alipay-private-key-file", a["private_key_file"],
        "--alipay-public-key-file", a["public_key_file"], "--alipay-gateway", a["gateway"],
        "--wechat-mchid", w["mchid"], "--wechat-appid", w["appid"],
        "--wechat-serial-no", w["serial_no"], "--wechat-private-key-file", w["private_key_file"],
        "--wechat-platform-key-file", w["platform_key_file"],
        "--wechat-platform-serial", w["platform_serial"],
        "--wechat-apiv3-key-file", w["apiv3_key_file"], "--wechat-api-base", w["api_base"],
        "--wechat-h5"};
    std::cout << nlohmann::json{{"alipay", a}, {"wechat", w}, {"serve_args", args}}.dump()
              << std::endl;

    // stdin closing (the journey runner went away) stops us like SIGTERM.
    std::thread([] {
      char buf[256];
      while (::read(0, buf, sizeof buf) > 0) {
      }
      ::kill(::getpid(), SIGTERM);
    }).detach();
    int sig = 0;
    sigwait(&stop, &sig);

    // What the gateways posted, for the runner's failure report.
    for (const auto& d : alipay_gateway.deliveries())
      std::cerr << "alipay notify " << d.url << " -> " << d.status << " " << d.body << "\n";
    for (const auto& d : wechat_gateway.deliveries())
      std::cerr << "wechat notify " << d.url << " -> " << d.status << " " << d.body << "\n";
  } catch (const std::exception& e) {
    std::cerr << "e2e_gateways: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
