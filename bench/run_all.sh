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
for b in "${names[@]}"; do
  echo "### $b ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(git -C "$here/.." describe --always --dirty 2>/dev/null || echo '?'))"
  "$here/$b.sh" || { echo "### $b FAILED"; rc=1; }
  echo
done
exit $rc
