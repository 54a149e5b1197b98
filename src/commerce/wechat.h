// WeChat Pay API v3 (make_wechat in provider.h): what it calls.
//
// Every call is signed with the merchant key (Authorization
// WECHATPAY2-SHA256-RSA2048), sent through WechatConfig::transport (HTTPS by
// default) to {api_base}{path}, and its answer is believed only when it is
// signed by a key in WechatConfig::platform_keys under the Wechatpay-Serial
// it names (a platform certificate, several during a rotation, or the WeChat
// Pay public key "PUB_KEY_ID_…"), within max_clock_skew:
//   start()         Native / H5 / JSAPI order, by PaymentOrder::channel
//   query()         GET  {kWechatTradePath}{out_trade_no}?mchid=…
//   close()         POST {kWechatTradePath}{out_trade_no}/close
//   refund()        POST {kWechatRefundsPath}
//   query_refund()  GET  {kWechatRefundsPath}/{out_refund_no}
// The OAuth step of JSAPI (oauth_url(), openid()) talks to WeChat's
// official-account API at oauth_base / sns_api_base: unsigned plain JSON.
// wechat.cc's header comment gives each request and answer.
//
// Thread-safety: constants only.
#pragma once

namespace paidoc::commerce {

inline constexpr char kWechatNativePath[] = "/v3/pay/transactions/native";
inline constexpr char kWechatH5Path[] = "/v3/pay/transactions/h5";
inline constexpr char kWechatJsapiPath[] = "/v3/pay/transactions/jsapi";
inline constexpr char kWechatTradePath[] = "/v3/pay/transactions/out-trade-no/";
inline constexpr char kWechatRefundsPath[] = "/v3/refund/domestic/refunds";

}  // namespace paidoc::commerce
