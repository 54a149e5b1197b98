#!/usr/bin/env bash
# Search benchmark: builds a synthetic corpus of N documents (bench/search/
# corpus.cc), reports what building the full-text index costs, then measures
# GET /api/v1/search latency per query class with one client and with
# CONCURRENCY clients over HTTP.
#
#   bench/search/run.sh                 # N=100000: the benchmark (about 15 minutes)
#   N=10000 bench/search/run.sh         # CI size (about 3-4 minutes)
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

log() { printf '[bench/search] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"  # stop, port_busy, free_port, wait_http, median, revision, row

for v in N SEED DURATION WARMUP CONCURRENCY PAGES REQUEST_TIMEOUT; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]] || { [[ $v != SEED ]] && (( ${!v} == 0 )); }; then
    die "$v must be a positive integer"
  fi
done
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
PAIDOC_PID=""


cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop "$PAIDOC_PID"
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
if [[ -n ${DATA:-} ]]; then
  mkdir -p "$DATA"
  DATA=$(cd "$DATA" && pwd)
else
  DATA="$TMP/data"
  mkdir -p "$DATA"
fi
BUILT=0
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
kv() { awk -F': ' -v k="$1" '$1 == k { print $2; exit }' "$TMP/corpus.txt" 2>/dev/null || true; }

# --- paidoc -------------------------------------------------------------------
PORT=$(free_port 18100)
URL="http://127.0.0.1:$PORT"

# As shipped: access log on, to a file (as the other benchmarks run it).
# The search limits are off: every query here comes from one address, far
# past what one person searches (the limiter's cost stays in the figures).
log "starting paidoc on 127.0.0.1:$PORT"
"$PAIDOC" serve --data "$DATA" --listen "127.0.0.1:$PORT" \
  --search-per-minute 0 --search-per-day 0 \
  --search-account-per-minute 0 --search-account-per-day 0 \
  >"$TMP/paidoc.log" 2>&1 </dev/null &
PAIDOC_PID=$!
wait_http "$URL/healthz" "$PAIDOC_PID" paidoc "$TMP/paidoc.log" 60

# One query by hand, to fail early and clearly when the API is missing.
probe_code=$(curl -sS -o "$TMP/probe.json" -D "$TMP/probe.headers" -w '%{http_code}' --max-time 30 \
  "$URL/api/v1/search?q=%E5%85%9A" || true)
SERVER_TIMING=no
grep -qi '^server-timing:.*dur=' "$TMP/probe.headers" 2>/dev/null && SERVER_TIMING=yes
if [[ $probe_code != 200 ]]; then
  if [[ $ALLOW_ERRORS == 1 ]]; then
    log "WARNING: GET /api/v1/search?q=党 answered $probe_code; measuring anyway (ALLOW_ERRORS=1)"
  else
    die "GET /api/v1/search?q=党 answered $probe_code (no search API in this build?); ALLOW_ERRORS=1 measures anyway"
  fi
else
  grep -q '"total"' "$TMP/probe.json" || die "the search answer has no \"total\": $(head -c 300 "$TMP/probe.json")"
  log "probe: q=党 -> total $(grep -o '"total" *: *[0-9]*' "$TMP/probe.json" | grep -o '[0-9]*$'); Server-Timing: $SERVER_TIMING"
fi

# --- load -----------------------------------------------------------------------
LAT_TIMEOUT=$REQUEST_TIMEOUT
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$2"; }

# run CLASS CONC SECONDS OUT: one search_latency run; prints its result line
run() {
  local cls=$1 conc=$2 secs=$3 out=$4 line errs
  timeout $((secs + LAT_TIMEOUT + 30)) "$SEARCH_LATENCY" --url "$URL" --concurrency "$conc" \
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

log "warm-up: ${WARMUP}s, every class, $CONCURRENCY clients"
run all "$CONCURRENCY" "$WARMUP" "$TMP/warmup.txt" >/dev/null

declare -A R
for conc in 1 "$CONCURRENCY"; do
  for cls in $CLASSES; do
    log "$cls: ${DURATION}s with $conc client(s)"
    line=$(run "$cls" "$conc" "$DURATION" "$TMP/lat-$cls-$conc.txt")
    for k in requests errors rps p50_ms p99_ms max_ms server_p50_ms server_p99_ms server_max_ms total_avg zero_hits; do
      R[$cls,$conc,$k]=$(field "$k" "$line")
    done
    printf '%-6s %2d client(s): %8s req/s  p50 %7s ms  p99 %7s ms  max %7s ms | server p50 %7s ms  p99 %7s ms | avg total %s, errors %s\n' \
      "$cls" "$conc" "${R[$cls,$conc,rps]}" "${R[$cls,$conc,p50_ms]}" "${R[$cls,$conc,p99_ms]}" \
      "${R[$cls,$conc,max_ms]}" "${R[$cls,$conc,server_p50_ms]}" "${R[$cls,$conc,server_p99_ms]}" \
      "${R[$cls,$conc,total_avg]}" "${R[$cls,$conc,errors]}"
  done
done
RSS_MB=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$PAIDOC_PID/status" 2>/dev/null || echo "?")
stop "$PAIDOC_PID"
PAIDOC_PID=""

# --- verdicts -------------------------------------------------------------------
# The worst p99 over all classes and both concurrencies, server side when the
# server reports it, else client side.
P99_KEY=server_p99_ms
[[ $SERVER_TIMING == yes ]] || P99_KEY=p99_ms
WORST=0
WORST_AT=""
for conc in 1 "$CONCURRENCY"; do
  for cls in $CLASSES; do
    v=${R[$cls,$conc,$P99_KEY]}
    [[ $v != - ]] || continue
    if awk -v a="$v" -v b="$WORST" 'BEGIN { exit !(a > b) }'; then WORST=$v; WORST_AT="$cls, $conc client(s)"; fi
  done
done
verdict() { awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { ok = (op == "lt") ? (a < b) : (a >= b); print (ok ? "met" : "MISSED") }'; }
P99_VERDICT="-"
[[ -n $WORST_AT ]] && P99_VERDICT=$(verdict "$WORST" 20 lt)
REBUILD_MBS=$(kv rebuild_text_mb_per_s)
BUILD_VERDICT="-"
[[ -n $REBUILD_MBS ]] && BUILD_VERDICT=$(verdict "$REBUILD_MBS" 20 ge)
SCALE_NOTE=""
((N == 100000)) || SCALE_NOTE=" (this run: $N documents)"
[[ $BUILT == 1 ]] || SCALE_NOTE=" (this run: a reused corpus, $DATA)"

echo
if [[ $BUILT == 1 ]]; then
  printf 'corpus: %s documents, %s MB of sources, %s MB of indexed text\n' "$(kv documents)" "$(kv source_mb)" "$(kv text_mb)"
  printf 'import: %s s, %s docs/s, %s MB/s of source (one durable commit per document)\n' \
    "$(kv import_seconds)" "$(kv import_docs_per_s)" "$(kv import_mb_per_s)"
  printf 'index: %s MB after import (%s x text), %s MB after rebuild (%s x text)\n' \
    "$(kv index_mb)" "$(kv index_ratio)" "$(kv rebuilt_index_mb)" "$(kv rebuilt_index_ratio)"
  [[ -n $REBUILD_MBS ]] && printf 'rebuild: %s s, %s MB/s of indexed text\n' "$(kv rebuild_seconds)" "$REBUILD_MBS"
fi
printf 'worst p99 (%s): %s ms at %s; target at 100,000 documents < 20 ms: %s%s\n' \
  "$([[ $P99_KEY == server_p99_ms ]] && echo server side || echo client side, no Server-Timing)" "$WORST" "$WORST_AT" "$P99_VERDICT" "$SCALE_NOTE"
[[ -n $REBUILD_MBS ]] && printf 'index build %s MB/s; target at 100,000 documents >= 20 MB/s: %s%s\n' "$REBUILD_MBS" "$BUILD_VERDICT" "$SCALE_NOTE"
printf 'paidoc peak RSS: %s MB\n' "$RSS_MB"

# --- Markdown -------------------------------------------------------------------
REV=$(revision)
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
SQLITE_VER=$(awk -F'"' '/define SQLITE_VERSION / { print $2 }' /usr/include/sqlite3.h 2>/dev/null || true)
FS_TYPE=$(df -PT "$DATA" | awk 'NR == 2 { print $2 }')
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
srv_hdr="server p50 ms | server p99 ms |"
[[ $SERVER_TIMING == yes ]] || srv_hdr="server p50 ms (n/a) | server p99 ms (n/a) |"

cat <<EOF

----- Markdown for BENCHMARKS.md -----
### Search — $(date -u +%Y-%m-%d)

- Machine: $(nproc) CPUs${CPU:+ ($CPU)}, $(uname -sr); data on $FS_TYPE; client on the same machine; load average at the end $LOAD.
- paidoc $REV (\`serve\`, access log on as shipped); SQLite ${SQLITE_VER:-?} FTS5 with the paidoc tokenizer.
- Command: \`N=$N DURATION=$DURATION bench/search/run.sh\` — corpus seed $SEED; \`search_latency\`: keep-alive HTTP/1.1 \`GET /api/v1/search?q=…\`, each client rotating through its class's queries, ${DURATION}s per run after a ${WARMUP}s warm-up; 1 and $CONCURRENCY clients.
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
cat <<EOF

| class | clients | requests | req/s | p50 ms | p99 ms | $srv_hdr avg total hits |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
for conc in 1 "$CONCURRENCY"; do
  for cls in $CLASSES; do
    printf '| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n' "$cls" "$conc" "${R[$cls,$conc,requests]}" "${R[$cls,$conc,rps]}" \
      "${R[$cls,$conc,p50_ms]}" "${R[$cls,$conc,p99_ms]}" "${R[$cls,$conc,server_p50_ms]}" \
      "${R[$cls,$conc,server_p99_ms]}" "${R[$cls,$conc,total_avg]}"
  done
done
cat <<EOF

Targets at 100,000 documents${SCALE_NOTE}: p99 < 20 ms $([[ $P99_KEY == server_p99_ms ]] && echo "server side" || echo "client side (no Server-Timing)") — worst $WORST ms ($WORST_AT): **$P99_VERDICT**; index build ≥ 20 MB/s — ${REBUILD_MBS:-not measured} MB/s: **$BUILD_VERDICT**. paidoc peak RSS $RSS_MB MB.
----- end -----
EOF
