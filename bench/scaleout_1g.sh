#!/usr/bin/env bash
# Register and pull of a 1 GiB single-file bundle through PostgreSQL + an OCI
# registry (Debian's docker-registry), beside the same on SQLite + the local
# blob store and beside a plain curl push/fetch of the same file to the same
# docker-registry, all in the same run (issue targets: register >= 0.8x and
# pull >= 0.9x the SQLite + local figures).
#
#   register = client hash + upload + server hash + commit (+ the backend's own work)
#   pull     = download + verify + write + sync into a fresh dir
#   curl     = sha256 + POST/PUT ?digest= of the blob (push); GET of the blob + sync (fetch)
#
# Usage: bench/scaleout_1g.sh   (env: MODELREG_BIN, BENCH_DIR, BENCH_REPS; see lib.sh)
source "$(dirname "$0")/lib.sh"
command -v docker-registry >/dev/null || die "needs docker-registry (apt-get install docker-registry)"
SIZE=$((1 << 30))
snapshot_binary
one_gib_bundle
PRETOUCH_MIB=1280
header "register / pull of 1 GiB: PostgreSQL + OCI registry vs SQLite + local disk vs curl to the registry"

start_docker_registry "$RUN_DIR/dr"
DPORT=$DR_PORT
DIGEST=$(openssl dgst -sha256 "$FILE" | awk '{print $2}')
curl_push() {
  local d loc sep
  d=$(openssl dgst -sha256 "$FILE" | awk '{print $2}')
  loc=$(curl -sf -D - -o /dev/null -X POST "http://127.0.0.1:$DPORT/v2/curl/blobs/uploads/" |
    awk -F': ' 'tolower($1)=="location" {print $2}' | tr -d '\r')
  sep='?'; [[ $loc == *\?* ]] && sep='&'
  curl -sf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$FILE" "$loc${sep}digest=sha256:$d"
}
curl_fetch() {
  curl -sf -o "$RUN_DIR/fetched" "http://127.0.0.1:$DPORT/v2/curl/blobs/sha256:$DIGEST" && sync "$RUN_DIR/fetched"
}
export -f curl_push curl_fetch; export FILE DPORT DIGEST RUN_DIR

t_rl=() t_pl=() t_ro=() t_po=() t_cu=() t_cf=()
for r in $(seq 1 "$REPS"); do
  # SQLite + local disk
  rm -rf "$RUN_DIR/local" "$RUN_DIR/pulled"
  start_server "$RUN_DIR/local"
  prep_step "$FILE"; t_rl+=("$(time_cmd "$BIN" register churn "$BUNDLE" --json)")
  prep_step "$FILE"; t_pl+=("$(time_cmd "$BIN" pull churn 1 "$RUN_DIR/pulled")")
  cmp -s "$FILE" "$RUN_DIR/pulled/model.bin" || die "pulled file differs (local)"
  stop_server
  rm -rf "$RUN_DIR/local" "$RUN_DIR/pulled"
  # PostgreSQL + the OCI registry
  start_postgres
  start_server "$RUN_DIR/oci" --db "$PG_DB_URL" --blobs "oci+http://127.0.0.1:$DPORT/mr$r"
  prep_step "$FILE"; t_ro+=("$(time_cmd "$BIN" register churn "$BUNDLE" --json)")
  prep_step "$FILE"; t_po+=("$(time_cmd "$BIN" pull churn 1 "$RUN_DIR/pulled")")
  cmp -s "$FILE" "$RUN_DIR/pulled/model.bin" || die "pulled file differs (postgres + oci)"
  stop_server
  rm -rf "$RUN_DIR/oci" "$RUN_DIR/pulled"
  # curl straight to the registry
  prep_step "$FILE"; t_cu+=("$(time_cmd bash -c curl_push)")
  prep_step "$FILE"; t_cf+=("$(time_cmd bash -c curl_fetch)")
  rm -f "$RUN_DIR/fetched"
done
RL=$(median "${t_rl[@]}") PL=$(median "${t_pl[@]}") RO=$(median "${t_ro[@]}") PO=$(median "${t_po[@]}")
CU=$(median "${t_cu[@]}") CF=$(median "${t_cf[@]}")
printf '   register  sqlite+local %6.2f s   postgres+oci %6.2f s   curl push %6.2f s\n' "$RL" "$RO" "$CU"
printf '   pull      sqlite+local %6.2f s   postgres+oci %6.2f s   curl fetch %6.2f s\n' "$PL" "$PO" "$CF"
echo "   register postgres+oci = $(ratio "$RL" "$RO")x sqlite+local (target >= 0.8: $(ok_ge "$(ratio "$RL" "$RO")" 0.8)), $(ratio "$CU" "$RO")x curl push"
echo "   pull     postgres+oci = $(ratio "$PL" "$PO")x sqlite+local (target >= 0.9: $(ok_ge "$(ratio "$PL" "$PO")" 0.9)), $(ratio "$CF" "$PO")x curl fetch"
summary "register 1 GiB on postgres+oci, s" "$RO" "sqlite+local $RL" "$(ratio "$RL" "$RO")x" ">= 0.8x" "$(ok_ge "$(ratio "$RL" "$RO")" 0.8)"
summary "pull 1 GiB on postgres+oci, s" "$PO" "sqlite+local $PL" "$(ratio "$PL" "$PO")x" ">= 0.9x" "$(ok_ge "$(ratio "$PL" "$PO")" 0.9)"
# The registry's own floor: no front end can register faster than the
# registry takes the bytes from curl, nor pull faster than curl gets them.
echo "   floor: curl push alone = $(ratio "$RL" "$CU")x sqlite+local register, curl fetch alone = $(ratio "$PL" "$CF")x sqlite+local pull"
echo "          (where the floor is under a target, the target cannot hold against this registry on this machine)"
