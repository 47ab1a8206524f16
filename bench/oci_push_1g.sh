#!/usr/bin/env bash
# OCI push of a 1 GiB single-file model (issue #24, Performance: "skopeo copy
# push of 1 GiB into modelreg beside the same push into docker-registry: >= 2x").
#
# The source is an OCI layout: `skopeo copy` of churn:production from a
# modelreg holding the 1 GiB bundle (registered and promoted), made once.
# Then in each repetition, into a fresh server with an empty data dir each:
#
#   modelreg        skopeo copy oci:LAYOUT:production docker://127.0.0.1:PORT/churn:latest
#                   (a trainer token as the basic-auth password): blob upload,
#                   manifest PUT = a new version (checked: version 1 with the
#                   layout's manifest digest); `latest` because modelreg numbers
#                   versions itself and refuses other names as tags (stages move
#                   only through the workflow)
#   docker-registry the same push, no auth (checked: the tag's manifest digest)
#
# Each timed step is `skopeo copy` + `sync -f` (modelreg fsyncs what it
# stores, docker-registry does not: the sync puts both on disk), the servers'
# data on the same filesystem as the layout. BENCH_REPS repetitions, the two
# sides back to back in each (which goes first alternates); medians and the
# median of the per-repetition ratios.
#
# Usage: bench/oci_push_1g.sh   (env: MODELREG_BIN, BENCH_DIR, BENCH_REPS; see lib.sh)
source "$(dirname "$0")/lib.sh"
source "$BENCH_SRC_DIR/lib_oci.sh"
SIZE=$((1 << 30))
MODEL=churn
TARGET=2.0
LAYOUT="$RUN_DIR/layout"
snapshot_binary
one_gib_bundle
PRETOUCH_MIB=1280  # see prep_step in lib.sh
header "OCI push of 1 GiB (skopeo copy from an OCI layout): modelreg /v2/ vs docker-registry 2.8"
echo "   $(skopeo --version), $(docker-registry --version 2>&1 | head -1)"

# ---- the layout: pulled from a modelreg holding the promoted version ----
start_server "$RUN_DIR/src"
oci_tokens
oci_register_promoted "$MODEL" "$BUNDLE"
oci_dry_run_check
if [[ -z $DRY_RUN ]]; then
  skopeo_copy --src-creds "bench:$AGENT_TOKEN" "docker://$(oci_hostport "$MODELREG_URL")/$MODEL:production" \
    "oci:$LAYOUT:production" || die "skopeo copy from modelreg to the layout failed"
else
  oci_layout_from_store "$SERVER_DATA" "$DIGEST" "$LAYOUT" production
fi
[[ $(jq -r '.manifests[0].digest' "$LAYOUT/index.json") == "$DIGEST" ]] || die "the layout does not hold $DIGEST"
stop_server
rm -rf "$RUN_DIR/src"
echo "   source layout: $(du -sh "$LAYOUT" | cut -f1), manifest $DIGEST"

push_to() {  # HOSTPORT [skopeo args...] -> seconds
  local to="$1"
  shift
  time_cmd bash -c 'skopeo copy -q --dest-tls-verify=false "$@" && sync -f "$0"' "$RUN_DIR" \
    "$@" "oci:$LAYOUT:production" "docker://$to/$MODEL:latest"
}
run_mr() {
  local got
  rm -rf "$RUN_DIR/mr" "$RUN_DIR/mr.log"
  start_server "$RUN_DIR/mr"
  TRAINER_TOKEN=$("$BIN" token create --role trainer --name bench-trainer)
  prep_step "$LAYOUT"
  t=$(push_to "$(oci_hostport "$MODELREG_URL")" --dest-creds "bench:$TRAINER_TOKEN") || die "skopeo push into modelreg failed"
  t_mr+=("$t") p_mr+=("$(https_probe "$MODELREG_URL")") hwm+=("$(server_hwm_kib)")
  got=$("$BIN" show "$MODEL" 1 --json | jq -r .digest) || die "modelreg has no $MODEL version 1 after the push"
  [[ $got == "$DIGEST" ]] || die "modelreg registered $got, the layout holds $DIGEST"
  stop_server
  rm -rf "$RUN_DIR/mr" "$RUN_DIR/mr.log"
}
run_dr() {
  local got
  rm -rf "$RUN_DIR/dr"
  start_docker_registry "$RUN_DIR/dr"
  prep_step "$LAYOUT"
  t=$(push_to "$(oci_hostport "$DR_URL")") || die "skopeo push into docker-registry failed"
  t_dr+=("$t") p_dr+=("$(https_probe "$DR_URL")")
  got=$(manifest_digest "$DR_URL" "$MODEL" latest)
  [[ $got == "$DIGEST" ]] || die "docker-registry holds $MODEL:latest as '$got', the layout $DIGEST"
  stop_docker_registry
  rm -rf "$RUN_DIR/dr"
}

t_mr=() t_dr=() r_mr=() p_mr=() p_dr=() hwm=()
for r in $(seq 1 "$REPS"); do
  if [[ -n $DRY_RUN ]]; then run_dr; continue; fi
  if ((r % 2)); then run_mr; run_dr; else run_dr; run_mr; fi
  r_mr+=("$(ratio "${t_dr[-1]}" "${t_mr[-1]}")")
done
T_DR=$(median "${t_dr[@]}")
echo "   load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '   docker-registry  %7.3f s  %7s MB/s   runs: %s s\n' "$T_DR" "$(mbps "$SIZE" "$T_DR")" "${t_dr[*]}"
if [[ -z $DRY_RUN ]]; then
  T_MR=$(median "${t_mr[@]}")
  R=$(median "${r_mr[@]}")
  printf '   modelreg         %7.3f s  %7s MB/s   runs: %s s; server peak RSS %s MiB\n' "$T_MR" "$(mbps "$SIZE" "$T_MR")" \
    "${t_mr[*]}" "$(kib_to_mib "$(printf '%s\n' "${hwm[@]}" | sort -n | tail -1)")"
  echo "   modelreg = ${R}x docker-registry's speed (median of the per-repetition ratios: ${r_mr[*]}; of the medians: $(ratio "$T_DR" "$T_MR")x)   target >= ${TARGET}x: $(ok_ge "$R" "$TARGET")"
  summary "OCI push 1 GiB (skopeo), s" "$T_MR" "docker-registry $T_DR" "${R}x faster" ">= ${TARGET}x" "$(ok_ge "$R" "$TARGET")"
  P_MR=$(median "${p_mr[@]}") P_DR=$(median "${p_dr[@]}")
  echo "   skopeo's https attempt before http (in every timing above; probed after each): modelreg $P_MR s, docker-registry $P_DR s"
  if [[ $(ok_ge "$(awk -v a="$P_MR" -v b="$P_DR" 'BEGIN { print (a > b ? a : b) }')" 0.5) == ok ]]; then
    T_MR_NP=$(awk -v a="$T_MR" -v b="$P_MR" 'BEGIN { printf "%.3f", a - b }')
    T_DR_NP=$(awk -v a="$T_DR" -v b="$P_DR" 'BEGIN { printf "%.3f", a - b }')
    echo "   estimate without it (median minus probe): modelreg $T_MR_NP s, docker-registry $T_DR_NP s = $(ratio "$T_DR_NP" "$T_MR_NP")x (not a measurement)"
  fi
fi
