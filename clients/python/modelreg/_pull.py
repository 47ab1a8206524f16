"""Pulling a version into a directory as the CLI does (registry/client/pull_ops.cc, pull_dir.cc):

- the manifest must hash to the version's digest; every file must hash to its layer's digest
  (DATA_LOSS otherwise: the file is removed);
- files go into a temporary directory beside DEST, `.DEST.partial-XXXXXXXXXXXX`, named in a
  lock file `.DEST.partial-XXXXXXXXXXXX.lock` that holds the bundle digest (flock'ed while a
  pull runs); when all are there and fsync'ed, the directory is renamed to DEST: DEST holds the
  whole version or does not exist;
- a pull that could not reach the registry keeps what arrived: the next pull of the same
  version into DEST (from this client or the CLI) adopts that directory, keeps the files that
  verify and resumes a file cut short with `Range: bytes=N-`;
- small blobs (<= 4 MiB) come many at a time with POST .../blobs/fetch (<= 64 MiB a request),
  large ones one by one with GET .../blobs/{digest}; a blob that appears twice is copied.
"""

import errno
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time

from ._http import RETRIES, Unanswered, backoff, quote
from .errors import RegistryError, from_answer

FETCH_BLOB_MAX = 4 << 20
FETCH_REQUEST_MAX = 64 << 20
FETCH_MAX_BLOBS = 10000
CHUNK = 8 << 20
_STALE_STAGING_S = 60


def _check_title(title):
    parts = title.split("/")
    if (not title or title.startswith("/") or "\\" in title or "\0" in title
            or any(p in ("", ".", "..") for p in parts)):
        raise RegistryError("DATA_LOSS", "manifest names an unsafe path %r" % title)


def parse_manifest(data):
    try:
        m = json.loads(data)
        layers = m["layers"]
        out = []
        for l in layers:
            title = l["annotations"]["org.opencontainers.image.title"]
            _check_title(title)
            out.append((title, l["digest"], int(l["size"])))
    except (ValueError, KeyError, TypeError) as e:
        raise RegistryError("DATA_LOSS", "the registry's manifest is not a bundle manifest: %s" % e) from e
    return out


class PullDir:
    """The temporary directory beside DEST and its lock (the CLI's naming: pull_dir.cc)."""

    def __init__(self, dest, digest):
        self.dest = dest
        self.parent = os.path.dirname(dest)
        prefix = "." + os.path.basename(dest) + ".partial-"
        want = (digest + "\n").encode()
        self.adopted = False
        self.lock_fd = None
        self.keep = False
        names = os.listdir(self.parent)
        # Staging files of pulls killed before their lock was in place.
        for n in names:
            if n.startswith(prefix) and n.endswith(".new") and len(n) > len(prefix) + 4:
                p = os.path.join(self.parent, n)
                try:
                    fd = os.open(p, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
                except OSError:
                    continue
                try:
                    if time.time() - os.fstat(fd).st_mtime < _STALE_STAGING_S:
                        continue
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    stem = p[:-4]
                    if not os.path.lexists(stem + ".lock") and os.path.isdir(stem):
                        shutil.rmtree(stem, ignore_errors=True)
                    os.unlink(p)
                except OSError:
                    pass
                finally:
                    os.close(fd)
        for n in sorted(names):
            if not (n.startswith(prefix) and n.endswith(".lock") and len(n) > len(prefix) + 5):
                continue
            lock = os.path.join(self.parent, n)
            try:
                fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue  # a pull still running
            d = lock[:-5]
            is_dir = os.path.isdir(d) and not os.path.islink(d)
            if self.lock_fd is None and is_dir and os.pread(fd, 200, 0) == want:
                self.dir, self.lock_path, self.lock_fd, self.adopted = d, lock, fd, True
                continue
            if is_dir:
                shutil.rmtree(d, ignore_errors=True)
            os.unlink(lock)
            os.close(fd)
        if self.adopted:
            return
        stem = os.path.join(self.parent, prefix + secrets.token_hex(6))
        staging = stem + ".new"
        fd = os.open(staging, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, want)
            os.rename(staging, stem + ".lock")
            os.mkdir(stem, 0o755)
        except OSError:
            os.close(fd)
            for p in (staging, stem + ".lock"):
                if os.path.lexists(p):
                    os.unlink(p)
            raise
        self.dir, self.lock_path, self.lock_fd = stem, stem + ".lock", fd

    def keep_verified(self, layers):
        """Files an earlier pull left: (whole: verified files, prefix: {path: bytes} to resume)."""
        whole, prefix = set(), {}
        if not self.adopted:
            return whole, prefix
        files = {os.path.join(self.dir, t): (d, s) for t, d, s in layers}
        dirs = {self.dir}
        for p in files:
            q = os.path.dirname(p)
            while len(q) > len(self.dir):
                dirs.add(q)
                q = os.path.dirname(q)
        for root, dnames, fnames in os.walk(self.dir):
            for dn in list(dnames):
                p = os.path.join(root, dn)
                if p not in dirs or os.path.islink(p):
                    _remove(p)
                    dnames.remove(dn)
            for fn in fnames:
                p = os.path.join(root, fn)
                if p not in files or os.path.islink(p) or not os.path.isfile(p):
                    _remove(p)
                    continue
                digest, size = files[p]
                have = os.stat(p).st_size
                if 0 < have < size:
                    prefix[p] = have
                elif have == size and _hash(p) == digest:
                    whole.add(p)
                else:
                    os.unlink(p)
        return whole, prefix

    def commit(self):
        os.rename(self.dir, self.dest)
        os.unlink(self.lock_path)
        self.close()
        _fsync_dir(self.parent)

    def close(self):
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None

    def abandon(self):
        """On failure: remove the directory unless what arrived is kept for a resume."""
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
            if os.path.lexists(self.lock_path):
                os.unlink(self.lock_path)
        self.close()


def _remove(p):
    if os.path.isdir(p) and not os.path.islink(p):
        shutil.rmtree(p, ignore_errors=True)
    else:
        os.unlink(p)


def _hash(path):
    h = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(view[:n])
    return "sha256:" + h.hexdigest()


def _fsync_dir(d):
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _disk(e, what):
    code = "RESOURCE_EXHAUSTED" if e.errno == errno.ENOSPC else "INTERNAL"
    return RegistryError(code, "%s: %s" % (what, e))


def download_blob(conn, base, path, digest, size, resume, stats):
    """GET one blob into `path`, resuming from its present bytes if `resume`; verified."""
    url = base + "/blobs/" + quote(digest)
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    whole_again = False
    attempt = 0
    while True:
        h = hashlib.sha256()
        have = 0
        if resume and os.path.exists(path):
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            while True:  # the kept bytes
                n = os.readv(fd, [view])
                if n <= 0:
                    break
                h.update(view[:n])
                have += n
            stats["bytes_reused"] += have
        else:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        resumed_from = have
        try:
            while have < size:
                headers = {"Range": "bytes=%d-" % have} if have else None
                try:
                    r = conn.open("GET", url, headers=headers)
                    if r.status not in (200, 206):
                        err = from_answer(r.status, r.read(), "blob " + digest)
                        raise err
                    if r.status == 200 and have:  # Range ignored: the whole blob again
                        os.ftruncate(fd, 0)
                        os.lseek(fd, 0, os.SEEK_SET)
                        h, have, resumed_from = hashlib.sha256(), 0, 0
                    while have < size:
                        n = r.readinto(view[:min(CHUNK, size - have)])
                        if not n:
                            raise Unanswered("blob %s: answer ended after %d of %d bytes" % (digest, have, size))
                        chunk = view[:n]
                        h.update(chunk)
                        try:
                            _write_all(fd, chunk)
                        except OSError as e:
                            raise _disk(e, "write " + path) from e
                        have += n
                        stats["bytes_downloaded"] += n
                    if r.read(1):
                        raise RegistryError("DATA_LOSS", "blob %s is larger than %d bytes" % (digest, size))
                    r.close()
                except (Unanswered, OSError) as e:
                    conn.close()
                    if attempt >= RETRIES:
                        raise RegistryError("UNAVAILABLE", "blob %s: %s" % (digest, e)) from e
                    backoff(attempt)
                    attempt += 1
                except RegistryError as e:
                    if e.code != "UNAVAILABLE" or attempt >= RETRIES:
                        raise
                    backoff(attempt)
                    attempt += 1
            got = "sha256:" + h.hexdigest()
            if got == digest:
                return
        finally:
            os.close(fd)
        if resumed_from and not whole_again:  # the kept bytes may be what was wrong
            whole_again, resume = True, False
            continue
        os.unlink(path)
        raise RegistryError("DATA_LOSS", "blob %s: the bytes received hash to %s" % (digest, got))


def _write_all(fd, data):
    while len(data):
        n = os.write(fd, data)
        data = data[n:]


def fetch_blobs(conn, base, items, stats):
    """POST .../blobs/fetch for `items` [(path, digest, size)]: cut at the sizes, each hashed."""
    pending = list(items)
    attempt = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while pending:
        body = json.dumps({"digests": [d for _, d, _ in pending]}).encode()
        done = 0
        try:
            r = conn.open("POST", base + "/blobs/fetch", body, {"Content-Type": "application/json"})
            if r.status != 200:
                err = from_answer(r.status, r.read(), "fetch blobs")
                if err.code != "UNAVAILABLE" or attempt >= RETRIES:
                    raise err
                backoff(attempt)
                attempt += 1
                continue
            for path, digest, size in pending:
                h = hashlib.sha256()
                left = size
                with open(path, "wb", buffering=0) as out:
                    while left:
                        n = r.readinto(view[:min(CHUNK, left)])
                        if not n:
                            raise Unanswered("fetch blobs: answer ended early")
                        h.update(view[:n])
                        try:
                            _write_all(out.fileno(), view[:n])
                        except OSError as e:
                            raise _disk(e, "write " + path) from e
                        left -= n
                        stats["bytes_downloaded"] += n
                if "sha256:" + h.hexdigest() != digest:
                    os.unlink(path)
                    raise RegistryError("DATA_LOSS", "blob %s: the bytes received hash to another digest"
                                        % digest)
                done += 1
            r.read()
            pending = []
        except (Unanswered, OSError) as e:
            conn.close()
            pending = pending[done:]
            if attempt >= RETRIES:
                raise RegistryError("UNAVAILABLE", "fetch blobs: %s" % e) from e
            backoff(attempt)
            attempt += 1


def _dest_content(dest, layers):
    """"nothing" (absent or empty), "same" (exactly these files, sizes and digests) or "other"
    (registry/client/pull_dest.cc CompareDest)."""
    if not os.path.lexists(dest):
        return "nothing"
    if os.path.islink(dest) or not os.path.isdir(dest):
        return "other"
    have = {}
    for root, dirs, files in os.walk(dest):
        for n in dirs:
            if os.path.islink(os.path.join(root, n)):
                return "other"
        for n in files:
            p = os.path.join(root, n)
            if os.path.islink(p) or not os.path.isfile(p):
                return "other"
            have[os.path.relpath(p, dest)] = p
    if not have and not os.listdir(dest):
        return "nothing"
    want = {t: (d, s) for t, d, s in layers}
    if set(have) != set(want) or any(os.path.getsize(have[t]) != s for t, (_, s) in want.items()):
        return "other"
    return "same" if all(_hash(have[t]) == d for t, (d, _) in want.items()) else "other"


def _exchange(a, b):
    """Swaps two paths in one step (renameat2 RENAME_EXCHANGE), else in three renames."""
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        at_fdcwd, rename_exchange = -100, 2
        if libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
            return
    except (OSError, AttributeError):
        pass
    aside = a + ".old"
    os.rename(b, aside)
    os.rename(a, b)
    os.rename(aside, a)


def pull(conn, model, ref, dest, force=False):
    """Pulls `ref` into `dest` (see Registry.pull)."""
    base = "/api/v1/models/" + quote(model)
    v = conn.json("GET", base + "/versions/" + quote(ref), what="%s %s" % (model, ref))
    digest = v.get("digest", "")
    # By digest from here on: a stage that moves meanwhile does not mix two versions.
    _, _, manifest = conn.call("GET", base + "/versions/" + quote(digest) + "/manifest",
                               what="manifest of %s %s" % (model, ref))
    if "sha256:" + hashlib.sha256(manifest).hexdigest() != digest:
        raise RegistryError("DATA_LOSS", "manifest of %s %s does not hash to %s" % (model, ref, digest))
    layers = parse_manifest(manifest)
    dest = os.path.normpath(os.path.abspath(os.fspath(dest)))
    result = {"model": model, "version": v.get("version"), "digest": digest, "dest": dest,
              "files": len(layers), "bytes": sum(s for _, _, s in layers), "bytes_downloaded": 0,
              "bytes_reused": 0, "unchanged": False, "replaced": False}
    held = _dest_content(dest, layers)
    if held == "same":
        result["unchanged"] = True
        return result
    if held == "other":
        if not force:
            raise RegistryError("ALREADY_EXISTS", "%s holds something else than %s %s; pass force=True to "
                                "replace it" % (dest, model, ref))
        # A fresh directory beside DEST, pulled whole, then swapped in; the old files go.
        fresh = os.path.join(os.path.dirname(dest), ".%s.modelreg-replace-%s" % (os.path.basename(dest),
                                                                                 secrets.token_hex(4)))
        out = _pull_into(conn, base, model, ref, digest, layers, fresh, v)
        _exchange(fresh, dest)
        _fsync_dir(os.path.dirname(dest))
        shutil.rmtree(fresh)
        out.update(dest=dest, replaced=True, unchanged=False)
        return out
    result.update(_pull_into(conn, base, model, ref, digest, layers, dest, v))
    return result


def _pull_into(conn, base, model, ref, digest, layers, dest, v):
    """Pulls into `dest`, which does not exist or is an empty directory."""
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    stats = {"files": len(layers), "bytes": sum(s for _, _, s in layers), "bytes_downloaded": 0,
             "bytes_reused": 0}
    partial = PullDir(dest, digest)
    try:
        whole, prefix = partial.keep_verified(layers)
        first, small, large, copies = {}, [], [], []
        for title, d, size in layers:
            target = os.path.join(partial.dir, title)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if target in whole:
                stats["bytes_reused"] += size
                first.setdefault(d, target)
                continue
            if d in first:
                copies.append((target, first[d]))
                continue
            first[d] = target
            (small if size <= FETCH_BLOB_MAX else large).append((target, d, size))
        for p in prefix:
            if not any(p == t for t, _, _ in large):
                os.unlink(p)
        batch, batch_bytes = [], 0
        for item in small:
            batch.append(item)
            batch_bytes += item[2]
            if batch_bytes >= FETCH_REQUEST_MAX or len(batch) >= FETCH_MAX_BLOBS:
                fetch_blobs(conn, base, batch, stats)
                batch, batch_bytes = [], 0
        fetch_blobs(conn, base, batch, stats)
        for target, d, size in large:
            download_blob(conn, base, target, d, size, target in prefix, stats)
        for to, frm in copies:
            shutil.copyfile(frm, to)
        # Durable before the rename.
        dirs = {partial.dir}
        for title, _, _ in layers:
            target = os.path.join(partial.dir, title)
            fd = os.open(target, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            q = os.path.dirname(target)
            while len(q) >= len(partial.dir):
                dirs.add(q)
                if q == partial.dir:
                    break
                q = os.path.dirname(q)
        for d in dirs:
            _fsync_dir(d)
        partial.commit()
    except RegistryError as e:
        if e.code == "UNAVAILABLE" and stats["bytes_downloaded"] + stats["bytes_reused"] > 0:
            partial.keep = True
            e.message += "; what arrived is kept in %s: the same pull into %s continues from it" % (
                partial.dir, dest)
            e.args = ("%s: %s" % (e.code, e.message),)
        partial.abandon()
        raise
    except BaseException:
        partial.abandon()
        raise
    return {"model": model, "version": v.get("version"), "digest": digest, "dest": dest,
            "unchanged": False, "replaced": False, **stats}
