/* Raw SQLite durable commits per second: the ceiling a durable wallet
 * purchase over SQLite is measured against.
 *
 *   sqlite_commits DB THREADS SECONDS [lock]
 *
 * Each thread opens its own connection to DB (journal_mode=WAL,
 * synchronous=FULL, busy_timeout 5 s: the settings paidoc ships) and commits
 * single-row INSERT transactions (BEGIN IMMEDIATE; INSERT; COMMIT) as fast as
 * it can for SECONDS. Writers contend for SQLite's one write lock the way
 * paidoc's pooled connections do: a writer that finds the database locked
 * waits in SQLite's busy handler, which sleeps (1, 2, 5, 10 … ms) and
 * retries. With "lock", the threads take one in-process mutex around each
 * transaction instead, so the write lock passes from one to the next without
 * sleeping. Prints "commits N seconds S per_second R".
 *
 * Measured in steady state, as a server that has been up for a while runs:
 * before the clock starts, the WAL file is grown to about 4 MiB (one large
 * transaction, then deleted and checkpointed with RESTART) so that commits
 * overwrite space the file already has, as they do once SQLite's automatic
 * checkpoints (every 1000 pages) recycle the WAL. Without this, every commit
 * of a fresh database also grows the file, and syncing a file whose size
 * changed costs a file-system journal commit on top of the data.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char* db_path;
static double stop_at;
static int failed;
static int use_lock;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int exec(sqlite3* db, const char* sql) {
  char* err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "sqlite_commits: %s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    return 1;
  }
  return 0;
}

static sqlite3* open_db(void) {
  sqlite3* db = NULL;
  if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    fprintf(stderr, "sqlite_commits: cannot open %s\n", db_path);
    exit(1);
  }
  sqlite3_busy_timeout(db, 5000);
  if (exec(db, "PRAGMA journal_mode = WAL") || exec(db, "PRAGMA synchronous = FULL")) exit(1);
  return db;
}

static void* worker(void* arg) {
  long* count = (long*)arg;
  sqlite3* db = open_db();
  sqlite3_stmt *begin, *insert, *commit;
  if (sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO t (payload, at) VALUES (?1, ?2)", -1, &insert, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK) {
    fprintf(stderr, "sqlite_commits: prepare: %s\n", sqlite3_errmsg(db));
    exit(1);
  }
  static const char payload[] = "order 000000000000 paid from wallet, 100 fen";
  while (now() < stop_at) {
    if (use_lock) pthread_mutex_lock(&write_lock);
    if (sqlite3_step(begin) != SQLITE_DONE) goto fail;
    sqlite3_reset(begin);
    sqlite3_bind_text(insert, 1, payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(insert, 2, (sqlite3_int64)time(NULL));
    if (sqlite3_step(insert) != SQLITE_DONE) goto fail;
    sqlite3_reset(insert);
    if (sqlite3_step(commit) != SQLITE_DONE) goto fail;
    sqlite3_reset(commit);
    if (use_lock) pthread_mutex_unlock(&write_lock);
    ++*count;
  }
  sqlite3_finalize(begin);
  sqlite3_finalize(insert);
  sqlite3_finalize(commit);
  sqlite3_close(db);
  return NULL;
fail:
  fprintf(stderr, "sqlite_commits: %s\n", sqlite3_errmsg(db));
  if (use_lock) pthread_mutex_unlock(&write_lock);
  __atomic_store_n(&failed, 1, __ATOMIC_SEQ_CST);
  sqlite3_close(db);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 5 && strcmp(argv[4], "lock") == 0)) {
    fprintf(stderr, "usage: sqlite_commits DB THREADS SECONDS [lock]\n");
    return 2;
  }
  use_lock = argc == 5;
  db_path = argv[1];
  int threads = atoi(argv[2]);
  double seconds = atof(argv[3]);
  if (threads < 1 || threads > 1024 || seconds <= 0) {
    fprintf(stderr, "sqlite_commits: THREADS must be 1..1024 and SECONDS > 0\n");
    return 2;
  }
  sqlite3* db = open_db();
  if (exec(db, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, at INTEGER NOT NULL)"))
    return 1;

  /* Steady state: a WAL of about 1100 pages that commits then reuse. */
  if (exec(db, "BEGIN") ||
      exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1100) "
               "INSERT INTO t (payload, at) SELECT hex(randomblob(1800)), 0 FROM n") ||
      exec(db, "COMMIT") || exec(db, "DELETE FROM t") || exec(db, "PRAGMA wal_checkpoint(RESTART)"))
    return 1;

  pthread_t* tids = calloc((size_t)threads, sizeof *tids);
  long* counts = calloc((size_t)threads, sizeof *counts);
  double start = now();
  stop_at = start + seconds;
  for (int i = 0; i < threads; ++i) pthread_create(&tids[i], NULL, worker, &counts[i]);
  long total = 0;
  for (int i = 0; i < threads; ++i) {
    pthread_join(tids[i], NULL);
    total += counts[i];
  }
  double elapsed = now() - start;
  sqlite3_close(db);
  if (failed) return 1;
  printf("commits %ld seconds %.3f per_second %.1f\n", total, elapsed, (double)total / elapsed);
  return 0;
}
