#!/usr/bin/env bash
# Register, pull and re-register a 1 GiB single-file bundle against a fresh
# server on 127.0.0.1, each beside a baseline measured in the same run.
#
#   register  = client hash + upload + server hash + fsync + commit
#               vs  `openssl dgst -sha256 FILE` + `cp FILE copy && sync copy`
#               for each server write mode (serve --write-mode direct, buffered,
#               and auto: the mode its start-up probe chose, the default);
#               targets (issue #28): auto >= 1.2x the baseline, and, with
#               Debian's docker-registry installed, >= 4x that registry
#               measured in the same run on the same file (else against the
#               Docker distribution 2.8 reference 0.195 GB/s);
#               also shown beside the time the register's two SHA-256 passes
#               alone need on this machine's two cores (openssl speed -multi 2);
#               and beside its floor: the same two ends with nothing else
#               (bench/tools/register_floor: hash + send 1 MiB pieces of the
#               mapped file -> loopback -> recv + hash -> O_DIRECT thread ->
#               fsync), and that floor beside the Docker registry
#   server    = peak RSS (VmHWM) of the server process over the register, target <= 64 MiB
#   pull      = download + verify (size, sha256) + write + sync into a fresh dir
#               vs  `cp FILE copy && sync copy`, target >= 0.9x; the client's
#               default (O_DIRECT writes) and MODELREG_DIRECT_IO=off (buffered
#               writes with write-behind) each; and beside its floor: the same
#               pipeline with nothing else (bench/tools/pull_floor: sendfile
#               over loopback -> recv into 1 MiB blocks -> SHA-256 on one
#               thread, O_DIRECT writes on another -> fsync), which says what
#               this design can reach on the machine at all
#   re-register unchanged = 0 bytes uploaded, with the client's digest cache
#               and without it (then vs `openssl dgst -sha256 FILE`)
#
# The baselines and the Docker registry run inside each repetition, right
# beside the step they are compared with; ratios are the median of the
# per-repetition ratios.
#
# Usage: bench/register_pull_1g.sh   (env: MODELREG_BIN, BENCH_DIR, BENCH_REPS; see lib.sh)
source "$(dirname "$0")/lib.sh"

SIZE=$((1 << 30))
TARGET_REGISTER_RATIO=1.2
DOCKER_GBPS=0.195
TARGET_DOCKER_RATIO=4
TARGET_PULL_RATIO=0.9
MODES=(direct buffered auto)
TARGET_RSS_MIB=64
MODEL=bench-1g

snapshot_binary
FLOOR="$REPO_DIR/build/bench/pull_floor"
RFLOOR="$REPO_DIR/build/bench/register_floor"
[[ -x "$FLOOR" && -x "$RFLOOR" ]] || die "build the bench tools first: cmake --build build --target pull_floor register_floor"
FILE_HEX=""

# The input: one 1 GiB random file, kept between runs.
one_gib_bundle
PRETOUCH_MIB=1280  # see prep_step in lib.sh

header "register / pull of a 1 GiB single-file bundle ($SIZE bytes)"
read -r FILL_HOT FILL_COLD < <(page_fill_probe 1024)
echo "   machine: writing 1 GiB into page cache runs at $FILL_HOT GB/s into just-freed pages, $FILL_COLD GB/s into pages idle for 3 s"
read -r SHA_ONE SHA_TWO < <(sha256_probe)
# The register's two SHA-256 passes (client and server) alone, side by side
# at openssl speed's rate: no register can be faster on this machine.
T_HASHES=$(awk -v s="$SIZE" -v r="$SHA_TWO" 'BEGIN { if (r <= 0) print 0; else printf "%.3f", 2 * s / (r * 1e9) }')
echo "   machine: SHA-256 (openssl speed, 1 MiB blocks) $SHA_ONE GB/s on one core, $SHA_TWO GB/s on two side by side"

# ---- the Docker distribution registry 2.8 (Debian's docker-registry), if
# installed: client sha256, then the OCI upload protocol (POST a session, PUT
# ?digest= with the body streamed; the registry hashes and checks it), then
# sync. Started once; its data dir is emptied before each upload. ----
HAVE_DOCKER=""
if command -v docker-registry >/dev/null; then
  HAVE_DOCKER=1
  start_docker_registry "$RUN_DIR/dr"
  DPORT=$DR_PORT
  docker_upload() {
    local d loc sep
    d=$(openssl dgst -sha256 "$FILE" | awk '{print $2}')
    loc=$(curl -sf -D - -o /dev/null -X POST "http://127.0.0.1:$DPORT/v2/bench/blobs/uploads/" |
      awk -F': ' 'tolower($1)=="location" {print $2}' | tr -d '\r')
    sep='?'; [[ $loc == *\?* ]] && sep='&'
    curl -sf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$FILE" "$loc${sep}digest=sha256:$d" &&
      sync
  }
  export -f docker_upload; export FILE DPORT
fi

# ---- register, beside its baselines: each repetition runs the openssl+cp
# baseline, a register against a fresh server and data dir in each write
# mode (their order rotates from one repetition to the next), and the
# Docker registry upload, one after the other, so that each ratio compares
# runs made under the same machine conditions (this VM's speed drifts by
# +-20 % over minutes). ----
declare -A t_reg r_base
t_dgst=() t_cp=() t_base=() t_docker=() hwm=() phases=() r_docker=() auto_modes=() probes=()
t_rfloor=() r_rfloor=() r_rfloor_docker=()
for m in "${MODES[@]}"; do t_reg[$m]="" r_base[$m]=""; done
for r in $(seq 1 "$REPS"); do
  rm -f "$RUN_DIR/copy"
  prep_step "$FILE"
  a=$(time_cmd openssl dgst -sha256 "$FILE")
  prep_step "$FILE"
  b=$(time_cmd bash -c 'cp "$1" "$2" && sync "$2"' _ "$FILE" "$RUN_DIR/copy")
  rm -f "$RUN_DIR/copy"
  base=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a + b }')
  t_dgst+=("$a") t_cp+=("$b") t_base+=("$base")

  order=("${MODES[@]:$(((r - 1) % 3))}" "${MODES[@]:0:$(((r - 1) % 3))}")
  for m in "${order[@]}"; do
    rm -rf "$RUN_DIR/data-$m" "$RUN_DIR/data-$m.log" "$RUN_DIR/client-cache"
    start_server "$RUN_DIR/data-$m" --write-mode "$m"
    if [[ $m == auto ]]; then
      line=$(jq -c 'select(.msg == "write mode")' "$SERVER_DATA.log")
      auto_modes+=("$(jq -r .mode <<<"$line")")
      probes+=("$(jq -r '"direct \(.direct_gbps) buffered \(.buffered_gbps) GB/s in \(.probe_ms) ms"' <<<"$line")")
    fi
    # A first register: no digests cached from earlier runs (the re-register
    # below then uses the cache of the last one).
    export MODELREG_CACHE_DIR="$RUN_DIR/client-cache"
    prep_step "$FILE"
    t=$(time_cmd "$BIN" register "$MODEL" "$BUNDLE" --json)
    up=$(jq -r .bytes_uploaded "$RUN_DIR/last.out")
    [[ $up -ge $SIZE ]] || die "register uploaded $up bytes, expected at least $SIZE"
    t_reg[$m]+="$t " r_base[$m]+="$(ratio "$base" "$t") "
    if [[ $m == auto ]]; then
      t_auto=$t
      hwm+=("$(server_hwm_kib)") phases+=("$(server_phases)")
    fi
    stop_server
    [[ $m == auto ]] || rm -rf "$RUN_DIR/data-$m"
  done

  if [[ -n $HAVE_DOCKER ]]; then
    rm -rf "$RUN_DIR/dr/data"
    prep_step "$FILE"
    d=$(time_cmd bash -c docker_upload)
    t_docker+=("$d") r_docker+=("$(ratio "$d" "$t_auto")")
  fi

  rm -f "$RUN_DIR/register-floor.out"
  prep_step "$FILE"
  f=$(time_cmd "$RFLOOR" "$FILE" "$RUN_DIR/register-floor.out")
  [[ -n $FILE_HEX ]] || FILE_HEX=$(openssl dgst -sha256 "$FILE" | awk '{ print $2 }')
  [[ $(cat "$RUN_DIR/last.out") == "$FILE_HEX" ]] || die "register_floor hashed other bytes"
  rm -f "$RUN_DIR/register-floor.out"
  t_rfloor+=("$f") r_rfloor+=("$(ratio "$f" "$t_auto")")
  if [[ -n $HAVE_DOCKER ]]; then r_rfloor_docker+=("$(ratio "$d" "$f")"); fi
done
T_DGST=$(median "${t_dgst[@]}")
T_CP=$(median "${t_cp[@]}")
T_BASE=$(median "${t_base[@]}")
BASE_GBPS=$(gbps "$SIZE" "$T_BASE")
declare -A T_REG_M R_BASE_M
for m in "${MODES[@]}"; do
  # shellcheck disable=SC2086
  T_REG_M[$m]=$(median ${t_reg[$m]})
  # shellcheck disable=SC2086
  R_BASE_M[$m]=$(median ${r_base[$m]})
done
T_REG=${T_REG_M[auto]}
REG_GBPS=$(gbps "$SIZE" "$T_REG")
R_BASE=${R_BASE_M[auto]}
T_RFLOOR=$(median "${t_rfloor[@]}")
R_RFLOOR=$(median "${r_rfloor[@]}")
HWM_KIB=$(printf '%s\n' "${hwm[@]}" | sort -n | tail -1)
HWM_MIB=$(kib_to_mib "$HWM_KIB")
T_DOCKER="" DOCKER_RUN_GBPS="" R_DOCKER=""
if [[ -n $HAVE_DOCKER ]]; then
  stop_docker_registry
  rm -rf "$RUN_DIR/dr"
  T_DOCKER=$(median "${t_docker[@]}")
  DOCKER_RUN_GBPS=$(gbps "$SIZE" "$T_DOCKER")
  R_DOCKER=$(median "${r_docker[@]}")
  R_RFLOOR_DOCKER=$(median "${r_rfloor_docker[@]}")
fi

# ---- pull (verified) into a fresh dir, each beside a cp + sync of the
# same file, with the client's default (O_DIRECT) writes and with
# MODELREG_DIRECT_IO=off (buffered, write-behind); the server of the last
# auto register holds version 1 ----
start_server "$RUN_DIR/data-auto"
PULL_MODES=(default buffered floor)
BLOB_FILE="$RUN_DIR/data-auto/blobs/sha256/$(openssl dgst -sha256 "$FILE" | awk '{ print substr($2, 1, 2) "/" $2 }')"
[[ -f $BLOB_FILE ]] || die "no blob file at $BLOB_FILE"
declare -A t_pull r_pull
for m in "${PULL_MODES[@]}"; do t_pull[$m]="" r_pull[$m]=""; done
t_pcp=() r_floor=()
declare -A this
for r in $(seq 1 "$REPS"); do
  rm -rf "$RUN_DIR/pulled" "$RUN_DIR/copy"
  prep_step "$FILE"
  b=$(time_cmd bash -c 'cp "$1" "$2" && sync "$2"' _ "$FILE" "$RUN_DIR/copy")
  rm -f "$RUN_DIR/copy"
  t_pcp+=("$b")
  order=("${PULL_MODES[@]:$(((r - 1) % 3))}" "${PULL_MODES[@]:0:$(((r - 1) % 3))}")
  for m in "${order[@]}"; do
    prep_step "$RUN_DIR/data-auto/blobs"
    if [[ $m == floor ]]; then
      mkdir -p "$RUN_DIR/pulled"
      t=$(time_cmd "$FLOOR" "$BLOB_FILE" "$RUN_DIR/pulled/model.bin")
      [[ $(cat "$RUN_DIR/last.out") == "$(basename "$BLOB_FILE")" ]] || die "pull_floor received other bytes"
    elif [[ $m == buffered ]]; then t=$(MODELREG_DIRECT_IO=off time_cmd "$BIN" pull "$MODEL" 1 "$RUN_DIR/pulled")
    else t=$(time_cmd "$BIN" pull "$MODEL" 1 "$RUN_DIR/pulled"); fi
    t_pull[$m]+="$t " r_pull[$m]+="$(ratio "$b" "$t") "
    this[$m]=$t
    if [[ $r -eq 1 && $m != floor ]]; then
      cmp "$FILE" "$RUN_DIR/pulled/model.bin" || die "pulled file differs from the original"
      [[ $(find "$RUN_DIR/pulled" -type f | wc -l) -eq 1 ]] || die "pulled dir does not hold exactly one file"
    fi
    rm -rf "$RUN_DIR/pulled"
  done
  r_floor+=("$(ratio "${this[floor]}" "${this[default]}")")
done
declare -A T_PULL_M R_PULL_M
for m in "${PULL_MODES[@]}"; do
  # shellcheck disable=SC2086
  T_PULL_M[$m]=$(median ${t_pull[$m]})
  # shellcheck disable=SC2086
  R_PULL_M[$m]=$(median ${r_pull[$m]})
done
T_PULL=${T_PULL_M[default]}
PULL_GBPS=$(gbps "$SIZE" "$T_PULL")
T_PCP=$(median "${t_pcp[@]}")
PCP_GBPS=$(gbps "$SIZE" "$T_PCP")
R_PULL=${R_PULL_M[default]}
R_FLOOR=$(median "${r_floor[@]}")

# ---- re-register unchanged ----
prep_step "$FILE"
t0=$(now)
REREG_JSON=$("$BIN" register "$MODEL" "$BUNDLE" --json)
t1=$(now)
T_REREG=$(elapsed "$t0" "$t1")
REREG_BYTES=$(jq -r .bytes_uploaded <<<"$REREG_JSON")
REREG_VERSION=$(jq -r .version <<<"$REREG_JSON")
REREG_CREATED=$(jq -r .created <<<"$REREG_JSON")
# Again from a machine without the digest cache (a fresh CI container): a
# blob of the registry has this file's size and sample, so the file is
# hashed first and not sent; beside `openssl dgst` of the same file.
prep_step "$FILE"
t0=$(now)
COLD_JSON=$(MODELREG_CACHE_DIR="$RUN_DIR/empty-cache" "$BIN" register "$MODEL" "$BUNDLE" --json)
t1=$(now)
T_COLD=$(elapsed "$t0" "$t1")
COLD_BYTES=$(jq -r .bytes_uploaded <<<"$COLD_JSON")
prep_step "$FILE"
T_COLD_DGST=$(time_cmd openssl dgst -sha256 "$FILE")
rm -rf "$RUN_DIR/empty-cache"
stop_server

echo
echo "baseline  openssl dgst -sha256 + cp + sync : $(printf '%6.3f' "$T_BASE") s  $(printf '%6.3f' "$BASE_GBPS") GB/s  (dgst $T_DGST s = $(gbps "$SIZE" "$T_DGST") GB/s, cp+sync $T_CP s = $(gbps "$SIZE" "$T_CP") GB/s)"
echo "          runs: ${t_base[*]} s"
for m in "${MODES[@]}"; do
  label="register  --write-mode $m"
  [[ $m == auto ]] && label="register  --write-mode auto (chose: $(printf '%s\n' "${auto_modes[@]}" | sort | uniq -c | awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }'))"
  printf '%-45s: %6.3f s  %6.3f GB/s  = %sx the baseline (median of per-rep ratios: %s)\n' "$label" "${T_REG_M[$m]}" "$(gbps "$SIZE" "${T_REG_M[$m]}")" "${R_BASE_M[$m]}" "${r_base[$m]% }"
  echo "          runs: ${t_reg[$m]% } s"
done
echo "          auto's probes: $(printf '%s; ' "${probes[@]}")"
echo "          server-side request times of the last auto run: ${phases[-1]}"
echo "          target (auto, the default): >= ${TARGET_REGISTER_RATIO}x the baseline: $(ok_ge "$R_BASE" "$TARGET_REGISTER_RATIO")"
echo "          the two SHA-256 passes alone, side by side at openssl speed's rate: $T_HASHES s = $(gbps "$SIZE" "$T_HASHES") GB/s (the register runs at $(ratio "$T_HASHES" "$T_REG") of that bound's speed)"
echo "floor     the bare two ends (register_floor)  : $(printf '%6.3f' "$T_RFLOOR") s  $(printf '%6.3f' "$(gbps "$SIZE" "$T_RFLOOR")") GB/s  runs: ${t_rfloor[*]} s (its sha256 checked)"
echo "          the register (auto) = ${R_RFLOOR}x its floor's speed (median of per-rep ratios: ${r_rfloor[*]}): how much of the register's time is modelreg's own"
if [[ -n $T_DOCKER ]]; then
  echo "reference Docker registry 2.8, same run      : $(printf '%6.3f' "$T_DOCKER") s  $(printf '%6.3f' "$DOCKER_RUN_GBPS") GB/s  (openssl dgst + POST + PUT ?digest= + sync; runs: ${t_docker[*]} s)"
  echo "          register (auto) = ${R_DOCKER}x the Docker registry (median of the per-repetition ratios: ${r_docker[*]}; of the medians: $(ratio "$REG_GBPS" "$DOCKER_RUN_GBPS")x)   target >= ${TARGET_DOCKER_RATIO}x: $(ok_ge "$R_DOCKER" "$TARGET_DOCKER_RATIO")"
  echo "          the register's floor = ${R_RFLOOR_DOCKER}x the Docker registry (per rep: ${r_rfloor_docker[*]})"
else
  R_DOCKER=$(ratio "$REG_GBPS" "$DOCKER_GBPS")
  echo "reference Docker registry 2.8: not installed (apt-get install docker-registry); against the issue's $DOCKER_GBPS GB/s: ${R_DOCKER}x   target >= ${TARGET_DOCKER_RATIO}x: $(ok_ge "$R_DOCKER" "$TARGET_DOCKER_RATIO")"
fi
echo "server    peak RSS (VmHWM) during register : $HWM_MIB MiB   target <= $TARGET_RSS_MIB MiB: $(ok_le "$HWM_MIB" "$TARGET_RSS_MIB")   (per run KiB: ${hwm[*]})"
echo "baseline  cp + sync                        : $(printf '%6.3f' "$T_PCP") s  $(printf '%6.3f' "$PCP_GBPS") GB/s   runs: ${t_pcp[*]} s"
for m in "${PULL_MODES[@]}"; do
  label="pull      client writes: O_DIRECT (default)"
  [[ $m == buffered ]] && label="pull      MODELREG_DIRECT_IO=off (buffered)"
  [[ $m == floor ]] && label="floor     the bare pipeline (pull_floor)"
  printf '%-45s: %6.3f s  %6.3f GB/s  = %sx the baseline (median of per-rep ratios: %s)\n' "$label" "${T_PULL_M[$m]}" "$(gbps "$SIZE" "${T_PULL_M[$m]}")" "${R_PULL_M[$m]}" "${r_pull[$m]% }"
  if [[ $m == floor ]]; then echo "          runs: ${t_pull[$m]% } s (its sha256 checked)"
  else echo "          runs: ${t_pull[$m]% } s (byte-identical: checked with cmp)"; fi
done
echo "          the pull = ${R_FLOOR}x its floor's speed (median of per-rep ratios: ${r_floor[*]}): how much of the pull's time is modelreg's own"
echo "          target (default): >= ${TARGET_PULL_RATIO}x cp + sync: $(ok_ge "$R_PULL" "$TARGET_PULL_RATIO")"
# What bounds a verified pull: one SHA-256 pass over every byte. The same
# file hashed by openssl from the page cache (the register baseline's dgst
# runs above) is the floor of any verified copy on this machine.
R_PULL_DGST=$(ratio "$T_DGST" "${T_PULL_M[default]}")
echo "          the hash alone, openssl dgst of the cached file: $T_DGST s; the pull = ${R_PULL_DGST}x its speed"
echo "re-register unchanged                      : $(printf '%6.3f' "$T_REREG") s  bytes_uploaded=$REREG_BYTES version=$REREG_VERSION created=$REREG_CREATED   target 0 bytes: $( [[ $REREG_BYTES == 0 ]] && echo ok || echo MISS)"
echo "  the same without the digest cache       : $(printf '%6.3f' "$T_COLD") s  bytes_uploaded=$COLD_BYTES (hashed first: a blob of the registry has its size and sample)   target 0 bytes: $( [[ $COLD_BYTES == 0 ]] && echo ok || echo MISS)"
echo "  baseline openssl dgst -sha256 of the file: $(printf '%6.3f' "$T_COLD_DGST") s  (= $(ratio "$T_COLD_DGST" "$T_COLD")x)"
echo
for m in direct buffered; do
  summary "register 1 GiB, --write-mode $m" "$(gbps "$SIZE" "${T_REG_M[$m]}") GB/s" "dgst+cp+sync $BASE_GBPS GB/s" "${R_BASE_M[$m]}x" "-" "-"
done
summary "register 1 GiB (auto: $(printf '%s\n' "${auto_modes[@]}" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }'))" "$REG_GBPS GB/s" "dgst+cp+sync $BASE_GBPS GB/s" "${R_BASE}x" ">= ${TARGET_REGISTER_RATIO}x" "$(ok_ge "$R_BASE" "$TARGET_REGISTER_RATIO")"
if [[ -n $T_DOCKER ]]; then
  summary "register 1 GiB vs docker-registry" "$REG_GBPS GB/s" "docker-registry $DOCKER_RUN_GBPS GB/s" "${R_DOCKER}x" ">= ${TARGET_DOCKER_RATIO}x" "$(ok_ge "$R_DOCKER" "$TARGET_DOCKER_RATIO")"
else
  summary "register 1 GiB vs docker-registry" "$REG_GBPS GB/s" "reference $DOCKER_GBPS GB/s (not measured)" "${R_DOCKER}x" ">= ${TARGET_DOCKER_RATIO}x" "$(ok_ge "$R_DOCKER" "$TARGET_DOCKER_RATIO")"
fi
summary "register 1 GiB (auto) vs its floor" "$REG_GBPS GB/s" "register_floor $(gbps "$SIZE" "$T_RFLOOR") GB/s" "${R_RFLOOR}x" "-" "-"
if [[ -n $T_DOCKER ]]; then
  summary "register floor (register_floor) vs docker-registry" "$(gbps "$SIZE" "$T_RFLOOR") GB/s" "docker-registry $DOCKER_RUN_GBPS GB/s" "${R_RFLOOR_DOCKER}x" "-" "-"
fi
summary "pull 1 GiB verified" "$PULL_GBPS GB/s" "cp+sync $PCP_GBPS GB/s" "${R_PULL}x" ">= ${TARGET_PULL_RATIO}x" "$(ok_ge "$R_PULL" "$TARGET_PULL_RATIO")"
summary "pull 1 GiB verified vs the hash alone" "$PULL_GBPS GB/s" "openssl dgst of the file $(gbps "$SIZE" "$T_DGST") GB/s" "${R_PULL_DGST}x" "-" "-"
summary "pull 1 GiB verified vs its floor" "$PULL_GBPS GB/s" "pull_floor $(gbps "$SIZE" "${T_PULL_M[floor]}") GB/s" "${R_FLOOR}x" "-" "-"
summary "pull floor (pull_floor) vs cp+sync" "$(gbps "$SIZE" "${T_PULL_M[floor]}") GB/s" "cp+sync $PCP_GBPS GB/s" "${R_PULL_M[floor]}x" "-" "-"
summary "pull 1 GiB verified, MODELREG_DIRECT_IO=off" "$(gbps "$SIZE" "${T_PULL_M[buffered]}") GB/s" "cp+sync $PCP_GBPS GB/s" "${R_PULL_M[buffered]}x" "-" "-"
summary "server peak RSS during register" "$HWM_MIB MiB" "-" "-" "<= $TARGET_RSS_MIB MiB" "$(ok_le "$HWM_MIB" "$TARGET_RSS_MIB")"
