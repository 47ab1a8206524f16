#!/usr/bin/env bash
# Webhook delivery (issue #25, docs/events.md), on 127.0.0.1, with the
# example receiver examples/webhooks/receiver.py (it verifies each
# signature and appends each event to its log with an fsync before it
# answers: a realistic receiver), each figure beside a baseline of the
# same run:
#  1. latency: a webhook for stage.changed; BENCH_PROMOTES (200) promotions
#     (to production and to staging, alternating between two versions; no
#     approvals needed), one at a time from a persistent HTTP connection in
#     Python. Measured: from the
#     promote's answer arriving to the receiver having the event (the
#     receiver's received_at, time.time() on the same machine), p50/p90/p99.
#     Baselines: the promote request's own round trip, and a signed POST
#     sent straight to the same receiver on a fresh connection (as the
#     server sends each delivery). Target: p50 <= 50 ms.
#  2. backlog: a second webhook for agent.failed/agent.recovered whose
#     receiver is down; BENCH_BACKLOG (10000) events from agents flipping
#     between failed and serving (BENCH_AGENTS agents, one model each: as
#     many per-model queues); its pending count is checked. Then the
#     receiver starts and the time until every delivery id arrived is
#     taken, split into the wait for the first delivery (each queue's head
#     is waiting for its next retry, at most 30 s after a failure:
#     core/events.h kMaxRetryDelayMs) and the drain from the first to the
#     last. Baseline: a fresh receiver taking as many signed POSTs sent
#     straight to it by min(BENCH_AGENTS, 4) threads (the server sends each
#     queue on one of its 4 senders), a fresh connection each. Target: all within 60 s of coming back.
# Environment: BENCH_PROMOTES, BENCH_GAP_MS (0: the next promotion goes as
# soon as the last one's delivery arrived), BENCH_BACKLOG, BENCH_AGENTS (8), BENCH_REPS
# (repetitions of the backlog step, fresh webhook each; default 1 here),
# BENCH_DOWN_S (0: the receiver comes back as soon as the backlog is made;
# else it stays down that many seconds more, so that each queue's head has
# backed off to the 30 s cap, as after a long outage), BENCH_PERF (a path:
# perf record -g of the server while the backlog drains, to PATH.REP), and
# lib.sh's.
. "$(dirname "$0")/lib.sh"
REPS=${BENCH_REPS:-1}
PROMOTES=${BENCH_PROMOTES:-200}
BACKLOG=${BENCH_BACKLOG:-10000}
AGENTS=${BENCH_AGENTS:-8}
PY=/usr/bin/python3
RECEIVER="$REPO_DIR/examples/webhooks/receiver.py"
[[ -x $PY ]] || die "needs $PY"
[[ -f $RECEIVER ]] || die "no $RECEIVER"
snapshot_binary
start_server "$RUN_DIR/data" --webhooks-allow-private
ADMIN=$MODELREG_TOKEN
TRAINER=$("$BIN" token create --role trainer --name bench-trainer)
APPROVER=$("$BIN" token create --role approver --name bench-approver)
AGENT=$("$BIN" token create --role agent --name bench-agent)
# Model wh: v1 in production, v2 in staging, no approvals needed; the
# promotions then cycle v2->production (v1 archived), v1->staging,
# v1->production (v2 archived), v2->staging.
for v in 1 2; do
  mkdir -p "$RUN_DIR/b$v"
  echo "version $v" >"$RUN_DIR/b$v/m.bin"
  MODELREG_TOKEN=$TRAINER "$BIN" register wh "$RUN_DIR/b$v" --metric auc=0.9 >/dev/null 2>&1
done
"$BIN" policy set wh --approvals 0 >/dev/null
MODELREG_TOKEN=$APPROVER "$BIN" promote wh 1 --to staging >/dev/null
MODELREG_TOKEN=$APPROVER "$BIN" promote wh 1 --to production >/dev/null
MODELREG_TOKEN=$APPROVER "$BIN" promote wh 2 --to staging >/dev/null
head -c 32 /dev/urandom | base64 >"$RUN_DIR/hook.secret"

# CPU seconds (user + system) the server has used so far.
server_cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$SERVER_PID/stat"; }

RECV_PID=""
# start_receiver PORT LOG: receiver.py on 127.0.0.1:PORT, once it accepts connections.
start_receiver() {
  local port="$1" logf="$2" i
  "$PY" "$RECEIVER" --listen "127.0.0.1:$port" --secret-file "$RUN_DIR/hook.secret" --log "$logf" \
    2>>"$RUN_DIR/receiver.err" &
  RECV_PID=$!
  for i in $(seq 1 400); do
    "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port" 2>/dev/null && return 0
    kill -0 "$RECV_PID" 2>/dev/null || { cat "$RUN_DIR/receiver.err" >&2; die "receiver exited during start"; }
    sleep 0.01
  done
  die "receiver did not listen on $port"
}
stop_receiver() {
  if [[ -n "$RECV_PID" ]]; then
    kill -TERM "$RECV_PID" 2>/dev/null || true
    wait "$RECV_PID" 2>/dev/null || true
    RECV_PID=""
  fi
}
trap 'stop_receiver; cleanup' EXIT

# The measuring client (Python: its clock is the receiver's). Modes:
#   latency URL TOKEN RECV_PORT RECV_LOG N      -> "promote p50 p90 p99 | post ... | delivery ... | slow K" (ms)
#   agents URL TOKEN N AGENTS PREFIX            -> makes N agent events
#   backlog RECV_LOG N T_UP                     -> waits for N ids; "first_s drain_s total_s"
#   direct RECV_PORT N THREADS                  -> N signed POSTs straight; "seconds"
client() { "$PY" - "$@" <<'EOF'
import base64, hashlib, hmac, http.client, json, os, sys, threading, time, urllib.parse

mode = sys.argv[1]
secret = open(os.environ["HOOK_SECRET_FILE"], "rb").read().rstrip(b"\r\n")

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]

def signed_post(port, delivery_id, body):
    ts = str(int(time.time()))
    mac = hmac.new(secret, ("%d.%s." % (delivery_id, ts)).encode() + body, hashlib.sha256).digest()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/hook", body, {"Content-Type": "application/json", "X-Modelreg-Delivery-Id": str(delivery_id),
              "X-Modelreg-Timestamp": ts, "X-Modelreg-Signature": "v1," + base64.b64encode(mac).decode()})
    r = c.getresponse()
    r.read()
    c.close()
    if r.status != 200:
        sys.exit("receiver answered %d" % r.status)

class Tail:
    """The receiver's log, read as it grows."""
    def __init__(self, path):
        self.path, self.pos, self.buf = path, 0, b""
    def lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return []
        self.pos += len(data)
        self.buf += data
        *done, self.buf = self.buf.split(b"\n")
        return [json.loads(l) for l in done if l]

def api(url, token):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    def call(method, path, body=None):
        c.request(method, path, json.dumps(body) if body is not None else None,
                  {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        if r.status >= 300:
            sys.exit("%s %s: %d %s" % (method, path, r.status, data[:300]))
        return data
    return call

if mode == "latency":
    url, token, port, logpath, n = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
    gap = float(os.environ.get("BENCH_GAP_MS", "0")) / 1000
    # Baseline: signed POSTs straight to the receiver (ids far above the events').
    post = []
    for i in range(n):
        body = json.dumps({"id": 10**12 + i, "type": "bench.direct", "data": {}}).encode()
        t0 = time.time()
        signed_post(port, 10**12 + i, body)
        post.append(time.time() - t0)
    tail = Tail(logpath)
    tail.lines()
    call = api(url, token)
    promote, delivery = [], []
    for i in range(n):
        v, to = [(2, "production"), (1, "staging"), (1, "production"), (2, "staging")][i % 4]
        t0 = time.time()
        call("POST", "/api/v1/models/wh/versions/%d/stage" % v, {"to": to, "reason": "bench"})
        t1 = time.time()
        promote.append(t1 - t0)
        got = None
        deadline = t1 + 30
        while got is None:
            for rec in tail.lines():
                e = rec["event"]
                if e.get("type") == "stage.changed" and (e.get("data") or {}).get("to") == to \
                        and str((e.get("data") or {}).get("version")) == str(v):
                    got = rec["received_at"]
            if got is None:
                if time.time() > deadline:
                    sys.exit("promotion %d: no delivery within 30 s" % i)
                time.sleep(0.0005)
        delivery.append(got - t1)
        if gap > 0:
            time.sleep(gap)
    ms = lambda xs: " ".join("%.1f" % (pct(xs, p) * 1000) for p in (50, 90, 99))
    print("promote %s | post %s | delivery %s | slow %d" % (ms(promote), ms(post), ms(delivery),
                                                         sum(1 for d in delivery if d > 0.1)))

elif mode == "agents":
    url, token, n, agents, prefix = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    # Agent a flips failed/serving; its first report (failed) is an event,
    # and so is every flip after. Each agent on a thread of its own.
    per = [n // agents + (1 if a < n % agents else 0) for a in range(agents)]
    def run(a):
        call = api(url, token)
        for i in range(per[a]):
            state = "failed" if i % 2 == 0 else "serving"
            call("POST", "/api/v1/agents/%s-%d/status" % (prefix, a),
                 {"model": "%s-m%d" % (prefix, a), "host": "h%d" % a, "state": state, "version": 1,
                  "last_error": "bench" if state == "failed" else ""})
    ts = [threading.Thread(target=run, args=(a,)) for a in range(agents)]
    [t.start() for t in ts]
    [t.join() for t in ts]

elif mode == "backlog":
    logpath, n, t_up = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    tail, ids, first, last, rec_at = Tail(logpath), set(), None, None, []
    deadline = time.time() + 600
    while len(ids) < n:
        for rec in tail.lines():
            if rec["event"].get("type", "").startswith("agent.") and rec["delivery_id"] not in ids:
                ids.add(rec["delivery_id"])
                rec_at.append(rec["received_at"])
                first = rec["received_at"] if first is None else min(first, rec["received_at"])
                last = rec["received_at"] if last is None else max(last, rec["received_at"])
        if time.time() > deadline:
            sys.exit("backlog: %d of %d delivered after 600 s" % (len(ids), n))
        time.sleep(0.05)
    # Stalls: gaps of over 300 ms between one arrival and the next.
    at = sorted(rec_at)
    gaps = [b - a for a, b in zip(at, at[1:]) if b - a > 0.3]
    print("%.3f %.3f %.3f %d %.3f" % (first - t_up, last - first, last - t_up, len(gaps), sum(gaps)))

elif mode == "direct":
    port, n, threads = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    t0 = time.time()
    def run(k):
        for i in range(k, n, threads):
            body = json.dumps({"id": i + 1, "type": "agent.failed", "model": "direct", "data": {"agent": "x"}}).encode()
            signed_post(port, i + 1, body)
    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    print("%.3f" % (time.time() - t0))
EOF
}
export HOOK_SECRET_FILE="$RUN_DIR/hook.secret"

header "webhook delivery (receiver: examples/webhooks/receiver.py, fsync per event)"

# ---- 1. latency
PORT1=$(free_port)
start_receiver "$PORT1" "$RUN_DIR/latency.jsonl"
"$BIN" webhook create --name lat --url "http://127.0.0.1:$PORT1/hook" --events stage.changed \
  --secret-file "$RUN_DIR/hook.secret" >/dev/null
out=$(client latency "$MODELREG_URL" "$APPROVER" "$PORT1" "$RUN_DIR/latency.jsonl" "$PROMOTES")
read -r -a L <<<"$out"
stop_receiver
"$BIN" webhook delete lat >/dev/null
# L: promote p50 p90 p99 | post p50 p90 p99 | delivery p50 p90 p99 | slow K (indexes 1-3, 6-8, 11-13, 16)
echo "-- 1. $PROMOTES promotions, one at a time; ms (p50 / p90 / p99)"
printf '   %-44s %8s %8s %8s\n' "" p50 p90 p99
printf '   %-44s %8s %8s %8s\n' "promote answered -> receiver has the event" "${L[11]}" "${L[12]}" "${L[13]}"
printf '   %-44s %8s %8s %8s\n' "baseline: the promote request itself" "${L[1]}" "${L[2]}" "${L[3]}"
printf '   %-44s %8s %8s %8s\n' "baseline: signed POST straight to receiver" "${L[6]}" "${L[7]}" "${L[8]}"
echo "   deliveries over 100 ms: ${L[16]} of $PROMOTES (next promotion sent ${BENCH_GAP_MS:-0} ms after the last delivery arrived)"
echo "   delivery p50 / promote p50: $(ratio "${L[11]}" "${L[1]}")x; / direct POST p50: $(ratio "${L[11]}" "${L[6]}")x;" \
  "target p50 <= 50 ms: $(ok_le "${L[11]}" 50)"
summary "webhook: promote -> receiver has it, p50 ms" "${L[11]}" "promote request p50 ${L[1]}" "$(ratio "${L[11]}" "${L[1]}")" "<= 50" "$(ok_le "${L[11]}" 50)"

# ---- 2. backlog
echo "-- 2. $BACKLOG events queued while the receiver is down ($AGENTS agents = per-model queues; down ${BENCH_DOWN_S:-0} s after they are made); s"
# The server sends one queue on one sender at a time (order per model), on
# at most 4 senders: the baseline client sends on as many threads.
DIRECT_THREADS=$((AGENTS < 4 ? AGENTS : 4))
FIRSTS=() DRAINS=() TOTALS=() BASES=() GENS=() STALLS=() STALLED=() CPUS=()
for rep in $(seq 1 "$REPS"); do
  PORT2=$(free_port)
  "$BIN" webhook create --name "backlog$rep" --url "http://127.0.0.1:$PORT2/hook" \
    --events agent.failed,agent.recovered --secret-file "$RUN_DIR/hook.secret" >/dev/null
  t0=$(now)
  client agents "$MODELREG_URL" "$AGENT" "$BACKLOG" "$AGENTS" "r$rep"
  GENS+=("$(elapsed "$t0" "$(now)")")
  pending=$(curl -sf -H "Authorization: Bearer $ADMIN" "$MODELREG_URL/api/v1/webhooks" |
    jq -r --arg n "backlog$rep" '.webhooks[] | select(.name == $n) | .pending')
  [[ $pending == "$BACKLOG" ]] || die "webhook backlog$rep has $pending pending, not $BACKLOG"
  # Down for longer: the queue heads' retries back off to the cap (30 s).
  if [[ ${BENCH_DOWN_S:-0} != 0 ]]; then sleep "$BENCH_DOWN_S"; fi
  # The receiver comes back; t_up is when it listens.
  t_up=$(now)
  start_receiver "$PORT2" "$RUN_DIR/backlog$rep.jsonl"
  cpu0=$(server_cpu_s)
  perf_pid=""
  if [[ -n ${BENCH_PERF:-} ]]; then
    perf record -q -F 499 -g -p "$SERVER_PID" -o "$BENCH_PERF.$rep" 2>/dev/null &
    perf_pid=$!
  fi
  out=$(client backlog "$RUN_DIR/backlog$rep.jsonl" "$BACKLOG" "$t_up")
  if [[ -n $perf_pid ]]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
  read -r first drain total stalls stalled <<<"$out"
  cpu=$(awk -v a="$cpu0" -v b="$(server_cpu_s)" 'BEGIN { printf "%.1f", b - a }')
  stop_receiver
  FIRSTS+=("$first") DRAINS+=("$drain") TOTALS+=("$total") STALLS+=("$stalls") STALLED+=("$stalled") CPUS+=("$cpu")
  "$BIN" webhook delete "backlog$rep" >/dev/null
  # Baseline: the same receiver, fresh, taking as many POSTs straight.
  PORT3=$(free_port)
  start_receiver "$PORT3" "$RUN_DIR/direct$rep.jsonl"
  out=$(client direct "$PORT3" "$BACKLOG" "$DIRECT_THREADS")
  BASES+=("$out")
  stop_receiver
  [[ $(wc -l <"$RUN_DIR/direct$rep.jsonl") -eq $BACKLOG ]] || die "direct: receiver logged $(wc -l <"$RUN_DIR/direct$rep.jsonl") of $BACKLOG"
  log "rep $rep: made in ${GENS[-1]} s; first after $first s, drained in $drain s, all in $total s" \
    "(server CPU $cpu s; $stalls stalls of over 300 ms between arrivals, $stalled s in all); direct ${BASES[-1]} s"
done
first=$(median "${FIRSTS[@]}") drain=$(median "${DRAINS[@]}") total=$(median "${TOTALS[@]}") base=$(median "${BASES[@]}")
printf '   %-52s %8s\n' "events made (agent reports, $AGENTS threads)" "$(median "${GENS[@]}")"
printf '   %-52s %8s\n' "receiver up -> first delivery (retry wait)" "$first"
printf '   %-52s %8s\n' "first -> last delivery (drain)" "$drain"
printf '   %-52s %8s\n' "  of which stalls (arrival gaps > 300 ms), count + s" "$(median "${STALLS[@]}") $(median "${STALLED[@]}")"
printf '   %-52s %8s\n' "receiver up -> all $BACKLOG delivered" "$total"
printf '   %-52s %8s\n' "server CPU while draining (user+sys)" "$(median "${CPUS[@]}")"
printf '   %-52s %8s\n' "baseline: $BACKLOG signed POSTs straight, $DIRECT_THREADS threads" "$base"
echo "   drain / baseline: $(ratio "$drain" "$base")x; all / baseline: $(ratio "$total" "$base")x;" \
  "target all <= 60 s: $(ok_le "$total" 60)"
summary "webhook: $BACKLOG queued events all delivered, s" "$total" "direct POSTs $base" "$(ratio "$total" "$base")" "<= 60" "$(ok_le "$total" 60)"
MODELREG_TOKEN=$ADMIN "$BIN" audit verify >/dev/null
