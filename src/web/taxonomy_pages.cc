// Categories and tags: the console's /admin/categories and /admin/tags
// (admins: AuthRule::kManageTaxonomy) — the list in order with document
// counts, create, rename, move up/down, delete (refused while in use) —
// and the readers' tag pages /t/{tag}. Every change goes through
// taxonomy::Taxonomy with the caller as the audit actor.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "taxonomy/taxonomy.h"
#include "web/handlers.h"
#include "web/util.h"

namespace paidoc::web::handlers {

namespace {

using taxonomy::TermKind;

constexpr int64_t kTagPerPage = 20;

struct KindText {
  const char* noun;      // 分类 / 标签
  const char* base;      // /admin/categories
  const char* section;   // console_section
  const char* tmpl;      // page template
  const char* msg;       // flash key prefix
};

KindText text_of(TermKind kind) {
  if (kind == TermKind::kCategory)
    return {"分类", "/admin/categories", "categories", "admin_categories.html", "category"};
  return {"标签", "/admin/tags", "tags", "admin_tags.html", "tag"};
}

// What a re-rendered page keeps of a refused form: which form (the create
// form when item_id is 0), what was typed, and why it was refused.
struct Refusal {
  enum Form { kCreate, kRename, kOther } form = kOther;
  int64_t item_id = 0;  // kRename: the item whose form it was
  std::string typed;    // kCreate, kRename: the name as typed
  std::string message;
};

Response render_terms(Site& site, const Request& req, TermKind kind, int status,
                      const Refusal* refusal) {
  const KindText t = text_of(kind);
  Result<std::vector<taxonomy::Term>> terms = site.taxonomy().list(kind);
  if (!terms.ok()) return site.error(req, terms.status());
  nlohmann::json items = nlohmann::json::array();
  for (size_t i = 0; i < terms->size(); ++i) {
    const taxonomy::Term& term = (*terms)[i];
    nlohmann::json item = {
        {"id", term.id},
        {"name", term.name},
        {"count", term.document_count},
        {"url", kind == TermKind::kCategory ? Site::category_url(term.name)
                                            : Site::tag_url(term.name)},
        {"first", i == 0},
        {"last", i + 1 == terms->size()},
        {"rename_value", term.name},
    };
    if (refusal && refusal->form == Refusal::kRename && refusal->item_id == term.id) {
      item["rename_value"] = refusal->typed;
      item["item_error"] = refusal->message;
    }
    items.push_back(std::move(item));
  }
  nlohmann::json ctx = site.page_context(fmt::format("{}管理", t.noun));
  ctx["console_section"] = t.section;
  ctx["noun"] = t.noun;
  ctx["base"] = t.base;
  ctx["items"] = std::move(items);
  ctx["total"] = terms->size();
  if (refusal && refusal->form == Refusal::kCreate) {
    ctx["create_value"] = refusal->typed;
    ctx["create_error"] = refusal->message;
  }
  // A refusal that belongs to no form on the page (delete, move) is shown
  // at the top.
  if (refusal && refusal->form == Refusal::kOther) ctx["error"] = refusal->message;
  Response r = site.html(req, status, t.tmpl, std::move(ctx));
  r.add_header("X-Frame-Options", "DENY");
  return r;
}

// The user-facing refusals re-render the page with the message; anything
// else (a store failure) is an error page.
bool shown_to_user(const Status& s) {
  return s.code() == Code::kInvalidArgument || s.code() == Code::kConflict ||
         s.code() == Code::kFailedPrecondition;
}

std::string done_url(TermKind kind, const char* what) {
  const KindText t = text_of(kind);
  return fmt::format("{}?msg={}_{}", t.base, t.msg, what);
}

Response terms_page(Site& site, const Request& req, TermKind kind) {
  return render_terms(site, req, kind, 200, nullptr);
}

Response create_post(Site& site, const Request& req, TermKind kind) {
  std::string typed(req.form->get("name"));
  Result<taxonomy::Term> made = site.taxonomy().create(kind, typed, site.actor(req));
  if (!made.ok()) {
    if (!shown_to_user(made.status())) return site.error(req, made.status());
    Refusal r{Refusal::kCreate, 0, typed, made.status().message()};
    return render_terms(site, req, kind, http_status(made.status().code()), &r);
  }
  return Site::redirect(done_url(kind, "created"));
}

Response rename_post(Site& site, const Request& req, const Params& params, TermKind kind) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "id must be a positive integer");
  std::string typed(req.form->get("name"));
  Result<taxonomy::Term> renamed = site.taxonomy().rename(kind, *id, typed, site.actor(req));
  if (!renamed.ok()) {
    if (!shown_to_user(renamed.status())) return site.error(req, renamed.status());
    Refusal r{Refusal::kRename, *id, typed, renamed.status().message()};
    return render_terms(site, req, kind, http_status(renamed.status().code()), &r);
  }
  return Site::redirect(done_url(kind, "renamed"));
}

Response move_post(Site& site, const Request& req, const Params& params, TermKind kind) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "id must be a positive integer");
  std::string_view dir = req.form->get("dir");
  if (dir != "up" && dir != "down") {
    Refusal r{Refusal::kOther, *id, "", "移动方向必须是 up 或 down"};
    return render_terms(site, req, kind, 400, &r);
  }
  Result<bool> moved =
      site.taxonomy().move(kind, *id, dir == "up" ? taxonomy::MoveDirection::kUp
                                                  : taxonomy::MoveDirection::kDown,
                           site.actor(req));
  if (!moved.ok()) return site.error(req, moved.status());
  return Site::redirect(*moved ? done_url(kind, "moved") : std::string(text_of(kind).base));
}

Response delete_post(Site& site, const Request& req, const Params& params, TermKind kind) {
  std::optional<int64_t> id = parse_id(params.get("id"));
  if (!id) return site.error(req, Code::kInvalidArgument, "id must be a positive integer");
  Status s = site.taxonomy().remove(kind, *id, site.actor(req));
  if (!s.is_ok()) {
    if (!shown_to_user(s)) return site.error(req, s);
    Refusal r{Refusal::kOther, *id, "", s.message()};
    return render_terms(site, req, kind, http_status(s.code()), &r);
  }
  return Site::redirect(done_url(kind, "deleted"));
}

}  // namespace

Response admin_categories(Site& site, const Request& req, const Params&) {
  return terms_page(site, req, TermKind::kCategory);
}
Response admin_category_create(Site& site, const Request& req, const Params&) {
  return create_post(site, req, TermKind::kCategory);
}
Response admin_category_rename(Site& site, const Request& req, const Params& params) {
  return rename_post(site, req, params, TermKind::kCategory);
}
Response admin_category_move(Site& site, const Request& req, const Params& params) {
  return move_post(site, req, params, TermKind::kCategory);
}
Response admin_category_delete(Site& site, const Request& req, const Params& params) {
  return delete_post(site, req, params, TermKind::kCategory);
}

Response admin_tags(Site& site, const Request& req, const Params&) {
  return terms_page(site, req, TermKind::kTag);
}
Response admin_tag_create(Site& site, const Request& req, const Params&) {
  return create_post(site, req, TermKind::kTag);
}
Response admin_tag_rename(Site& site, const Request& req, const Params& params) {
  return rename_post(site, req, params, TermKind::kTag);
}
Response admin_tag_move(Site& site, const Request& req, const Params& params) {
  return move_post(site, req, params, TermKind::kTag);
}
Response admin_tag_delete(Site& site, const Request& req, const Params& params) {
  return delete_post(site, req, params, TermKind::kTag);
}

// /t/{tag}: the published documents with this tag, newest first, paged as
// the category page is (same template). 404 for a tag that does not exist.
Response tag(Site& site, const Request& req, const Params& params) {
  std::optional<std::string> name = percent_decode(params.get("tag"), false);
  if (!name) return site.error(req, Code::kInvalidArgument, "malformed tag name");
  std::optional<int64_t> page = parse_page(req.query);
  if (!page) return site.error(req, Code::kInvalidArgument, "page must be a positive integer");
  Result<taxonomy::Term> term = site.taxonomy().find(TermKind::kTag, *name);
  if (!term.ok()) return site.error(req, term.status().code() == Code::kNotFound
                                             ? Status::not_found("no such tag")
                                             : term.status());
  store::ListQuery q = store::page_query("", (*page - 1) * kTagPerPage, kTagPerPage);
  q.tag = term->name;
  Result<store::ListPage> list = site.library().list(q);
  if (!list.ok()) return site.error(req, list.status());

  std::string url = Site::tag_url(term->name);
  int64_t pages = std::max<int64_t>(1, (list->total + kTagPerPage - 1) / kTagPerPage);
  nlohmann::json pager = {{"page", *page}, {"pages", pages}, {"show", pages > 1}};
  if (*page > 1)
    pager["prev_url"] = *page == 2 ? url : fmt::format("{}?page={}", url, *page - 1);
  if (*page < pages) pager["next_url"] = fmt::format("{}?page={}", url, *page + 1);
  nlohmann::json docs = nlohmann::json::array();
  for (const auto& s : list->items) docs.push_back(site.summary_context(s));

  nlohmann::json ctx = site.page_context(fmt::format("标签：{}", term->name));
  ctx["description"] = fmt::format("带有「{}」标签的文档，共 {} 篇。", term->name, list->total);
  ctx["canonical"] = site.config().base_url + url;
  ctx["category"] = {{"name", term->name}, {"url", url}, {"count", list->total}, {"tag", true}};
  ctx["docs"] = std::move(docs);
  ctx["pager"] = std::move(pager);
  return site.html(req, 200, "category.html", std::move(ctx));
}

}  // namespace paidoc::web::handlers
