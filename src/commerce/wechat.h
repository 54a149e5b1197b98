// WeChat Pay API v3, Native payments: the part outside PaymentProvider.
//
// make_wechat()'s start() builds the signed request and sends it through
// WechatConfig::post (HTTPS by default):
//   POST {WechatConfig::api_base}{kWechatNativePath}
//   Content-Type: application/json, Accept: application/json
//   Authorization: {PaymentStart::api_authorization}
//   body: {PaymentStart::api_request_body}   (byte for byte: it is signed)
// then reads the QR code's content from the answer with
// wechat_code_url_from_response().
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "common/status.h"

namespace paidoc::commerce {

inline constexpr char kWechatNativePath[] = "/v3/pay/transactions/native";

// Reads code_url from the answer to a Native order ({"code_url":"weixin://…"}).
// A WeChat error answer ({"code":"PARAM_ERROR","message":"…"}) or anything
// unreadable is kUnavailable, with WeChat's code and message when present.
Result<std::string> wechat_code_url_from_response(const std::string& response_body);

}  // namespace paidoc::commerce
