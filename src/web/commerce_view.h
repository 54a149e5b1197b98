// How orders, plans and wallets look at the edge: zh-CN labels for pages,
// the order JSON of the API, and the commerce part of /me. Internal to
// src/web.
//
// Thread-safety: pure functions, or calls on the (thread-safe) Commerce.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commerce/commerce.h"
#include "common/status.h"

namespace paidoc::web {

// 待支付 / 已支付 / 已退款 / 已关闭 / 已转入钱包
const char* status_label(commerce::OrderStatus s);
// 文档 / 会员 / 充值
const char* kind_label(commerce::OrderKind k);
// 钱包余额 / 支付宝 / 微信支付 / 沙箱支付; "" for an unknown name.
const char* method_label(std::string_view method_name);

// "¥9.90"
std::string yuan(Fen amount);

// Where an order leads once paid: the document, or /me.
std::string order_target(const commerce::Order& o);

// The gateway methods that are on (a provider configured), in the order
// pages offer them: alipay, wechat, sandbox. Each {"method", "label"}.
nlohmann::json gateway_methods(const commerce::Commerce& shop);
// What the paywall card names as the ways to pay: the gateways that are on
// and the wallet, "支付宝 · 微信支付 · 钱包余额" (沙箱支付 with the sandbox).
std::string pay_methods_line(const commerce::Commerce& shop);

// Where a reader lands once an order is paid, as a same-site path with a
// ?msg= flash: a document order opens the document ("/d/N?msg=paid"); a
// plan goes back to `back` (else /vip) saying VIP is on; a top-up goes back
// to `back` saying the money arrived. nullopt: stay on the order page (an
// unpaid or credited order, a top-up without `back`). `back` must be a
// same-site path (safe_local_path).
std::optional<std::string> after_payment(const commerce::Order& o, std::string_view back);

// The API's order object (a promise to clients): id, out_trade_no, kind,
// subject, amount_fen, status, created_at, expires_at, paid_at (RFC 3339
// UTC, null until paid), paid_with (null until paid), refunded_at (null
// unless refunded), document_id (document orders), plan (plan orders).
nlohmann::json order_json(const commerce::Order& o);

// A page's view of one order (labels, amounts, dates, links).
nlohmann::json order_context(const commerce::Order& o);

// Where the buyer pays from, from the request's User-Agent (the one place
// that decides it):
//  - "MicroMessenger" (WeChat's own browser, phone or PC): kWechatBrowser;
//  - "Mobile", "Android", "iPhone", "iPod", "iPad", "HarmonyOS": kPhone.
//    Tablets count as phones: there is no second screen to scan a QR code
//    from, and Alipay WAP / WeChat H5 serve them. (iPadOS 13+ sends a
//    desktop Safari User-Agent and gets the desktop products.)
//  - anything else, an empty User-Agent included: kDesktop.
// Tokens are matched ignoring ASCII case.
commerce::Channel channel_from_user_agent(std::string_view user_agent);
// "desktop" | "phone" | "wechat_browser" (the API's "channel" field).
const char* channel_name(commerce::Channel c);
std::optional<commerce::Channel> parse_channel(std::string_view s);

// 处理中 / 已退款 / 失败
const char* refund_state_label(commerce::RefundState s);
// A tracked refund as pages show it: state (and its label, with the
// gateway's message when it failed), amount, refund number, times, whether
// it was made at the gateway.
nlohmann::json refund_context(const commerce::Refund& r);

// Newest first.
void sort_newest_first(std::vector<commerce::Order>* orders);

}  // namespace paidoc::web
