"""The lineage record (docs/api.md), built and serialized exactly as the CLI's `register` does
(cli/cmd_register.cc BuildLineage, registry/core/lineage_record.cc SerializeLineage).

Fields: model, data (sorted by name; each name, uri and optional digest), code (repo, commit,
dirty, optional branch and entrypoint), params (JSON scalars), metrics (doubles), environment
(strings), optional parent (a bundle digest). The JSON is canonical (modelreg._canonical), so
the same facts give the same bytes, and the same bundle digest, from either client.
"""

import math
import numbers
import os
import re

from . import _canonical
from ._bundle import digest_data_path
from ._git import capture_git_code, strip_url_credentials

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")
_MODEL = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}\Z")
_INT64 = (-(1 << 63), (1 << 63) - 1)


def check_digest(text, what):
    if not isinstance(text, str) or not _DIGEST.match(text):
        raise ValueError("%s: invalid digest %r: want sha256:<64 lowercase hex>" % (what, text))
    return text


def check_model_name(name):
    if not isinstance(name, str) or not _MODEL.match(name):
        raise ValueError("invalid model name %r: want [a-z0-9][a-z0-9._-]{0,127}" % (name,))
    return name


def _control_char(text):
    for c in text:
        o = ord(c)
        if o < 0x20 or o == 0x7F or 0x80 <= o <= 0x9F:
            return "U+%04X" % o
    return None


def _check_key(what, key):
    if not isinstance(key, str) or not 1 <= len(key.encode("utf-8", "surrogatepass")) <= 256:
        raise ValueError("%s name must be 1 to 256 characters: %r" % (what, key))
    c = _control_char(key)
    if c:
        raise ValueError("lineage.%s: key %r contains a control character (%s)" % (what, key, c))


def _check_text(where, text):
    c = _control_char(text)
    if c:
        raise ValueError("%s: %r contains a control character (%s)" % (where, text, c))


def _plain(v):
    """numpy scalars (np.int64, np.float32, np.bool_, …) as the Python value they hold."""
    if type(v).__module__ == "numpy" and hasattr(v, "item"):
        return v.item()
    return v


def param_value(key, v):
    """A hyperparameter as the lineage record holds it: None, bool, int64, finite float or str."""
    v = _plain(v)
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, numbers.Integral):
        v = int(v)
        # As nlohmann reads JSON: integers beyond int64 are doubles.
        return v if _INT64[0] <= v <= _INT64[1] else float(v)
    if isinstance(v, numbers.Real):
        v = float(v)
        if not math.isfinite(v):
            raise ValueError("param %r: %r is not a finite number" % (key, v))
        return v
    raise ValueError("param %r must be a JSON scalar (None, bool, int, float, str), not %s"
                     % (key, type(v).__name__))


def metric_value(key, v):
    v = _plain(v)
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValueError("metric %r must be a number, not %r" % (key, v))
    v = float(v)
    if not math.isfinite(v):
        raise ValueError("metric %r value %r is not a finite number" % (key, v))
    return v


def lexically_absolute(path):
    """std::filesystem::absolute(path).lexically_normal() for a POSIX path."""
    path = os.fspath(path)
    full = path if path.startswith("/") else os.path.join(os.getcwd(), path)
    norm = os.path.normpath(full)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    # lexically_normal keeps a trailing separator when the last element is empty, "." or "..".
    trailing = full.endswith("/") or full.endswith("/.") or full.endswith("/..")
    if trailing and norm != "/":
        norm += "/"
    return norm


def _dataset_spec(name, spec):
    """A `data=` entry: "URI", "URI@sha256:HEX", or (URI, DIGEST or None)."""
    if isinstance(spec, (tuple, list)):
        uri, digest = spec
        entry = {"name": name, "uri": str(uri)}
        if digest:
            entry["digest"] = check_digest(digest, "dataset " + name)
        return entry
    spec = str(spec)
    at = spec.rfind("@sha256:")
    if at < 0:
        return {"name": name, "uri": spec}
    return {"name": name, "uri": spec[:at], "digest": check_digest(spec[at + 1:], "dataset " + name)}


def build_lineage(model, data=None, data_paths=None, code_dir=None, code_repo=None, code_commit=None,
                  code_branch=None, entrypoint=None, params=None, metrics=None, env=None, parent=None):
    """The lineage record (a dict) for `register`, with the CLI's flags as keyword arguments:
    data ({NAME: URI[@sha256:HEX]}, --data), data_paths ({NAME: PATH}, --data-path: hashed here),
    code_dir (--code-dir, a git working tree) or code_repo + code_commit, code_branch,
    entrypoint, params (--param), metrics (--metric), env (--env), parent (--parent)."""
    check_model_name(model)
    record = {"model": model}
    datasets = []
    names = set()

    def add(entry):
        if entry["name"] in names:
            raise ValueError("dataset '%s' given twice" % entry["name"])
        names.add(entry["name"])
        datasets.append(entry)

    for name, spec in (data or {}).items():
        add(_dataset_spec(str(name), spec))
    for name, path in (data_paths or {}).items():
        try:
            digest = digest_data_path(os.fspath(path))
        except (OSError, ValueError) as e:
            raise ValueError("dataset %s: %s" % (name, e)) from e
        add({"name": str(name), "uri": "file://" + lexically_absolute(path), "digest": digest})
    for i, d in enumerate(datasets):
        _check_key("data", d["name"])
        _check_text("lineage.data[%d].uri" % i, d["uri"])
    record["data"] = sorted(datasets, key=lambda d: d["name"].encode("utf-8", "surrogatepass"))

    code = None
    if code_dir is not None:
        if code_repo is not None or code_commit is not None:
            raise ValueError("code_dir and code_repo/code_commit exclude each other")
        code = capture_git_code(os.fspath(code_dir))
    elif code_repo is not None or code_commit is not None:
        if not code_commit:
            raise ValueError("code_repo needs code_commit")
        if not re.match(r"[0-9a-f]{40}\Z", code_commit):
            raise ValueError("code_commit must be 40 lowercase hex characters")
        code = {"repo": strip_url_credentials(code_repo or ""), "commit": code_commit, "dirty": False}
    if code is not None:
        if entrypoint:
            code["entrypoint"] = entrypoint
        if code_branch:
            code["branch"] = code_branch
        for field in ("repo", "branch", "entrypoint"):
            _check_text("lineage.code." + field, code.get(field, ""))
        record["code"] = code

    record["params"] = {}
    for k, v in (params or {}).items():
        _check_key("params", k)
        record["params"][k] = param_value(k, v)
    record["metrics"] = {}
    for k, v in (metrics or {}).items():
        _check_key("metrics", k)
        record["metrics"][k] = metric_value(k, v)
    record["environment"] = {}
    for k, v in (env or {}).items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ValueError("env must map strings to strings: %r=%r" % (k, v))
        _check_text("lineage.environment: key", k)
        record["environment"][k] = v
    if parent:
        record["parent"] = check_digest(parent, "parent")
    return record


def serialize_lineage(record):
    """The lineage record's bytes: the manifest's config blob."""
    return _canonical.dumpb(record)
