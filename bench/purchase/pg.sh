#!/usr/bin/env bash
# Wallet purchase benchmark on PostgreSQL: durable wallet purchases per
# second over HTTP with one paidoc node, then with two nodes on the same
# database, next to raw durable single-row INSERT commits per second on the
# same PostgreSQL server (pgbench) with the same client concurrency, in the
# same run.
#
#   bench/purchase/pg.sh
#   DB=postgresql bench/purchase/run.sh     # the same
#
# A purchase is what bench/purchase/run.sh buys (purchase.lua): with
# MODE=onestep (the default) one call, POST /api/v1/orders {"document_id",
# "pay":"wallet"} answered 201 "paid", one SERIALIZABLE transaction; with
# MODE=twostep, create the order, then pay it. PostgreSQL is a throw-away
# cluster in the temp directory, DURABLE (fsync, synchronous_commit and
# full_page_writes on: PostgreSQL's defaults), on 127.0.0.1. Both nodes are
# `paidoc --db postgresql://… serve` as shipped (access log on, to a file),
# each on its own port. The 1-node run sends every connection to node A; the
# 2-node run splits the same number of connections over A and B (two wrk
# processes at once, each with half the connections and its own readers;
# purchases/s summed). Every reader signs in on node A, so node B serves
# sessions it never issued. Each round: pgbench, 1 node, 2 nodes.
#
# Beside every figure the script reports where the CPU went during the run
# (from /proc: each paidoc node, the PostgreSQL server with its backends,
# the load generator, everything else on the machine), since client,
# servers and database share the machine's cores.
#
# Environment (all optional):
#   MODE=onestep      onestep | twostep
#   CONNECTIONS=16    concurrent connections (even: 2 nodes get half each); also
#                     pgbench's clients in the "N clients" baseline
#   READERS_PER_CONNECTION=16
#   DURATION=10       seconds per measured wrk run
#   WARMUP=2          seconds of unmeasured purchases (both nodes) first
#   ROUNDS=3          rounds of (pgbench, 1 node, 2 nodes)
#   RAW_SECONDS=3     seconds per pgbench run
#   RAW_CPU=busy      busy: pgbench runs with SCHED_IDLE spinners on every CPU
#                     (see bench/purchase/run.sh); idle: without
#   DOCS=600          documents imported at ¥1.00 (raise it for long runs)
#   PAIDOC=build/paidoc
#   ALLOW_FAILED=0    1: a purchase answered other than 2xx "paid" (say 503
#                     when a write gave up after colliding with concurrent
#                     ones) is counted and reported instead of rejecting the
#                     run; socket errors and timeouts still reject it
#   KEEP_TMP=1        keep the temp directory (cluster, logs)
#   TMPDIR            where the temp directory and so the cluster go: the disk
#                     you want to measure, not tmpfs
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/bench/purchase"
MODE=${MODE:-onestep}
CONNECTIONS=${CONNECTIONS:-16}
READERS_PER_CONNECTION=${READERS_PER_CONNECTION:-16}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
RAW_SECONDS=${RAW_SECONDS:-3}
RAW_CPU=${RAW_CPU:-busy}
DOCS=${DOCS:-600}
PAIDOC=${PAIDOC:-$ROOT/build/paidoc}
ALLOW_FAILED=${ALLOW_FAILED:-0}
PASSWORD='bench password 2026'

log() { printf '[bench/purchase/pg] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
# shellcheck source=bench/pg.sh
source "$ROOT/bench/pg.sh"

[[ $MODE == onestep || $MODE == twostep ]] || die "MODE must be onestep or twostep"
for v in CONNECTIONS READERS_PER_CONNECTION DURATION WARMUP ROUNDS RAW_SECONDS DOCS; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]] || (( ${!v} == 0 )); then die "$v must be a positive integer"; fi
done
((CONNECTIONS % 2 == 0)) || die "CONNECTIONS must be even (two nodes get half each)"
[[ $RAW_CPU == busy || $RAW_CPU == idle ]] || die "RAW_CPU must be busy or idle"
READERS=$((CONNECTIONS * READERS_PER_CONNECTION))
HALF=$((CONNECTIONS / 2))
JOBS=$(nproc)

# --- dependencies and build -------------------------------------------------
"$ROOT/scripts/install-deps.sh" --bench
command -v wrk >/dev/null || die "wrk not found"
command -v curl >/dev/null || die "curl not found"
pg_find
PGBENCH="$PG_BINDIR/pgbench"
[[ -x $PGBENCH ]] || PGBENCH=$(command -v pgbench || true)
[[ -n $PGBENCH ]] || die "pgbench not found (Debian's postgresql package has it)"
if [[ ! -x $PAIDOC ]]; then
  log "building paidoc (make)"
  make -C "$ROOT" >&2
fi
[[ -x $PAIDOC ]] || die "$PAIDOC missing after make"

# --- temp directory and cleanup ---------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/paidoc-bench-purchase-pg.XXXXXX")
chmod 0755 "$TMP"
NODE_PID=("" "")
SPINNERS=()

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
  stop "${NODE_PID[0]}"
  stop "${NODE_PID[1]}"
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

FS_TYPE=$(df -PT "$TMP" | awk 'NR == 2 { print $2 }')
FS_DEV=$(df -P "$TMP" | awk 'NR == 2 { print $1 }')
if [[ $FS_TYPE == tmpfs || $FS_TYPE == ramfs ]]; then
  log "WARNING: $TMP is on $FS_TYPE: fsync costs nothing there, so no figure means durability."
fi
log "temp directory $TMP on $FS_DEV ($FS_TYPE)"

# --- PostgreSQL, durable --------------------------------------------------------
pg_start "$TMP/pg" durable
pg_createdb paidoc
pg_createdb raw
DB_URL=$(pg_url paidoc)
pg_sql raw "CREATE TABLE commits (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), note text NOT NULL)" >/dev/null
printf "INSERT INTO commits (note) VALUES ('purchase-sized row');\n" >"$TMP/insert.sql"

# --- seed: documents, readers with money ------------------------------------------
mkdir -p "$TMP/src"
log "writing $DOCS documents"
for ((i = 1; i <= DOCS; i++)); do
  printf '压测文档第%d号\n这是第%d号文档的免费部分，介绍文档的主要内容。\n##paidbegin##这是第%d号文档的付费部分，读者付款后可见。##paidend##\n' \
    "$i" "$i" "$i" >"$TMP/src/$(printf '%05d' "$i").txt"
done
log "importing them (price 1.00 yuan) into PostgreSQL"
"$PAIDOC" --db "$DB_URL" import --price 1.00 "$TMP/src" >"$TMP/import.txt" 2>"$TMP/import.err" \
  || { tail -n 5 "$TMP/import.txt" "$TMP/import.err" >&2; die "import failed"; }
awk '$1 == "imported" { print $2 }' "$TMP/import.txt" >"$TMP/docs.txt"
[[ $(wc -l <"$TMP/docs.txt") == "$DOCS" ]] || die "expected $DOCS imported documents"

CREDIT=$((DOCS * 2))
log "creating $READERS readers with ¥$CREDIT each"
export PAIDOC DB_URL PASSWORD CREDIT
seq 1 "$READERS" | xargs -P "$JOBS" -I{} bash -c '
  email="reader{}@bench.example"
  printf "%s\n" "$PASSWORD" | "$PAIDOC" --db "$DB_URL" user add --email "$email" >/dev/null &&
  "$PAIDOC" --db "$DB_URL" wallet credit --email "$email" --amount "$CREDIT" --note benchmark >/dev/null
' 2>"$TMP/seed.err" || { tail -n 5 "$TMP/seed.err" >&2; die "creating readers failed"; }

# --- two nodes ------------------------------------------------------------------
PORT_A=$(free_port 18090)
PORT_B=$(free_port $((PORT_A + 1)))
URLS=("http://127.0.0.1:$PORT_A" "http://127.0.0.1:$PORT_B")
for n in 0 1; do
  name=$([[ $n == 0 ]] && echo A || echo B)
  port=$([[ $n == 0 ]] && echo "$PORT_A" || echo "$PORT_B")
  mkdir -p "$TMP/node$name"
  log "starting node $name on 127.0.0.1:$port"
  # Every client is 127.0.0.1: no cap per address.
  (cd "$TMP/node$name" && exec "$PAIDOC" --db "$DB_URL" serve --listen "127.0.0.1:$port" \
    --max-connections-per-address 0) \
    >"$TMP/node$name.log" 2>&1 </dev/null &
  NODE_PID[n]=$!
  wait_http "${URLS[n]}/healthz" "${NODE_PID[n]}" "node $name" "$TMP/node$name.log" 60
done

log "signing the readers in on node A"
mkdir -p "$TMP/tokens"
export TMP URL_A="${URLS[0]}"
seq 1 "$READERS" | xargs -P "$JOBS" -I{} bash -c '
  body=$(curl -fsS --max-time 30 -H "Content-Type: application/json" \
    -d "{\"email\":\"reader{}@bench.example\",\"password\":\"$PASSWORD\"}" "$URL_A/api/v1/auth/login") || exit 1
  printf "%s" "$body" | grep -o "\"token\" *: *\"[^\"]*\"" | sed "s/.*\"\([^\"]*\)\"\$/\1/" >"$TMP/tokens/{}"
' || die "signing in failed"
for ((i = 1; i <= READERS; i++)); do
  [[ -s $TMP/tokens/$i ]] || die "no token for reader$i"
  cat "$TMP/tokens/$i"
done >"$TMP/tokens.txt"
# Node A's wrk takes the first half of the reader groups, node B's the rest;
# the 1-node run takes all of them, group n being the same readers as there.
head -n $((HALF * READERS_PER_CONNECTION)) "$TMP/tokens.txt" >"$TMP/tokens-A.txt"
tail -n +$((HALF * READERS_PER_CONNECTION + 1)) "$TMP/tokens.txt" >"$TMP/tokens-B.txt"

# One purchase by hand on node B with a token node A issued: fails early when
# the API disagrees or sessions are not shared.
probe_token=$(head -n 1 "$TMP/tokens.txt")
probe_doc=$(head -n 1 "$TMP/docs.txt")
bought=$(curl -sS --max-time 10 -H "Authorization: Bearer $probe_token" -H 'Content-Type: application/json' \
  -d "{\"document_id\":$probe_doc,\"pay\":\"wallet\"}" "${URLS[1]}/api/v1/orders")
printf '%s' "$bought" | grep -q '"status" *: *"paid"' || die "a wallet purchase on node B failed: $bought"
START=1  # purchase #0 of reader group 0 (reader 1, the first document) was the probe

# --- load ---------------------------------------------------------------------
WRK_TIMEOUT=$((DURATION + WARMUP + 60))

# wrk_bg OUT URL TOKENS CONNS SECS: one wrk run in the background (sets WRK_BG)
wrk_bg() {
  local out=$1 url=$2 tokens=$3 conns=$4 secs=$5
  PURCHASE_TOKENS="$tokens" PURCHASE_PER_THREAD=$READERS_PER_CONNECTION \
    PURCHASE_DOCS="$TMP/docs.txt" PURCHASE_START=$START PURCHASE_MODE=$MODE \
    timeout "$WRK_TIMEOUT" wrk -t"$conns" -c"$conns" -d"${secs}s" --timeout 10s --latency \
    -s "$HERE/purchase.lua" "$url" >"$out" 2>&1 &
  WRK_BG=$!
}
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$(grep "^$1" "$3")"; }
lat_ms() {
  awk -v p="$2%" '$1 == p {
      v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
      if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
      printf "%.2f", v; exit }' "$1"
}
# check_wrk NAME OUT RC: dies on errors, non-2xx and failed purchases (unless
# ALLOW_FAILED=1: then they are added to $TMP/failed), exhausted readers;
# prints how far the run went in its purchase sequence
check_wrk() {
  local name=$1 out=$2 rc=$3 line failed exhausted
  ((rc == 0)) || { cat "$out" >&2; die "wrk ($name) failed"; }
  if [[ $ALLOW_FAILED != 1 ]] && grep -q 'Non-2xx or 3xx responses' "$out"; then
    cat "$out" >&2
    grep -h ' 5[0-9][0-9] \| 4[0-9][0-9] ' "$TMP"/node?.log | grep -v 'GET /healthz' | tail -n 3 >&2 || true
    die "$name: non-2xx answers under load (ALLOW_FAILED=1 counts them instead)"
  fi
  if grep -q 'Socket errors' "$out"; then cat "$out" >&2; die "$name: socket errors or timeouts under load"; fi
  line=$(grep '^purchase:' "$out") || { cat "$out" >&2; die "no purchase line in wrk output ($name)"; }
  failed=$(awk '{ for (i = 1; i < NF; i++) if ($i == "failed") print $(i + 1) }' <<<"$line")
  exhausted=$(awk '{ for (i = 1; i < NF; i++) if ($i == "exhausted") print $(i + 1) }' <<<"$line")
  if ((failed > 0)); then
    [[ $ALLOW_FAILED == 1 ]] || { cat "$out" >&2; die "$name: $failed purchase calls failed"; }
    echo "$failed" >>"$TMP/failed"
  fi
  ((exhausted == 0)) || die "$name: readers ran out of documents; raise DOCS (now $DOCS)"
  awk '{ for (i = 1; i < NF; i++) if ($i == "sequence_used") print $(i + 1) }' <<<"$line"
}

# CPU accounting around a run (lib.sh): node A, node B, PostgreSQL (every
# server process; backends that exit during the run count through the
# postmaster's children time), the load generator, everything else.
snap() {
  local args=("nodeA=${NODE_PID[0]}" "nodeB=${NODE_PID[1]}") pid
  for pid in $(pg_pids); do args+=("pg=$pid"); done
  cpu_snapshot "$1" "${args[@]}"
}
# cpu_use BEFORE AFTER: "nodeA nodeB pg client other idle" in % of one CPU
cpu_use() { cpu_shares "$1" "$2" nodeA nodeB pg; }

# purchases NODES NAME SECS: one measured run over 1 or 2 nodes; sets RATE,
# P50, P99 (the worse of the two wrk processes for 2 nodes), CPU (cpu_use)
# PostgreSQL's transaction counters of the paidoc database: "commits rollbacks"
# (a write that collides with a concurrent one under SERIALIZABLE is rolled
# back and run again, so rollbacks count the retries).
xacts() {
  sleep 1.2  # backends publish their counters at most once a second
  pg_sql paidoc "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = 'paidoc'" | tr '|' ' '
}
failed_total() { awk '{ s += $1 } END { print s + 0 }' "$TMP/failed" 2>/dev/null || echo 0; }

purchases() {
  local nodes=$1 name=$2 secs=$3 used used_b pa pb rc rcb x0 x1 f0 paid
  x0=$(xacts)
  f0=$(failed_total)
  snap "$TMP/cpu-before"
  if ((nodes == 1)); then
    wrk_bg "$TMP/$name.txt" "${URLS[0]}" "$TMP/tokens.txt" "$CONNECTIONS" "$secs"
    rc=0; wait "$WRK_BG" || rc=$?
    snap "$TMP/cpu-after"
    used=$(check_wrk "$name" "$TMP/$name.txt" "$rc")
    RATE=$(field purchase: purchases_per_sec "$TMP/$name.txt")
    P50=$(lat_ms "$TMP/$name.txt" 50)
    P99=$(lat_ms "$TMP/$name.txt" 99)
  else
    wrk_bg "$TMP/$name-A.txt" "${URLS[0]}" "$TMP/tokens-A.txt" "$HALF" "$secs"
    pa=$WRK_BG
    wrk_bg "$TMP/$name-B.txt" "${URLS[1]}" "$TMP/tokens-B.txt" "$HALF" "$secs"
    pb=$WRK_BG
    rc=0; wait "$pa" || rc=$?
    rcb=0; wait "$pb" || rcb=$?
    snap "$TMP/cpu-after"
    used=$(check_wrk "$name (node A)" "$TMP/$name-A.txt" "$rc")
    used_b=$(check_wrk "$name (node B)" "$TMP/$name-B.txt" "$rcb")
    ((used_b > used)) && used=$used_b
    RATE=$(awk -v a="$(field purchase: purchases_per_sec "$TMP/$name-A.txt")" \
               -v b="$(field purchase: purchases_per_sec "$TMP/$name-B.txt")" 'BEGIN { printf "%.2f", a + b }')
    P50=$(printf '%s\n' "$(lat_ms "$TMP/$name-A.txt" 50)" "$(lat_ms "$TMP/$name-B.txt" 50)" | sort -g | tail -n 1)
    P99=$(printf '%s\n' "$(lat_ms "$TMP/$name-A.txt" 99)" "$(lat_ms "$TMP/$name-B.txt" 99)" | sort -g | tail -n 1)
  fi
  CPU=$(cpu_use "$TMP/cpu-before" "$TMP/cpu-after")
  START=$((START + used))
  x1=$(xacts)
  FAILED=$(($(failed_total) - f0))
  if ((nodes == 1)); then paid=$(field purchase: paid "$TMP/$name.txt")
  else paid=$(($(field purchase: paid "$TMP/$name-A.txt") + $(field purchase: paid "$TMP/$name-B.txt"))); fi
  # rollbacks per purchase: the retries each purchase cost on average
  RETRIES=$(awk -v a="$x0" -v b="$x1" -v p="$paid" 'BEGIN { split(a, x, " "); split(b, y, " ")
    printf "%.2f", (p > 0 ? (y[2] - x[2]) / p : 0) }')
}

# pgbench CLIENTS OUT: durable single-row INSERT commits per second
raw() {
  local clients=$1 out=$2
  "$PGBENCH" -n -h 127.0.0.1 -p "$PG_PORT" -U paidoc -f "$TMP/insert.sql" \
    -c "$clients" -j "$clients" -T "$RAW_SECONDS" raw >"$out" 2>&1 \
    || { cat "$out" >&2; die "pgbench failed"; }
  awk '/^tps = / { printf "%.2f\n", $3; exit }' "$out"
}

log "warm-up: ${WARMUP}s of purchases on both nodes, ${RAW_SECONDS}s of pgbench"
purchases 2 warmup "$WARMUP"
raw "$CONNECTIONS" "$TMP/pgbench-warmup.txt" >/dev/null

cpu_cols() { read -r a b p c o i <<<"$1"; printf 'A %s%% B %s%% PostgreSQL %s%% wrk %s%% other %s%% idle %s%%' "$a" "$b" "$p" "$c" "$o" "$i"; }
declare -a R1 R2 RP1 RPN RP0 L1_50 L1_99 L2_50 L2_99 C1 C2 RB1 RB2 F1 F2
for ((r = 1; r <= ROUNDS; r++)); do
  log "round $r/$ROUNDS: pgbench ${RAW_SECONDS}s each: 1 client (idle CPUs), then ($RAW_CPU CPUs) 1 client, $CONNECTIONS clients"
  p0=$(raw 1 "$TMP/pgbench0-$r.txt")
  [[ $RAW_CPU == busy ]] && start_spinners
  p1=$(raw 1 "$TMP/pgbench1-$r.txt")
  pn=$(raw "$CONNECTIONS" "$TMP/pgbenchN-$r.txt")
  stop_spinners
  log "round $r/$ROUNDS: 1 node, $CONNECTIONS connections, ${DURATION}s"
  purchases 1 "one-$r" "$DURATION"
  R1+=("$RATE"); L1_50+=("$P50"); L1_99+=("$P99"); C1+=("$CPU"); RB1+=("$RETRIES"); F1+=("$FAILED")
  printf 'round %d: 1 node  %8s purchases/s (p50 %s ms, p99 %s ms; %s rollbacks per purchase, %s failed; CPU %s)\n' "$r" "$RATE" "$P50" "$P99" "$RETRIES" "$FAILED" "$(cpu_cols "$CPU")"
  log "round $r/$ROUNDS: 2 nodes, $HALF + $HALF connections, ${DURATION}s"
  purchases 2 "two-$r" "$DURATION"
  R2+=("$RATE"); L2_50+=("$P50"); L2_99+=("$P99"); C2+=("$CPU"); RB2+=("$RETRIES"); F2+=("$FAILED")
  printf 'round %d: 2 nodes %8s purchases/s (p50 %s ms, p99 %s ms; %s rollbacks per purchase, %s failed; CPU %s)\n' "$r" "$RATE" "$P50" "$P99" "$RETRIES" "$FAILED" "$(cpu_cols "$CPU")"
  printf 'round %d: pgbench durable INSERT commits/s: idle 1 client %s; %s: 1 client %s, %d clients %s\n' \
    "$r" "$p0" "$RAW_CPU" "$p1" "$CONNECTIONS" "$pn"
  RP0+=("$p0"); RP1+=("$p1"); RPN+=("$pn")
done

# --- the books must balance ------------------------------------------------------
VERIFY=$("$PAIDOC" --db "$DB_URL" ledger verify 2>&1) || { printf '%s\n' "$VERIFY" >&2; die "ledger verify failed"; }
log "$VERIFY"
PAID_ROWS=$(pg_sql paidoc "SELECT count(*) FROM orders WHERE status = 'paid'" 2>/dev/null || echo "?")
RSS_A=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/${NODE_PID[0]}/status" 2>/dev/null || echo "?")
RSS_B=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/${NODE_PID[1]}/status" 2>/dev/null || echo "?")

M1=$(median "${R1[@]}")
M2=$(median "${R2[@]}")
MP0=$(median "${RP0[@]}")
MP1=$(median "${RP1[@]}")
MPN=$(median "${RPN[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
SCALE=$(ratio "$M2" "$M1")
VERDICT=$(awk -v s="$SCALE" 'BEGIN { print (s >= 1.6 ? "met" : "NOT met") }')
cpu_row() {  # cpu_row ROWS...: the median of each column
  local c out="" col
  for c in 1 2 3 4 5 6; do
    mapfile -t col < <(printf '%s\n' "$@" | awk -v c="$c" '{ print $c }')
    out+="$(median "${col[@]}" | awk '{ printf "%.0f", $1 }') "
  done
  echo "${out% }"
}
CPU1=$(cpu_row "${C1[@]}")
CPU2=$(cpu_row "${C2[@]}")
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

echo
printf 'purchases/s (median of %d rounds): 1 node %s, 2 nodes %s; 2 nodes / 1 node = %s (target >= 1.6: %s)\n' \
  "$ROUNDS" "$M1" "$M2" "$SCALE" "$VERDICT"
printf 'pgbench durable INSERT commits/s (medians): %s with 1 client, %s with %d clients (%s CPUs); idle CPUs, 1 client: %s\n' \
  "$MP1" "$MPN" "$CONNECTIONS" "$RAW_CPU" "$MP0"
printf 'purchases per raw commit (%d clients): 1 node %s, 2 nodes %s\n' "$CONNECTIONS" "$(ratio "$M1" "$MPN")" "$(ratio "$M2" "$MPN")"
printf 'CPU, %% of one core (medians): 1 node: %s; 2 nodes: %s\n' "$(cpu_cols "$CPU1")" "$(cpu_cols "$CPU2")"
printf 'rollbacks (serialization retries) per purchase (medians): 1 node %s, 2 nodes %s; failed purchases: 1 node %s, 2 nodes %s\n' \
  "$(median "${RB1[@]}")" "$(median "${RB2[@]}")" "$(IFS=+; echo $((${F1[*]})))" "$(IFS=+; echo $((${F2[*]})))"
printf 'paid orders in the database: %s; peak RSS node A %s MB, node B %s MB\n' "$PAID_ROWS" "$RSS_A" "$RSS_B"

# --- Markdown -------------------------------------------------------------------
REV=$(revision)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
hdr=$(for ((r = 1; r <= ROUNDS; r++)); do printf ' round %d |' "$r"; done)
sep=$(for ((r = 1; r <= ROUNDS; r++)); do printf -- '---:|'; done)
LAT1=(); LAT2=()
for ((r = 0; r < ROUNDS; r++)); do
  LAT1+=("${L1_50[r]} / ${L1_99[r]}")
  LAT2+=("${L2_50[r]} / ${L2_99[r]}")
done
cpu_md() { read -r a b p c o i <<<"$2"; printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$a" "$b" "$p" "$c" "$o" "$i"; }

cat <<EOF

----- Markdown for BENCHMARKS.md -----
### Wallet purchases on PostgreSQL, 1 and 2 nodes — $(date -u +%Y-%m-%d)

- Machine: $JOBS CPUs${CPU_MODEL:+ ($CPU_MODEL)}, $(uname -sr); cluster on $FS_DEV ($FS_TYPE); wrk, both nodes and PostgreSQL on the same machine; load average at the end $LOAD.
- paidoc $REV (\`--db postgresql://… serve\`, access log on as shipped); PostgreSQL $PG_VERSION, throw-away cluster, durable ($PG_SETTINGS), max_connections 400.
- Command: \`$( [[ $ALLOW_FAILED == 1 ]] && printf 'ALLOW_FAILED=1 ' )MODE=$MODE DURATION=$DURATION ROUNDS=$ROUNDS bench/purchase/pg.sh\` — $CONNECTIONS connections in all, $READERS readers ($READERS_PER_CONNECTION per connection); 1 node: \`wrk -t$CONNECTIONS -c$CONNECTIONS -d${DURATION}s\` on node A; 2 nodes: \`wrk -t$HALF -c$HALF\` on A and on B at once, purchases/s summed, latency the worse of the two; each purchase = $( [[ $MODE == onestep ]] && printf 'one call, order + wallet payment in one transaction' || printf 'create order + pay from the wallet (two calls)' ); readers signed in on node A; $DOCS documents at ¥1.00.
- Raw: \`pgbench -n -f insert.sql -c C -j C -T $RAW_SECONDS\` — one \`INSERT\` of a small row per transaction (autocommit), same server; CPUs $RAW_CPU$( [[ $RAW_CPU == busy ]] && printf ' (SCHED_IDLE spinners)' ) except the "idle" row.
- Afterwards \`paidoc ledger verify\`: ${VERIFY}; paid orders in the database: $PAID_ROWS.

| figure |$hdr median |
|---|$sep---:|
$(row "purchases/s, 1 node ($CONNECTIONS connections)" "${R1[@]}" "**$M1**")
$(row "purchases/s, 2 nodes ($HALF + $HALF connections)" "${R2[@]}" "**$M2**")
$(row "pgbench durable INSERT commits/s, $CONNECTIONS clients" "${RPN[@]}" "**$MPN**")
$(row "pgbench durable INSERT commits/s, 1 client" "${RP1[@]}" "$MP1")
$(row "pgbench, 1 client, idle CPUs" "${RP0[@]}" "$MP0")
$(row "p50 / p99 ms per call, 1 node" "${LAT1[@]}" "$(median "${L1_50[@]}") / $(median "${L1_99[@]}")")
$(row "p50 / p99 ms per call, 2 nodes" "${LAT2[@]}" "$(median "${L2_50[@]}") / $(median "${L2_99[@]}")")
$(row "rolled-back transactions (serialization retries) per purchase, 1 node" "${RB1[@]}" "$(median "${RB1[@]}")")
$(row "rolled-back transactions (serialization retries) per purchase, 2 nodes" "${RB2[@]}" "$(median "${RB2[@]}")")
$(row "failed purchases (ALLOW_FAILED=$ALLOW_FAILED), 1 node" "${F1[@]}" "$(IFS=+; echo $((${F1[*]})))")
$(row "failed purchases (ALLOW_FAILED=$ALLOW_FAILED), 2 nodes" "${F2[@]}" "$(IFS=+; echo $((${F2[*]})))")

2 nodes / 1 node: **$SCALE** (target ≥ 1.6: **$VERDICT**). Purchases per raw commit at $CONNECTIONS clients: $(ratio "$M1" "$MPN") (1 node), $(ratio "$M2" "$MPN") (2 nodes).

Where the CPU went (median of rounds, % of one core; $JOBS cores = $((JOBS * 100))%; "other" is everything else on the machine):

| run | node A | node B | PostgreSQL | wrk | other | idle |
|---|---:|---:|---:|---:|---:|---:|
$(cpu_md "1 node" "$CPU1")
$(cpu_md "2 nodes" "$CPU2")
----- end -----
EOF
