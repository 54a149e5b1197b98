// A stand-in for Alipay's open platform gateway over loopback HTTP, for any
// test binary: it plays POST /gateway.do for alipay.trade.query,
// alipay.trade.close, alipay.trade.refund and
// alipay.trade.fastpay.refund.query as Alipay documents them:
//
// - the form is parsed and the request's RSA2 signature (all non-empty
//   parameters but sign, sorted, raw values) is checked with the app's
//   public key; a bad one is answered with Alipay's signature error
//   (40002 isv.invalid-signature, unsigned);
// - answers are {"<method>_response":{…},"sign":"…"} with the response
//   object signed as written, keys in Alipay's order (code, msg, then the
//   fields), optionally with alipay_cert_sn;
// - it keeps trades: a test opens or pays one (or pays what a start()
//   redirect asks, its signature checked), refunds move refund_fee and
//   close a fully refunded trade, the same out_request_no is one refund;
// - switchable modes: business error (chosen sub_code), system error, hang
//   (no answer: the client's timeout), garbage, HTTP error, unsigned,
//   forged or tampered signature;
// - it writes the notifications Alipay would post (payment, refund), signed
//   with the gateway key, to feed to PaymentProvider::verify or
//   Commerce::notify.
// - it plays the buyer's side too (for browser tests): GET /gateway.do with
//   a page.pay or wap.pay redirect's query is the cashier, a zh-CN page
//   "确认付款 ¥X" (the redirect's signature and app_id checked first); its
//   button POSTs /cashier/pay, which pays the trade, POSTs the signed
//   notification to the redirect's notify_url and sends the browser to
//   return_url with Alipay's signed return parameters.
//
// Plus certificate helpers for Alipay's certificate mode. Written against
// OpenSSL directly (gateway_fake.h's rule: independent of
// src/commerce/crypto.h).
//
// After a hang the stand-in serves nothing more (it answers one connection
// at a time): use a stand-in of its own for a timeout.
//
// Thread-safety: every method may be called from the test thread while the
// server thread answers.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/http_standin.h"
#include "gateway_fake.h"

namespace paidoc::commerce::fake_gateway {

// ---- certificates (certificate mode) ----------------------------------------------

// An X.509 name as (short name, value) pairs, first RDN first.
using DistinguishedName = std::vector<std::pair<std::string, std::string>>;

inline std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> read_private_pem(
    const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> b(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) throw std::runtime_error("cannot read private key");
  return key;
}

inline void set_name(X509_NAME* name, const DistinguishedName& dn) {
  for (const auto& [type, value] : dn)
    X509_NAME_add_entry_by_txt(name, type.c_str(), MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(value.data()),
                               static_cast<int>(value.size()), -1, 0);
}

// A certificate for the key in `subject_private_pem`, issued under `issuer`
// with the serial number `serial_hex`, signed by `signer_private_pem` with
// `md` (EVP_sha256(), EVP_sha1(); with an EC signer: ECDSA).
inline std::string issue_certificate(const std::string& subject_private_pem,
                                     const DistinguishedName& subject,
                                     const DistinguishedName& issuer,
                                     const std::string& serial_hex,
                                     const std::string& signer_private_pem,
                                     const EVP_MD* md = EVP_sha256()) {
  auto subject_key = read_private_pem(subject_private_pem);
  auto signer_key = read_private_pem(signer_private_pem);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  BIGNUM* bn = nullptr;
  if (!BN_hex2bn(&bn, serial_hex.c_str())) throw std::runtime_error("bad serial");
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), subject_key.get());
  set_name(X509_get_subject_name(cert.get()), subject);
  set_name(X509_get_issuer_name(cert.get()), issuer);
  if (!X509_sign(cert.get(), signer_key.get(), md)) throw std::runtime_error("X509_sign failed");
  std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(b.get(), cert.get());
  return bio_string(b.get());
}

// A P-256 private key (PKCS #8 PEM): for a root certificate Alipay's SN
// rule leaves out (ecdsa-with-SHA256).
inline std::string generate_ec_private_pem() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) throw std::runtime_error("EVP_EC_gen failed");
  std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(b.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bio_string(b.get());
}

// The same key as `private_pem` (PKCS #8) written as PKCS #1
// ("RSA PRIVATE KEY"), and its public half as PKCS #1 ("RSA PUBLIC KEY").
inline std::string pkcs1_private_pem(const std::string& private_pem) {
  auto key = read_private_pem(private_pem);
  std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey_traditional(b.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bio_string(b.get());
}
inline std::string pkcs1_public_pem(const std::string& private_pem) {
  auto key = read_private_pem(private_pem);
  std::unique_ptr<OSSL_ENCODER_CTX, decltype(&OSSL_ENCODER_CTX_free)> ctx(
      OSSL_ENCODER_CTX_new_for_pkey(key.get(), EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific",
                                    nullptr),
      OSSL_ENCODER_CTX_free);
  unsigned char* data = nullptr;
  size_t len = 0;
  if (!ctx || OSSL_ENCODER_to_data(ctx.get(), &data, &len) != 1)
    throw std::runtime_error("cannot write a PKCS #1 public key");
  std::string out(reinterpret_cast<const char*>(data), len);
  OPENSSL_free(data);
  return out;
}

inline std::string md5_hex(const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_md5(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

// ---- the gateway -----------------------------------------------------------------

// A trade as the stand-in keeps it.
struct AlipayTrade {
  std::string out_trade_no;
  std::string trade_no;
  std::string status = "WAIT_BUYER_PAY";  // | TRADE_SUCCESS | TRADE_FINISHED | TRADE_CLOSED
  Fen total;
  Fen refunded;                           // refund_fee: all refunds so far
  std::map<std::string, Fen> refunds;     // out_request_no -> amount
};

// A redirect the buyer followed to the cashier (GET /gateway.do).
struct AlipayCashierVisit {
  std::string method;  // alipay.trade.page.pay | alipay.trade.wap.pay
  std::string out_trade_no, subject, notify_url, return_url;
  Fen total;
};

// A notification the stand-in posted to a notify_url, and the answer.
struct AlipayDelivery {
  std::string url;
  int status = 0;     // 0: no answer
  std::string body;   // the site's answer ("success" when applied)
};

// One request as the stand-in received it.
struct AlipayCall {
  std::string content_type;
  std::map<std::string, std::string> params;  // decoded form
  nlohmann::json biz;                         // biz_content, parsed (null if unreadable)
  bool signature_ok = false;
  std::string method() const {
    auto it = params.find("method");
    return it == params.end() ? std::string() : it->second;
  }
};

class AlipayStandin {
 public:
  enum class Mode {
    kNormal,          // answers from the trades it keeps
    kBusinessError,   // 40004 with the chosen sub_code, to every call
    kSystemError,     // 20000 isp.unknow-error
    kHang,            // never answers
    kGarbage,         // 200 with an HTML body
    kHttpError,       // 502 with an HTML body
    kUnsigned,        // a normal answer without "sign"
    kForged,          // a normal answer signed by another key
    kTampered,        // a normal answer changed after signing
  };

  // `app_public_pem` checks requests; `gateway_private_pem` signs answers
  // and notifications.
  AlipayStandin(std::string app_id, std::string app_public_pem, std::string gateway_private_pem)
      : app_id_(std::move(app_id)),
        app_public_pem_(std::move(app_public_pem)),
        gateway_private_pem_(std::move(gateway_private_pem)),
        server_([this](const paidoc::testing::StandinRequest& r) { return handle(r); }) {}

  std::string url() const { return server_.url(); }
  std::string gateway_url() const { return server_.url() + "/gateway.do"; }

  // ---- switches ----
  // `only_method` non-empty: the mode applies to that method's calls, the
  // others are answered normally.
  void set_mode(Mode m, std::string sub_code = "", std::string sub_msg = "",
                std::string only_method = "") {
    std::lock_guard<std::mutex> lock(mu_);
    mode_ = m;
    error_sub_code_ = std::move(sub_code);
    error_sub_msg_ = std::move(sub_msg);
    mode_method_ = std::move(only_method);
  }
  // Certificate mode: answers carry this alipay_cert_sn ("" leaves it out).
  void set_alipay_cert_sn(std::string sn) {
    std::lock_guard<std::mutex> lock(mu_);
    alipay_cert_sn_ = std::move(sn);
  }

  // ---- trades ----
  // A trade created by the buyer's scan, not paid yet.
  std::string open_trade(const std::string& out_trade_no, Fen total) {
    std::lock_guard<std::mutex> lock(mu_);
    return open_locked(out_trade_no, total).trade_no;
  }
  // The buyer paid (the trade is opened first if needed). Answers trade_no.
  std::string pay(const std::string& out_trade_no, Fen total) {
    std::lock_guard<std::mutex> lock(mu_);
    AlipayTrade& t = open_locked(out_trade_no, total);
    t.status = "TRADE_SUCCESS";
    return t.trade_no;
  }
  // The buyer followed start()'s redirect and paid at the cashier: the
  // redirect's signature is checked (throws std::runtime_error if it does
  // not verify with the app's key or is for another app), and its trade is
  // paid with biz_content's total_amount. Answers out_trade_no.
  std::string pay_redirect(const std::string& redirect_url) {
    size_t q = redirect_url.find('?');
    if (q == std::string::npos) throw std::runtime_error("redirect without a query");
    AlipayCashierVisit v = checked_redirect(parse_query(redirect_url.substr(q + 1)));
    pay(v.out_trade_no, v.total);
    return v.out_trade_no;
  }

  // The buyer paid at the cashier a trade whose redirect it visited: the
  // trade is paid, its notification is POSTed to the redirect's notify_url
  // (the answer is kept in deliveries()), and the URL the buyer's browser
  // returns to is answered: return_url with Alipay's signed return
  // parameters. Throws std::out_of_range when no redirect named the trade.
  std::string pay_at_cashier(const std::string& out_trade_no) {
    AlipayCashierVisit v;
    {
      std::lock_guard<std::mutex> lock(mu_);
      v = visits_.at(out_trade_no);
    }
    pay(out_trade_no, v.total);
    RawNotification n = payment_notification(out_trade_no);
    paidoc::testing::StandinPostAnswer a =
        paidoc::testing::http_post(v.notify_url, n.headers, n.body);
    {
      std::lock_guard<std::mutex> lock(mu_);
      deliveries_.push_back({v.notify_url, a.status, a.body});
    }
    return v.return_url.empty() ? std::string() : return_redirect(v);
  }
  std::vector<AlipayDelivery> deliveries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return deliveries_;
  }
  void set_status(const std::string& out_trade_no, const std::string& status) {
    std::lock_guard<std::mutex> lock(mu_);
    trades_.at(out_trade_no).status = status;
  }
  std::optional<AlipayTrade> trade(const std::string& out_trade_no) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = trades_.find(out_trade_no);
    if (it == trades_.end()) return std::nullopt;
    return it->second;
  }
  // A refund made in Alipay's console (not through the API): state changes
  // as for the API; answer the notification Alipay then posts.
  RawNotification refund_in_console(const std::string& out_trade_no, Fen amount,
                                    const std::string& out_biz_no) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      AlipayTrade& t = trades_.at(out_trade_no);
      t.refunded = t.refunded.checked_add(amount).value();
      t.refunds[out_biz_no] = amount;
      if (t.refunded == t.total) t.status = "TRADE_CLOSED";
    }
    return refund_notification(out_trade_no, out_biz_no);
  }

  // ---- notifications, as Alipay posts them ----
  // trade_status_sync for the trade as it stands (paid: TRADE_SUCCESS).
  RawNotification payment_notification(const std::string& out_trade_no) const {
    return alipay_notification(notification_params(out_trade_no), gateway_private_pem_);
  }
  // After refund `out_biz_no` (API out_request_no or console number): the
  // trade's refund_fee so far, gmt_refund, out_biz_no, and trade_status
  // TRADE_SUCCESS (partly refunded) or TRADE_CLOSED (fully).
  RawNotification refund_notification(const std::string& out_trade_no,
                                      const std::string& out_biz_no) const {
    auto p = notification_params(out_trade_no);
    p["out_biz_no"] = out_biz_no;
    p["gmt_refund"] = now_text() + ".123";
    {
      std::lock_guard<std::mutex> lock(mu_);
      p["refund_fee"] = trades_.at(out_trade_no).refunded.yuan_string();
    }
    if (p["trade_status"] == "TRADE_CLOSED") p["gmt_close"] = now_text();
    return alipay_notification(p, gateway_private_pem_);
  }

  // ---- records ----
  std::vector<AlipayCall> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<AlipayCall> calls_of(const std::string& method) const {
    std::vector<AlipayCall> out;
    for (auto& c : calls())
      if (c.method() == method) out.push_back(c);
    return out;
  }

 private:
  using ordered_json = nlohmann::ordered_json;

  static std::string now_text() {
    std::time_t t = std::time(nullptr) + 8 * 3600;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
  }

  AlipayTrade& open_locked(const std::string& out_trade_no, Fen total) {
    auto it = trades_.find(out_trade_no);
    if (it != trades_.end()) return it->second;
    AlipayTrade t;
    t.out_trade_no = out_trade_no;
    char no[32];
    std::snprintf(no, sizeof no, "2026010122001%015d", ++next_trade_);
    t.trade_no = no;
    t.total = total;
    return trades_[out_trade_no] = t;
  }

  std::map<std::string, std::string> notification_params(const std::string& out_trade_no) const {
    std::lock_guard<std::mutex> lock(mu_);
    const AlipayTrade& t = trades_.at(out_trade_no);
    std::map<std::string, std::string> p = {
        {"notify_time", now_text()},
        {"notify_type", "trade_status_sync"},
        {"notify_id", "2026" + t.trade_no.substr(13) + "n" + std::to_string(++notify_counter_)},
        {"app_id", app_id_},
        {"auth_app_id", app_id_},
        {"charset", "utf-8"},
        {"version", "1.0"},
        {"trade_no", t.trade_no},
        {"out_trade_no", t.out_trade_no},
        {"buyer_id", "2088102177846880"},
        {"seller_id", "2088101117955611"},
        {"trade_status", t.status},
        {"total_amount", t.total.yuan_string()},
        {"receipt_amount", t.total.yuan_string()},
        {"gmt_create", now_text()},
        {"gmt_payment", now_text()},
    };
    return p;
  }

  paidoc::testing::StandinReply json_reply(const std::string& body) const {
    paidoc::testing::StandinReply r;
    r.headers["Content-Type"] = "application/json;charset=utf-8";
    r.body = body;
    return r;
  }

  // {"<method>_response":<response>,"sign":"…"} with the response object
  // signed exactly as written here.
  paidoc::testing::StandinReply signed_reply(const std::string& method,
                                             const ordered_json& response, Mode mode) const {
    std::string key = method;
    for (char& c : key)
      if (c == '.') c = '_';
    key += "_response";
    std::string text = response.dump();
    std::string signer = mode == Mode::kForged ? stranger_key().private_pem : gateway_private_pem_;
    std::string sign = b64(rsa_sign(signer, text));
    if (mode == Mode::kTampered) {
      // Every answer has a msg; a paid amount grows tenfold as well.
      text.insert(text.find("\"msg\":\"") + 7, "!");
      size_t amount = text.find("\"total_amount\":\"");
      if (amount != std::string::npos) text.insert(amount + 16, "1");
    }
    std::string body = "{\"" + key + "\":" + text;
    if (mode != Mode::kUnsigned) body += ",\"sign\":\"" + sign + "\"";
    if (!alipay_cert_sn_.empty()) body += ",\"alipay_cert_sn\":\"" + alipay_cert_sn_ + "\"";
    body += "}";
    return json_reply(body);
  }

  static ordered_json error(const std::string& code, const std::string& msg,
                            const std::string& sub_code, const std::string& sub_msg) {
    ordered_json j;
    j["code"] = code;
    j["msg"] = msg;
    j["sub_code"] = sub_code;
    j["sub_msg"] = sub_msg;
    return j;
  }
  static ordered_json business(const std::string& sub_code, const std::string& sub_msg) {
    return error("40004", "Business Failed", sub_code, sub_msg);
  }
  static ordered_json success() {
    ordered_json j;
    j["code"] = "10000";
    j["msg"] = "Success";
    return j;
  }

  // ---- the buyer's pages --------------------------------------------------------

  // The redirect's parameters, checked as the cashier checks them: signed
  // with the app's key (RSA2), for this app, a page.pay or wap.pay with an
  // out_trade_no and a total in yuan. Throws std::runtime_error saying what
  // is wrong.
  AlipayCashierVisit checked_redirect(std::map<std::string, std::string> params) const {
    bool signed_ok = false;
    try {
      signed_ok = rsa_verify(app_public_pem_, alipay_content(params, true), unb64(params["sign"]));
    } catch (const std::exception&) {
    }
    if (!signed_ok || params["app_id"] != app_id_)
      throw std::runtime_error("redirect is not signed by the app's key");
    nlohmann::json biz = nlohmann::json::parse(params["biz_content"], nullptr, false);
    if (!biz.is_object() || !biz.contains("out_trade_no") || !biz.contains("total_amount"))
      throw std::runtime_error("biz_content lacks out_trade_no or total_amount");
    auto total = Fen::parse_yuan(biz.at("total_amount").get<std::string>());
    if (!total.ok()) throw std::runtime_error("redirect total_amount is not yuan");
    AlipayCashierVisit v;
    v.method = params["method"];
    v.out_trade_no = biz.at("out_trade_no").get<std::string>();
    v.subject = biz.value("subject", std::string());
    v.notify_url = params["notify_url"];
    v.return_url = params["return_url"];
    v.total = *total;
    return v;
  }

  // return_url with the parameters Alipay appends (同步返回), signed like a
  // notification.
  std::string return_redirect(const AlipayCashierVisit& v) const {
    std::string trade_no;
    {
      std::lock_guard<std::mutex> lock(mu_);
      trade_no = trades_.at(v.out_trade_no).trade_no;
    }
    std::map<std::string, std::string> p = {
        {"charset", "utf-8"},
        {"out_trade_no", v.out_trade_no},
        {"method", v.method + ".return"},
        {"total_amount", v.total.yuan_string()},
        {"trade_no", trade_no},
        {"auth_app_id", app_id_},
        {"version", "1.0"},
        {"app_id", app_id_},
        {"seller_id", "2088101117955611"},
        {"timestamp", now_text()},
    };
    RawNotification signed_params = alipay_notification(p, gateway_private_pem_);
    return v.return_url + (v.return_url.find('?') == std::string::npos ? "?" : "&") +
           signed_params.body;
  }

  static std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
      }
    }
    return out;
  }

  static paidoc::testing::StandinReply html_page(int status, const std::string& title,
                                                 const std::string& main) {
    paidoc::testing::StandinReply r;
    r.status = status;
    r.headers["Content-Type"] = "text/html; charset=utf-8";
    r.headers["Cache-Control"] = "no-store";
    r.body =
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>" + title + "</title><style>"
        "body{margin:0;font:17px/1.6 sans-serif;background:#f5f5f5;color:#222}"
        "main{max-width:440px;margin:0 auto;padding:24px 16px}"
        ".brand{color:#1677ff;font-weight:bold;margin:0 0 16px}"
        "h1{font-size:26px;margin:0 0 12px}"
        "dl{background:#fff;border-radius:8px;padding:12px 16px;margin:0 0 20px}"
        "dt{color:#666;font-size:15px}dd{margin:0 0 8px;word-break:break-all}"
        "button{width:100%;font-size:18px;padding:12px;border:0;border-radius:8px;"
        "background:#1677ff;color:#fff}"
        ".note{color:#666;font-size:15px}"
        "</style></head><body><main>" + main + "</main></body></html>";
    return r;
  }

  // GET /gateway.do?…: the cashier for a page.pay / wap.pay redirect.
  paidoc::testing::StandinReply cashier_page(const paidoc::testing::StandinRequest& r) {
    size_t q = r.target.find('?');
    AlipayCashierVisit v;
    try {
      v = checked_redirect(parse_query(q == std::string::npos ? "" : r.target.substr(q + 1)));
      if (v.method != "alipay.trade.page.pay" && v.method != "alipay.trade.wap.pay")
        throw std::runtime_error("method " + v.method + " is not a payment page");
    } catch (const std::exception& e) {
      return html_page(400, "支付宝 · 错误",
                       "<p class=\"brand\">支付宝</p><h1>支付请求有误</h1>"
                       "<p>invalid-signature: " + html_escape(e.what()) + "</p>");
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      AlipayTrade& t = open_locked(v.out_trade_no, v.total);
      if (t.status != "WAIT_BUYER_PAY")
        return html_page(200, "支付宝 · 收银台",
                         "<p class=\"brand\">支付宝</p><h1>该订单已支付或已关闭</h1>");
      visits_[v.out_trade_no] = v;
    }
    std::string amount = "¥" + v.total.yuan_string();
    return html_page(
        200, "支付宝 · 收银台",
        "<p class=\"brand\">支付宝 · 测试收银台</p>"
        "<h1>确认付款 " + amount + "</h1>"
        "<dl><dt>商品</dt><dd>" + html_escape(v.subject) + "</dd>"
        "<dt>商户订单号</dt><dd>" + html_escape(v.out_trade_no) + "</dd></dl>"
        "<form method=\"post\" action=\"/cashier/pay\">"
        "<input type=\"hidden\" name=\"out_trade_no\" value=\"" + html_escape(v.out_trade_no) +
        "\"><button type=\"submit\">确认付款</button></form>"
        "<p class=\"note\">测试网关：不产生真实扣款。</p>");
  }

  // POST /cashier/pay (out_trade_no): the buyer pays.
  paidoc::testing::StandinReply cashier_pay(const paidoc::testing::StandinRequest& r) {
    std::string out_trade_no = parse_query(r.body)["out_trade_no"];
    std::string back;
    try {
      back = pay_at_cashier(out_trade_no);
    } catch (const std::out_of_range&) {
      return html_page(404, "支付宝 · 错误",
                       "<p class=\"brand\">支付宝</p><h1>交易不存在</h1>");
    }
    if (back.empty())
      return html_page(200, "支付宝 · 收银台", "<p class=\"brand\">支付宝</p><h1>付款成功</h1>");
    paidoc::testing::StandinReply reply;
    reply.status = 302;
    reply.headers["Location"] = back;
    return reply;
  }

  paidoc::testing::StandinReply handle(const paidoc::testing::StandinRequest& r) {
    // The buyer's pages take the lock themselves (they post to the site).
    if (r.method == "GET" && r.path() == "/gateway.do") return cashier_page(r);
    if (r.method == "POST" && r.path() == "/cashier/pay") return cashier_pay(r);
    paidoc::testing::StandinReply reply;
    if (r.method != "POST" || r.path() != "/gateway.do") {
      reply.status = 404;
      reply.body = "not found";
      return reply;
    }
    AlipayCall call;
    call.content_type = r.header("content-type");
    call.params = parse_query(r.body);
    call.biz = nlohmann::json::parse(call.params["biz_content"], nullptr, false);
    try {
      call.signature_ok =
          call.params["sign_type"] == "RSA2" &&
          rsa_verify(app_public_pem_, alipay_content(call.params, true),
                     unb64(call.params["sign"]));
    } catch (const std::exception&) {
      call.signature_ok = false;
    }
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(call);
    const std::string method = call.method();
    const Mode mode = mode_method_.empty() || mode_method_ == method ? mode_ : Mode::kNormal;

    switch (mode) {
      case Mode::kHang:
        reply.hang = true;
        return reply;
      case Mode::kGarbage:
        reply.headers["Content-Type"] = "text/html";
        reply.body = "<html><body>upstream hiccup</body></html>";
        return reply;
      case Mode::kHttpError:
        reply.status = 502;
        reply.headers["Content-Type"] = "text/html";
        reply.body = "<html><body>502 Bad Gateway</body></html>";
        return reply;
      default:
        break;
    }
    if (!call.signature_ok || call.params["app_id"] != app_id_ || call.params["charset"] != "utf-8") {
      // Alipay refuses unverifiable requests without signing the answer.
      std::string key = method.empty() ? "error" : method;
      for (char& c : key)
        if (c == '.') c = '_';
      ordered_json e = error("40002", "Invalid Arguments", "isv.invalid-signature",
                             "验签出错，请确认签名串与应用公钥匹配");
      return json_reply("{\"" + key + "_response\":" + e.dump() + "}");
    }
    if (mode == Mode::kBusinessError)
      return signed_reply(method, business(error_sub_code_, error_sub_msg_), mode);
    if (mode == Mode::kSystemError)
      return signed_reply(method, error("20000", "Service Currently Unavailable",
                                        "isp.unknow-error", "系统繁忙"),
                          mode);
    return signed_reply(method, answer(method, call.biz), mode);
  }

  std::string biz_string(const nlohmann::json& biz, const char* name) const {
    auto it = biz.is_object() ? biz.find(name) : biz.end();
    return biz.is_object() && it != biz.end() && it->is_string() ? it->get<std::string>() : "";
  }

  // The answer to a verified request, from the trades (mu_ held).
  ordered_json answer(const std::string& method, const nlohmann::json& biz) {
    std::string out_trade_no = biz_string(biz, "out_trade_no");
    auto it = trades_.find(out_trade_no);
    if (method != "alipay.trade.query" && method != "alipay.trade.close" &&
        method != "alipay.trade.refund" && method != "alipay.trade.fastpay.refund.query")
      return error("40002", "Invalid Arguments", "isv.invalid-method", "不存在的方法名");
    if (it == trades_.end()) return business("ACQ.TRADE_NOT_EXIST", "交易不存在");
    AlipayTrade& t = it->second;

    if (method == "alipay.trade.query") {
      ordered_json j = success();
      j["trade_no"] = t.trade_no;
      j["out_trade_no"] = t.out_trade_no;
      j["buyer_logon_id"] = "159****5620";
      j["trade_status"] = t.status;
      j["total_amount"] = t.total.yuan_string();
      j["buyer_pay_amount"] = t.status == "WAIT_BUYER_PAY" ? "0.00" : t.total.yuan_string();
      return j;
    }
    if (method == "alipay.trade.close") {
      if (t.status != "WAIT_BUYER_PAY") return business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法");
      t.status = "TRADE_CLOSED";
      ordered_json j = success();
      j["trade_no"] = t.trade_no;
      j["out_trade_no"] = t.out_trade_no;
      return j;
    }
    std::string out_request_no = biz_string(biz, "out_request_no");
    if (method == "alipay.trade.fastpay.refund.query") {
      ordered_json j = success();
      j["trade_no"] = t.trade_no;
      j["out_trade_no"] = t.out_trade_no;
      j["out_request_no"] = out_request_no;
      auto r = t.refunds.find(out_request_no);
      if (r != t.refunds.end()) {
        j["total_amount"] = t.total.yuan_string();
        j["refund_amount"] = r->second.yuan_string();
        j["refund_status"] = "REFUND_SUCCESS";
      }
      return j;
    }
    // alipay.trade.refund
    std::string trade_no = biz_string(biz, "trade_no");
    if (!trade_no.empty() && trade_no != t.trade_no)
      return business("ACQ.TRADE_NOT_EXIST", "交易不存在");
    auto amount = Fen::parse_yuan(biz_string(biz, "refund_amount"));
    if (!amount.ok() || *amount <= Fen(0) || out_request_no.empty())
      return error("40002", "Invalid Arguments", "isv.invalid-parameter", "参数无效");
    bool repeat = t.refunds.count(out_request_no) > 0;
    if (!repeat) {
      if (t.status == "TRADE_FINISHED") return business("ACQ.TRADE_HAS_FINISHED", "交易已完结");
      if (t.status != "TRADE_SUCCESS") return business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法");
      if (t.refunded.checked_add(*amount) > t.total)
        return business("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限");
      t.refunded = t.refunded.checked_add(*amount).value();
      t.refunds[out_request_no] = *amount;
      if (t.refunded == t.total) t.status = "TRADE_CLOSED";
    }
    ordered_json j = success();
    j["trade_no"] = t.trade_no;
    j["out_trade_no"] = t.out_trade_no;
    j["buyer_logon_id"] = "159****5620";
    j["fund_change"] = repeat ? "N" : "Y";
    j["refund_fee"] = t.refunded.yuan_string();
    j["gmt_refund_pay"] = now_text();
    return j;
  }

  const std::string app_id_;
  const std::string app_public_pem_;
  const std::string gateway_private_pem_;
  mutable std::mutex mu_;
  Mode mode_ = Mode::kNormal;
  std::string error_sub_code_;
  std::string error_sub_msg_;
  std::string mode_method_;
  std::string alipay_cert_sn_;
  std::map<std::string, AlipayTrade> trades_;
  std::map<std::string, AlipayCashierVisit> visits_;  // by out_trade_no
  std::vector<AlipayDelivery> deliveries_;
  std::vector<AlipayCall> calls_;
  int next_trade_ = 0;
  mutable int notify_counter_ = 0;
  // Last: its thread calls handle() and must stop before the rest goes.
  paidoc::testing::HttpStandin server_;
};

}  // namespace paidoc::commerce::fake_gateway
