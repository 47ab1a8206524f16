"""One keep-alive HTTP/1.1 connection to the registry, with the CLI's retry policy.

Every request carries the bearer token. A request that gets no answer on a kept-alive
connection is sent once more at once on a fresh connection (the server may have closed it);
`call` retries a failure that is worth it (no answer, or 502/503/504 / UNAVAILABLE) up to
RETRIES more times (reads and uploads, which are idempotent; stage changes are not retried,
as in the CLI), waiting 100 ms doubling to 5 s plus up to half again at random
(registry/net/blob_download.h). HTTPS verifies the server's certificate against `ca` (a PEM
file) or the system's store.
"""

import http.client
import json
import random
import socket
import ssl
import time
import urllib.parse

from .errors import RegistryError, from_answer

RETRIES = 5
TIMEOUT_S = 300
SEND_CHUNK = 8 << 20


def backoff(attempt):
    base = min(100 << min(attempt, 6), 5000)
    time.sleep((base + random.randint(0, base // 2)) / 1000.0)


def quote(segment):
    """A path segment or query value, percent-encoded."""
    return urllib.parse.quote(str(segment), safe="")


class Unanswered(Exception):
    """No HTTP answer (refused, reset, timed out, cut short): worth a retry."""


def normalize_url(url):
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError("registry URL %r: want http[s]://host[:port]" % url)
    if u.username or u.password:
        raise ValueError("registry URL %r: credentials do not belong in the URL; pass token=" % url)
    if u.path not in ("", "/") or u.query or u.fragment:
        raise ValueError("registry URL %r: a path is not supported; want http[s]://host[:port]" % url)
    return u


class Connection:
    def __init__(self, url, token, ca=None, timeout=TIMEOUT_S):
        self.url = url.rstrip("/")
        u = normalize_url(url)
        self._https = u.scheme == "https"
        self._host, self._port = u.hostname, u.port
        self._timeout = timeout
        self._auth = "Bearer " + token if token else None
        self._ctx = None
        if self._https:
            self._ctx = ssl.create_default_context(cafile=ca)
        elif ca:
            raise ValueError("ca= is for an https:// registry")
        self._conn = None

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connect(self):
        if self._conn is None:
            if self._https:
                c = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout, context=self._ctx)
            else:
                c = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            c.connect()
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = c
        return self._conn

    def headers(self, extra=None):
        h = {"User-Agent": "modelreg-python"}
        if self._auth:
            h["Authorization"] = self._auth
        if extra:
            h.update(extra)
        return h

    def open(self, method, path, body=None, headers=None, length=None, writer=None):
        """Sends a request and returns the HTTPResponse with its head read (the body unread).
        `body` bytes, or `writer(send)` writing `length` bytes with send(buffer). Raises
        Unanswered if no answer came; TLS verification failures raise RegistryError."""
        h = self.headers(headers)
        if writer is not None:
            h["Content-Length"] = str(length)
        elif body is not None:
            h["Content-Length"] = str(len(body))
        elif method in ("POST", "PUT", "PATCH"):
            h["Content-Length"] = "0"
        for fresh in (False, True):
            reused = self._conn is not None
            try:
                c = self._connect()
                c.putrequest(method, path, skip_accept_encoding=True)
                for k, v in h.items():
                    c.putheader(k, v)
                c.endheaders()
                if writer is not None:
                    try:
                        writer(c.sock.sendall)
                    except OSError:
                        # The registry may have answered before the body ended (e.g. a
                        # refused token or a full disk): that answer, not a retry.
                        self._conn = None  # the answer holds the socket; not reused
                        try:
                            return c.getresponse()
                        except (OSError, http.client.HTTPException):
                            pass
                        raise
                elif body:
                    mv = memoryview(body)
                    for i in range(0, len(mv), SEND_CHUNK):
                        c.sock.sendall(mv[i:i + SEND_CHUNK])
                return c.getresponse()
            except ssl.SSLCertVerificationError as e:
                self.close()
                raise RegistryError("UNAVAILABLE", "%s: the registry's certificate is not trusted (%s); "
                                    "pass ca= the CA that signed it" % (self.url, e.verify_message)) from e
            except _Abort:
                self.close()
                raise
            except (OSError, http.client.HTTPException) as e:
                self.close()
                if fresh or not reused:
                    raise Unanswered("%s %s: no answer from %s: %s" % (method, path, self.url, e)) from e

    def request(self, method, path, body=None, headers=None, what=None, ok=(200, 201, 202, 204, 206)):
        """One request (with the immediate retry on a stale connection); the answer's
        (status, headers, body) if its status is in `ok`, else RegistryError."""
        try:
            r = self.open(method, path, body, headers)
            data = r.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise Unanswered("%s %s: answer cut short: %s" % (method, path, e)) from e
        if r.getheader("Connection", "").lower() == "close":
            self.close()
        if r.status not in ok:
            raise from_answer(r.status, data, what or "%s %s" % (method, path))
        return r.status, r, data

    def call(self, method, path, body=None, headers=None, what=None, ok=(200, 201, 202, 204, 206)):
        """request() retried as the CLI retries: on no answer and on UNAVAILABLE."""
        for attempt in range(RETRIES + 1):
            try:
                return self.request(method, path, body, headers, what, ok)
            except Unanswered as e:
                err = RegistryError("UNAVAILABLE", str(e))
            except RegistryError as e:
                if e.code != "UNAVAILABLE":
                    raise
                err = e
            if attempt == RETRIES:
                raise err
            backoff(attempt)

    def json(self, method, path, obj=None, what=None, retry=True):
        """A JSON request and its JSON answer. retry=False for a change that must not be made
        twice (a rollback): only the immediate resend on a stale kept-alive connection, as
        the CLI does; the caller sees UNAVAILABLE otherwise."""
        body = None if obj is None else json.dumps(obj).encode()
        headers = {"Content-Type": "application/json"} if body is not None else None
        if retry:
            _, _, data = self.call(method, path, body, headers, what)
        else:
            try:
                _, _, data = self.request(method, path, body, headers, what)
            except Unanswered as e:
                raise RegistryError("UNAVAILABLE", str(e)) from e
        if not data:
            return {}
        try:
            return json.loads(data)
        except ValueError as e:
            raise RegistryError("INTERNAL", "%s: the registry answered invalid JSON" % (what or path)) from e


class _Abort(Exception):
    """A writer's local failure (a file that changed): not the network's, never retried."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error
