#!/usr/bin/env bash
# The README's tour, run verbatim: every ```sh block that follows a line
# `<!-- tour -->` in README.md runs, in order, in one bash shell with
# `set -euo pipefail`, against a fresh registry in a fresh folder; then the
# state the tour should have left is checked. A command that fails fails the
# test.
#
# What the harness adds, and nothing else:
#   - PATH holds the freshly built `modelreg` and `modelreg-agent`;
#   - the folder is a training job's: a git checkout holding out/model.bin,
#     data/train.csv, meta/params.json and meta/metrics.json (what the
#     trainer's block names);
#   - 127.0.0.1:8080 becomes a free loopback port (tests run side by side);
#   - after a line that starts `modelreg serve` and ends `&`, it waits until
#     the registry answers /healthz (a person reads the next line first; a
#     script must wait).
#
# Usage: tour_test.sh README.md MODELREG_BIN MODELREG_AGENT_BIN
set -euo pipefail
readme=$(realpath "$1")
export PATH="$(dirname "$(realpath "$2")"):$(dirname "$(realpath "$3")"):$PATH"
work=$(mktemp -d)
trap '[[ -f $work/server.pid ]] && kill "$(cat "$work/server.pid")" 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# The training job's folder.
cd "$work"
git init -q . && git config user.email job@example.com && git config user.name job
mkdir -p out data meta
printf 'weights of a churn model\n' > out/model.bin
printf 'tenure,churned\n1,0\n2,1\n' > data/train.csv
printf '{"max_depth": 6, "n_estimators": 100}\n' > meta/params.json
printf '{"auc": 0.91, "logloss": 0.31}\n' > meta/metrics.json
printf 'modelreg-data/\n*.token\n' > .gitignore
git add -A && git commit -qm "train churn"

# The tour's blocks, with the harness's two additions.
awk -v port="$port" '
  /^<!-- tour -->$/ { want = 1; next }
  want && /^```sh$/ { inside = 1; want = 0; next }
  inside && /^```$/ { inside = 0; print ""; next }
  inside {
    line = $0
    gsub(/127\.0\.0\.1:8080/, "127.0.0.1:" port, line)
    print line
    if (line ~ /^modelreg serve .*&( *#.*)?$/) {
      print "echo $! > server.pid"
      print "for _ in $(seq 600); do curl -sf http://127.0.0.1:" port "/healthz >/dev/null && break; sleep 0.1; done"
    }
  }
' "$readme" > tour.sh
grep -q '^modelreg ' tour.sh || { echo "no <!-- tour --> blocks in $readme" >&2; exit 1; }
echo "--- the tour as run: README.md's tour blocks, port $port ---"
cat -n tour.sh
echo "--- running it ---"
bash -euo pipefail -x tour.sh

echo "--- what it should have left ---"
export MODELREG_URL=http://127.0.0.1:$port MODELREG_TOKEN=$(cat modelreg-data/admin.token)
fail() { echo "tour: $*" >&2; exit 1; }
cmp out/model.bin churn-v1/model.bin || fail "the pulled bundle differs from what was registered"
modelreg models --json > models.json
python3 - <<'PY' || fail "the registry's state after the tour is not what the tour says"
import json
models = {m["name"]: m for m in json.load(open("models.json"))["models"]}
churn = models["churn"]
assert churn["version_count"] == 2, churn
assert churn["production_version"] == 1, churn  # promoted 1, then 2, then rolled back
PY
modelreg audit verify >/dev/null || fail "the audit log does not verify"
echo "tour: ok"
