#!/usr/bin/env bash
# The rollout judge (registry/core/rollout_judge.h) on seeded simulated
# traffic, no server: false aborts over 1 000 A/A rollouts (target <= 1 %),
# detection of a +2 pp error regression (1 % -> 3 %) at 5 % canary traffic
# within 20 000 requests (target >= 95 %) with the median requests to
# detection, and beside them in the same run a naive fixed-threshold rule
# checked at every look. Also the analytic power and other canary shares.
#   BENCH_RUNS (default 1000), BENCH_SEED (default 26)
. "$(dirname "$0")/lib.sh"
TOOL="$REPO_DIR/build/bench/rollout_judge_sim"
[[ -x "$TOOL" ]] || die "build the bench tools first: cmake --build build --target rollout_judge_sim"
"$TOOL" "${BENCH_RUNS:-1000}" "${BENCH_SEED:-26}"
