// A payment provider for the web tests that plays Alipay or WeChat Pay
// without a gateway: it serves the channels it is told to, answers each
// start as that product would (Alipay page/wap redirect; WeChat Native
// code_url, H5 redirect, JSAPI parameters), runs the OAuth step for one
// known code, and records every order it was asked to start. Its
// notifications are never valid (payments in these tests arrive through
// the sandbox). Header-only, for tests/web.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "commerce/provider.h"
#include "web/util.h"

namespace paidoc::web::testing {

inline constexpr const char* kFakeOpenid = "oFakeOpenid_4x7Q";
inline constexpr const char* kFakeGoodCode = "code-from-wechat-81";
inline constexpr const char* kFakeH5Base = "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb";
inline constexpr const char* kFakeOauthBase = "https://open.weixin.qq.com/connect/oauth2/authorize";

class FakeProvider : public commerce::PaymentProvider {
 public:
  // name: "alipay" or "wechat". channels: what supports() admits besides
  // kDesktop.
  FakeProvider(std::string name, std::set<commerce::Channel> channels)
      : name_(std::move(name)), channels_(std::move(channels)) {
    channels_.insert(commerce::Channel::kDesktop);
  }

  std::string name() const override { return name_; }
  bool supports(commerce::Channel c) const override { return channels_.count(c) > 0; }

  Result<commerce::PaymentStart> start(const commerce::PaymentOrder& o) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      started_.push_back(o);
    }
    commerce::PaymentStart s;
    if (name_ == "alipay") {
      s.redirect_url = std::string("https://openapi.alipay.com/gateway.do?method=alipay.trade.") +
                       (o.channel == commerce::Channel::kPhone ? "wap.pay" : "page.pay") +
                       "&out_trade_no=" + o.out_trade_no +
                       "&return_url=" + percent_encode(o.return_url);
      return s;
    }
    switch (o.channel) {
      case commerce::Channel::kDesktop:
        s.code_url = "weixin://wxpay/bizpayurl?pr=Fake" + o.out_trade_no.substr(0, 8);
        break;
      case commerce::Channel::kPhone:
        s.redirect_url = std::string(kFakeH5Base) + "?prepay_id=wx_h5_" + o.out_trade_no +
                         "&package=1037687096&redirect_url=" + percent_encode(o.return_url);
        break;
      case commerce::Channel::kWechatBrowser:
        if (o.openid.empty()) return Status::invalid("JSAPI needs the payer's openid");
        s.jsapi = {{"appId", "wxFakeApp0001"},
                   {"timeStamp", "1765000000"},
                   {"nonceStr", "N0nce5tr"},
                   {"package", "prepay_id=wx_jsapi_" + o.out_trade_no},
                   {"signType", "RSA"},
                   {"paySign", "c2lnbmVk+/="}};
        break;
    }
    return s;
  }

  Result<commerce::Notification> verify(const commerce::RawNotification&) const override {
    return Status::forbidden("fake provider: notifications are never valid");
  }
  std::string success_body() const override { return "success"; }
  std::string failure_body() const override { return "failure"; }
  bool can_refund() const override { return true; }

  Result<std::string> oauth_url(const std::string& redirect_uri,
                                const std::string& state) const override {
    if (name_ != "wechat") return PaymentProvider::oauth_url(redirect_uri, state);
    return std::string(kFakeOauthBase) + "?appid=wxFakeApp0001&redirect_uri=" +
           percent_encode(redirect_uri) + "&response_type=code&scope=snsapi_base&state=" + state +
           "#wechat_redirect";
  }
  Result<std::string> openid(const std::string& code) override {
    if (name_ != "wechat") return PaymentProvider::openid(code);
    {
      std::lock_guard<std::mutex> lock(mu_);
      codes_.push_back(code);
    }
    if (code != kFakeGoodCode) return Status::invalid("wechat: invalid code (40029)");
    return std::string(kFakeOpenid);
  }

  std::vector<commerce::PaymentOrder> started() const {
    std::lock_guard<std::mutex> lock(mu_);
    return started_;
  }
  std::vector<std::string> codes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return codes_;
  }

 private:
  std::string name_;
  std::set<commerce::Channel> channels_;
  mutable std::mutex mu_;
  std::vector<commerce::PaymentOrder> started_;
  std::vector<std::string> codes_;
};

}  // namespace paidoc::web::testing
