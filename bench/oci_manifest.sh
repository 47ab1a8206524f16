#!/usr/bin/env bash
# Manifest GET by stage tag at /v2/ (issue #24, Performance: "requests/s and
# p99 beside docker-registry's manifest GET (measured earlier here at about
# 1 500 req/s, p99 88 ms): >= 10x its throughput").
#
#   modelreg        GET /v2/churn/manifests/production, Accept: the OCI manifest
#                   type, Authorization: Bearer <modelreg agent token> (the token
#                   itself, no /v2/token exchange): tag -> promoted version ->
#                   manifest, with the token checked on every request
#   docker-registry GET /v2/churn/manifests/production of the same manifest
#                   (same Accept, no auth; filled from modelreg by skopeo copy,
#                   digests checked equal)
#
# wrk -t2 -c64 for BENCH_SECONDS (10) per run, headers from a lua script;
# BENCH_REPS (3) rounds, the two sides back to back in each (which goes first
# alternates), after BENCH_WARMUP (2) s of the same load on each, not measured.
# Medians of requests/s and p99, and the median of the per-round ratios. A run
# with any non-2xx answer or socket error fails the benchmark. The model is one
# 1 MiB file: a manifest's size does not depend on its layers' sizes.
# For reference (no target), each round also runs the same wrk against the
# same modelreg's GET /api/v1/models/churn/release?stage=production with the
# same token: the rate of the server's request path on a stage lookup the
# agents poll, which the /v2/ manifest GET could approach.
#
# Usage: bench/oci_manifest.sh   (env: MODELREG_BIN, BENCH_DIR, BENCH_REPS, BENCH_SECONDS, BENCH_WARMUP)
source "$(dirname "$0")/lib.sh"
source "$BENCH_SRC_DIR/lib_oci.sh"
command -v wrk >/dev/null || die "needs wrk (apt-get install wrk)"
MODEL=churn
SECS=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
TARGET=10
MT=application/vnd.oci.image.manifest.v1+json
snapshot_binary
header "manifest GET by stage tag: modelreg /v2/ vs docker-registry 2.8 (wrk -t2 -c64, ${SECS} s per run)"
echo "   $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $(docker-registry --version 2>&1 | head -1)"

mkdir -p "$RUN_DIR/bundle"
head -c $((1 << 20)) /dev/urandom >"$RUN_DIR/bundle/model.bin"
start_server "$RUN_DIR/mr"
oci_tokens
oci_register_promoted "$MODEL" "$RUN_DIR/bundle"
oci_dry_run_check
start_docker_registry "$RUN_DIR/dr"
oci_fill_docker_registry "$MODEL" production

MR_URL="$MODELREG_URL/v2/$MODEL/manifests/production"
DR_MURL="$DR_URL/v2/$MODEL/manifests/production"
# wrk's request headers, one script per side
printf 'wrk.headers["Accept"] = "%s"\nwrk.headers["Authorization"] = "Bearer %s"\n' "$MT" "$AGENT_TOKEN" >"$RUN_DIR/mr.lua"
printf 'wrk.headers["Accept"] = "%s"\n' "$MT" >"$RUN_DIR/dr.lua"
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$AGENT_TOKEN" >"$RUN_DIR/rel.lua"
REL_URL="$MODELREG_URL/api/v1/models/$MODEL/release?stage=production"

# One GET with the same headers: 200, the manifest's bytes, its media type.
check_get() {
  local label="$1" url="$2" auth=() code
  shift 2
  [[ $# -gt 0 ]] && auth=(-H "Authorization: Bearer $1")
  code=$(curl -s -o "$RUN_DIR/m.json" -D "$RUN_DIR/m.hdr" -w '%{http_code}' -H "Accept: $MT" "${auth[@]}" "$url")
  [[ $code == 200 ]] || die "$label: GET $url answered $code"
  [[ "sha256:$(openssl dgst -sha256 "$RUN_DIR/m.json" | awk '{ print $2 }')" == "$DIGEST" ]] || die "$label: the manifest's bytes are not $DIGEST"
  grep -qi "^content-type: $MT" "$RUN_DIR/m.hdr" || die "$label: Content-Type is not $MT"
}
[[ -z $DRY_RUN ]] && check_get modelreg "$MR_URL" "$AGENT_TOKEN"
check_get docker-registry "$DR_MURL"
echo "   manifest $DIGEST ($(stat -c %s "$RUN_DIR/m.json") bytes), the same from both"

# run SECONDS LUA URL -> "rps p50_ms p99_ms"; dies on non-2xx answers or socket errors
run() {
  wrk -t2 -c64 -d"${1}s" --latency -s "$2" "$3" >"$RUN_DIR/wrk.out" 2>&1 || { cat "$RUN_DIR/wrk.out" >&2; die "wrk failed"; }
  if grep -q 'Non-2xx\|Socket errors' "$RUN_DIR/wrk.out"; then cat "$RUN_DIR/wrk.out" >&2; die "wrk saw errors against $3"; fi
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       /Requests\/sec/ { rps = $2 }
       $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
       END { printf "%.0f %.3f %.3f\n", rps, ms(p50), ms(p99) }' "$RUN_DIR/wrk.out"
}
run_mr() { read -r a b c < <(run "$SECS" "$RUN_DIR/mr.lua" "$MR_URL"); mr_rps+=("$a") mr_p50+=("$b") mr_p99+=("$c"); }
run_rel() { read -r a b c < <(run "$SECS" "$RUN_DIR/rel.lua" "$REL_URL"); rel_rps+=("$a") rel_p99+=("$c"); }
run_dr() { read -r a b c < <(run "$SECS" "$RUN_DIR/dr.lua" "$DR_MURL"); dr_rps+=("$a") dr_p50+=("$b") dr_p99+=("$c"); }

[[ -z $DRY_RUN ]] && run "$WARMUP" "$RUN_DIR/mr.lua" "$MR_URL" >/dev/null
run "$WARMUP" "$RUN_DIR/dr.lua" "$DR_MURL" >/dev/null
rel_rps=() rel_p99=() mr_rps=() mr_p50=() mr_p99=() dr_rps=() dr_p50=() dr_p99=() ratios=() loads=()
for r in $(seq 1 "$REPS"); do
  if [[ -n $DRY_RUN ]]; then run_dr
  elif ((r % 2)); then run_mr; run_dr; run_rel
  else run_dr; run_mr; run_rel
  fi
  [[ -z $DRY_RUN ]] && ratios+=("$(ratio "${mr_rps[-1]}" "${dr_rps[-1]}")")
  loads+=("$(cut -d' ' -f1 /proc/loadavg)")
done
echo "   load (1 min) after each round: ${loads[*]}"
printf '   docker-registry  %8s req/s  p50 %7s ms  p99 %7s ms   runs: %s req/s, p99 %s ms\n' \
  "$(median "${dr_rps[@]}")" "$(median "${dr_p50[@]}")" "$(median "${dr_p99[@]}")" "${dr_rps[*]}" "${dr_p99[*]}"
if [[ -z $DRY_RUN ]]; then
  R=$(median "${ratios[@]}")
  printf '   modelreg         %8s req/s  p50 %7s ms  p99 %7s ms   runs: %s req/s, p99 %s ms\n' \
    "$(median "${mr_rps[@]}")" "$(median "${mr_p50[@]}")" "$(median "${mr_p99[@]}")" "${mr_rps[*]}" "${mr_p99[*]}"
  printf '   reference: the same modelreg, GET /api/v1/models/%s/release?stage=production: %s req/s, p99 %s ms (runs: %s req/s)\n' \
    "$MODEL" "$(median "${rel_rps[@]}")" "$(median "${rel_p99[@]}")" "${rel_rps[*]}"
  echo "   modelreg = ${R}x docker-registry's throughput (median of the per-round ratios: ${ratios[*]})   target >= ${TARGET}x: $(ok_ge "$R" "$TARGET")"
  summary "OCI manifest GET throughput" "${R}x docker-registry" "docker-registry" "${R}x" ">= ${TARGET}x" "$(ok_ge "$R" "$TARGET")"
fi
