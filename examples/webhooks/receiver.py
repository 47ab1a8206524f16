#!/usr/bin/python3
"""A modelreg webhook receiver: verifies each delivery, keeps each event
once, and runs a command when a version reaches production.

    receiver.py --listen 127.0.0.1:8099 --secret-file hook.secret \
        [--on-production 'make smoke-test'] [--log events.jsonl]

Python standard library only. What it does with a POST (any path):
  - 401 unless X-Modelreg-Signature holds a v1 signature of
    "<X-Modelreg-Delivery-Id>.<X-Modelreg-Timestamp>.<body>" under the
    secret (HMAC-SHA256, base64) and the timestamp is within 300 s of this
    machine's clock (a replay, or a clock out of step). See verify() below.
  - 400 unless the body is a JSON object.
  - 200 to a delivery id it has already accepted, without acting again:
    delivery is at least once, so retries and replays within the window
    arrive as duplicates.
  - Otherwise the event is appended as one JSON line to --log (before the
    answer: an event answered 200 is on disk), then 200; and for
    "stage.changed" with data.to == "production" the --on-production
    command runs (through /bin/sh, with MODELREG_MODEL, MODELREG_VERSION and
    MODELREG_EVENT_ID in its environment) on a thread of its own after the
    answer, so a slow command does not make the registry time out and retry.
    The command's exit status is printed to stderr; a receiver stopped
    before the command ran does not run it later.

The delivery ids already accepted are read back from --log at start, so a
restarted receiver still drops duplicates.
"""

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import sys
import threading
import time

TOLERANCE = 300  # seconds either way
MAX_BODY = 1 << 20


def verify(secret, delivery_id, timestamp, signature_header, body, now=None, tolerance=TOLERANCE):
    """Raises ValueError saying why unless the delivery is signed with `secret`
    (bytes) and recent. The header values are str, the body bytes."""
    if not (delivery_id.isascii() and delivery_id.isdigit() and len(delivery_id) <= 20):
        raise ValueError("X-Modelreg-Delivery-Id is not a decimal event id")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 18):
        raise ValueError("X-Modelreg-Timestamp is not decimal unix seconds")
    skew = int(now if now is not None else time.time()) - int(timestamp)
    if abs(skew) > tolerance:
        raise ValueError("timestamp is %d s %s, more than the %d s allowed (a replay, or a clock out of step)"
                         % (abs(skew), "old" if skew > 0 else "in the future", tolerance))
    signed = delivery_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = "v1," + base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()
    # Several signatures may come, space-separated (a secret being rotated).
    if not any(hmac.compare_digest(s, expected) for s in signature_header.split(" ")):
        raise ValueError("no signature matches (a wrong secret, or an altered body or header)")


class Receiver:
    def __init__(self, secret, log_path, on_production):
        self.secret = secret
        self.log_path = log_path
        self.on_production = on_production
        self.lock = threading.Lock()
        self.seen = set()
        if log_path and os.path.exists(log_path):
            with open(log_path, encoding="utf-8") as f:
                for line in f:
                    try:
                        self.seen.add(json.loads(line)["delivery_id"])
                    except (ValueError, KeyError, TypeError):
                        pass  # a line cut by a crash

    def accept(self, delivery_id, event):
        """True if the event is new (and now logged), False for a duplicate."""
        with self.lock:
            if delivery_id in self.seen:
                return False
            if self.log_path:
                line = json.dumps({"delivery_id": delivery_id, "received_at": time.time(), "event": event})
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(line + "\n")
                    f.flush()
                    os.fsync(f.fileno())
            self.seen.add(delivery_id)
            return True

    def act(self, delivery_id, event):
        data = event.get("data") or {}
        if not self.on_production or event.get("type") != "stage.changed" or data.get("to") != "production":
            return
        env = dict(os.environ,
                   MODELREG_MODEL=str(data.get("name", event.get("model", ""))),
                   MODELREG_VERSION=str(data.get("version", event.get("version", ""))),
                   MODELREG_EVENT_ID=delivery_id)

        def run():
            rc = subprocess.call(["/bin/sh", "-c", self.on_production], env=env)
            print("receiver: event %s: %r exited with %d" % (delivery_id, self.on_production, rc),
                  file=sys.stderr, flush=True)

        threading.Thread(target=run, daemon=True).start()


def make_handler(receiver):
    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self, status, text):
            payload = (text + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            length = self.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > MAX_BODY:
                return self.answer(411 if not length.isdigit() else 413, "a body of known size up to 1 MiB")
            body = self.rfile.read(int(length))
            delivery_id = self.headers.get("X-Modelreg-Delivery-Id", "")
            try:
                verify(receiver.secret, delivery_id, self.headers.get("X-Modelreg-Timestamp", ""),
                       self.headers.get("X-Modelreg-Signature", ""), body)
            except ValueError as e:
                return self.answer(401, "refused: %s" % e)
            try:
                event = json.loads(body)
                if not isinstance(event, dict):
                    raise ValueError("not an object")
            except ValueError:
                return self.answer(400, "the body is not a JSON object")
            if not receiver.accept(delivery_id, event):
                return self.answer(200, "duplicate %s: already accepted" % delivery_id)
            self.answer(200, "accepted %s" % delivery_id)
            self.wfile.flush()
            receiver.act(delivery_id, event)

        def log_message(self, fmt, *args):
            print("receiver: " + fmt % args, file=sys.stderr, flush=True)

    return Handler


def main():
    p = argparse.ArgumentParser(description="Receive modelreg webhooks (see README.md).")
    p.add_argument("--listen", required=True, help="HOST:PORT (port 0: any free port)")
    p.add_argument("--secret-file", required=True, help="the webhook's secret (trailing newlines ignored)")
    p.add_argument("--on-production", help="shell command to run when a version reaches production")
    p.add_argument("--log", help="append each accepted event here, one JSON line each")
    args = p.parse_args()
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        p.error("--listen wants HOST:PORT, e.g. 127.0.0.1:8099")
    with open(args.secret_file, "rb") as f:
        secret = f.read().rstrip(b"\r\n")
    if not secret:
        p.error("--secret-file %s is empty" % args.secret_file)
    receiver = Receiver(secret, args.log, args.on_production)
    server = http.server.ThreadingHTTPServer((host, int(port)), make_handler(receiver))
    print("receiver: listening on http://%s:%d" % (host, server.server_address[1]), file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
