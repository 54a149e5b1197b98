#!/usr/bin/env bash
# Search benchmark: builds a synthetic corpus of N documents (bench/search/
# corpus.cc), reports what building the full-text index costs, then measures
# GET /api/v1/search latency per query class with one client and with
# CONCURRENCY clients over HTTP.
#
#   bench/search/run.sh                 # N=100000: the benchmark (about 15 minutes)
#   N=10000 bench/search/run.sh         # CI size (about 3-4 minutes)
#   DB=both bench/search/run.sh         # the same corpus on SQLite and on
#                                       # PostgreSQL, measured in turn
#
# Environment (all optional):
#   N=100000          documents to generate and import
#   SEED=1            corpus seed (same seed, same documents, byte for byte)
#   DURATION=10       seconds per measured run (one run per class and concurrency)
#   WARMUP=3          seconds of unmeasured load (every class) before the runs
#   CONCURRENCY=16    clients in the concurrent runs (the other runs use 1)
#   CLASSES="one two three rare common mix"
#                     query classes to run (see corpus.h: query_set)
#   PAGES=1           >1: requests cycle through result pages 1..PAGES
#   DATA=DIR          keep the corpus in DIR: built there when DIR/paidoc.db is
#                     missing, reused (no build figures) when it exists
#   REBUILD=1         0: skip the timed full index rebuild
#   ALLOW_ERRORS=0    1: report runs with non-200 answers instead of failing
#   REQUEST_TIMEOUT=120
#                     seconds the client waits, after a run's end, for answers
#                     still in flight before it declares the server hung
#   BUILD=build       CMake build directory (configured with Ninja if missing)
#   PAIDOC, SEARCH_CORPUS, SEARCH_LATENCY
#                     binaries (default: under $BUILD; built when missing or stale)
#   KEEP_TMP=1        keep the temp directory (corpus, logs) after the run
#   TMPDIR            where the temp directory (and the corpus) goes; a
#                     100,000-document corpus takes about 3 GB
#   DB=sqlite         sqlite | postgresql | both: where the corpus lives.
#                     postgresql: a durable throw-away PostgreSQL cluster
#                     (bench/pg.sh) in the temp directory, the same documents
#                     imported the same way (search_corpus --db), served by
#                     paidoc --db postgresql://… serve. both: SQLite and
#                     PostgreSQL in the same run; both servers run at once
#                     and each class is measured on one, then the other.
#   PG_KEEP=DIR       keep the PostgreSQL cluster in DIR: built there when it
#                     lacks the corpus (database corpus_N_sSEED), reused (no
#                     import figures) when it has it
#
# The import commits each document durably (one transaction each, as
# `paidoc import` does), so import speed is bound by the disk's sync latency;
# the index build speed proper comes from a full rebuild of the FTS index on
# the finished database (INSERT INTO documents_fts(documents_fts)
# VALUES('rebuild')). The server binds to 127.0.0.1 only, runs from a temp
# directory and is stopped on exit whatever happens; the client runs on the
# same machine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=${N:-100000}
SEED=${SEED:-1}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONCURRENCY=${CONCURRENCY:-16}
CLASSES=${CLASSES:-one two three rare common mix}
PAGES=${PAGES:-1}
REBUILD=${REBUILD:-1}
ALLOW_ERRORS=${ALLOW_ERRORS:-0}
REQUEST_TIMEOUT=${REQUEST_TIMEOUT:-120}
BUILD=${BUILD:-$ROOT/build}
[[ $BUILD == /* ]] || BUILD="$ROOT/$BUILD"
DB=${DB:-sqlite}

log() { printf '[bench/search] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"  # stop, port_busy, free_port, wait_http, median, revision, row
# shellcheck source=bench/pg.sh
source "$ROOT/bench/pg.sh"   # pg_start, pg_stop, pg_createdb, pg_url, pg_sql

for v in N SEED DURATION WARMUP CONCURRENCY PAGES REQUEST_TIMEOUT; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]] || { [[ $v != SEED ]] && (( ${!v} == 0 )); }; then
    die "$v must be a positive integer"
  fi
done
case $DB in
  sqlite) BACKENDS=(sqlite) ;;
  postgresql) BACKENDS=(postgresql) ;;
  both) BACKENDS=(sqlite postgresql) ;;
  *) die "DB must be sqlite, postgresql or both" ;;
esac
has_backend() { [[ " ${BACKENDS[*]} " == *" $1 "* ]]; }
backend_name() { [[ $1 == sqlite ]] && echo SQLite || echo PostgreSQL; }
for c in $CLASSES; do
  case $c in one | two | three | rare | common | mix) ;; *) die "unknown class '$c' in CLASSES" ;; esac
done

# --- build ----------------------------------------------------------------------
command -v curl >/dev/null || "$ROOT/scripts/install-deps.sh"
command -v curl >/dev/null || die "curl not found"
if [[ -z ${PAIDOC:-} || -z ${SEARCH_CORPUS:-} || -z ${SEARCH_LATENCY:-} ]]; then
  if [[ ! -f $BUILD/build.ninja ]]; then
    "$ROOT/scripts/install-deps.sh"
    log "configuring $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
  fi
  log "building paidoc, search_corpus, search_latency"
  cmake --build "$BUILD" -j "$(nproc)" --target paidoc search_corpus search_latency >&2 \
    || die "build failed (is add_subdirectory(bench/search) in CMakeLists.txt?)"
fi
PAIDOC=${PAIDOC:-$BUILD/paidoc}
SEARCH_CORPUS=${SEARCH_CORPUS:-$BUILD/bench/search/search_corpus}
SEARCH_LATENCY=${SEARCH_LATENCY:-$BUILD/bench/search/search_latency}
for b in "$PAIDOC" "$SEARCH_CORPUS" "$SEARCH_LATENCY"; do
  [[ -x $b ]] || die "$b missing"
done

# --- temp directory and cleanup ---------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/paidoc-bench-search.XXXXXX")
chmod 0755 "$TMP"
declare -A PID=([sqlite]="" [postgresql]="")


cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop "${PID[sqlite]}"
  stop "${PID[postgresql]}"
  pg_stop
  if [[ ${KEEP_TMP:-0} == 1 || $rc -ne 0 ]]; then
    log "temp directory kept: $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the corpus -------------------------------------------------------------------
BUILT=0
PG_BUILT=0
if has_backend sqlite; then
  if [[ -n ${DATA:-} ]]; then
    mkdir -p "$DATA"
    DATA=$(cd "$DATA" && pwd)
  else
    DATA="$TMP/data"
    mkdir -p "$DATA"
  fi
  if [[ -f $DATA/paidoc.db ]]; then
    log "reusing the corpus in $DATA (no build figures)"
  else
    # About 30 KB per document (sources, parsed form, search text, index, WAL).
    need_kb=$((N * 30))
    avail_kb=$(df -Pk "$DATA" | awk 'NR == 2 { print $4 }')
    ((avail_kb > need_kb)) || die "$DATA has $((avail_kb / 1024)) MB free; $N documents need about $((need_kb / 1024)) MB (set TMPDIR or DATA)"
    log "generating and importing $N documents (seed $SEED) into $DATA"
    rebuild_flag=()
    [[ $REBUILD == 1 ]] || rebuild_flag=(--no-rebuild)
    "$SEARCH_CORPUS" --data "$DATA" --docs "$N" --seed "$SEED" "${rebuild_flag[@]}" \
      >"$TMP/corpus.txt" 2>"$TMP/corpus.err" || { tail -n 5 "$TMP/corpus.err" >&2; cat "$TMP/corpus.txt" >&2; die "search_corpus failed"; }
    BUILT=1
    cat "$TMP/corpus.txt" >&2
  fi
fi
kv() { awk -F': ' -v k="$1" '$1 == k { print $2; exit }' "${2:-$TMP/corpus.txt}" 2>/dev/null || true; }
pkv() { kv "$1" "$TMP/pg-corpus.txt"; }

if has_backend postgresql; then
  pg_start "${PG_KEEP:-$TMP/pg}" durable
  PG_DB="corpus_${N}_s${SEED}"
  PG_DB_URL=$(pg_url "$PG_DB")
  have=$(pg_sql postgres "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")
  if [[ $have == 1 ]] && [[ $(pg_sql "$PG_DB" "SELECT count(*) FROM documents" 2>/dev/null || echo 0) == "$N" ]]; then
    log "reusing the corpus in PostgreSQL database $PG_DB (no import figures)"
  else
    [[ $have == 1 ]] && pg_sql postgres "DROP DATABASE $PG_DB" >/dev/null
    pg_createdb "$PG_DB"
    log "generating and importing $N documents (seed $SEED) into PostgreSQL ($PG_DB)"
    "$SEARCH_CORPUS" --db "$PG_DB_URL" --docs "$N" --seed "$SEED" \
      >"$TMP/pg-corpus.txt" 2>"$TMP/pg-corpus.err" \
      || { tail -n 5 "$TMP/pg-corpus.err" >&2; cat "$TMP/pg-corpus.txt" >&2; die "search_corpus --db failed"; }
    PG_BUILT=1
    cat "$TMP/pg-corpus.txt" >&2
  fi
  # Sizes, whatever the schema: the GIN indexes (the search index), the
  # documents table with its TOAST and indexes, the whole database.
  pg_sql "$PG_DB" "ANALYZE" >/dev/null
  PG_GIN_MB=$(pg_sql "$PG_DB" "SELECT round(coalesce(sum(pg_relation_size(i.indexrelid)), 0) / 1e6, 2)
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
      WHERE am.amname = 'gin'")
  PG_DOCS_MB=$(pg_sql "$PG_DB" "SELECT round(pg_total_relation_size('documents') / 1e6, 2)")
  PG_DB_MB=$(pg_sql "$PG_DB" "SELECT round(pg_database_size(current_database()) / 1e6, 2)")
  log "PostgreSQL: GIN indexes $PG_GIN_MB MB, documents table (with TOAST, indexes) $PG_DOCS_MB MB, database $PG_DB_MB MB"
fi

# --- paidoc -------------------------------------------------------------------
# As shipped: access log on, to a file (as the other benchmarks run it).
# The search limits are off: every query here comes from one address, far
# past what one person searches (the limiter's cost stays in the figures).
declare -A URL SERVER_TIMING
port=18100
for db in "${BACKENDS[@]}"; do
  port=$(free_port "$port")
  URL[$db]="http://127.0.0.1:$port"
  if [[ $db == sqlite ]]; then args=(--data "$DATA"); else args=(--db "$PG_DB_URL"); fi
  mkdir -p "$TMP/run-$db"
  log "starting paidoc ($(backend_name "$db")) on 127.0.0.1:$port"
  (cd "$TMP/run-$db" && exec "$PAIDOC" "${args[@]}" serve --listen "127.0.0.1:$port" \
    --search-per-minute 0 --search-per-day 0 \
    --search-account-per-minute 0 --search-account-per-day 0 \
    --max-connections-per-address 0) \
    >"$TMP/paidoc-$db.log" 2>&1 </dev/null &
  PID[$db]=$!
  wait_http "${URL[$db]}/healthz" "${PID[$db]}" "paidoc ($db)" "$TMP/paidoc-$db.log" 60
  port=$((port + 1))

  # One query by hand, to fail early and clearly when the API is missing.
  probe_code=$(curl -sS -o "$TMP/probe-$db.json" -D "$TMP/probe-$db.headers" -w '%{http_code}' --max-time 30 \
    "${URL[$db]}/api/v1/search?q=%E5%85%9A" || true)
  SERVER_TIMING[$db]=no
  grep -qi '^server-timing:.*dur=' "$TMP/probe-$db.headers" 2>/dev/null && SERVER_TIMING[$db]=yes
  if [[ $probe_code != 200 ]]; then
    if [[ $ALLOW_ERRORS == 1 ]]; then
      log "WARNING: $db: GET /api/v1/search?q=党 answered $probe_code; measuring anyway (ALLOW_ERRORS=1)"
    else
      die "$db: GET /api/v1/search?q=党 answered $probe_code (no search on this backend in this build?); ALLOW_ERRORS=1 measures anyway"
    fi
  else
    grep -q '"total"' "$TMP/probe-$db.json" || die "$db: the search answer has no \"total\": $(head -c 300 "$TMP/probe-$db.json")"
    log "probe ($db): q=党 -> total $(grep -o '"total" *: *[0-9]*' "$TMP/probe-$db.json" | grep -o '[0-9]*$'); Server-Timing: ${SERVER_TIMING[$db]}"
  fi
done

# --- load -----------------------------------------------------------------------
LAT_TIMEOUT=$REQUEST_TIMEOUT
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$2"; }

# run URL CLASS CONC SECONDS OUT: one search_latency run; prints its result line
run() {
  local url=$1 cls=$2 conc=$3 secs=$4 out=$5 line errs
  timeout $((secs + LAT_TIMEOUT + 30)) "$SEARCH_LATENCY" --url "$url" --concurrency "$conc" \
    --seconds "$secs" --queries "$cls" --pages "$PAGES" --timeout "$LAT_TIMEOUT" >"$out" 2>&1 \
    || { cat "$out" >&2; die "search_latency ($cls, $conc clients) failed"; }
  if [[ $cls == all ]]; then line=$(grep '^result ALL ' "$out" || true); else line=$(grep "^result $cls " "$out" || true); fi
  [[ -n $line ]] || { cat "$out" >&2; die "no result line from search_latency ($cls)"; }
  errs=$(field errors "$line")
  if ((errs > 0)) && [[ $ALLOW_ERRORS != 1 ]]; then
    cat "$out" >&2
    die "$cls with $conc clients: $errs requests failed (ALLOW_ERRORS=1 reports them instead)"
  fi
  printf '%s\n' "$line"
}

for db in "${BACKENDS[@]}"; do
  log "warm-up ($db): ${WARMUP}s, every class, $CONCURRENCY clients"
  run "${URL[$db]}" all "$CONCURRENCY" "$WARMUP" "$TMP/warmup-$db.txt" >/dev/null
done

# Each class on one backend, then on the other, so that a neighbour's burst
# on a shared machine does not fall on one backend's figures only.
declare -A R
for conc in 1 "$CONCURRENCY"; do
  for cls in $CLASSES; do
    for db in "${BACKENDS[@]}"; do
      log "$cls: ${DURATION}s with $conc client(s), $db"
      line=$(run "${URL[$db]}" "$cls" "$conc" "$DURATION" "$TMP/lat-$db-$cls-$conc.txt")
      for k in requests errors rps p50_ms p99_ms max_ms server_p50_ms server_p99_ms server_max_ms total_avg zero_hits; do
        R[$db,$cls,$conc,$k]=$(field "$k" "$line")
      done
      printf '%-10s %-6s %2d client(s): %8s req/s  p50 %7s ms  p99 %7s ms  max %7s ms | server p50 %7s ms  p99 %7s ms | avg total %s, errors %s\n' \
        "$db" "$cls" "$conc" "${R[$db,$cls,$conc,rps]}" "${R[$db,$cls,$conc,p50_ms]}" "${R[$db,$cls,$conc,p99_ms]}" \
        "${R[$db,$cls,$conc,max_ms]}" "${R[$db,$cls,$conc,server_p50_ms]}" "${R[$db,$cls,$conc,server_p99_ms]}" \
        "${R[$db,$cls,$conc,total_avg]}" "${R[$db,$cls,$conc,errors]}"
    done
  done
done
declare -A RSS_MB
for db in "${BACKENDS[@]}"; do
  RSS_MB[$db]=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/${PID[$db]}/status" 2>/dev/null || echo "?")
  stop "${PID[$db]}"
  PID[$db]=""
done
PG_RSS_NOTE=""
if has_backend postgresql; then
  # The PostgreSQL server's own memory is not in paidoc's RSS: its shared
  # buffers and backends come on top.
  PG_RSS_NOTE=" PostgreSQL: shared_buffers $(pg_setting shared_buffers)."
  pg_stop
fi

# --- verdicts -------------------------------------------------------------------
# Per backend, the worst p99 over all classes and both concurrencies, server
# side when the server reports it, else client side.
verdict() { awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { ok = (op == "lt") ? (a < b) : (a >= b); print (ok ? "met" : "MISSED") }'; }
declare -A P99_KEY WORST WORST_AT P99_VERDICT
for db in "${BACKENDS[@]}"; do
  P99_KEY[$db]=server_p99_ms
  [[ ${SERVER_TIMING[$db]} == yes ]] || P99_KEY[$db]=p99_ms
  WORST[$db]=0
  WORST_AT[$db]=""
  for conc in 1 "$CONCURRENCY"; do
    for cls in $CLASSES; do
      v=${R[$db,$cls,$conc,${P99_KEY[$db]}]}
      [[ $v != - ]] || continue
      if awk -v a="$v" -v b="${WORST[$db]}" 'BEGIN { exit !(a > b) }'; then WORST[$db]=$v; WORST_AT[$db]="$cls, $conc client(s)"; fi
    done
  done
  P99_VERDICT[$db]="-"
  [[ -n ${WORST_AT[$db]} ]] && P99_VERDICT[$db]=$(verdict "${WORST[$db]}" 20 lt)
done
REBUILD_MBS=""
[[ $BUILT == 1 ]] && REBUILD_MBS=$(kv rebuild_text_mb_per_s)
BUILD_VERDICT="-"
[[ -n $REBUILD_MBS ]] && BUILD_VERDICT=$(verdict "$REBUILD_MBS" 20 ge)
SCALE_NOTE=""
((N == 100000)) || SCALE_NOTE=" (this run: $N documents)"
if has_backend sqlite && [[ $BUILT != 1 ]]; then SCALE_NOTE=" (this run: a reused corpus, $DATA)"; fi
side() { [[ ${P99_KEY[$1]} == server_p99_ms ]] && echo "server side" || echo "client side, no Server-Timing"; }

echo
if [[ $BUILT == 1 ]]; then
  printf 'corpus: %s documents, %s MB of sources, %s MB of indexed text\n' "$(kv documents)" "$(kv source_mb)" "$(kv text_mb)"
  printf 'SQLite import: %s s, %s docs/s, %s MB/s of source (one durable commit per document)\n' \
    "$(kv import_seconds)" "$(kv import_docs_per_s)" "$(kv import_mb_per_s)"
  printf 'SQLite index: %s MB after import (%s x text), %s MB after rebuild (%s x text)\n' \
    "$(kv index_mb)" "$(kv index_ratio)" "$(kv rebuilt_index_mb)" "$(kv rebuilt_index_ratio)"
  [[ -n $REBUILD_MBS ]] && printf 'SQLite rebuild: %s s, %s MB/s of indexed text\n' "$(kv rebuild_seconds)" "$REBUILD_MBS"
fi
if [[ $PG_BUILT == 1 ]]; then
  printf 'PostgreSQL import: %s s, %s docs/s, %s MB/s of source (one durable commit per document)\n' \
    "$(pkv import_seconds)" "$(pkv import_docs_per_s)" "$(pkv import_mb_per_s)"
fi
if has_backend postgresql; then
  printf 'PostgreSQL sizes: GIN indexes %s MB, documents table with TOAST and indexes %s MB, database %s MB\n' \
    "$PG_GIN_MB" "$PG_DOCS_MB" "$PG_DB_MB"
fi
for db in "${BACKENDS[@]}"; do
  printf '%s: worst p99 (%s): %s ms at %s; target at 100,000 documents < 20 ms: %s%s; paidoc peak RSS %s MB\n' \
    "$(backend_name "$db")" "$(side "$db")" "${WORST[$db]}" "${WORST_AT[$db]}" "${P99_VERDICT[$db]}" "$SCALE_NOTE" "${RSS_MB[$db]}"
done
if [[ -n $REBUILD_MBS ]]; then
  printf 'SQLite index build %s MB/s; target at 100,000 documents >= 20 MB/s: %s%s\n' "$REBUILD_MBS" "$BUILD_VERDICT" "$SCALE_NOTE"
fi

# --- Markdown -------------------------------------------------------------------
REV=$(revision)
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
SQLITE_VER=$(awk -F'"' '/define SQLITE_VERSION / { print $2 }' /usr/include/sqlite3.h 2>/dev/null || true)
FS_TYPE=$(df -PT "${DATA:-$TMP}" | awk 'NR == 2 { print $2 }')
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
ENGINES=""
has_backend sqlite && ENGINES="SQLite ${SQLITE_VER:-?} FTS5 with the paidoc tokenizer"
if has_backend postgresql; then
  [[ -n $ENGINES ]] && ENGINES+="; "
  ENGINES+="PostgreSQL $PG_VERSION (throw-away cluster, $PG_SETTINGS), \`paidoc --db postgresql://… serve\`"
fi
DB_CMD=""
[[ $DB == sqlite ]] || DB_CMD="DB=$DB "
TITLE="Search"
[[ $DB == sqlite ]] || TITLE="Search, $(for db in "${BACKENDS[@]}"; do backend_name "$db"; done | paste -sd/ | sed 's|/| and |')"
BOTH_NOTE=""
((${#BACKENDS[@]} > 1)) && BOTH_NOTE="; both servers up at once, each class run on one backend then the other"

cat <<EOF

----- Markdown for BENCHMARKS.md -----
### $TITLE — $(date -u +%Y-%m-%d)

- Machine: $(nproc) CPUs${CPU:+ ($CPU)}, $(uname -sr); data on $FS_TYPE; client on the same machine; load average at the end $LOAD.
- paidoc $REV (\`serve\`, access log on as shipped); $ENGINES.
- Command: \`${DB_CMD}N=$N DURATION=$DURATION bench/search/run.sh\` — corpus seed $SEED; \`search_latency\`: keep-alive HTTP/1.1 \`GET /api/v1/search?q=…\`, each client rotating through its class's queries, ${DURATION}s per run after a ${WARMUP}s warm-up; 1 and $CONCURRENCY clients$BOTH_NOTE.
EOF
if [[ $BUILT == 1 ]]; then
  cat <<EOF
- Corpus: $(kv documents) documents ($(kv documents_with_paid) with paid text), $(kv source_mb) MB of sources (mean $(kv source_avg_kb) KB), $(kv text_mb) MB of indexed text (title $(kv text_title_mb), free $(kv text_free_mb), paid $(kv text_paid_mb)).

| build | figure |
|---|---:|
| import (parse, store, index; one durable commit per document) | $(kv import_docs_per_s) docs/s, $(kv import_mb_per_s) MB/s of source ($(kv import_seconds) s) |
| full index rebuild (\`'rebuild'\`) | **$(kv rebuild_text_mb_per_s) MB/s** of indexed text ($(kv rebuild_seconds) s) |
| index size after import / text | $(kv index_mb) MB / $(kv text_mb) MB = **$(kv index_ratio)** |
| index size after rebuild / text | $(kv rebuilt_index_mb) MB / $(kv text_mb) MB = $(kv rebuilt_index_ratio) |
| database file | $(kv db_mb) MB |
EOF
fi
if has_backend postgresql; then
  echo
  echo "| PostgreSQL | figure |"
  echo "|---|---:|"
  if [[ $PG_BUILT == 1 ]]; then
    echo "| import (the same documents, the same way: one durable commit each) | $(pkv import_docs_per_s) docs/s, $(pkv import_mb_per_s) MB/s of source ($(pkv import_seconds) s) |"
  fi
  echo "| GIN indexes | $PG_GIN_MB MB |"
  echo "| documents table (with TOAST and its indexes) | $PG_DOCS_MB MB |"
  echo "| database | $PG_DB_MB MB |"
fi
for db in "${BACKENDS[@]}"; do
  srv_hdr="server p50 ms | server p99 ms |"
  [[ ${SERVER_TIMING[$db]} == yes ]] || srv_hdr="server p50 ms (n/a) | server p99 ms (n/a) |"
  echo
  if ((${#BACKENDS[@]} > 1)); then printf '%s:\n\n' "$(backend_name "$db")"; fi
  echo "| class | clients | requests | req/s | p50 ms | p99 ms | $srv_hdr avg total hits |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for conc in 1 "$CONCURRENCY"; do
    for cls in $CLASSES; do
      printf '| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n' "$cls" "$conc" "${R[$db,$cls,$conc,requests]}" "${R[$db,$cls,$conc,rps]}" \
        "${R[$db,$cls,$conc,p50_ms]}" "${R[$db,$cls,$conc,p99_ms]}" "${R[$db,$cls,$conc,server_p50_ms]}" \
        "${R[$db,$cls,$conc,server_p99_ms]}" "${R[$db,$cls,$conc,total_avg]}"
    done
  done
done
if ((${#BACKENDS[@]} > 1)); then
  cat <<EOF

Side by side (p50 / p99 ms $(side sqlite) for SQLite, $(side postgresql) for PostgreSQL; avg total is the mean \`total\` of the answers each run got: the two backends agree on a query's total only when they read the query language alike, and the means differ also when one backend got through fewer of the class's queries in the run):

| class | clients | SQLite p50 | SQLite p99 | PostgreSQL p50 | PostgreSQL p99 | p99 PostgreSQL / SQLite | SQLite req/s | PostgreSQL req/s | avg total SQLite / PostgreSQL |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
  for conc in 1 "$CONCURRENCY"; do
    for cls in $CLASSES; do
      s50=${R[sqlite,$cls,$conc,${P99_KEY[sqlite]/99/50}]}
      p50=${R[postgresql,$cls,$conc,${P99_KEY[postgresql]/99/50}]}
      s99=${R[sqlite,$cls,$conc,${P99_KEY[sqlite]}]}
      p99=${R[postgresql,$cls,$conc,${P99_KEY[postgresql]}]}
      printf '| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s / %s |\n' "$cls" "$conc" \
        "$s50" "$s99" "$p50" "$p99" \
        "$(awk -v a="$p99" -v b="$s99" 'BEGIN { if (b > 0 && a == a + 0) printf "%.2f", a / b; else printf "-" }')" \
        "${R[sqlite,$cls,$conc,rps]}" "${R[postgresql,$cls,$conc,rps]}" \
        "${R[sqlite,$cls,$conc,total_avg]}" "${R[postgresql,$cls,$conc,total_avg]}"
    done
  done
fi
echo
for db in "${BACKENDS[@]}"; do
  printf '%s — targets at 100,000 documents%s: p99 < 20 ms %s — worst %s ms (%s): **%s**' \
    "$(backend_name "$db")" "$SCALE_NOTE" "$(side "$db")" "${WORST[$db]}" "${WORST_AT[$db]}" "${P99_VERDICT[$db]}"
  if [[ $db == sqlite ]]; then
    printf '; index build ≥ 20 MB/s — %s MB/s: **%s**' "${REBUILD_MBS:-not measured}" "$BUILD_VERDICT"
  fi
  printf '. paidoc peak RSS %s MB.' "${RSS_MB[$db]}"
  if [[ $db == postgresql ]]; then printf '%s' "$PG_RSS_NOTE"; fi
  printf '\n'
  if ((${#BACKENDS[@]} > 1)); then printf '\n'; fi
done
echo "----- end -----"
