#!/usr/bin/env bash
# Proxy overhead through modelreg-agent's proxy mode vs straight to the same
# trivial model server, in the same run. Targets: throughput >= 80% of direct
# and added p50 <= 0.3 ms. Each proxied request is also recorded as a
# decision (spooled, shipped to the registry running beside it).
#   throughput: wrk -t2 -c32 (saturation). p50 there is mostly queueing
#     (32 connections / throughput, Little's law), so it is shown but the
#     latency target is read from
#   latency: wrk -t1 -c1 (one request at a time), where p50 is what a request
#     pays for the extra hop.
#   BENCH_SECONDS (default 10)
. "$(dirname "$0")/lib.sh"
snapshot_binary
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
[[ ${BENCH_MODEL:-python} != nginx ]] || command -v nginx >/dev/null || die "nginx is not installed (apt-get install nginx-light)"
AGENT_BIN="$REPO_DIR/build/agent/modelreg-agent"
SECS=${BENCH_SECONDS:-10}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The "model", run by the same launcher for the agent (per version, on the
# agent's port) and directly for the baseline:
#   BENCH_MODEL=python (default): a trivial Python model server (stdlib
#     ThreadingHTTPServer answering a fixed prediction), like the example
#     model servers users run;
#   BENCH_MODEL=nginx: nginx answering a fixed body — the harshest case,
#     where the proxy's own HTTP work is compared with nginx's.
MODEL_KIND=${BENCH_MODEL:-python}
if [[ $MODEL_KIND == python ]]; then
cat >"$RUN_DIR/model-server.sh" <<SH
#!/bin/sh
# model-server.sh DIR PORT: a trivial model server (bench/tools/trivial_model_server.py)
exec /usr/bin/python3 "$REPO_DIR/bench/tools/trivial_model_server.py" "\$1" "\$2"
SH
else
cat >"$RUN_DIR/model-server.sh" <<'SH'
#!/bin/sh
# model-server.sh DIR PORT
mkdir -p "$1.nginx/logs" 2>/dev/null || { d=$(mktemp -d); set -- "$1" "$2" "$d"; }
p=${3:-$1.nginx}
cat >"$p/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $p/nginx.pid; error_log $p/logs/error.log;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$2;
    location /healthz { return 200 "ok"; }
    location / { default_type application/json; return 200 '{"probabilities":[0.91]}'; } } }
CONF
exec nginx -p "$p" -c "$p/nginx.conf"
SH
fi
chmod +x "$RUN_DIR/model-server.sh"

start_server "$RUN_DIR/data"
mkdir -p "$RUN_DIR/b"; echo "weights" >"$RUN_DIR/b/m.bin"
"$BIN" register churn "$RUN_DIR/b" >/dev/null 2>&1
"$BIN" policy set churn --approvals 0 >/dev/null
"$BIN" promote churn 1 --to staging >/dev/null; "$BIN" promote churn 1 --to production >/dev/null
"$BIN" key export >"$RUN_DIR/key.pem"
AGENT_TOKEN=$("$BIN" token create --role agent --name bench-agent)
PPORT=$(free_port)
"$AGENT_BIN" --registry "$MODELREG_URL" --token "$AGENT_TOKEN" --model churn --root "$RUN_DIR/root" \
  --trust-key "$RUN_DIR/key.pem" --interval 30 --exec "$RUN_DIR/model-server.sh {dir} {port}" \
  --listen "127.0.0.1:$PPORT" ${BENCH_AGENT_FLAGS:-} 2>"$RUN_DIR/agent.log" &
AGENT_PID=$!
DPORT=$(free_port)
mkdir -p "$RUN_DIR/direct"
"$RUN_DIR/model-server.sh" "$RUN_DIR/direct/x" "$DPORT" &
DIRECT_PID=$!
trap 'kill $AGENT_PID $DIRECT_PID 2>/dev/null; cleanup' EXIT
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PPORT/predict" >/dev/null && break; sleep 0.05; done
curl -sf "http://127.0.0.1:$PPORT/predict" >/dev/null || die "proxy did not come up: $(tail -5 "$RUN_DIR/agent.log")"
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$DPORT/predict" >/dev/null && break; sleep 0.05; done

parse() {
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       /Requests\/sec/ { rps = $2 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
       END { printf "%.0f %.3f %.3f\n", rps, ms(p50), ms(p99) }'
}
read -r d_rps d_p50 d_p99 < <(wrk -t2 -c32 -d"${SECS}s" --latency "http://127.0.0.1:$DPORT/predict" | parse)
read -r p_rps p_p50 p_p99 < <(wrk -t2 -c32 -d"${SECS}s" --latency "http://127.0.0.1:$PPORT/predict" | parse)
read -r d1_rps d1_p50 d1_p99 < <(wrk -t1 -c1 -d"${SECS}s" --latency "http://127.0.0.1:$DPORT/predict" | parse)
read -r p1_rps p1_p50 p1_p99 < <(wrk -t1 -c1 -d"${SECS}s" --latency "http://127.0.0.1:$PPORT/predict" | parse)
added=$(awk -v a="$p_p50" -v b="$d_p50" 'BEGIN { printf "%.3f", a - b }')
added1=$(awk -v a="$p1_p50" -v b="$d1_p50" 'BEGIN { printf "%.3f", a - b }')
echo "saturation (wrk -t2 -c32):"
printf '  %-44s %8s req/s  p50 %6s ms  p99 %6s ms\n' "baseline: straight to the model server ($MODEL_KIND)" "$d_rps" "$d_p50" "$d_p99"
printf '  %-44s %8s req/s  p50 %6s ms  p99 %6s ms  = %s of direct, p50 +%s ms (queueing)\n' \
  "through modelreg-agent (+ decision capture)" "$p_rps" "$p_p50" "$p_p99" "$(ratio "$p_rps" "$d_rps")" "$added"
echo "one request at a time (wrk -t1 -c1):"
printf '  %-44s %8s req/s  p50 %6s ms  p99 %6s ms\n' "baseline: straight to the model server ($MODEL_KIND)" "$d1_rps" "$d1_p50" "$d1_p99"
printf '  %-44s %8s req/s  p50 %6s ms  p99 %6s ms  added p50 +%s ms\n' \
  "through modelreg-agent (+ decision capture)" "$p1_rps" "$p1_p50" "$p1_p99" "$added1"
printf 'targets: throughput >= 0.8 of direct: %s; added p50 <= 0.3 ms (one at a time): %s\n' \
  "$(ok_ge "$(ratio "$p_rps" "$d_rps")" 0.8)" "$(ok_le "$added1" 0.3)"
