#!/usr/bin/env bash
# Start a throwaway PostgreSQL on loopback for the registry tests.
#
# Source it (". .ci/postgres.sh") from .ci/run after the virtualenv is active: it
# exports MODELCLEAR_TEST_PG_URL, which makes tests/test_registry_sqlite.py run its
# PostgreSQL test (skipped when the variable is unset). Installs Debian's postgresql
# when missing (needs root and apt), and psycopg into the active virtualenv. On any
# failure it prints why and leaves the variable unset, so CI still runs every other test.

_mc_pg_start() {
  local bindir pgver datadir port runas=()
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null || return 1
    else
      echo "postgres.sh: PostgreSQL not installed and cannot install it" >&2
      return 1
    fi
  fi
  pgver=$(ls /usr/lib/postgresql | sort -V | tail -1)
  bindir="/usr/lib/postgresql/$pgver/bin"
  python -c "import psycopg" 2>/dev/null || python -m pip install -q "psycopg[binary]" || return 1
  datadir=$(mktemp -d /tmp/modelclear-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then
    # the server refuses to run as root
    chown postgres: "$datadir"
    runas=(runuser -u postgres --)
  fi
  port=$(python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  "${runas[@]}" "$bindir/initdb" -D "$datadir/data" -U postgres -A trust -E UTF8 >/dev/null || return 1
  "${runas[@]}" "$bindir/pg_ctl" -D "$datadir/data" -l "$datadir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $datadir" start >/dev/null || return 1
  "${runas[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres modelclear_test || return 1
  export MODELCLEAR_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/modelclear_test"
  export MODELCLEAR_TEST_PG_DATADIR="$datadir/data"
  # Stop the server when the sourcing shell exits (chaining any EXIT trap already set).
  local previous stop
  previous="$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\\1/")"
  stop="${runas[*]} $bindir/pg_ctl -D $datadir/data -m fast stop >/dev/null 2>&1"
  # shellcheck disable=SC2064
  trap "$stop; ${previous:-:}" EXIT
  echo "postgres.sh: PostgreSQL $pgver on 127.0.0.1:$port (stopped when CI exits)"
}

_mc_pg_start || { echo "postgres.sh: PostgreSQL tests will be skipped" >&2; unset MODELCLEAR_TEST_PG_URL; }
unset -f _mc_pg_start
