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
#   BENCH_SECONDS (5) per wrk run, BENCH_REPS (3) interleaved rounds,
#   BENCH_WEIGHT (canary share, basis points; 500 = 5 %), BENCH_PROXY_FLAGS (e.g.
#   "--model-connections 32", passed to the proxies)
. "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
TOOL="$REPO_DIR/build/bench/proxy_rollout_bench"
[[ -x $TOOL ]] || die "no $TOOL (cmake --build build --target proxy_rollout_bench)"
cp "$TOOL" "$RUN_DIR/proxy_rollout_bench"
TOOL="$RUN_DIR/proxy_rollout_bench"
SECS=${BENCH_SECONDS:-5}
WEIGHT=${BENCH_WEIGHT:-500}

# The "model": a trivial Python model server, as in proxy_overhead.sh.
cat >"$RUN_DIR/model-server.sh" <<SH
#!/bin/sh
# model-server.sh DIR PORT: a trivial model server (bench/tools/trivial_model_server.py)
exec /usr/bin/python3 "$REPO_DIR/bench/tools/trivial_model_server.py" "\$1" "\$2"
SH
chmod +x "$RUN_DIR/model-server.sh"

PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null || true; cleanup' EXIT
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
    --mode "$mode" --weight "$WEIGHT" ${BENCH_PROXY_FLAGS:-} >"$RUN_DIR/$name.out" 2>"$RUN_DIR/$name.err" &
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
# BENCH_REPS rounds; in each, every target in turn, the order rotating
# round by round. Figures: medians over the rounds; ratios and differences:
# medians of each round's own.
declare -A RES
SAT=(d:$DPORT c:$PORT_canary o:$PORT_off)
ONE=(d:$DPORT c:$PORT_canary o:$PORT_off s:$PORT_shadow)
for ((rep = 0; rep < REPS; rep++)); do
  for conn in sat one; do
    if [[ $conn == sat ]]; then list=("${SAT[@]}"); spec=(-t2 -c32); else list=("${ONE[@]}"); spec=(-t1 -c1); fi
    n=${#list[@]}
    for ((i = 0; i < n; i++)); do
      t=${list[$(((i + rep) % n))]}
      RES[$conn.${t%%:*}.$rep]=$(run_wrk "${spec[@]}" "${t#*:}")
    done
  done
  log "round $((rep + 1))/$REPS: $(for k in "${!RES[@]}"; do [[ $k == *.$rep ]] && printf '%s=[%s] ' "${k%.*}" "${RES[$k]}"; done)"
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
# fig CONN TARGET FIELD: median over the rounds (FIELD 1 req/s, 2 p50, 3 p99)
fig() { local r v=(); for ((r = 0; r < REPS; r++)); do v+=("$(awk -v f="$3" '{ print $f }' <<<"${RES[$1.$2.$r]}")"); done; median "${v[@]}"; }
# per_round CONN A B FIELD OP: median of the rounds' A op B (OP / or -)
per_round() {
  local r v=()
  for ((r = 0; r < REPS; r++)); do
    v+=("$(awk -v f="$4" -v op="$5" -v a="${RES[$1.$2.$r]}" -v b="${RES[$1.$3.$r]}" \
      'BEGIN { split(a, x, " "); split(b, y, " "); if (op == "/") printf "%.3f", (y[f] > 0 ? x[f] / y[f] : 0); else printf "%+.3f", x[f] - y[f] }')")
  done
  median "${v[@]}"
}
d_rps=$(fig sat d 1); d_p50=$(fig sat d 2); d_p99=$(fig sat d 3)
c_rps=$(fig sat c 1); c_p50=$(fig sat c 2); c_p99=$(fig sat c 3)
o_rps=$(fig sat o 1); o_p50=$(fig sat o 2); o_p99=$(fig sat o 3)
d1_rps=$(fig one d 1); d1_p50=$(fig one d 2); d1_p99=$(fig one d 3)
c1_rps=$(fig one c 1); c1_p50=$(fig one c 2); c1_p99=$(fig one c 3)
o1_rps=$(fig one o 1); o1_p50=$(fig one o 2); o1_p99=$(fig one o 3)
s1_rps=$(fig one s 1); s1_p50=$(fig one s 2); s1_p99=$(fig one s 3)
c_thr=$(per_round sat c d 1 /); o_thr=$(per_round sat o d 1 /); co_thr=$(per_round sat c o 1 /)
c_p99r=$(per_round sat c d 3 /)
added1=$(per_round one c d 2 -); shadow_added=$(per_round one s o 3 -)
# The proxies' per-arm counts (each prints its report when it stops).
kill -TERM "$PID_canary" "$PID_shadow"
wait "$PID_canary" "$PID_shadow" 2>/dev/null || true
canary_report=$(tail -1 "$RUN_DIR/canary.out")
shadow_report=$(tail -1 "$RUN_DIR/shadow.out")

echo "medians of $REPS interleaved rounds of ${SECS} s each; load average before: $LOAD0, after: $LOAD1"
echo "saturation (wrk -t2 -c32):"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %8s ms\n' "straight to the model server" "$d_rps" "$d_p50" "$d_p99"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %8s ms  = %s of straight, p99 %sx\n' \
  "agent proxy, canary $WEIGHT bp (+ decision capture)" "$c_rps" "$c_p50" "$c_p99" "$c_thr" "$c_p99r"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %8s ms  = %s of straight (canary = %s of it)\n' \
  "agent proxy, one version (+ decision capture)" "$o_rps" "$o_p50" "$o_p99" "$o_thr" "$co_thr"
echo "one request at a time (wrk -t1 -c1):"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %8s ms\n' "straight to the model server" "$d1_rps" "$d1_p50" "$d1_p99"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %8s ms  added p50 %s ms\n' \
  "agent proxy, canary $WEIGHT bp (+ decision capture)" "$c1_rps" "$c1_p50" "$c1_p99" "$added1"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %8s ms\n' "agent proxy, one version (shadow off)" "$o1_rps" "$o1_p50" "$o1_p99"
printf '  %-52s %8s req/s  p50 %6s ms  p99 %8s ms  primary p99 %s ms\n' \
  "agent proxy, shadow candidate on" "$s1_rps" "$s1_p50" "$s1_p99" "$shadow_added"
echo "canary counts: $(jq -c '{b: .arms.baseline.requests, c: .arms.candidate.requests, errors: (.arms.baseline.errors + .arms.candidate.errors)}' <<<"$canary_report" 2>/dev/null || echo "$canary_report")"
echo "shadow counts: $(jq -c '.shadow' <<<"$shadow_report" 2>/dev/null || echo "$shadow_report")"
summary "rollout: canary added p50, one at a time" "$added1 ms" "straight p50 $d1_p50 ms" "-" "<= 0.3 ms" "$(ok_le "$added1" 0.3)"
summary "rollout: shadow adds to the primary's p99" "$shadow_added ms" "shadow off p99 $o1_p99 ms" "-" "<= 1 ms" "$(ok_le "$shadow_added" 1)"
summary "rollout: canary throughput at saturation" "$c_rps req/s" "straight $d_rps req/s" "${c_thr}x" ">= 0.8x" "$(ok_ge "$c_thr" 0.8)"
summary "rollout: canary p99 at saturation" "$c_p99 ms" "straight $d_p99 ms" "${c_p99r}x" "<= 1.5x" "$(ok_le "$c_p99r" 1.5)"
