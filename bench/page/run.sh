#!/usr/bin/env bash
# Document page benchmark: paidoc's anonymous document page (/d/1) against
# nginx serving the very same response body as a static file, both
# compressing (the default) or both not.
#
#   bench/page/run.sh
#   COMPRESS=none bench/page/run.sh
#   UPSTREAM_NODES=2 DB=postgresql bench/page/run.sh
#                     nginx as a reverse proxy in front of two paidoc nodes on
#                     one PostgreSQL, against the same nginx serving the
#                     page as a static file
#
# Environment (all optional):
#   COMPRESS=gzip|none
#                     gzip (default): wrk sends "Accept-Encoding: gzip" to
#                     both; paidoc answers from its cached gzip bytes, nginx
#                     from the pre-compressed copy of those bytes
#                     (gzip_static), or compresses per request with
#                     NGINX_GZIP=on. none: no Accept-Encoding, identity bodies.
#   NGINX_GZIP=static|on
#                     with COMPRESS=gzip: static (default) serves d/1.html.gz,
#                     the very bytes paidoc sends; on: "gzip on" (level 1, as
#                     nginx ships) compressing d/1.html for every request.
#   DURATION=10       seconds per measured wrk run
#   WARMUP=2          seconds of unmeasured load before each measured run
#   ROUNDS=3          measured runs per server, alternating paidoc / nginx
#   THREADS=2         wrk threads (-t)
#   CONNECTIONS=64    wrk connections (-c)
#   DOC=/d/1          the page to measure
#   NGINX_ACCESS_LOG=on|off
#                     on (default): nginx writes one combined-format line per
#                     request to a file, buffered (32 KiB, flushed every
#                     500 ms) like paidoc's access log as shipped; off: nginx
#                     logs nothing (flatters nginx).
#   DB=sqlite|postgresql
#                     sqlite (default): paidoc on a data folder; postgresql: a
#                     throw-away durable PostgreSQL cluster in the temp
#                     directory (bench/pg.sh), paidoc --db postgresql://… serve
#   UPSTREAM_NODES=0  0 (default): wrk talks to paidoc directly; N >= 1: N
#                     paidoc nodes (on one database, each with --trust-proxy)
#                     behind nginx as a reverse proxy (the upstream and proxy
#                     settings of contrib/nginx/paidoc.conf, without TLS and
#                     rate limits), and wrk talks to nginx; the static side
#                     is the same nginx
#   PAIDOC=build/paidoc   the binary to run
#   KEEP_TMP=1        keep the temp directory (logs, config) after the run
#
# Both servers bind to 127.0.0.1 only, run from a temp directory, and are
# stopped on exit whatever happens. The client (wrk) runs on the same machine,
# so client and servers share the CPUs; the figures are a ratio, not an
# absolute capacity.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
DOC=${DOC:-/d/1}
NGINX_ACCESS_LOG=${NGINX_ACCESS_LOG:-on}
COMPRESS=${COMPRESS:-gzip}
NGINX_GZIP=${NGINX_GZIP:-static}
PAIDOC=${PAIDOC:-$ROOT/build/paidoc}
DB=${DB:-sqlite}
UPSTREAM_NODES=${UPSTREAM_NODES:-0}

log() { printf '[bench/page] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"  # stop, port_busy, free_port, wait_http, median, revision, row
# shellcheck source=bench/pg.sh
source "$ROOT/bench/pg.sh"   # pg_start, pg_stop, pg_createdb, pg_url

for v in DURATION WARMUP ROUNDS THREADS CONNECTIONS; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]] || (( ${!v} == 0 )); then die "$v must be a positive integer"; fi
done
[[ $NGINX_ACCESS_LOG == on || $NGINX_ACCESS_LOG == off ]] || die "NGINX_ACCESS_LOG must be on or off"
[[ $COMPRESS == gzip || $COMPRESS == none ]] || die "COMPRESS must be gzip or none"
[[ $NGINX_GZIP == static || $NGINX_GZIP == on ]] || die "NGINX_GZIP must be static or on"
[[ $DB == sqlite || $DB == postgresql ]] || die "DB must be sqlite or postgresql"
[[ $UPSTREAM_NODES =~ ^[0-9]+$ ]] || die "UPSTREAM_NODES must be 0 or a positive integer"
NODES=$((UPSTREAM_NODES > 0 ? UPSTREAM_NODES : 1))
# What the measured side is called in the output.
if ((UPSTREAM_NODES > 0)); then
  SIDE="nginx→${UPSTREAM_NODES}×paidoc"
else
  SIDE=paidoc
fi
((ROUNDS >= 3)) || log "note: ROUNDS=$ROUNDS; a median of fewer than 3 rounds is not much of a median"
# What wrk and the checks send to both servers.
ACCEPT=()
[[ $COMPRESS == gzip ]] && ACCEPT=(-H "Accept-Encoding: gzip")

# --- dependencies and build -------------------------------------------------
"$ROOT/scripts/install-deps.sh" --bench
NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
[[ -n $NGINX ]] || die "nginx not found"
command -v wrk >/dev/null || die "wrk not found"
command -v curl >/dev/null || die "curl not found"
if [[ ! -x $PAIDOC ]]; then
  log "building paidoc (make)"
  make -C "$ROOT" >&2
fi
[[ -x $PAIDOC ]] || die "$PAIDOC missing after make"

# --- temp directory and cleanup ---------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/paidoc-bench-page.XXXXXX")
NODE_PIDS=()
NGINX_PID=""


cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop "$NGINX_PID"   # TERM makes the nginx master stop its workers
  local pid
  for pid in "${NODE_PIDS[@]}"; do stop "$pid"; done
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

# --- ports --------------------------------------------------------------------
NODE_PORTS=()
p=18080
for ((n = 0; n < NODES; n++)); do
  p=$(free_port "$p")
  NODE_PORTS+=("$p")
  p=$((p + 1))
done
NGINX_PORT=$(free_port "$p")
PROXY_PORT=$(free_port $((NGINX_PORT + 1)))


# --- the database ---------------------------------------------------------------
chmod 0755 "$TMP"
if [[ $DB == postgresql ]]; then
  pg_start "$TMP/pg" durable
  pg_createdb paidoc
  DB_ARGS=(--db "$(pg_url paidoc)")
  DB_NOTE="PostgreSQL $PG_VERSION (throw-away cluster, $PG_SETTINGS)"
else
  mkdir -p "$TMP/data"
  DB_ARGS=(--data "$TMP/data")
  DB_NOTE="SQLite"
fi

# --- paidoc -------------------------------------------------------------------
# Started as shipped (access logging on); its log goes to a file so that the
# terminal is not part of the measurement. The first node seeds the demo
# documents (--demo fills an empty database); the others start after it on
# the same database, with --demo too, so every node renders alike.
# Behind the proxy every node gets the site's address (--base-url, as
# docs/deploy.md does), so the page's absolute links are the same whichever
# node renders it.
# wrk's connections all come from 127.0.0.1: no cap per address
# (--max-connections-per-address; off behind the proxy anyway).
SERVE_ARGS=(--demo --max-connections-per-address 0)
((UPSTREAM_NODES > 0)) && SERVE_ARGS+=(--trust-proxy --base-url "http://127.0.0.1:$PROXY_PORT")
for ((n = 0; n < NODES; n++)); do
  mkdir -p "$TMP/node$n"
  log "starting paidoc node $((n + 1)) on 127.0.0.1:${NODE_PORTS[n]} ($DB)"
  (cd "$TMP/node$n" && exec "$PAIDOC" "${DB_ARGS[@]}" serve "${SERVE_ARGS[@]}" --listen "127.0.0.1:${NODE_PORTS[n]}") \
    >"$TMP/paidoc$n.log" 2>&1 </dev/null &
  NODE_PIDS+=($!)
  wait_http "http://127.0.0.1:${NODE_PORTS[n]}/healthz" "${NODE_PIDS[n]}" "paidoc node $((n + 1))" "$TMP/paidoc$n.log" 60
done
PAIDOC_URL="http://127.0.0.1:${NODE_PORTS[0]}$DOC"

# --- the static copy for nginx -----------------------------------------------
WEB="$TMP/www"
mkdir -p "$WEB/d"
curl -fsS --max-time 10 -D "$TMP/paidoc.headers" -o "$WEB/d/1.html" "$PAIDOC_URL" \
  || die "GET $PAIDOC_URL failed"
curl -fsS --max-time 10 -o "$TMP/paidoc.again" "$PAIDOC_URL"
BODY_BYTES=$(stat -c %s "$WEB/d/1.html")
((BODY_BYTES > 0)) || die "empty body from $PAIDOC_URL"
PAIDOC_VARIES=no
cmp -s "$WEB/d/1.html" "$TMP/paidoc.again" || PAIDOC_VARIES=yes
[[ $(stat -c %s "$TMP/paidoc.again") == "$BODY_BYTES" ]] \
  || die "paidoc's body length changes between requests; a static copy is not comparable"
IDENTITY_BYTES=$BODY_BYTES
if [[ $COMPRESS == gzip ]]; then
  # The bytes paidoc sends a gzip client (curl without --compressed keeps
  # them as they are): nginx's gzip_static serves this very file.
  curl -fsS --max-time 10 "${ACCEPT[@]}" -D "$TMP/paidoc.headers" -o "$WEB/d/1.html.gz" "$PAIDOC_URL" \
    || die "GET $PAIDOC_URL (gzip) failed"
  grep -qi '^content-encoding: gzip' "$TMP/paidoc.headers" || die "paidoc did not answer gzip"
  gunzip -c "$WEB/d/1.html.gz" | cmp -s - "$WEB/d/1.html" \
    || die "paidoc's gzip body does not inflate to its identity body"
  BODY_BYTES=$(stat -c %s "$WEB/d/1.html.gz")
fi
# Every node must send a body of the same length (on one database they
# render the same page).
for ((n = 1; n < NODES; n++)); do
  curl -fsS --max-time 10 -o "$TMP/node$n.body" "http://127.0.0.1:${NODE_PORTS[n]}$DOC" \
    || die "GET $DOC on node $((n + 1)) failed"
  [[ $(stat -c %s "$TMP/node$n.body") == "$IDENTITY_BYTES" ]] \
    || die "node $((n + 1)) sends $(stat -c %s "$TMP/node$n.body") bytes for $DOC, node 1 $IDENTITY_BYTES"
done

# When run as root, nginx workers drop to an unprivileged user: make the
# temp directory traversable and the web root readable for them.
chmod 0755 "$TMP"
chmod -R a+rX "$WEB"

mkdir -p "$TMP/nginx/logs"
for t in client_body proxy fastcgi uwsgi scgi; do mkdir -p "$TMP/nginx/temp/$t"; done
temp_paths="client_body_temp_path $TMP/nginx/temp/client_body;
    proxy_temp_path $TMP/nginx/temp/proxy;
    fastcgi_temp_path $TMP/nginx/temp/fastcgi;"
nginx_v=$("$NGINX" -V 2>&1)
[[ $nginx_v == *--without-http_uwsgi_module* ]] || temp_paths+="
    uwsgi_temp_path $TMP/nginx/temp/uwsgi;"
[[ $nginx_v == *--without-http_scgi_module* ]] || temp_paths+="
    scgi_temp_path $TMP/nginx/temp/scgi;"
if [[ $NGINX_ACCESS_LOG == on ]]; then
  access_log="access_log $TMP/nginx/logs/access.log combined buffer=32k flush=500ms;"
else
  access_log="access_log off;"
fi

# Fair static serving: keepalive on with no per-connection request cap (wrk
# keeps its connections for the whole run), sendfile on, and an open-file
# cache, the static-file counterpart of paidoc's in-memory page cache.
# Compression: COMPRESS=none, gzip off; COMPRESS=gzip, either gzip_static
# (the pre-compressed file: the counterpart of paidoc's compressed-once cache
# entry) or gzip on (per request); Vary: Accept-Encoding as paidoc sends it.
if [[ $COMPRESS == none ]]; then
  gzip_conf="gzip off;"
elif [[ $NGINX_GZIP == static ]]; then
  gzip_conf="gzip off;
    gzip_static on;
    gzip_vary on;"
else
  gzip_conf="gzip on;
    gzip_min_length 1024;
    gzip_vary on;"
fi
# The reverse proxy in front of the nodes (UPSTREAM_NODES > 0), with the
# upstream and proxy settings of contrib/nginx/paidoc.conf (least_conn, a
# pool of idle keepalive connections under the nodes' idle timeout, HTTP/1.1,
# X-Forwarded-For replaced for --trust-proxy), without its TLS and rate
# limits (which would measure TLS and answer 429); nginx passes paidoc's
# answers (compressed or not) through.
proxy_conf=""
if ((UPSTREAM_NODES > 0)); then
  upstream_servers=""
  for port in "${NODE_PORTS[@]}"; do upstream_servers+="
        server 127.0.0.1:$port max_fails=3 fail_timeout=10s;"; done
  proxy_conf="
    upstream paidoc {
        least_conn;$upstream_servers
        keepalive 32;
        keepalive_timeout 25s;
        keepalive_requests 10000;
    }

    server {
        listen 127.0.0.1:$PROXY_PORT;
        proxy_http_version 1.1;
        proxy_set_header Connection \"\";
        proxy_set_header Host \$host;
        proxy_set_header X-Forwarded-For \$remote_addr;
        proxy_connect_timeout 2s;
        proxy_next_upstream error timeout;
        proxy_next_upstream_tries 2;
        location / {
            proxy_pass http://paidoc;
        }
    }"
fi
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes auto;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;

events {
    worker_connections 4096;
}

http {
    default_type text/html;
    charset utf-8;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    server_tokens off;
    $gzip_conf
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    $access_log
    $temp_paths

    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $WEB;
    }$proxy_conf
}
EOF

log "starting nginx on 127.0.0.1:$NGINX_PORT"
"$NGINX" -t -q -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" \
  || { cat "$TMP/nginx/logs/error.log" >&2 || true; die "nginx config test failed"; }
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" \
  >"$TMP/nginx/stdout.log" 2>&1 </dev/null &
NGINX_PID=$!
NGINX_URL="http://127.0.0.1:$NGINX_PORT/d/1.html"
wait_http "$NGINX_URL" "$NGINX_PID" nginx "$TMP/nginx/logs/error.log"

# --- same bytes? --------------------------------------------------------------
curl -fsS --max-time 10 "${ACCEPT[@]}" -D "$TMP/nginx.headers" -o "$TMP/nginx.body" "$NGINX_URL"
NGINX_BYTES=$(stat -c %s "$TMP/nginx.body")
if [[ $COMPRESS == gzip ]]; then
  grep -qi '^content-encoding: gzip' "$TMP/nginx.headers" || die "nginx did not answer gzip"
fi
if [[ $COMPRESS == gzip && $NGINX_GZIP == on ]]; then
  # nginx compresses itself: other bytes, same content.
  gunzip -c "$TMP/nginx.body" | cmp -s - "$WEB/d/1.html" \
    || die "nginx's gzip body does not inflate to paidoc's page"
else
  [[ $NGINX_BYTES == "$BODY_BYTES" ]] || die "body sizes differ: paidoc $BODY_BYTES, nginx $NGINX_BYTES"
  served="$WEB/d/1.html"
  [[ $COMPRESS == gzip ]] && served+=".gz"
  cmp -s "$TMP/nginx.body" "$served" \
    || die "nginx does not serve the bytes paidoc served"
fi
if ((UPSTREAM_NODES > 0)); then
  # From here on the measured side is the proxy: it must pass the very
  # bytes (the static copy is the page as node 1 sent it).
  PAIDOC_URL="http://127.0.0.1:$PROXY_PORT$DOC"
  wait_http "$PAIDOC_URL" "$NGINX_PID" "nginx (proxy)" "$TMP/nginx/logs/error.log"
  for ((n = 0; n < NODES; n++)); do  # a few requests, so more than one node answers
    curl -fsS --max-time 10 "${ACCEPT[@]}" -D "$TMP/paidoc.headers" -o "$TMP/proxy.body" "$PAIDOC_URL" \
      || die "GET $PAIDOC_URL through the proxy failed"
    served="$WEB/d/1.html"
    [[ $COMPRESS == gzip ]] && served+=".gz"
    if [[ $PAIDOC_VARIES == no ]]; then
      cmp -s "$TMP/proxy.body" "$served" || die "the proxy does not pass the bytes node 1 sent"
    else
      [[ $(stat -c %s "$TMP/proxy.body") == "$(stat -c %s "$served")" ]] || die "the proxy's body length differs from node 1's"
    fi
  done
fi
PAIDOC_HDR_BYTES=$(stat -c %s "$TMP/paidoc.headers")
NGINX_HDR_BYTES=$(stat -c %s "$TMP/nginx.headers")
log "body ($COMPRESS): paidoc $BODY_BYTES bytes, nginx $NGINX_BYTES bytes (identity $IDENTITY_BYTES); headers: paidoc $PAIDOC_HDR_BYTES bytes, nginx $NGINX_HDR_BYTES bytes"

# --- load ---------------------------------------------------------------------
WRK_TIMEOUT=$((DURATION + WARMUP + 30))

# run_wrk NAME URL SECONDS OUT: one wrk run; fails on errors or non-2xx answers
run_wrk() {
  local name=$1 url=$2 secs=$3 out=$4
  timeout "$WRK_TIMEOUT" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --latency "${ACCEPT[@]}" "$url" >"$out" 2>&1 \
    || { cat "$out" >&2; die "wrk against $name failed"; }
  if grep -q 'Non-2xx or 3xx responses' "$out"; then
    cat "$out" >&2
    die "$name answered non-2xx responses under load; figures would not be comparable"
  fi
  grep -q '^Requests/sec:' "$out" || { cat "$out" >&2; die "no Requests/sec in wrk output for $name"; }
  # "Socket errors: connect C, read R, write W, timeout T": failed connects or
  # timed-out requests invalidate the run; read/write errors are reported.
  local errs
  errs=$(awk -F'[:,] *' '/Socket errors/ {
      for (i = 2; i <= NF; i++) { split($i, kv, " "); e[kv[1]] = kv[2] }
      printf "%d %d %d %d", e["connect"], e["read"], e["write"], e["timeout"] }' "$out")
  if [[ -n $errs ]]; then
    read -r c_err r_err w_err t_err <<<"$errs"
    if ((c_err > 0 || t_err > 0)); then
      cat "$out" >&2
      die "$name: $c_err failed connects, $t_err timeouts under load"
    fi
    log "note: $name had socket errors (read $r_err, write $w_err)"
  fi
}
rps_of() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
# latency percentile (50%, 99%) in milliseconds from wrk --latency output
lat_ms() {
  awk -v p="$2%" '$1 == p {
      v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
      if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
      printf "%.2f", v; exit }' "$1"
}

# Where the CPU goes during a measured run (lib.sh): the paidoc nodes, nginx
# (master and workers), PostgreSQL (every server process), wrk, the rest.
snap() {
  local args=() pid
  for pid in "${NODE_PIDS[@]}"; do args+=("paidoc=$pid"); done
  args+=("nginx=$NGINX_PID")
  for pid in $(children_of "$NGINX_PID"); do args+=("nginx=$pid"); done
  for pid in $(pg_pids); do args+=("pg=$pid"); done
  cpu_snapshot "$1" "${args[@]}"
}
cpu_cols() {
  local a b p c o i
  read -r a b p c o i <<<"$1"
  printf 'paidoc %s%% nginx %s%% PostgreSQL %s%% wrk %s%% other %s%% idle %s%%' "$a" "$b" "$p" "$c" "$o" "$i"
}

declare -a P_RPS N_RPS P_P50 N_P50 P_P99 N_P99 P_CPU N_CPU
for ((r = 1; r <= ROUNDS; r++)); do
  for name in paidoc nginx; do
    if [[ $name == paidoc ]]; then url=$PAIDOC_URL; else url=$NGINX_URL; fi
    label=$name
    [[ $name == paidoc ]] && label=$SIDE
    log "round $r/$ROUNDS: $label (warm-up ${WARMUP}s, then ${DURATION}s)"
    run_wrk "$label" "$url" "$WARMUP" "$TMP/warmup-$name-$r.txt"
    snap "$TMP/cpu-before"
    run_wrk "$label" "$url" "$DURATION" "$TMP/wrk-$name-$r.txt"
    snap "$TMP/cpu-after"
    cpu=$(cpu_shares "$TMP/cpu-before" "$TMP/cpu-after" paidoc nginx pg)
    rps=$(rps_of "$TMP/wrk-$name-$r.txt")
    p50=$(lat_ms "$TMP/wrk-$name-$r.txt" 50)
    p99=$(lat_ms "$TMP/wrk-$name-$r.txt" 99)
    printf '%-16s round %d: %12s req/s   p50 %8s ms   p99 %8s ms   CPU %s\n' "$label" "$r" "$rps" "$p50" "$p99" "$(cpu_cols "$cpu")"
    if [[ $name == paidoc ]]; then
      P_RPS+=("$rps"); P_P50+=("$p50"); P_P99+=("$p99"); P_CPU+=("$cpu")
    else
      N_RPS+=("$rps"); N_P50+=("$p50"); N_P99+=("$p99"); N_CPU+=("$cpu")
    fi
  done
done

if [[ $COMPRESS == none ]]; then
  COMPRESS_NOTE="none (no Accept-Encoding)"
  BODY_NOTE="body $BODY_BYTES bytes on both (byte-identical)"
elif [[ $NGINX_GZIP == static ]]; then
  COMPRESS_NOTE="gzip (Accept-Encoding: gzip; paidoc's cached gzip bytes, nginx gzip_static of the same bytes)"
  BODY_NOTE="gzip body $BODY_BYTES bytes on both (byte-identical; $IDENTITY_BYTES inflated)"
else
  COMPRESS_NOTE="gzip (Accept-Encoding: gzip; paidoc's cached gzip bytes, nginx gzip on, per request)"
  BODY_NOTE="gzip body paidoc $BODY_BYTES bytes / nginx $NGINX_BYTES bytes, both inflating to the same $IDENTITY_BYTES bytes"
fi
P_MED=$(median "${P_RPS[@]}")
N_MED=$(median "${N_RPS[@]}")
RATIO=$(awk -v a="$P_MED" -v b="$N_MED" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
P_P50M=$(median "${P_P50[@]}"); N_P50M=$(median "${N_P50[@]}")
P_P99M=$(median "${P_P99[@]}"); N_P99M=$(median "${N_P99[@]}")
cpu_row() {  # cpu_row ROWS...: the median of each column
  local c out="" col
  for c in 1 2 3 4 5 6; do
    mapfile -t col < <(printf '%s\n' "$@" | awk -v c="$c" '{ print $c }')
    out+="$(median "${col[@]}" | awk '{ printf "%.0f", $1 }') "
  done
  echo "${out% }"
}
P_CPUM=$(cpu_row "${P_CPU[@]}")
N_CPUM=$(cpu_row "${N_CPU[@]}")

echo
printf 'median: %s %s req/s, nginx %s req/s, %s/nginx = %s\n' "$SIDE" "$P_MED" "$N_MED" "$SIDE" "$RATIO"
printf 'CPU, %% of one core (medians): %s: %s; nginx static: %s\n' "$SIDE" "$(cpu_cols "$P_CPUM")" "$(cpu_cols "$N_CPUM")"
printf 'compression %s; body paidoc %s bytes, nginx %s bytes (identity %s); headers paidoc %s bytes, nginx %s bytes\n' \
  "$COMPRESS_NOTE" "$BODY_BYTES" "$NGINX_BYTES" "$IDENTITY_BYTES" "$PAIDOC_HDR_BYTES" "$NGINX_HDR_BYTES"

# --- Markdown for BENCHMARKS.md -------------------------------------------------
NGINX_LOG_NOTE="off"
[[ $NGINX_ACCESS_LOG == off ]] || NGINX_LOG_NOTE="on, to a file, buffered 32 KiB / 500 ms"
VARIES_NOTE=""
if [[ $PAIDOC_VARIES == yes ]]; then
  VARIES_NOTE=" paidoc's body varies between requests at constant length; nginx serves one fixed copy."
fi
REV=$(revision)
COMPRESS_CMD_NOTE=""
WRK_H_NOTE=""
if [[ $COMPRESS == gzip ]]; then
  COMPRESS_CMD_NOTE=" NGINX_GZIP=$NGINX_GZIP"
  WRK_H_NOTE=" -H 'Accept-Encoding: gzip'"
fi
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
NGINX_VER=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
SETUP_CMD=""
[[ $DB == sqlite ]] || SETUP_CMD+="DB=$DB "
((UPSTREAM_NODES == 0)) || SETUP_CMD+="UPSTREAM_NODES=$UPSTREAM_NODES "
if ((UPSTREAM_NODES > 0)); then
  TITLE="Document page through nginx → $UPSTREAM_NODES paidoc nodes ($DB) vs nginx static, compression $COMPRESS"
  PAIDOC_NOTE="$UPSTREAM_NODES nodes, each \`${DB_ARGS[0]} … serve --demo --trust-proxy --base-url …\`, access log on as shipped, to a file; one database: $DB_NOTE; behind nginx as a reverse proxy with the upstream and proxy settings of contrib/nginx/paidoc.conf without TLS and rate limits: least_conn, keepalive 32 per worker, HTTP/1.1, its access log on like the static server's; the static server is the same nginx"
else
  TITLE="Document page vs nginx, compression $COMPRESS"
  PAIDOC_NOTE="\`serve --demo\`, access log on as shipped, to a file; $DB_NOTE"
fi
hdr=$(for ((r = 1; r <= ROUNDS; r++)); do printf ' round %d req/s |' "$r"; done)
sep=$(for ((r = 1; r <= ROUNDS; r++)); do printf -- '---:|'; done)

cat <<EOF

----- Markdown for BENCHMARKS.md -----
### $TITLE — $(date -u +%Y-%m-%d)

- Machine: $(nproc) CPUs${CPU:+ ($CPU)}, $(uname -sr); client and servers on the same machine.
- paidoc $REV ($PAIDOC_NOTE); $NGINX_VER (\`worker_processes auto\`, sendfile, keepalive, open_file_cache, access log $NGINX_LOG_NOTE).
- Command: \`${SETUP_CMD}COMPRESS=$COMPRESS${COMPRESS_CMD_NOTE} DURATION=$DURATION ROUNDS=$ROUNDS bench/page/run.sh\` — \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s${WRK_H_NOTE}\` per run after ${WARMUP}s warm-up, alternating $SIDE / nginx.
- Compression: $COMPRESS_NOTE.
- Page: \`$DOC\` for an anonymous reader; $BODY_NOTE, headers $SIDE $PAIDOC_HDR_BYTES bytes / nginx $NGINX_HDR_BYTES bytes.$VARIES_NOTE

| server |$hdr median req/s | median p50 ms | median p99 ms |
|---|$sep---:|---:|---:|
$(row "$SIDE" "${P_RPS[@]}" "**$P_MED**" "$P_P50M" "$P_P99M")
$(row nginx "${N_RPS[@]}" "**$N_MED**" "$N_P50M" "$N_P99M")

$SIDE / nginx static (median requests/sec): **$RATIO**

Where the CPU went (median of rounds, % of one core; $(nproc) cores = $(($(nproc) * 100))%; "other" is everything else on the machine):

| run | paidoc | nginx | PostgreSQL | wrk | other | idle |
|---|---:|---:|---:|---:|---:|---:|
$(read -r a b p c o i <<<"$P_CPUM"; printf '| %s | %s | %s | %s | %s | %s | %s |' "$SIDE" "$a" "$b" "$p" "$c" "$o" "$i")
$(read -r a b p c o i <<<"$N_CPUM"; printf '| nginx static | %s | %s | %s | %s | %s | %s |' "$a" "$b" "$p" "$c" "$o" "$i")
----- end -----
EOF
