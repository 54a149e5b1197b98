// fuzz_payment_notification: payment notifications as the gateways post
// them, through commerce::PaymentProvider::verify of the Alipay, WeChat Pay
// and sandbox providers (keys made at start-up, a fixed clock).
//
// Forged input stops at the signature, so the harness also plays the
// gateway: the first byte picks a mode, and in the signed modes the harness
// signs (and for WeChat encrypts) the fuzzed bytes with the keys the
// providers trust, so that the parsing after verification is fuzzed too:
//
//   0  Alipay, the body as given (form-encoded, unsigned or forged)
//   1  Alipay, the body's fields signed by "Alipay" (RSA2)
//   2  WeChat, "name: value" header lines, an empty line, the body
//   3  WeChat, the body (the JSON envelope) signed by the platform key
//   4  WeChat, the fuzzed bytes as the resource plaintext, encrypted with
//      the APIv3 key in an envelope signed by the platform key
//   5  sandbox, the body signed with the sandbox secret
//
// Checks: verify() never crashes, and a notification it accepts names its
// provider, an out_trade_no, a transaction id and an amount that is not
// negative.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "commerce/crypto.h"
#include "commerce/provider.h"
#include "common/clock.h"
#include "document_checks.h"

namespace {

using paidoc::fuzz::check;
namespace commerce = paidoc::commerce;
namespace crypto = paidoc::commerce::crypto;

constexpr int64_t kNow = 1767225600;  // 2026-01-01
constexpr const char* kAlipayAppId = "2021000000000001";
constexpr const char* kWechatSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
constexpr const char* kApiV3Key = "0123456789abcdef0123456789abcdef";
constexpr const char* kSandboxSecret = "sandbox-secret-for-fuzzing";

struct Pem {
  std::string private_key;
  std::string public_key;
};

// A fresh 2048-bit RSA key pair as PEM.
Pem make_key() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  check(key != nullptr, "EVP_RSA_gen");
  Pem out;
  for (int pub = 0; pub < 2; ++pub) {
    BIO* bio = BIO_new(BIO_s_mem());
    int ok = pub ? PEM_write_bio_PUBKEY(bio, key)
                 : PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    check(ok == 1, "PEM_write");
    char* p = nullptr;
    long n = BIO_get_mem_data(bio, &p);
    (pub ? out.public_key : out.private_key).assign(p, static_cast<size_t>(n));
    BIO_free(bio);
  }
  EVP_PKEY_free(key);
  return out;
}

struct World {
  paidoc::FakeClock clock{kNow};
  std::unique_ptr<commerce::PaymentProvider> alipay, wechat, sandbox;
  crypto::Key alipay_signer;    // "Alipay"'s private key
  crypto::Key platform_signer;  // the WeChat Pay platform's private key
};
World* world = nullptr;

std::string sign(const crypto::Key& key, std::string_view message) {
  auto sig = crypto::rsa_sha256_sign(key, message);
  check(sig.ok(), "sign");
  return crypto::base64_encode(*sig);
}

// AEAD_AES_256_GCM as WeChat Pay encrypts a resource: ciphertext + tag.
std::string gcm_encrypt(std::string_view plaintext, std::string_view nonce, std::string_view aad) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::string out(plaintext.size() + 16, '\0');
  int len = 0, total = 0;
  auto u = [](std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  bool ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) == 1 &&
       EVP_EncryptInit_ex(ctx, nullptr, nullptr, u(kApiV3Key), u(nonce)) == 1 &&
       EVP_EncryptUpdate(ctx, nullptr, &len, u(aad), static_cast<int>(aad.size())) == 1 &&
       EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, u(plaintext),
                         static_cast<int>(plaintext.size())) == 1;
  total = len;
  ok = ok && EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + total, &len) == 1;
  total += len;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + total) == 1;
  EVP_CIPHER_CTX_free(ctx);
  check(ok, "gcm_encrypt");
  out.resize(static_cast<size_t>(total) + 16);
  return out;
}

// The headers WeChat Pay signs a notification with.
void wechat_sign(commerce::RawNotification& n) {
  const std::string ts = std::to_string(kNow);
  const std::string nonce = "fuzznonce";
  n.headers["wechatpay-timestamp"] = ts;
  n.headers["wechatpay-nonce"] = nonce;
  n.headers["wechatpay-serial"] = kWechatSerial;
  n.headers["wechatpay-signature"] =
      sign(world->platform_signer, ts + "\n" + nonce + "\n" + n.body + "\n");
}

// Alipay's signing string: fields sorted by name, empty values, sign and
// sign_type left out (alipay.cc, signing_string).
std::string alipay_signing_string(const std::map<std::string, std::string>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (v.empty() || k == "sign" || k == "sign_type") continue;
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

void check_notification(const commerce::Notification& n, const char* provider) {
  check(n.provider == provider, "verified notification names another provider", n.provider);
  check(!n.out_trade_no.empty(), "verified notification without out_trade_no");
  check(!n.transaction_id.empty(), "verified notification without a transaction id");
  check(n.amount >= paidoc::Fen(0), "negative amount");
  if (n.kind == commerce::NotificationKind::kRefund) {
    check(n.refund.amount >= paidoc::Fen(0), "negative refund");
    check(n.refund.refunded_total >= paidoc::Fen(0), "negative refunded total");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  world = new World;
  const Pem alipay = make_key();
  const Pem platform = make_key();
  const Pem app = make_key();  // our own key (signs requests; unused here)
  world->alipay_signer = *crypto::load_private_key(alipay.private_key);
  world->platform_signer = *crypto::load_private_key(platform.private_key);

  commerce::AlipayConfig a;
  a.app_id = kAlipayAppId;
  a.app_private_key_pem = app.private_key;
  a.alipay_public_key_pem = alipay.public_key;
  world->alipay = commerce::make_alipay(a, world->clock);

  commerce::WechatConfig w;
  w.appid = "wx0000000000000001";
  w.mchid = "1900000001";
  w.merchant_serial_no = "3775B6A45ACD588826D15E583A95F5DD";
  w.merchant_private_key_pem = app.private_key;
  w.platform_keys[kWechatSerial] = platform.public_key;
  w.apiv3_key = kApiV3Key;
  world->wechat = commerce::make_wechat(w, world->clock);

  world->sandbox = commerce::make_sandbox({kSandboxSecret, "http://127.0.0.1"}, world->clock);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 6;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  commerce::RawNotification n;
  const commerce::PaymentProvider* p = nullptr;
  const char* provider = "";
  switch (mode) {
    case 0:
    case 1: {
      p = world->alipay.get(), provider = "alipay";
      n.body.assign(rest);
      if (mode == 1) {
        auto parsed = crypto::parse_form(rest);
        if (!parsed.ok()) break;
        std::map<std::string, std::string> params = *parsed;
        if (params.find("app_id") == params.end()) params["app_id"] = kAlipayAppId;
        params.erase("sign");
        params["sign"] = sign(world->alipay_signer, alipay_signing_string(params));
        n.body.clear();
        for (const auto& [k, v] : params) {
          if (!n.body.empty()) n.body += '&';
          n.body += crypto::url_encode(k) + "=" + crypto::url_encode(v);
        }
      }
      break;
    }
    case 2: {
      p = world->wechat.get(), provider = "wechat";
      const size_t blank = rest.find("\n\n");
      std::string_view head = rest.substr(0, blank);
      n.body.assign(blank == std::string_view::npos ? std::string_view() : rest.substr(blank + 2));
      while (!head.empty()) {
        const size_t eol = head.find('\n');
        const std::string_view line = head.substr(0, eol);
        const size_t colon = line.find(": ");
        if (colon != std::string_view::npos)
          n.headers[std::string(line.substr(0, colon))] = std::string(line.substr(colon + 2));
        if (eol == std::string_view::npos) break;
        head.remove_prefix(eol + 1);
      }
      break;
    }
    case 3:
      p = world->wechat.get(), provider = "wechat";
      n.body.assign(rest);
      wechat_sign(n);
      break;
    case 4: {
      p = world->wechat.get(), provider = "wechat";
      const bool refund = !rest.empty() && (rest[0] & 1);
      const std::string nonce = "fuzz0nonce12", aad = "transaction";
      nlohmann::json envelope = {
          {"id", "EV-2026"},
          {"event_type", refund ? "REFUND.SUCCESS" : "TRANSACTION.SUCCESS"},
          {"resource_type", "encrypt-resource"},
          {"resource",
           {{"algorithm", "AEAD_AES_256_GCM"},
            {"ciphertext", crypto::base64_encode(gcm_encrypt(rest, nonce, aad))},
            {"nonce", nonce},
            {"associated_data", aad}}}};
      n.body = envelope.dump();
      wechat_sign(n);
      break;
    }
    default:
      p = world->sandbox.get(), provider = "sandbox";
      n.body.assign(rest);
      n.headers["x-sandbox-signature"] =
          crypto::hex_encode(crypto::hmac_sha256(kSandboxSecret, n.body));
      break;
  }
  auto r = p->verify(n);
  if (r.ok()) check_notification(*r, provider);
  return 0;
}
