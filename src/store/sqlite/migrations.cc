#include "store/sqlite/migrations.h"

#include <algorithm>
#include <iterator>
#include <string>

namespace paidoc::store::sqlite {
namespace {

// Tables are STRICT: a column declared INTEGER holds integers only, so a
// price can never be stored as "9.9" text or a float. Ids use AUTOINCREMENT
// so the id of a deleted document is never given to another one (ids appear
// in URLs and, later, in purchases).
//
// Append only. Index i holds the script that brings version i to i + 1.
constexpr const char* kMigrations[] = {
    // 1: categories and documents.
    R"sql(
CREATE TABLE categories (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT    NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE documents (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  title            TEXT    NOT NULL,
  category_id      INTEGER REFERENCES categories(id),
  price_fen        INTEGER NOT NULL CHECK (price_fen >= 0),
  source_path      TEXT    NOT NULL,
  source_sha256    TEXT    NOT NULL UNIQUE,
  source_text      TEXT    NOT NULL,
  parsed_json      TEXT    NOT NULL,
  excerpt          TEXT    NOT NULL,
  free_chars       INTEGER NOT NULL CHECK (free_chars >= 0),
  paid_chars       INTEGER NOT NULL CHECK (paid_chars >= 0),
  free_paragraphs  INTEGER NOT NULL CHECK (free_paragraphs >= 0),
  paid_paragraphs  INTEGER NOT NULL CHECK (paid_paragraphs >= 0),
  paid_sections    INTEGER NOT NULL CHECK (paid_sections >= 0),
  has_paid         INTEGER NOT NULL CHECK (has_paid IN (0, 1)),
  publisher_id     INTEGER,
  revision         INTEGER NOT NULL CHECK (revision >= 1),
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;

-- Listings: newest first, all documents or one category.
CREATE INDEX documents_by_created ON documents (created_at DESC, id DESC);
CREATE INDEX documents_by_category ON documents (category_id, created_at DESC, id DESC);
-- put_document finds the document a source path was imported to. Unique:
-- a path names at most one document (a new one is made only for a new path).
CREATE UNIQUE INDEX documents_by_source_path ON documents (source_path);
)sql",

    // 2: accounts, login sessions and persistent rate limits.
    //
    // A deleted account keeps its row (purchases will point at it) with the
    // personal data removed: email "deleted-<id>@deleted.invalid", empty
    // password hash, role 'deleted' and deleted_at set. The table checks that
    // these go together. 'deleted' is internal: the store reports a deleted
    // user's role as "" and never accepts 'deleted' from a caller.
    R"sql(
CREATE TABLE users (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  email          TEXT    NOT NULL UNIQUE,
  password_hash  TEXT    NOT NULL,
  role           TEXT    NOT NULL CHECK (role IN ('reader', 'editor', 'admin', 'deleted')),
  created_at     INTEGER NOT NULL,
  deleted_at     INTEGER NOT NULL DEFAULT 0 CHECK (deleted_at >= 0),
  CHECK ((deleted_at = 0) = (role <> 'deleted')),
  CHECK (deleted_at = 0 OR password_hash = '')
) STRICT;

-- list_users: live accounts, oldest first.
CREATE INDEX users_live_by_created ON users (created_at, id) WHERE deleted_at = 0;

-- Only the SHA-256 of a session token is stored; a leaked database does not
-- let anyone sign in.
CREATE TABLE sessions (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash    TEXT    NOT NULL UNIQUE,
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  user_agent    TEXT    NOT NULL,
  ip            TEXT    NOT NULL
) STRICT;

-- list_sessions (newest first) and deleting a user's sessions.
CREATE INDEX sessions_by_user ON sessions (user_id, created_at DESC, id DESC);
-- delete_expired_sessions.
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE throttles (
  key           TEXT    NOT NULL PRIMARY KEY,
  count         INTEGER NOT NULL CHECK (count >= 0),
  window_start  INTEGER NOT NULL,
  locked_until  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
)sql",
    // 3: orders, the wallet ledger, payment notifications, VIP.
    //
    // Money is integer fen everywhere. The ledger is append-only double
    // entry (see store.h); wallets.balance_fen is a cache of each wallet
    // account's sum, written in the same transaction as the rows, and can
    // never go negative. A payment notification is recorded once per
    // (provider, transaction_id) together with the ledger transaction it
    // caused, so a redelivery finds it and changes nothing.
    R"sql(
CREATE TABLE orders (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  out_trade_no  TEXT    NOT NULL UNIQUE,
  user_id       INTEGER NOT NULL REFERENCES users(id),
  kind          TEXT    NOT NULL CHECK (kind IN ('document', 'plan', 'topup')),
  document_id   INTEGER REFERENCES documents(id),
  plan_id       TEXT,
  plan_days     INTEGER NOT NULL DEFAULT 0 CHECK (plan_days >= 0),
  subject       TEXT    NOT NULL,
  amount_fen    INTEGER NOT NULL CHECK (amount_fen > 0),
  status        TEXT    NOT NULL CHECK (status IN ('created', 'paid', 'refunded', 'expired')),
  paid_with     TEXT    NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  paid_at       INTEGER NOT NULL DEFAULT 0,
  refunded_at   INTEGER NOT NULL DEFAULT 0,
  CHECK ((kind = 'document') = (document_id IS NOT NULL)),
  CHECK ((kind = 'plan') = (plan_id IS NOT NULL AND plan_days > 0)),
  CHECK ((status IN ('paid', 'refunded')) = (paid_at > 0 AND paid_with <> '')),
  CHECK ((status = 'refunded') = (refunded_at > 0))
) STRICT;

-- A user's orders, newest first; purchases (paid document orders).
CREATE INDEX orders_by_user ON orders (user_id, created_at DESC, id DESC);
-- expire_orders.
CREATE INDEX orders_created_by_expiry ON orders (expires_at) WHERE status = 'created';
-- orders_between (reconciliation export).
CREATE INDEX orders_by_created ON orders (created_at, id);

CREATE TABLE ledger_entries (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  txn_id      INTEGER NOT NULL,
  account     TEXT    NOT NULL,
  amount_fen  INTEGER NOT NULL CHECK (amount_fen <> 0),
  order_id    INTEGER REFERENCES orders(id),
  kind        TEXT    NOT NULL CHECK (kind IN ('payment', 'late_payment', 'refund', 'credit')),
  note        TEXT    NOT NULL,
  actor       TEXT    NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX ledger_by_txn ON ledger_entries (txn_id);
CREATE INDEX ledger_by_account ON ledger_entries (account, id);
CREATE INDEX ledger_by_order ON ledger_entries (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE wallets (
  user_id      INTEGER PRIMARY KEY REFERENCES users(id),
  balance_fen  INTEGER NOT NULL CHECK (balance_fen >= 0)
) STRICT;

CREATE TABLE payment_notifications (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  provider        TEXT    NOT NULL,
  transaction_id  TEXT    NOT NULL,
  order_id        INTEGER NOT NULL REFERENCES orders(id),
  amount_fen      INTEGER NOT NULL CHECK (amount_fen > 0),
  received_at     INTEGER NOT NULL,
  outcome         TEXT    NOT NULL CHECK (outcome IN ('applied', 'credited_to_wallet')),
  ledger_txn      INTEGER NOT NULL,
  UNIQUE (provider, transaction_id)
) STRICT;

CREATE TABLE vip (
  user_id    INTEGER PRIMARY KEY REFERENCES users(id),
  vip_until  INTEGER NOT NULL CHECK (vip_until >= 0)
) STRICT;
)sql",

    // 4: a reader's purchases (entitlements, checked on every purchase and
    // signed-in document view) without scanning all of the reader's orders.
    R"sql(
CREATE INDEX orders_purchases ON orders (user_id, document_id)
  WHERE kind = 'document' AND status = 'paid';
)sql",

    // 5: full-text search. The free and paid text of each document are
    // kept as plain text columns (one block per line) that an
    // external-content FTS5 table indexes with the "paidoc" tokenizer
    // (registered on every connection, store/sqlite/fts.h). Triggers keep
    // the index in step with every insert, update and delete of a
    // document, inside the same transaction. search_version says which
    // tokenizer generation indexed the row; rows below the current one are
    // filled in (and re-indexed) when the store opens.
    R"sql(
ALTER TABLE documents ADD COLUMN search_free TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN search_paid TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN search_version INTEGER NOT NULL DEFAULT 0;

CREATE VIRTUAL TABLE documents_fts USING fts5(
  title, search_free, search_paid,
  content = 'documents', content_rowid = 'id',
  tokenize = 'paidoc'
);

CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
  INSERT INTO documents_fts (rowid, title, search_free, search_paid)
  VALUES (new.id, new.title, new.search_free, new.search_paid);
END;
CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
  INSERT INTO documents_fts (documents_fts, rowid, title, search_free, search_paid)
  VALUES ('delete', old.id, old.title, old.search_free, old.search_paid);
END;
CREATE TRIGGER documents_fts_update AFTER UPDATE OF title, search_free, search_paid ON documents
BEGIN
  INSERT INTO documents_fts (documents_fts, rowid, title, search_free, search_paid)
  VALUES ('delete', old.id, old.title, old.search_free, old.search_paid);
  INSERT INTO documents_fts (rowid, title, search_free, search_paid)
  VALUES (new.id, new.title, new.search_free, new.search_paid);
END;

-- Documents stored before this version: index their titles now; their
-- text columns are filled in by the store on open (search_version = 0).
INSERT INTO documents_fts (documents_fts) VALUES ('rebuild');
)sql",

    // 6: downloads (what trace marks point at, what daily limits count)
    // and settings shared by every node (the link-signing key).
    R"sql(
CREATE TABLE downloads (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id      INTEGER NOT NULL REFERENCES users(id),
  document_id  INTEGER NOT NULL REFERENCES documents(id),
  revision     INTEGER NOT NULL CHECK (revision >= 1),
  format       TEXT    NOT NULL CHECK (format IN ('docx', 'pdf', 'txt')),
  access       TEXT    NOT NULL,
  order_id     INTEGER REFERENCES orders(id),
  nonce        INTEGER NOT NULL CHECK (nonce BETWEEN 0 AND 4294967295),
  created_at   INTEGER NOT NULL
) STRICT;
-- Daily limits: a user's downloads since a time, by access kind.
CREATE INDEX downloads_by_user ON downloads (user_id, access, created_at);

CREATE TABLE settings (
  name   TEXT PRIMARY KEY,
  value  TEXT NOT NULL
) STRICT, WITHOUT ROWID;
)sql",

    // 7: the facts search filters and sorts on, in a narrow table kept in
    // step by triggers. A search may match most documents; reading these
    // columns from documents would walk each matched row's overflow pages
    // (the source and parsed text come first in the row).
    R"sql(
CREATE TABLE search_facts (
  id           INTEGER PRIMARY KEY,
  category_id  INTEGER,
  price_fen    INTEGER NOT NULL,
  has_paid     INTEGER NOT NULL,
  created_at   INTEGER NOT NULL
) STRICT;
INSERT INTO search_facts (id, category_id, price_fen, has_paid, created_at)
  SELECT id, category_id, price_fen, has_paid, created_at FROM documents;
CREATE TRIGGER search_facts_insert AFTER INSERT ON documents BEGIN
  INSERT INTO search_facts (id, category_id, price_fen, has_paid, created_at)
  VALUES (new.id, new.category_id, new.price_fen, new.has_paid, new.created_at);
END;
CREATE TRIGGER search_facts_update AFTER UPDATE OF category_id, price_fen, has_paid, created_at
ON documents BEGIN
  UPDATE search_facts SET category_id = new.category_id, price_fen = new.price_fen,
    has_paid = new.has_paid, created_at = new.created_at WHERE id = new.id;
END;
CREATE TRIGGER search_facts_delete AFTER DELETE ON documents BEGIN
  DELETE FROM search_facts WHERE id = old.id;
END;
)sql",

    // 8: the store looks for rows indexed by an older tokenizer generation
    // at every open; without an index that read every row (and its overflow
    // pages), seconds at 100,000 documents.
    R"sql(
CREATE INDEX documents_by_search_version ON documents (search_version);
)sql",

    // 9: FTS5 merge settings. Segments are merged 16 at a time instead of 4
    // (and a level is forced to merge at 64, not 16): at 100,000 documents a
    // full index build went from 12 to 19 MB/s, with no slower queries
    // (bench/search, BENCHMARKS.md).
    R"sql(
INSERT INTO documents_fts (documents_fts, rank) VALUES ('automerge', 16);
INSERT INTO documents_fts (documents_fts, rank) VALUES ('crisismerge', 64);
)sql",

    // 10: locked paid text is searched only through keywords. Each
    // document gets a fourth index column, search_keys: its paid part's
    // keywords (chosen by TF-IDF over keyword_df, the library's document
    // frequencies). search_facts learns the publisher, so a search knows
    // which documents' paid text a viewer may search in full. The FTS table
    // is made anew with the extra column; the store fills search_keys on
    // open (search generation 2).
    R"sql(
ALTER TABLE documents ADD COLUMN search_keys TEXT NOT NULL DEFAULT '';

CREATE TABLE keyword_df (
  word  TEXT PRIMARY KEY,   -- '' counts the documents
  df    INTEGER NOT NULL CHECK (df >= 0)
) STRICT, WITHOUT ROWID;

ALTER TABLE search_facts ADD COLUMN publisher_id INTEGER;
UPDATE search_facts SET publisher_id = (SELECT d.publisher_id FROM documents d WHERE d.id = search_facts.id);
DROP TRIGGER search_facts_insert;
DROP TRIGGER search_facts_update;
CREATE TRIGGER search_facts_insert AFTER INSERT ON documents BEGIN
  INSERT INTO search_facts (id, category_id, price_fen, has_paid, created_at, publisher_id)
  VALUES (new.id, new.category_id, new.price_fen, new.has_paid, new.created_at, new.publisher_id);
END;
CREATE TRIGGER search_facts_update
AFTER UPDATE OF category_id, price_fen, has_paid, created_at, publisher_id ON documents BEGIN
  UPDATE search_facts SET category_id = new.category_id, price_fen = new.price_fen,
    has_paid = new.has_paid, created_at = new.created_at, publisher_id = new.publisher_id
  WHERE id = new.id;
END;
CREATE INDEX search_facts_free_priced ON search_facts (id) WHERE has_paid = 1 AND price_fen = 0;
CREATE INDEX search_facts_by_publisher ON search_facts (publisher_id)
  WHERE publisher_id IS NOT NULL;

DROP TRIGGER documents_fts_insert;
DROP TRIGGER documents_fts_delete;
DROP TRIGGER documents_fts_update;
DROP TABLE documents_fts;
CREATE VIRTUAL TABLE documents_fts USING fts5(
  title, search_free, search_paid, search_keys,
  content = 'documents', content_rowid = 'id',
  tokenize = 'paidoc'
);
CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
  INSERT INTO documents_fts (rowid, title, search_free, search_paid, search_keys)
  VALUES (new.id, new.title, new.search_free, new.search_paid, new.search_keys);
END;
CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
  INSERT INTO documents_fts (documents_fts, rowid, title, search_free, search_paid, search_keys)
  VALUES ('delete', old.id, old.title, old.search_free, old.search_paid, old.search_keys);
END;
CREATE TRIGGER documents_fts_update
AFTER UPDATE OF title, search_free, search_paid, search_keys ON documents BEGIN
  INSERT INTO documents_fts (documents_fts, rowid, title, search_free, search_paid, search_keys)
  VALUES ('delete', old.id, old.title, old.search_free, old.search_paid, old.search_keys);
  INSERT INTO documents_fts (rowid, title, search_free, search_paid, search_keys)
  VALUES (new.id, new.title, new.search_free, new.search_paid, new.search_keys);
END;
INSERT INTO documents_fts (documents_fts, rank) VALUES ('automerge', 16);
INSERT INTO documents_fts (documents_fts, rank) VALUES ('crisismerge', 64);
INSERT INTO documents_fts (documents_fts) VALUES ('rebuild');
)sql",

    // 11: payments as the gateways behave. SQLite cannot change a CHECK, so
    // orders and ledger_entries are rebuilt (same ids, same indexes,
    // AUTOINCREMENT counters kept; foreign keys are checked at commit):
    //  - orders: status 'credited' (paid at a gateway although the reader
    //    already owned the document; the money went to the wallet, paid_with
    //    and paid_at say how), and credited_fen, the provider money for the
    //    order that went to the wallet, filled from the late_payment rows;
    //  - ledger kinds 'refund_sent' (refunds_due:<p> -> provider:<p> when a
    //    refund of ours succeeded) and 'gateway_refund' (a refund made at the
    //    gateway for an order no longer paid, taken back from the wallet);
    //  - refunds: refunds through a provider, tracked. A provider refund
    //    booked before this version (refunds_due with no row) becomes a
    //    'failed' row: the money is still owed and an operator pays it back
    //    by hand; it is never sent automatically;
    //  - payment_starts: which providers an order was sent to, for the sweep.
    R"sql(
PRAGMA defer_foreign_keys = ON;

CREATE TABLE orders_v10 AS SELECT * FROM orders;
CREATE TABLE orders_seq_v10 AS SELECT seq FROM sqlite_sequence WHERE name = 'orders';
DROP TABLE orders;
CREATE TABLE orders (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  out_trade_no  TEXT    NOT NULL UNIQUE,
  user_id       INTEGER NOT NULL REFERENCES users(id),
  kind          TEXT    NOT NULL CHECK (kind IN ('document', 'plan', 'topup')),
  document_id   INTEGER REFERENCES documents(id),
  plan_id       TEXT,
  plan_days     INTEGER NOT NULL DEFAULT 0 CHECK (plan_days >= 0),
  subject       TEXT    NOT NULL,
  amount_fen    INTEGER NOT NULL CHECK (amount_fen > 0),
  status        TEXT    NOT NULL
                CHECK (status IN ('created', 'paid', 'refunded', 'expired', 'credited')),
  paid_with     TEXT    NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  paid_at       INTEGER NOT NULL DEFAULT 0,
  refunded_at   INTEGER NOT NULL DEFAULT 0,
  credited_fen  INTEGER NOT NULL DEFAULT 0 CHECK (credited_fen >= 0),
  CHECK ((kind = 'document') = (document_id IS NOT NULL)),
  CHECK ((kind = 'plan') = (plan_id IS NOT NULL AND plan_days > 0)),
  CHECK ((status IN ('paid', 'refunded', 'credited')) = (paid_at > 0 AND paid_with <> '')),
  CHECK ((status = 'refunded') = (refunded_at > 0)),
  CHECK (status <> 'credited' OR credited_fen > 0)
) STRICT;
INSERT INTO orders (id, out_trade_no, user_id, kind, document_id, plan_id, plan_days, subject,
                    amount_fen, status, paid_with, created_at, expires_at, paid_at, refunded_at,
                    credited_fen)
  SELECT o.id, o.out_trade_no, o.user_id, o.kind, o.document_id, o.plan_id, o.plan_days,
         o.subject, o.amount_fen, o.status, o.paid_with, o.created_at, o.expires_at, o.paid_at,
         o.refunded_at,
         coalesce((SELECT sum(e.amount_fen) FROM ledger_entries e
                   WHERE e.order_id = o.id AND e.kind = 'late_payment'
                     AND e.account LIKE 'wallet:%' AND e.amount_fen > 0), 0)
  FROM orders_v10 o;
UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM orders_seq_v10))
  WHERE name = 'orders' AND EXISTS (SELECT 1 FROM orders_seq_v10);
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'orders', seq FROM orders_seq_v10
  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'orders');
DROP TABLE orders_v10;
DROP TABLE orders_seq_v10;
CREATE INDEX orders_by_user ON orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_created_by_expiry ON orders (expires_at) WHERE status = 'created';
CREATE INDEX orders_by_created ON orders (created_at, id);
CREATE INDEX orders_purchases ON orders (user_id, document_id)
  WHERE kind = 'document' AND status = 'paid';

CREATE TABLE ledger_v10 AS SELECT * FROM ledger_entries;
CREATE TABLE ledger_seq_v10 AS SELECT seq FROM sqlite_sequence WHERE name = 'ledger_entries';
DROP TABLE ledger_entries;
CREATE TABLE ledger_entries (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  txn_id      INTEGER NOT NULL,
  account     TEXT    NOT NULL,
  amount_fen  INTEGER NOT NULL CHECK (amount_fen <> 0),
  order_id    INTEGER REFERENCES orders(id),
  kind        TEXT    NOT NULL CHECK (kind IN ('payment', 'late_payment', 'refund', 'credit',
                                               'refund_sent', 'gateway_refund')),
  note        TEXT    NOT NULL,
  actor       TEXT    NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;
INSERT INTO ledger_entries (id, txn_id, account, amount_fen, order_id, kind, note, actor,
                            created_at)
  SELECT id, txn_id, account, amount_fen, order_id, kind, note, actor, created_at
  FROM ledger_v10;
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'ledger_entries', seq FROM ledger_seq_v10
  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'ledger_entries');
UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM ledger_seq_v10))
  WHERE name = 'ledger_entries' AND EXISTS (SELECT 1 FROM ledger_seq_v10);
DROP TABLE ledger_v10;
DROP TABLE ledger_seq_v10;
CREATE INDEX ledger_by_txn ON ledger_entries (txn_id);
CREATE INDEX ledger_by_account ON ledger_entries (account, id);
CREATE INDEX ledger_by_order ON ledger_entries (order_id) WHERE order_id IS NOT NULL;

-- ledger_txn: the txn that booked the refund (ours: sales or the wallet ->
-- refunds_due:<p>; made at the gateway: -> provider:<p>); sent_txn: ours
-- only, refunds_due:<p> -> provider:<p> once it succeeded. refund_key: the
-- exactly-once key of a refund made at the gateway (its refund id, or its
-- name when the gateway gives no id).
CREATE TABLE refunds (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  order_id        INTEGER NOT NULL REFERENCES orders(id),
  provider        TEXT    NOT NULL,
  transaction_id  TEXT    NOT NULL,
  out_refund_no   TEXT    NOT NULL UNIQUE,
  refund_id       TEXT    NOT NULL DEFAULT '',
  refund_key      TEXT,
  amount_fen      INTEGER NOT NULL CHECK (amount_fen > 0),
  state           TEXT    NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
  message         TEXT    NOT NULL DEFAULT '',
  from_gateway    INTEGER NOT NULL CHECK (from_gateway IN (0, 1)),
  ledger_txn      INTEGER NOT NULL,
  sent_txn        INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  CHECK (from_gateway = 0 OR (state = 'succeeded' AND refund_key IS NOT NULL)),
  CHECK ((sent_txn IS NOT NULL) = (from_gateway = 0 AND state = 'succeeded'))
) STRICT;
CREATE INDEX refunds_by_order ON refunds (order_id, id);
CREATE INDEX refunds_pending ON refunds (id) WHERE state = 'pending';
CREATE UNIQUE INDEX refunds_from_gateway ON refunds (provider, transaction_id, refund_key)
  WHERE from_gateway = 1;

INSERT INTO refunds (order_id, provider, transaction_id, out_refund_no, amount_fen, state,
                     message, from_gateway, ledger_txn, created_at, updated_at)
  SELECT e.order_id, substr(e.account, 13),
         coalesce((SELECT n.transaction_id FROM payment_notifications n
                   WHERE n.order_id = e.order_id AND n.outcome = 'applied'), ''),
         printf('RM%010d', e.id), e.amount_fen, 'failed',
         'booked before refunds were tracked: pay it back by hand', 0, e.txn_id,
         e.created_at, e.created_at
  FROM ledger_entries e
  WHERE e.account LIKE 'refunds_due:%' AND e.amount_fen > 0 AND e.order_id IS NOT NULL;

CREATE TABLE payment_starts (
  order_id    INTEGER NOT NULL REFERENCES orders(id),
  provider    TEXT    NOT NULL,
  started_at  INTEGER NOT NULL,
  closed_at   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (order_id, provider)
) STRICT, WITHOUT ROWID;
CREATE INDEX payment_starts_open ON payment_starts (order_id) WHERE closed_at = 0;
)sql",

    // 12: the audit log (store/audit.h). Append-only: triggers refuse any
    // UPDATE or DELETE of a row, so an entry, once written, stays as it was.
    R"sql(
CREATE TABLE audit_log (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  at            INTEGER NOT NULL,
  actor_user_id INTEGER NOT NULL DEFAULT 0,
  actor         TEXT    NOT NULL CHECK (actor <> ''),
  action        TEXT    NOT NULL CHECK (action <> ''),
  target_kind   TEXT    NOT NULL DEFAULT '',
  target_id     INTEGER NOT NULL DEFAULT 0,
  details       TEXT    NOT NULL DEFAULT '{}',
  ip            TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_by_time ON audit_log (at, id);
CREATE INDEX audit_by_actor ON audit_log (actor, at);
CREATE INDEX audit_by_target ON audit_log (target_kind, target_id, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;
)sql",

    // Disabled accounts (store/accounts.h: set_user_disabled). 0: enabled,
    // which every existing account is.
    R"sql(
ALTER TABLE users ADD COLUMN disabled_at INTEGER NOT NULL DEFAULT 0 CHECK (disabled_at >= 0);
)sql",

    // Categories get an order of their own; tags. Existing categories are
    // numbered in the name order they were listed in until now. A
    // document's tags go with it (ON DELETE CASCADE); a tag in use cannot
    // be deleted (the store refuses first, the foreign key backs it).
    R"sql(
ALTER TABLE categories ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
UPDATE categories SET position =
  (SELECT count(*) FROM categories AS earlier WHERE earlier.name < categories.name);
CREATE INDEX categories_by_position ON categories (position, name);

CREATE TABLE tags (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL UNIQUE,
  position    INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX tags_by_position ON tags (position, name);

CREATE TABLE document_tags (
  document_id  INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  tag_id       INTEGER NOT NULL REFERENCES tags(id),
  PRIMARY KEY (document_id, tag_id)
) STRICT, WITHOUT ROWID;
-- Tag pages and counts: the documents of one tag.
CREATE INDEX document_tags_by_tag ON document_tags (tag_id, document_id);
)sql",

    // Drafts, the publisher's title and summary, and document revisions
    // (store/documents.h). Existing documents stay published with no
    // override and no summary; each gets one revision row for its current
    // revision, made by nobody known ("").
    R"sql(
ALTER TABLE documents ADD COLUMN status TEXT NOT NULL DEFAULT 'published'
  CHECK (status IN ('published', 'draft'));
ALTER TABLE documents ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN title_override TEXT NOT NULL DEFAULT '';
-- Readers' listings: published documents, newest first (and their count).
CREATE INDEX documents_by_status ON documents (status, created_at DESC, id DESC);
-- Search leaves drafts out: their ids, read cheaply.
CREATE INDEX documents_drafts ON documents (id) WHERE status = 'draft';
CREATE TABLE document_revisions (
  document_id    INTEGER NOT NULL REFERENCES documents(id),
  revision       INTEGER NOT NULL CHECK (revision >= 1),
  source_text    TEXT    NOT NULL,
  source_sha256  TEXT    NOT NULL,
  title          TEXT    NOT NULL,
  price_fen      INTEGER NOT NULL CHECK (price_fen >= 0),
  category       TEXT    NOT NULL DEFAULT '',
  summary        TEXT    NOT NULL DEFAULT '',
  status         TEXT    NOT NULL CHECK (status IN ('published', 'draft')),
  actor          TEXT    NOT NULL DEFAULT '',
  created_at     INTEGER NOT NULL,
  PRIMARY KEY (document_id, revision)
) STRICT;
INSERT INTO document_revisions (document_id, revision, source_text, source_sha256, title,
                                price_fen, category, summary, status, actor, created_at)
  SELECT d.id, d.revision, d.source_text, d.source_sha256, d.title, d.price_fen,
         coalesce(c.name, ''), '', 'published', '', d.updated_at
  FROM documents d LEFT JOIN categories c ON c.id = d.category_id;
)sql",

    // Password-reset links (store/password_resets.h): only the SHA-256 of
    // a link's token is kept. A link is checked against a live, enabled
    // account when it is used, so deleting or disabling an account needs
    // no change here.
    R"sql(
CREATE TABLE password_resets (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash  TEXT    NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL CHECK (expires_at > created_at),
  used_at     INTEGER NOT NULL DEFAULT 0 CHECK (used_at >= 0),
  ip          TEXT    NOT NULL DEFAULT ''
) STRICT;
-- Using up every live link of an account at once.
CREATE INDEX password_resets_by_user ON password_resets (user_id) WHERE used_at = 0;
)sql",
};

constexpr int kLatest = static_cast<int>(std::size(kMigrations));

constexpr char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  version    INTEGER PRIMARY KEY,"
    "  applied_at INTEGER NOT NULL"
    ") STRICT";
constexpr char kMaxVersion[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";
constexpr char kRecordVersion[] =
    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)";

}  // namespace

int latest_schema_version() { return kLatest; }

Result<int> current_schema_version(Connection& c) {
  auto st = c.stmt(kMaxVersion);
  if (!st.ok()) return st.status();
  auto row = st->step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::internal("sqlite: schema_migrations returned no row");
  return static_cast<int>(st->int64(0));
}

Result<int> migrate(Connection& c, int64_t now) { return migrate_to(c, kLatest, now); }

Result<int> migrate_to(Connection& c, int target_version, int64_t now) {
  if (target_version < 0 || target_version > kLatest) {
    return Status::invalid("sqlite: no schema version " + std::to_string(target_version) +
                           " (latest is " + std::to_string(kLatest) + ")");
  }
  const std::string where = " in '" + c.path() + "'";
  Txn txn(c);
  if (Status s = txn.begin(Txn::Kind::kWrite); !s.is_ok()) return s;
  if (Status s = c.exec_script(kCreateMigrationsTable, "creating schema_migrations" + where);
      !s.is_ok()) {
    return s;
  }
  auto current = current_schema_version(c);
  if (!current.ok()) return current.status();
  if (*current > kLatest) {
    return Status::internal("sqlite: database '" + c.path() + "' has schema version " +
                            std::to_string(*current) + ", newer than this program knows (" +
                            std::to_string(kLatest) + "); use a newer paidoc");
  }
  for (int v = *current + 1; v <= target_version; ++v) {
    if (Status s =
            c.exec_script(kMigrations[v - 1], "applying migration " + std::to_string(v) + where);
        !s.is_ok()) {
      return s;
    }
    auto st = c.stmt(kRecordVersion);
    if (!st.ok()) return st.status();
    if (Status s = st->bind(1, int64_t{v}).bind(2, now).exec(); !s.is_ok()) return s;
  }
  if (Status s = txn.commit(); !s.is_ok()) return s;
  return std::max(*current, target_version);
}

}  // namespace paidoc::store::sqlite
