// Copying a whole site from one backend to another (`paidoc migrate`), as
// rows: a backend-neutral stream of tables, each a list of named columns
// and rows of nullable integer or text values.
//
//   SiteExport  a store that can hand out every row it holds, in one
//               snapshot (the SQLite backend)
//   SiteImport  a store that can take a whole site in one transaction
//               (the PostgreSQL backend)
//
// Tables come in dependency order (a row's foreign keys point at tables
// already sent) and keep their ids, so everything that names an id (links,
// download trace marks, ledger rows) means the same on the target. Only
// stored facts travel: an index the target derives from them (full-text
// search, search facts, the document frequencies behind keywords) is
// rebuilt there. Column names are the backends' business; both sides map
// them by name.
//
// Callers find these interfaces by dynamic_cast of the Store they opened
// (store.h): a backend that does not implement one cannot be a source or a
// target.
//
// Thread-safety: as the Store implementing them. A RowSink is driven by one
// thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace paidoc::store {

// One value of a row: NULL, an integer or text.
struct Cell {
  enum class Kind { kNull, kInteger, kText };
  Kind kind = Kind::kNull;
  int64_t integer = 0;
  std::string text;

  static Cell null() { return Cell{}; }
  static Cell of(int64_t v) { return Cell{Kind::kInteger, v, {}}; }
  static Cell of(std::string v) { return Cell{Kind::kText, 0, std::move(v)}; }
  bool operator==(const Cell&) const = default;
};

// Where exported rows go. For each table: begin_table, row for each row
// (cells in the order of `columns`), end_table. A non-ok Status from the
// sink stops the export, which returns it.
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual Status begin_table(const std::string& table, const std::vector<std::string>& columns) = 0;
  virtual Status row(const std::vector<Cell>& cells) = 0;
  virtual Status end_table() = 0;
};

class SiteExport {
 public:
  virtual ~SiteExport() = default;
  // Sends every stored table to `sink`, in dependency order, all read in
  // one snapshot (writes that commit meanwhile are not seen, so a site
  // that is serving is copied consistently). kInternal when the database
  // holds a table the export does not know (a schema this program cannot
  // copy whole).
  virtual Status export_site(RowSink& sink) = 0;
};

// How many rows of one table the source sent and the target holds.
struct TableCount {
  std::string table;
  int64_t source_rows = 0;
  int64_t target_rows = 0;
};

struct ImportReport {
  // In the order they came; target_rows counted right after each table's
  // rows went in.
  std::vector<TableCount> tables;
  // Documents whose search index the target rebuilt, and the words of the
  // document frequencies it recounted for that (words no document holds
  // any more are not kept, so there may be fewer than the source had).
  int64_t reindexed = 0;
  int64_t words = 0;
};

class SiteImport {
 public:
  virtual ~SiteImport() = default;
  // Takes a whole site: `fill` is called once with a sink and drives it
  // (typically another store's export_site). Everything happens in one
  // transaction: on any error nothing is kept. The target must hold no
  // data yet (kFailedPrecondition naming the tables that do); every row
  // keeps its id and new ids continue after the largest copied one. The
  // search index is rebuilt from the copied documents before the commit.
  // A table or column the target does not have is kInvalidArgument naming
  // it. The report's target counts are read inside the transaction; one
  // that differs from what was sent fails the import.
  virtual Result<ImportReport> import_site(const std::function<Status(RowSink&)>& fill) = 0;
};

// The schema version of an existing database, without changing it.
struct StoredVersion {
  int version = 0;  // the database's
  int latest = 0;   // what Store::open would migrate it to
};
// For "sqlite:PATH" only. kNotFound when there is no file at PATH,
// kInvalidArgument when it is not a SQLite database or not a paidoc one
// (no schema_migrations), or for another scheme.
Result<StoredVersion> stored_schema_version(const std::string& url);

}  // namespace paidoc::store
