#!/usr/bin/env bash
# Promote and rollback latency, p50 and p99, under 4 concurrent approvers
# (one model each), beside a SELECT 1 round trip (GET /readyz) through the
# same server by the same clients, in the same run.
#   BENCH_ROUNDS (default 200 promote+rollback cycles per approver)
. "$(dirname "$0")/lib.sh"
snapshot_binary
TOOL="$REPO_DIR/build/bench/promote_latency"
[[ -x "$TOOL" ]] || die "build the bench tools first: cmake --build build --target promote_latency"
ROUNDS=${BENCH_ROUNDS:-200}
MODELS=4
start_server "$RUN_DIR/data"
ADMIN=$MODELREG_TOKEN
TRAINER=$("$BIN" token create --role trainer --name bench-trainer)
APPROVER=$("$BIN" token create --role approver --name bench-approver)
for m in $(seq 0 $((MODELS - 1))); do
  for v in 1 2; do
    mkdir -p "$RUN_DIR/b$m-$v"; echo "model $m version $v" >"$RUN_DIR/b$m-$v/m.bin"
    MODELREG_TOKEN=$TRAINER "$BIN" register "bench-$m" "$RUN_DIR/b$m-$v" --metric auc=0.9 >/dev/null 2>&1
    MODELREG_TOKEN=$TRAINER "$BIN" promote "bench-$m" "$v" --to staging >/dev/null
    MODELREG_TOKEN=$APPROVER "$BIN" approve "bench-$m" "$v" >/dev/null
  done
  MODELREG_TOKEN=$APPROVER "$BIN" promote "bench-$m" 1 --to production >/dev/null
done
"$TOOL" "$MODELREG_URL" "$ADMIN" "$APPROVER" "$MODELS" "$ROUNDS"
MODELREG_TOKEN=$ADMIN "$BIN" audit verify
