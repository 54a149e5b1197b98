#!/usr/bin/env bash
# Wallet purchase benchmark: durable wallet purchases per second over HTTP,
# next to the same disk's raw SQLite durable commits per second.
#
#   bench/purchase/run.sh
#
# A purchase by a signed-in reader (bearer token) is, with MODE=onestep (the
# default), one API call in one transaction: POST /api/v1/orders
# {"document_id", "pay":"wallet"}, answered 201 with "status":"paid"; with
# MODE=twostep, two calls and two transactions: POST /api/v1/orders
# {"document_id"} then POST /api/v1/orders/{id}/pay {"method":"wallet"},
# answered 200 with "status":"paid". paidoc runs as
# shipped: SQLite in WAL mode with synchronous=FULL, access log on (to a
# file). The raw figures come from a small C program (sqlite_commits.c)
# committing single-row INSERT transactions with the same settings on the
# same disk: 1 thread, N threads contending like paidoc's connections, and N
# threads behind one in-process lock. They run while SCHED_IDLE spinners keep
# the CPUs from idling (RAW_CPU=busy, the default), because on some virtual
# machines an idle CPU adds milliseconds of wake-up latency to every sync,
# which a loaded server never pays; one 1-thread run on an idle machine is
# reported beside them.
#
# Environment (all optional):
#   MODE=onestep      onestep | twostep (see above)
#   CONNECTIONS=16    concurrent connections (wrk -tN -cN: one connection per
#                     wrk thread); also the raw driver's threads
#   READERS_PER_CONNECTION=16
#                     readers taking turns on each connection (CONNECTIONS x
#                     this many accounts are created)
#   DURATION=10       seconds per measured wrk run
#   WARMUP=2          seconds of unmeasured purchases before the first round
#   ROUNDS=3          measured rounds; each: the raw SQLite runs, then paidoc
#   SQLITE_SECONDS=3  seconds per raw SQLite run
#   RAW_CPU=busy      busy: raw runs with SCHED_IDLE spinners on every CPU;
#                     idle: without them
#   DOCS=300          documents imported (each reader buys each at most once;
#                     a run that runs out is rejected: raise DOCS)
#   PAIDOC=build/paidoc   the binary to run
#   KEEP_TMP=1        keep the temp directory (data, logs) after the run
#   TMPDIR            where the temp directory (and so the databases) goes;
#                     it must be on the disk you want to measure, not tmpfs
#   DB=sqlite         postgresql: run bench/purchase/pg.sh instead (PostgreSQL,
#                     1 and 2 nodes, against pgbench)
#
# Everything binds to 127.0.0.1, runs from a temp directory and is stopped on
# exit whatever happens. wrk runs on the same machine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/bench/purchase"
case ${DB:-sqlite} in
  sqlite) ;;
  postgresql) exec "$HERE/pg.sh" ;;
  *) echo "bench/purchase: DB must be sqlite or postgresql" >&2; exit 2 ;;
esac
MODE=${MODE:-onestep}
[[ $MODE == onestep || $MODE == twostep ]] || { echo "bench/purchase: MODE must be onestep or twostep" >&2; exit 2; }
CONNECTIONS=${CONNECTIONS:-16}
READERS_PER_CONNECTION=${READERS_PER_CONNECTION:-16}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
SQLITE_SECONDS=${SQLITE_SECONDS:-3}
RAW_CPU=${RAW_CPU:-busy}
DOCS=${DOCS:-300}
PAIDOC=${PAIDOC:-$ROOT/build/paidoc}
PASSWORD='bench password 2026'

log() { printf '[bench/purchase] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"  # stop, port_busy, free_port, wait_http, median, revision, row

for v in CONNECTIONS READERS_PER_CONNECTION DURATION WARMUP ROUNDS SQLITE_SECONDS DOCS; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]] || (( ${!v} == 0 )); then die "$v must be a positive integer"; fi
done
[[ $RAW_CPU == busy || $RAW_CPU == idle ]] || die "RAW_CPU must be busy or idle"
READERS=$((CONNECTIONS * READERS_PER_CONNECTION))
JOBS=$(nproc)

# --- dependencies and build -------------------------------------------------
"$ROOT/scripts/install-deps.sh" --bench
command -v wrk >/dev/null || die "wrk not found"
command -v curl >/dev/null || die "curl not found"
CC=${CC:-cc}
command -v "$CC" >/dev/null || die "no C compiler ($CC)"
if [[ ! -x $PAIDOC ]]; then
  log "building paidoc (make)"
  make -C "$ROOT" >&2
fi
[[ -x $PAIDOC ]] || die "$PAIDOC missing after make"

# --- temp directory and cleanup ---------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/paidoc-bench-purchase.XXXXXX")
PAIDOC_PID=""
SPINNERS=()


# CPU spinners for the raw runs: SCHED_IDLE (or nice 19) busy loops, one per
# CPU, that only take time nothing else wants.
start_spinners() {
  local i
  for ((i = 0; i < JOBS; i++)); do
    if command -v chrt >/dev/null; then
      chrt --idle 0 bash -c 'while :; do :; done' &
    else
      nice -n 19 bash -c 'while :; do :; done' &
    fi
    SPINNERS+=($!)
  done
}
stop_spinners() {
  local pid
  for pid in "${SPINNERS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SPINNERS=()
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_spinners
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

FS_TYPE=$(df -PT "$TMP" | awk 'NR == 2 { print $2 }')
FS_DEV=$(df -P "$TMP" | awk 'NR == 2 { print $1 }')
if [[ $FS_TYPE == tmpfs || $FS_TYPE == ramfs ]]; then
  log "WARNING: $TMP is on $FS_TYPE: fsync costs nothing there, so neither figure means durability."
  log "         Set TMPDIR to a folder on the disk the data would live on."
fi
log "temp directory $TMP on $FS_DEV ($FS_TYPE)"

# --- the raw SQLite driver ------------------------------------------------------
"$CC" -O2 -Wall -o "$TMP/sqlite_commits" "$HERE/sqlite_commits.c" -lsqlite3 -lpthread \
  || die "cannot compile sqlite_commits.c (libsqlite3-dev installed?)"

# --- seed: documents, readers with money ------------------------------------------
DATA="$TMP/data"
mkdir -p "$DATA" "$TMP/src"
log "writing $DOCS documents"
for ((i = 1; i <= DOCS; i++)); do
  printf '压测文档第%d号\n这是第%d号文档的免费部分，介绍文档的主要内容。\n##paidbegin##这是第%d号文档的付费部分，读者付款后可见。##paidend##\n' \
    "$i" "$i" "$i" >"$TMP/src/$(printf '%05d' "$i").txt"
done
log "importing them (price 1.00 yuan)"
"$PAIDOC" import --data "$DATA" --price 1.00 "$TMP/src" >"$TMP/import.txt" 2>"$TMP/import.err" \
  || { tail -n 5 "$TMP/import.txt" "$TMP/import.err" >&2; die "import failed"; }
awk '$1 == "imported" { print $2 }' "$TMP/import.txt" >"$TMP/docs.txt"
[[ $(wc -l <"$TMP/docs.txt") == "$DOCS" ]] || die "expected $DOCS imported documents"

# Enough money for every document, twice over. Accounts are made with the
# CLI ($JOBS at a time: each password is hashed with argon2id).
CREDIT=$((DOCS * 2))
log "creating $READERS readers with ¥$CREDIT each"
export PAIDOC DATA PASSWORD CREDIT
seq 1 "$READERS" | xargs -P "$JOBS" -I{} bash -c '
  email="reader{}@bench.example"
  printf "%s\n" "$PASSWORD" | "$PAIDOC" user add --data "$DATA" --email "$email" >/dev/null &&
  "$PAIDOC" wallet credit --data "$DATA" --email "$email" --amount "$CREDIT" --note benchmark >/dev/null
' 2>"$TMP/seed.err" || { tail -n 5 "$TMP/seed.err" >&2; die "creating readers failed"; }

# --- paidoc -------------------------------------------------------------------
PORT=$(free_port 18090)
URL="http://127.0.0.1:$PORT"

log "starting paidoc on 127.0.0.1:$PORT"
# Every client is 127.0.0.1: no cap per address (--max-connections-per-address).
"$PAIDOC" serve --data "$DATA" --listen "127.0.0.1:$PORT" --max-connections-per-address 0 \
  >"$TMP/paidoc.log" 2>&1 </dev/null &
PAIDOC_PID=$!
wait_http "$URL/healthz" "$PAIDOC_PID" paidoc "$TMP/paidoc.log" 30

log "signing the readers in"
mkdir -p "$TMP/tokens"
export URL TMP
seq 1 "$READERS" | xargs -P "$JOBS" -I{} bash -c '
  body=$(curl -fsS --max-time 30 -H "Content-Type: application/json" \
    -d "{\"email\":\"reader{}@bench.example\",\"password\":\"$PASSWORD\"}" "$URL/api/v1/auth/login") || exit 1
  printf "%s" "$body" | grep -o "\"token\" *: *\"[^\"]*\"" | sed "s/.*\"\([^\"]*\)\"\$/\1/" >"$TMP/tokens/{}"
' || die "signing in failed"
for ((i = 1; i <= READERS; i++)); do
  [[ -s $TMP/tokens/$i ]] || die "no token for reader$i"
  cat "$TMP/tokens/$i"
done >"$TMP/tokens.txt"

# One purchase by hand, to fail early and clearly when the API disagrees.
probe_token=$(head -n 1 "$TMP/tokens.txt")
probe_doc=$(head -n 1 "$TMP/docs.txt")
order=$(curl -sS --max-time 10 -H "Authorization: Bearer $probe_token" -H 'Content-Type: application/json' \
  -d "{\"document_id\":$probe_doc}" "$URL/api/v1/orders")
order_id=$(printf '%s' "$order" | grep -o '"id" *: *[0-9]*' | head -n 1 | grep -o '[0-9]*$' || true)
[[ -n $order_id ]] || die "order creation failed: $order"
paid=$(curl -sS --max-time 10 -H "Authorization: Bearer $probe_token" -H 'Content-Type: application/json' \
  -d '{"method":"wallet"}' "$URL/api/v1/orders/$order_id/pay")
printf '%s' "$paid" | grep -q '"status" *: *"paid"' || die "wallet payment failed: $paid"
START=1  # where each wrk thread's purchase sequence starts; #0 (reader 1, document 0) was the probe

# --- load ---------------------------------------------------------------------
WRK_TIMEOUT=$((DURATION + WARMUP + 60))

# run_wrk NAME SECONDS OUT: one wrk run; fails on errors, non-2xx answers or
# readers that ran out of documents. Advances START past what was bought.
run_wrk() {
  local name=$1 secs=$2 out=$3
  PURCHASE_TOKENS="$TMP/tokens.txt" PURCHASE_PER_THREAD=$READERS_PER_CONNECTION \
    PURCHASE_DOCS="$TMP/docs.txt" PURCHASE_START=$START PURCHASE_MODE=$MODE \
    timeout "$WRK_TIMEOUT" wrk -t"$CONNECTIONS" -c"$CONNECTIONS" -d"${secs}s" --timeout 10s --latency \
    -s "$HERE/purchase.lua" "$URL" >"$out" 2>&1 \
    || { cat "$out" >&2; die "wrk ($name) failed"; }
  if grep -q 'Non-2xx or 3xx responses' "$out"; then
    cat "$out" >&2
    die "$name: paidoc answered non-2xx responses under load"
  fi
  if grep -q 'Socket errors' "$out"; then
    cat "$out" >&2
    die "$name: socket errors or timeouts under load"
  fi
  local line
  line=$(grep '^purchase:' "$out") || { cat "$out" >&2; die "no purchase line in wrk output ($name)"; }
  local failed exhausted used
  failed=$(awk '{ for (i = 1; i < NF; i++) if ($i == "failed") print $(i + 1) }' <<<"$line")
  exhausted=$(awk '{ for (i = 1; i < NF; i++) if ($i == "exhausted") print $(i + 1) }' <<<"$line")
  used=$(awk '{ for (i = 1; i < NF; i++) if ($i == "sequence_used") print $(i + 1) }' <<<"$line")
  ((failed == 0)) || { cat "$out" >&2; die "$name: $failed purchase calls failed"; }
  ((exhausted == 0)) || die "$name: readers ran out of documents; raise DOCS (now $DOCS)"
  START=$((START + used))
}
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$(grep "^$1" "$3")"; }
lat_ms() {  # latency percentile (50%, 99%) in milliseconds from wrk --latency output
  awk -v p="$2%" '$1 == p {
      v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
      if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
      printf "%.2f", v; exit }' "$1"
}

log "warm-up: ${WARMUP}s of purchases"
run_wrk warm-up "$WARMUP" "$TMP/wrk-warmup.txt"

# raw NAME THREADS [lock]: one raw SQLite run on a fresh database, into $TMP/NAME.txt
raw() {
  local name=$1
  shift
  rm -f "$TMP"/raw.db "$TMP"/raw.db-wal "$TMP"/raw.db-shm
  "$TMP/sqlite_commits" "$TMP/raw.db" "$1" "$SQLITE_SECONDS" ${2:+"$2"} >"$TMP/$name.txt" \
    || die "sqlite_commits ($name) failed"
}

# CPU seconds paidoc has used so far (user + system).
CLK_TCK=$(getconf CLK_TCK)
cpu_seconds() { awk -v hz="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$PAIDOC_PID/stat"; }

declare -a P_RATE P_P50 P_P99 P_CPU S0_RATE S1_RATE SN_RATE SL_RATE
for ((r = 1; r <= ROUNDS; r++)); do
  log "round $r/$ROUNDS: raw SQLite, ${SQLITE_SECONDS}s each: 1 thread (idle CPUs), then ($RAW_CPU CPUs) 1 thread, $CONNECTIONS threads, $CONNECTIONS threads + lock"
  raw "raw0-$r" 1
  if [[ $RAW_CPU == busy ]]; then start_spinners; fi
  raw "raw1-$r" 1
  raw "rawN-$r" "$CONNECTIONS"
  raw "rawL-$r" "$CONNECTIONS" lock
  stop_spinners
  s0=$(field commits per_second "$TMP/raw0-$r.txt")
  s1=$(field commits per_second "$TMP/raw1-$r.txt")
  sn=$(field commits per_second "$TMP/rawN-$r.txt")
  sl=$(field commits per_second "$TMP/rawL-$r.txt")
  log "round $r/$ROUNDS: paidoc purchases, ${DURATION}s"
  cpu0=$(cpu_seconds)
  run_wrk "round $r" "$DURATION" "$TMP/wrk-$r.txt"
  cpu1=$(cpu_seconds)
  rate=$(field purchase: purchases_per_sec "$TMP/wrk-$r.txt")
  paid=$(field purchase: paid "$TMP/wrk-$r.txt")
  cpu_ms=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$paid" 'BEGIN { printf "%.2f", (n > 0 ? (b - a) * 1000 / n : 0) }')
  p50=$(lat_ms "$TMP/wrk-$r.txt" 50)
  p99=$(lat_ms "$TMP/wrk-$r.txt" 99)
  printf 'round %d: paidoc %8s purchases/s (%s paid; %s ms CPU each; per call p50 %s ms, p99 %s ms) | raw commits/s: idle 1 thread %s; %s: 1 thread %s, %d threads %s, %d threads + lock %s\n' \
    "$r" "$rate" "$paid" "$cpu_ms" "$p50" "$p99" "$s0" "$RAW_CPU" "$s1" "$CONNECTIONS" "$sn" "$CONNECTIONS" "$sl"
  P_RATE+=("$rate"); P_P50+=("$p50"); P_P99+=("$p99"); P_CPU+=("$cpu_ms")
  S0_RATE+=("$s0"); S1_RATE+=("$s1"); SN_RATE+=("$sn"); SL_RATE+=("$sl")
done

# --- the books must balance after all that --------------------------------------
VERIFY=$("$PAIDOC" ledger verify --data "$DATA" 2>&1) || { printf '%s\n' "$VERIFY" >&2; die "ledger verify failed"; }
log "$VERIFY"

P_MED=$(median "${P_RATE[@]}")
S0_MED=$(median "${S0_RATE[@]}")
S1_MED=$(median "${S1_RATE[@]}")
SN_MED=$(median "${SN_RATE[@]}")
SL_MED=$(median "${SL_RATE[@]}")
P50_MED=$(median "${P_P50[@]}")
P99_MED=$(median "${P_P99[@]}")
CPU_MED=$(median "${P_CPU[@]}")
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
R1=$(ratio "$P_MED" "$S1_MED")
RN=$(ratio "$P_MED" "$SN_MED")
RL=$(ratio "$P_MED" "$SL_MED")

echo
printf 'paidoc wallet purchases/s (median of %d rounds): %s, %s ms of paidoc CPU per purchase\n' "$ROUNDS" "$P_MED" "$CPU_MED"
printf 'raw SQLite durable commits/s (medians, %s CPUs): %s with 1 thread, %s with %d threads, %s with %d threads + lock; idle CPUs, 1 thread: %s\n' \
  "$RAW_CPU" "$S1_MED" "$SN_MED" "$CONNECTIONS" "$SL_MED" "$CONNECTIONS" "$S0_MED"
printf 'paidoc purchases per raw commit: %s (1 thread), %s (%d threads), %s (%d threads + lock)\n' \
  "$R1" "$RN" "$CONNECTIONS" "$RL" "$CONNECTIONS"

# --- Markdown -------------------------------------------------------------------
REV=$(revision)
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
SQLITE_VER=$(awk -F'"' '/define SQLITE_VERSION / { print $2 }' /usr/include/sqlite3.h 2>/dev/null || true)
hdr=$(for ((r = 1; r <= ROUNDS; r++)); do printf ' round %d |' "$r"; done)
sep=$(for ((r = 1; r <= ROUNDS; r++)); do printf -- '---:|'; done)

cat <<EOF

----- Markdown for BENCHMARKS.md -----
### Wallet purchases — $(date -u +%Y-%m-%d)

- Machine: $(nproc) CPUs${CPU:+ ($CPU)}, $(uname -sr); data on $FS_DEV ($FS_TYPE); wrk on the same machine; load average at the end $LOAD.
- paidoc $REV (\`serve\`, SQLite WAL + synchronous=FULL and access log on, as shipped); SQLite ${SQLITE_VER:-?}.
- Command: \`MODE=$MODE DURATION=$DURATION ROUNDS=$ROUNDS bench/purchase/run.sh\` — $CONNECTIONS connections (\`wrk -t$CONNECTIONS -c$CONNECTIONS -d${DURATION}s\`), $READERS readers taking turns ($READERS_PER_CONNECTION per connection), each purchase = $( [[ $MODE == onestep ]] && printf 'one call, order + wallet payment in one transaction' || printf 'create order + pay from the wallet (two calls)' ); $DOCS documents at ¥1.00; ${WARMUP}s warm-up.
- Raw: \`sqlite_commits\` — single-row INSERT transactions (BEGIN IMMEDIATE … COMMIT), WAL + synchronous=FULL, same disk, ${SQLITE_SECONDS}s per run; CPUs $RAW_CPU$( [[ $RAW_CPU == busy ]] && printf ' (SCHED_IDLE spinners)' ) except the "idle" row.
- Afterwards \`paidoc ledger verify\`: ${VERIFY}.

| figure |$hdr median |
|---|$sep---:|
$(row "paidoc wallet purchases/s" "${P_RATE[@]}" "**$P_MED**")
$(row "paidoc CPU ms per purchase" "${P_CPU[@]}" "$CPU_MED")
$(row "raw commits/s, 1 thread" "${S1_RATE[@]}" "**$S1_MED**")
$(row "raw commits/s, $CONNECTIONS threads (busy handler, as paidoc)" "${SN_RATE[@]}" "**$SN_MED**")
$(row "raw commits/s, $CONNECTIONS threads + one lock" "${SL_RATE[@]}" "**$SL_MED**")
$(row "raw commits/s, 1 thread, idle CPUs" "${S0_RATE[@]}" "$S0_MED")

Per API call, median of rounds: p50 $P50_MED ms, p99 $P99_MED ms.
paidoc purchases per raw commit: **$R1** (1 thread), **$RN** ($CONNECTIONS threads), **$RL** ($CONNECTIONS threads + lock).
----- end -----
EOF
