#!/usr/bin/env bash
# The auditor's queries at the issue's scale: 10 000 000 decisions, 100 000
# versions across 1 000 models, 1 000 agents with state history, generated
# through the real store (first run fills BENCH_AQ_DIR, later runs reuse it).
# Prints p50/p99 of decision lookup (target p99 <= 1 ms), live-at-time
# (<= 5 ms) and lineage by dataset (<= 50 ms) beside a primary-key lookup
# measured in the same run.
#   BENCH_DECISIONS (default 10000000), BENCH_AQ_DIR (default a temp dir)
. "$(dirname "$0")/lib.sh"
TOOL="$REPO_DIR/build/bench/audit_queries_bench"
[[ -x "$TOOL" ]] || die "build the bench tools first: cmake --build build --target audit_queries_bench"
DIR=${BENCH_AQ_DIR:-$RUN_DIR/aq}
"$TOOL" "$DIR" "${BENCH_DECISIONS:-10000000}" 1000 100 1000 100 2000
