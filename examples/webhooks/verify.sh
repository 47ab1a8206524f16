#!/bin/sh
# verify.sh SECRET_FILE DELIVERY_ID TIMESTAMP SIGNATURE_HEADER BODY_FILE
# Checks one modelreg webhook delivery with openssl: the values of its
# X-Modelreg-Delivery-Id, X-Modelreg-Timestamp and X-Modelreg-Signature
# headers and its body as received. Exit 0 and "ok" if one v1 signature is
# HMAC-SHA256(secret, "ID.TIMESTAMP.BODY") and the timestamp is within
# 300 s (TOLERANCE) of now; exit 1 saying why otherwise.
# The secret is the file's text without trailing newlines; note that it is
# on openssl's command line (visible to `ps` on this machine) while it runs.
set -eu
[ $# -eq 5 ] || { echo "usage: verify.sh SECRET_FILE DELIVERY_ID TIMESTAMP SIGNATURE_HEADER BODY_FILE" >&2; exit 2; }
case $2$3 in '' | *[!0-9]*) echo "refused: delivery id and timestamp must be decimal" >&2; exit 1 ;; esac
age=$(($(date +%s) - $3))
[ "${age#-}" -le "${TOLERANCE:-300}" ] || { echo "refused: timestamp is $age s from now (a replay?)" >&2; exit 1; }
mac=$({ printf '%s.%s.' "$2" "$3"; cat "$5"; } | openssl dgst -sha256 -hmac "$(cat "$1")" -binary | base64)
for sig in $4; do [ "$sig" = "v1,$mac" ] && { echo ok; exit 0; }; done
echo "refused: no signature matches (wrong secret, or an altered body or header)" >&2
exit 1
