// WeChat JSAPI payment: the 确认支付 button on /orders/{id}/wechat inside
// WeChat's browser. The signed parameters come from the page's data-*
// attributes (made by the server); this file only hands them to
// WeixinJSBridge and then goes to the order page, which shows the result.
(function () {
  'use strict';
  var box = document.getElementById('wxpay');
  var button = document.getElementById('wxpay-button');
  var status = document.getElementById('wxpay-status');
  if (!box || !button) return;

  function say(text) {
    if (status) status.textContent = text;
  }

  function params() {
    return {
      appId: box.getAttribute('data-app-id'),
      timeStamp: box.getAttribute('data-time-stamp'),
      nonceStr: box.getAttribute('data-nonce-str'),
      package: box.getAttribute('data-package'),
      signType: box.getAttribute('data-sign-type'),
      paySign: box.getAttribute('data-pay-sign')
    };
  }

  // Only a local path: the order page.
  function done() {
    var target = box.getAttribute('data-done') || '/';
    if (target.charAt(0) !== '/' || target.charAt(1) === '/') target = '/';
    window.location.href = target;
  }

  function pay() {
    if (typeof window.WeixinJSBridge === 'undefined') {
      say('未检测到微信支付环境，请在微信中打开本页，或返回订单选择其他支付方式。');
      return;
    }
    button.disabled = true;
    say('正在调起微信支付…');
    window.WeixinJSBridge.invoke('getBrandWCPayRequest', params(), function (res) {
      var msg = res && res.err_msg ? String(res.err_msg) : '';
      if (msg === 'get_brand_wcpay_request:ok') {
        say('支付完成，正在确认支付结果…');
        done();
      } else if (msg === 'get_brand_wcpay_request:cancel') {
        button.disabled = false;
        say('您已取消支付，可以再次点击“确认支付”。');
      } else {
        button.disabled = false;
        say('支付未完成，请稍后再试，或返回订单选择其他支付方式。');
      }
    });
  }

  button.addEventListener('click', pay);
})();
