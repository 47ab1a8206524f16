#!/usr/bin/env bash
# The Python client (clients/python, standard library only) against the CLI on the same
# 1 GiB single-file bundle, in the same run, against a fresh server on 127.0.0.1:
#
#   register  = a fresh server and data dir for each client, so the file is new to the
#               registry both times (client hash + upload + server hash + fsync + commit);
#               ratio = CLI time / Python time, target >= 0.5
#   pull      = download + verify (sha256) + write + fsync + rename into a fresh dir, from
#               the same server; ratio = CLI time / Python time, target >= 0.7
#
# Each repetition runs the CLI step and the Python step one right after the other; the
# ratios reported are the median of the per-repetition ratios.
#
# Usage: bench/python_register_pull.sh   (env: MODELREG_BIN, BENCH_DIR, BENCH_REPS; see lib.sh;
#        PYTHON, default /usr/bin/python3)
source "$(dirname "$0")/lib.sh"

SIZE=$((1 << 30))
TARGET_REGISTER=0.5
TARGET_PULL=0.7
MODEL=bench-py
PY="${PYTHON:-/usr/bin/python3}"
export PYTHONPATH="$REPO_DIR/clients/python" PYTHONDONTWRITEBYTECODE=1

PY_REGISTER='import sys, modelreg
out = modelreg.Registry().register(sys.argv[1], sys.argv[2])
print(out["bytes_uploaded"])'
PY_PULL='import sys, modelreg
out = modelreg.Registry().pull(sys.argv[1], sys.argv[3], version=sys.argv[2])
print(out["bytes_downloaded"])'

snapshot_binary
one_gib_bundle
PRETOUCH_MIB=1280  # see prep_step in lib.sh

header "Python client vs CLI: register / pull of a 1 GiB single-file bundle ($SIZE bytes)"
echo "   python: $("$PY" --version 2>&1) ($PY), client from $PYTHONPATH"

t_creg=() t_preg=() r_reg=()
for r in $(seq 1 "$REPS"); do
  rm -rf "$RUN_DIR/data" "$RUN_DIR/data.log" "$RUN_DIR/client-cache"
  start_server "$RUN_DIR/data"
  export MODELREG_CACHE_DIR="$RUN_DIR/client-cache"
  prep_step "$FILE"
  c=$(time_cmd "$BIN" register "$MODEL" "$BUNDLE" --json)
  up=$(jq -r .bytes_uploaded "$RUN_DIR/last.out")
  [[ $up -ge $SIZE ]] || die "CLI register uploaded $up bytes, expected at least $SIZE"
  stop_server

  rm -rf "$RUN_DIR/data" "$RUN_DIR/data.log"
  start_server "$RUN_DIR/data"
  prep_step "$FILE"
  p=$(time_cmd "$PY" -c "$PY_REGISTER" "$MODEL" "$BUNDLE")
  up=$(cat "$RUN_DIR/last.out")
  [[ $up -ge $SIZE ]] || die "Python register uploaded $up bytes, expected at least $SIZE"
  t_creg+=("$c") t_preg+=("$p") r_reg+=("$(ratio "$c" "$p")")
  if [[ $r -lt $REPS ]]; then stop_server; fi
done

# The last server holds version 1 (registered by Python): pull it with each client.
t_cpull=() t_ppull=() r_pull=()
for r in $(seq 1 "$REPS"); do
  rm -rf "$RUN_DIR/pulled-cli" "$RUN_DIR/pulled-py"
  prep_step "$RUN_DIR/data/blobs"
  c=$(time_cmd "$BIN" pull "$MODEL" 1 "$RUN_DIR/pulled-cli")
  rm -rf "$RUN_DIR/pulled-cli"
  prep_step "$RUN_DIR/data/blobs"
  p=$(time_cmd "$PY" -c "$PY_PULL" "$MODEL" 1 "$RUN_DIR/pulled-py")
  if [[ $r -eq 1 ]]; then
    cmp "$FILE" "$RUN_DIR/pulled-py/model.bin" || die "the file Python pulled differs from the original"
  fi
  rm -rf "$RUN_DIR/pulled-py"
  t_cpull+=("$c") t_ppull+=("$p") r_pull+=("$(ratio "$c" "$p")")
done
stop_server

T_CREG=$(median "${t_creg[@]}") T_PREG=$(median "${t_preg[@]}") R_REG=$(median "${r_reg[@]}")
T_CPULL=$(median "${t_cpull[@]}") T_PPULL=$(median "${t_ppull[@]}") R_PULL=$(median "${r_pull[@]}")

echo
printf '%-10s %-8s %9s %9s   %s\n' step client "median s" "GB/s" "runs (s)"
printf '%-10s %-8s %9.3f %9.3f   %s\n' register CLI "$T_CREG" "$(gbps "$SIZE" "$T_CREG")" "${t_creg[*]}"
printf '%-10s %-8s %9.3f %9.3f   %s\n' register Python "$T_PREG" "$(gbps "$SIZE" "$T_PREG")" "${t_preg[*]}"
printf '%-10s %-8s %9.3f %9.3f   %s\n' pull CLI "$T_CPULL" "$(gbps "$SIZE" "$T_CPULL")" "${t_cpull[*]}"
printf '%-10s %-8s %9.3f %9.3f   %s\n' pull Python "$T_PPULL" "$(gbps "$SIZE" "$T_PPULL")" "${t_ppull[*]}"
echo
echo "register  Python = ${R_REG}x the CLI (median of per-repetition ratios: ${r_reg[*]})   target >= $TARGET_REGISTER: $(ok_ge "$R_REG" "$TARGET_REGISTER")"
echo "pull      Python = ${R_PULL}x the CLI (median of per-repetition ratios: ${r_pull[*]})   target >= $TARGET_PULL: $(ok_ge "$R_PULL" "$TARGET_PULL")"
summary "Python client: register 1 GiB, s" "$T_PREG" "the CLI $T_CREG" "${R_REG}x faster" ">= ${TARGET_REGISTER}x" "$(ok_ge "$R_REG" "$TARGET_REGISTER")"
summary "Python client: pull 1 GiB, s" "$T_PPULL" "the CLI $T_CPULL" "${R_PULL}x faster" ">= ${TARGET_PULL}x" "$(ok_ge "$R_PULL" "$TARGET_PULL")"
