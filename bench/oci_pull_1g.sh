#!/usr/bin/env bash
# OCI pull of a 1 GiB single-file model (issue #24, Performance: "skopeo copy
# of a 1 GiB single-file model from modelreg to an OCI layout, beside the same
# copy from Debian's docker-registry holding the same artifact: >= 1.0x its
# speed").
#
#   modelreg        skopeo copy docker://127.0.0.1:PORT/churn:production oci:DIR:production
#                   (the stage tag; an agent token as the basic-auth password)
#   docker-registry the same copy of the same manifest (filled from modelreg by
#                   skopeo copy, digests checked equal), no auth
#
# Each timed step is `skopeo copy` + `sync -f` of the new layout, into a
# fresh directory on the same filesystem as both servers' data; the layout's
# blob is compared with the original file (cmp) after the first repetition.
# BENCH_REPS repetitions, the two sides back to back in each (which goes first
# alternates); medians and the median of the per-repetition ratios.
#
# Usage: bench/oci_pull_1g.sh   (env: MODELREG_BIN, BENCH_DIR, BENCH_REPS; see lib.sh)
source "$(dirname "$0")/lib.sh"
source "$BENCH_SRC_DIR/lib_oci.sh"
SIZE=$((1 << 30))
MODEL=churn
TARGET=1.0
snapshot_binary
one_gib_bundle
PRETOUCH_MIB=1280  # see prep_step in lib.sh
header "OCI pull of 1 GiB (skopeo copy to an OCI layout): modelreg /v2/ vs docker-registry 2.8"
echo "   $(skopeo --version), $(docker-registry --version 2>&1 | head -1)"

start_server "$RUN_DIR/mr"
oci_tokens
oci_register_promoted "$MODEL" "$BUNDLE"
oci_dry_run_check
start_docker_registry "$RUN_DIR/dr"
oci_fill_docker_registry "$MODEL" production
HEX=$(openssl dgst -sha256 "$FILE" | awk '{ print $2 }')

# pull FROM_HOSTPORT [skopeo args...]: one timed copy into $RUN_DIR/layout
pull() {
  local from="$1"
  shift
  rm -rf "$RUN_DIR/layout"
  time_cmd bash -c 'skopeo copy -q --src-tls-verify=false "$@" && sync -f "$0"' "$RUN_DIR/layout" \
    "$@" "docker://$from/$MODEL:production" "oci:$RUN_DIR/layout:production"
}
check_layout() {
  cmp -s "$FILE" "$RUN_DIR/layout/blobs/sha256/$HEX" || die "$1: the layout's blob differs from the original file"
  [[ $(jq -r '.manifests[0].digest' "$RUN_DIR/layout/index.json") == "$DIGEST" ]] || die "$1: the layout's manifest is not $DIGEST"
}
run_mr() {
  prep_step "$RUN_DIR/mr/blobs"
  t=$(pull "$(oci_hostport "$MODELREG_URL")" --src-creds "bench:$AGENT_TOKEN") || die "skopeo copy from modelreg failed"
  t_mr+=("$t") p_mr+=("$(https_probe "$MODELREG_URL")")
  [[ $r -eq 1 ]] && check_layout modelreg
  rm -rf "$RUN_DIR/layout"
}
run_dr() {
  prep_step "$RUN_DIR/dr/data"
  t=$(pull "$(oci_hostport "$DR_URL")") || die "skopeo copy from docker-registry failed"
  t_dr+=("$t") p_dr+=("$(https_probe "$DR_URL")")
  [[ $r -eq 1 ]] && check_layout docker-registry
  rm -rf "$RUN_DIR/layout"
}

t_mr=() t_dr=() r_mr=() p_mr=() p_dr=()
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
  printf '   modelreg         %7.3f s  %7s MB/s   runs: %s s\n' "$T_MR" "$(mbps "$SIZE" "$T_MR")" "${t_mr[*]}"
  echo "   modelreg = ${R}x docker-registry's speed (median of the per-repetition ratios: ${r_mr[*]}; of the medians: $(ratio "$T_DR" "$T_MR")x)   target >= ${TARGET}x: $(ok_ge "$R" "$TARGET")"
  summary "OCI pull 1 GiB (skopeo), s" "$T_MR" "docker-registry $T_DR" "${R}x faster" ">= ${TARGET}x" "$(ok_ge "$R" "$TARGET")"
  P_MR=$(median "${p_mr[@]}") P_DR=$(median "${p_dr[@]}")
  echo "   skopeo's https attempt before http (in every timing above; probed after each): modelreg $P_MR s, docker-registry $P_DR s"
  if [[ $(ok_ge "$(awk -v a="$P_MR" -v b="$P_DR" 'BEGIN { print (a > b ? a : b) }')" 0.5) == ok ]]; then
    T_MR_NP=$(awk -v a="$T_MR" -v b="$P_MR" 'BEGIN { printf "%.3f", a - b }')
    T_DR_NP=$(awk -v a="$T_DR" -v b="$P_DR" 'BEGIN { printf "%.3f", a - b }')
    echo "   estimate without it (median minus probe): modelreg $T_MR_NP s, docker-registry $T_DR_NP s = $(ratio "$T_DR_NP" "$T_MR_NP")x (not a measurement)"
  fi
fi
