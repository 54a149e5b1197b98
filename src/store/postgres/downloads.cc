#include "store/postgres/downloads.h"

#include <algorithm>

namespace paidoc::store::postgres {
namespace {

constexpr char kCountSince[] =
    "SELECT count(*) FROM downloads WHERE user_id = ?1 AND access = ?2 AND created_at >= ?3"
    " AND (?4 = 0 OR document_id = ?4)";
constexpr char kDocumentExists[] = "SELECT 1 FROM documents WHERE id = ?1";
constexpr char kUserExists[] = "SELECT 1 FROM users WHERE id = ?1 AND deleted_at = 0";
constexpr char kPurchaseOrder[] =
    "SELECT id FROM orders WHERE user_id = ?1 AND kind = 'document' AND document_id = ?2"
    " AND status = 'paid' ORDER BY paid_at DESC, id DESC LIMIT 1";
constexpr char kPlanOrder[] =
    "SELECT id FROM orders WHERE user_id = ?1 AND kind = 'plan' AND status = 'paid'"
    " ORDER BY paid_at DESC, id DESC LIMIT 1";
constexpr char kInsertDownload[] =
    "INSERT INTO downloads (user_id, document_id, revision, format, access, order_id, nonce,"
    " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr char kGetDownload[] =
    "SELECT id, user_id, document_id, revision, format, access, coalesce(order_id, 0), nonce,"
    " created_at FROM downloads WHERE id = ?1";
constexpr char kGetSetting[] = "SELECT value FROM settings WHERE name = ?1";
constexpr char kInsertSetting[] =
    "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING";

Result<bool> exists(Connection& c, const char* sql, int64_t id) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  st->bind(1, id);
  return st->step();
}

Result<int64_t> first_id(Connection& c, const char* sql, int64_t a, int64_t b) {
  auto st = c.stmt(sql);
  if (!st.ok()) return st.status();
  st->bind(1, a);
  if (b) st->bind(2, b);
  auto row = st->step();
  if (!row.ok()) return row.status();
  return *row ? st->int64(0) : 0;
}

}  // namespace

Result<Download> record_download_in(Connection& c, const NewDownload& d) {
  if (d.format != "docx" && d.format != "pdf" && d.format != "txt") {
    return Status::invalid("record_download: unknown format '" + d.format + "'");
  }
  if (d.nonce < 0 || d.nonce > 0xFFFFFFFFLL) return Status::invalid("record_download: bad nonce");
  auto user = exists(c, kUserExists, d.user_id);
  if (!user.ok()) return user.status();
  if (!*user) return Status::not_found("user " + std::to_string(d.user_id) + " does not exist");
  auto docu = exists(c, kDocumentExists, d.document_id);
  if (!docu.ok()) return docu.status();
  if (!*docu) return Status::not_found("document " + std::to_string(d.document_id) + " does not exist");
  if (d.limit > 0) {
    auto st = c.stmt(kCountSince);
    if (!st.ok()) return st.status();
    st->bind(1, d.user_id).bind(2, d.access).bind(3, d.since)
        .bind(4, d.per_document ? d.document_id : int64_t{0});
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (*row && st->int64(0) >= d.limit) {
      const int64_t retry = std::max<int64_t>(1, d.since + 86400 - d.created_at);
      return Status::too_many_requests("今日下载次数已用完（每日 " + std::to_string(d.limit) + " 次）",
                                       retry);
    }
  }
  Download out;
  out.user_id = d.user_id;
  out.document_id = d.document_id;
  out.revision = d.revision;
  out.format = d.format;
  out.access = d.access;
  out.nonce = d.nonce;
  out.created_at = d.created_at;
  if (d.access == "purchased") {
    auto id = first_id(c, kPurchaseOrder, d.user_id, d.document_id);
    if (!id.ok()) return id.status();
    out.order_id = *id;
  } else if (d.access == "vip") {
    auto id = first_id(c, kPlanOrder, d.user_id, 0);
    if (!id.ok()) return id.status();
    out.order_id = *id;
  }
  auto st = c.stmt(kInsertDownload);
  if (!st.ok()) return st.status();
  st->bind(1, d.user_id).bind(2, d.document_id).bind(3, d.revision).bind(4, d.format)
      .bind(5, d.access).bind(6, out.order_id ? std::optional<int64_t>(out.order_id) : std::nullopt)
      .bind(7, d.nonce).bind(8, d.created_at);
  if (Status s = st->exec(); !s.is_ok()) return s;
  auto id = c.last_insert_id();
  if (!id.ok()) return id.status();
  out.id = *id;
  return out;
}

Result<Download> get_download_in(Connection& c, int64_t id) {
  auto st = c.stmt(kGetDownload);
  if (!st.ok()) return st.status();
  st->bind(1, id);
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::not_found("download " + std::to_string(id) + " does not exist");
  Download d;
  d.id = st->int64(0);
  d.user_id = st->int64(1);
  d.document_id = st->int64(2);
  d.revision = st->int64(3);
  d.format = st->text(4);
  d.access = st->text(5);
  d.order_id = st->int64(6);
  d.nonce = st->int64(7);
  d.created_at = st->int64(8);
  return d;
}

Result<std::string> setting_or_init_in(Connection& c, const std::string& name,
                                       const std::string& value_if_absent) {
  {
    auto st = c.stmt(kInsertSetting);
    if (!st.ok()) return st.status();
    st->bind(1, name).bind(2, value_if_absent);
    if (Status s = st->exec(); !s.is_ok()) return s;
  }
  auto st = c.stmt(kGetSetting);
  if (!st.ok()) return st.status();
  st->bind(1, name);
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::internal("setting '" + name + "' vanished");
  return st->text(0);
}

}  // namespace paidoc::store::postgres
