# Shared helpers for the bench/*/run.sh scripts. Source it after defining
# log() and die(); it defines:
#   stop PID                 stop a process this script started (TERM, then KILL
#                            after 10 s)
#   port_busy PORT           true when something listens on 127.0.0.1:PORT
#   free_port START [SKIP]   the first free port at or above START, never SKIP
#   wait_http URL PID NAME LOG [SECONDS]
#                            until URL answers 2xx (default 30 s); dies with the
#                            tail of LOG when the process exits or time runs out
#   median VALUES...         the median of numbers
#   revision                 the short commit of the checkout, "+changes" when
#                            tracked files differ from it
#   row NAME VALUES...       one Markdown table row

stop() {  # stop PID, politely first; only processes this script started
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

port_busy() {
  if command -v ss >/dev/null; then
    ss -Htln "sport = :$1" 2>/dev/null | grep -q .
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

free_port() {
  local p=$1
  while [[ $p == "${2:-}" ]] || port_busy "$p"; do
    ((p++))
    ((p < 65000)) || die "no free port"
  done
  echo "$p"
}

wait_http() {
  local url=$1 pid=$2 name=$3 logf=$4 seconds=${5:-30} i
  for ((i = 0; i < seconds * 10; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$logf" >&2 || true
      die "$name exited during startup"
    fi
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  tail -n 20 "$logf" >&2 || true
  die "$name did not answer $url within $seconds s"
}

median() {
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
    if (NR % 2) printf "%.2f", a[(NR + 1) / 2]; else printf "%.2f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

revision() {
  local rev
  rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [[ $rev != unknown ]] && ! git -C "$ROOT" diff --quiet HEAD 2>/dev/null; then rev+="+changes"; fi
  echo "$rev"
}

row() {
  local name=$1; shift
  printf '| %s |' "$name"
  printf ' %s |' "$@"
  printf '\n'
}
