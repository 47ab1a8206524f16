#!/usr/bin/env bash
# Fleet long polls across replicas (issue #23, Performance "Fleet"):
# BENCH_AGENTS (10 000) simulated agents (bench/tools/fleet_longpoll, one
# connection each, the agent's poll and pause rules) long-poll one model
# across BENCH_REPLICAS (3) `modelreg serve` replicas on one PostgreSQL
# database (bench/lib_replicas.sh: one release key, one shared blob
# directory); `modelreg promote` is sent to the first replica only, so the
# agents on the others learn of it through PostgreSQL's NOTIFY. Measured:
# from the start of the promote command to 50 %, 99 % and 100 % of the
# agents holding the new release (target: 99 % within 2 s); each replica's
# RSS, threads and descriptors (its agents' connections, plus any new
# PostgreSQL connections) while every agent waits, and its peak RSS after the
# promotion. Before the measured phases, BENCH_WARMUP_AGENTS (300; 0 = none)
# agents and one promotion of another model warm the replicas up.
#
# How the agents reach the replicas: through haproxy (examples/ha/haproxy.cfg,
# ports substituted, loopback) when haproxy can hold them all; haproxy needs
# two descriptors per proxied connection and derives its maxconn from the
# open-file limit, so when that is too low for BENCH_AGENTS (a hard limit of
# 20 000 gives 9 984) the agents are spread over the replica URLs directly
# (agent i on replica i mod N), and a second replicated phase runs
# BENCH_HAPROXY_AGENTS (what haproxy can hold, rounded down to a thousand;
# 0 = skip it) agents through haproxy. BENCH_FLEET_VIA=haproxy|direct forces
# the first choice. The output says which path each phase took.
#
# Baseline in the same run: the same fleet on one `modelreg serve` on SQLite
# (bench/fleet_longpoll.sh's parked long polls), reached directly; ratios of
# the replicated phase to it are printed. "late 304s": polls answered 304
# after the promote command started (an agent so answered early pauses and
# learns of the release only at a later poll). BENCH_INTERVAL: the agents'
# --interval, their long-poll wait (10). BENCH_SMALL=1: 300 agents, 5 s
# polls (a smoke run). One promotion per phase; every process started is
# stopped on exit. The open-file hard limit must exceed the agent count.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_replicas.sh"
snapshot_binary
CLIENT="$REPO_DIR/build/bench/fleet_longpoll"
[[ -x "$CLIENT" ]] || die "build bench/fleet_longpoll first (cmake --build build --target fleet_longpoll)"
command -v curl >/dev/null || die "curl is needed"
if [[ ${BENCH_SMALL:-0} == 1 ]]; then N=${BENCH_AGENTS:-300}; WAIT=${BENCH_INTERVAL:-5}
else N=${BENCH_AGENTS:-10000}; WAIT=${BENCH_INTERVAL:-10}; fi
# shellcheck disable=SC2034  # lib.sh's header prints it
REPS=1  # one promotion per phase
NREP=${BENCH_REPLICAS:-3}
[[ $NREP -ge 1 && $NREP -le 3 ]] || die "BENCH_REPLICAS must be 1..3 (examples/ha/haproxy.cfg names 3 replicas)"
VIA=${BENCH_FLEET_VIA:-auto}
case $VIA in auto | haproxy | direct) ;; *) die "BENCH_FLEET_VIA must be auto, haproxy or direct" ;; esac
HARD=$(ulimit -Hn)
[[ $HARD == unlimited ]] && HARD=1048576
ulimit -Sn "$HARD"
((HARD > N + 64)) || die "open-file hard limit $HARD: $N agents need more (ulimit -Hn)"

# The load client too is stopped on exit (it would stop by itself, later).
CLIENT_PID=""
trap '[[ -n $CLIENT_PID ]] && kill "$CLIENT_PID" 2>/dev/null; replicas_cleanup' EXIT

port_of() { local u="${1##*:}"; echo "${u%%/*}"; }

# fleet_phase LABEL MODEL SETUP_URL PORTS AGENTS PIDS...: registers MODEL v1
# and v2 through SETUP_URL (v1 in production, v2 in staging), starts AGENTS
# agents on PORTS (comma-separated), samples the PIDS' memory once every
# agent waits, promotes v2 through SETUP_URL and waits for the client. Sets
# P_RESULT (the client's RESULT fields as "p50 p99 p100 got errors late304") and
# P_MEM (one "pid rss_kib threads fds hwm_kib" line per PID) and
# P_SESSIONS (PostgreSQL sessions the replicas opened during the phase,
# before and after the promote command started).
fleet_phase() {
  local label="$1" model="$2" url="$3" ports="$4" n="$5" v i seq token
  shift 5
  local pids=("$@")
  export MODELREG_URL="$url"
  for v in 1 2; do
    mkdir -p "$RUN_DIR/b$v"
    echo "weights $v" >"$RUN_DIR/b$v/m.bin"
    "$BIN" register "$model" "$RUN_DIR/b$v" >/dev/null 2>&1 || die "$label: register through $url failed"
  done
  "$BIN" policy set "$model" --approvals 0 >/dev/null
  "$BIN" promote "$model" 1 --to staging >/dev/null
  "$BIN" promote "$model" 1 --to production >/dev/null
  "$BIN" promote "$model" 2 --to staging >/dev/null
  token=$("$BIN" token create --role agent --name "fleet-$label")
  seq=$(curl -sf -D - -o /dev/null -H "Authorization: Bearer $token" \
    "$url/api/v1/models/$model/release" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-release-seq" { print $2 }')
  [[ -n "$seq" ]] || die "$label: no release seq from $url"
  local -A fds0
  for p in "${pids[@]}"; do fds0[$p]=$(open_fds "$p"); done
  local s0=0
  [[ -n ${PG_DB_URL:-} ]] && s0=$(pg_sessions)
  local out="$RUN_DIR/client-$label.out" t0f="$RUN_DIR/t0-$label"
  "$CLIENT" "$ports" "$token" "$model" "$seq" "$n" "$WAIT" "$t0f" $((3 * WAIT + 30)) >"$out" 2>"$out.err" &
  local client=$!
  CLIENT_PID=$client
  for i in $(seq 1 1200); do
    grep -q READY "$out" && break
    kill -0 "$client" 2>/dev/null || { cat "$out.err" >&2; die "$label: load client exited before READY"; }
    sleep 0.1
  done
  grep -q READY "$out" || die "$label: load client not ready after 120 s"
  P_MEM=""
  local -A rss thr fds
  for p in "${pids[@]}"; do
    rss[$p]=$(proc_status "$p" VmRSS)
    thr[$p]=$(proc_status "$p" Threads)
    fds[$p]=$(($(open_fds "$p") - fds0[$p]))
  done
  local s1=0
  [[ -n ${PG_DB_URL:-} ]] && s1=$(pg_sessions)
  now >"$t0f"
  "$BIN" promote "$model" 2 --to production >/dev/null || die "$label: promote failed"
  wait "$client" || { cat "$out.err" >&2; die "$label: load client failed"; }
  CLIENT_PID=""
  for p in "${pids[@]}"; do P_MEM+="$p ${rss[$p]} ${thr[$p]} ${fds[$p]} $(proc_status "$p" VmHWM)"$'\n'; done
  P_SESSIONS=-
  [[ -n ${PG_DB_URL:-} ]] && P_SESSIONS="$((s1 - s0)) before the promotion, $(($(pg_sessions) - s1)) after it"
  P_PORTS=$(grep '^PORT ' "$out" || true)
  local result
  result=$(grep RESULT "$out") || die "$label: no result from the load client"
  local -A r
  for kv in $result; do [[ $kv == *=* ]] && r[${kv%%=*}]=${kv#*=}; done
  P_RESULT="${r[p50]} ${r[p99]} ${r[p100]} ${r[got]} ${r[errors]} ${r[late304]}"
}

pg_sessions() { psql -At "$PG_DB_URL" -c "SELECT sessions FROM pg_stat_database WHERE datname = '${PG_DB_URL##*/}'"; }

# mem_lines NAME...: P_MEM's lines, one per process, named in order.
mem_lines() {
  local names=("$@") k=0 pid rss thr fds hwm
  while read -r pid rss thr fds hwm; do
    [[ -n $pid ]] || continue
    printf '   %-10s RSS %6s MiB while all waited (peak %6s MiB after the promotion), %3s threads, %5s descriptors more\n' \
      "${names[$k]}" "$(kib_to_mib "$rss")" "$(kib_to_mib "$hwm")" "$thr" "$fds"
    k=$((k + 1))
  done <<<"$P_MEM"
}
row() { printf '%-58s got %6s/%-6s p50 %7ss  p99 %7ss  p100 %7ss  errors %s  late 304s %s\n' "$@"; }
num() { [[ $1 == - ]] && echo 999999 || echo "$1"; }

header "fleet long polls across replicas: $N agents, one model, $NREP replicas on PostgreSQL vs one serve on SQLite, --interval $WAIT"
echo "   load: bench/tools/fleet_longpoll (one thread, one connection per agent, the agent's poll/pause rules); open files: hard $HARD, soft raised to it; one promotion per phase (not repeated)"

# Baseline: one serve on SQLite, the agents direct.
start_server "$RUN_DIR/single"
fleet_phase single churn "$MODELREG_URL" "$(port_of "$MODELREG_URL")" "$N" "$SERVER_PID"
read -r b50 b99 b100 bgot berr blate <<<"$P_RESULT"
BMEM="$P_MEM"
stop_server

# The replicated deployment.
start_replicas "$NREP"
export MODELREG_TOKEN="$ADMIN_TOKEN"
start_haproxy
HMAX=$(haproxy_info Maxconn)
direct_ports=""
for u in "${REPLICA_URLS[@]}"; do direct_ports+="${direct_ports:+,}$(port_of "$u")"; done
if [[ $VIA == auto ]]; then
  if ((HMAX >= N + 16)); then VIA=haproxy; else VIA=direct; fi
fi
echo "   replicas: ${REPLICA_URLS[*]} (PostgreSQL $(psql -V | awk '{ print $3 }'), durable, one database); promote sent to replica 1 only"
echo "   haproxy $(haproxy -v | awk 'NR == 1 { print $3 }') at $HAPROXY_URL: examples/ha/haproxy.cfg (ports substituted, + a stats socket), maxconn $HMAX (derived from the open-file limit $HARD, 2 descriptors per proxied connection)"
if [[ $VIA == haproxy ]]; then
  path="through haproxy"
  ports="$(port_of "$HAPROXY_URL")"
else
  path="direct to the $NREP replica URLs (agent i on replica i mod $NREP)"
  ports="$direct_ports"
  if ((HMAX < N + 16)); then
    echo "   haproxy cannot hold $N agents (maxconn $HMAX from the open-file hard limit $HARD; raising it needs CAP_SYS_RESOURCE or LimitNOFILE): the $N agents go $path"
  fi
fi
rep_names=()
for i in "${!REPLICA_PIDS[@]}"; do rep_names+=("replica$((i + 1))"); done
main_pids=("${REPLICA_PIDS[@]}")
main_names=("${rep_names[@]}")
if [[ $VIA == haproxy ]]; then main_pids+=("$HAPROXY_PID"); main_names+=(haproxy); fi
# Warm-up, not measured: a small fleet and one promotion of another model on
# every replica, so that the measured phases find the replicas as a running
# deployment has them (PostgreSQL connections pooled) rather than fresh.
W=${BENCH_WARMUP_AGENTS:-300}
if ((W > 0)); then
  fleet_phase warmup warmup "${REPLICA_URLS[0]}" "$direct_ports" "$W" "${REPLICA_PIDS[@]}"
  echo "   warm-up (not measured): $W agents on the replica URLs, one promotion of another model; PostgreSQL sessions opened: $P_SESSIONS"
fi
fleet_phase replicas churn "${REPLICA_URLS[0]}" "$ports" "$N" "${main_pids[@]}"
read -r r50 r99 r100 rgot rerr rlate <<<"$P_RESULT"
RMEM="$P_MEM"
RSESS=$P_SESSIONS
RPORTS=$P_PORTS

# A second replicated phase through haproxy, with the fleet haproxy can hold.
H=0
if [[ $VIA == direct ]]; then
  H=${BENCH_HAPROXY_AGENTS:-$(((HMAX - 100) / 1000 * 1000))}
  ((H > N)) && H=$N
  ((H < 0)) && H=0
fi
if ((H > 0)); then
  fleet_phase haproxy churn2 "${REPLICA_URLS[0]}" "$(port_of "$HAPROXY_URL")" "$H" "${REPLICA_PIDS[@]}" "$HAPROXY_PID"
  read -r h50 h99 h100 hgot herr hlate <<<"$P_RESULT"
  HMEM="$P_MEM"
  HSESS=$P_SESSIONS
fi

echo
row "baseline: one serve, SQLite, direct" "$bgot" "$N" "$b50" "$b99" "$b100" "$berr" "$blate"
P_MEM="$BMEM"; mem_lines serve
row "$NREP replicas, PostgreSQL, $VIA" "$rgot" "$N" "$r50" "$r99" "$r100" "$rerr" "$rlate"
P_MEM="$RMEM"; mem_lines "${main_names[@]}"
echo "   path: $path; PostgreSQL sessions opened during the phase: $RSESS"
if [[ -n $RPORTS ]]; then
  while read -r _ port agents got p50 p99 p100; do
    for i in "${!REPLICA_URLS[@]}"; do
      [[ $(port_of "${REPLICA_URLS[$i]}") == "$port" ]] &&
        printf '   agents on replica%d: got %s/%s  p50 %ss  p99 %ss  p100 %ss\n' $((i + 1)) "${got#got=}" \
          "${agents#agents=}" "${p50#p50=}" "${p99#p99=}" "${p100#p100=}"
    done
  done <<<"$RPORTS"
fi
if ((H > 0)); then
  row "$NREP replicas, PostgreSQL, through haproxy ($H agents)" "$hgot" "$H" "$h50" "$h99" "$h100" "$herr" "$hlate"
  P_MEM="$HMEM"; mem_lines "${rep_names[@]}" haproxy
  echo "   PostgreSQL sessions opened during the phase: $HSESS"
fi
printf 'ratio %s replicas (%s) / one serve on SQLite: p50 %sx, p99 %sx, p100 %sx (time to the new release; < 1 is faster)\n' \
  "$NREP" "$VIA" "$(ratio "$(num "$r50")" "$(num "$b50")")" "$(ratio "$(num "$r99")" "$(num "$b99")")" \
  "$(ratio "$(num "$r100")" "$(num "$b100")")"
if ((H > 0)); then
  printf 'ratio %s replicas through haproxy (%s agents) / one serve on SQLite (%s agents): p50 %sx, p99 %sx, p100 %sx\n' \
    "$NREP" "$H" "$N" "$(ratio "$(num "$h50")" "$(num "$b50")")" "$(ratio "$(num "$h99")" "$(num "$b99")")" \
    "$(ratio "$(num "$h100")" "$(num "$b100")")"
fi
printf 'target: 99 %% of %s agents across %s replicas within 2 s: %s' "$N" "$NREP" "$(ok_le "$(num "$r99")" 2)"
((H > 0)) && printf '; through haproxy (%s agents): %s' "$H" "$(ok_le "$(num "$h99")" 2)"
echo
