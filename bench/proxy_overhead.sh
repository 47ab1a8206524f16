#!/usr/bin/env bash
# Proxy overhead through modelreg-agent's proxy mode vs straight to the same
# trivial model server, in the same run (issues #26 and #28 item 3). Each
# proxied request is also recorded as a decision (spooled, shipped to the
# registry running beside it). Targets:
#   one request at a time (wrk -t1 -c1): added p50 <= 0.3 ms, added p99 <= 1 ms;
#   saturation (wrk -t2 -c32): p99 <= 1.5x straight, throughput >= 0.8x
#     straight (p50 there is mostly queueing: 32 connections / throughput).
#   BENCH_SECONDS (default 5) per wrk run; BENCH_REPS (3) interleaved rounds.
. "$(dirname "$0")/lib.sh"
snapshot_binary
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
[[ ${BENCH_MODEL:-python} != nginx ]] || command -v nginx >/dev/null || die "nginx is not installed (apt-get install nginx-light)"
AGENT_BIN="$REPO_DIR/build/agent/modelreg-agent"
SECS=${BENCH_SECONDS:-5}
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
run_wrk() { wrk "$1" "$2" -d"${SECS}s" --latency "http://127.0.0.1:$3/predict" | parse; }
# BENCH_REPS rounds, straight and through the agent in turn (the order
# alternating round by round), so that a machine whose speed drifts moves
# both alike; each figure is the median over the rounds, each ratio the
# median of the rounds' own ratios.
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
declare -a R_D R_P R1_D R1_P RT RP99 RA50 RA99
for ((rep = 0; rep < REPS; rep++)); do
  if ((rep % 2 == 0)); then
    d=$(run_wrk -t2 -c32 "$DPORT"); p=$(run_wrk -t2 -c32 "$PPORT")
    d1=$(run_wrk -t1 -c1 "$DPORT"); p1=$(run_wrk -t1 -c1 "$PPORT")
  else
    p=$(run_wrk -t2 -c32 "$PPORT"); d=$(run_wrk -t2 -c32 "$DPORT")
    p1=$(run_wrk -t1 -c1 "$PPORT"); d1=$(run_wrk -t1 -c1 "$DPORT")
  fi
  R_D+=("$d"); R_P+=("$p"); R1_D+=("$d1"); R1_P+=("$p1")
  read -r a b c <<<"$d"; read -r e f g <<<"$p"; read -r h i j <<<"$d1"; read -r k l m <<<"$p1"
  RT+=("$(awk -v x="$e" -v y="$a" 'BEGIN { printf "%.3f", x / y }')")
  RP99+=("$(awk -v x="$g" -v y="$c" 'BEGIN { printf "%.3f", (y > 0 ? x / y : 0) }')")
  RA50+=("$(awk -v x="$l" -v y="$i" 'BEGIN { printf "%+.3f", x - y }')")
  RA99+=("$(awk -v x="$m" -v y="$j" 'BEGIN { printf "%+.3f", x - y }')")
  log "round $((rep + 1))/$REPS: saturation straight $d, agent $p; one at a time straight $d1, agent $p1 (rps p50 p99)"
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
col() { local n=$1; shift; median $(printf '%s\n' "$@" | awk -v n="$n" '{ print $n }'); }
d_rps=$(col 1 "${R_D[@]}"); d_p50=$(col 2 "${R_D[@]}"); d_p99=$(col 3 "${R_D[@]}")
p_rps=$(col 1 "${R_P[@]}"); p_p50=$(col 2 "${R_P[@]}"); p_p99=$(col 3 "${R_P[@]}")
d1_rps=$(col 1 "${R1_D[@]}"); d1_p50=$(col 2 "${R1_D[@]}"); d1_p99=$(col 3 "${R1_D[@]}")
p1_rps=$(col 1 "${R1_P[@]}"); p1_p50=$(col 2 "${R1_P[@]}"); p1_p99=$(col 3 "${R1_P[@]}")
thr=$(median "${RT[@]}"); p99r=$(median "${RP99[@]}"); added1=$(median "${RA50[@]}"); added99=$(median "${RA99[@]}")
echo "medians of $REPS interleaved rounds of ${SECS} s each; load average before: $LOAD0, after: $LOAD1"
echo "saturation (wrk -t2 -c32):"
printf '  %-44s %8s req/s  p50 %6s ms  p99 %8s ms\n' "baseline: straight to the model server ($MODEL_KIND)" "$d_rps" "$d_p50" "$d_p99"
printf '  %-44s %8s req/s  p50 %6s ms  p99 %8s ms  = %s of straight, p99 %sx straight\n' \
  "through modelreg-agent (+ decision capture)" "$p_rps" "$p_p50" "$p_p99" "$thr" "$p99r"
echo "one request at a time (wrk -t1 -c1):"
printf '  %-44s %8s req/s  p50 %6s ms  p99 %8s ms\n' "baseline: straight to the model server ($MODEL_KIND)" "$d1_rps" "$d1_p50" "$d1_p99"
printf '  %-44s %8s req/s  p50 %6s ms  p99 %8s ms  added p50 %s ms, p99 %s ms\n' \
  "through modelreg-agent (+ decision capture)" "$p1_rps" "$p1_p50" "$p1_p99" "$added1" "$added99"
summary "proxy: added p50, one at a time" "$added1 ms" "straight p50 $d1_p50 ms" "-" "<= 0.3 ms" "$(ok_le "$added1" 0.3)"
summary "proxy: added p99, one at a time" "$added99 ms" "straight p99 $d1_p99 ms" "-" "<= 1 ms" "$(ok_le "$added99" 1)"
summary "proxy: p99 at saturation (wrk -c32)" "$p_p99 ms" "straight $d_p99 ms" "${p99r}x" "<= 1.5x" "$(ok_le "$p99r" 1.5)"
summary "proxy: throughput at saturation (wrk -c32)" "$p_rps req/s" "straight $d_rps req/s" "${thr}x" ">= 0.8x" "$(ok_ge "$thr" 0.8)"
