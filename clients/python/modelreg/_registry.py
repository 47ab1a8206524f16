"""Registry: the client object (docs/python.md).

Each method is one CLI command (docs/cli.md) and answers the registry's JSON as a dict; an
error answer raises RegistryError with the API's code, message and HTTP status.
"""

import os

from . import _bundle, _lineage, _pull, _upload
from ._http import Connection, quote
from .errors import RegistryError

DEFAULT_URL = "http://127.0.0.1:8080"


def _check_token(token):
    token = (token or "").strip()
    for c in token:
        if c == " " or ord(c) < 0x20 or ord(c) == 0x7F:
            raise ValueError("the token holds a space or control character")
    return token


class Registry:
    """A modelreg registry at `url` (else $MODELREG_URL, else http://127.0.0.1:8080), reached
    with the bearer `token` (else $MODELREG_TOKEN). `ca`: a PEM file of the CA that signed an
    https:// registry's certificate (else the system's CAs); the certificate is always verified."""

    def __init__(self, url=None, token=None, ca=None, timeout=300):
        url = url or os.environ.get("MODELREG_URL") or DEFAULT_URL
        token = _check_token(token if token is not None else os.environ.get("MODELREG_TOKEN", ""))
        self.url = url.rstrip("/")
        self._conn = Connection(self.url, token, ca, timeout)

    def close(self):
        self._conn.close()

    def __del__(self):
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _model(self, model):
        return "/api/v1/models/" + quote(_lineage.check_model_name(model))

    def _version(self, model, version):
        return self._model(model) + "/versions/" + quote(version)

    # --- register -------------------------------------------------------------------------

    def register(self, model, path, data=None, data_paths=None, code_dir=None, params=None, metrics=None,
                 env=None, parent=None, code_repo=None, code_commit=None, code_branch=None, entrypoint=None):
        """Registers the files under directory `path` as a version of `model` with its lineage
        (the arguments of `modelreg register`: data={NAME: "URI[@sha256:HEX]"},
        data_paths={NAME: PATH}, code_dir=DIR, params={K: scalar}, metrics={K: number},
        env={K: str}, parent="sha256:…"). Uploads only what the registry lacks. Returns
        {"model", "version", "digest", "created", "files", "bytes", "bytes_uploaded",
        "blobs_uploaded", "record"}: created False when the same bundle was registered before
        (by this client or the CLI: the bytes are the same)."""
        record = _lineage.build_lineage(model, data=data, data_paths=data_paths, code_dir=code_dir,
                                        code_repo=code_repo, code_commit=code_commit,
                                        code_branch=code_branch, entrypoint=entrypoint, params=params,
                                        metrics=metrics, env=env, parent=parent)
        config = _lineage.serialize_lineage(record)
        return self._register_bundle(model, os.fspath(path), config)

    def _register_bundle(self, model, path, config):
        conn = self._conn
        files = _bundle.scan_bundle_dir(path, hash_up_to=_upload.STREAM_HASH_ABOVE)
        if not files:
            raise ValueError("bundle directory %s holds no files (empty directories are not part of a "
                             "bundle): nothing to register" % path)
        stats = {"blobs_uploaded": 0, "bytes_uploaded": 0}
        # Large files: hashed first only if some blob may be them, else while they upload.
        unhashed = [f for f in files if f.digest is None]
        if unhashed:
            maybe = _upload.maybe_present(conn, [(f.size, _bundle.sample_file(f.local, f.size)) for f in unhashed])
            for f, m in zip(unhashed, maybe):
                if m:
                    f.digest, n = _bundle.hash_file(f.local)
                    if n != f.size:
                        raise ValueError("%s changed while it was read" % f.local)
        streamed = set()
        for f in files:
            if f.digest is None:
                _upload.upload_file(conn, f, stats)
                streamed.add(f.digest)
        config_digest = _bundle.sha256_hex_of(config)
        manifest = _bundle.build_manifest(_bundle.MODEL_ARTIFACT,
                                          _bundle.descriptor(_bundle.LINEAGE_MEDIA, config_digest, len(config)),
                                          files)
        if len(manifest) > _bundle.MAX_MANIFEST_BYTES:
            raise ValueError("manifest of %d files is %d bytes; the limit is %d"
                             % (len(files), len(manifest), _bundle.MAX_MANIFEST_BYTES))
        digests = sorted({config_digest} | {f.digest for f in files})
        sent = set(streamed)
        # A blob the registry had when asked may be gone when the manifest comes
        # (`modelreg gc` removed it meanwhile: docs/operations.md "Retention and
        # garbage collection"); the registry then answers "not uploaded" and
        # records nothing, and the blobs missing now are sent again.
        for attempt in range(5):
            missing = _upload.missing_blobs(conn, digests)
            if config_digest in missing:
                _upload.upload_bytes(conn, config, config_digest, stats)
            batch, batch_bytes = [], 0
            for f in files:
                if f.digest not in missing or f.digest in sent:
                    continue
                sent.add(f.digest)
                if f.size > _upload.BATCH_THRESHOLD:
                    _upload.upload_file(conn, f, stats)
                    continue
                batch.append(f)
                batch_bytes += f.size
                if batch_bytes >= _upload.BATCH_MAX_BYTES or len(batch) >= _upload.BATCH_MAX_FILES:
                    _upload.upload_batch(conn, batch, stats)
                    batch, batch_bytes = [], 0
            _upload.upload_batch(conn, batch, stats)
            try:
                v = _upload.put_manifest(conn, model, manifest)
                break
            except RegistryError as e:
                if e.code != "FAILED_PRECONDITION" or "not uploaded" not in str(e) or attempt == 4:
                    raise
                sent = set()  # every blob missing now is sent again
        return {"model": model, "version": v.get("number", v.get("version")), "digest": v.get("digest"),
                "created": bool(v.get("created")), "files": len(files), "bytes": sum(f.size for f in files),
                "bytes_uploaded": stats["bytes_uploaded"], "blobs_uploaded": stats["blobs_uploaded"],
                "record": v}

    # --- pull -----------------------------------------------------------------------------

    def pull(self, model, dest, version=None, stage=None, force=False):
        """Downloads a version (a number, digest, digest prefix, "latest"; or stage=
        "production"/"staging"; default: the latest) into directory `dest`. Every byte is
        checked against the manifest's sha256; DEST appears whole (one rename) or not at all;
        a pull cut short by the network resumes when run again. A DEST that already holds
        exactly that version is left alone ("unchanged": True); one holding anything else is
        refused (ALREADY_EXISTS) unless force=True: the version is then pulled beside it and
        swapped in with one rename ("replaced": True). Returns {"model", "version", "digest",
        "dest", "files", "bytes", "bytes_downloaded", "bytes_reused", "unchanged", "replaced"}."""
        if version is not None and stage is not None:
            raise ValueError("give version or stage, not both")
        ref = str(version) if version is not None else (stage or "latest")
        _lineage.check_model_name(model)
        return _pull.pull(self._conn, model, ref, dest, force=force)

    # --- reading --------------------------------------------------------------------------

    def whoami(self):
        return self._conn.json("GET", "/api/v1/whoami", what="whoami")

    def models(self):
        return self._conn.json("GET", "/api/v1/models", what="models")

    def versions(self, model):
        """The versions of `model` (a list of dicts, each with its metrics)."""
        j = self._conn.json("GET", self._model(model) + "/versions", what="versions of " + model)
        return j.get("versions", j) if isinstance(j, dict) else j

    def show(self, model, version):
        """One version: digest, stage, files, lineage, datasets, metrics, approvals."""
        return self._conn.json("GET", self._version(model, version), what="%s %s" % (model, version))

    def lineage(self, model, version):
        """The lineage record, parent chain, fine-tunes and serving agents of a version."""
        return self._conn.json("GET", self._version(model, version) + "/lineage",
                               what="lineage of %s %s" % (model, version))

    def history(self, model):
        return self._conn.json("GET", self._model(model) + "/history", what="history of " + model)

    def audit_decision(self, request_id):
        """Auditor: a serving decision with the lineage, approvals and release behind it."""
        return self._conn.json("GET", "/api/v1/decisions/%s/audit" % quote(request_id),
                               what="decision " + str(request_id))

    def events(self, after=0, limit=100, wait=0):
        """The registry's events this token may see, after event id `after`, oldest first
        (docs/events.md): {"events": [...], "next": id}; pass "next" as `after` to go on.
        `wait` (seconds, at most 300; keep it under the client's timeout): wait for one
        when there is none yet."""
        query = "after=%d&limit=%d" % (int(after), int(limit))
        if wait:
            query += "&wait=%d" % int(wait)
        return self._conn.json("GET", "/api/v1/events?" + query, what="events")

    def follow(self, after=0, wait=25):
        """Yields every event after `after` as it comes, forever (a generator over events())."""
        while True:
            page = self.events(after=after, limit=1000, wait=wait)
            for e in page.get("events", []):
                yield e
            after = page.get("next", after)

    # --- workflow -------------------------------------------------------------------------

    def promote(self, model, version, to, reason=None, override=None):
        """Moves a version to "staging" or "production". Refused by policy: RegistryError with
        status 422 and the failing gates / missing approvals in .details."""
        if to not in ("staging", "production"):
            raise ValueError("to must be 'staging' or 'production', not %r" % (to,))
        body = {"to": to}
        if reason:
            body["reason"] = reason
        if override:
            body["override"] = override
        return self._conn.json("POST", self._version(model, version) + "/stage", body,
                               "promote %s %s" % (model, version), retry=False)

    def approve(self, model, version, comment=None):
        body = {"comment": comment} if comment else {}
        return self._conn.json("POST", self._version(model, version) + "/approvals", body,
                               "approve %s %s" % (model, version), retry=False)

    def reject(self, model, version, reason):
        return self._conn.json("POST", self._version(model, version) + "/reject", {"reason": reason},
                               "reject %s %s" % (model, version), retry=False)

    def archive(self, model, version, reason=None):
        body = {"reason": reason} if reason else {}
        return self._conn.json("POST", self._version(model, version) + "/archive", body,
                               "archive %s %s" % (model, version), retry=False)

    def rollback(self, model, reason):
        """Restores the previous production version: {"restored": …, "demoted": …}."""
        return self._conn.json("POST", self._model(model) + "/rollback", {"reason": reason},
                               "rollback " + model, retry=False)
