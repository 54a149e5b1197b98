#include "library/library.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/resources.h"
#include "doc/parser.h"
#include "sources/sources.h"
#include "store/taxonomy.h"

namespace paidoc::library {

namespace fs = std::filesystem;

namespace {

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

const char* outcome_word(store::PutOutcome o) {
  switch (o) {
    case store::PutOutcome::kCreated: return "imported";
    case store::PutOutcome::kUpdated: return "updated";
    case store::PutOutcome::kUnchanged: return "unchanged";
  }
  return "imported";
}

bool is_source_file(const fs::path& p) { return sources::is_source_name(p.string()); }

// A C0 control character, DEL, or a C1 one (U+0080..U+009F, C2 80..C2 9F):
// refused in upload file names (upload_bytes), like '/', '\\' and NUL.
bool has_control_character(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9F)
      return true;
  }
  return false;
}

}  // namespace

namespace {

std::string megabytes(int64_t bytes) {
  if (bytes < (int64_t{1} << 20)) return fmt::format("{:.1f} KB", bytes / 1024.0);
  return fmt::format("{:.1f} MB", bytes / 1048576.0);
}

// "PATH: source too large: the file is 12.0 MB, the limit is 5.0 MB; …"
std::string too_large(const std::string& path, const char* what, int64_t size, int64_t limit) {
  return fmt::format(
      "{}: source too large: {} is {}, the limit is {}; split the document, or raise "
      "--max-source-mb",
      path, what, megabytes(size), megabytes(limit));
}

}  // namespace

std::string ImportLine::to_string() const {
  if (!ok) return "error " + error;
  return fmt::format("{} {} {}", outcome_word(outcome), id, title);
}

std::optional<store::NewDocument> Library::prepare(std::string_view bytes, const std::string& path,
                                                   const ImportOptions& opts,
                                                   ImportLine* line) const {
  line->path = path;
  if (static_cast<int64_t>(bytes.size()) > max_source_bytes_) {
    line->error = too_large(path, "the file", static_cast<int64_t>(bytes.size()), max_source_bytes_);
    return std::nullopt;
  }
  // .txt as it is; .md and .docx converted first (sources/sources.h).
  sources::Loaded loaded = sources::load(bytes, path);
  if (!loaded.parsed.ok) {
    line->error = loaded.parsed.error.to_string();
    return std::nullopt;
  }
  if (static_cast<int64_t>(loaded.source_text.size()) > max_source_bytes_) {
    line->error = too_large(path, "its text", static_cast<int64_t>(loaded.source_text.size()),
                            max_source_bytes_);
    return std::nullopt;
  }
  // The category as the console would take it (Library::parse_category):
  // a name with control characters, '/', '?' or '#' is refused here, for
  // imports and uploads alike, before anything is stored.
  Result<std::string> category = parse_category(opts.category);
  if (!category.ok()) {
    line->error = fmt::format("{}: {}", path, category.status().message());
    return std::nullopt;
  }
  // The price as every other entry takes it: at most max_price (a price
  // of 2^63-1 fen once reached the page and the orders).
  if (Status price = check_price("price", opts.price); !price.is_ok()) {
    line->error = fmt::format("{}: {}", path, price.message());
    return std::nullopt;
  }
  store::NewDocument nd;
  nd.source_path = path;
  nd.source_sha256 = sha256_hex(bytes);
  // Keep the paidoc source text (decoded, or converted from .md/.docx): the
  // parsed form can always be rebuilt from it with doc::parse.
  nd.source_text = std::move(loaded.source_text);
  nd.parsed = std::move(loaded.parsed.document);
  bool has_paid = nd.parsed.figures.paid_chars > 0;
  nd.price = has_paid ? opts.price : Fen(0);
  nd.category = std::move(*category);
  nd.publisher_id = opts.publisher_id;
  nd.excerpt = gate::public_excerpt(nd.parsed);
  nd.actor = opts.actor;
  nd.status = opts.status;
  line->title = nd.parsed.title;
  return nd;
}

void Library::finish(const Result<store::PutResult>& put, ImportLine* line) {
  if (!put.ok()) {
    line->error = fmt::format("{}: not stored: {}", line->path, put.status().to_string());
    return;
  }
  line->ok = true;
  line->id = put->id;
  line->outcome = put->outcome;
}

ImportLine Library::import_bytes(std::string_view bytes, const std::string& path,
                                 const ImportOptions& opts) {
  ImportLine line;
  std::optional<store::NewDocument> nd = prepare(bytes, path, opts, &line);
  if (!nd) return line;
  finish(store_.put_document(*nd, clock_.now()), &line);
  return line;
}

Result<ImportLine> Library::upload_bytes(std::string_view bytes, const std::string& file_name,
                                         int64_t publisher_id, ImportOptions opts) {
  if (file_name.empty() || file_name.size() > kMaxUploadName ||
      file_name.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos ||
      has_control_character(file_name))
    return Status::invalid(fmt::format(
        "文件名不能为空、不能超过 {} 字节，也不能含有 /、\\、NUL 或其他控制字符", kMaxUploadName));
  opts.publisher_id = publisher_id;
  // Each publisher's uploads live under their own source path.
  const std::string prefix = fmt::format("upload/{}/", publisher_id);
  ImportLine line = import_bytes(bytes, prefix + file_name, opts);
  line.path = file_name;
  if (!line.ok && line.error.rfind(prefix, 0) == 0) line.error.erase(0, prefix.size());
  // The store recognises the same bytes under any path as one document:
  // when they are another publisher's, the upload is refused (nothing was
  // stored) instead of answering with their document.
  if (line.ok && line.outcome == store::PutOutcome::kUnchanged) {
    Result<store::StoredDocument> existing = store_.get_document(line.id);
    if (!existing.ok() || existing->publisher_id != std::optional<int64_t>(publisher_id)) {
      ImportLine refused;
      refused.path = file_name;
      refused.error = fmt::format(
          "{}: not stored: the same file is already published by another account", file_name);
      return refused;
    }
  }
  return line;
}

namespace {

// The canonical path a file is stored under (its identity across imports).
std::string source_key(const std::string& path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  return ec ? path : canonical.string();
}

// Errors name the path as the user typed it.
void restore_path(const std::string& key, const std::string& path, ImportLine* line) {
  if (!line->ok && key != path && line->error.rfind(key, 0) == 0)
    line->error = path + line->error.substr(key.size());
  line->path = path;
}

// The file's bytes; a file larger than `limit` is refused before it is read.
Result<std::string> read_all(const std::string& path, int64_t limit) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec && size > static_cast<uintmax_t>(limit)) {
    return Status::invalid(too_large(path, "the file", static_cast<int64_t>(size), limit));
  }
  return read_file(path);
}

}  // namespace

ImportLine Library::import_file(const std::string& path, const ImportOptions& opts) {
  Result<std::string> bytes = read_all(path, max_source_bytes_);
  if (!bytes.ok()) {
    ImportLine line;
    line.path = path;
    line.error = bytes.status().message();
    return line;
  }
  std::string key = source_key(path);
  ImportLine line = import_bytes(*bytes, key, opts);
  restore_path(key, path, &line);
  return line;
}

void Library::import_files(const std::vector<std::string>& paths, const ImportOptions& opts,
                           const ImportBatching& batching,
                           const std::function<void(const ImportLine&)>& on_line) {
  const size_t batch = static_cast<size_t>(std::max(1, batching.batch));
  const size_t threads = static_cast<size_t>(std::max(1, batching.threads));

  // One batch read and parsed: its lines (errors filled in) and, for the
  // sources that parsed, the documents to put with their line index.
  struct Parsed {
    size_t begin = 0;
    std::vector<ImportLine> lines;
    std::vector<std::string> keys;
    std::vector<store::NewDocument> docs;
    std::vector<size_t> doc_line;
  };
  auto parse_batch = [&](size_t begin) {
    Parsed p;
    p.begin = begin;
    size_t n = std::min(batch, paths.size() - begin);
    p.lines.resize(n);
    p.keys.resize(n);
    std::vector<std::optional<store::NewDocument>> docs(n);
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i = next++; i < n; i = next++) {
        const std::string& path = paths[begin + i];
        p.keys[i] = source_key(path);
        Result<std::string> bytes = read_all(path, max_source_bytes_);
        if (!bytes.ok()) {
          p.lines[i].path = path;
          p.lines[i].error = bytes.status().message();
          continue;
        }
        docs[i] = prepare(*bytes, p.keys[i], opts, &p.lines[i]);
      }
    };
    std::vector<std::thread> helpers;
    for (size_t t = 1; t < std::min(threads, n); ++t) helpers.emplace_back(work);
    work();
    for (auto& t : helpers) t.join();
    for (size_t i = 0; i < n; ++i) {
      if (!docs[i]) continue;
      p.docs.push_back(std::move(*docs[i]));
      p.doc_line.push_back(i);
    }
    return p;
  };
  // Stores one parsed batch in one transaction, then reports its lines:
  // nothing is reported before it is durable.
  auto store_batch = [&](Parsed p) {
    if (!p.docs.empty()) {
      Result<std::vector<Result<store::PutResult>>> put = store_.put_documents(p.docs, clock_.now());
      for (size_t j = 0; j < p.docs.size(); ++j)
        finish(put.ok() ? (*put)[j] : Result<store::PutResult>(put.status()), &p.lines[p.doc_line[j]]);
    }
    for (size_t i = 0; i < p.lines.size(); ++i) {
      restore_path(p.keys[i], paths[p.begin + i], &p.lines[i]);
      on_line(p.lines[i]);
    }
  };

  // A pipeline of two: batch k commits while batch k+1 is read and parsed.
  std::future<void> storing;
  for (size_t begin = 0; begin < paths.size(); begin += batch) {
    Parsed p = parse_batch(begin);
    if (storing.valid()) storing.get();
    storing = std::async(std::launch::async, store_batch, std::move(p));
  }
  if (storing.valid()) storing.get();
}

std::vector<std::string> Library::collect_sources(const std::vector<std::string>& paths,
                                                  std::vector<std::string>* missing) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_regular_file(ec) && is_source_file(it->path())) found.push_back(it->path().string());
      }
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      out.push_back(p);  // a file named explicitly is imported whatever its extension
    } else if (missing) {
      missing->push_back(p);
    }
  }
  return out;
}

Result<gate::DocumentView> Library::view(int64_t id, const gate::Viewer& viewer) {
  Result<store::StoredDocument> sd = store_.get_document(id);
  if (!sd.ok()) return sd.status();
  // A draft is not public: to anyone who may not edit it, it does not exist.
  if (sd->summary.status != store::DocStatus::kPublished && !may_edit(viewer, sd->publisher_id))
    return Status::not_found("document " + std::to_string(id) + " does not exist");
  // The title shown is the publisher's when set.
  sd->parsed.title = sd->summary.title;
  gate::GateInput in;
  in.summary = sd->summary_text;
  in.facts = {sd->summary.id, sd->summary.price, sd->publisher_id, sd->summary.has_paid_text};
  in.revision = sd->summary.revision;
  in.category = sd->summary.category;
  // Tags are metadata of the page, like the category (store/taxonomy.h;
  // every Store is a TaxonomyStore).
  if (auto* taxonomy = dynamic_cast<store::TaxonomyStore*>(&store_)) {
    Result<std::vector<std::string>> tags = taxonomy->document_tags(id);
    if (!tags.ok()) return tags.status();
    in.tags = std::move(*tags);
  }
  in.created_at = sd->summary.created_at;
  in.updated_at = sd->summary.updated_at;
  in.document = &sd->parsed;
  return gate::make_view(in, viewer);
}

// --- the console ---------------------------------------------------------------

bool Library::may_edit(const gate::Viewer& who, std::optional<int64_t> publisher_id) {
  switch (who.role) {
    case gate::Role::kAdmin:
    case gate::Role::kSystem:
      return true;
    case gate::Role::kEditor:
      return who.user_id && publisher_id && *who.user_id == *publisher_id;
    default:
      return false;
  }
}

namespace {

bool console_role(const gate::Viewer& who) {
  return who.role == gate::Role::kAdmin || who.role == gate::Role::kSystem ||
         (who.role == gate::Role::kEditor && who.user_id);
}

Status forbidden() { return Status(Code::kForbidden, "没有权限"); }

// Code points in UTF-8 text (continuation bytes not counted).
size_t chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string trimmed(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

Status refuse(FormError* error, std::string field, std::string message, int line = 0,
              int column = 0) {
  if (error) *error = FormError{field, message, line, column};
  return Status::invalid(std::move(message));
}

constexpr size_t kMaxTitleChars = 200;
constexpr size_t kMaxSummaryChars = 500;

}  // namespace

Result<Fen> Library::parse_price(std::string_view yuan) const {
  std::string t = trimmed(yuan);
  if (t.empty()) return Status::invalid("价格：请填写价格（元），免费填 0");
  Result<Fen> fen = Fen::parse_yuan(t);
  // Digits past what Fen::parse_yuan reads are a price above any limit.
  if (!fen.ok() && fen.status().message().find("too large") != std::string::npos)
    return Status::invalid(fmt::format("价格：不能超过 {} 元（填写的金额远超上限）",
                                       max_price_.plain_yuan_string()));
  if (!fen.ok())
    return Status::invalid(fmt::format("价格：请填写 0 到 {} 之间的金额（元），最多两位小数",
                                       max_price_.plain_yuan_string()));
  if (*fen > max_price_)
    return Status::invalid(fmt::format("价格：不能超过 {} 元（填写的是 {} 元）",
                                       max_price_.plain_yuan_string(), fen->plain_yuan_string()));
  return *fen;
}

Status Library::check_price(const std::string& field, Fen price) const {
  if (price.value() < 0)
    return Status::invalid(fmt::format("{}: ¥{} is negative", field, price.yuan_string()));
  if (price > max_price_)
    return Status::invalid(fmt::format("{}: ¥{} ({} fen) is above the maximum price ¥{} ({} fen; --max-price)",
                                       field, price.yuan_string(), price.value(),
                                       max_price_.yuan_string(), max_price_.value()));
  return Status();
}

Result<std::string> Library::parse_category(std::string_view raw) {
  if (trimmed(raw).empty()) return std::string();
  return store::normalize_term_name(store::TermKind::kCategory, raw);
}

Result<store::ListPage> Library::console_list(const gate::Viewer& who, store::ListQuery q) {
  if (!console_role(who)) return forbidden();
  if (who.role == gate::Role::kEditor) {
    q.publisher_id = who.user_id;
    q.publisher_email.clear();
  }
  return store_.list_documents(q);
}

Result<Editable> Library::editable(const gate::Viewer& who, int64_t id) {
  if (!console_role(who)) return forbidden();
  Result<store::StoredDocument> sd = store_.get_document(id);
  if (!sd.ok()) return sd.status();
  if (!may_edit(who, sd->publisher_id)) return forbidden();
  Result<std::vector<store::DocumentRevision>> revs = store_.document_revisions(id);
  if (!revs.ok()) return revs.status();
  Editable out{std::move(*sd), {}, std::move(*revs)};
  if (auto* taxonomy = dynamic_cast<store::TaxonomyStore*>(&store_)) {
    Result<std::vector<std::string>> tags = taxonomy->document_tags(id);
    if (!tags.ok()) return tags.status();
    out.tags = std::move(*tags);
  }
  return out;
}

namespace {

// The form's tags, normalised; nullopt when the form leaves them as they are.
Result<std::optional<std::vector<std::string>>> tags_of(const DocumentForm& f, FormError* error) {
  if (!f.tags) return std::optional<std::vector<std::string>>();
  Result<std::vector<std::string>> names =
      store::normalize_tag_names(store::split_term_names(*f.tags));
  if (!names.ok()) {
    std::string message = names.status().message();
    if (!message.starts_with("标签")) message = "标签：" + message;
    return refuse(error, "tags", message);
  }
  return std::optional<std::vector<std::string>>(std::move(*names));
}

// A form checked and parsed into the document to save.
Result<store::NewDocument> document_of(const DocumentForm& f, const Library& library,
                                       FormError* error) {
  const int64_t max_source_bytes = library.max_source_bytes();
  store::NewDocument nd;
  if (trimmed(f.source).empty()) return refuse(error, "source", "正文：不能为空");
  if (static_cast<int64_t>(f.source.size()) > max_source_bytes) {
    return refuse(error, "source",
                  fmt::format("正文：共 {:.1f} MB，超过了 {:.1f} MB 的上限；请拆分成几篇文档",
                              f.source.size() / 1048576.0, max_source_bytes / 1048576.0));
  }
  sources::Loaded loaded = sources::load(f.source, "editor.txt");
  if (!loaded.parsed.ok) {
    const doc::ParseError& e = loaded.parsed.error;
    std::string where = e.line > 0 ? fmt::format("正文第 {} 行第 {} 列：", e.line, e.column)
                                   : std::string("正文：");
    return refuse(error, "source", where + e.reason, e.line, e.column);
  }
  std::string title = trimmed(f.title);
  if (chars(title) > kMaxTitleChars)
    return refuse(error, "title", fmt::format("标题：不能超过 {} 个字", kMaxTitleChars));
  if (title.find('\n') != std::string::npos) return refuse(error, "title", "标题：只能有一行");
  Result<Fen> price = library.parse_price(f.price_yuan);
  if (!price.ok()) return refuse(error, "price_yuan", price.status().message());
  Result<std::string> category = Library::parse_category(f.category);
  if (!category.ok()) return refuse(error, "category", category.status().message());
  std::string summary = trimmed(f.summary);
  if (chars(summary) > kMaxSummaryChars)
    return refuse(error, "summary", fmt::format("摘要：不能超过 {} 个字", kMaxSummaryChars));
  std::optional<store::DocStatus> status = store::parse_doc_status(f.status);
  if (!status) return refuse(error, "status", "状态：请选择草稿或已发布");
  nd.source_text = std::move(loaded.source_text);
  nd.source_sha256 = sha256_hex(nd.source_text);
  nd.parsed = std::move(loaded.parsed.document);
  nd.title = title.empty() ? nd.parsed.title : title;
  nd.price = *price;
  nd.category = std::move(*category);
  nd.summary = std::move(summary);
  nd.status = *status;
  nd.excerpt = gate::public_excerpt(nd.parsed);
  return nd;
}

}  // namespace

Result<Preview> Library::preview(const gate::Viewer& who, int64_t id, const DocumentForm& form,
                                 FormError* error) {
  if (!console_role(who)) return forbidden();
  std::optional<int64_t> publisher = who.user_id;
  if (id != 0) {
    Result<store::StoredDocument> sd = store_.get_document(id);
    if (!sd.ok()) return sd.status();
    if (!may_edit(who, sd->publisher_id)) return forbidden();
    publisher = sd->publisher_id;
  }
  Result<store::NewDocument> nd = document_of(form, *this, error);
  if (!nd.ok()) return nd.status();
  Result<std::optional<std::vector<std::string>>> tags = tags_of(form, error);
  if (!tags.ok()) return tags.status();
  doc::Document d = nd->parsed;
  d.title = nd->title;
  gate::GateInput in;
  in.facts = {id, nd->price, publisher, d.figures.paid_chars > 0};
  in.category = nd->category;
  in.summary = nd->summary;
  if (*tags) in.tags = std::move(**tags);
  in.document = &d;
  // A buyer: a signed-in reader who bought this document (an account id
  // no real account has); a reader: no access at all.
  gate::Viewer buyer{int64_t{-1}, gate::Role::kReader, false, {id}};
  gate::Viewer reader{std::nullopt, gate::Role::kReader, false, {}};
  return Preview{gate::make_view(in, buyer), gate::make_view(in, reader)};
}

Result<store::PutResult> Library::save(const gate::Viewer& who, int64_t id,
                                       const DocumentForm& form, const store::AuditActor& actor,
                                       FormError* error) {
  if (!console_role(who)) return forbidden();
  std::string stored_path;
  if (id != 0) {
    Result<store::StoredDocument> sd = store_.get_document(id);
    if (!sd.ok()) return sd.status();
    if (!may_edit(who, sd->publisher_id)) return forbidden();
    stored_path = sd->source_path;  // kept: the store keeps it as stored
  }
  Result<store::NewDocument> nd = document_of(form, *this, error);
  if (!nd.ok()) return nd.status();
  Result<std::optional<std::vector<std::string>>> tags = tags_of(form, error);
  if (!tags.ok()) return tags.status();
  nd->source_path = stored_path;
  store::DocumentEdit edit;
  edit.id = id;
  edit.base_revision = form.base_revision;
  edit.tags = std::move(*tags);
  edit.doc = std::move(*nd);
  edit.doc.actor = actor;
  if (id == 0) {
    // A document written in the console: its own source path, published
    // by whoever wrote it.
    edit.doc.publisher_id = who.user_id;
    edit.doc.source_path = fmt::format("console/{}/{}", who.user_id.value_or(0),
                                       edit.doc.source_sha256);
  }
  Result<store::PutResult> put = store_.save_document(edit, clock_.now());
  if (!put.ok() && put.status().code() == Code::kConflict) {
    std::string message = form.base_revision > 0 && id != 0 &&
                                  put.status().message().find("revision") != std::string::npos
                              ? "保存失败：这篇文档已被他人修改，请重新打开编辑页后再改"
                              : "正文：与另一篇文档的正文完全相同";
    refuse(error, id != 0 && message.starts_with("保存") ? "base_revision" : "source", message);
    return Status::conflict(message);
  }
  return put;
}

Result<store::PutResult> Library::restore(const gate::Viewer& who, int64_t id, int64_t revision,
                                          const store::AuditActor& actor) {
  if (!console_role(who)) return forbidden();
  Result<store::StoredDocument> sd = store_.get_document(id);
  if (!sd.ok()) return sd.status();
  if (!may_edit(who, sd->publisher_id)) return forbidden();
  Result<store::DocumentRevision> rev = store_.get_document_revision(id, revision);
  if (!rev.ok()) return rev.status();
  sources::Loaded loaded = sources::load(rev->source_text, "revision.txt");
  if (!loaded.parsed.ok) return Status::internal("revision does not parse: " + loaded.parsed.error.to_string());
  store::DocumentEdit edit;
  edit.id = id;
  edit.base_revision = sd->summary.revision;
  edit.restored_from = revision;
  store::NewDocument& nd = edit.doc;
  nd.source_path = sd->source_path;
  nd.source_text = rev->source_text;
  nd.source_sha256 = rev->source_sha256;
  nd.parsed = std::move(loaded.parsed.document);
  nd.title = rev->title;
  nd.price = rev->price;
  nd.category = rev->category;
  nd.summary = rev->summary;
  nd.status = rev->status;
  nd.excerpt = gate::public_excerpt(nd.parsed);
  nd.actor = actor;
  Result<store::PutResult> put = store_.save_document(edit, clock_.now());
  if (!put.ok() && put.status().code() == Code::kConflict)
    return Status::conflict("恢复失败：这篇文档刚被修改过，或另一篇文档的正文与该版本相同");
  return put;
}

Result<int64_t> Library::bulk(const gate::Viewer& who, const std::vector<int64_t>& ids,
                              const store::BulkChange& change, const store::AuditActor& actor) {
  if (!console_role(who)) return forbidden();
  if (change.kind == store::BulkChange::Kind::kPrice &&
      (change.price.value() < 0 || change.price > max_price_))
    return Status::invalid(fmt::format("价格：须在 0 到 {} 元之间（填写的是 {} 元）",
                                       max_price_.plain_yuan_string(), change.price.plain_yuan_string()));
  store::BulkChange checked = change;
  if (change.kind == store::BulkChange::Kind::kCategory) {
    Result<std::string> category = parse_category(change.category);
    if (!category.ok()) return category.status();
    checked.category = std::move(*category);
  }
  // Selecting a document one may not edit is refused as a whole (the
  // console never offers one: only a forged request does).
  for (int64_t id : ids) {
    Result<store::StoredDocument> sd = store_.get_document(id);
    if (!sd.ok() && sd.status().code() == Code::kNotFound) continue;
    if (!sd.ok()) return sd.status();
    if (!may_edit(who, sd->publisher_id)) return forbidden();
  }
  // The rule of may_edit again, inside the store's transaction: an
  // editor's change reaches only documents they published.
  std::optional<int64_t> only;
  if (who.role == gate::Role::kEditor) only = who.user_id;
  return store_.bulk_update_documents(ids, checked, only, actor, clock_.now());
}

Result<int> Library::seed_demo() {
  Result<int64_t> n = store_.count_documents();
  if (!n.ok()) return n.status();
  if (*n > 0) return 0;
  std::string_view manifest;
  if (!resource("demo/manifest.json", &manifest))
    return Status::internal("demo/manifest.json is not embedded in this build");
  nlohmann::json entries = nlohmann::json::parse(manifest, nullptr, false);
  if (!entries.is_array()) return Status::internal("demo/manifest.json is not a JSON array");
  int imported = 0;
  for (const auto& e : entries) {
    std::string file = e.value("file", "");
    std::string_view bytes;
    if (!resource("demo/" + file, &bytes))
      return Status::internal(fmt::format("demo file {} is missing", file));
    Result<Fen> price = Fen::parse_yuan(e.value("price", "0"));
    if (!price.ok()) return Status::internal(fmt::format("demo/manifest.json: {}: {}", file, price.status().message()));
    ImportOptions opts;
    opts.price = *price;
    opts.category = e.value("category", "");
    ImportLine line = import_bytes(bytes, "demo:" + file, opts);
    if (!line.ok) return Status::internal("demo document rejected: " + line.error);
    ++imported;
  }
  return imported;
}

}  // namespace paidoc::library
