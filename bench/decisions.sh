#!/usr/bin/env bash
# Decision ingest over HTTP in batches of 1000 (target >= 100 000/s), then
# lookup by request id with that many stored (target p99 <= 1 ms), beside a
# GET /healthz round trip in the same run.
#   BENCH_DECISIONS (default 1000000; the issue's 10 000 000 takes minutes)
#   BENCH_DB=postgres  the same into PostgreSQL (a throwaway cluster), after
#                      the same on SQLite in the same run as its baseline
. "$(dirname "$0")/lib.sh"
snapshot_binary
TOOL="$REPO_DIR/build/bench/decisions_bench"
[[ -x "$TOOL" ]] || die "build the bench tools first: cmake --build build --target decisions_bench"
N=${BENCH_DECISIONS:-1000000}
mkdir -p "$RUN_DIR/b"; echo "weights" >"$RUN_DIR/b/m.bin"
run_on() {  # run_on NAME [serve flags...]
  local name=$1
  shift
  start_server "$RUN_DIR/data-$name" "$@"
  DIGEST=$("$BIN" register churn "$RUN_DIR/b" --json 2>/dev/null | jq -r .digest)
  AGENT=$("$BIN" token create --role agent --name bench-agent)
  AUDITOR=$("$BIN" token create --role auditor --name bench-auditor)
  echo "== $name"
  "$TOOL" "$MODELREG_URL" "$AGENT" "$AUDITOR" "$DIGEST" "$N" 2000
  stop_server
}
run_on sqlite
if [[ ${BENCH_DB:-} == postgres ]]; then
  start_postgres
  run_on postgres --db "$PG_DB_URL"
fi
