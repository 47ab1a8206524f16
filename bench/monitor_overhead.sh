#!/usr/bin/env bash
# What the agent's monitoring (issue #27; docs/agent.md "Monitoring") costs,
# each figure beside a baseline measured in the same run.
#   1. bench/tools/monitor_bench: per request of one row of 30 numeric
#      features (20 bins each), the body parsed into rows, schema check +
#      binning, the add into the window; per request and per feature.
#      Baseline: nlohmann::json::parse of the same body. Target: <= 2 us
#      per feature.
#   2. The proxy, one request at a time (wrk -t1 -c1, POST of that body),
#      through two modelreg-agents serving the same version (whose bundle
#      holds .modelreg/profile.json): monitoring on (default, --validate
#      flag) vs --no-monitoring (the baseline), alternating, the median of
#      BENCH_REPS (3) runs of BENCH_SECONDS (5) each; straight to the model
#      server shown too. Target: added p50 <= +0.1 ms.
# Needs: cmake --build build --target monitor_bench modelreg-agent; wrk.
. "$(dirname "$0")/lib.sh"
snapshot_binary
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
AGENT_BIN="$REPO_DIR/build/agent/modelreg-agent"
TOOL="$REPO_DIR/build/bench/monitor_bench"
[[ -x $TOOL ]] || die "build bench/tools/monitor_bench first (cmake --build build --target monitor_bench)"
SECS=${BENCH_SECONDS:-5}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== 1. per request, in process (bench/tools/monitor_bench)"
"$TOOL" "${BENCH_ITERATIONS:-200000}" | tee "$RUN_DIR/micro.txt"
per_feature_us=$(awk '/^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "per_feature_ns") printf "%.3f", kv[2] / 1000 } }' "$RUN_DIR/micro.txt")

echo "== 2. the proxy, one request at a time: monitoring on vs --no-monitoring"
cat >"$RUN_DIR/model-server.sh" <<SH
#!/bin/sh
exec /usr/bin/python3 "$REPO_DIR/bench/tools/trivial_model_server.py" "\$1" "\$2"
SH
chmod +x "$RUN_DIR/model-server.sh"
start_server "$RUN_DIR/data"
mkdir -p "$RUN_DIR/b/.modelreg"
echo "weights" >"$RUN_DIR/b/m.bin"
"$TOOL" --write-profile "$RUN_DIR/b/.modelreg/profile.json"
"$TOOL" --write-body "$RUN_DIR/body.json"
"$BIN" register churn "$RUN_DIR/b" >/dev/null 2>&1 || die "register failed"
"$BIN" policy set churn --approvals 0 >/dev/null
"$BIN" promote churn 1 --to staging >/dev/null
"$BIN" promote churn 1 --to production >/dev/null
"$BIN" key export >"$RUN_DIR/key.pem"
AGENT_TOKEN=$("$BIN" token create --role agent --name bench-agent)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; cleanup' EXIT
start_agent() {  # NAME PORT FLAGS...
  local name=$1 port=$2
  shift 2
  "$AGENT_BIN" --registry "$MODELREG_URL" --token "$AGENT_TOKEN" --model churn --root "$RUN_DIR/root-$name" \
    --id "bench-$name" --trust-key "$RUN_DIR/key.pem" --interval 30 --no-decisions \
    --exec "$RUN_DIR/model-server.sh {dir} {port}" --listen "127.0.0.1:$port" "$@" 2>"$RUN_DIR/agent-$name.log" &
  PIDS+=($!)
}
ON_PORT=$(free_port)
start_agent on "$ON_PORT"
OFF_PORT=$(free_port)
start_agent off "$OFF_PORT" --no-monitoring
DPORT=$(free_port)
mkdir -p "$RUN_DIR/direct"
"$RUN_DIR/model-server.sh" "$RUN_DIR/direct/x" "$DPORT" 2>"$RUN_DIR/direct.log" &
PIDS+=($!)
for port in "$ON_PORT" "$OFF_PORT" "$DPORT"; do
  for _ in $(seq 400); do curl -sf "http://127.0.0.1:$port/predict" >/dev/null && break; sleep 0.05; done
  curl -sf "http://127.0.0.1:$port/predict" >/dev/null || die "nothing answers on $port: $(tail -3 "$RUN_DIR"/agent-*.log)"
done
# A bad request goes through (flag): the monitored agent reads bodies.
curl -sf -X POST "http://127.0.0.1:$ON_PORT/predict" -d '{"features": [[1, 2]]}' >/dev/null || die "monitored proxy refused a request"

cat >"$RUN_DIR/post.lua" <<LUA
local f = io.open("$RUN_DIR/body.json", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA
parse() {
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       /Requests\/sec/ { rps = $2 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
       END { printf "%.0f %.3f %.3f\n", rps, ms(p50), ms(p99) }'
}
one() { wrk -t1 -c1 -d"${SECS}s" --latency -s "$RUN_DIR/post.lua" "http://127.0.0.1:$1/predict" | parse; }
on_p50=() off_p50=() direct_p50=() on_p99=() off_p99=() direct_p99=() on_rps=() off_rps=()
for rep in $(seq "$REPS"); do
  order=(on off)
  ((rep % 2 == 0)) && order=(off on)
  for side in "${order[@]}"; do
    if [[ $side == on ]]; then
      read -r rps p50 p99 < <(one "$ON_PORT")
      on_p50+=("$p50") on_p99+=("$p99") on_rps+=("$rps")
    else
      read -r rps p50 p99 < <(one "$OFF_PORT")
      off_p50+=("$p50") off_p99+=("$p99") off_rps+=("$rps")
    fi
  done
  read -r rps p50 p99 < <(one "$DPORT")
  direct_p50+=("$p50") direct_p99+=("$p99")
done
m_on=$(median "${on_p50[@]}") m_off=$(median "${off_p50[@]}") m_direct=$(median "${direct_p50[@]}")
added=$(awk -v a="$m_on" -v b="$m_off" 'BEGIN { printf "%.3f", a - b }')
printf '  %-52s p50 %6s ms  p99 %6s ms\n' "straight to the model server (python)" "$m_direct" "$(median "${direct_p99[@]}")"
printf '  %-52s p50 %6s ms  p99 %6s ms  %6s req/s\n' "baseline: modelreg-agent --no-monitoring" "$m_off" \
  "$(median "${off_p99[@]}")" "$(median "${off_rps[@]}")"
printf '  %-52s p50 %6s ms  p99 %6s ms  %6s req/s  = %sx the baseline p50, added +%s ms\n' \
  "modelreg-agent, monitoring on (--validate flag)" "$m_on" "$(median "${on_p99[@]}")" "$(median "${on_rps[@]}")" \
  "$(ratio "$m_on" "$m_off")" "$added"
printf 'targets: <= 2 us per feature (in process): %s us %s; added p50 <= 0.1 ms: %s ms %s\n' \
  "$per_feature_us" "$(ok_le "$per_feature_us" 2)" "$added" "$(ok_le "$added" 0.1)"
summary "monitoring: agent p50 added, ms" "+$added" "--no-monitoring p50 $m_off" "$(ratio "$m_on" "$m_off")" "<= +0.1" "$(ok_le "$added" 0.1)"
summary "monitoring: cost per feature, us" "$per_feature_us" "-" "-" "<= 2" "$(ok_le "$per_feature_us" 2)"
