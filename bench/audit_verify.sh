#!/usr/bin/env bash
# audit verify over 1 000 000 events (target ≤ 3 s), beside a full-scan
# baseline of the same table with the sqlite3 tool, in the same run.
#   BENCH_AUDIT_EVENTS (default 1000000)
. "$(dirname "$0")/lib.sh"
snapshot_binary
N=${BENCH_AUDIT_EVENTS:-1000000}
FILL="$REPO_DIR/build/bench/audit_fill"
[[ -x "$FILL" ]] || die "build the bench tools first: cmake --build build --target audit_fill"
DATA="$RUN_DIR/data"
mkdir -p "$DATA"
log "filling $N audit events through the real store..."
t_fill=$(time_cmd "$FILL" "$DATA" "$N")
log "filled in ${t_fill}s"

# Warm the page cache the same way for both.
cat "$DATA/registry.db" >/dev/null
t_base=()
t_verify=()
for _ in $(seq "$REPS"); do
  t_base+=("$(time_cmd sqlite3 "$DATA/registry.db" "SELECT COUNT(*), SUM(LENGTH(actor) + LENGTH(details) + LENGTH(hash) + LENGTH(prev_hash)) FROM audit_events")")
  t_verify+=("$(time_cmd "$BIN" audit verify --data "$DATA")")
  grep -q "audit log verified: $N events" "$RUN_DIR/last.out" || die "verify did not check $N events: $(cat "$RUN_DIR/last.out")"
done
b=$(median "${t_base[@]}")
v=$(median "${t_verify[@]}")
printf '%-44s %8ss\n' "baseline: sqlite3 full scan of audit_events" "$b"
printf '%-44s %8ss  = %sx the baseline; target <= 3 s: %s\n' "modelreg audit verify ($N events)" "$v" "$(ratio "$v" "$b")" "$(ok_le "$v" 3)"
summary "audit verify $N events, s" "$v" "sqlite3 full scan $b" "$(ratio "$v" "$b")x the time" "<= 3" "$(ok_le "$v" 3)"
