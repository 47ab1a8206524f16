#!/usr/bin/env bash
# Release poll on the 304 path (issue #23, Performance: "release poll (304
# path) through haproxy to 3 replicas vs one replica direct"): an agent that
# has the current release polls with If-None-Match, as bench/release_poll.sh
# does, with wrk -t2 -c32 for BENCH_SECONDS each:
#   - through haproxy (examples/ha/haproxy.cfg, ports substituted, loopback)
#     to BENCH_REPLICAS (3) replicas on one PostgreSQL database, one release
#     key, one shared local blob directory (bench/lib_replicas.sh);
#   - one of those replicas directly (the baseline: same database, same
#     binary, no proxy);
#   - and, for reference, one `modelreg serve` on SQLite (today's single node).
# BENCH_REPS rounds (default 3), interleaved so that each round's three runs
# saw the same machine; medians and the median of the per-round ratios are
# printed. Before the rounds each target gets BENCH_WARMUP s (2) of the same
# load, not measured: the first second of load on a fresh replica opens its
# PostgreSQL connections (about 40 here, each a new backend), which put
# requests of 1 s into a cold run's p99; agents poll a warm replica. The
# PostgreSQL sessions opened during the measured rounds are printed.
# BENCH_SMALL=1: 2 s runs, 1 s warm-up, one round (a smoke run). wrk stops by
# itself after each run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_replicas.sh"
snapshot_binary
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
command -v curl >/dev/null || die "curl is needed"
if [[ ${BENCH_SMALL:-0} == 1 ]]; then SECS=${BENCH_SECONDS:-2}; REPS=${BENCH_REPS:-1}; WARM=${BENCH_WARMUP:-1}
else SECS=${BENCH_SECONDS:-10}; WARM=${BENCH_WARMUP:-2}; fi
NREP=${BENCH_REPLICAS:-3}
[[ $NREP -ge 1 && $NREP -le 9 ]] || die "BENCH_REPLICAS must be 1..9 (the config's 808N addresses)"
[[ $NREP -le 3 ]] || die "examples/ha/haproxy.cfg names 3 replicas; BENCH_REPLICAS <= 3"

# setup_model URL: churn v1 in production through URL; prints "AGENT_TOKEN ETAG".
setup_model() {
  local url="$1" token tag
  mkdir -p "$RUN_DIR/b"
  echo "weights" >"$RUN_DIR/b/m.bin"
  MODELREG_URL="$url" "$BIN" register churn "$RUN_DIR/b" >/dev/null 2>&1 || die "register through $url failed"
  MODELREG_URL="$url" "$BIN" policy set churn --approvals 0 >/dev/null
  MODELREG_URL="$url" "$BIN" promote churn 1 --to staging >/dev/null
  MODELREG_URL="$url" "$BIN" promote churn 1 --to production >/dev/null
  token=$(MODELREG_URL="$url" "$BIN" token create --role agent --name bench-agent)
  tag=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $token" "$url/api/v1/models/churn/release" |
    awk 'tolower($1) == "etag:" { print $2 }' | tr -d '\r')
  [[ -n $tag ]] || die "no ETag on the release from $url"
  echo "$token $tag"
}
expect_304() {  # URL TOKEN ETAG
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" -H "If-None-Match: $3" \
    "$1/api/v1/models/churn/release?stage=production")
  [[ $code == 304 ]] || die "expected 304 on the poll path from $1, got $code"
}
parse() {  # wrk output -> "rps p50_ms p99_ms errors"
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       /Requests\/sec/ { rps = $2 }
       $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
       /Non-2xx or 3xx/ { err += $NF } /Socket errors/ { for (i = 4; i <= NF; i += 2) err += $i }
       END { printf "%.0f %.3f %.3f %d\n", rps, ms(p50), ms(p99), err }'
}
poll() {  # URL TOKEN ETAG [SECONDS] -> "rps p50 p99 errors"
  wrk -t2 -c32 -d"${4:-$SECS}s" --latency -H "Authorization: Bearer $2" -H "If-None-Match: $3" \
    "$1/api/v1/models/churn/release?stage=production" | parse
}

# The replicated deployment: PostgreSQL, NREP replicas, haproxy.
start_replicas "$NREP"
start_haproxy
export MODELREG_TOKEN="$ADMIN_TOKEN"
read -r R_TOKEN R_TAG < <(setup_model "$HAPROXY_URL")
expect_304 "$HAPROXY_URL" "$R_TOKEN" "$R_TAG"
for u in "${REPLICA_URLS[@]}"; do expect_304 "$u" "$R_TOKEN" "$R_TAG"; done
DIRECT_URL="${REPLICA_URLS[0]}"

# The single node on SQLite, beside it (its own server, idle while the others run).
start_server "$RUN_DIR/single"
read -r S_TOKEN S_TAG < <(setup_model "$MODELREG_URL")
expect_304 "$MODELREG_URL" "$S_TOKEN" "$S_TAG"
SINGLE_URL="$MODELREG_URL"

header "release poll, 304 path: haproxy + $NREP replicas (PostgreSQL) vs one replica direct"
echo "   load: wrk -t2 -c32 -d${SECS}s, GET /api/v1/models/churn/release?stage=production with If-None-Match (the agent's steady state)"
echo "   haproxy $(haproxy -v | awk 'NR == 1 { print $3 }'), examples/ha/haproxy.cfg (ports substituted, + a stats socket), balance leastconn; PostgreSQL $(psql -V | awk '{ print $3 }') durable, one database"
echo "   replicas: ${REPLICA_URLS[*]}; haproxy: $HAPROXY_URL; single node (SQLite): $SINGLE_URL"
echo "   the $NREP replicas, haproxy, PostgreSQL and wrk share this machine's $(nproc) cores"
echo "   warm-up: ${WARM}s of the same load on each target first, not measured"
if [[ $WARM -gt 0 ]]; then
  poll "$DIRECT_URL" "$R_TOKEN" "$R_TAG" "$WARM" >/dev/null
  poll "$HAPROXY_URL" "$R_TOKEN" "$R_TAG" "$WARM" >/dev/null
  poll "$SINGLE_URL" "$S_TOKEN" "$S_TAG" "$WARM" >/dev/null
fi
pg_sessions() { psql -At "$PG_DB_URL" -c "SELECT sessions FROM pg_stat_database WHERE datname = '${PG_DB_URL##*/}'"; }
sessions0=$(pg_sessions)
declare -a h_rps h_p50 h_p99 d_rps d_p50 d_p99 s_rps s_p50 s_p99 r_hd r_sd
errs=0
for ((k = 0; k < REPS; k++)); do
  read -r a b c e < <(poll "$DIRECT_URL" "$R_TOKEN" "$R_TAG"); d_rps+=("$a"); d_p50+=("$b"); d_p99+=("$c"); errs=$((errs + e))
  read -r a b c e < <(poll "$HAPROXY_URL" "$R_TOKEN" "$R_TAG"); h_rps+=("$a"); h_p50+=("$b"); h_p99+=("$c"); errs=$((errs + e))
  read -r a b c e < <(poll "$SINGLE_URL" "$S_TOKEN" "$S_TAG"); s_rps+=("$a"); s_p50+=("$b"); s_p99+=("$c"); errs=$((errs + e))
  r_hd+=("$(ratio "${h_rps[$k]}" "${d_rps[$k]}")")
  r_sd+=("$(ratio "${d_rps[$k]}" "${s_rps[$k]}")")
  printf '   round %d: direct %s req/s, haproxy %s req/s (%sx), SQLite single node %s req/s\n' $((k + 1)) \
    "${d_rps[$k]}" "${h_rps[$k]}" "${r_hd[$k]}" "${s_rps[$k]}"
done
sessions1=$(pg_sessions)
# Replicas' resident memory after the load.
rss=""
for i in "${!REPLICA_PIDS[@]}"; do rss+=" r$((i + 1)) $(kib_to_mib "$(proc_status "${REPLICA_PIDS[$i]}" VmRSS)")"; done

row() { printf '%-52s %8s req/s  p50 %6s ms  p99 %6s ms%s\n' "$@"; }
row "baseline: one replica direct (PostgreSQL)" "$(median "${d_rps[@]}")" "$(median "${d_p50[@]}")" "$(median "${d_p99[@]}")" ""
row "haproxy -> $NREP replicas (PostgreSQL)" "$(median "${h_rps[@]}")" "$(median "${h_p50[@]}")" "$(median "${h_p99[@]}")" \
  "  = $(median "${r_hd[@]}")x the direct replica"
row "reference: one serve on SQLite, direct" "$(median "${s_rps[@]}")" "$(median "${s_p50[@]}")" "$(median "${s_p99[@]}")" \
  "  (direct PostgreSQL replica = $(median "${r_sd[@]}")x it)"
echo "ratio haproxy+$NREP replicas / one replica direct: $(median "${r_hd[@]}")x requests/s (median of $REPS rounds; ratio of medians $(ratio "$(median "${h_rps[@]}")" "$(median "${d_rps[@]}")")x)"
echo "replica RSS (MiB):$rss; haproxy $(kib_to_mib "$(proc_status "$HAPROXY_PID" VmRSS)") MiB"
echo "PostgreSQL sessions opened during the measured rounds (all replicas): $((sessions1 - sessions0))"
echo "non-304 answers or socket errors over all runs: $errs"
