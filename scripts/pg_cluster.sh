#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks (tests/CMakeLists.txt
# fixture "pg", bench/lib.sh start_postgres, examples/): `pg_cluster.sh start DIR` runs initdb and pg_ctl in DIR on a free
# loopback port and writes the server's URL to DIR/url; `stop DIR` stops it
# and removes DIR; `halt DIR` stops the server and keeps its files, `resume
# DIR` starts it again on the same port (the fault tests). PostgreSQL refuses to run as root, so as root the server
# runs as the unprivileged user `nobody`. Trust authentication on loopback:
# for tests only, never a deployment (docs/operations.md "PostgreSQL").
# Tests run without fsync (a lost test cluster is just started again);
# PG_CLUSTER_DURABLE=1 keeps PostgreSQL's durable defaults (fsync, synchronous
# commit, full page writes), as the benchmarks do so that they compare with
# SQLite's synchronous=FULL.
set -euo pipefail

cmd=${1:?usage: pg_cluster.sh start|halt|resume|stop DIR}
dir=${2:?usage: pg_cluster.sh start|halt|resume|stop DIR}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x $bindir/initdb ]] || { echo "pg_cluster: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

server_options() {  # server_options PORT
  local o="-c listen_addresses=127.0.0.1 -c port=$1 -c unix_socket_directories='' -c max_connections=300"
  [[ ${PG_CLUSTER_DURABLE:-0} == 1 ]] || o+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  echo "$o"
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; else "$@"; fi
}

case $cmd in
  start)
    rm -rf "$dir"
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown nobody:nogroup "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U modelreg --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # A free port: ask the kernel, then hand it to the server (a race with
    # another process is retried by starting again on a new port).
    for attempt in 1 2 3 4 5; do
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
           -o "$(server_options "$port")" start >/dev/null 2>&1; then
        echo "postgresql://modelreg@127.0.0.1:$port/postgres" >"$dir/url"
        exit 0
      fi
    done
    cat "$dir/server.log" >&2
    exit 1
    ;;
  halt)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  resume)
    port=$(sed -E 's|.*:([0-9]+)/.*|\1|' "$dir/url")
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "$(server_options "$port")" start >/dev/null
    ;;
  stop)
    if [[ -d $dir/data ]]; then as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg_cluster.sh start|halt|resume|stop DIR" >&2
    exit 2
    ;;
esac
