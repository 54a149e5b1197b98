// WeChat Pay API v3 played over loopback HTTP, for tests: Native, H5 and
// JSAPI orders, query and close by out_trade_no, refunds and refund
// queries, and the official-account OAuth token endpoint that JSAPI needs.
//
// Like WeChat, it checks the Authorization signature of every /v3 request
// against the merchant's public key (401 SIGN_ERROR otherwise, unsigned),
// keeps each trade's state (a test marks a trade paid; refunds move it to
// REFUND), and signs every answer with a platform key under a chosen serial
// (a platform certificate's serial or the "PUB_KEY_ID_…" of the WeChat Pay
// public key). A mode switches it to misbehave: business errors, hangs,
// garbage, bad, missing or stale answer signatures.
//
// It also writes the notifications WeChat would post (TRANSACTION.SUCCESS,
// REFUND.SUCCESS / ABNORMAL / CLOSED), encrypted with the APIv3 key and
// signed, to be fed to PaymentProvider::verify or Commerce::notify.
//
// With Options::buyer_pages (browser tests) it plays the buyer's side too:
// an H5 order's h5_url is the stand-in's own /cgi-bin/mmpayweb-bin/checkmweb
// page, "确认付款 ¥X" with a button that pays the trade, POSTs the
// TRANSACTION.SUCCESS notification to the order's notify_url and sends the
// browser to the redirect_url the site appended; and POST /standin/scan
// (out_trade_no, or none for the latest unpaid Native order) plays a buyer
// who scans the QR code and pays, answering JSON about the trade. Without
// it, h5_url names WeChat's host and those paths answer 401 as any unsigned
// call does.
//
// Written against OpenSSL (gateway_fake.h) and the plain-socket HttpStandin,
// independent of src/commerce, so a mistake in the production code cannot
// hide by being made twice. Timestamps come from the Clock it is given (the
// provider's), so freshness checks see consistent times.
//
// Use (see tests/commerce/wechat_test.cc for the keys and ids):
//   WechatStandin wx(options, clock);          // options: ids and keys
//   WechatConfig c = …;  c.api_base = wx.url();  c.sns_api_base = wx.url();
//   c.platform_keys[options.platform_serial] = <its public key>;
//   … start an order through the provider (or wx.add_trade(…)) …
//   wx.mark_paid(out_trade_no);
//   commerce.notify("wechat", wx.transaction_notification(out_trade_no));
//   … refund through the provider …;  wx.finish_refund(out_refund_no);
//   commerce.notify("wechat", wx.refund_notification(out_refund_no));
// A hang (Mode::kHang) holds the stand-in until it is destroyed: give a
// timeout test its own stand-in.
//
// Thread-safety: the server thread answers requests; every method may be
// called from the test thread at the same time.
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/http_standin.h"
#include "gateway_fake.h"

namespace paidoc::commerce::fake_gateway {

class WechatStandin {
 public:
  using json = nlohmann::json;
  using Request = paidoc::testing::StandinRequest;
  using Reply = paidoc::testing::StandinReply;

  struct Options {
    std::string appid;
    std::string mchid;
    std::string merchant_serial;       // serial_no our Authorization must name
    std::string merchant_public_pem;   // verifies our requests
    std::string platform_serial;       // Wechatpay-Serial of answers and notifications
    std::string platform_private_pem;  // signs them
    std::string apiv3_key;             // encrypts notification resources
    std::string app_secret;            // the OAuth token endpoint's secret
    bool buyer_pages = false;          // serve the buyer's pages (see above)
  };

  // A notification the stand-in posted to a notify_url, and the answer.
  struct Delivery {
    std::string url;
    int status = 0;    // 0: no answer
    std::string body;  // the site's answer
  };

  enum class Mode {
    kSuccess,         // as WeChat documents it
    kBusinessError,   // every /v3 call answers the chosen error, signed
    kHang,            // never answers (the client times out)
    kGarbage,         // 200, signed, a body that is not JSON
    kNotHttp,         // bytes that are not HTTP at all
    kBadSignature,    // Wechatpay-Signature over another body
    kNoSignature,     // no Wechatpay-* headers
    kStaleSignature,  // signed an hour ago
  };

  struct Trade {
    std::string out_trade_no;
    std::string trade_type;              // NATIVE | MWEB | JSAPI
    std::string trade_state = "NOTPAY";  // NOTPAY, SUCCESS, REFUND, CLOSED, …
    std::string transaction_id;          // set once paid
    int64_t total = 0;                   // fen
    int64_t refunded = 0;                // fen, refunds not failed
    std::string description, notify_url, time_expire, openid, client_ip;
  };

  struct Refund {
    std::string out_refund_no, refund_id, out_trade_no, transaction_id;
    std::string status;  // PROCESSING | SUCCESS | CLOSED | ABNORMAL
    int64_t refund = 0, total = 0;
    std::string reason, notify_url;
  };

  WechatStandin(Options o, const Clock& clock)
      : options_(std::move(o)),
        clock_(clock),
        signing_serial_(options_.platform_serial),
        signing_pem_(options_.platform_private_pem),
        server_([this](const Request& r) { return handle(r); }) {}

  std::string url() const { return server_.url(); }
  std::vector<Request> requests() const { return server_.requests(); }
  std::vector<Request> requests_to(const std::string& path) const {
    return server_.requests_to(path);
  }

  // ---- switches --------------------------------------------------------------

  void set_mode(Mode m) {
    std::lock_guard<std::mutex> lock(mu_);
    mode_ = m;
  }
  // kBusinessError with this answer, e.g. (400, "PARAM_ERROR", "参数错误").
  void fail_with(int status, std::string code, std::string message) {
    std::lock_guard<std::mutex> lock(mu_);
    mode_ = Mode::kBusinessError;
    error_status_ = status;
    error_code_ = std::move(code);
    error_message_ = std::move(message);
  }
  // Sign answers and notifications from now on with this key and serial.
  void sign_as(std::string serial, std::string private_pem) {
    std::lock_guard<std::mutex> lock(mu_);
    signing_serial_ = std::move(serial);
    signing_pem_ = std::move(private_pem);
  }
  // The status a new refund starts in (PROCESSING, as WeChat usually answers).
  void set_new_refund_status(std::string status) {
    std::lock_guard<std::mutex> lock(mu_);
    new_refund_status_ = std::move(status);
  }
  // A code the OAuth token endpoint exchanges once for `openid`.
  void add_oauth_code(const std::string& code, const std::string& openid) {
    std::lock_guard<std::mutex> lock(mu_);
    oauth_codes_[code] = openid;
  }

  // ---- trade state ------------------------------------------------------------

  std::optional<Trade> trade(const std::string& out_trade_no) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = trades_.find(out_trade_no);
    if (it == trades_.end()) return std::nullopt;
    return it->second;
  }
  // A trade that was not ordered through this stand-in (e.g. ordered before).
  void add_trade(Trade t) {
    std::lock_guard<std::mutex> lock(mu_);
    trades_[t.out_trade_no] = std::move(t);
  }
  // The buyer pays: SUCCESS with a new transaction id, which is answered.
  std::string mark_paid(const std::string& out_trade_no) {
    std::lock_guard<std::mutex> lock(mu_);
    Trade& t = trades_.at(out_trade_no);
    t.trade_state = "SUCCESS";
    if (t.transaction_id.empty()) t.transaction_id = "42000" + padded(++counter_, 23);
    return t.transaction_id;
  }
  // The buyer pays and WeChat tells the site: the trade is marked paid and
  // its TRANSACTION.SUCCESS notification POSTed to the trade's notify_url.
  // Answers the site's answer (also kept in deliveries()).
  Delivery pay_and_notify(const std::string& out_trade_no) {
    mark_paid(out_trade_no);
    RawNotification n = transaction_notification(out_trade_no);
    std::string url = trade(out_trade_no)->notify_url;
    paidoc::testing::StandinPostAnswer a = paidoc::testing::http_post(url, n.headers, n.body);
    Delivery d{url, a.status, a.body};
    std::lock_guard<std::mutex> lock(mu_);
    deliveries_.push_back(d);
    return d;
  }
  std::vector<Delivery> deliveries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return deliveries_;
  }
  void set_trade_state(const std::string& out_trade_no, const std::string& state) {
    std::lock_guard<std::mutex> lock(mu_);
    trades_.at(out_trade_no).trade_state = state;
  }

  std::optional<Refund> refund(const std::string& out_refund_no) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = refunds_.find(out_refund_no);
    if (it == refunds_.end()) return std::nullopt;
    return it->second;
  }
  // A refund the merchant made in WeChat's console, not through the API:
  // PROCESSING, numbered by WeChat. Answers its out_refund_no.
  std::string refund_at_console(const std::string& out_trade_no, int64_t amount) {
    std::lock_guard<std::mutex> lock(mu_);
    Trade& t = trades_.at(out_trade_no);
    Refund rf;
    rf.out_refund_no = "CONSOLE" + padded(++counter_, 20);
    rf.refund_id = "50300" + padded(++counter_, 27);
    rf.out_trade_no = t.out_trade_no;
    rf.transaction_id = t.transaction_id;
    rf.status = "PROCESSING";
    rf.refund = amount;
    rf.total = t.total;
    t.refunded += amount;
    t.trade_state = "REFUND";
    refunds_[rf.out_refund_no] = rf;
    return rf.out_refund_no;
  }
  // WeChat settles a refund: SUCCESS, CLOSED or ABNORMAL.
  void finish_refund(const std::string& out_refund_no, const std::string& status = "SUCCESS") {
    std::lock_guard<std::mutex> lock(mu_);
    Refund& r = refunds_.at(out_refund_no);
    if (status != "SUCCESS" && status != "PROCESSING" && r.status != "CLOSED" &&
        r.status != "ABNORMAL")
      trades_.at(r.out_trade_no).refunded -= r.refund;
    r.status = status;
  }

  // ---- notifications -------------------------------------------------------------

  // TRANSACTION.SUCCESS for a trade as it stands (mark it paid first).
  RawNotification transaction_notification(const std::string& out_trade_no) const {
    std::lock_guard<std::mutex> lock(mu_);
    const Trade& t = trades_.at(out_trade_no);
    json tx = trade_json(t);
    tx["success_time"] = "2026-01-01T08:00:30+08:00";
    tx["payer"] = {{"openid", t.openid.empty() ? "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" : t.openid}};
    return notification_locked("TRANSACTION.SUCCESS", "支付成功", "transaction", tx);
  }
  // REFUND.SUCCESS / REFUND.ABNORMAL / REFUND.CLOSED, by the refund's status.
  RawNotification refund_notification(const std::string& out_refund_no) const {
    std::lock_guard<std::mutex> lock(mu_);
    const Refund& r = refunds_.at(out_refund_no);
    json rf = {{"mchid", options_.mchid},
               {"out_trade_no", r.out_trade_no},
               {"transaction_id", r.transaction_id},
               {"out_refund_no", r.out_refund_no},
               {"refund_id", r.refund_id},
               {"refund_status", r.status},
               {"user_received_account", "支付用户零钱"},
               {"amount",
                {{"total", r.total},
                 {"refund", r.refund},
                 {"payer_total", r.total},
                 {"payer_refund", r.refund}}}};
    if (r.status == "SUCCESS") rf["success_time"] = "2026-01-01T09:00:00+08:00";
    return notification_locked("REFUND." + r.status, "退款状态变更", "refund", rf);
  }

  // Signs `body` as WeChat signs a callback, with the current key and serial.
  RawNotification signed_notification(const std::string& body) const {
    std::lock_guard<std::mutex> lock(mu_);
    return wechat_signed(body, clock_.now(), next_nonce_locked(), signing_serial_, signing_pem_);
  }

 private:
  static std::string padded(int64_t n, size_t width) {
    std::string s = std::to_string(n);
    return std::string(width > s.size() ? width - s.size() : 0, '0') + s;
  }
  std::string next_nonce_locked() const { return "N" + padded(++nonce_counter_, 31); }

  RawNotification notification_locked(const std::string& event_type, const std::string& summary,
                                      const std::string& original_type,
                                      const json& plaintext) const {
    std::string nonce = "r" + padded(++nonce_counter_, 11);  // 12 bytes
    std::string ct =
        aes_256_gcm_encrypt(options_.apiv3_key, nonce, original_type, plaintext.dump());
    json envelope = {{"id", "EV-" + padded(++nonce_counter_, 20)},
                     {"create_time", "2026-01-01T08:00:31+08:00"},
                     {"resource_type", "encrypt-resource"},
                     {"event_type", event_type},
                     {"summary", summary},
                     {"resource",
                      {{"original_type", original_type},
                       {"algorithm", "AEAD_AES_256_GCM"},
                       {"ciphertext", b64(ct)},
                       {"associated_data", original_type},
                       {"nonce", nonce}}}};
    return wechat_signed(envelope.dump(), clock_.now(), next_nonce_locked(), signing_serial_,
                         signing_pem_);
  }

  json trade_json(const Trade& t) const {
    json tx = {{"appid", options_.appid},
               {"mchid", options_.mchid},
               {"out_trade_no", t.out_trade_no},
               {"trade_type", t.trade_type},
               {"trade_state", t.trade_state},
               {"trade_state_desc", t.trade_state},
               {"bank_type", "OTHERS"},
               {"amount",
                {{"total", t.total},
                 {"payer_total", t.total},
                 {"currency", "CNY"},
                 {"payer_currency", "CNY"}}}};
    if (!t.transaction_id.empty()) tx["transaction_id"] = t.transaction_id;
    return tx;
  }

  // ---- the server side ------------------------------------------------------------

  // ---- the buyer's pages (Options::buyer_pages) ----------------------------------

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

  static Reply html_page(int status, const std::string& main) {
    Reply r;
    r.status = status;
    r.headers["Content-Type"] = "text/html; charset=utf-8";
    r.headers["Cache-Control"] = "no-store";
    r.body =
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>微信支付</title><style>"
        "body{margin:0;font:17px/1.6 sans-serif;background:#ededed;color:#222}"
        "main{max-width:440px;margin:0 auto;padding:24px 16px}"
        ".brand{color:#07c160;font-weight:bold;margin:0 0 16px}"
        "h1{font-size:26px;margin:0 0 12px}"
        "dl{background:#fff;border-radius:8px;padding:12px 16px;margin:0 0 20px}"
        "dt{color:#666;font-size:15px}dd{margin:0 0 8px;word-break:break-all}"
        "button{width:100%;font-size:18px;padding:12px;border:0;border-radius:8px;"
        "background:#07c160;color:#fff}"
        ".note{color:#666;font-size:15px}"
        "</style></head><body><main>" + main + "</main></body></html>";
    return r;
  }

  // The trade an H5 page is for, by its prepay_id; nullopt when unknown.
  std::optional<Trade> h5_trade(const std::string& prepay_id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = h5_prepay_.find(prepay_id);
    if (it == h5_prepay_.end()) return std::nullopt;
    return trades_.at(it->second);
  }

  // GET /cgi-bin/mmpayweb-bin/checkmweb?prepay_id=…&redirect_url=…
  Reply h5_page(const Request& r) {
    auto q = parse_query(r.target.substr(r.target.find('?') + 1));
    std::optional<Trade> t = h5_trade(q["prepay_id"]);
    if (!t) return html_page(404, "<p class=\"brand\">微信支付</p><h1>订单不存在</h1>");
    if (t->trade_state != "NOTPAY")
      return html_page(200, "<p class=\"brand\">微信支付</p><h1>该订单已支付或已关闭</h1>");
    char amount[32];
    std::snprintf(amount, sizeof amount, "¥%lld.%02lld", static_cast<long long>(t->total / 100),
                  static_cast<long long>(t->total % 100));
    return html_page(
        200, "<p class=\"brand\">微信支付 · 测试收银台</p><h1>确认付款 " + std::string(amount) +
                 "</h1><dl><dt>商品</dt><dd>" + html_escape(t->description) +
                 "</dd><dt>商户单号</dt><dd>" + html_escape(t->out_trade_no) +
                 "</dd></dl><form method=\"post\" action=\"/standin/h5/pay\">"
                 "<input type=\"hidden\" name=\"prepay_id\" value=\"" +
                 html_escape(q["prepay_id"]) +
                 "\"><input type=\"hidden\" name=\"redirect_url\" value=\"" +
                 html_escape(q["redirect_url"]) +
                 "\"><button type=\"submit\">确认付款</button></form>"
                 "<p class=\"note\">测试网关：不产生真实扣款。</p>");
  }

  // POST /standin/h5/pay (prepay_id, redirect_url): the buyer pays on the H5 page.
  Reply h5_pay(const Request& r) {
    auto f = parse_query(r.body);
    std::optional<Trade> t = h5_trade(f["prepay_id"]);
    if (!t) return html_page(404, "<p class=\"brand\">微信支付</p><h1>订单不存在</h1>");
    pay_and_notify(t->out_trade_no);
    if (f["redirect_url"].empty())
      return html_page(200, "<p class=\"brand\">微信支付</p><h1>支付成功</h1>");
    Reply reply;
    reply.status = 302;
    reply.headers["Location"] = f["redirect_url"];
    return reply;
  }

  // POST /standin/scan[?out_trade_no=…]: a buyer scans a Native QR code and pays.
  Reply scan(const Request& r) {
    auto q = parse_query(r.target.find('?') == std::string::npos
                             ? r.body
                             : r.target.substr(r.target.find('?') + 1));
    std::string out_trade_no = q["out_trade_no"];
    if (out_trade_no.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = native_order_.rbegin(); it != native_order_.rend(); ++it)
        if (trades_.at(*it).trade_state == "NOTPAY") {
          out_trade_no = *it;
          break;
        }
    }
    std::optional<Trade> t = trade(out_trade_no);
    if (!t || t->trade_state != "NOTPAY")
      return plain(404, json{{"error", "no unpaid trade " + out_trade_no}}.dump());
    Delivery d = pay_and_notify(out_trade_no);
    return plain(200, json{{"out_trade_no", out_trade_no},
                           {"description", t->description},
                           {"total", t->total},
                           {"notify_status", d.status},
                           {"notify_answer", d.body}}
                          .dump());
  }

  Reply handle(const Request& r) {
    if (options_.buyer_pages) {
      // These take the lock themselves (they post to the site).
      if (r.method == "GET" && r.path() == "/cgi-bin/mmpayweb-bin/checkmweb") return h5_page(r);
      if (r.method == "POST" && r.path() == "/standin/h5/pay") return h5_pay(r);
      if (r.method == "POST" && r.path() == "/standin/scan") return scan(r);
    }
    try {
      std::lock_guard<std::mutex> lock(mu_);
      if (mode_ == Mode::kHang) {
        Reply hang;
        hang.hang = true;
        return hang;
      }
      if (mode_ == Mode::kNotHttp) {
        Reply garbage;
        garbage.raw = "this is not HTTP\r\n\r\n";
        return garbage;
      }
      if (r.path() == "/sns/oauth2/access_token") return oauth_token(r);
      if (!request_signed(r))
        return unsigned_answer(401, {{"code", "SIGN_ERROR"}, {"message", "签名错误"}});
      if (mode_ == Mode::kBusinessError)
        return answer(error_status_, {{"code", error_code_}, {"message", error_message_}});
      if (mode_ == Mode::kGarbage) return signed_reply(200, "<html>502 Bad Gateway</html>");
      return route(r);
    } catch (const std::exception& e) {
      return unsigned_answer(500, {{"code", "SYSTEM_ERROR"}, {"message", e.what()}});
    }
  }

  Reply route(const Request& r) {
    const std::string path = r.path();
    const std::string trade_prefix = "/v3/pay/transactions/out-trade-no/";
    const std::string refunds = "/v3/refund/domestic/refunds";
    if (r.method == "POST" && path == "/v3/pay/transactions/native") return place(r, "NATIVE");
    if (r.method == "POST" && path == "/v3/pay/transactions/h5") return place(r, "MWEB");
    if (r.method == "POST" && path == "/v3/pay/transactions/jsapi") return place(r, "JSAPI");
    if (path.rfind(trade_prefix, 0) == 0) {
      std::string rest = path.substr(trade_prefix.size());
      const std::string close_suffix = "/close";
      if (r.method == "POST" && rest.size() > close_suffix.size() &&
          rest.compare(rest.size() - close_suffix.size(), close_suffix.size(), close_suffix) == 0)
        return close(r, rest.substr(0, rest.size() - close_suffix.size()));
      if (r.method == "GET") return query(r, rest);
    }
    if (r.method == "POST" && path == refunds) return create_refund(r);
    if (r.method == "GET" && path.rfind(refunds + "/", 0) == 0)
      return query_refund(path.substr(refunds.size() + 1));
    return answer(404, {{"code", "NOT_FOUND"}, {"message", "no such API: " + path}});
  }

  // WeChat's check of our Authorization header.
  bool request_signed(const Request& r) const {
    const std::string header = r.header("authorization");
    const std::string scheme = "WECHATPAY2-SHA256-RSA2048 ";
    if (header.rfind(scheme, 0) != 0) return false;
    std::map<std::string, std::string> p;
    std::string rest = header.substr(scheme.size());
    size_t pos = 0;
    while (pos < rest.size()) {
      size_t eq = rest.find("=\"", pos);
      if (eq == std::string::npos) return false;
      size_t end = rest.find('"', eq + 2);
      if (end == std::string::npos) return false;
      p[rest.substr(pos, eq - pos)] = rest.substr(eq + 2, end - eq - 2);
      pos = end + 1;
      if (pos < rest.size() && rest[pos] == ',') ++pos;
    }
    if (p["mchid"] != options_.mchid || p["serial_no"] != options_.merchant_serial ||
        p["nonce_str"].empty() || p["signature"].empty())
      return false;
    int64_t ts = 0;
    try {
      ts = std::stoll(p["timestamp"]);
    } catch (const std::exception&) {
      return false;
    }
    if (ts < clock_.now() - 300 || ts > clock_.now() + 300) return false;
    std::string message = r.method + "\n" + r.target + "\n" + p["timestamp"] + "\n" +
                          p["nonce_str"] + "\n" + r.body + "\n";
    std::string sig;
    try {
      sig = unb64(p["signature"]);
    } catch (const std::exception&) {
      return false;
    }
    return rsa_verify(options_.merchant_public_pem, message, sig);
  }

  Reply place(const Request& r, const std::string& trade_type) {
    json b = json::parse(r.body, nullptr, false);
    if (!b.is_object()) return param_error("body is not JSON");
    if (b.value("appid", "") != options_.appid || b.value("mchid", "") != options_.mchid)
      return answer(400, {{"code", "APPID_MCHID_NOT_MATCH"}, {"message", "appid和mch_id不匹配"}});
    Trade t;
    t.trade_type = trade_type;
    t.out_trade_no = b.value("out_trade_no", "");
    t.description = b.value("description", "");
    t.notify_url = b.value("notify_url", "");
    t.time_expire = b.value("time_expire", "");
    if (t.out_trade_no.empty() || t.description.empty() || t.notify_url.empty())
      return param_error("out_trade_no, description and notify_url are required");
    if (!b.contains("amount") || !b["amount"].is_object() || !b["amount"].contains("total") ||
        !b["amount"]["total"].is_number_integer() || b["amount"]["total"].get<int64_t>() <= 0)
      return param_error("amount.total must be a positive integer");
    t.total = b["amount"]["total"].get<int64_t>();
    if (trade_type == "MWEB") {
      const json& scene = b.contains("scene_info") ? b["scene_info"] : json();
      t.client_ip = scene.is_object() ? scene.value("payer_client_ip", "") : "";
      bool wap = scene.is_object() && scene.contains("h5_info") && scene["h5_info"].is_object() &&
                 scene["h5_info"].value("type", "") != "";
      if (t.client_ip.empty() || !wap)
        return param_error("scene_info.payer_client_ip and scene_info.h5_info.type are required");
    }
    if (trade_type == "JSAPI") {
      t.openid =
          b.contains("payer") && b["payer"].is_object() ? b["payer"].value("openid", "") : "";
      if (t.openid.empty()) return param_error("payer.openid is required");
    }
    auto existing = trades_.find(t.out_trade_no);
    if (existing != trades_.end()) {
      if (existing->second.trade_state == "SUCCESS" || existing->second.trade_state == "REFUND")
        return answer(400, {{"code", "ORDERPAID"}, {"message", "该订单已支付"}});
      if (existing->second.trade_state == "CLOSED")
        return answer(400, {{"code", "ORDERCLOSED"}, {"message", "当前订单已关闭"}});
      if (existing->second.total != t.total)
        return answer(400, {{"code", "INVALID_REQUEST"}, {"message", "201 商户订单号重复"}});
    } else {
      trades_[t.out_trade_no] = t;
    }
    std::string prepay_id = "wx" + padded(++counter_, 30);
    if (trade_type == "NATIVE") {
      native_order_.push_back(t.out_trade_no);
      return answer(200, {{"code_url", "weixin://wxpay/bizpayurl?pr=" + t.out_trade_no}});
    }
    if (trade_type == "MWEB") {
      h5_prepay_[prepay_id] = t.out_trade_no;
      std::string host = options_.buyer_pages ? url() : "https://wx.tenpay.com";
      return answer(200, {{"h5_url", host + "/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=" +
                                         prepay_id + "&package=2150917749"}});
    }
    return answer(200, {{"prepay_id", prepay_id}});
  }

  Reply query(const Request& r, const std::string& out_trade_no) {
    if (r.target.find("?mchid=" + options_.mchid) == std::string::npos)
      return param_error("mchid is required in the query");
    auto it = trades_.find(out_trade_no);
    if (it == trades_.end())
      return answer(404, {{"code", "ORDER_NOT_EXIST"}, {"message", "订单不存在"}});
    return answer(200, trade_json(it->second));
  }

  Reply close(const Request& r, const std::string& out_trade_no) {
    json b = json::parse(r.body, nullptr, false);
    if (!b.is_object() || b.value("mchid", "") != options_.mchid)
      return param_error("mchid is required in the body");
    auto it = trades_.find(out_trade_no);
    if (it == trades_.end())
      return answer(404, {{"code", "ORDER_NOT_EXIST"}, {"message", "订单不存在"}});
    if (it->second.trade_state == "SUCCESS" || it->second.trade_state == "REFUND")
      return answer(400, {{"code", "ORDER_PAID"}, {"message", "订单已支付"}});
    it->second.trade_state = "CLOSED";
    return signed_reply(204, "");
  }

  Reply create_refund(const Request& r) {
    json b = json::parse(r.body, nullptr, false);
    if (!b.is_object()) return param_error("body is not JSON");
    std::string out_refund_no = b.value("out_refund_no", "");
    if (out_refund_no.empty()) return param_error("out_refund_no is required");
    if (!b.contains("amount") || !b["amount"].is_object() ||
        !b["amount"].value("refund", json()).is_number_integer() ||
        !b["amount"].value("total", json()).is_number_integer() ||
        b["amount"].value("currency", "") != "CNY")
      return param_error("amount.refund, amount.total and amount.currency are required");
    auto existing = refunds_.find(out_refund_no);
    if (existing != refunds_.end()) return answer(200, refund_json(existing->second));

    Trade* t = nullptr;
    std::string out_trade_no = b.value("out_trade_no", "");
    std::string transaction_id = b.value("transaction_id", "");
    for (auto& [no, trade] : trades_)
      if ((!out_trade_no.empty() && no == out_trade_no) ||
          (!transaction_id.empty() && trade.transaction_id == transaction_id))
        t = &trade;
    if (!t) return answer(404, {{"code", "RESOURCE_NOT_EXISTS"}, {"message", "订单不存在"}});
    if (t->trade_state != "SUCCESS" && t->trade_state != "REFUND")
      return answer(400, {{"code", "INVALID_REQUEST"}, {"message", "订单未支付"}});
    int64_t refund = b["amount"]["refund"].get<int64_t>();
    if (b["amount"]["total"].get<int64_t>() != t->total)
      return param_error("amount.total is not the trade's total");
    if (refund <= 0 || t->refunded + refund > t->total)
      return answer(400,
                    {{"code", "INVALID_REQUEST"}, {"message", "申请退款金额超过订单可退金额"}});

    Refund rf;
    rf.out_refund_no = out_refund_no;
    rf.refund_id = "50300" + padded(++counter_, 27);
    rf.out_trade_no = t->out_trade_no;
    rf.transaction_id = t->transaction_id;
    rf.status = new_refund_status_;
    rf.refund = refund;
    rf.total = t->total;
    rf.reason = b.value("reason", "");
    rf.notify_url = b.value("notify_url", "");
    if (rf.status != "CLOSED" && rf.status != "ABNORMAL") t->refunded += refund;
    t->trade_state = "REFUND";
    refunds_[out_refund_no] = rf;
    return answer(200, refund_json(rf));
  }

  Reply query_refund(const std::string& out_refund_no) {
    auto it = refunds_.find(out_refund_no);
    if (it == refunds_.end())
      return answer(404, {{"code", "RESOURCE_NOT_EXISTS"}, {"message", "退款单不存在"}});
    return answer(200, refund_json(it->second));
  }

  json refund_json(const Refund& r) const {
    return {{"refund_id", r.refund_id},
            {"out_refund_no", r.out_refund_no},
            {"transaction_id", r.transaction_id},
            {"out_trade_no", r.out_trade_no},
            {"channel", "ORIGINAL"},
            {"user_received_account", "支付用户零钱"},
            {"create_time", "2026-01-01T09:00:00+08:00"},
            {"status", r.status},
            {"funds_account", "AVAILABLE"},
            {"amount",
             {{"total", r.total},
              {"refund", r.refund},
              {"payer_total", r.total},
              {"payer_refund", r.refund},
              {"settlement_refund", r.refund},
              {"settlement_total", r.total},
              {"discount_refund", 0},
              {"currency", "CNY"}}}};
  }

  // The official-account API: unsigned plain JSON, errors as errcode/errmsg.
  Reply oauth_token(const Request& r) {
    if (mode_ == Mode::kGarbage) return plain(200, "<html>oops</html>");
    auto q = parse_query(r.target.substr(r.target.find('?') + 1));
    json out;
    if (q["appid"] != options_.appid || q["grant_type"] != "authorization_code")
      out = {{"errcode", 40013}, {"errmsg", "invalid appid"}};
    else if (options_.app_secret.empty() || q["secret"] != options_.app_secret)
      out = {{"errcode", 40125}, {"errmsg", "invalid appsecret"}};
    else if (!oauth_codes_.count(q["code"]))
      out = {{"errcode", 40029}, {"errmsg", "invalid code"}};
    else {
      out = {{"access_token", "ACCESS-" + q["code"]},
             {"expires_in", 7200},
             {"refresh_token", "REFRESH-" + q["code"]},
             {"openid", oauth_codes_[q["code"]]},
             {"scope", "snsapi_base"}};
      oauth_codes_.erase(q["code"]);  // a code is good once
    }
    return plain(200, out.dump());
  }

  static Reply plain(int status, std::string body) {
    Reply reply;
    reply.status = status;
    reply.headers["Content-Type"] = "application/json; encoding=utf-8";
    reply.body = std::move(body);
    return reply;
  }

  Reply param_error(const std::string& why) {
    return answer(400, {{"code", "PARAM_ERROR"}, {"message", why}});
  }

  Reply answer(int status, const json& body) { return signed_reply(status, body.dump()); }

  Reply unsigned_answer(int status, const json& body) { return plain(status, body.dump()); }

  // An answer signed as the current mode says.
  Reply signed_reply(int status, const std::string& body) {
    Reply reply;
    reply.status = status;
    reply.body = body;
    reply.headers["Content-Type"] = "application/json";
    reply.headers["Request-ID"] = "08F78BB5AF0610D302C4C9ECC" + padded(++counter_, 9);
    if (mode_ == Mode::kNoSignature) return reply;
    int64_t ts = clock_.now() - (mode_ == Mode::kStaleSignature ? 3600 : 0);
    std::string signed_body = mode_ == Mode::kBadSignature ? body + " " : body;
    RawNotification n =
        wechat_signed(signed_body, ts, next_nonce_locked(), signing_serial_, signing_pem_);
    for (const char* h :
         {"wechatpay-timestamp", "wechatpay-nonce", "wechatpay-serial", "wechatpay-signature"})
      reply.headers[h] = n.headers[h];
    return reply;
  }

  const Options options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  Mode mode_ = Mode::kSuccess;
  int error_status_ = 400;
  std::string error_code_ = "PARAM_ERROR", error_message_ = "参数错误";
  std::string signing_serial_, signing_pem_;
  std::string new_refund_status_ = "PROCESSING";
  std::map<std::string, Trade> trades_;
  std::map<std::string, Refund> refunds_;
  std::map<std::string, std::string> oauth_codes_;
  std::map<std::string, std::string> h5_prepay_;  // prepay_id -> out_trade_no
  std::vector<std::string> native_order_;         // Native orders, oldest first
  std::vector<Delivery> deliveries_;
  int64_t counter_ = 0;
  mutable int64_t nonce_counter_ = 0;
  // Last: its thread calls handle(), so it starts after and stops before the
  // state above.
  paidoc::testing::HttpStandin server_;
};

}  // namespace paidoc::commerce::fake_gateway
