#!/usr/bin/env bash
# Fleet long polls (issue #23, Performance "Fleet"): BENCH_AGENTS (10 000)
# simulated agents (bench/tools/fleet_longpoll.cc, one connection each, the
# agent's poll/pause rules) long-poll one model on one `modelreg serve`; then
# `modelreg promote` makes a new production version. Measured: from the start
# of the promote command to 50 %, 99 % and 100 % of the agents having received
# the new release; the server's RSS (VmRSS) and threads while every agent
# waits. Target: 99 % within 2 s.
# Baseline in the same run: the same fleet against today's long-poll limit
# (`--max-long-polls 32`, what `--threads 64` allowed before polls were
# parked: the rest are answered at once and learn of the promotion only at
# their next poll, up to an --interval later), or against the binary
# BENCH_BASELINE_BIN (e.g. a build from before the change) if set.
# BENCH_INTERVAL: the agents' --interval, their long-poll wait (10, the
# agent's default). Loopback only; the load stops by itself.
. "$(dirname "$0")/lib.sh"
snapshot_binary
CLIENT="$REPO_DIR/build/bench/fleet_longpoll"
[[ -x "$CLIENT" ]] || die "build bench/fleet_longpoll first (cmake --build build --target fleet_longpoll)"
command -v curl >/dev/null || die "curl is needed"
N=${BENCH_AGENTS:-10000}
WAIT=${BENCH_INTERVAL:-10}
NEW_BIN="$BIN"

mem() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$SERVER_PID/status"; }

# phase LABEL BINARY [SERVE_FLAGS...]: prints "p50 p99 p100 got rss_kib threads errors".
phase() {
  local label="$1" bin="$2" i seq t0 result
  shift 2
  BIN="$bin"
  start_server "$RUN_DIR/data-$label" "$@"
  for v in 1 2; do
    mkdir -p "$RUN_DIR/b$v"
    echo "weights $v" >"$RUN_DIR/b$v/m.bin"
    "$BIN" register churn "$RUN_DIR/b$v" >/dev/null 2>&1
  done
  "$BIN" policy set churn --approvals 0 >/dev/null
  "$BIN" promote churn 1 --to staging >/dev/null
  "$BIN" promote churn 1 --to production >/dev/null
  "$BIN" promote churn 2 --to staging >/dev/null
  local token
  token=$("$BIN" token create --role agent --name "fleet-$label")
  seq=$(curl -sf -D - -o /dev/null -H "Authorization: Bearer $token" \
    "$MODELREG_URL/api/v1/models/churn/release" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-release-seq" { print $2 }')
  [[ -n "$seq" ]] || die "no release seq from $MODELREG_URL"
  local out="$RUN_DIR/client-$label.out" t0f="$RUN_DIR/t0-$label"
  "$CLIENT" "${MODELREG_URL##*:}" "$token" churn "$seq" "$N" "$WAIT" "$t0f" $((3 * WAIT + 30)) >"$out" 2>"$out.err" &
  local client=$!
  for i in $(seq 1 1200); do
    grep -q READY "$out" && break
    kill -0 "$client" 2>/dev/null || { cat "$out.err" >&2; die "load client exited before READY"; }
    sleep 0.1
  done
  grep -q READY "$out" || die "load client not ready after 120 s"
  local rss threads
  rss=$(mem VmRSS)
  threads=$(mem Threads)
  t0=$(now)
  echo "$t0" >"$t0f"
  "$BIN" promote churn 2 --to production >/dev/null
  wait "$client" || { cat "$out.err" >&2; die "load client failed"; }
  result=$(grep RESULT "$out") || die "no result from the load client"
  stop_server
  # RESULT got=G agents=N p50=S p99=S p100=S errors=E
  local -A r
  for kv in $result; do [[ $kv == *=* ]] && r[${kv%%=*}]=${kv#*=}; done
  echo "${r[p50]} ${r[p99]} ${r[p100]} ${r[got]} $rss $threads ${r[errors]}"
}

header "fleet long polls: $N agents, one model, one replica, --interval $WAIT"
echo "   load: bench/tools/fleet_longpoll (one thread, one connection per agent); ulimit -Hn $(ulimit -Hn); one promotion per phase (not repeated)"
base_bin="${BENCH_BASELINE_BIN:-$NEW_BIN}"
if [[ -n "${BENCH_BASELINE_BIN:-}" ]]; then base_flags=(); base_label="baseline: $BENCH_BASELINE_BIN"
else base_flags=(--max-long-polls 32); base_label="baseline: --max-long-polls 32 (today's cap)"; fi
read -r b50 b99 b100 bgot brss bthr berr < <(phase base "$base_bin" "${base_flags[@]}")
read -r n50 n99 n100 ngot nrss nthr nerr < <(phase new "$NEW_BIN")
row() { printf '%-46s got %6s/%s  p50 %7ss  p99 %7ss  p100 %7ss  RSS %7s MiB  threads %3s  errors %s\n' "$@"; }
row "$base_label" "$bgot" "$N" "$b50" "$b99" "$b100" "$(kib_to_mib "$brss")" "$bthr" "$berr"
row "parked long polls (default --max-long-polls)" "$ngot" "$N" "$n50" "$n99" "$n100" "$(kib_to_mib "$nrss")" "$nthr" "$nerr"
num() { [[ $1 == - ]] && echo 999999 || echo "$1"; }
printf 'baseline/parked: p50 %sx, p99 %sx, p100 %sx faster\n' "$(ratio "$(num "$b50")" "$(num "$n50")")" \
  "$(ratio "$(num "$b99")" "$(num "$n99")")" "$(ratio "$(num "$b100")" "$(num "$n100")")"
printf 'target: 99 %% within 2 s: %s\n' "$(ok_le "$(num "$n99")" 2)"
summary "fleet: promotion -> agents have it, p99 s" "$(num "$n99")" "$base_label: p99 $(num "$b99")" "$(ratio "$(num "$b99")" "$(num "$n99")")x faster" "<= 2" "$(ok_le "$(num "$n99")" 2)"
