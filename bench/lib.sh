# shellcheck shell=bash
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
#   cpu_ticks, machine_ticks, children_of, cpu_snapshot, cpu_shares
#                            CPU time from /proc, per process group, of the
#                            load generator, of everything else (see below)

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

# CPU accounting from /proc, in clock ticks (getconf CLK_TCK per second):
#   cpu_ticks PID...   user + system time of the processes plus that of their
#                      children that have exited (a process gone is skipped)
#   machine_ticks      "BUSY TOTAL" ticks of all CPUs since boot (/proc/stat)
#   children_of PID    the process's direct children
#   cpu_snapshot OUT GROUP=PID... 
#                      writes one "GROUP:PID TICKS" line per process, the
#                      ticks of this script's reaped children ("client": the
#                      load generator, waited for in between) and the
#                      machine's busy and total ticks, to OUT
#   cpu_shares BEFORE AFTER GROUP...
#                      from two snapshots: each group's CPU, then the
#                      client's, everything else's ("other": processes
#                      outside the groups, e.g. other users) and idle, in %
#                      of one CPU, space-separated (a process that appears
#                      between the snapshots counts from zero)
cpu_ticks() {
  local pid line sum=0
  local -a f
  for pid in "$@"; do
    { read -r line <"/proc/$pid/stat"; } 2>/dev/null || continue
    read -ra f <<<"${line##*) }"
    # after "comm) ": state ppid ... utime(11) stime(12) cutime(13) cstime(14), 0-based
    sum=$((sum + f[11] + f[12] + f[13] + f[14]))
  done
  echo "$sum"
}

machine_ticks() {
  awk '$1 == "cpu" { total = 0; for (i = 2; i <= NF; i++) total += $i
                     print total - $5 - $6, total; exit }' /proc/stat
}

children_of() {
  local stat line
  local -a f
  for stat in /proc/[0-9]*/stat; do
    { read -r line <"$stat"; } 2>/dev/null || continue
    read -ra f <<<"${line##*) }"
    [[ ${f[1]} == "$1" ]] && { stat=${stat%/stat}; echo "${stat#/proc/}"; }
  done
  return 0
}

cpu_snapshot() {
  local out=$1 arg group pid line busy total
  local -a f
  shift
  {
    for arg in "$@"; do
      group=${arg%%=*}
      pid=${arg#*=}
      [[ -n $pid ]] && echo "$group:$pid $(cpu_ticks "$pid")"
    done
    read -r line <"/proc/$BASHPID/stat"
    read -ra f <<<"${line##*) }"
    echo "client $((f[13] + f[14]))"
    read -r busy total < <(machine_ticks)
    echo "busy $busy"
    echo "total $total"
  } >"$out"
}

cpu_shares() {
  local before=$1 after=$2
  shift 2
  awk -v cpus="$(nproc)" -v groups="$*" '
    FNR == NR { a[$1] = $2; next }
    { d = $2 - ($1 in a ? a[$1] : 0); k = $1; sub(/:.*/, "", k); if ($1 ~ /:/) g[k] += d; else b[k] = d }
    END {
      t = b["total"] / cpus; if (t <= 0) t = 1
      n = split(groups, gs, " "); other = b["busy"] - b["client"]; out = ""
      for (i = 1; i <= n; i++) { out = out sprintf("%.0f ", 100 * g[gs[i]] / t); other -= g[gs[i]] }
      if (other < 0) other = 0
      printf "%s%.0f %.0f %.0f\n", out, 100 * b["client"] / t, 100 * other / t, 100 * (b["total"] - b["busy"]) / t }' "$before" "$after"
}
