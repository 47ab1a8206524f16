#!/usr/bin/env bash
# Drift alarms (registry/core/drift_stats.h) on A/A windows, no server:
# BENCH_WINDOWS (default 1000) windows per configuration drawn without drift
# (replayed from the reference's own fractions, and as a fresh sample of the
# reference's population), the measured false-alarm rate per feature-window
# (target <= 1 %) beside the naive fixed rule "PSI > 0.1" on the same windows.
#   BENCH_WINDOWS (default 1000), BENCH_SEED (default 27), BENCH_ALPHA (0.001)
. "$(dirname "$0")/lib.sh"
TOOL="$REPO_DIR/build/bench/drift_false_alarms"
[[ -x "$TOOL" ]] || die "build the bench tools first: cmake --build build --target drift_false_alarms"
"$TOOL" --windows "${BENCH_WINDOWS:-1000}" --seed "${BENCH_SEED:-27}" --alpha "${BENCH_ALPHA:-0.001}" | tee "$RUN_DIR/out"
# "all configurations: N windows, false alarms X%, naive PSI > 0.1 Y%"
read -r fa naive < <(awk '/^all configurations:/ { for (i = 1; i <= NF; i++) if ($i ~ /%,?$/) { gsub(/[%,]/, "", $i); v = v " " $i } print v }' "$RUN_DIR/out")
summary "drift false alarms on undrifted windows, %" "$fa" "fixed rule PSI > 0.1: $naive" "-" "<= 1" "$(ok_le "$fa" 1)"
