#!/usr/bin/env bash
# Decision ingest over HTTP in batches of 1000 (target >= 100 000/s), then
# lookup by request id with that many stored (target p99 <= 1 ms), beside a
# GET /healthz round trip in the same run. Lookups run twice: right after the
# ingest (the engine still writing it out) and once it has settled.
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
  echo "-- lookups right after the ingest (the database may still be writing it out)"
  "$TOOL" "$MODELREG_URL" "$AGENT" "$AUDITOR" "$DIGEST" "$N" 2000
  # Then settled: the engine's checkpoint done (and PostgreSQL's statistics
  # gathered), as on a registry that ingests steadily rather than in one burst.
  if [[ $name == postgres ]]; then
    psql -q "$PG_DB_URL" -c "CHECKPOINT" -c "VACUUM ANALYZE decisions" >&2
  else
    command -v sqlite3 >/dev/null && sqlite3 "$RUN_DIR/data-$name/registry.db" "PRAGMA busy_timeout=10000; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  fi
  echo "-- lookups once the database has settled (checkpoint done)"
  "$TOOL" "$MODELREG_URL" "$AGENT" "$AUDITOR" "$DIGEST" "$N" 2000 --lookups-only
  stop_server
}
run_on sqlite
if [[ ${BENCH_DB:-} == postgres ]]; then
  start_postgres
  run_on postgres --db "$PG_DB_URL"
fi
