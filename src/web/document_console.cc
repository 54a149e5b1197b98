// The console's documents (/admin/documents): the list with its filters and
// bulk actions, the editor (new and existing documents) with its preview,
// and the revisions with their restore buttons. Editors and admins
// (AuthRule::kPublish); who may change which document is decided by
// library::Library::may_edit alone, asked by every call below through the
// library. Changes are audited by the store, in the change's transaction,
// with the actor from Site::actor.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "library/library.h"
#include "web/handlers.h"
#include "web/site.h"
#include "web/util.h"
#include "web/view_blocks.h"

namespace paidoc::web::handlers {

namespace {

constexpr int64_t kPerPage = 30;


// Who acts, as the library's permission rule sees them.
gate::Viewer editor_of(const Request& req) {
  gate::Viewer v;
  v.user_id = req.caller->user_id();
  v.role = req.caller->account().role;
  return v;
}

bool is_admin(const Request& req) { return req.caller->account().role == gate::Role::kAdmin; }

const char* status_label(store::DocStatus s) {
  return s == store::DocStatus::kDraft ? "草稿" : "已发布";
}

Response deny(Site& site, const Request& req) {
  return site.error(req, Code::kForbidden, "没有权限");
}

Response framed(Response r) {
  r.add_header("X-Frame-Options", "DENY");
  return r;
}

// A failed library call in the console: 403 "没有权限", 404, or the
// site's error page.
Response console_error(Site& site, const Request& req, const Status& s) {
  if (s.code() == Code::kForbidden) return deny(site, req);
  if (s.code() == Code::kNotFound) return site.not_found(req);
  if (s.code() == Code::kInvalidArgument || s.code() == Code::kConflict)
    return site.service_error(req, s, {"/admin/documents", "返回文档列表"});
  return site.error(req, s);
}

std::string qparam(const Request& req, std::string_view name) {
  std::optional<std::string> v = query_param(req.query, name);
  return v ? *v : std::string();
}

nlohmann::json categories_json(Site& site) {
  nlohmann::json out = nlohmann::json::array();
  Result<std::vector<store::Category>> cats = site.library().categories();
  if (cats.ok())
    for (const auto& c : *cats) out.push_back(c.name);
  return out;
}

}  // namespace

// GET /admin/documents?q=&category=&price=&status=&publisher=&page=
Response admin_documents(Site& site, const Request& req, const Params&) {
  std::optional<int64_t> page = parse_page(req.query);
  if (!page) return site.error(req, Code::kInvalidArgument, "页码应为正整数");
  const bool admin = is_admin(req);
  store::ListQuery q;
  q.status.reset();
  q.offset = (*page - 1) * kPerPage;
  q.limit = kPerPage;
  std::string text = qparam(req, "q");
  std::string category = qparam(req, "category");
  std::string price = qparam(req, "price");
  std::string status = qparam(req, "status");
  std::string publisher = admin ? qparam(req, "publisher") : std::string();
  std::string error;
  q.title_contains = text;
  q.category = category;
  if (price == "free") q.price = store::ListPrice::kFree;
  else if (price == "paid") q.price = store::ListPrice::kPaid;
  else if (!price.empty()) error = "价格筛选只能是免费或付费。";
  if (!status.empty()) {
    q.status = store::parse_doc_status(status);
    if (!q.status) error = "状态筛选只能是草稿或已发布。";
  }
  q.publisher_email = publisher;
  Result<store::ListPage> list = site.library().console_list(editor_of(req), q);
  if (!list.ok()) return console_error(site, req, list.status());

  nlohmann::json items = nlohmann::json::array();
  for (const store::DocumentSummary& s : list->items) {
    items.push_back({
        {"id", s.id},
        {"title", s.title},
        {"draft", s.status == store::DocStatus::kDraft},
        {"status", status_label(s.status)},
        {"price", Site::price_label(s.price, s.has_paid_text)},
        {"category", s.category},
        {"publisher", admin ? s.publisher_email : std::string()},
        {"updated", display_time(s.updated_at)},
        {"revision", s.revision},
    });
  }
  std::string fq;
  auto add = [&](const char* name, const std::string& v) {
    if (v.empty()) return;
    fq += std::string(name) + "=" + percent_encode(v) + "&";
  };
  add("q", text);
  add("category", category);
  add("price", price);
  add("status", status);
  add("publisher", publisher);
  const bool more = *page * kPerPage < list->total;
  nlohmann::json pager = {{"page", *page}, {"show", *page > 1 || more}};
  if (*page > 1) pager["prev_url"] = fmt::format("/admin/documents?{}page={}", fq, *page - 1);
  if (more) pager["next_url"] = fmt::format("/admin/documents?{}page={}", fq, *page + 1);

  nlohmann::json ctx = site.page_context("文档");
  ctx["console_section"] = "documents";
  ctx["has_form"] = true;
  ctx["admin"] = admin;
  ctx["items"] = std::move(items);
  ctx["total"] = list->total;
  ctx["pager"] = std::move(pager);
  ctx["q"] = text;
  ctx["category"] = category;
  ctx["publisher"] = publisher;
  ctx["price_free"] = price == "free";
  ctx["price_paid"] = price == "paid";
  ctx["status_draft"] = status == "draft";
  ctx["status_published"] = status == "published";
  ctx["categories"] = categories_json(site);
  if (qparam(req, "msg") == "bulk") {
    std::optional<int64_t> n = parse_id(qparam(req, "n"));
    ctx["bulk_flash"] = fmt::format("已更新 {} 篇文档", n.value_or(0));
  }
  if (qparam(req, "msg") == "bulk_none") ctx["bulk_flash"] = "已更新 0 篇文档";
  if (!error.empty()) ctx["error"] = error;
  return framed(site.html(req, 200, "admin_documents.html", std::move(ctx)));
}

// POST /admin/documents/bulk: ids (repeated), action = publish | unpublish
// | price | category, price_yuan, category.
Response admin_documents_bulk(Site& site, const Request& req, const Params&) {
  const Form& f = *req.form;
  std::vector<int64_t> ids;
  for (const auto& [k, v] : f.items()) {
    if (k != "ids") continue;
    std::optional<int64_t> id = parse_id(v);
    if (!id) return site.error(req, Code::kInvalidArgument, "所选文档的编号无效");
    ids.push_back(*id);
  }
  if (ids.empty())
    return site.service_error(req, Status::invalid("请先勾选要修改的文档"),
                              {"/admin/documents", "返回文档列表"});
  std::string_view action = f.get("action");
  store::BulkChange change;
  if (action == "publish") {
    change.kind = store::BulkChange::Kind::kPublish;
  } else if (action == "unpublish") {
    change.kind = store::BulkChange::Kind::kUnpublish;
  } else if (action == "price") {
    change.kind = store::BulkChange::Kind::kPrice;
    Result<Fen> price = site.library().parse_price(f.get("price_yuan"));
    if (!price.ok())
      return site.service_error(req, price.status(), {"/admin/documents", "返回文档列表"});
    change.price = *price;
  } else if (action == "category") {
    change.kind = store::BulkChange::Kind::kCategory;
    change.category = std::string(f.get("category"));
    while (!change.category.empty() && change.category.back() == ' ') change.category.pop_back();
    while (!change.category.empty() && change.category.front() == ' ') change.category.erase(0, 1);
  } else {
    return site.service_error(req, Status::invalid("操作：请选择发布、撤回为草稿、改价或改分类"),
                              {"/admin/documents", "返回文档列表"});
  }
  Result<int64_t> n = site.library().bulk(editor_of(req), ids, change, site.actor(req));
  if (!n.ok()) return console_error(site, req, n.status());
  return Site::redirect(fmt::format("/admin/documents?msg=bulk&n={}", *n));
}

namespace {

// The editor's context: the form as typed (or as stored), its errors, the
// revisions and the preview.
struct EditorPage {
  int64_t id = 0;  // 0: a new document
  library::DocumentForm form;
  std::string source_note;  // where the text came from (.md/.docx)
  std::optional<library::FormError> error;
  std::optional<library::Preview> preview;
  std::vector<store::DocumentRevision> revisions;
  int64_t revision = 0;
  std::string view_url;
};

nlohmann::json pane_json(const gate::DocumentView& v) {
  const bool has_paid = v.teaser.hidden_chars > 0 || v.teaser.hidden_paragraphs > 0 ||
                        v.figures.paid_chars > 0;
  nlohmann::json outline = nlohmann::json::array();
  for (const auto& o : v.teaser.outline)
    outline.push_back({{"level", o.level}, {"label", o.label}, {"text", o.text}});
  return {
      {"title", v.title},
      {"price", Site::price_label(v.price, has_paid)},
      {"locked", v.locked},
      {"blocks", view_blocks_json(v)},
      {"hidden_chars", v.teaser.hidden_chars},
      {"hidden_paragraphs", v.teaser.hidden_paragraphs},
      {"has_outline", !outline.empty()},
      {"outline", std::move(outline)},
      {"tags", v.tags},
  };
}

Response editor(Site& site, const Request& req, int status, const EditorPage& p) {
  const bool is_new = p.id == 0;
  nlohmann::json ctx = site.page_context(is_new ? "新建文档" : "编辑文档");
  ctx["console_section"] = "documents";
  ctx["has_form"] = true;
  ctx["is_new"] = is_new;
  ctx["id"] = p.id;
  ctx["action"] = is_new ? std::string("/admin/documents") : fmt::format("/admin/documents/{}", p.id);
  ctx["preview_action"] = is_new ? std::string("/admin/documents/new/preview")
                                 : fmt::format("/admin/documents/{}/preview", p.id);
  ctx["source"] = p.form.source;
  ctx["title"] = p.form.title;
  ctx["price_yuan"] = p.form.price_yuan;
  ctx["max_price"] = site.library().max_price().plain_yuan_string();
  ctx["category"] = p.form.category;
  ctx["tags"] = p.form.tags.value_or("");
  ctx["summary"] = p.form.summary;
  ctx["draft"] = p.form.status == "draft";
  ctx["base_revision"] = p.form.base_revision;
  ctx["revision"] = p.revision;
  ctx["view_url"] = p.view_url;
  ctx["source_note"] = p.source_note;
  ctx["categories"] = categories_json(site);
  if (p.error) {
    ctx["error"] = {{"message", p.error->message}, {"field", p.error->field}};
    if (p.error->line > 0) {
      // The offending line, to show next to the message.
      std::string_view src = p.form.source;
      int line = 1;
      size_t at = 0;
      while (line < p.error->line && at < src.size()) {
        size_t nl = src.find('\n', at);
        if (nl == std::string_view::npos) {
          at = src.size();
          break;
        }
        at = nl + 1;
        ++line;
      }
      size_t end = src.find('\n', at);
      std::string text(src.substr(at, end == std::string_view::npos ? src.size() - at : end - at));
      if (!text.empty() && text.back() == '\r') text.pop_back();
      ctx["error"]["line"] = p.error->line;
      ctx["error"]["line_text"] = text;
    }
  }
  if (p.preview) {
    ctx["preview"] = {{"buyer", pane_json(p.preview->buyer)},
                      {"reader", pane_json(p.preview->reader)}};
  }
  nlohmann::json revs = nlohmann::json::array();
  for (const store::DocumentRevision& r : p.revisions) {
    revs.push_back({
        {"revision", r.revision},
        {"time", display_time(r.created_at)},
        {"actor", r.actor.empty() ? std::string("（未记录）") : r.actor},
        {"title", r.title},
        {"price", "¥" + r.price.yuan_string()},
        {"status", status_label(r.status)},
        {"current", r.revision == p.revision},
        {"restore_url", fmt::format("/admin/documents/{}/revisions/{}/restore", p.id, r.revision)},
    });
  }
  ctx["revisions"] = std::move(revs);
  ctx["has_revisions"] = !p.revisions.empty();
  return framed(site.html(req, status, "admin_editor.html", std::move(ctx)));
}

library::DocumentForm form_of(const Request& req) {
  const Form& f = *req.form;
  library::DocumentForm out;
  out.source = std::string(f.get("source"));
  out.title = std::string(f.get("title"));
  out.price_yuan = std::string(f.get("price_yuan"));
  out.category = std::string(f.get("category"));
  out.summary = std::string(f.get("summary"));
  out.status = std::string(f.get("status"));
  if (f.has("tags")) out.tags = std::string(f.get("tags"));
  out.base_revision = parse_id(f.get("base_revision")).value_or(0);
  return out;
}

// The page's fixed parts for an existing document (revisions, links), or
// the response that stops the request.
std::optional<Response> load_existing(Site& site, const Request& req, int64_t id, EditorPage* p,
                                      library::Editable* out = nullptr) {
  Result<library::Editable> e = site.library().editable(editor_of(req), id);
  if (!e.ok()) return console_error(site, req, e.status());
  p->id = id;
  p->revisions = e->revisions;
  p->revision = e->doc.summary.revision;
  p->view_url = fmt::format("/d/{}", id);
  const std::string& path = e->doc.source_path;
  if (path.ends_with(".md") || path.ends_with(".markdown") || path.ends_with(".docx"))
    p->source_note = "原文件为 .md 或 .docx：这里编辑的是转换后的文本，保存后以文本格式保存。";
  if (out) *out = std::move(*e);
  return std::nullopt;
}

std::optional<int64_t> id_param(const Params& params) { return parse_id(params.get("id")); }

}  // namespace

// GET /admin/documents/new
Response admin_document_new(Site& site, const Request& req, const Params&) {
  EditorPage p;
  p.form.price_yuan = "5.00";
  p.form.status = "draft";
  return editor(site, req, 200, p);
}

// GET /admin/documents/{id}/edit
Response admin_document_edit(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = id_param(params);
  if (!id) return site.not_found(req);
  EditorPage p;
  library::Editable e;
  if (auto stop = load_existing(site, req, *id, &p, &e)) return std::move(*stop);
  p.form.source = e.doc.source_text;
  p.form.title = e.doc.title_override;
  p.form.price_yuan = e.doc.summary.price.yuan_string();
  p.form.category = e.doc.summary.category;
  p.form.tags = fmt::format("{}", fmt::join(e.tags, "，"));
  p.form.summary = e.doc.summary_text;
  p.form.status = store::to_string(e.doc.summary.status);
  p.form.base_revision = e.doc.summary.revision;
  return editor(site, req, 200, p);
}

// POST /admin/documents/new/preview and /admin/documents/{id}/preview:
// the editor again, as typed, with the two panes (or the error).
Response admin_document_preview(Site& site, const Request& req, const Params& params) {
  EditorPage p;
  int64_t id = 0;
  if (!params.get("id").empty()) {
    std::optional<int64_t> parsed = id_param(params);
    if (!parsed) return site.not_found(req);
    id = *parsed;
    if (auto stop = load_existing(site, req, id, &p)) return std::move(*stop);
  }
  p.form = form_of(req);
  library::FormError error;
  Result<library::Preview> preview = site.library().preview(editor_of(req), id, p.form, &error);
  if (!preview.ok()) {
    if (preview.status().code() != Code::kInvalidArgument)
      return console_error(site, req, preview.status());
    p.error = error;
    return editor(site, req, 422, p);
  }
  p.preview = std::move(*preview);
  return editor(site, req, 200, p);
}

// POST /admin/documents and /admin/documents/{id}: saves a new revision.
Response admin_document_save(Site& site, const Request& req, const Params& params) {
  EditorPage p;
  int64_t id = 0;
  if (!params.get("id").empty()) {
    std::optional<int64_t> parsed = id_param(params);
    if (!parsed) return site.not_found(req);
    id = *parsed;
    if (auto stop = load_existing(site, req, id, &p)) return std::move(*stop);
  }
  p.form = form_of(req);
  library::FormError error;
  Result<store::PutResult> put =
      site.library().save(editor_of(req), id, p.form, site.actor(req), &error);
  if (!put.ok()) {
    const Code c = put.status().code();
    if (c != Code::kInvalidArgument && c != Code::kConflict)
      return console_error(site, req, put.status());
    p.error = error;
    if (p.error->message.empty()) p.error->message = put.status().message();
    return editor(site, req, c == Code::kConflict ? 409 : 422, p);
  }
  const char* msg = put->outcome == store::PutOutcome::kUnchanged ? "doc_unchanged"
                    : put->outcome == store::PutOutcome::kCreated ? "doc_created"
                                                                   : "doc_saved";
  return Site::redirect(fmt::format("/admin/documents/{}/edit?msg={}", put->id, msg));
}

// POST /admin/documents/{id}/revisions/{rev}/restore
Response admin_document_restore(Site& site, const Request& req, const Params& params) {
  std::optional<int64_t> id = id_param(params);
  std::optional<int64_t> rev = parse_id(params.get("rev"));
  if (!id || !rev) return site.not_found(req);
  Result<store::PutResult> put =
      site.library().restore(editor_of(req), *id, *rev, site.actor(req));
  if (!put.ok()) {
    if (put.status().code() == Code::kConflict)
      return site.service_error(req, put.status(),
                                {fmt::format("/admin/documents/{}/edit", *id), "返回编辑页"});
    return console_error(site, req, put.status());
  }
  return Site::redirect(fmt::format("/admin/documents/{}/edit?msg={}", *id,
                                    put->outcome == store::PutOutcome::kUnchanged
                                        ? "doc_unchanged"
                                        : "doc_restored"));
}

}  // namespace paidoc::web::handlers
