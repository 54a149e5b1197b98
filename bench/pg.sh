# shellcheck shell=bash
# A PostgreSQL server for the bench/*/run.sh scripts, started the way
# scripts/with-postgres.sh starts the tests' server (Debian's server
# programs, initdb with a trusted local superuser "paidoc", 127.0.0.1 only, a
# free port, the socket in the cluster's own folder, run as the "postgres"
# user when the script runs as root), but DURABLE by default: fsync,
# synchronous_commit and full_page_writes keep PostgreSQL's defaults (on), so
# a committed transaction is on disk, as on a production server. Source it
# after bench/lib.sh (it uses log, die and free_port); it defines:
#
#   pg_start DIR [durable|fast]
#                 initdb into DIR/data unless DIR/data already holds a
#                 cluster (then it is reused: its databases survive), start the
#                 server on 127.0.0.1 at a free port at or above PG_PORT_FROM
#                 (18200); fast = fsync, synchronous_commit and
#                 full_page_writes off, as with-postgres.sh (test data only).
#                 Sets PG_BINDIR, PG_DIR, PG_PORT, PG_VERSION, PG_SETTINGS
#                 and PG_URL (postgresql://paidoc@127.0.0.1:PORT, no database).
#   pg_stop       stop the server pg_start started (fast shutdown, then
#                 immediate); safe to call twice or when none was started
#   pg_createdb NAME
#                 a new database; pg_url NAME prints its URI
#   pg_sql DB SQL psql -At on database DB (prints the result)
#   pg_pids       the server's processes (postmaster and its children), for
#                 CPU accounting from /proc
#   pg_setting NAME  the running server's value of a setting
#
# Memory: shared_buffers=256MB, max_connections=400 (two paidoc nodes open up
# to 64 connections each; pgbench runs beside them).

PG_BINDIR=""
PG_DIR=""
PG_PORT=""
PG_URL=""
PG_VERSION=""
PG_SETTINGS=""
PG_STARTED=0
PG_AS_OWNER=()

pg_find() {
  [[ -n $PG_BINDIR ]] && return 0
  local d
  if command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/initdb" ]]; then
    PG_BINDIR=$(pg_config --bindir)
  else
    for d in /usr/lib/postgresql/*/bin; do [[ -x $d/initdb ]] && PG_BINDIR=$d; done
  fi
  [[ -n $PG_BINDIR ]] || die "PostgreSQL server programs (initdb, pg_ctl) not found: install Debian's postgresql package (scripts/install-deps.sh --bench)"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the postgres user (Debian's postgresql package makes it)"
    PG_AS_OWNER=(runuser -u postgres --)
  fi
  PG_VERSION=$("$PG_BINDIR/postgres" --version | awk '{ print $3 }')
}

pg_start() {
  local dir=$1 mode=${2:-durable} attempt settings
  pg_find
  mkdir -p "$dir"
  PG_DIR=$(cd "$dir" && pwd)
  if [[ ${#PG_AS_OWNER[@]} -gt 0 ]]; then
    # The server runs as postgres: it must reach and own its folder.
    local p=$PG_DIR
    while [[ $p != / ]]; do
      chmod o+x "$p" 2>/dev/null || true
      p=$(dirname "$p")
    done
    chown postgres "$PG_DIR"
  fi
  if [[ ! -f $PG_DIR/data/PG_VERSION ]]; then
    "${PG_AS_OWNER[@]}" "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U paidoc --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  fi
  case $mode in
    durable) settings="-c fsync=on -c synchronous_commit=on -c full_page_writes=on" ;;
    fast) settings="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" ;;
    *) die "pg_start: mode must be durable or fast, not '$mode'" ;;
  esac
  settings+=" -c max_connections=400 -c shared_buffers=256MB"
  # Another process may take the port between choosing and binding: try a few.
  for attempt in 1 2 3 4 5; do
    PG_PORT=$(free_port $((${PG_PORT_FROM:-18200} + attempt - 1)))
    if "${PG_AS_OWNER[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 120 \
         -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR $settings" \
         start >/dev/null; then
      PG_STARTED=1
      break
    fi
  done
  if [[ $PG_STARTED -ne 1 ]]; then
    tail -n 20 "$PG_DIR/server.log" >&2 || true
    die "PostgreSQL did not start"
  fi
  PG_URL="postgresql://paidoc@127.0.0.1:$PG_PORT"
  PG_SETTINGS="fsync=$(pg_setting fsync), synchronous_commit=$(pg_setting synchronous_commit), full_page_writes=$(pg_setting full_page_writes), shared_buffers=$(pg_setting shared_buffers)"
  log "PostgreSQL $PG_VERSION on 127.0.0.1:$PG_PORT ($mode: $PG_SETTINGS), cluster in $PG_DIR/data"
}

pg_stop() {
  [[ $PG_STARTED -eq 1 ]] || return 0
  PG_STARTED=0
  "${PG_AS_OWNER[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 \
    || "${PG_AS_OWNER[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
}

pg_url() { printf '%s/%s\n' "$PG_URL" "$1"; }

pg_sql() {
  "$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U paidoc -d "$1" -c "$2"
}

pg_setting() { pg_sql postgres "SHOW $1"; }

pg_createdb() {
  "$PG_BINDIR/createdb" -h 127.0.0.1 -p "$PG_PORT" -U paidoc "$1" || die "createdb $1 failed"
}

pg_pids() {
  [[ $PG_STARTED -eq 1 ]] || return 0
  local master
  master=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null) || return 0
  [[ -n $master ]] || return 0
  echo "$master"
  children_of "$master"
}
