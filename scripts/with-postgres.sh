#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server beside it:
#
#   scripts/with-postgres.sh COMMAND [ARGS...]
#
# initdb into a fresh temporary folder, start the server on 127.0.0.1 at a
# random free port (no other address, no TCP password: trust for the local
# test superuser only), export PAIDOC_TEST_PG (a libpq URI of its
# "postgres" database, for tests that create their own databases), run the
# command, then stop the server and delete the folder, also when the
# command fails or the script is interrupted. The command's exit status is
# the script's.
#
# The server trades durability for speed (fsync off): it holds test data
# only. As root, the server runs as the "postgres" user (PostgreSQL refuses
# to run as root). Needs Debian's postgresql package (install-deps.sh --test).
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

bindir=""
if command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/initdb" ]]; then
  bindir="$(pg_config --bindir)"
else
  for d in /usr/lib/postgresql/*/bin; do [[ -x $d/initdb ]] && bindir=$d; done
fi
if [[ -z $bindir ]]; then
  echo "with-postgres.sh: PostgreSQL server programs (initdb, pg_ctl) not found;" \
       "install Debian's postgresql package (scripts/install-deps.sh --test)" >&2
  exit 1
fi

as_owner=()
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || { echo "with-postgres.sh: running as root needs the postgres user" >&2; exit 1; }
  as_owner=(runuser -u postgres --)
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/paidoc-pg.XXXXXX")"
chmod 755 "$dir"
[[ ${#as_owner[@]} -eq 0 ]] || chown postgres "$dir"
started=0
cleanup() {
  local rc=$?
  if [[ $started -eq 1 ]]; then
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U paidoc --auth=trust -E UTF8 --locale=C.UTF-8 \
  >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }

# Another process may take the port between choosing and binding: try a few.
for attempt in 1 2 3 4 5; do
  port="$(free_port)"
  if "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
       -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
           -c max_connections=400 -c fsync=off -c synchronous_commit=off \
           -c full_page_writes=off -c shared_buffers=128MB" start >/dev/null; then
    started=1
    break
  fi
done
if [[ $started -ne 1 ]]; then
  echo "with-postgres.sh: the server did not start; its log:" >&2
  cat "$dir/server.log" >&2 || true
  exit 1
fi

export PAIDOC_TEST_PG="postgresql://paidoc@127.0.0.1:$port/postgres"
echo "with-postgres.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
set +e
"$@"
rc=$?
set -e
exit $rc
