// Store: the one storage interface. Callers (library services, CLI) use only
// this header; SQL lives in the backends (store/sqlite/, later
// store/postgres/). Store::open picks the backend from a URL.
//
// Thread-safety: a Store is safe to use from many threads at once; backends
// keep their own connection pools. Every write method is one transaction:
// it either happens whole or leaves stored data as it was.
//
// Errors: kNotFound for a missing id, kInvalidArgument for bad input,
// kUnavailable when the database cannot be reached or is busy past its
// timeout, kInternal for anything else. Driver exceptions never escape.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "doc/document.h"

namespace paidoc::store {

struct Category {
  int64_t id = 0;
  std::string name;          // as shown and as used in /c/{name}
  int64_t document_count = 0;  // filled by list_categories()
};

// A document to put. source_sha256 identifies the exact source bytes.
struct NewDocument {
  std::string source_path;    // canonical path it was imported from
  std::string source_sha256;  // hex of SHA-256 over the raw source bytes
  std::string source_text;    // decoded UTF-8 source, markers included
  doc::Document parsed;
  Fen price;
  std::string category;       // empty: uncategorised; created if missing
  std::string excerpt;        // gate::public_excerpt(parsed): free text only
  std::optional<int64_t> publisher_id;
};

enum class PutOutcome { kCreated, kUpdated, kUnchanged };

struct PutResult {
  int64_t id = 0;
  PutOutcome outcome = PutOutcome::kCreated;
};

// What listings, feeds and the sitemap need; holds no paid text (excerpt is
// free text only, counts are numbers).
struct DocumentSummary {
  int64_t id = 0;
  int64_t revision = 0;
  std::string title;
  std::string category;
  Fen price;
  std::string excerpt;
  doc::Figures figures;
  bool has_paid_text = false;
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
};

struct StoredDocument {
  DocumentSummary summary;
  std::string source_path;
  std::string source_sha256;
  std::string source_text;
  std::optional<int64_t> publisher_id;
  doc::Document parsed;
};

struct ListQuery {
  std::string category;  // empty: all
  int64_t offset = 0;
  int64_t limit = 20;    // REQUIRES: 1..1000
};

struct ListPage {
  std::vector<DocumentSummary> items;  // newest (created_at, id) first
  int64_t total = 0;                   // matching documents in all pages
};

// ---- accounts -----------------------------------------------------------------

// A user account. role is "reader", "editor" or "admin" (the database checks
// it). password_hash is an argon2id string from libsodium (auth module); the
// store never sees a password.
struct User {
  int64_t id = 0;
  std::string email;          // normalised (trimmed, lower-case); unique
  std::string password_hash;  // empty once the account is deleted
  std::string role = "reader";
  int64_t created_at = 0;
  int64_t deleted_at = 0;     // 0: live. Deleted accounts keep their row, anonymised
};

struct NewUser {
  std::string email;
  std::string password_hash;
  std::string role = "reader";
};

// A login session. The token itself is never stored, only its SHA-256.
struct Session {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string token_hash;  // hex SHA-256 of the bearer/cookie token; unique
  int64_t created_at = 0;
  int64_t last_seen_at = 0;
  int64_t expires_at = 0;  // absolute expiry
  std::string user_agent;  // as sent at login, clipped; for the sessions list
  std::string ip;          // client address at login
};

// A rate-limit record that must survive restarts (failed logins per account
// and per address, registrations per address). Absent keys read as zeros.
struct Throttle {
  std::string key;           // e.g. "login-account:a@b.cn", "login-ip:1.2.3.4"
  int64_t count = 0;         // failures (or registrations) in the current run/window
  int64_t window_start = 0;  // unix seconds the count started
  int64_t locked_until = 0;  // unix seconds; 0: not locked
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens "sqlite:PATH" (file created if missing, migrations applied).
  // Other schemes answer kInvalidArgument naming the scheme.
  static Result<std::unique_ptr<Store>> open(const std::string& url);

  // Current schema version after migrations.
  virtual Result<int> schema_version() = 0;

  // Creates or updates a document, atomically.
  //  - a document with the same source_sha256 exists: kUnchanged, its id;
  //  - else one with the same source_path exists: it is replaced (revision
  //    + 1, updated_at now, created_at kept): kUpdated;
  //  - else a new document: kCreated.
  virtual Result<PutResult> put_document(const NewDocument& d) = 0;

  // kNotFound when absent.
  virtual Result<StoredDocument> get_document(int64_t id) = 0;

  // The revision alone (cheap; for render caches). kNotFound when absent.
  virtual Result<int64_t> document_revision(int64_t id) = 0;

  virtual Result<ListPage> list_documents(const ListQuery& q) = 0;
  virtual Result<std::vector<Category>> list_categories() = 0;
  virtual Result<int64_t> count_documents() = 0;

  // ---- accounts ----
  // kConflict when a live or deleted account already has the email.
  virtual Result<User> create_user(const NewUser& u) = 0;
  // kNotFound when absent or deleted.
  virtual Result<User> find_user_by_email(const std::string& email) = 0;
  // kNotFound when absent; deleted users are returned (deleted_at != 0).
  virtual Result<User> get_user(int64_t id) = 0;
  // Live users, oldest first.
  virtual Result<std::vector<User>> list_users(int64_t offset, int64_t limit) = 0;
  // kNotFound when absent or deleted; kInvalidArgument for an unknown role.
  virtual Status set_user_role(int64_t user_id, const std::string& role) = 0;
  // Sets a new hash and deletes every session of the user except
  // keep_session_id (0: all), in one transaction.
  virtual Status set_password_hash(int64_t user_id, const std::string& hash,
                                   int64_t keep_session_id) = 0;
  // Deletes personal data in one transaction: email becomes
  // "deleted-<id>@deleted.invalid", hash and role cleared, deleted_at set,
  // sessions removed. The row (and later, purchase records) stays.
  virtual Status delete_user(int64_t user_id, int64_t now) = 0;

  // ---- sessions ----
  // Inserts s (id assigned); when replace_session_id != 0 that session is
  // deleted in the same transaction (rotation at login).
  virtual Result<Session> create_session(const Session& s, int64_t replace_session_id) = 0;
  // kNotFound when no session has this hash (expiry is the caller's check).
  virtual Result<Session> find_session(const std::string& token_hash) = 0;
  virtual Status touch_session(int64_t session_id, int64_t now) = 0;
  // Deleting an absent session is not an error.
  virtual Status delete_session(int64_t session_id) = 0;
  // Every session of the user except except_session_id (0: all).
  virtual Status delete_user_sessions(int64_t user_id, int64_t except_session_id) = 0;
  // Newest first.
  virtual Result<std::vector<Session>> list_sessions(int64_t user_id) = 0;
  // Removes sessions with expires_at <= now; returns how many.
  virtual Result<int64_t> delete_expired_sessions(int64_t now) = 0;

  // ---- throttles ----
  virtual Result<Throttle> get_throttle(const std::string& key) = 0;
  virtual Status put_throttle(const Throttle& t) = 0;
  virtual Status delete_throttle(const std::string& key) = 0;
};

}  // namespace paidoc::store
