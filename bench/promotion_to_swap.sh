#!/usr/bin/env bash
# Promotion-to-swap latency with long-poll: from the start of `modelreg
# promote` (or `rollback`) to the agent's swap hook, over 50 release changes.
# Targets: p50 <= 0.5 s, p99 <= 2 s. Baseline in the same run: the promote
# command alone (process start + HTTP + transaction).
. "$(dirname "$0")/lib.sh"
snapshot_binary
AGENT_BIN="$REPO_DIR/build/agent/modelreg-agent"
[[ -x "$AGENT_BIN" ]] || die "build modelreg-agent first"
N=${BENCH_PROMOTIONS:-50}
start_server "$RUN_DIR/data"
for v in 1 2; do
  mkdir -p "$RUN_DIR/b$v"; echo "weights $v" >"$RUN_DIR/b$v/m.bin"
  "$BIN" register churn "$RUN_DIR/b$v" >/dev/null 2>&1
done
"$BIN" policy set churn --approvals 0 >/dev/null
"$BIN" promote churn 1 --to staging >/dev/null; "$BIN" promote churn 1 --to production >/dev/null
"$BIN" promote churn 2 --to staging >/dev/null
"$BIN" key export >"$RUN_DIR/key.pem"
AGENT_TOKEN=$("$BIN" token create --role agent --name bench-agent)
SWAPS="$RUN_DIR/swaps"; : >"$SWAPS"
"$AGENT_BIN" --registry "$MODELREG_URL" --token "$AGENT_TOKEN" --model churn --root "$RUN_DIR/root" \
  --trust-key "$RUN_DIR/key.pem" --interval 30 --on-swap "date +%s.%N >> $SWAPS" 2>"$RUN_DIR/agent.log" &
AGENT_PID=$!
trap 'kill $AGENT_PID 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do [[ -s "$SWAPS" ]] && break; sleep 0.05; done
lat=(); cmd=()
for i in $(seq "$N"); do
  before=$(wc -l <"$SWAPS")
  t0=$(now)
  if ((i % 2)); then "$BIN" promote churn 2 --to production >/dev/null
  else "$BIN" rollback churn --reason bench >/dev/null; "$BIN" promote churn 2 --to staging >/dev/null; fi
  t1=$(now)
  for _ in $(seq 400); do (($(wc -l <"$SWAPS") > before)) && break; sleep 0.005; done
  (($(wc -l <"$SWAPS") > before)) || die "no swap after release change $i"
  lat+=("$(elapsed "$t0" "$(tail -1 "$SWAPS")")")
  cmd+=("$(elapsed "$t0" "$t1")")
done
pct() { printf '%s\n' "${@:2}" | sort -g | awk -v p="$1" '{ v[NR] = $1 } END { i = int(p * NR + 0.999); if (i < 1) i = 1; print v[i] }'; }
printf '%-42s p50 %6ss  p99 %6ss\n' "baseline: the promote/rollback command" "$(pct 0.5 "${cmd[@]}")" "$(pct 0.99 "${cmd[@]}")"
p50=$(pct 0.5 "${lat[@]}"); p99=$(pct 0.99 "${lat[@]}")
printf '%-42s p50 %6ss  p99 %6ss  (%d release changes)\n' "release change -> agent swapped" "$p50" "$p99" "$N"
printf 'targets: p50 <= 0.5 s: %s; p99 <= 2 s: %s\n' "$(ok_le "$p50" 0.5)" "$(ok_le "$p99" 2)"
summary "release change -> agent swapped, p50 s" "$p50" "the command p50 $(pct 0.5 "${cmd[@]}")" "-" "<= 0.5" "$(ok_le "$p50" 0.5)"
summary "release change -> agent swapped, p99 s" "$p99" "the command p99 $(pct 0.99 "${cmd[@]}")" "-" "<= 2" "$(ok_le "$p99" 2)"
