# shellcheck shell=bash
# The OCI /v2/ benchmarks' shared steps (issue #24, Performance): a model
# version promoted to production in modelreg, the same artifact in Debian's
# docker-registry (lib.sh start_docker_registry), skopeo with the flags both
# sides use. Sourced after lib.sh, not run (bench/run_all.sh skips lib*.sh).
#
# Sets: TRAINER_TOKEN, APPROVER_TOKEN, AGENT_TOKEN (oci_tokens), DIGEST (the
# version's manifest digest, oci_register_promoted).

command -v skopeo >/dev/null || die "needs skopeo (apt-get install skopeo)"
command -v docker-registry >/dev/null || die "needs docker-registry (apt-get install docker-registry)"

# skopeo copy over plain http on loopback, quiet, no signatures; credentials
# only where the caller adds --src-creds/--dest-creds (modelreg's side).
skopeo_copy() {
  skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "$@"
}

# oci_tokens: a trainer, an approver and an agent token on the running server.
oci_tokens() {
  TRAINER_TOKEN=$("$BIN" token create --role trainer --name bench-trainer)
  APPROVER_TOKEN=$("$BIN" token create --role approver --name bench-approver)
  AGENT_TOKEN=$("$BIN" token create --role agent --name bench-agent)
}

# oci_register_promoted MODEL DIR: the trainer registers DIR as a version of
# MODEL and moves it to staging, the approver approves it and promotes it to
# production (the default policy: one approval, by someone other than the
# trainer). Sets DIGEST to the version's manifest digest.
oci_register_promoted() {
  local model="$1" dir="$2" json v
  json=$(MODELREG_TOKEN=$TRAINER_TOKEN "$BIN" register "$model" "$dir" --json) || die "register failed"
  v=$(jq -r .version <<<"$json")
  DIGEST=$(jq -r .digest <<<"$json")
  MODELREG_TOKEN=$TRAINER_TOKEN "$BIN" promote "$model" "$v" --to staging >/dev/null || die "promote to staging failed"
  MODELREG_TOKEN=$APPROVER_TOKEN "$BIN" approve "$model" "$v" >/dev/null || die "approve failed"
  MODELREG_TOKEN=$APPROVER_TOKEN "$BIN" promote "$model" "$v" --to production >/dev/null || die "promote to production failed"
}

# modelreg_has_v2: the running server answers the OCI distribution API
# (GET /v2/ with a modelreg token as Bearer: 200).
modelreg_has_v2() {
  [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $MODELREG_TOKEN" "$MODELREG_URL/v2/") == 200 ]]
}

# oci_hostport URL -> HOST:PORT (skopeo's docker:// references take no scheme)
oci_hostport() { local u="${1#*://}"; echo "${u%%/*}"; }

# manifest_digest BASE_URL REPO REF [CURL_ARGS...] -> the Docker-Content-Digest
# of HEAD /v2/REPO/manifests/REF (OCI manifest accepted).
manifest_digest() {
  local base="$1" repo="$2" ref="$3"
  shift 3
  curl -s -I "$@" -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$base/v2/$repo/manifests/$ref" |
    awk 'tolower($1) == "docker-content-digest:" { print $2 }' | tr -d '\r'
}

# oci_layout_from_store DATA_DIR DIGEST DEST TAG: an OCI image layout in DEST
# holding the manifest DIGEST, its config and its layers, the blobs hard-linked
# (or copied) from modelreg's local store in DATA_DIR/blobs, tagged TAG. The
# same bytes /v2/ serves (issue #24: "served from the content-addressed store
# exactly as stored"); used to fill docker-registry when the modelreg binary
# has no /v2/ yet, so that docker-registry's half can be dry-run.
oci_layout_from_store() {
  local data="$1" digest="$2" dest="$3" tag="$4" d hex m mt size
  mkdir -p "$dest/blobs/sha256"
  m="$data/blobs/sha256/${digest:7:2}/${digest#sha256:}"
  [[ -f $m ]] || die "no manifest $digest in $data/blobs"
  for d in "$digest" $(jq -r '.config.digest, .layers[].digest' "$m"); do
    hex=${d#sha256:}
    ln -f "$data/blobs/sha256/${hex:0:2}/$hex" "$dest/blobs/sha256/$hex" 2>/dev/null ||
      cp "$data/blobs/sha256/${hex:0:2}/$hex" "$dest/blobs/sha256/$hex"
  done
  mt=$(jq -r .mediaType "$m")
  size=$(stat -c %s "$m")
  echo '{"imageLayoutVersion":"1.0.0"}' >"$dest/oci-layout"
  jq -n --arg mt "$mt" --arg d "$digest" --argjson s "$size" --arg t "$tag" \
    '{schemaVersion: 2, manifests: [{mediaType: $mt, digest: $d, size: $s, annotations: {"org.opencontainers.image.ref.name": $t}}]}' \
    >"$dest/index.json"
}

# oci_fill_docker_registry MODEL TAG: the version MODEL:TAG of the running
# modelreg into the running docker-registry under the same name and tag:
# `skopeo copy docker://modelreg/MODEL:TAG docker://docker-registry/MODEL:TAG`
# (the modelreg token as the password of HTTP basic auth, as `skopeo login`
# would send it to /v2/token), or, when modelreg has no /v2/ (DRY_RUN=1), from
# a layout built out of modelreg's store (DIGEST). Checks that docker-registry
# then serves the manifest under the same digest.
oci_fill_docker_registry() {
  local model="$1" tag="$2" got
  if [[ -z ${DRY_RUN:-} ]]; then
    skopeo_copy --src-creds "bench:$MODELREG_TOKEN" \
      "docker://$(oci_hostport "$MODELREG_URL")/$model:$tag" "docker://$(oci_hostport "$DR_URL")/$model:$tag" ||
      die "skopeo copy from modelreg to docker-registry failed"
  else
    rm -rf "$RUN_DIR/seed-layout"
    oci_layout_from_store "$SERVER_DATA" "$DIGEST" "$RUN_DIR/seed-layout" "$tag"
    skopeo_copy "oci:$RUN_DIR/seed-layout:$tag" "docker://$(oci_hostport "$DR_URL")/$model:$tag" ||
      die "skopeo copy from the layout to docker-registry failed"
    rm -rf "$RUN_DIR/seed-layout"
  fi
  got=$(manifest_digest "$DR_URL" "$model" "$tag")
  [[ $got == "$DIGEST" ]] || die "docker-registry serves $model:$tag as '$got', modelreg as $DIGEST"
}

# oci_dry_run_check: sets DRY_RUN=1 (and says so) when the running modelreg
# has no /v2/: only docker-registry's half of a benchmark runs then.
oci_dry_run_check() {
  DRY_RUN=""
  if ! modelreg_has_v2; then
    DRY_RUN=1
    echo "   DRY RUN: $BIN answers no /v2/ (GET /v2/ != 200): only docker-registry's half runs, no ratio"
  fi
}

# mbps BYTES SECONDS -> MB/s (MB = 1e6 bytes)
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) print "inf"; else printf "%.1f", b / s / 1e6 }'; }

# https_probe BASE_URL -> seconds until an https attempt on the plain-http
# port BASE_URL fails (curl -k, at most 20 s). skopeo (containers/image) with
# --*-tls-verify=false first tries https and falls back to http only when that
# fails, once per invocation: a server that answers a TLS ClientHello at once
# (Go's net/http sends a 400) costs nothing, one that waits for a request line
# costs its read timeout or skopeo's 10 s TLS handshake timeout, whichever
# comes first. Printed beside the skopeo timings, which include it.
https_probe() {
  local t
  t=$(curl -sk --max-time 20 -o /dev/null -w '%{time_total}' "https://$(oci_hostport "$1")/v2/" || true)
  awk -v t="$t" 'BEGIN { printf "%.3f", t }'
}
