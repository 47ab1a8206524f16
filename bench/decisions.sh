#!/usr/bin/env bash
# Decision ingest over HTTP in batches of 1000 (target >= 100 000/s), then
# lookup by request id with that many stored (target p99 <= 1 ms), beside a
# GET /healthz round trip in the same run.
#   BENCH_DECISIONS (default 1000000; the issue's 10 000 000 takes minutes)
. "$(dirname "$0")/lib.sh"
snapshot_binary
TOOL="$REPO_DIR/build/bench/decisions_bench"
[[ -x "$TOOL" ]] || die "build the bench tools first: cmake --build build --target decisions_bench"
N=${BENCH_DECISIONS:-1000000}
start_server "$RUN_DIR/data"
mkdir -p "$RUN_DIR/b"; echo "weights" >"$RUN_DIR/b/m.bin"
DIGEST=$("$BIN" register churn "$RUN_DIR/b" --json 2>/dev/null | jq -r .digest)
AGENT=$("$BIN" token create --role agent --name bench-agent)
AUDITOR=$("$BIN" token create --role auditor --name bench-auditor)
"$TOOL" "$MODELREG_URL" "$AGENT" "$AUDITOR" "$DIGEST" "$N" 2000
