#!/usr/bin/python3
"""A small prediction server for the demo model (examples/train).

    server.py MODEL_DIR PORT

Loads MODEL_DIR/model.pkl (a fitted sklearn classifier) and serves, on
127.0.0.1:PORT only:
    GET  /healthz   200 once the model is loaded
    POST /predict   {"features": [[...30 numbers...], ...]} -> {"probabilities": [...]}
Made to run under modelreg-agent's proxy mode:
    modelreg-agent ... --exec '/usr/bin/python3 examples/serving/server.py {dir} {port}' --listen 127.0.0.1:9000
"""
import json
import os
import pickle
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    if len(sys.argv) != 3:
        print("usage: server.py MODEL_DIR PORT", file=sys.stderr)
        return 2
    model_dir, port = sys.argv[1], int(sys.argv[2])
    with open(os.path.join(model_dir, "model.pkl"), "rb") as f:
        model = pickle.load(f)
    version = os.environ.get("MODEL_VERSION", "?")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes

        def log_message(self, fmt, *args):  # quiet; the agent logs requests
            pass

        def _send(self, code, obj):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/healthz":
                self._send(200, {"status": "ok", "model_dir": model_dir, "version": version})
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self):
            if self.path != "/predict":
                self._send(404, {"error": "not found"})
                return
            n = int(self.headers.get("Content-Length", "0"))
            try:
                req = json.loads(self.rfile.read(n) or b"{}")
                rows = req["features"]
                probs = model.predict_proba(rows)[:, 1].tolist()
            except Exception as e:  # bad input is the client's error
                self._send(400, {"error": str(e)})
                return
            self._send(200, {"probabilities": probs})

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    # shutdown() must not run on the thread inside serve_forever().
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
