// How orders, plans and wallets look at the edge: zh-CN labels for pages,
// the order JSON of the API, and the commerce part of /me. Internal to
// src/web.
//
// Thread-safety: pure functions, or calls on the (thread-safe) Commerce.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commerce/commerce.h"
#include "common/status.h"

namespace paidoc::web {

// 待支付 / 已支付 / 已退款 / 已关闭
const char* status_label(commerce::OrderStatus s);
// 文档 / 会员 / 充值
const char* kind_label(commerce::OrderKind k);
// 钱包余额 / 支付宝 / 微信支付 / 沙箱支付; "" for an unknown name.
const char* method_label(std::string_view method_name);

// "¥9.90"
std::string yuan(Fen amount);

// Where an order leads once paid: the document, or /me.
std::string order_target(const commerce::Order& o);

// The API's order object (a promise to clients): id, out_trade_no, kind,
// subject, amount_fen, status, created_at, expires_at, paid_at (RFC 3339
// UTC, null until paid), paid_with (null until paid), refunded_at (null
// unless refunded), document_id (document orders), plan (plan orders).
nlohmann::json order_json(const commerce::Order& o);

// A page's view of one order (labels, amounts, dates, links).
nlohmann::json order_context(const commerce::Order& o);

// Newest first.
void sort_newest_first(std::vector<commerce::Order>* orders);

}  // namespace paidoc::web
