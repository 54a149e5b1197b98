// Damaging a SQLite database file the way a failing disk or a stray write
// does: garbage over the inside of a table's b-tree interior pages (the
// pages that point to other pages), while the file header, page 1 and the
// table's leaf pages stay as they were. SQLite then opens the file and reads
// rows that need no damaged page, but any read that passes a damaged page
// answers "database disk image is malformed".
//
// Header-only, for tests. The file is read and written directly; SQLite is
// used only to checkpoint the WAL first and to find the table's root page.
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace paidoc::testing {

namespace corrupt_detail {

inline uint32_t be16(const std::vector<unsigned char>& p, size_t at) {
  return (uint32_t{p.at(at)} << 8) | p.at(at + 1);
}
inline uint32_t be32(const std::vector<unsigned char>& p, size_t at) {
  return (be16(p, at) << 16) | be16(p, at + 2);
}

}  // namespace corrupt_detail

// The page numbers of the interior pages of `table`'s b-tree in the SQLite
// file `path` (root first), and the page size. Checkpoints the WAL into the
// file first, so the file holds every committed page: another process may
// have the database open, but must not be writing.
// Throws std::runtime_error when the file cannot be read or has no such table.
inline std::vector<uint32_t> interior_pages(const std::string& path, const std::string& table,
                                            uint32_t* page_size) {
  using namespace corrupt_detail;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close_v2(db);
    throw std::runtime_error("cannot open " + path);
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  uint32_t root = 0;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                         -1, &st, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, table.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) root = static_cast<uint32_t>(sqlite3_column_int64(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close_v2(db);
  if (root == 0) throw std::runtime_error("no table " + table + " in " + path);

  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> header(100);
  if (!in.read(reinterpret_cast<char*>(header.data()), 100)) throw std::runtime_error("cannot read " + path);
  uint32_t size = be16(header, 16);
  if (size == 1) size = 65536;
  *page_size = size;

  std::vector<uint32_t> out;
  std::function<void(uint32_t)> walk = [&](uint32_t pgno) {
    std::vector<unsigned char> page(size);
    in.seekg(static_cast<std::streamoff>(pgno - 1) * size);
    if (!in.read(reinterpret_cast<char*>(page.data()), size)) throw std::runtime_error("cannot read a page");
    const size_t h = pgno == 1 ? 100 : 0;  // page 1 starts with the file header
    if (page[h] != 0x05) return;           // a leaf: 0x05 is a table b-tree interior page
    out.push_back(pgno);
    const uint32_t cells = be16(page, h + 3);
    for (uint32_t i = 0; i < cells; ++i) walk(be32(page, be16(page, h + 12 + 2 * i)));
    walk(be32(page, h + 8));  // the right-most child
  };
  walk(root);
  return out;
}

// Overwrites the cell content area (child page numbers and keys) of every
// interior page of `table` in `path` with pseudo-random bytes; page headers
// and cell pointer arrays stay. Answers how many pages were damaged (0 when
// the table fits in one page: then there is nothing to damage). See
// interior_pages for what may have the file open.
inline int damage_interior_pages(const std::string& path, const std::string& table) {
  using namespace corrupt_detail;
  uint32_t size = 0;
  const std::vector<uint32_t> pages = interior_pages(path, table, &size);
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  uint32_t seed = 0x9e3779b9u;
  for (uint32_t pgno : pages) {
    std::vector<unsigned char> page(size);
    f.seekg(static_cast<std::streamoff>(pgno - 1) * size);
    f.read(reinterpret_cast<char*>(page.data()), size);
    const size_t h = pgno == 1 ? 100 : 0;
    uint32_t content = be16(page, h + 5);
    if (content == 0) content = 65536;
    const size_t from = std::max<size_t>(content, h + 12 + 2 * be16(page, h + 3));
    for (size_t i = from; i < size; ++i) {
      seed = seed * 1664525u + 1013904223u;
      page[i] = static_cast<unsigned char>(seed >> 24);
    }
    f.seekp(static_cast<std::streamoff>(pgno - 1) * size);
    f.write(reinterpret_cast<const char*>(page.data()), size);
  }
  f.flush();
  if (!f) throw std::runtime_error("cannot write " + path);
  return static_cast<int>(pages.size());
}

}  // namespace paidoc::testing
