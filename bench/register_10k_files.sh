#!/usr/bin/env bash
# Register, re-register and pull a bundle of 10 000 random 4 KiB files in
# nested directories against a fresh server on 127.0.0.1, beside baselines
# measured in the same run.
#
#   register     target <= 3 s
#                vs  `tar -cf - DIR | sha256sum` (read + hash everything)
#                and `cp -r DIR copy && sync -f copy` (write everything durably)
#   re-register  unchanged bundle: client hashes, one "missing blobs" call, nothing uploaded
#   pull         download + verify + write + sync of all 10 000 files into a fresh dir,
#                vs `cp -r DIR copy && sync -f copy`; stopped after BENCH_PULL_TIMEOUT
#                seconds (default 60), the time then being projected from the files written
#
# Usage: bench/register_10k_files.sh   (env: MODELREG_BIN, BENCH_DIR, BENCH_REPS; see lib.sh)
source "$(dirname "$0")/lib.sh"

NFILES=10000
FSIZE=4096
TOTAL=$((NFILES * FSIZE))
TARGET_REGISTER_S=3
MODEL=bench-10k

snapshot_binary

# The input: a0..a9/b0..b9/f_00..f_99, 4 KiB of random bytes each; kept between runs.
BUNDLE="$BENCH_ROOT/bundle-10k"
count_files() { find "$1" -type f -size "${FSIZE}c" 2>/dev/null | wc -l; }
if [[ ! -d "$BUNDLE" || $(count_files "$BUNDLE") -ne $NFILES ]]; then
  log "creating $BUNDLE ($NFILES random files of $FSIZE bytes)..."
  rm -rf "$BUNDLE" "$BUNDLE.tmp"
  for i in $(seq 0 99); do
    d="$BUNDLE.tmp/a$((i / 10))/b$((i % 10))"
    mkdir -p "$d"
    head -c $((100 * FSIZE)) /dev/urandom | split -b "$FSIZE" -a 2 -d - "$d/f_"
  done
  mv "$BUNDLE.tmp" "$BUNDLE"
  [[ $(count_files "$BUNDLE") -eq $NFILES ]] || die "bundle generation failed"
fi
PRETOUCH_MIB=256  # see prep_step in lib.sh

header "register / pull of $NFILES files of $FSIZE bytes ($TOTAL bytes) in 100 nested dirs"
CLEANUP_STAMP="$BENCH_ROOT/.10k-scratch-deleted"
if [[ -f $CLEANUP_STAMP ]]; then
  age=$(($(date +%s) - $(stat -c %Y "$CLEANUP_STAMP")))
  if [[ $age -lt 300 ]]; then
    echo "   WARNING: the previous run deleted its ~90k scratch files ${age} s ago; ext4 without a journal"
    echo "   skips inodes deleted in the last 60-300 s, so creating files is slower now (see the cp -r runs)"
  fi
fi

# Nothing made in this run is deleted before its end: every repetition writes
# into its own copy.N / data.N / pulled.N. (On this machine's journal-less
# ext4, creating files soon after deleting many makes the inode allocator skip
# every recently deleted inode: ext4 find_inode_bit -> recently_deleted. A
# delete between repetitions made cp -r of 10k files 10x slower.)

# ---- baselines ----
t_tar=() t_cp=()
for r in $(seq 1 "$REPS"); do
  prep_step "$BUNDLE"
  t_tar+=("$(time_cmd bash -c 'tar -cf - -C "$1" . | sha256sum' _ "$BUNDLE")")
  prep_step "$BUNDLE"
  t_cp+=("$(time_cmd bash -c 'cp -r "$1" "$2" && sync -f "$2"' _ "$BUNDLE" "$RUN_DIR/copy.$r")")
done
T_TAR=$(median "${t_tar[@]}")
T_CP=$(median "${t_cp[@]}")
T_BASE=$(awk -v a="$T_TAR" -v b="$T_CP" 'BEGIN { printf "%.3f", a + b }')

# ---- register: a fresh server and data dir for every repetition ----
t_reg=() hwm=() phases=()
for r in $(seq 1 "$REPS"); do
  start_server "$RUN_DIR/data.$r"
  prep_step "$BUNDLE"
  t_reg+=("$(time_cmd "$BIN" register "$MODEL" "$BUNDLE" --json)")
  hwm+=("$(server_hwm_kib)") phases+=("$(server_phases)")
  files=$(jq -r .files "$RUN_DIR/last.out")
  up=$(jq -r .bytes_uploaded "$RUN_DIR/last.out")
  [[ $files == "$NFILES" && $up -ge $TOTAL ]] || die "register saw $files files and uploaded $up bytes"
  if [[ $r -lt $REPS ]]; then stop_server; fi
done
T_REG=$(median "${t_reg[@]}")
HWM_MIB=$(kib_to_mib "$(printf '%s\n' "${hwm[@]}" | sort -n | tail -1)")

# ---- re-register unchanged ----
t_rereg=()
for r in $(seq 1 "$REPS"); do
  prep_step "$BUNDLE"
  t_rereg+=("$(time_cmd "$BIN" register "$MODEL" "$BUNDLE" --json)")
  REREG_BYTES=$(jq -r .bytes_uploaded "$RUN_DIR/last.out")
  REREG_CREATED=$(jq -r .created "$RUN_DIR/last.out")
done
T_REREG=$(median "${t_rereg[@]}")

# ---- pull (verified) into a fresh dir ----
# Bounded: a pull slower than PULL_TIMEOUT seconds is stopped, and its rate is
# taken from the files it had written by then (they sit in DEST's .partial dir).
PULL_TIMEOUT="${BENCH_PULL_TIMEOUT:-60}"
t_pull=() PULL_NOTE="identical: checked with diff -r"
for r in $(seq 1 "$REPS"); do
  prep_step "$SERVER_DATA/blobs"
  t0=$(now)
  if timeout "$PULL_TIMEOUT" "$BIN" pull "$MODEL" 1 "$RUN_DIR/pulled.$r" >"$RUN_DIR/last.out" 2>"$RUN_DIR/last.err"; then
    t_pull+=("$(elapsed "$t0" "$(now)")")
  else
    rc=$?
    [[ $rc -eq 124 ]] || { cat "$RUN_DIR/last.err" >&2; die "pull failed (exit $rc)"; }
    got=$(find "$RUN_DIR"/.pulled.$r.partial-* -type f 2>/dev/null | wc -l)
    [[ $got -gt 0 ]] || die "pull wrote no file in $PULL_TIMEOUT s"
    proj=$(awk -v t="$PULL_TIMEOUT" -v g="$got" -v n="$NFILES" 'BEGIN { printf "%.1f", t * n / g }')
    t_pull+=("$proj")
    PULL_NOTE="TIMED OUT after $PULL_TIMEOUT s with $got of $NFILES files written; time projected from that rate; 1 run only"
    break
  fi
  if [[ $r -eq 1 ]]; then
    diff -r "$BUNDLE" "$RUN_DIR/pulled.$r" >/dev/null || die "pulled bundle differs from the original"
  fi
done
T_PULL=$(median "${t_pull[@]}")
stop_server

fps() { awk -v n="$NFILES" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
echo
echo "baseline  tar -cf - DIR | sha256sum          : $(printf '%6.3f' "$T_TAR") s  ($(fps "$T_TAR") files/s)"
echo "baseline  cp -r DIR copy && sync -f copy     : $(printf '%6.3f' "$T_CP") s  ($(fps "$T_CP") files/s)"
echo "baseline  both (read+hash, then write+sync)  : $(printf '%6.3f' "$T_BASE") s   (runs: tar ${t_tar[*]} s; cp ${t_cp[*]} s)"
echo "register  10k x 4 KiB                        : $(printf '%6.3f' "$T_REG") s  ($(fps "$T_REG") files/s) = $(ratio "$T_REG" "$T_BASE")x baseline time   target <= $TARGET_REGISTER_S s: $(ok_le "$T_REG" "$TARGET_REGISTER_S")"
echo "          runs: ${t_reg[*]} s; server peak RSS $HWM_MIB MiB; server-side request times of the last run: ${phases[-1]}"
echo "re-register unchanged (nothing uploaded)     : $(printf '%6.3f' "$T_REREG") s  = $(ratio "$T_REREG" "$T_TAR")x tar|sha256sum   bytes_uploaded=$REREG_BYTES created=$REREG_CREATED"
echo "pull      10k files, verified, into new dir  : $(printf '%6.3f' "$T_PULL") s  ($(fps "$T_PULL") files/s) = $(ratio "$T_PULL" "$T_CP")x cp -r+sync time   ($PULL_NOTE)"
echo "          runs: ${t_pull[*]} s"
summary "register 10 000 files x 4 KiB, s" "$T_REG" "tar|sha256sum + cp -r+sync $T_BASE" "$(ratio "$T_REG" "$T_BASE")x the time" "<= $TARGET_REGISTER_S" "$(ok_le "$T_REG" "$TARGET_REGISTER_S")"
summary "pull 10 000 files verified, s" "$T_PULL" "cp -r+sync $T_CP" "$(ratio "$T_PULL" "$T_CP")x the time" "-" "-"
