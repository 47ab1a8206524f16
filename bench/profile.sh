#!/usr/bin/env bash
# The reference profile of `modelreg register --profile-data` (issue #27
# item 1; registry/core/profile_builder.h) on 1 000 000 rows x 30 numeric
# columns (target: <= 3 s), no server. The table is generated once (seeded)
# and kept in $BENCH_DIR/modelreg-bench/. Beside it in the same run: the
# floor of reading the file (`wc -l`), and pandas' read_csv + describe when
# /usr/bin/python3 has pandas. Prints seconds (median of BENCH_REPS), rows/s,
# CPU seconds, and the ratios.
#   BENCH_ROWS (1000000), BENCH_COLS (30), BENCH_THREADS (2), BENCH_REPS (3)
. "$(dirname "$0")/lib.sh"
TOOL="$REPO_DIR/build/bench/profile_build"
[[ -x "$TOOL" ]] || die "build the bench tool first: cmake --build build --target profile_build"
ROWS="${BENCH_ROWS:-1000000}"
COLS="${BENCH_COLS:-30}"
THREADS="${BENCH_THREADS:-2}"
DATA="$BENCH_ROOT/profile_${ROWS}x${COLS}.csv"
if [[ ! -s "$DATA" ]]; then
  log "generating $DATA"
  "$TOOL" generate "$DATA.tmp" "$ROWS" "$COLS" && mv "$DATA.tmp" "$DATA"
fi
cat "$DATA" >/dev/null  # in the page cache, as every side reads it

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

profile_s=() cpu_s=() wc_s=() pandas_s=()
HAVE_PANDAS=0
/usr/bin/python3 -c 'import pandas' 2>/dev/null && HAVE_PANDAS=1
for ((i = 0; i < REPS; i++)); do
  out=$( { /usr/bin/time -f '%U %S' "$TOOL" run "$DATA" "$THREADS"; } 2>&1 )
  read -r rows cols secs <<<"$(head -1 <<<"$out")"
  [[ "$rows" == "$ROWS" && "$cols" == "$COLS" ]] || die "profile_build said: $out"
  profile_s+=("$secs")
  cpu_s+=("$(tail -1 <<<"$out" | awk '{print $1 + $2}')")
  t0=$(now); wc -l "$DATA" >/dev/null; t1=$(now)
  wc_s+=("$(echo "$t1 - $t0" | bc -l)")
  if ((HAVE_PANDAS)); then
    t0=$(now)
    /usr/bin/python3 -c 'import pandas, sys; pandas.read_csv(sys.argv[1]).describe(percentiles=[i / 20 for i in range(1, 20)])' "$DATA"
    t1=$(now)
    pandas_s+=("$(echo "$t1 - $t0" | bc -l)")
  fi
done
P=$(printf '%s\n' "${profile_s[@]}" | median)
C=$(printf '%s\n' "${cpu_s[@]}" | median)
W=$(printf '%s\n' "${wc_s[@]}" | median)
printf 'profile %d rows x %d columns, %d threads (load %s)\n' "$ROWS" "$COLS" "$THREADS" "$(cut -d' ' -f1 /proc/loadavg)"
printf '  profile:        %6.2f s  %10.0f rows/s  (CPU %.2f s)  target <= 3 s: %s\n' "$P" "$(echo "$ROWS / $P" | bc -l)" "$C" \
  "$(echo "$P <= 3" | bc -l | sed 's/1/met/;s/0/NOT met/')"
printf '  wc -l (floor):  %6.2f s  %10.0f rows/s  profile / wc = %.1fx the time\n' "$W" "$(echo "$ROWS / $W" | bc -l)" \
  "$(echo "$P / $W" | bc -l)"
summary "profile $ROWS rows x $COLS columns, s" "$P" "wc -l $W" "$(ratio "$P" "$W")x the time" "<= 3" "$(ok_le "$P" 3)"
if ((HAVE_PANDAS)); then
  D=$(printf '%s\n' "${pandas_s[@]}" | median)
  printf '  pandas describe: %5.2f s  %10.0f rows/s  pandas / profile = %.1fx\n' "$D" "$(echo "$ROWS / $D" | bc -l)" \
    "$(echo "$D / $P" | bc -l)"
else
  echo "  pandas describe: not run (/usr/bin/python3 has no pandas)"
fi
