# Shared helpers for the modelreg benchmarks. Sourced, not run.
#
# Environment:
#   MODELREG_BIN  modelreg binary (default: build/cli/modelreg of this checkout)
#   BENCH_DIR     where scratch files go (default: /tmp); a modelreg-bench/ dir is made in it
#   BENCH_REPS    repetitions of each timed step; the median is reported (default: 3)
#   BENCH_PRETOUCH_MIB  scratch written+deleted before each timed step (see prep_step)
#
# Only 127.0.0.1 is used. Every server started here is stopped on exit.

set -euo pipefail

BENCH_SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_SRC_DIR/.." && pwd)"
BENCH_ROOT="${BENCH_DIR:-/tmp}/modelreg-bench"
REPS="${BENCH_REPS:-3}"
mkdir -p "$BENCH_ROOT"

# Scratch space of this run (data dirs, copies, pulls); removed on exit.
RUN_DIR="$(mktemp -d "$BENCH_ROOT/run.XXXXXX")"
SERVER_PID=""
SERVER_DATA=""

CLEANUP_STAMP=""  # touched after the scratch is deleted, if set
cleanup() {
  stop_server || true
  stop_docker_registry || true
  if [[ -n "${PG_DIR:-}" ]]; then "$REPO_DIR/scripts/pg_cluster.sh" stop "$PG_DIR" || true; fi
  rm -rf "$RUN_DIR"
  if [[ -n "$CLEANUP_STAMP" ]]; then touch "$CLEANUP_STAMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# Snapshot the binary so that a rebuild during the run cannot swap it under us.
# The build may be briefly missing while it is relinked: wait for it.
snapshot_binary() {
  local src="${MODELREG_BIN:-$REPO_DIR/build/cli/modelreg}" i
  for i in $(seq 1 120); do
    if [[ -x "$src" ]] && cp "$src" "$RUN_DIR/modelreg.tmp" 2>/dev/null && "$RUN_DIR/modelreg.tmp" --version >/dev/null 2>&1; then
      mv "$RUN_DIR/modelreg.tmp" "$RUN_DIR/modelreg"
      BIN="$RUN_DIR/modelreg"
      return 0
    fi
    [[ $i == 1 ]] && log "waiting for $src to appear..."
    sleep 1
  done
  die "no usable modelreg binary at $src"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# median of the arguments (numbers)
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# gbps BYTES SECONDS -> GB/s (GB = 1e9 bytes)
gbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) print "inf"; else printf "%.3f", b / s / 1e9 }'; }
# ratio A B -> A/B
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "inf"; else printf "%.2f", a / b }'; }
# ok_ge VALUE TARGET / ok_le VALUE TARGET -> "ok" or "MISS"
ok_ge() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t) ? "ok" : "MISS" }'; }
ok_le() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "ok" : "MISS" }'; }

# summary FIGURE VALUE BASELINE RATIO TARGET VERDICT: one row of the table
# bench/run_all.sh prints at the end (figure, its baseline measured in the
# same run, the ratio, the target, ok/MISS; "-" where one does not apply).
# Appended to $BENCH_SUMMARY when set (run_all.sh sets it), else only printed.
summary() {
  [[ $# -eq 6 ]] || die "summary needs 6 fields, got $#: $*"
  printf 'summary: %s | %s | %s | %s | %s | %s\n' "$@"
  if [[ -n ${BENCH_SUMMARY:-} ]]; then
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(basename "$0" .sh)" "$@" >>"$BENCH_SUMMARY"
  fi
}

# time_cmd CMD... -> prints seconds on stdout. The command's output goes to
# $RUN_DIR/last.out (stdout) and last.err; on failure they are shown and
# time_cmd fails.
time_cmd() {
  local t0 t1
  t0=$(now)
  if ! "$@" >"$RUN_DIR/last.out" 2>"$RUN_DIR/last.err"; then
    cat "$RUN_DIR/last.out" "$RUN_DIR/last.err" >&2
    echo "bench: failed: $*" >&2
    return 1
  fi
  t1=$(now)
  elapsed "$t0" "$t1"
}

# start_server DATA_DIR [SERVE_FLAGS...]: fresh server on an ephemeral
# 127.0.0.1 port. Sets SERVER_PID, SERVER_DATA, MODELREG_URL, MODELREG_TOKEN.
start_server() {
  local data="$1" i
  shift
  stop_server
  mkdir -p "$data"
  "$BIN" serve --data "$data" --listen 127.0.0.1:0 "$@" 2>"$data.log" &
  SERVER_PID=$!
  SERVER_DATA="$data"
  for i in $(seq 1 200); do
    [[ -s "$data/serve.url" && -s "$data/admin.token" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$data.log" >&2; die "server exited during start"; }
    sleep 0.05
  done
  [[ -s "$data/serve.url" ]] || die "server did not write $data/serve.url"
  MODELREG_URL="$(cat "$data/serve.url")"
  MODELREG_TOKEN="$(cat "$data/admin.token")"
  export MODELREG_URL MODELREG_TOKEN
  case "$MODELREG_URL" in http://127.0.0.1:* | https://127.0.0.1:*) ;; *) die "server listens on $MODELREG_URL, not 127.0.0.1" ;; esac
}

# A throwaway PostgreSQL cluster (scripts/pg_cluster.sh) in the run's scratch,
# started once and stopped on exit; sets PG_DB_URL to a fresh database on it.
# Call it directly, not in $(...): the cluster must be known to cleanup.
PG_DIR=""
start_postgres() {
  if [[ -z $PG_DIR ]]; then
    PG_DIR="$RUN_DIR/pg"
    chmod 755 "$RUN_DIR"
    # Durable settings (fsync on every commit), as SQLite's synchronous=FULL.
    PG_CLUSTER_DURABLE=1 "$REPO_DIR/scripts/pg_cluster.sh" start "$PG_DIR" >&2 || die "could not start PostgreSQL (apt-get install postgresql)"
  fi
  local base db
  base=$(cat "$PG_DIR/url")
  db="bench_$$_$RANDOM"
  psql -q "$base" -c "CREATE DATABASE $db" >&2 || die "CREATE DATABASE failed"
  PG_DB_URL="${base%/*}/$db"
}

stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_docker_registry DIR: a fresh Debian docker-registry (Docker
# distribution 2.8, `apt-get install docker-registry`) on an ephemeral
# 127.0.0.1 port, filesystem storage in DIR/data (delete enabled: modelreg's
# oci:// blob store deletes), config in DIR/config.yml, its log (errors and
# the access log) in DIR/log. Sets DR_PID, DR_PORT, DR_URL (http://127.0.0.1:PORT);
# a registry started earlier is stopped first, and the last one on exit.
DR_PID=""
start_docker_registry() {
  local dir="$1" i
  command -v docker-registry >/dev/null || die "needs docker-registry (apt-get install docker-registry)"
  stop_docker_registry
  DR_PORT=$(free_port)
  DR_URL="http://127.0.0.1:$DR_PORT"
  mkdir -p "$dir"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$dir/data" "$DR_PORT" >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  DR_PID=$!
  for i in $(seq 1 200); do
    curl -sf "$DR_URL/v2/" >/dev/null && return 0
    kill -0 "$DR_PID" 2>/dev/null || { cat "$dir/log" >&2; die "docker-registry exited during start"; }
    sleep 0.05
  done
  die "docker-registry did not answer on $DR_URL/v2/"
}

stop_docker_registry() {
  if [[ -n "$DR_PID" ]]; then
    kill -TERM "$DR_PID" 2>/dev/null || true
    wait "$DR_PID" 2>/dev/null || true
    DR_PID=""
  fi
}

# Server-side time of each request so far, from the server's JSON log:
# "route=ms route=ms ...". Requests that took under 5 ms are left out.
server_phases() {
  jq -r 'select(.route != null and .ms >= 5) | "\(.route)=\(.ms | floor)ms"' "$SERVER_DATA.log" 2>/dev/null | paste -sd' ' -
}

# Peak resident set of the running server, in KiB (VmHWM).
server_hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status"; }
kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# This machine is a microVM whose memory is given back to the host when idle:
# DAMON (kdamond, "pageout" scheme) evicts pages not accessed for 60 s, and the
# virtio balloon reports free pages to the host. Then (1) a file read a minute
# ago may be read from disk again, and (2) writing into page cache that was
# handed back costs a host page fault per page (measured: 0.4-0.7 GB/s instead
# of 4-5 GB/s for pages freed a moment ago). To time every step, baseline or
# modelreg, under the same conditions, prep_step re-reads the step's inputs and
# writes and deletes a scratch file just before the step, so that the step
# finds its inputs in memory and writes into pages that are already mapped.
# BENCH_PRETOUCH_MIB=0 turns the scratch write off.
prep_step() {
  local mib="${BENCH_PRETOUCH_MIB:-$PRETOUCH_MIB}" f
  for f in "$@"; do
    # (through cat: GNU tar writing to /dev/null itself skips reading file data)
    if [[ -d "$f" ]]; then tar -cf - -C "$f" . | cat >/dev/null; else cat "$f" >/dev/null; fi
  done
  if [[ $mib -gt 0 ]]; then
    dd if=/dev/zero of="$RUN_DIR/pretouch" bs=1M count="$mib" status=none
    rm -f "$RUN_DIR/pretouch"
  fi
}
PRETOUCH_MIB=0

# page_fill_probe MIB: prints "A B": GB/s of writing MIB MiB into a new file
# (A) right after as much was freed, (B) after the freed pages sat idle for 3 s
# (by then the balloon has handed them back to the host).
page_fill_probe() {
  local mib="$1" a b
  dd if=/dev/zero of="$RUN_DIR/probe" bs=1M count="$mib" status=none
  rm -f "$RUN_DIR/probe"
  a=$(time_cmd dd if=/dev/zero of="$RUN_DIR/probe" bs=1M count="$mib" status=none)
  rm -f "$RUN_DIR/probe"
  sleep 3
  b=$(time_cmd dd if=/dev/zero of="$RUN_DIR/probe" bs=1M count="$mib" status=none)
  rm -f "$RUN_DIR/probe"
  echo "$(gbps $((mib << 20)) "$a") $(gbps $((mib << 20)) "$b")"
}

# sha256_probe: prints "ONE TWO": GB/s of SHA-256 over 1 MiB blocks in memory
# (openssl speed, 2 s each), on one core (ONE) and summed over two processes
# side by side (TWO). A 1 GiB register hashes the file twice, once in each
# process, so 2 * bytes / TWO is the time its hashes alone need on 2 cores.
sha256_probe() {
  # openssl speed prints "sha256  1282489.11k" (1000s of bytes per second)
  speed() { openssl speed -bytes 1048576 -seconds 2 "$@" sha256 2>/dev/null |
    awk '$1 == "sha256" { v = $2 } END { sub(/k$/, "", v); printf "%.3f", v * 1000 / 1e9 }'; }
  echo "$(speed) $(speed -multi 2)"
}

# one_gib_bundle: makes (once; it is kept across runs) a bundle of one file
# of 1 GiB of random bytes. Sets BUNDLE and FILE.
one_gib_bundle() {
  BUNDLE="$BENCH_ROOT/bundle-1g"
  FILE="$BUNDLE/model.bin"
  if [[ ! -f "$FILE" || $(stat -c %s "$FILE") -ne $((1 << 30)) ]]; then
    log "creating $FILE (1 GiB of random bytes)..."
    mkdir -p "$BUNDLE"
    rm -f "$FILE"
    head -c $((1 << 30)) /dev/urandom >"$FILE.tmp"
    mv "$FILE.tmp" "$FILE"
  fi
}

header() {
  echo "== $1"
  echo "   host: $(nproc) cores, $(awk '/^model name/ { $1=$2=$3=""; sub(/^ +/, ""); print; exit }' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "   binary: $BIN (snapshot of ${MODELREG_BIN:-$REPO_DIR/build/cli/modelreg})"
  echo "   scratch: $RUN_DIR on $(df -P "$RUN_DIR" | awk 'NR == 2 { print $1 }'); warm page cache (caches are not dropped)"
  echo "   before each timed step: inputs re-read, ${BENCH_PRETOUCH_MIB:-$PRETOUCH_MIB} MiB scratch written+deleted (microVM memory, see lib.sh prep_step)"
  echo "   each timed step runs $REPS times; the median is reported; GB = 1e9 bytes"
}
