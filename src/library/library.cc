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

#include "common/resources.h"
#include "doc/parser.h"
#include "sources/sources.h"

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

}  // namespace

std::string ImportLine::to_string() const {
  if (!ok) return "error " + error;
  return fmt::format("{} {} {}", outcome_word(outcome), id, title);
}

std::optional<store::NewDocument> Library::prepare(std::string_view bytes, const std::string& path,
                                                   const ImportOptions& opts, ImportLine* line) {
  line->path = path;
  // .txt as it is; .md and .docx converted first (sources/sources.h).
  sources::Loaded loaded = sources::load(bytes, path);
  if (!loaded.parsed.ok) {
    line->error = loaded.parsed.error.to_string();
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
  nd.category = opts.category;
  nd.publisher_id = opts.publisher_id;
  nd.excerpt = gate::public_excerpt(nd.parsed);
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
      file_name.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos)
    return Status::invalid(fmt::format(
        "文件名不能为空、不能超过 {} 字节，也不能含有 /、\\ 或 NUL 字符", kMaxUploadName));
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

std::optional<std::string> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buf;
  buf << in.rdbuf();
  return std::move(buf).str();
}

}  // namespace

ImportLine Library::import_file(const std::string& path, const ImportOptions& opts) {
  std::optional<std::string> bytes = read_all(path);
  if (!bytes) {
    ImportLine line;
    line.path = path;
    line.error = fmt::format("{}: cannot read file", path);
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
        std::optional<std::string> bytes = read_all(path);
        if (!bytes) {
          p.lines[i].path = path;
          p.lines[i].error = fmt::format("{}: cannot read file", path);
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
  gate::GateInput in;
  in.facts = {sd->summary.id, sd->summary.price, sd->publisher_id, sd->summary.has_paid_text};
  in.revision = sd->summary.revision;
  in.category = sd->summary.category;
  in.created_at = sd->summary.created_at;
  in.updated_at = sd->summary.updated_at;
  in.document = &sd->parsed;
  return gate::make_view(in, viewer);
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
    ImportOptions opts{*price, e.value("category", ""), std::nullopt};
    ImportLine line = import_bytes(bytes, "demo:" + file, opts);
    if (!line.ok) return Status::internal("demo document rejected: " + line.error);
    ++imported;
  }
  return imported;
}

}  // namespace paidoc::library
