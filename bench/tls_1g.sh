#!/usr/bin/env bash
# What TLS costs: register and pull of the 1 GiB single-file bundle over
# https (a private CA made with openssl here), beside the same over plain
# http in the same repetition, against a fresh server on 127.0.0.1 each.
#
#   register  = client hash + upload + server hash + fsync + commit
#   pull      = download + verify + write + sync into a fresh dir (the blob
#               is read into page cache first, as in register_pull_1g.sh)
#
# There is no target; the figure is the ratio https / http. On one 2-core
# machine the client and the server share the cores, so the encryption and
# decryption of both ends add up (on two machines each end pays its own).
#
# Usage: bench/tls_1g.sh   (env: MODELREG_BIN, BENCH_DIR, BENCH_REPS; see lib.sh)
source "$(dirname "$0")/lib.sh"

SIZE=$((1 << 30))
snapshot_binary
one_gib_bundle
PRETOUCH_MIB=1280  # see prep_step in lib.sh

TLS="$RUN_DIR/tls"
mkdir -p "$TLS"
openssl_q() { openssl "$@" >/dev/null 2>&1 || die "openssl $* failed"; }
openssl_q req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TLS/ca.key" \
  -out "$TLS/ca.pem" -days 2 -subj "/CN=modelreg bench CA"
openssl_q req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TLS/server.key" \
  -out "$TLS/server.csr" -subj "/CN=127.0.0.1"
printf 'subjectAltName=IP:127.0.0.1\n' >"$TLS/ext.cnf"
openssl_q x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial \
  -out "$TLS/server.pem" -days 2 -extfile "$TLS/ext.cnf"

header "register / pull of a 1 GiB single-file bundle over https and http ($SIZE bytes)"
echo "   TLS: $(openssl version | cut -d' ' -f1-2), P-256 certificate, OpenSSL's defaults on both ends"

declare -A t_reg t_pull
for r in $(seq 1 "$REPS"); do
  for mode in http https; do
    flags=() ca=()
    if [[ $mode == https ]]; then
      flags=(--tls-cert "$TLS/server.pem" --tls-key "$TLS/server.key")
      ca=(--ca "$TLS/ca.pem")
    fi
    rm -rf "$RUN_DIR/data" "$RUN_DIR/data.log" "$RUN_DIR/client-cache" "$RUN_DIR/pulled"
    start_server "$RUN_DIR/data" "${flags[@]}"
    [[ $MODELREG_URL == $mode://* ]] || die "server answers on $MODELREG_URL, expected $mode"
    if [[ $mode == https && $r -eq 1 ]]; then
      echo "   negotiated (openssl s_client, same defaults): $(openssl s_client -connect "${MODELREG_URL#https://}" \
        -CAfile "$TLS/ca.pem" </dev/null 2>/dev/null | awk '/^New, / { print $2, $NF; exit }')"
    fi
    export MODELREG_CACHE_DIR="$RUN_DIR/client-cache"
    prep_step "$FILE"
    t=$(time_cmd "$BIN" register bench-tls "$BUNDLE" --json "${ca[@]}")
    up=$(jq -r .bytes_uploaded "$RUN_DIR/last.out")
    [[ $up -ge $SIZE ]] || die "register over $mode uploaded $up bytes, expected at least $SIZE"
    t_reg[$mode]="${t_reg[$mode]:-} $t"
    prep_step "$RUN_DIR/data/blobs"
    t=$(time_cmd "$BIN" pull bench-tls 1 "$RUN_DIR/pulled" "${ca[@]}")
    t_pull[$mode]="${t_pull[$mode]:-} $t"
    if [[ $r -eq 1 ]]; then cmp "$FILE" "$RUN_DIR/pulled/model.bin" || die "file pulled over $mode differs"; fi
    stop_server
  done
done

echo
for step in register pull; do
  for mode in http https; do
    if [[ $step == register ]]; then runs=${t_reg[$mode]}; else runs=${t_pull[$mode]}; fi
    # shellcheck disable=SC2086
    m=$(median $runs)
    printf '%-8s over %-5s: %6.3f s  %6.3f GB/s   runs:%s s\n' "$step" "$mode" "$m" "$(gbps "$SIZE" "$m")" "$runs"
    if [[ $mode == http ]]; then base=$m; else echo "          https takes $(ratio "$m" "$base")x the time of http (medians)"; fi
  done
done
