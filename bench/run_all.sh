#!/usr/bin/env bash
# Runs the modelreg benchmarks in turn: every bench/*.sh but lib*.sh and this
# file (the 10k-file one first: see bench/README.md on deleted inodes), or only those named: bench/run_all.sh register_pull_1g ...
# Each starts and stops its own server on 127.0.0.1 and prints its figures
# beside a baseline measured in the same run. Environment: MODELREG_BIN,
# BENCH_DIR, BENCH_REPS, BENCH_PRETOUCH_MIB, BENCH_PULL_TIMEOUT (see lib.sh and
# each script). Exit status 1 if any benchmark failed.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [[ $# -gt 0 ]]; then
  names=("$@")
else
  names=(register_10k_files register_pull_1g)
  for f in "$here"/*.sh; do
    b=$(basename "$f" .sh)
    case " run_all ${names[*]} " in *" $b "*) ;; *) [[ $b == lib* ]] || names+=("$b") ;; esac
  done
fi
rc=0
BENCH_SUMMARY=$(mktemp /tmp/modelreg-bench-summary.XXXXXX)
export BENCH_SUMMARY
trap 'rm -f "$BENCH_SUMMARY"' EXIT
for b in "${names[@]}"; do
  echo "### $b ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(git -C "$here/.." describe --always --dirty 2>/dev/null || echo '?'))"
  "$here/$b.sh" || { echo "### $b FAILED"; rc=1; }
  echo
done
# The closing table: every figure a benchmark reported with `summary`.
cpu=$(awk -F: '/^model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }' /proc/cpuinfo 2>/dev/null)
echo "### summary: ${cpu:-unknown CPU}, $(nproc) cores, $(date -u +%Y-%m-%d), $(git -C "$here/.." describe --always --dirty 2>/dev/null || echo '?')"
echo "| bench | figure | value | baseline (same run) | ratio | target | verdict |"
echo "|---|---|---|---|---|---|---|"
if [[ -s $BENCH_SUMMARY ]]; then
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$BENCH_SUMMARY"
else
  echo "| (no benchmark reported a figure) | | | | | | |"
fi
misses=$(awk -F'\t' '$7 == "MISS"' "$BENCH_SUMMARY" | wc -l)
echo "$misses target(s) missed"
exit $rc
