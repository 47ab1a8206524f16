"""Sending blobs the way the CLI does (registry/client/register_ops.cc, docs/api.md):

- which of the bundle's blobs the registry lacks: POST /api/v1/blobs/missing;
- for large files not hashed yet, whether some blob may be that file (same size and sample):
  the same request with "samples"; a file that may be known is hashed first, the others are
  hashed while they upload (one read of the file);
- small files (<= 1 MiB) in batches (POST /api/v1/blobs/batch, frames "sha256:HEX SIZE\\n"
  then the bytes; <= 64 MiB and 10 000 files a batch);
- larger ones in a resumable upload session: POST /api/v1/blobs/uploads, PATCH the rest of the
  file (Content-Range: START-END), on a lost connection GET the session's Upload-Offset and
  go on from there, PUT ?digest= to finish (the registry checks the digest); the session is
  remembered in the CLI's journal ($MODELREG_CACHE_DIR/uploads/…) until it is finished, so a
  register that was killed or gave up resumes it, from this client or the CLI;
- the lineage record (the config) in one POST /api/v1/blobs/uploads?digest=.
"""

import hashlib
import json
import os

from ._http import RETRIES, Unanswered, _Abort, backoff, quote
from .errors import RegistryError

BATCH_THRESHOLD = 1 << 20
BATCH_MAX_BYTES = 64 << 20
BATCH_MAX_FILES = 10000
STREAM_HASH_ABOVE = 64 << 20
CHUNK = 8 << 20


def missing_blobs(conn, digests):
    j = conn.json("POST", "/api/v1/blobs/missing", {"digests": list(digests)}, "missing blobs")
    return set(j.get("missing", []))


def maybe_present(conn, probes):
    """For each (size, sample): whether a blob of the registry may be that file."""
    j = conn.json("POST", "/api/v1/blobs/missing",
                  {"digests": [], "samples": [{"size": s, "sample": smp} for s, smp in probes]}, "blob samples")
    idx = j.get("maybe_present")
    if not isinstance(idx, list):
        return [True] * len(probes)
    out = [False] * len(probes)
    for i in idx:
        if isinstance(i, int) and 0 <= i < len(out):
            out[i] = True
    return out


def upload_bytes(conn, data, digest, stats):
    conn.call("POST", "/api/v1/blobs/uploads?digest=" + quote(digest), data,
              {"Content-Type": "application/octet-stream"}, "upload " + digest)
    stats["blobs_uploaded"] += 1
    stats["bytes_uploaded"] += len(data)


def upload_batch(conn, files, stats):
    if not files:
        return
    headers = [("%s %d\n" % (f.digest, f.size)).encode() for f in files]
    total = sum(len(h) + f.size for h, f in zip(headers, files))

    def writer(send):
        for h, f in zip(headers, files):
            send(h)
            with open(f.local, "rb", buffering=0) as fh:
                left = f.size
                while left > 0:
                    data = fh.read(min(left, CHUNK))
                    if not data:
                        raise _Abort(ValueError("%s changed during upload" % f.local))
                    send(data)
                    left -= len(data)

    _send_retried(conn, "POST", "/api/v1/blobs/batch", total, writer,
                  {"Content-Type": "application/vnd.modelreg.blob-batch"}, "batch upload")
    stats["blobs_uploaded"] += len(files)
    stats["bytes_uploaded"] += sum(f.size for f in files)


def _send_retried(conn, method, path, length, writer, headers, what):
    for attempt in range(RETRIES + 1):
        try:
            r = conn.open(method, path, headers=headers, length=length, writer=writer)
            data = r.read()
            if r.status < 300:
                return r, data
            err = _answer_error(r.status, data, what)
        except _Abort as e:
            raise e.error
        except Unanswered as e:
            err = RegistryError("UNAVAILABLE", str(e))
        except OSError as e:
            conn.close()
            err = RegistryError("UNAVAILABLE", "%s: %s" % (what, e))
        if err.code != "UNAVAILABLE" or attempt == RETRIES:
            raise err
        backoff(attempt)


def _answer_error(status, data, what):
    from .errors import from_answer
    return from_answer(status, data, what)


def _session_offset(conn, session):
    _, r, _ = conn.call("GET", session, what="upload status")
    return int(r.getheader("Upload-Offset", "0") or 0)


def cache_dir():
    """The clients' cache directory, as the CLI finds it (docs/cli.md MODELREG_CACHE_DIR)."""
    d = os.environ.get("MODELREG_CACHE_DIR")
    if d:
        return d
    x = os.environ.get("XDG_CACHE_HOME")
    if x:
        return x + "/modelreg"
    h = os.environ.get("HOME")
    return h + "/.cache/modelreg" if h else ""


def _journal_path(url, f, st):
    """Where an unfinished upload's session is remembered, named as the CLI names it
    (registry/client/register_ops.cc): a killed register, from either client, resumes it."""
    d = cache_dir()
    if not d:
        return ""
    if f.digest:
        key = f.digest[len("sha256:"):]
    else:
        mt = st.st_mtime_ns
        key = hashlib.sha256(("%s|%d|%d.%d" % (f.local, st.st_size, mt // 10**9, mt % 10**9))
                             .encode("utf-8", "surrogateescape")).hexdigest()
    return "%s/uploads/%s-%s" % (d, hashlib.sha256(url.encode()).hexdigest()[:16], key)


def _open_session(conn, f, journal, size):
    """(session path, offset): the one a killed upload left (its journal names it and the
    registry still knows it), else a new one, remembered in the journal."""
    if journal:
        try:
            with open(journal) as fh:
                candidate = fh.read(4096).strip()
        except OSError:
            candidate = ""
        if candidate.startswith("/api/v1/blobs/uploads/"):
            try:
                offset = _session_offset(conn, candidate)
                if offset <= size:
                    return candidate, offset
            except RegistryError:
                pass
    j = conn.json("POST", "/api/v1/blobs/uploads", None, "start upload of " + f.local)
    session = "/api/v1/blobs/uploads/" + quote(j.get("upload", ""))
    if journal:
        try:
            os.makedirs(os.path.dirname(journal), mode=0o700, exist_ok=True)
            tmp = "%s.tmp-%d" % (journal, os.getpid())
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(session + "\n")
            os.replace(tmp, journal)
        except OSError:
            pass  # no journal: the upload still works, it just cannot resume after a kill
    return session, 0


def upload_file(conn, f, stats):
    """Uploads f (a LocalFile) in an upload session. With f.digest None it is hashed as it is
    sent and f.digest set. The file must not change meanwhile."""
    st0 = os.stat(f.local)
    journal = _journal_path(conn.url, f, st0)
    for round_ in range(2):
        session, offset = _open_session(conn, f, journal, f.size)
        try:
            digest = _send_session(conn, session, f, stats, offset)
            break
        except RegistryError as e:
            # The session is gone (a replica stopped mid-chunk): once more, in a new one.
            if e.code == "NOT_FOUND" and round_ == 0:
                if journal and os.path.exists(journal):
                    os.unlink(journal)
                continue
            raise
    st1 = os.stat(f.local)
    if (st1.st_size, st1.st_mtime_ns) != (st0.st_size, st0.st_mtime_ns):
        raise ValueError("%s changed during upload" % f.local)
    try:
        conn.call("PUT", session + "?digest=" + quote(digest), what="finish upload of " + f.local)
    finally:
        if journal and os.path.exists(journal):
            os.unlink(journal)
    f.digest = digest
    stats["blobs_uploaded"] += 1


def _send_session(conn, session, f, stats, offset=0):
    """PATCHes the file from the session's offset to its end, resuming after a break;
    returns the file's digest (hashed here in order unless already known)."""
    size = f.size
    hasher = None if f.digest else hashlib.sha256()
    hashed = [0]  # bytes of the file fed to hasher, always a prefix
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(f.local, "rb", buffering=0) as fh:
        fd = fh.fileno()

        def hash_to(pos):
            # Bytes before `pos` not hashed yet (a resume past what was read).
            while hasher is not None and hashed[0] < pos:
                n = os.preadv(fd, [view[:min(CHUNK, pos - hashed[0])]], hashed[0])
                if n <= 0:
                    raise _Abort(ValueError("%s shrank during upload" % f.local))
                hasher.update(view[:n])
                hashed[0] += n

        for attempt in range(RETRIES + 1):
            if offset >= size:
                break
            start = offset

            def writer(send):
                hash_to(start)
                pos = start
                while pos < size:
                    n = os.preadv(fd, [view[:min(CHUNK, size - pos)]], pos)
                    if n <= 0:
                        raise _Abort(ValueError("%s shrank during upload" % f.local))
                    chunk = view[:n]
                    if hasher is not None and pos == hashed[0]:
                        hasher.update(chunk)
                        hashed[0] += n
                    send(chunk)
                    pos += n

            headers = {"Content-Type": "application/octet-stream",
                       "Content-Range": "%d-%d" % (start, size - 1)}
            try:
                r = conn.open("PATCH", session, headers=headers, length=size - start, writer=writer)
                data = r.read()
                if r.status < 300:
                    stats["bytes_uploaded"] += size - start
                    offset = size
                    break
                err = _answer_error(r.status, data, "upload " + f.local)
            except _Abort as e:
                raise e.error
            except Unanswered as e:
                err = RegistryError("UNAVAILABLE", str(e))
            except OSError as e:
                conn.close()
                err = RegistryError("UNAVAILABLE", "upload %s: %s" % (f.local, e))
            retryable = err.code in ("UNAVAILABLE", "OUT_OF_RANGE", "ABORTED") or (
                err.code == "INVALID_ARGUMENT" and "cut off" in err.message)
            if not retryable or attempt == RETRIES:
                raise err
            if err.code != "OUT_OF_RANGE":
                backoff(attempt)
            kept = _session_offset(conn, session)
            stats["bytes_uploaded"] += max(0, kept - start)
            offset = kept
        hash_to(size)
    return f.digest if hasher is None else "sha256:" + hasher.hexdigest()


def put_manifest(conn, model, manifest):
    _, _, data = conn.call("PUT", "/api/v1/models/%s/versions" % quote(model), manifest,
                           {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, "register " + model)
    return json.loads(data)
