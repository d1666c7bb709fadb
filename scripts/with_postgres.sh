#!/usr/bin/env bash
# Run a command beside a throwaway PostgreSQL server (Debian's `postgresql` package), with
# HIPVIZ_TEST_POSTGRES_URL pointing at it; the server and its files are gone when the command ends.
#
#   bash scripts/with_postgres.sh .venv/bin/python -m pytest -q
#
# The cluster lives in a temporary folder, listens on 127.0.0.1 only (a free port) and trusts
# local connections; as root it runs as the `postgres` user (initdb refuses root).
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "with_postgres: PostgreSQL is not installed (apt-get install postgresql; scripts/setup.sh --test does it)" >&2
  exit 3
fi

as_pg() { "$@"; }
owner=$(id -un)
if [ "$(id -u)" = 0 ]; then
  owner=postgres
  id postgres >/dev/null 2>&1 || { echo "with_postgres: no postgres user (is the postgresql package installed?)" >&2; exit 3; }
  as_pg() { su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; }
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/hipviz-pg.XXXXXX")
chmod 755 "$dir"
chown "$owner" "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

stop() {
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 3; }
as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 3; }

export HIPVIZ_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
echo "with_postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
set +e
"$@"
rc=$?
set -e
exit $rc
