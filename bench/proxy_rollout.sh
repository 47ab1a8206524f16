#!/usr/bin/env bash
# The agent's proxy serving a rollout vs straight to the model server, in
# the same run (issue #26 targets):
#   canary split + decision capture, one request at a time (wrk -t1 -c1):
#     added p50 <= 0.3 ms over straight;
#   shadow on vs off (the same proxy code, one version vs a shadow candidate
#     beside it), one request at a time: the primary's p99 grows <= 1 ms;
#   saturation (wrk -t2 -c32), canary split: throughput >= 0.8x straight.
# The proxy is agent/proxy.h run by bench/tools/proxy_rollout_bench with two
# versions of the same trivial model server (no registry needed; the split
# and the decision capture are the agent's own code). The routing key is
# the request id (wrk sends none: the proxy makes one), so both arms serve.
#   BENCH_SECONDS (10)  BENCH_WEIGHT (canary share, basis points; 500 = 5 %)
. "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
TOOL="$REPO_DIR/build/bench/proxy_rollout_bench"
[[ -x $TOOL ]] || die "no $TOOL (cmake --build build --target proxy_rollout_bench)"
cp "$TOOL" "$RUN_DIR/proxy_rollout_bench"
TOOL="$RUN_DIR/proxy_rollout_bench"
SECS=${BENCH_SECONDS:-10}
WEIGHT=${BENCH_WEIGHT:-500}

# The "model": a trivial Python model server, as in proxy_overhead.sh.
cat >"$RUN_DIR/model-server.sh" <<SH
#!/bin/sh
# model-server.sh DIR PORT: a trivial model server (bench/tools/trivial_model_server.py)
exec /usr/bin/python3 "$REPO_DIR/bench/tools/trivial_model_server.py" "\$1" "\$2"
SH
chmod +x "$RUN_DIR/model-server.sh"

PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait; cleanup' EXIT
DPORT=$(free_port)
mkdir -p "$RUN_DIR/direct"
"$RUN_DIR/model-server.sh" "$RUN_DIR/direct/x" "$DPORT" &
PIDS+=($!)
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$DPORT/predict" >/dev/null && break; sleep 0.05; done

# start_proxy NAME MODE: the proxy serving MODE; sets PORT_<NAME> and PID_<NAME>.
start_proxy() {
  local name=$1 mode=$2 port
  port=$(free_port)
  mkdir -p "$RUN_DIR/$name"
  "$TOOL" --exec "$RUN_DIR/model-server.sh {dir} {port}" --listen "127.0.0.1:$port" --root "$RUN_DIR/$name" \
    --mode "$mode" --weight "$WEIGHT" >"$RUN_DIR/$name.out" 2>"$RUN_DIR/$name.err" &
  PIDS+=($!)
  printf -v "PID_$name" '%s' "$!"
  for _ in $(seq 400); do grep -q ready "$RUN_DIR/$name.out" 2>/dev/null && break; sleep 0.05; done
  grep -q ready "$RUN_DIR/$name.out" || die "proxy ($mode) did not come up: $(tail -3 "$RUN_DIR/$name.err")"
  printf -v "PORT_$name" '%s' "$port"
}
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
start_proxy off none
start_proxy canary canary
start_proxy shadow shadow

parse() {
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       /Requests\/sec/ { rps = $2 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
       END { printf "%.0f %.3f %.3f\n", rps, ms(p50), ms(p99) }'
}
run_wrk() { wrk "$1" "$2" -d"${SECS}s" --latency "http://127.0.0.1:$3/predict" | parse; }
read -r d_rps d_p50 d_p99 < <(run_wrk -t2 -c32 "$DPORT")
read -r c_rps c_p50 c_p99 < <(run_wrk -t2 -c32 "$PORT_canary")
read -r o_rps o_p50 o_p99 < <(run_wrk -t2 -c32 "$PORT_off")
read -r d1_rps d1_p50 d1_p99 < <(run_wrk -t1 -c1 "$DPORT")
read -r c1_rps c1_p50 c1_p99 < <(run_wrk -t1 -c1 "$PORT_canary")
read -r o1_rps o1_p50 o1_p99 < <(run_wrk -t1 -c1 "$PORT_off")
read -r s1_rps s1_p50 s1_p99 < <(run_wrk -t1 -c1 "$PORT_shadow")
# The proxies' per-arm counts (each prints its report when it stops).
kill -TERM "$PID_canary" "$PID_shadow"
wait "$PID_canary" "$PID_shadow" 2>/dev/null || true
canary_report=$(tail -1 "$RUN_DIR/canary.out")
shadow_report=$(tail -1 "$RUN_DIR/shadow.out")

added1=$(awk -v a="$c1_p50" -v b="$d1_p50" 'BEGIN { printf "%.3f", a - b }')
shadow_added=$(awk -v a="$s1_p99" -v b="$o1_p99" 'BEGIN { printf "%.3f", a - b }')
echo "saturation (wrk -t2 -c32):"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %6s ms\n' "straight to the model server" "$d_rps" "$d_p50" "$d_p99"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %6s ms  = %s of straight\n' \
  "agent proxy, canary $WEIGHT bp (+ decision capture)" "$c_rps" "$c_p50" "$c_p99" "$(ratio "$c_rps" "$d_rps")"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %6s ms  = %s of straight (canary = %s of it)\n' \
  "agent proxy, one version (+ decision capture)" "$o_rps" "$o_p50" "$o_p99" "$(ratio "$o_rps" "$d_rps")" \
  "$(ratio "$c_rps" "$o_rps")"
echo "one request at a time (wrk -t1 -c1):"
echo "   (load average before: $LOAD0)"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %6s ms\n' "straight to the model server" "$d1_rps" "$d1_p50" "$d1_p99"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %6s ms  added p50 +%s ms\n' \
  "agent proxy, canary $WEIGHT bp (+ decision capture)" "$c1_rps" "$c1_p50" "$c1_p99" "$added1"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %6s ms\n' "agent proxy, one version (shadow off)" "$o1_rps" "$o1_p50" "$o1_p99"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %6s ms  primary p99 +%s ms\n' \
  "agent proxy, shadow candidate on" "$s1_rps" "$s1_p50" "$s1_p99" "$shadow_added"
echo "canary counts: $(jq -c '{b: .arms.baseline.requests, c: .arms.candidate.requests, errors: (.arms.baseline.errors + .arms.candidate.errors)}' <<<"$canary_report" 2>/dev/null || echo "$canary_report")"
echo "shadow counts: $(jq -c '.shadow' <<<"$shadow_report" 2>/dev/null || echo "$shadow_report")"
printf 'targets: canary throughput >= 0.8 of straight: %s (%s); added p50 <= 0.3 ms: %s; shadow adds <= 1 ms to p99: %s\n' \
  "$(ok_ge "$(ratio "$c_rps" "$d_rps")" 0.8)" "$(ratio "$c_rps" "$d_rps")" "$(ok_le "$added1" 0.3)" "$(ok_le "$shadow_added" 1)"
