#!/usr/bin/python3
"""trivial_model_server.py DIR PORT: the benchmarks' stand-in for a model server
(bench/proxy_overhead.sh, bench/proxy_rollout.sh). Answers every GET and POST
with a fixed JSON prediction; stops on SIGTERM. Standard library only."""
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def _send(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._send(b"{\"probabilities\":[0.91]}")

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.do_GET()


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # wrk closes its connections mid-request when a run ends: not an error
        # worth a traceback per connection in the benchmark's output.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


s = Server(("127.0.0.1", int(sys.argv[2])), H)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=s.shutdown).start())
s.serve_forever()
