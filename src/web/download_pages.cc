// Downloads. Two steps, both thin over downloads::Service:
//   GET /d/{id}/download?format=      (page button) and
//   GET /api/v1/documents/{id}/download?format=   (API)
//     -> 302 to a link signed for the signed-in caller (the API also
//        answers {url, expires_at} in the body);
//   GET /download/{id}?format=&exp=&sig=
//     -> the file, for that same caller only.
// A caller without access gets 403 and no byte of the file, anywhere.
#include <fmt/format.h>

#include "web/handlers.h"
#include "web/util.h"

namespace paidoc::web::handlers {

namespace {

// RFC 6266 / 5987: an ASCII fallback plus the UTF-8 name.
std::string content_disposition(const std::string& utf8_name, const std::string& ext) {
  return fmt::format("attachment; filename=\"document{}\"; filename*=UTF-8''{}", ext,
                     percent_encode(utf8_name));
}

}  // namespace

Response download_link(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "document id must be a positive integer");
  std::string format = query_param(req.query, "format").value_or("docx");
  if (!req.caller) {
    if (req.is_api()) {
      return site.error(req, Code::kUnauthenticated, "请先登录后下载");
    }
    return Site::redirect("/login?next=" + percent_encode(fmt::format("/d/{}", *id)));
  }
  Result<gate::Viewer> viewer = site.viewer(req);
  if (!viewer.ok()) return site.error(req, viewer.status());
  Result<downloads::Link> link = site.downloads().link(*id, format, *viewer);
  if (!link.ok()) {
    const Code c = link.status().code();
    if (c == Code::kForbidden || c == Code::kInvalidArgument || c == Code::kUnauthenticated) {
      return site.error(req, c, link.status().message());
    }
    return site.error(req, link.status());
  }
  Response res = site.json(302, {{"url", site.config().base_url + link->url},
                                 {"expires_at", rfc3339_utc(link->expires_at)}});
  res.add_header("Location", link->url);
  return res;
}

Response download_file(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "document id must be a positive integer");
  if (req.method == Method::kHead) {
    // Every download is recorded and counted; a probe (a download manager,
    // a link preview) must not spend the reader's daily limit.
    Response r;
    r.status = 405;
    r.add_header("Allow", "GET");
    r.add_header("Cache-Control", "private, no-store");
    return r;
  }
  if (!req.caller) return site.error(req, Code::kUnauthenticated, "请先登录：下载链接只对生成它的账号有效");
  const std::string format = query_param(req.query, "format").value_or("");
  const std::string sig = query_param(req.query, "sig").value_or("");
  std::optional<int64_t> exp = parse_id(query_param(req.query, "exp").value_or(""));
  if (!exp || sig.empty()) return site.error(req, Code::kForbidden, "下载链接不完整");
  Result<gate::Viewer> viewer = site.viewer(req);
  if (!viewer.ok()) return site.error(req, viewer.status());
  Result<downloads::File> file = site.downloads().fetch(*id, format, *exp, sig, *viewer);
  if (!file.ok()) {
    const Code c = file.status().code();
    if (c == Code::kForbidden || c == Code::kInvalidArgument || c == Code::kUnauthenticated ||
        c == Code::kTooManyRequests) {
      Response r = site.error(req, c, file.status().message());
      if (c == Code::kTooManyRequests && file.status().retry_after() > 0) {
        r.add_header("Retry-After", std::to_string(file.status().retry_after()));
      }
      return r;
    }
    return site.error(req, file.status());
  }
  Response res;
  res.status = 200;
  res.add_header("Content-Type", file->content_type);
  res.add_header("Content-Disposition",
                 content_disposition(file->file_name, "." + format));
  res.add_header("Cache-Control", "private, no-store");
  res.add_header("X-Content-Type-Options", "nosniff");
  res.body = std::move(file->bytes);
  return res;
}

}  // namespace paidoc::web::handlers
