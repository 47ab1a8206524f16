"""Test support: a real `modelreg serve` on 127.0.0.1 with a temporary data directory, the
CLI, tokens, a git repository, and a TCP relay that can cut or damage a download.

MODELREG_BIN names the built CLI (ctest passes $<TARGET_FILE:modelreg>); the client package
is imported from clients/python (PYTHONPATH, set by ctest; else found relative to this file).
Nothing waits a fixed time: each wait polls a condition until a generous deadline (the
machine may be loaded).
"""

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))

# The clients' cache (the CLI's digest cache, both clients' upload journals) of this test
# process, never the user's ~/.cache/modelreg.
CACHE = tempfile.mkdtemp(prefix="modelreg-pytest-cache-")
os.environ["MODELREG_CACHE_DIR"] = CACHE
atexit.register(shutil.rmtree, CACHE, True)

BIN = os.environ.get("MODELREG_BIN") or os.path.join(HERE, "..", "..", "build", "cli", "modelreg")
DEADLINE_S = 120


def read_text(path):
    with open(path) as f:
        return f.read()


def wait_for(cond, what, deadline_s=DEADLINE_S):
    end = time.monotonic() + deadline_s
    delay = 0.005
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


class Server:
    """`modelreg serve` on a free port of 127.0.0.1, stopped by stop()."""

    def __init__(self, flags=(), tmp=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="modelreg-pytest-")
        self.data = os.path.join(self.tmp, "data")
        os.makedirs(self.data)
        self.log_path = os.path.join(self.tmp, "serve.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([BIN, "serve", "--data", self.data, "--listen", "127.0.0.1:0"] + list(flags),
                                         stdout=log, stderr=subprocess.STDOUT)
        url_file = os.path.join(self.data, "serve.url")

        def started():
            if self.proc.poll() is not None:
                raise AssertionError("modelreg serve exited early:\n" + self.log())
            return os.path.exists(url_file) and read_text(url_file).strip()

        self.url = wait_for(started, "modelreg serve to write serve.url")
        self.admin = read_text(os.path.join(self.data, "admin.token")).strip()
        self.ca = None
        if "--tls-cert" in flags:
            self.ca = flags[list(flags).index("--tls-cert") + 1].replace("server.pem", "ca.pem")
        wait_for(self._healthy, "GET /healthz")
        self.cache = CACHE

    def _healthy(self):
        import ssl
        ctx = ssl.create_default_context(cafile=self.ca) if self.ca else None
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=10, context=ctx) as r:
                return r.status == 200
        except OSError:
            return False

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def env(self, token):
        e = dict(os.environ)
        e.update({"MODELREG_URL": self.url, "MODELREG_TOKEN": token, "MODELREG_CACHE_DIR": self.cache,
                  "MODELREG_PROGRESS": "0"})
        return e

    def cli(self, args, token=None, check=True):
        """Runs the CLI with --json; the parsed stdout (or the CompletedProcess if check=False)."""
        p = subprocess.run([BIN, "--json"] + list(args), env=self.env(token or self.admin),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if not check:
            return p
        if p.returncode != 0:
            raise AssertionError("modelreg %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.decode()))
        return json.loads(p.stdout) if p.stdout.strip() else None

    def token(self, name, role):
        p = subprocess.run([BIN, "token", "create", "--data", self.data, "--role", role, "--name", name],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise AssertionError("token create: " + p.stderr.decode())
        return p.stdout.decode().strip()

    def post(self, path, body, token):
        req = urllib.request.Request(self.url + path, json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": "Bearer " + token,
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read() or b"{}")


def make_tls(directory):
    """A private CA (directory/ca.pem) and a certificate for 127.0.0.1 signed by it
    (server.pem, server.key); the `serve` flags that use them."""
    def ossl(*args):
        subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.makedirs(directory, exist_ok=True)
    p = lambda n: os.path.join(directory, n)  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ossl("req", "-x509", *ec, "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2", "-subj", "/CN=test CA")
    ossl("req", *ec, "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=127.0.0.1")
    with open(p("ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial",
         "-out", p("server.pem"), "-days", "2", "-extfile", p("ext.cnf"))
    return ("--tls-cert", p("server.pem"), "--tls-key", p("server.key"))


def git_repo(path, remote="https://user:secret@git.example.com/team/train.git"):
    """A git repository at `path` with one commit on branch main and a remote origin."""
    os.makedirs(path, exist_ok=True)
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_NOSYSTEM="1", HOME=path)

    def git(*args):
        subprocess.run(["git", "-C", path] + list(args), check=True, env=env, stdout=subprocess.DEVNULL)

    git("init", "-q", "-b", "main")
    with open(os.path.join(path, "train.py"), "w") as f:
        f.write("print('train')\n")
    git("add", "train.py")
    git("commit", "-q", "-m", "first")
    git("remote", "add", "origin", remote)
    return path


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def random_file(path, size, seed):
    """`size` pseudo-random bytes from `seed` (fast: a repeated 1 MiB block, shifted per block)."""
    import random
    block = random.Random(seed).randbytes(1 << 20)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left, i = size, 0
        while left:
            piece = (block[i % 997:] + block[:i % 997])[:min(left, len(block))]
            f.write(piece)
            left -= len(piece)
            i += 1


class Relay:
    """A TCP relay to `target` (host, port) on a free port of 127.0.0.1.

    cut_after: close the first connection that has relayed this many bytes from the server,
               then refuse (close at once) every later connection while `refuse` is set
               (unless refuse_after_cut is cleared: then later ones are relayed whole).
    cut_up_after: close the first connection that has relayed this many bytes to the server
               (then refuse later ones if refuse_after_up_cut is set).
    flip_at:   damage the byte at this offset of each server->client stream.
    """

    def __init__(self, target, cut_after=None, flip_at=None, cut_up_after=None):
        self.target, self.cut_after, self.flip_at = target, cut_after, flip_at
        self.cut_up_after = cut_up_after  # the same for the client->server stream, once
        self.refuse_after_up_cut = False
        self.refuse_after_cut = True
        self.refuse = False
        self.cuts = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self.refuse:
                c.close()
                continue
            try:
                s = socket.create_connection(self.target)
            except OSError:
                c.close()
                continue
            threading.Thread(target=self._pump, args=(c, s, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(s, c, True), daemon=True).start()

    def _pump(self, src, dst, down):
        sent = 0
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                if down and self.flip_at is not None and sent <= self.flip_at < sent + len(data):
                    b = bytearray(data)
                    b[self.flip_at - sent] ^= 0xFF
                    data = bytes(b)
                if not down and self.cut_up_after is not None and sent + len(data) > self.cut_up_after:
                    dst.sendall(data[:self.cut_up_after - sent])
                    self.cut_up_after = None
                    self.refuse = self.refuse_after_up_cut
                    self.cuts += 1
                    break
                if down and self.cut_after is not None and not self.refuse and sent + len(data) > self.cut_after:
                    dst.sendall(data[:self.cut_after - sent])
                    self.refuse = self.refuse_after_cut
                    self.cut_after = None if not self.refuse_after_cut else self.cut_after
                    self.cuts += 1
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for x in (src, dst):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            x.close()

    def close(self):
        self.sock.close()
