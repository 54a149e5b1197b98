// rebuild_only: times a full rebuild of the search index of an existing
// data folder (the corpus search_corpus built, or any paidoc database), in
// MB/s of indexed text: for trying index settings without re-importing.
//
//   rebuild_only DIR/paidoc.db ["SQL to run first"]
#include <chrono>
#include <cstdio>
#include <string>

#include "store/sqlite/connection.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: rebuild_only DB [SQL]\n");
    return 2;
  }
  auto conn = paidoc::store::sqlite::Connection::open(argv[1], 60000);
  if (!conn.ok()) {
    std::fprintf(stderr, "rebuild_only: %s\n", conn.status().to_string().c_str());
    return 1;
  }
  if (argc > 2) {
    if (auto s = (*conn)->exec_script(argv[2], "running the given SQL"); !s.is_ok()) {
      std::fprintf(stderr, "rebuild_only: %s\n", s.to_string().c_str());
      return 1;
    }
  }
  double text_mb = 0;
  {
    auto st = (*conn)->stmt(
        "SELECT sum(length(CAST(title AS BLOB)) + length(CAST(search_free AS BLOB)) +"
        " length(CAST(search_paid AS BLOB))) FROM documents");
    if (!st.ok() || !st->step().ok()) return 1;
    text_mb = static_cast<double>(st->int64(0)) / 1e6;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto s = (*conn)->exec_script("INSERT INTO documents_fts(documents_fts) VALUES('rebuild')",
                                "rebuilding documents_fts");
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!s.is_ok()) {
    std::fprintf(stderr, "rebuild_only: %s\n", s.to_string().c_str());
    return 1;
  }
  std::printf("indexed_text_mb: %.2f\nrebuild_seconds: %.2f\nrebuild_text_mb_per_s: %.2f\n", text_mb,
              sec, text_mb / sec);
  return 0;
}
