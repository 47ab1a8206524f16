# shellcheck shell=bash
# Replicas for the benchmarks: N `modelreg serve` on one PostgreSQL database
# (lib.sh start_postgres) with one release key and one local blob store, and
# haproxy in front of them with examples/ha/haproxy.cfg. Sourced after
# lib.sh, not run (bench/run_all.sh skips lib*.sh).
#
# The replicas share the blob store as docs/operations.md ("Blobs", the local
# store on a shared mount) allows: each replica's DATA/blobs and DATA/uploads
# are symlinks to one directory of the run. Every process started here is
# stopped on exit (haproxy and replicas first, then lib.sh's cleanup: the
# single server, PostgreSQL, the scratch).
#
# BENCH_KEEP_LOGS=DIR keeps the logs of the run there.
#
# Sets: REPLICA_PIDS[], REPLICA_URLS[], REPLICA_DIRS[], ADMIN_TOKEN (the first
# replica's admin token), HAPROXY_PID, HAPROXY_URL, HAPROXY_SOCK.

REPLICA_PIDS=()
REPLICA_URLS=()
REPLICA_DIRS=()
HAPROXY_PID=""
HAPROXY_URL=""
HAPROXY_SOCK=""

stop_replicas() {
  local p
  if [[ -n $HAPROXY_PID ]]; then
    kill -TERM "$HAPROXY_PID" 2>/dev/null || true
    wait "$HAPROXY_PID" 2>/dev/null || true
    HAPROXY_PID=""
  fi
  for p in "${REPLICA_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${REPLICA_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  REPLICA_PIDS=()
}
replicas_cleanup() {
  stop_replicas
  # BENCH_KEEP_LOGS=DIR: the servers' and haproxy's logs are copied there first.
  if [[ -n ${BENCH_KEEP_LOGS:-} ]]; then
    mkdir -p "$BENCH_KEEP_LOGS"
    find "$RUN_DIR" -maxdepth 1 -name '*.log' -exec cp {} "$BENCH_KEEP_LOGS/" \; 2>/dev/null || true
    if [[ -d ${PG_DIR:-} ]]; then cp "$PG_DIR/server.log" "$BENCH_KEEP_LOGS/postgresql.log" 2>/dev/null || true; fi
  fi
  cleanup
}
trap replicas_cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_replicas N [SERVE_FLAGS...]: a fresh PostgreSQL database, a release
# key, a shared blob directory and N replicas on ephemeral loopback ports
# (the first started alone: it creates the schema and the admin token).
start_replicas() {
  local n="$1" i dir
  shift
  start_postgres
  openssl genpkey -algorithm ed25519 -out "$RUN_DIR/release.key" 2>/dev/null || die "openssl genpkey ed25519 failed"
  chmod 600 "$RUN_DIR/release.key"
  mkdir -p "$RUN_DIR/shared/blobs" "$RUN_DIR/shared/uploads"
  for ((i = 0; i < n; i++)); do
    dir="$RUN_DIR/replica$((i + 1))"
    mkdir -p "$dir"
    ln -s "$RUN_DIR/shared/blobs" "$dir/blobs"
    ln -s "$RUN_DIR/shared/uploads" "$dir/uploads"
    "$BIN" serve --data "$dir" --listen 127.0.0.1:0 --db "$PG_DB_URL" --release-key "$RUN_DIR/release.key" "$@" \
      2>"$dir.log" &
    REPLICA_PIDS+=($!)
    REPLICA_DIRS+=("$dir")
    for _ in $(seq 1 600); do
      [[ -s "$dir/serve.url" ]] && break
      kill -0 "${REPLICA_PIDS[$i]}" 2>/dev/null || { tail -20 "$dir.log" >&2; die "replica $((i + 1)) exited during start"; }
      sleep 0.05
    done
    [[ -s "$dir/serve.url" ]] || die "replica $((i + 1)) did not write $dir/serve.url"
    REPLICA_URLS+=("$(cat "$dir/serve.url")")
    case "${REPLICA_URLS[$i]}" in http://127.0.0.1:*) ;; *) die "replica listens on ${REPLICA_URLS[$i]}, not 127.0.0.1" ;; esac
  done
  [[ -s "${REPLICA_DIRS[0]}/admin.token" ]] || die "the first replica wrote no admin.token"
  # shellcheck disable=SC2034  # for the benchmark that sourced this
  ADMIN_TOKEN="$(cat "${REPLICA_DIRS[0]}/admin.token")"
}

# haproxy_cmd CMD: a command on haproxy's stats socket (output on stdout).
haproxy_cmd() {
  python3 - "$HAPROXY_SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())
PY
}
# haproxy_info FIELD: one field of `show info` (Maxconn, CurrConns, ...).
haproxy_info() { haproxy_cmd "show info" | awk -F': ' -v f="$1" '$1 == f { print $2 }'; }

# start_haproxy: haproxy with examples/ha/haproxy.cfg in front of
# REPLICA_URLS (its 127.0.0.1:808N addresses replaced, the frontend on a free
# loopback port), plus a stats socket in the run's scratch (to read its
# maxconn and connections and to see every replica UP). haproxy derives its
# maxconn from the open-file limit it is started with (the config's note).
start_haproxy() {
  command -v haproxy >/dev/null || die "haproxy is not installed (apt-get install haproxy)"
  local cfg="$RUN_DIR/haproxy.cfg" port i up
  HAPROXY_SOCK="$RUN_DIR/haproxy.sock"
  port=$(free_port)
  sed -e "s/127\\.0\\.0\\.1:8080/127.0.0.1:$port/" "$REPO_DIR/examples/ha/haproxy.cfg" >"$cfg"
  for i in "${!REPLICA_URLS[@]}"; do
    sed -i "s/127\\.0\\.0\\.1:808$((i + 1))\$/${REPLICA_URLS[$i]#http://}/" "$cfg"
  done
  sed -i "s|^global\$|global\n    stats socket $HAPROXY_SOCK mode 600 level admin|" "$cfg"
  grep -q "127.0.0.1:808" "$cfg" && die "haproxy.cfg: not every replica address was replaced (${#REPLICA_URLS[@]} replicas)"
  haproxy -db -f "$cfg" >"$RUN_DIR/haproxy.log" 2>&1 &
  HAPROXY_PID=$!
  HAPROXY_URL="http://127.0.0.1:$port"
  # Every replica UP (health checks: rise 2, inter 1s).
  for i in $(seq 1 300); do
    kill -0 "$HAPROXY_PID" 2>/dev/null || { cat "$RUN_DIR/haproxy.log" >&2; die "haproxy exited during start"; }
    if [[ -S $HAPROXY_SOCK ]]; then
      up=$(haproxy_cmd "show stat" 2>/dev/null | awk -F, '$1 == "replicas" && $2 != "BACKEND" && $18 == "UP"' | wc -l)
      [[ $up -eq ${#REPLICA_URLS[@]} ]] && break
    fi
    sleep 0.1
  done
  [[ ${up:-0} -eq ${#REPLICA_URLS[@]} ]] || { cat "$RUN_DIR/haproxy.log" >&2; die "haproxy: not every replica UP after 30 s"; }
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$HAPROXY_URL/healthz") == 200 ]] || die "no /healthz through haproxy"
}

# proc_status PID FIELD: a /proc/PID/status value (VmRSS, VmHWM in KiB; Threads).
proc_status() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
# open_fds PID: descriptors the process holds (its connections, roughly).
open_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
