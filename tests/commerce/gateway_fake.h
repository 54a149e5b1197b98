// The gateways' side of each payment protocol, for tests: generates RSA key
// pairs and produces notifications exactly as Alipay, WeChat Pay and the
// sandbox send them, and checks what our start() signed.
//
// Written straight against OpenSSL and deliberately independent of
// src/commerce/crypto.h, so that a mistake in the production helpers cannot
// hide itself by being made twice.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cctype>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "commerce/provider.h"

namespace paidoc::commerce::fake_gateway {

// ---- keys -------------------------------------------------------------------

struct KeyPair {
  std::string private_pem;      // PKCS #8 "PRIVATE KEY"
  std::string public_pem;       // SubjectPublicKeyInfo "PUBLIC KEY"
  std::string certificate_pem;  // self-signed X.509 around public_pem
};

inline std::string bio_string(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

inline KeyPair generate_rsa_2048() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(EVP_RSA_gen(2048), EVP_PKEY_free);
  if (!pkey) throw std::runtime_error("EVP_RSA_gen failed");
  KeyPair kp;
  {
    std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PrivateKey(b.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
    kp.private_pem = bio_string(b.get());
  }
  {
    std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PUBKEY(b.get(), pkey.get());
    kp.public_pem = bio_string(b.get());
  }
  {
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), pkey.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("Fake Gateway"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509_sign(cert.get(), pkey.get(), EVP_sha256());
    std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_X509(b.get(), cert.get());
    kp.certificate_pem = bio_string(b.get());
  }
  return kp;
}

// Key generation is slow; each role's key is made once per test binary.
inline const KeyPair& app_key() {
  static const KeyPair k = generate_rsa_2048();
  return k;
}
inline const KeyPair& alipay_key() {
  static const KeyPair k = generate_rsa_2048();
  return k;
}
inline const KeyPair& merchant_key() {
  static const KeyPair k = generate_rsa_2048();
  return k;
}
inline const KeyPair& platform_key() {
  static const KeyPair k = generate_rsa_2048();
  return k;
}
inline const KeyPair& stranger_key() {
  static const KeyPair k = generate_rsa_2048();
  return k;
}

// The base64 body of a PEM without its armour lines, as key tools print it.
inline std::string bare_base64(const std::string& pem) {
  std::string out;
  size_t pos = 0;
  while (pos < pem.size()) {
    size_t nl = pem.find('\n', pos);
    if (nl == std::string::npos) nl = pem.size();
    std::string line = pem.substr(pos, nl - pos);
    if (line.rfind("-----", 0) != 0) out += line;
    pos = nl + 1;
  }
  return out;
}

// ---- encodings --------------------------------------------------------------

inline std::string b64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n);
  return out;
}

inline std::string unb64(std::string_view in) {
  std::string out(in.size() / 4 * 3 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) throw std::runtime_error("bad base64");
  size_t pad = 0;
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// application/x-www-form-urlencoded, the way browsers and Alipay post it:
// space as '+', everything but alphanumerics and "-_.*" as %XX.
inline std::string form_encode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '*') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

inline std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// Splits "a=1&b=2" into decoded pairs (the query of a redirect URL).
inline std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < q.size()) {
    size_t amp = q.find('&', pos);
    if (amp == std::string_view::npos) amp = q.size();
    std::string_view pair = q.substr(pos, amp - pos);
    size_t eq = pair.find('=');
    out[percent_decode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    pos = amp + 1;
  }
  return out;
}

// ---- SHA256withRSA ------------------------------------------------------------

inline std::string rsa_sign(const std::string& private_pem, std::string_view message) {
  std::unique_ptr<BIO, decltype(&BIO_free)> b(
      BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  if (!key || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    throw std::runtime_error("sign failed");
  std::string sig(len, '\0');
  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(message.data()), message.size());
  sig.resize(len);
  return sig;
}

inline bool rsa_verify(const std::string& public_pem, std::string_view message,
                       std::string_view signature) {
  std::unique_ptr<BIO, decltype(&BIO_free)> b(
      BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return key && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

// ---- Alipay -------------------------------------------------------------------

// Alipay's string to sign: non-empty parameters except sign and sign_type,
// sorted by name, name=value joined with '&', raw values.
inline std::string alipay_content(const std::map<std::string, std::string>& params,
                                  bool keep_sign_type) {
  std::string out;
  for (const auto& [k, v] : params) {  // std::map: sorted by name
    if (v.empty() || k == "sign" || (k == "sign_type" && !keep_sign_type)) continue;
    if (!out.empty()) out += "&";
    out += k + "=" + v;
  }
  return out;
}

inline std::string form_body(const std::map<std::string, std::string>& params) {
  std::string body;
  for (const auto& [k, v] : params) {
    if (!body.empty()) body += "&";
    body += form_encode(k) + "=" + form_encode(v);
  }
  return body;
}

// A trade_status_sync notification as Alipay posts it, signed (RSA2) with
// `gateway_private_pem`.
inline RawNotification alipay_notification(std::map<std::string, std::string> params,
                                           const std::string& gateway_private_pem) {
  params["sign_type"] = "RSA2";
  params["sign"] = b64(rsa_sign(gateway_private_pem, alipay_content(params, false)));
  RawNotification n;
  n.headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8";
  n.body = form_body(params);
  return n;
}

// ---- WeChat Pay v3 ----------------------------------------------------------------

// AEAD_AES_256_GCM encryption: ciphertext followed by the 16-byte tag.
inline std::string aes_256_gcm_encrypt(const std::string& key, const std::string& nonce,
                                       const std::string& aad, const std::string& plaintext) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  std::string out(plaintext.size() + 16, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr);
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr);
  EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr,
                     reinterpret_cast<const unsigned char*>(key.data()),
                     reinterpret_cast<const unsigned char*>(nonce.data()));
  EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                    static_cast<int>(aad.size()));
  EVP_EncryptUpdate(ctx.get(), o, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                    static_cast<int>(plaintext.size()));
  int total = len;
  EVP_EncryptFinal_ex(ctx.get(), o + total, &len);
  total += len;
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, o + total);
  out.resize(static_cast<size_t>(total) + 16);
  return out;
}

// Headers WeChat Pay signs a callback with (lower-case names, as received).
inline RawNotification wechat_signed(const std::string& body, int64_t timestamp,
                                     const std::string& nonce, const std::string& serial,
                                     const std::string& platform_private_pem) {
  RawNotification n;
  n.body = body;
  std::string ts = std::to_string(timestamp);
  n.headers["wechatpay-timestamp"] = ts;
  n.headers["wechatpay-nonce"] = nonce;
  n.headers["wechatpay-serial"] = serial;
  n.headers["wechatpay-signature"] =
      b64(rsa_sign(platform_private_pem, ts + "\n" + nonce + "\n" + body + "\n"));
  n.headers["wechatpay-signature-type"] = "WECHATPAY2-SHA256-RSA2048";
  n.headers["content-type"] = "application/json";
  return n;
}

// The envelope around an encrypted transaction, as in WeChat's callbacks.
inline std::string wechat_envelope(const std::string& ciphertext_b64, const std::string& nonce,
                                   const std::string& aad,
                                   const std::string& event_type = "TRANSACTION.SUCCESS",
                                   const std::string& algorithm = "AEAD_AES_256_GCM") {
  return R"({"id":"EV-2018022511223320873","create_time":"2026-01-01T08:00:00+08:00",)"
         R"("resource_type":"encrypt-resource","event_type":")" +
         event_type +
         R"(","summary":"支付成功","resource":{"original_type":"transaction","algorithm":")" +
         algorithm + R"(","ciphertext":")" + ciphertext_b64 + R"(","associated_data":")" + aad +
         R"(","nonce":")" + nonce + R"("}})";
}

// ---- sandbox --------------------------------------------------------------------

inline std::string hmac_sha256_hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

}  // namespace paidoc::commerce::fake_gateway
