// Errors at the edge: the one mapping from paidoc::Code to HTTP status, and
// the error pages / JSON bodies. Messages shown are ours; request content is
// never echoed, and store messages of 5xx errors are only logged.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

#include "web/site.h"

namespace paidoc::web {

int http_status(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kNotFound:
      return 404;
    case Code::kInvalidArgument:
      return 400;
    case Code::kForbidden:
      return 403;
    case Code::kPaymentRequired:
      return 402;
    case Code::kConflict:
    case Code::kFailedPrecondition:
      return 409;
    case Code::kUnavailable:
      return 503;
    case Code::kInternal:
      return 500;
    case Code::kUnauthenticated:
      return 401;
    case Code::kTooManyRequests:
      return 429;
  }
  return 500;
}

namespace {

struct PageText {
  const char* heading;
  const char* text;
};

PageText page_text(Code code) {
  switch (code) {
    case Code::kNotFound:
      return {"页面不存在", "您要找的页面不存在，可能已被删除或链接有误。"};
    case Code::kInvalidArgument:
      return {"请求有误", "链接或参数的格式不正确，请检查后重试。"};
    case Code::kForbidden:
      return {"没有权限", "您没有查看此页面的权限。"};
    case Code::kPaymentRequired:
      return {"需要购买", "此内容需要购买后才能查看。"};
    case Code::kConflict:
    case Code::kFailedPrecondition:
      return {"操作冲突", "请求与当前状态冲突，请刷新后重试。"};
    case Code::kUnavailable:
      return {"服务暂时不可用", "服务器正忙或正在维护，请稍后再试。"};
    case Code::kUnauthenticated:
      return {"请先登录", "此操作需要登录后进行。"};
    case Code::kTooManyRequests:
      return {"操作过于频繁", "尝试次数过多，请稍后再试。"};
    case Code::kOk:
    case Code::kInternal:
      break;
  }
  return {"服务器内部错误", "服务器出了点问题，请稍后再试。"};
}

}  // namespace

Response Site::error(const Request& req, Code code, std::string_view message) {
  int status = http_status(code);
  Response r;
  if (req.is_api()) {
    r = json(status, {{"error", {{"code", code_name(code)}, {"message", message}}}});
  } else {
    PageText t = page_text(code);
    nlohmann::json ctx = page_context(t.heading);
    ctx["heading"] = t.heading;
    ctx["text"] = t.text;
    ctx["home_link"] = true;
    r = html(req, status, "message.html", std::move(ctx));
  }
  // Unavailable is temporary (a store past its busy timeout, a gateway
  // down): tell clients and proxies when to come back.
  if (code == Code::kUnavailable)
    r.add_header("Retry-After", std::to_string(kBusyRetryAfterSeconds));
  return r;
}

Response Site::error(const Request& req, const Status& status) {
  switch (status.code()) {
    case Code::kUnauthenticated:
      return error(req, status.code(), "unauthenticated");
    case Code::kTooManyRequests: {
      Response r = error(req, status.code(), "too many requests");
      r.add_header("Retry-After", std::to_string(std::max<int64_t>(1, status.retry_after())));
      return r;
    }
    case Code::kNotFound:
      return error(req, status.code(), "not found");
    case Code::kInvalidArgument:
      return error(req, status.code(), "invalid argument");
    case Code::kForbidden:
      return error(req, status.code(), "forbidden");
    case Code::kPaymentRequired:
      return error(req, status.code(), "payment required");
    case Code::kConflict:
      return error(req, status.code(), "conflict");
    case Code::kFailedPrecondition:
      return error(req, status.code(), "failed precondition");
    default:
      spdlog::error("{} {}: {}", method_name(req.method), req.path, status.to_string());
      return error(req, status.code(),
                   status.code() == Code::kUnavailable ? "service unavailable" : "internal error");
  }
}

Response Site::service_error(const Request& req, const Status& status,
                             std::pair<std::string, std::string> link) {
  Code code = status.code();
  bool shown = (code == Code::kPaymentRequired || code == Code::kConflict ||
                code == Code::kInvalidArgument || code == Code::kFailedPrecondition) &&
               !status.message().empty();
  if (!shown) return error(req, status);
  if (req.is_api()) return error(req, code, status.message());
  PageText t = page_text(code);
  nlohmann::json ctx = page_context(t.heading);
  ctx["heading"] = t.heading;
  ctx["text"] = status.message();
  if (!link.first.empty()) ctx["link"] = {{"url", link.first}, {"label", link.second}};
  ctx["home_link"] = link.first.empty();
  return html(req, http_status(code), "message.html", std::move(ctx));
}

Response Site::not_found(const Request& req) {
  return error(req, Code::kNotFound, "no such resource");
}

Response Site::method_not_allowed(const Request& req, std::string_view allow) {
  Response r;
  if (req.is_api()) {
    r = json(405, {{"error", {{"code", "method_not_allowed"}, {"message", "method not allowed"}}}});
  } else {
    nlohmann::json ctx = page_context("不支持的请求方法");
    ctx["heading"] = "不支持的请求方法";
    ctx["text"] = "此地址不支持该请求方法。";
    ctx["home_link"] = true;
    r = html(req, 405, "message.html", std::move(ctx));
  }
  r.add_header("Allow", allow);
  return r;
}

Response Site::unsupported_media_type(const Request& req) {
  if (req.is_api())
    return json(415, {{"error",
                       {{"code", "unsupported_media_type"},
                        {"message", "unsupported Content-Type for this request"}}}});
  nlohmann::json ctx = page_context("不支持的内容类型");
  ctx["heading"] = "不支持的内容类型";
  ctx["text"] = "请求的内容格式不受支持，请通过页面上的表单提交。";
  ctx["home_link"] = true;
  return html(req, 415, "message.html", std::move(ctx));
}

Response Site::csrf_failed(const Request& req) {
  if (req.is_api())
    return json(403, {{"error",
                       {{"code", "forbidden"},
                        {"message", "cross-site request check failed: send X-CSRF-Token"}}}});
  nlohmann::json ctx = page_context("请求已失效");
  ctx["heading"] = "请求已失效";
  ctx["text"] = "页面已过期或请求来源不明，操作没有执行。请返回上一页，刷新后重试。";
  ctx["home_link"] = true;
  return html(req, 403, "message.html", std::move(ctx));
}

}  // namespace paidoc::web
