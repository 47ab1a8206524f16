#!/usr/bin/env bash
# The rollout judge (registry/core/rollout_judge.h) on seeded simulated
# traffic, no server. On the same simulated rollouts: the judge with its
# planned horizon (20 000 requests, the default of `rollout start`), the
# always-valid-only judge (--horizon 0) and a naive fixed-threshold rule.
# False aborts over 1 000 A/A rollouts (target <= 1 %; also polled every
# 100 and 5 000 requests and at 20 % / 50 % canary), detection of a +2 pp
# error regression (1 % -> 3 %) at 5 % canary within 20 000 requests
# (target >= 95 %), requests to detection, and other canary shares.
#   BENCH_RUNS (default 1000), BENCH_SEED (default 26)
. "$(dirname "$0")/lib.sh"
TOOL="$REPO_DIR/build/bench/rollout_judge_sim"
[[ -x "$TOOL" ]] || die "build the bench tools first: cmake --build build --target rollout_judge_sim"
out=$("$TOOL" "${BENCH_RUNS:-1000}" "${BENCH_SEED:-26}") || die "rollout_judge_sim failed"
grep -v '^figure ' <<<"$out"

# figure NAME PLANNED [ALWAYS_VALID NAIVE]
fig() { awk -v n="$1" -v i="$2" '$1 == "figure" && $2 == n { print $(i + 2) }' <<<"$out"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = op == "<=" ? v <= t : v >= t; print ok ? "ok" : "MISS" }'; }

aa=$(fig aa_false_aborts 1) aa_old=$(fig aa_false_aborts 2)
aa_worst=$(fig aa_false_aborts_worst_polling 1)
det=$(fig detect_2pp_5pct_20k 1) det_old=$(fig detect_2pp_5pct_20k 2) det_naive=$(fig detect_2pp_5pct_20k 3)
summary "judge A/A false aborts (5% canary, ${BENCH_RUNS:-1000} runs)" "$aa" "$aa_old (always-valid)" "-" "<= 0.010" \
  "$(verdict "$aa" "<=" 0.010)"
summary "judge A/A false aborts, worst polling/share" "$aa_worst" "-" "-" "<= 0.010" \
  "$(verdict "$aa_worst" "<=" 0.010)"
summary "judge +2pp at 5% detected within 20000" "$det" "$det_old (always-valid)" "$(ratio "$det" "$det_old")" \
  ">= 0.95" "$(verdict "$det" ">=" 0.95)"
summary "naive rule +2pp detected within 20000 (A/A $(fig aa_false_aborts 3))" "$det_naive" "-" "-" "-" "-"
