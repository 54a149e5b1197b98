#include "downloads/downloads.h"

#include <sodium.h>

#include <fmt/format.h>

#include "commerce/crypto.h"

namespace paidoc::downloads {
namespace {

constexpr char kKeySetting[] = "download_link_key";

std::string hex(std::string_view raw) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

uint32_t random_u32() { return randombytes_random(); }

}  // namespace

int64_t day_start(int64_t now) {
  constexpr int64_t kOffset = 8 * 3600;  // China Standard Time
  return (now + kOffset) / 86400 * 86400 - kOffset;
}

Service::Service(Stores stores, library::Library& library, commerce::Commerce& commerce,
                 const Clock& clock, Options options)
    : stores_(stores),
      library_(library),
      commerce_(commerce),
      clock_(clock),
      options_(std::move(options)) {}

Status Service::init() { return key().status(); }

Result<std::string> Service::key() {
  std::lock_guard<std::mutex> lock(key_mu_);
  if (!key_.empty()) return key_;
  if (sodium_init() < 0) return Status::internal("libsodium failed to initialise");
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  Result<std::string> stored = stores_.settings.setting_or_init(
      kKeySetting, hex(std::string_view(reinterpret_cast<char*>(raw), sizeof raw)));
  if (!stored.ok()) return stored.status();
  key_ = *stored;
  return key_;
}

std::string Service::sign(const std::string& key, int64_t user_id, int64_t document_id,
                          std::string_view format, int64_t expires_at) {
  const std::string msg = fmt::format("download|{}|{}|{}|{}", user_id, document_id, format, expires_at);
  return hex(commerce::crypto::hmac_sha256(key, msg)).substr(0, 40);
}

Result<Link> Service::link(int64_t document_id, std::string_view format,
                           const gate::Viewer& viewer) {
  if (!viewer.user_id) return Status::unauthenticated("请先登录后下载");
  std::optional<exporter::Format> f = exporter::parse_format(format);
  if (!f) return Status::invalid("format 只能是 docx、pdf 或 txt");
  Result<gate::DocumentView> view = library_.view(document_id, viewer);
  if (!view.ok()) return view.status();
  if (view->locked) return Status::forbidden("购买后才能下载全文");
  Result<std::string> k = key();
  if (!k.ok()) return k.status();
  const int64_t exp = clock_.now() + options_.link_ttl_seconds;
  Link link;
  link.expires_at = exp;
  link.url = fmt::format("/download/{}?format={}&exp={}&sig={}", document_id,
                         exporter::format_name(*f), exp,
                         sign(*k, *viewer.user_id, document_id, exporter::format_name(*f), exp));
  return link;
}

Result<std::pair<int64_t, bool>> Service::limit_for(gate::Access access, int64_t user_id) {
  switch (access) {
    case gate::Access::kPurchased:
      return std::pair<int64_t, bool>{options_.per_document_daily, true};
    case gate::Access::kFreePrice:
    case gate::Access::kNothingPaid:
      return std::pair<int64_t, bool>{options_.free_daily, false};
    case gate::Access::kVip: {
      // The plan of the latest paid plan order sets the limit.
      Result<std::vector<commerce::Order>> orders = commerce_.orders(user_id);
      if (!orders.ok()) return orders.status();
      const commerce::Order* latest = nullptr;
      for (const commerce::Order& o : *orders) {
        if (o.kind != commerce::OrderKind::kPlan || o.status != commerce::OrderStatus::kPaid) continue;
        if (!latest || o.paid_at > latest->paid_at) latest = &o;
      }
      int64_t limit = 0;
      if (latest) {
        for (const commerce::Plan& p : commerce_.options().plans) {
          if (p.id == latest->plan_id) limit = p.daily_downloads;
        }
      }
      return std::pair<int64_t, bool>{limit, false};
    }
    default:
      return std::pair<int64_t, bool>{0, false};
  }
}

Result<std::shared_ptr<const exporter::Prepared>> Service::prepared(const gate::DocumentView& view,
                                                                    exporter::Format format) {
  const CacheKey key{view.id, view.revision, static_cast<int>(format)};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      lru_.splice(lru_.end(), lru_, it->second.second);
      return it->second.first;
    }
  }
  Result<std::shared_ptr<const exporter::Prepared>> p = exporter::prepare(view, format);
  if (!p.ok()) return p.status();
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.count(key)) return *p;
  const size_t size = (*p)->bytes();
  if (size > options_.cache_bytes) return *p;
  while (cache_used_ + size > options_.cache_bytes && !lru_.empty()) {
    auto old = cache_.find(lru_.front());
    cache_used_ -= old->second.first->bytes();
    cache_.erase(old);
    lru_.pop_front();
  }
  lru_.push_back(key);
  cache_.emplace(key, std::make_pair(*p, std::prev(lru_.end())));
  cache_used_ += size;
  return *p;
}

Result<File> Service::fetch(int64_t document_id, std::string_view format, int64_t expires_at,
                            std::string_view signature, const gate::Viewer& viewer) {
  if (!viewer.user_id) return Status::unauthenticated("请先登录后下载");
  std::optional<exporter::Format> f = exporter::parse_format(format);
  if (!f) return Status::invalid("format 只能是 docx、pdf 或 txt");
  const int64_t now = clock_.now();
  Result<std::string> k = key();
  if (!k.ok()) return k.status();
  const std::string expected =
      sign(*k, *viewer.user_id, document_id, exporter::format_name(*f), expires_at);
  if (!commerce::crypto::constant_time_equal(expected, signature)) {
    return Status::forbidden("下载链接无效：它属于另一个账号，或已被改动");
  }
  if (now > expires_at) return Status::forbidden("下载链接已过期，请回到文档页重新下载");

  Result<gate::DocumentView> view = library_.view(document_id, viewer);
  if (!view.ok()) return view.status();
  if (view->locked) return Status::forbidden("购买后才能下载全文");

  auto limit = limit_for(view->access, *viewer.user_id);
  if (!limit.ok()) return limit.status();
  auto p = prepared(*view, *f);
  if (!p.ok()) return p.status();

  store::NewDownload nd;
  nd.user_id = *viewer.user_id;
  nd.document_id = document_id;
  nd.revision = view->revision;
  nd.format = exporter::format_name(*f);
  // Free documents share one limit, whatever makes them free.
  nd.access = (view->access == gate::Access::kFreePrice || view->access == gate::Access::kNothingPaid)
                  ? "free"
                  : gate::access_name(view->access);
  nd.nonce = random_u32();
  nd.created_at = now;
  nd.limit = limit->first;
  nd.per_document = limit->second;
  nd.since = day_start(now);
  Result<store::Download> rec = stores_.downloads.record_download(nd);
  if (!rec.ok()) return rec.status();

  exporter::Mark mark;
  mark.download_id = static_cast<uint32_t>(rec->id);
  mark.nonce = static_cast<uint32_t>(rec->nonce);
  mark.user_id = rec->user_id;
  mark.order_id = rec->order_id;
  Result<std::string> bytes = exporter::stamp(**p, mark);
  if (!bytes.ok()) return bytes.status();
  File out;
  out.bytes = std::move(*bytes);
  out.content_type = exporter::content_type(*f);
  out.file_name = exporter::file_name(*view, *f);
  out.record = *rec;
  return out;
}

Result<File> Service::export_file(int64_t document_id, exporter::Format format) {
  Result<gate::DocumentView> view = library_.view(document_id, gate::Viewer::system());
  if (!view.ok()) return view.status();
  Result<std::string> bytes = exporter::render(*view, format, exporter::Mark{});
  if (!bytes.ok()) return bytes.status();
  File out;
  out.bytes = std::move(*bytes);
  out.content_type = exporter::content_type(format);
  out.file_name = exporter::file_name(*view, format);
  return out;
}

Result<TraceReport> Service::trace(std::string_view bytes) {
  TraceReport r;
  Result<exporter::TraceFound> found = exporter::trace_bytes(bytes);
  if (!found.ok()) return found.status();
  r.found = *found;
  r.payload = found->text_mark ? found->text_mark : found->metadata_mark;
  if (!r.payload) {
    r.problem = "no trace mark found";
    return r;
  }
  if (found->text_mark && found->metadata_mark && !(*found->text_mark == *found->metadata_mark)) {
    r.problem = "the text mark and the metadata mark disagree (the file was edited)";
  }
  if (r.payload->download_id == 0) {
    r.operator_export = true;
    if (r.problem.empty()) r.problem = "an operator export (paidoc export), not a reader's download";
    return r;
  }
  Result<store::Download> d = stores_.downloads.get_download(r.payload->download_id);
  if (!d.ok()) {
    if (d.status().code() != Code::kNotFound) return d.status();
    r.problem = fmt::format("mark names download {}, which this database does not hold",
                            r.payload->download_id);
    return r;
  }
  if (static_cast<uint32_t>(d->nonce) != r.payload->nonce) {
    r.problem = fmt::format("mark names download {} but its check value does not match (forged?)",
                            r.payload->download_id);
    return r;
  }
  r.download = *d;
  Result<store::User> u = stores_.accounts.get_user(d->user_id);
  if (u.ok()) r.user = *u;
  if (d->order_id) {
    // The order behind a download is always its user's.
    Result<commerce::Order> o = commerce_.order(d->user_id, d->order_id);
    if (o.ok()) r.order = *o;
  }
  Result<store::StoredDocument> doc = stores_.documents.get_document(d->document_id);
  if (doc.ok()) r.document_title = doc->summary.title;
  return r;
}

}  // namespace paidoc::downloads
