#!/usr/bin/env bash
# Isolation benchmark: does blocking work of one kind hold up the page an
# anonymous reader gets? Measures the p99 latency of the anonymous document
# page (/d/1, served from the render cache) alone, then again while
#   (a) login:  LOGIN_CLIENTS clients log in continuously (argon2id, as shipped);
#   (b) wechat: ORDER_CLIENTS clients create VIP orders and start WeChat Pay
#               payments against a stand-in WeChat Pay API (a local HTTP
#               server the script starts) that answers after WECHAT_DELAY s;
#   (c) export: EXPORT_CLIENTS clients download PDFs of different documents,
#               each rendered anew (never from the render cache).
# Prints each p99 as a ratio to the p99 alone (target: at most 2) and every
# failed request, of the page and of the background load (target: none).
#
#   bench/isolation/run.sh
#
# Environment (all optional):
#   ROUNDS=3           rounds of (alone, login, wechat, export); figures are
#                      the medians over the rounds
#   DURATION=10        seconds per measured page run
#   WARMUP=3           seconds of background load before the page run starts
#   THREADS=2          wrk threads for the page (-t)
#   CONNECTIONS=16     wrk connections for the page (-c)
#   LOGIN_CLIENTS=32   (a) connections logging in
#   ORDER_CLIENTS=32   (b) connections ordering and paying with WeChat Pay
#   WECHAT_DELAY=5     (b) seconds the stand-in gateway takes to answer
#   EXPORT_CLIENTS=4   (c) connections downloading PDFs
#   DOCS=2500          documents imported (each PDF download takes another;
#                      each round has its own share)
#   SERVE_FLAGS=""     extra flags for `paidoc serve` (e.g. "--hash-threads 1")
#   PAIDOC=build/paidoc   the binary to run
#   KEEP_TMP=1         keep the temp directory (logs, wrk output)
#
# Everything binds to 127.0.0.1 and runs from a temp directory; paidoc and the
# stand-in gateway are stopped on exit, also on failure or Ctrl-C. The client
# (wrk) shares the machine's CPUs with the server.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/bench/isolation"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
LOGIN_CLIENTS=${LOGIN_CLIENTS:-32}
ORDER_CLIENTS=${ORDER_CLIENTS:-32}
WECHAT_DELAY=${WECHAT_DELAY:-5}
EXPORT_CLIENTS=${EXPORT_CLIENTS:-4}
DOCS=${DOCS:-2500}
SERVE_FLAGS=${SERVE_FLAGS:-}
PAIDOC=${PAIDOC:-$ROOT/build/paidoc}

log() { printf '[bench/isolation] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"  # stop, port_busy, free_port, wait_http, median, revision, row

for v in ROUNDS DURATION WARMUP THREADS CONNECTIONS LOGIN_CLIENTS ORDER_CLIENTS WECHAT_DELAY EXPORT_CLIENTS DOCS; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]] || (( ${!v} == 0 )); then die "$v must be a positive integer"; fi
done

# --- dependencies and build -------------------------------------------------
if ! command -v wrk >/dev/null; then "$ROOT/scripts/install-deps.sh" --bench; fi
for tool in wrk curl openssl python3; do command -v "$tool" >/dev/null || die "$tool not found"; done
if [[ ! -x $PAIDOC ]]; then
  log "building paidoc (make)"
  make -C "$ROOT" >&2
fi
[[ -x $PAIDOC ]] || die "$PAIDOC missing after make"

# --- temp directory and cleanup ---------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/paidoc-bench-isolation.XXXXXX")
PAIDOC_PID=""
GATEWAY_PID=""
LOAD_PID=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop "$LOAD_PID"
  stop "$PAIDOC_PID"
  stop "$GATEWAY_PID"
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

PAIDOC_PORT=$(free_port 18380)
GATEWAY_PORT=$(free_port 18381 "$PAIDOC_PORT")
BASE="http://127.0.0.1:$PAIDOC_PORT"
P() { "$PAIDOC" --data "$TMP/data" "$@"; }

# --- documents and accounts -----------------------------------------------------
# Generated text: a title, headings and paragraphs, a paid part; about 3 KB,
# a two-page PDF. Document n differs from every other in its title and body.
log "writing and importing $DOCS documents"
mkdir -p "$TMP/docs" "$TMP/data"
python3 - "$TMP/docs" "$DOCS" <<'PY'
import sys, os
out, n = sys.argv[1], int(sys.argv[2])
parts = ["加强基层组织建设", "推进公共服务均等化", "提升社区治理水平", "优化营商环境",
         "做好防汛抗旱准备", "抓好安全生产责任", "深化作风建设", "强化财政资金监管"]
for i in range(1, n + 1):
    a, b = parts[i % len(parts)], parts[(i * 3 + 1) % len(parts)]
    lines = [f"第{i}号工作报告：关于{a}的情况汇报"]
    lines.append(f"本报告第{i}号，围绕{a}和{b}两项重点任务，总结一年来的工作。")
    for h, name in enumerate(["一、主要做法", "二、取得成效", "三、存在问题", "四、下一步打算"]):
        if h == 2:
            lines.append("##paidbegin##")
        lines.append(name)
        for j in range(1, 4):
            lines.append(f"（{'一二三'[j-1]}）{b}第{j}项。" + f"按照{a}的要求，第{i}号单位细化措施、压实责任，"
                         f"第{j}季度完成任务{i % 97 + j}项，群众满意度进一步提高。" * 3)
    lines.append("##paidend##")
    with open(os.path.join(out, f"doc{i:05d}.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
PY
P import --price 1.00 "$TMP/docs" >"$TMP/import.log" 2>&1 || { tail "$TMP/import.log" >&2; die "import failed"; }
awk '$1 == "imported" { print $2 }' "$TMP/import.log" | sort -n >"$TMP/doc_ids"
[[ $(wc -l <"$TMP/doc_ids") == "$DOCS" ]] || die "expected $DOCS imported documents, see $TMP/import.log"
PAGE_DOC=$(head -n 1 "$TMP/doc_ids")
# The page is measured on the first document; PDFs are made of the others.
tail -n +2 "$TMP/doc_ids" >"$TMP/export_ids"

PASSWORD="bench-password-123"
printf '%s\n' "$PASSWORD" | P user add --email login@bench.test --role reader >/dev/null
printf '%s\n' "$PASSWORD" | P user add --email buyer@bench.test --role reader >/dev/null
printf '%s\n' "$PASSWORD" | P user add --email editor@bench.test --role admin >/dev/null

# --- the stand-in WeChat Pay API -------------------------------------------------
# Answers every POST /v3/pay/transactions/native after WECHAT_DELAY seconds
# with a code_url, one thread per request; bound to 127.0.0.1 only.
KEYS="$TMP/keys"
mkdir -p "$KEYS"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEYS/merchant.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEYS/platform-private.pem" 2>/dev/null
openssl pkey -in "$KEYS/platform-private.pem" -pubout -out "$KEYS/platform.pem" 2>/dev/null
printf 'BenchApiV3Key0123456789abcdefXYZ' >"$KEYS/apiv3.key"
cat >"$TMP/gateway.py" <<'PY'
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, delay = int(sys.argv[1]), float(sys.argv[2])
class Gateway(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(delay)
        body = json.dumps({"code_url": "weixin://wxpay/bizpayurl?pr=bench"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 1024
ThreadingHTTPServer(("127.0.0.1", port), Gateway).serve_forever()
PY
python3 "$TMP/gateway.py" "$GATEWAY_PORT" "$WECHAT_DELAY" >"$TMP/gateway.log" 2>&1 </dev/null &
GATEWAY_PID=$!
for ((i = 0; i < 50; i++)); do port_busy "$GATEWAY_PORT" && break; sleep 0.1; done
port_busy "$GATEWAY_PORT" || die "the stand-in gateway did not start (see $TMP/gateway.log)"

# --- paidoc -------------------------------------------------------------------
log "starting paidoc on 127.0.0.1:$PAIDOC_PORT (stand-in WeChat Pay on :$GATEWAY_PORT)"
# Started directly (not through P): $! must be paidoc itself, so that stop
# on exit reaches it.
# Every client is 127.0.0.1: no cap per address (--max-connections-per-address).
# shellcheck disable=SC2086
"$PAIDOC" --data "$TMP/data" serve --listen "127.0.0.1:$PAIDOC_PORT" --download-free-daily 0 \
  --max-connections-per-address 0 \
  --wechat-mchid 1900000001 --wechat-appid wxbench000000001 --wechat-serial-no BENCHSERIAL01 \
  --wechat-private-key-file "$KEYS/merchant.pem" --wechat-platform-key-file "$KEYS/platform.pem" \
  --wechat-platform-serial BENCHPLATFORM01 --wechat-apiv3-key-file "$KEYS/apiv3.key" \
  --wechat-api-base "http://127.0.0.1:$GATEWAY_PORT" $SERVE_FLAGS \
  >"$TMP/paidoc.log" 2>&1 </dev/null &
PAIDOC_PID=$!
wait_http "$BASE/healthz" "$PAIDOC_PID" paidoc "$TMP/paidoc.log"

token_of() {
  curl -fsS --max-time 30 -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
BUYER_TOKEN=$(token_of buyer@bench.test) || die "login failed"
EDITOR_TOKEN=$(token_of editor@bench.test) || die "login failed"

# Fail early when a load would not do what it claims.
log "checking one WeChat payment start (takes ${WECHAT_DELAY}s) and one PDF download"
order=$(curl -fsS --max-time 30 -H "Authorization: Bearer $BUYER_TOKEN" -H 'Content-Type: application/json' \
  -d '{"plan":"vip30"}' "$BASE/api/v1/orders") || die "creating an order failed"
order_id=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["id"])' "$order")
paid=$(curl -sS --max-time 30 -H "Authorization: Bearer $BUYER_TOKEN" -H 'Content-Type: application/json' \
  -d '{"method":"wechat"}' "$BASE/api/v1/orders/$order_id/pay")
[[ $paid == *'"code_url"'* ]] || die "starting a WeChat payment failed: $paid"
check_doc=$(tail -n 1 "$TMP/export_ids")
link=$(curl -sS --max-time 30 -o /dev/null -w '%{redirect_url}' -H "Authorization: Bearer $EDITOR_TOKEN" \
  "$BASE/api/v1/documents/$check_doc/download?format=pdf")
[[ -n $link ]] || die "no download link for document $check_doc"
curl -fsS --max-time 60 -H "Authorization: Bearer $EDITOR_TOKEN" -o "$TMP/check.pdf" "$link" \
  || die "downloading the PDF failed"
[[ $(head -c 4 "$TMP/check.pdf") == "%PDF" ]] || die "the download is not a PDF"
sed -i '$d' "$TMP/export_ids"  # that one is cached now
# Each round downloads its own share of the documents.
split -n "l/$ROUNDS" -d -a 3 "$TMP/export_ids" "$TMP/export_ids."
PAGE_URL="$BASE/d/$PAGE_DOC"
curl -fsS --max-time 10 -o /dev/null "$PAGE_URL" || die "GET $PAGE_URL failed"

# --- measuring ------------------------------------------------------------------
# page_run NAME: the page with wrk; records p99 (ms), req/s and failures
declare -A P99 RPS PFAIL LREQ LOK LFAIL LREP
declare -A ALL_P99 ALL_RPS SUM_PFAIL SUM_LOK SUM_LFAIL SUM_LREP
lat_ms() {
  awk -v p="$2%" '$1 == p {
      v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
      if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
      printf "%.2f", v; exit }' "$1"
}
page_run() {
  local name=$1 out="$TMP/page-$1.txt"
  timeout $((DURATION + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency \
    "$PAGE_URL" >"$out" 2>&1 || { cat "$out" >&2; die "wrk (page, $name) failed"; }
  grep -q '^Requests/sec:' "$out" || { cat "$out" >&2; die "no Requests/sec in wrk output ($name)"; }
  P99[$name]=$(lat_ms "$out" 99)
  RPS[$name]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  local non2xx errs
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
  errs=$(awk -F'[:,] *' '/Socket errors/ {
      for (i = 2; i <= NF; i++) { split($i, kv, " "); s += kv[2] } } END { print s + 0 }' "$out")
  PFAIL[$name]=$(( ${non2xx:-0} + errs ))
  log "$name: page p99 ${P99[$name]} ms, ${RPS[$name]} req/s, ${PFAIL[$name]} failed"
}

# loaded NAME MODE CLIENTS: the page run while wrk keeps MODE load going
loaded() {
  local name=$1 mode=$2 clients=$3 out="$TMP/load-$1.txt" lthreads
  # Order and export exchanges take two requests whose state lives in the
  # wrk thread: one connection per thread. Logins are stateless.
  lthreads=$clients
  [[ $mode != login ]] || lthreads=$(( clients < 4 ? clients : 4 ))
  local secs=$((WARMUP + DURATION + 2))
  ISO_MODE=$mode ISO_EMAIL=login@bench.test ISO_PASSWORD=$PASSWORD ISO_PLAN=vip30 \
  ISO_TOKEN=$([[ $mode == export ]] && echo "$EDITOR_TOKEN" || echo "$BUYER_TOKEN") \
  ISO_DOCS="$TMP/export_ids.$(printf '%03d' $((ROUND - 1)))" ISO_THREADS=$lthreads \
    timeout $((secs + 90)) wrk -t"$lthreads" -c"$clients" -d"${secs}s" --timeout 30s \
    -s "$HERE/load.lua" "$BASE" >"$out" 2>&1 &
  LOAD_PID=$!
  sleep "$WARMUP"
  page_run "$name"
  wait "$LOAD_PID" || { cat "$out" >&2; die "wrk (load, $name) failed"; }
  LOAD_PID=""
  read -r LREQ[$name] LOK[$name] LFAIL[$name] LREP[$name] < <(awk '$1 == "load" {
      print $4, $6, $8, $10 }' "$out")
  [[ -n ${LREQ[$name]} ]] || { cat "$out" >&2; die "no summary from the $mode load"; }
  log "$name: load ${LOK[$name]} ok, ${LFAIL[$name]} failed, ${LREP[$name]} repeats"
}

# record NAME: adds this round's figures of NAME to the totals
record() {
  local s=$1
  ALL_P99[$s]+="${P99[$s]} "
  ALL_RPS[$s]+="${RPS[$s]} "
  SUM_PFAIL[$s]=$(( ${SUM_PFAIL[$s]:-0} + PFAIL[$s] ))
  SUM_LOK[$s]=$(( ${SUM_LOK[$s]:-0} + ${LOK[$s]:-0} ))
  SUM_LFAIL[$s]=$(( ${SUM_LFAIL[$s]:-0} + ${LFAIL[$s]:-0} ))
  SUM_LREP[$s]=$(( ${SUM_LREP[$s]:-0} + ${LREP[$s]:-0} ))
}

log "warm-up"
page_run warmup
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  log "round $ROUND/$ROUNDS"
  page_run alone
  record alone
  loaded login login "$LOGIN_CLIENTS"
  record login
  loaded wechat order "$ORDER_CLIENTS"
  record wechat
  loaded export export "$EXPORT_CLIENTS"
  record export
done
# From here on P99, RPS, ... hold the medians and the totals over the rounds.
for s in alone login wechat export; do
  # shellcheck disable=SC2086
  P99[$s]=$(median ${ALL_P99[$s]})
  # shellcheck disable=SC2086
  RPS[$s]=$(median ${ALL_RPS[$s]} | awk '{ printf "%.0f", $1 }')
  PFAIL[$s]=${SUM_PFAIL[$s]}
  LOK[$s]=${SUM_LOK[$s]}
  LFAIL[$s]=${SUM_LFAIL[$s]}
  LREP[$s]=${SUM_LREP[$s]}
done

# --- report -----------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
TOTAL_FAIL=${PFAIL[alone]}
echo
for s in alone login wechat export; do printf '%-8s p99 ms per round: %s\n' "$s" "${ALL_P99[$s]}"; done
printf '%-8s %12s %8s %10s %14s %14s\n' scenario "median p99" ratio "page fail" "load ok" "load fail"
printf '%-8s %12s %8s %10s %14s %14s\n' alone "${P99[alone]}" 1.00 "${PFAIL[alone]}" - -
for s in login wechat export; do
  printf '%-8s %12s %8s %10s %14s %14s\n' "$s" "${P99[$s]}" "$(ratio "${P99[$s]}" "${P99[alone]}")" \
    "${PFAIL[$s]}" "${LOK[$s]}" "${LFAIL[$s]}"
  TOTAL_FAIL=$((TOTAL_FAIL + PFAIL[$s] + LFAIL[$s]))
done
WORST=$(for s in login wechat export; do ratio "${P99[$s]}" "${P99[alone]}"; echo; done | sort -g | tail -n 1)
VERDICT=$(awk -v w="$WORST" -v f="$TOTAL_FAIL" 'BEGIN { print (w <= 2 && f == 0) ? "met" : "NOT met" }')
echo "worst ratio $WORST, failed requests $TOTAL_FAIL: target (<= 2x, none failing) $VERDICT"
[[ ${LREP[export]:-0} == 0 ]] || log "note: ${LREP[export]} PDF downloads repeated a document (raise DOCS)"

REV=$(revision)
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
cat <<MD

----- Markdown for BENCHMARKS.md -----
### Isolation: anonymous page p99 under blocking load — $(date -u +%Y-%m-%d)

- Machine: $(nproc) CPUs${CPU:+ ($CPU)}, $(uname -sr); client, server and stand-in gateway on the same machine.
- paidoc $REV, pools as shipped${SERVE_FLAGS:+ plus \`$SERVE_FLAGS\`}; $DOCS documents.
- Command: \`bench/isolation/run.sh\` — $ROUNDS rounds of (alone, login, wechat, export); page \`/d/$PAGE_DOC\` (anonymous, render cache) with \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s\`, the load started ${WARMUP}s before it; p99 and req/s are medians over the rounds, counts are totals.
- Loads: login = $LOGIN_CLIENTS connections \`POST /api/v1/auth/login\` (argon2id as shipped); wechat = $ORDER_CLIENTS connections creating a VIP order and starting a WeChat Pay payment against a stand-in API that answers after ${WECHAT_DELAY}s; export = $EXPORT_CLIENTS connections downloading PDFs, each of another document (rendered anew).

| scenario | page p99 ms per round | median p99 ms | p99 / alone | median page req/s | page failed | load done | load failed |
|---|---|---:|---:|---:|---:|---:|---:|
| alone | ${ALL_P99[alone]% } | ${P99[alone]} | 1.00 | ${RPS[alone]} | ${PFAIL[alone]} | – | – |
$(for s in login wechat export; do row "$s" "${ALL_P99[$s]% }" "${P99[$s]}" "**$(ratio "${P99[$s]}" "${P99[alone]}")**" "${RPS[$s]}" "${PFAIL[$s]}" "${LOK[$s]}" "${LFAIL[$s]}"; done)

Worst p99 ratio **$WORST**, failed requests $TOTAL_FAIL: target (≤ 2×, none failing) $VERDICT.
----- end -----
MD
