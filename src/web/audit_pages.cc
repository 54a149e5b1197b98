// /admin/audit and /admin/audit.csv: the audit log for admins — who changed
// what and when — filtered by actor, action and a date range (China time),
// newest first. The page shows a page of entries; the CSV holds every
// matching entry (RFC 4180, formulas defused). Entries are written by the
// services that make the changes; these handlers only read.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth.h"
#include "store/audit.h"
#include "web/handlers.h"
#include "web/util.h"

namespace paidoc::web::handlers {

namespace {

constexpr int64_t kAuditPerPage = 50;
// The CSV is read in pages of this many entries, at most kCsvMaxRows in all.
constexpr int64_t kCsvBatch = 1000;
constexpr int64_t kCsvMaxRows = 100000;

struct ActionInfo {
  const char* value;
  const char* label;
};

constexpr ActionInfo kActions[] = {
    {store::audit_action::kDocumentCreate, "新建文档"},
    {store::audit_action::kDocumentUpdate, "更新文档"},
    {store::audit_action::kDocumentDelete, "删除文档"},
    {store::audit_action::kDocumentPrice, "修改价格"},
    {store::audit_action::kDocumentCategory, "修改分类"},
    {store::audit_action::kDocumentPublish, "发布文档"},
    {store::audit_action::kDocumentUnpublish, "撤回为草稿"},
    {store::audit_action::kDocumentRestore, "恢复版本"},
    {store::audit_action::kDocumentTags, "修改标签"},
    {store::audit_action::kUserRole, "修改角色"},
    {store::audit_action::kUserDisable, "停用账号"},
    {store::audit_action::kUserEnable, "启用账号"},
    {store::audit_action::kUserPasswordReset, "重置密码"},
    {store::audit_action::kOrderRefund, "订单退款"},
    {store::audit_action::kWalletCredit, "钱包入账"},
    {store::audit_action::kCategoryCreate, "新建分类"},
    {store::audit_action::kCategoryRename, "分类改名"},
    {store::audit_action::kCategoryMove, "调整分类顺序"},
    {store::audit_action::kCategoryDelete, "删除分类"},
    {store::audit_action::kTagCreate, "新建标签"},
    {store::audit_action::kTagRename, "标签改名"},
    {store::audit_action::kTagMove, "调整标签顺序"},
    {store::audit_action::kTagDelete, "删除标签"},
};

std::string action_label(const std::string& action) {
  for (const ActionInfo& a : kActions)
    if (action == a.value) return a.label;
  return action;  // a newer program's action: shown as stored
}

std::string target_label(const std::string& kind) {
  if (kind == "document") return "文档";
  if (kind == "user") return "用户";
  if (kind == "order") return "订单";
  if (kind == "wallet") return "钱包（用户）";
  if (kind == "category") return "分类";
  if (kind == "tag") return "标签";
  return kind;
}


// One value of the details as text: "a → b" for {"from": a, "to": b}.
std::string value_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("from") && v.contains("to") && v.size() == 2)
    return value_text(v["from"]) + " → " + value_text(v["to"]);
  return dump_json(v);
}

// The details as "key: value; key: old → new", in stored order.
std::string details_text(const std::string& details) {
  auto j = nlohmann::json::parse(details, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return details;
  std::string out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!out.empty()) out += "；";
    out += it.key() + "：" + value_text(it.value());
  }
  return out;
}

// One CSV field (RFC 4180): quoted when it holds a comma, quote or line
// break, quotes doubled.
std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// Text that came from users (emails, notes in the details) must not become
// a formula when the file is opened in a spreadsheet.
std::string defuse_formula(const std::string& v) {
  if (!v.empty() &&
      (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r'))
    return "'" + v;
  return v;
}

// The filters of a request, as the form shows them and as the store wants
// them. error: a zh-CN message for a malformed value (the filter is then
// left out).
struct Filters {
  std::string actor;
  std::string action;
  std::string from_text;
  std::string to_text;
  store::AuditQuery query;
  std::string error;
};

Filters read_filters(const Request& req) {
  Filters f;
  auto get = [&](std::string_view name) {
    std::optional<std::string> v = query_param(req.query, name);
    return v ? *v : std::string();
  };
  f.actor = get("actor");
  while (!f.actor.empty() && (f.actor.back() == ' ' || f.actor.back() == '\t')) f.actor.pop_back();
  while (!f.actor.empty() && (f.actor.front() == ' ' || f.actor.front() == '\t'))
    f.actor.erase(0, 1);
  f.action = get("action");
  f.from_text = get("from");
  f.to_text = get("to");
  // Emails are stored normalised; "cli:<os user>" as the OS spells it.
  f.query.actor =
      f.actor.find('@') != std::string::npos ? auth::normalize_email(f.actor) : f.actor;
  bool known = f.action.empty();
  for (const ActionInfo& a : kActions) known = known || f.action == a.value;
  if (known) {
    f.query.action = f.action;
  } else {
    f.error = "未知的操作类型。";
    f.action.clear();
  }
  if (!f.from_text.empty()) {
    if (auto t = parse_china_date(f.from_text)) f.query.from = *t;
    else f.error = "开始日期格式应为 YYYY-MM-DD。";
  }
  if (!f.to_text.empty()) {
    // The end date is included: entries before the next day's 00:00.
    if (auto t = parse_china_date(f.to_text)) f.query.to = *t + 86400;
    else f.error = "结束日期格式应为 YYYY-MM-DD。";
  }
  return f;
}

// The query string of the filters (for paging and the CSV link).
std::string filter_query(const Filters& f) {
  std::string q;
  auto add = [&](const char* name, const std::string& v) {
    if (v.empty()) return;
    q += q.empty() ? "" : "&";
    q += std::string(name) + "=" + percent_encode(v);
  };
  add("actor", f.actor);
  add("action", f.action);
  add("from", f.from_text);
  add("to", f.to_text);
  return q;
}

}  // namespace

// GET /admin/audit?actor=&action=&from=&to=&page=
Response admin_audit(Site& site, const Request& req, const Params&) {
  std::optional<int64_t> page = parse_page(req.query);
  if (!page)
    return site.error(req, Code::kInvalidArgument, "page must be an integer from 1 to 100000");
  Filters f = read_filters(req);
  f.query.limit = kAuditPerPage;
  f.query.offset = (*page - 1) * kAuditPerPage;
  Result<store::AuditPage> list = site.audit().list(f.query);
  if (!list.ok()) return site.error(req, list.status());

  nlohmann::json entries = nlohmann::json::array();
  for (const store::AuditEntry& e : list->items) {
    entries.push_back({
        {"id", e.id},
        {"time", display_time_seconds(e.at)},
        {"actor", e.actor},
        {"cli", e.actor_user_id == 0},
        {"action", e.action},
        {"action_label", action_label(e.action)},
        {"target", target_label(e.target_kind) +
                       (e.target_id != 0 ? " #" + std::to_string(e.target_id) : std::string())},
        {"details", details_text(e.details)},
        {"ip", e.ip},
    });
  }
  nlohmann::json actions = nlohmann::json::array();
  for (const ActionInfo& a : kActions)
    actions.push_back({{"value", a.value}, {"label", a.label}, {"selected", f.action == a.value}});

  const std::string fq = filter_query(f);
  const std::string sep = fq.empty() ? "" : "&";
  const bool more = *page * kAuditPerPage < list->total;
  nlohmann::json pager = {{"page", *page}, {"show", *page > 1 || more}};
  if (*page > 1) pager["prev_url"] = fmt::format("/admin/audit?{}{}page={}", fq, sep, *page - 1);
  if (more) pager["next_url"] = fmt::format("/admin/audit?{}{}page={}", fq, sep, *page + 1);

  nlohmann::json ctx = site.page_context("操作日志");
  ctx["console_section"] = "audit";
  ctx["entries"] = std::move(entries);
  ctx["total"] = list->total;
  ctx["actions"] = std::move(actions);
  ctx["actor"] = f.actor;
  ctx["from"] = f.from_text;
  ctx["to"] = f.to_text;
  ctx["csv_url"] = fq.empty() ? std::string("/admin/audit.csv") : "/admin/audit.csv?" + fq;
  ctx["pager"] = std::move(pager);
  if (!f.error.empty()) ctx["error"] = f.error;
  Response r = site.html(req, 200, "admin_audit.html", std::move(ctx));
  r.add_header("X-Frame-Options", "DENY");
  return r;
}

// GET /admin/audit.csv?actor=&action=&from=&to=: every matching entry,
// newest first.
Response admin_audit_csv(Site& site, const Request& req, const Params&) {
  Filters f = read_filters(req);
  if (!f.error.empty()) return site.error(req, Code::kInvalidArgument, f.error);
  std::string out =
      "id,time_china,time_utc,actor,actor_user_id,action,action_label,target_kind,target_id,"
      "details,ip\r\n";
  f.query.limit = kCsvBatch;
  for (f.query.offset = 0; f.query.offset < kCsvMaxRows; f.query.offset += kCsvBatch) {
    Result<store::AuditPage> list = site.audit().list(f.query);
    if (!list.ok()) return site.error(req, list.status());
    for (const store::AuditEntry& e : list->items) {
      const std::string fields[] = {
          std::to_string(e.id),
          display_time_seconds(e.at),
          rfc3339_utc(e.at),
          defuse_formula(e.actor),
          std::to_string(e.actor_user_id),
          e.action,
          action_label(e.action),
          defuse_formula(e.target_kind),
          std::to_string(e.target_id),
          defuse_formula(e.details),
          defuse_formula(e.ip),
      };
      bool first = true;
      for (const std::string& v : fields) {
        if (!first) out += ',';
        first = false;
        out += csv_field(v);
      }
      out += "\r\n";
    }
    if (static_cast<int64_t>(list->items.size()) < kCsvBatch) break;
  }
  Response r;
  r.status = 200;
  r.add_header("Content-Type", "text/csv; charset=utf-8");
  r.add_header("Content-Disposition", "attachment; filename=\"audit.csv\"");
  r.add_header("Cache-Control", "private, no-store");
  r.add_header("X-Content-Type-Options", "nosniff");
  r.body = std::move(out);
  return r;
}

}  // namespace paidoc::web::handlers
