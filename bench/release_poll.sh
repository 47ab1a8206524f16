#!/usr/bin/env bash
# Release poll on the 304 path (an agent's steady state) with wrk -t2 -c32,
# beside nginx serving a small static file, both on 127.0.0.1, in the same run.
# Targets: >= 20 000 requests/s, p99 <= 5 ms.   BENCH_SECONDS (default 10)
. "$(dirname "$0")/lib.sh"
snapshot_binary
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
command -v nginx >/dev/null || die "nginx is not installed (apt-get install nginx-light)"
SECS=${BENCH_SECONDS:-10}
start_server "$RUN_DIR/data"
mkdir -p "$RUN_DIR/b"; echo "weights" >"$RUN_DIR/b/m.bin"
"$BIN" register churn "$RUN_DIR/b" >/dev/null 2>&1
"$BIN" policy set churn --approvals 0 >/dev/null
"$BIN" promote churn 1 --to staging >/dev/null
"$BIN" promote churn 1 --to production >/dev/null
AGENT_TOKEN=$("$BIN" token create --role agent --name bench-agent)
ETAG=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $AGENT_TOKEN" "$MODELREG_URL/api/v1/models/churn/release" |
  awk 'tolower($1) == "etag:" { print $2 }' | tr -d '\r')
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $AGENT_TOKEN" -H "If-None-Match: $ETAG" \
  "$MODELREG_URL/api/v1/models/churn/release")
[[ "$code" == 304 ]] || die "expected 304 on the poll path, got $code"

# nginx serving a small static file, same loopback, same client.
NGX="$RUN_DIR/nginx"; mkdir -p "$NGX/www" "$NGX/logs"
echo '{"seq":2}' >"$NGX/www/release.json"
NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$NGX/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$NPORT; root $NGX/www; }
}
CONF
nginx -p "$NGX" -c "$NGX/nginx.conf" &
NGX_PID=$!
trap 'kill $NGX_PID 2>/dev/null; cleanup' EXIT
sleep 0.5

parse() {  # wrk output -> "rps p50_ms p99_ms"
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       /Requests\/sec/ { rps = $2 }
       $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
       END { printf "%.0f %.3f %.3f\n", rps, ms(p50), ms(p99) }'
}
read -r n_rps n_p50 n_p99 < <(wrk -t2 -c32 -d"${SECS}s" --latency "http://127.0.0.1:$NPORT/release.json" | parse)
read -r m_rps m_p50 m_p99 < <(wrk -t2 -c32 -d"${SECS}s" --latency -H "Authorization: Bearer $AGENT_TOKEN" \
  -H "If-None-Match: $ETAG" "$MODELREG_URL/api/v1/models/churn/release?stage=production" | parse)
printf '%-46s %8s req/s  p50 %6s ms  p99 %6s ms\n' "baseline: nginx, small static file" "$n_rps" "$n_p50" "$n_p99"
printf '%-46s %8s req/s  p50 %6s ms  p99 %6s ms  = %s of nginx\n' "modelreg release poll, 304 (auth + seq check)" \
  "$m_rps" "$m_p50" "$m_p99" "$(ratio "$m_rps" "$n_rps")"
printf 'targets: >= 20000 req/s: %s; p99 <= 5 ms: %s\n' "$(ok_ge "$m_rps" 20000)" "$(ok_le "$m_p99" 5)"
summary "release poll 304, req/s" "$m_rps" "nginx static file $n_rps" "$(ratio "$m_rps" "$n_rps")" ">= 20000" "$(ok_ge "$m_rps" 20000)"
summary "release poll 304, p99 ms" "$m_p99" "nginx $n_p99" "$(ratio "$m_p99" "$n_p99")" "<= 5" "$(ok_le "$m_p99" 5)"
