// The payment settings of `paidoc serve` as an operator meets them: every
// mode of each provider (Alipay public key or certificates, keys as PEM or
// bare base64; WeChat Pay platform certificates, public key, H5, JSAPI), the
// error each wrong combination gives, and the warning when the gateways
// cannot reach the notify URLs.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "cli/binary.h"
#include "cli/commands.h"
#include "commerce/gateway_fake.h"

namespace paidoc::cli::testing {
namespace {

namespace fake = commerce::fake_gateway;

TEST(NotifyUrlCheck, OnlyPublicHttpsPasses) {
  EXPECT_EQ(unreachable_base_url("https://docs.example.cn"), "");
  EXPECT_EQ(unreachable_base_url("https://docs.example.cn:8443/site/"), "");
  EXPECT_EQ(unreachable_base_url("HTTPS://Docs.Example.CN/"), "");
  EXPECT_EQ(unreachable_base_url("https://203.0.113.7/"), "");
  EXPECT_EQ(unreachable_base_url("https://172.32.0.1/"), "");  // just outside 172.16/12

  EXPECT_EQ(unreachable_base_url(""), "--base-url is empty");
  EXPECT_EQ(unreachable_base_url("http://docs.example.cn"), "--base-url http://docs.example.cn is not https://");
  for (const char* loopback : {"https://localhost/", "https://127.0.0.1:8080", "https://127.8.9.10", "https://[::1]:443/",
                               "https://app.localhost", "https://[::ffff:127.0.0.1]/"})
    EXPECT_NE(unreachable_base_url(loopback).find("names a loopback address"), std::string::npos) << loopback;
  for (const char* priv : {"https://10.1.2.3/", "https://172.16.0.1", "https://172.31.255.255/", "https://192.168.1.20/",
                           "https://[fd00::1]/", "https://169.254.1.1/"})
    EXPECT_NE(unreachable_base_url(priv).find("names a private network address"), std::string::npos) << priv;
  for (const char* local : {"https://printer.local/", "https://intranet/", "https://user@nas.local:8443/"})
    EXPECT_NE(unreachable_base_url(local).find("names a local host"), std::string::npos) << local;
}

TEST(NotifyUrlCheck, WarnsOnlyForRealProviders) {
  EXPECT_EQ(notify_url_warning("", "http://127.0.0.1:8080", {"sandbox"}), "");
  EXPECT_EQ(notify_url_warning("https://docs.example.cn", "https://docs.example.cn", {"alipay", "wechat"}), "");
  EXPECT_EQ(notify_url_warning("", "http://127.0.0.1:8080", {"alipay", "sandbox"}),
            "--base-url is empty: no gateway can reach the notify URL "
            "http://127.0.0.1:8080/api/v1/payments/alipay/notify, so payments are found only by the query job; "
            "set --base-url to the site's public https:// address");
  std::string both = notify_url_warning("https://192.168.1.2/", "https://192.168.1.2", {"alipay", "wechat"});
  EXPECT_NE(both.find("--base-url https://192.168.1.2/ names a private network address: no gateway can reach the "
                      "notify URLs https://192.168.1.2/api/v1/payments/alipay/notify, "
                      "https://192.168.1.2/api/v1/payments/wechat/notify"),
            std::string::npos)
      << both;
}

class PaymentFlagsTest : public ::testing::Test {
 protected:
  CmdResult run(const std::string& args) { return paidoc(args, dir_.path()); }
  std::string data() const { return dir_ / "data"; }
  std::string serve() const { return "serve --data " + sh(data()) + " --listen 127.0.0.1:0 "; }
  std::string file(const std::string& name, const std::string& content) {
    std::string path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  // Runs serve until it listens, stops it, answers its logs (stdout+stderr);
  // "" when it did not start.
  std::string start_and_stop(std::vector<std::string> args) {
    args.insert(args.begin(), {"--data", data(), "--listen", "127.0.0.1:0", "--access-log", "false"});
    ServeProcess server(args, dir_ / "serve.out", dir_ / "serve.err");
    if (server.wait_port() <= 0) {
      ADD_FAILURE() << server.logs();
      return "";
    }
    ::kill(server.pid(), SIGTERM);
    EXPECT_EQ(server.wait_exit(10000), 0) << server.logs();
    return server.logs();
  }
  std::string stderr_of_serve() const { return slurp(dir_ / "serve.err"); }

  // Alipay flags in public-key mode with working keys.
  std::string alipay() {
    return "--alipay-app-id 2021000000000001 --alipay-private-key-file " +
           sh(file("app.pem", fake::app_key().private_pem)) + " --alipay-public-key-file " +
           sh(file("alipay-pub.pem", fake::alipay_key().public_pem));
  }
  // WeChat core flags (without a verifying key).
  std::string wechat_core() {
    return "--wechat-mchid 1900000001 --wechat-appid wx0000000000000001 --wechat-serial-no 5157F09E "
           "--wechat-private-key-file " +
           sh(file("merchant.pem", fake::merchant_key().private_pem)) + " --wechat-apiv3-key-file " +
           sh(file("apiv3", "0123456789abcdef0123456789ABCDEF\n")) + " ";
  }

  TempDir dir_{"paidoc-payflags-"};
};

TEST_F(PaymentFlagsTest, AlipayModesConflictingOrIncompleteAreNamed) {
  std::string cert = file("cert.crt", fake::alipay_key().certificate_pem);
  CmdResult both = run(serve() + alipay() + " --alipay-cert-file " + sh(cert));
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.err.find("Alipay: --alipay-public-key-file (public-key mode) and --alipay-cert-file (certificate "
                          "mode) are both given; use one mode"),
            std::string::npos)
      << both.err;

  CmdResult partial = run(serve() + "--alipay-app-id 2021000000000001 --alipay-private-key-file " +
                          sh(file("app.pem", fake::app_key().private_pem)) + " --alipay-app-cert-file " + sh(cert));
  EXPECT_EQ(partial.exit_code, 1);
  EXPECT_NE(partial.err.find("Alipay certificate mode is partly configured: missing --alipay-cert-file, "
                             "--alipay-root-cert-file (given: --alipay-app-cert-file)"),
            std::string::npos)
      << partial.err;

  CmdResult certs_only = run(serve() + "--alipay-app-cert-file " + sh(cert) + " --alipay-cert-file " + sh(cert) +
                             " --alipay-root-cert-file " + sh(cert));
  EXPECT_EQ(certs_only.exit_code, 1);
  EXPECT_NE(certs_only.err.find("Alipay is partly configured: missing --alipay-app-id, --alipay-private-key-file"),
            std::string::npos)
      << certs_only.err;

  CmdResult no_verifier = run(serve() + "--alipay-app-id 2021000000000001 --alipay-private-key-file " +
                              sh(file("app.pem", fake::app_key().private_pem)));
  EXPECT_EQ(no_verifier.exit_code, 1);
  EXPECT_NE(no_verifier.err.find("missing --alipay-public-key-file (or, in certificate mode, --alipay-app-cert-file, "
                                 "--alipay-cert-file and --alipay-root-cert-file)"),
            std::string::npos)
      << no_verifier.err;
}

TEST_F(PaymentFlagsTest, KeyAndCertificateFilesInTheWrongFormatAreNamed) {
  std::string junk = file("junk.txt", "this is not a key!\n");
  CmdResult key = run(serve() + "--alipay-app-id 2021000000000001 --alipay-private-key-file " + sh(junk) +
                      " --alipay-public-key-file " + sh(file("alipay-pub.pem", fake::alipay_key().public_pem)));
  EXPECT_EQ(key.exit_code, 1);
  EXPECT_NE(key.err.find("--alipay-private-key-file " + junk +
                         ": not a key file: expected an RSA private key (PKCS #8 or PKCS #1), as PEM (-----BEGIN …) "
                         "or bare base64"),
            std::string::npos)
      << key.err;

  // A public key where a certificate belongs.
  std::string pub = file("alipay-pub.pem", fake::alipay_key().public_pem);
  std::string cert = file("cert.crt", fake::alipay_key().certificate_pem);
  CmdResult not_cert = run(serve() + "--alipay-app-id 2021000000000001 --alipay-private-key-file " +
                           sh(file("app.pem", fake::app_key().private_pem)) + " --alipay-app-cert-file " + sh(cert) +
                           " --alipay-cert-file " + sh(pub) + " --alipay-root-cert-file " + sh(cert));
  EXPECT_EQ(not_cert.exit_code, 1);
  EXPECT_NE(not_cert.err.find("--alipay-cert-file " + pub +
                              ": not a certificate file: expected PEM (-----BEGIN CERTIFICATE-----)"),
            std::string::npos)
      << not_cert.err;

  // Base64 that is no key: the start-up check names the flag.
  std::string fake_b64 = file("bad.b64", "QUJDREVGR0hJSktMTU5PUA==\n");
  CmdResult bad = run(serve() + "--alipay-app-id 2021000000000001 --alipay-private-key-file " + sh(fake_b64) +
                      " --alipay-public-key-file " + sh(pub));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--alipay-private-key-file " + fake_b64 + ": the key does not load"), std::string::npos)
      << bad.err;
}

TEST_F(PaymentFlagsTest, AlipayBareBase64KeysStart) {
  std::string logs = start_and_stop(
      {"--alipay-app-id", "2021000000000001", "--alipay-private-key-file",
       file("app.b64", fake::bare_base64(fake::app_key().private_pem) + "\n"), "--alipay-public-key-file",
       file("alipay.b64", fake::bare_base64(fake::alipay_key().public_pem)), "--alipay-mobile", "--base-url",
       "https://docs.example.cn"});
  EXPECT_NE(logs.find("payments: wallet, alipay (app 2021000000000001, mobile)"), std::string::npos) << logs;
  // Public https: no warning.
  EXPECT_EQ(logs.find("no gateway can reach"), std::string::npos) << logs;
}

TEST_F(PaymentFlagsTest, WechatVerifyingKeysAreCheckedPerMode) {
  std::string platform = file("platform.pem", fake::platform_key().certificate_pem);
  CmdResult none = run(serve() + wechat_core());
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("WeChat Pay is partly configured: missing a verifying key: --wechat-platform-cert "
                          "SERIAL=FILE, --wechat-platform-key-file with --wechat-platform-serial, or "
                          "--wechat-public-key-id with --wechat-public-key-file"),
            std::string::npos)
      << none.err;

  CmdResult no_serial = run(serve() + wechat_core() + "--wechat-platform-key-file " + sh(platform));
  EXPECT_EQ(no_serial.exit_code, 1);
  EXPECT_NE(no_serial.err.find("WeChat Pay: --wechat-platform-key-file is given without --wechat-platform-serial"),
            std::string::npos)
      << no_serial.err;

  CmdResult no_key = run(serve() + wechat_core() + "--wechat-public-key-id PUB_KEY_ID_0001");
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_NE(no_key.err.find("WeChat Pay: --wechat-public-key-id is given without --wechat-public-key-file"),
            std::string::npos)
      << no_key.err;

  CmdResult bad_id = run(serve() + wechat_core() + "--wechat-public-key-id 0001 --wechat-public-key-file " +
                         sh(file("pub.pem", fake::platform_key().public_pem)));
  EXPECT_EQ(bad_id.exit_code, 1);
  EXPECT_NE(bad_id.err.find("--wechat-public-key-id 0001: expected the id the merchant platform shows, PUB_KEY_ID_…"),
            std::string::npos)
      << bad_id.err;

  CmdResult bad_pair = run(serve() + wechat_core() + "--wechat-platform-cert " + sh(platform));
  EXPECT_EQ(bad_pair.exit_code, 1);
  EXPECT_NE(bad_pair.err.find("--wechat-platform-cert '" + platform + "': expected SERIAL=FILE"), std::string::npos)
      << bad_pair.err;

  CmdResult twice = run(serve() + wechat_core() + "--wechat-platform-serial S1 --wechat-platform-key-file " +
                        sh(platform) + " --wechat-platform-cert " + sh("S1=" + platform));
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.err.find("--wechat-platform-cert " + platform + ": serial S1 is given twice"), std::string::npos)
      << twice.err;

  std::string junk = file("junk.txt", "not a certificate!\n");
  CmdResult junk_cert = run(serve() + wechat_core() + "--wechat-platform-cert " + sh("S2=" + junk));
  EXPECT_EQ(junk_cert.exit_code, 1);
  EXPECT_NE(junk_cert.err.find("--wechat-platform-cert " + junk +
                               ": not a key file: expected a WeChat Pay platform certificate or public key"),
            std::string::npos)
      << junk_cert.err;

  // H5 or JSAPI alone is a partial WeChat Pay configuration.
  CmdResult h5 = run(serve() + "--wechat-h5");
  EXPECT_EQ(h5.exit_code, 1);
  EXPECT_NE(h5.err.find("WeChat Pay is partly configured: missing --wechat-mchid, --wechat-appid"), std::string::npos)
      << h5.err;

  CmdResult secret = run(serve() + wechat_core() + "--wechat-public-key-id PUB_KEY_ID_0001 --wechat-public-key-file " +
                         sh(file("pub.pem", fake::platform_key().public_pem)) + " --wechat-app-secret-file " +
                         sh(file("secret", "not a secret; has spaces\n")));
  EXPECT_EQ(secret.exit_code, 1);
  EXPECT_NE(secret.err.find("--wechat-app-secret-file"), std::string::npos) << secret.err;
  EXPECT_NE(secret.err.find("expected the official account's AppSecret"), std::string::npos) << secret.err;
}

TEST_F(PaymentFlagsTest, WechatWithSeveralCertificatesPublicKeyH5AndJsapiStartsAndWarnsAboutBaseUrl) {
  std::string logs = start_and_stop(
      {"--wechat-mchid", "1900000001", "--wechat-appid", "wx0000000000000001", "--wechat-serial-no", "5157F09E",
       "--wechat-private-key-file", file("merchant.b64", fake::bare_base64(fake::merchant_key().private_pem)),
       "--wechat-apiv3-key-file", file("apiv3", "0123456789abcdef0123456789ABCDEF\n"),
       "--wechat-platform-cert", "OLDSERIAL=" + file("old.pem", fake::stranger_key().certificate_pem),
       "--wechat-platform-cert", "NEWSERIAL=" + file("new.pem", fake::platform_key().certificate_pem),
       "--wechat-public-key-id", "PUB_KEY_ID_0114232720", "--wechat-public-key-file",
       file("pub.b64", fake::bare_base64(fake::platform_key().public_pem)), "--wechat-h5",
       "--wechat-app-secret-file", file("secret", "0123456789abcdef0123456789abcdef\n")});
  EXPECT_NE(logs.find("wechat (mchid 1900000001, appid wx0000000000000001, native, h5, jsapi)"), std::string::npos)
      << logs;
  // No --base-url: warned in the log and in one line on stderr.
  EXPECT_NE(logs.find("--base-url is empty: no gateway can reach the notify URL http://127.0.0.1:"),
            std::string::npos)
      << logs;
  std::string err = stderr_of_serve();
  EXPECT_NE(err.find("paidoc: warning: --base-url is empty: no gateway can reach the notify URL http://127.0.0.1:"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("/api/v1/payments/wechat/notify"), std::string::npos) << err;
}

TEST_F(PaymentFlagsTest, TheSandboxAloneIsNotWarnedAbout) {
  std::string logs = start_and_stop({"--payment-sandbox"});
  EXPECT_NE(logs.find("payments: wallet, sandbox"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("no gateway can reach"), std::string::npos) << logs;
}

TEST_F(PaymentFlagsTest, AnHttpBaseUrlIsWarnedAboutForAlipay) {
  std::string logs = start_and_stop({"--alipay-app-id", "2021000000000001", "--alipay-private-key-file",
                                     file("app.pem", fake::app_key().private_pem), "--alipay-public-key-file",
                                     file("alipay-pub.pem", fake::alipay_key().public_pem), "--base-url",
                                     "http://docs.example.cn/"});
  EXPECT_NE(logs.find("--base-url http://docs.example.cn/ is not https://: no gateway can reach the notify URL "
                      "http://docs.example.cn/api/v1/payments/alipay/notify"),
            std::string::npos)
      << logs;
}

}  // namespace
}  // namespace paidoc::cli::testing
