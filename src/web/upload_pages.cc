// The console's upload page (/admin/upload): several .txt / .md / .docx
// files at once, each imported through Library::upload_bytes with the rules
// and messages of `paidoc import`, and a summary per file.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "library/library.h"
#include "sources/sources.h"
#include "web/handlers.h"
#include "web/multipart.h"
#include "web/site.h"
#include "web/util.h"

namespace paidoc::web::handlers {

namespace {

constexpr const char* kDefaultPrice = "5.00";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

size_t utf8_chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The form as typed (kept when it is shown again with an error).
struct UploadForm {
  std::string price_yuan = kDefaultPrice;
  std::string category;
  bool draft = false;  // 保存为草稿: readers see nothing until it is published
};

Response render(Site& site, const Request& req, int status, const UploadForm& form,
                std::string_view error, nlohmann::json summary = nullptr) {
  nlohmann::json ctx = site.page_context(summary.is_null() ? "上传文档" : "上传结果");
  ctx["console_section"] = "upload";
  ctx["price_yuan"] = form.price_yuan;
  ctx["max_price"] = site.library().max_price().plain_yuan_string();
  ctx["category"] = form.category;
  ctx["draft"] = form.draft;
  ctx["max_files"] = multipart::Limits{}.max_files;
  ctx["max_mib"] = kUploadBodyLimit >> 20;
  if (!error.empty()) ctx["error"] = std::string(error);
  nlohmann::json cats = nlohmann::json::array();
  if (Result<std::vector<store::Category>> all = site.library().categories(); all.ok())
    for (const store::Category& c : *all) cats.push_back({{"name", c.name}});
  ctx["categories"] = std::move(cats);
  if (!summary.is_null()) {
    ctx["summary"] = true;
    for (auto& [k, v] : summary.items()) ctx[k] = v;
  }
  Response r = site.html(req, status, "admin_upload.html", std::move(ctx));
  r.add_header("X-Frame-Options", "DENY");
  return r;
}

const char* outcome_label(store::PutOutcome o) {
  switch (o) {
    case store::PutOutcome::kCreated: return "已导入";
    case store::PutOutcome::kUpdated: return "已更新";
    case store::PutOutcome::kUnchanged: return "未变化";
  }
  return "已导入";
}
const char* outcome_kind(store::PutOutcome o) {
  switch (o) {
    case store::PutOutcome::kCreated: return "created";
    case store::PutOutcome::kUpdated: return "updated";
    case store::PutOutcome::kUnchanged: return "unchanged";
  }
  return "created";
}

}  // namespace

Response admin_upload(Site& site, const Request& req, const Params&) {
  return render(site, req, 200, UploadForm{}, "");
}

Response admin_upload_post(Site& site, const Request& req, const Params&) {
  const multipart::Body& body = *req.multipart;
  UploadForm form;
  form.price_yuan = std::string(trim(body.field("price_yuan")));
  form.category = std::string(trim(body.field("category")));
  form.draft = body.field("draft") == "1";

  Result<Fen> price = site.library().parse_price(form.price_yuan);
  if (!price.ok())
    return render(site, req, 400, form, price.status().message() + "。请重新选择文件后上传。");
  Result<std::string> category = library::Library::parse_category(form.category);
  if (!category.ok())
    return render(site, req, 400, form,
                  category.status().message() + "。请重新选择文件后上传。");
  form.category = *category;

  // A file input with nothing chosen sends one part with an empty file name.
  std::vector<const multipart::Part*> files;
  for (const multipart::Part* p : body.files("files"))
    if (!p->filename->empty() || !p->data.empty()) files.push_back(p);
  if (files.empty()) return render(site, req, 400, form, "请选择至少一个文件。");

  library::ImportOptions opts;
  opts.price = *price;
  opts.category = form.category;
  opts.actor = site.actor(req);
  opts.status = form.draft ? store::DocStatus::kDraft : store::DocStatus::kPublished;
  const int64_t publisher = req.caller->user_id();

  nlohmann::json results = nlohmann::json::array();
  int created = 0, updated = 0, unchanged = 0, failed = 0;
  for (const multipart::Part* p : files) {
    const std::string& name = *p->filename;
    nlohmann::json row = {{"name", name}};
    std::string failure;
    if (!sources::is_source_name(name)) {
      failure = name + ": 只支持 .txt、.md、.markdown、.docx 文件";
    } else if (p->data.empty()) {
      failure = name + ": 文件是空的";
    } else {
      Result<library::ImportLine> line = site.library().upload_bytes(p->data, name, publisher, opts);
      if (!line.ok()) {
        failure = name + ": " + line.status().message();
      } else if (!line->ok) {
        failure = line->error;
      } else {
        row["ok"] = true;
        row["outcome"] = outcome_label(line->outcome);
        row["kind"] = outcome_kind(line->outcome);
        row["title"] = line->title;
        row["view_url"] = fmt::format("/d/{}", line->id);
        row["edit_url"] = fmt::format("/admin/documents/{}/edit", line->id);
        // A new document takes the form's status; an updated one keeps its own.
        row["draft"] = form.draft && line->outcome == store::PutOutcome::kCreated;
        switch (line->outcome) {
          case store::PutOutcome::kCreated: ++created; break;
          case store::PutOutcome::kUpdated: ++updated; break;
          case store::PutOutcome::kUnchanged: ++unchanged; break;
        }
      }
    }
    if (!failure.empty()) {
      row["ok"] = false;
      row["outcome"] = "失败";
      row["kind"] = "failed";
      row["error"] = failure;
      ++failed;
    }
    results.push_back(std::move(row));
  }
  nlohmann::json summary = {{"results", std::move(results)},
                            {"total", files.size()},
                            {"created", created},
                            {"updated", updated},
                            {"unchanged", unchanged},
                            {"failed", failed}};
  return render(site, req, 200, form, "", std::move(summary));
}

}  // namespace paidoc::web::handlers
