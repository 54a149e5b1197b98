#include "library/library.h"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/resources.h"
#include "doc/parser.h"

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

bool is_source_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == ".txt";
}

}  // namespace

std::string ImportLine::to_string() const {
  if (!ok) return "error " + error;
  return fmt::format("{} {} {}", outcome_word(outcome), id, title);
}

ImportLine Library::import_bytes(std::string_view bytes, const std::string& path,
                                 const ImportOptions& opts) {
  ImportLine line;
  line.path = path;
  doc::ParseResult parsed = doc::parse(bytes, path);
  if (!parsed.ok) {
    line.error = parsed.error.to_string();
    return line;
  }
  store::NewDocument nd;
  nd.source_path = path;
  nd.source_sha256 = sha256_hex(bytes);
  // Keep the decoded source: the parsed form can always be rebuilt from it.
  std::string encoding;
  doc::ParseError ignored;
  doc::decode(bytes, &nd.source_text, &encoding, &ignored);
  nd.parsed = std::move(parsed.document);
  bool has_paid = nd.parsed.figures.paid_chars > 0;
  nd.price = has_paid ? opts.price : Fen(0);
  nd.category = opts.category;
  nd.publisher_id = opts.publisher_id;
  nd.excerpt = gate::public_excerpt(nd.parsed);
  line.title = nd.parsed.title;
  Result<store::PutResult> put = store_.put_document(nd, clock_.now());
  if (!put.ok()) {
    line.error = fmt::format("{}: not stored: {}", path, put.status().to_string());
    return line;
  }
  line.ok = true;
  line.id = put->id;
  line.outcome = put->outcome;
  return line;
}

ImportLine Library::import_file(const std::string& path, const ImportOptions& opts) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  std::string key = ec ? path : canonical.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ImportLine line;
    line.path = path;
    line.error = fmt::format("{}: cannot read file", path);
    return line;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  ImportLine line = import_bytes(buf.str(), key, opts);
  // Report errors with the path as the user typed it.
  if (!line.ok && key != path && line.error.rfind(key, 0) == 0)
    line.error = path + line.error.substr(key.size());
  line.path = path;
  return line;
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
