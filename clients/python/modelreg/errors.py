"""Errors of the modelreg client: one exception type carrying the registry's answer.

The REST API answers errors as {"error": {"code": "...", "message": "...", "details": [...]}}
(docs/api.md); RegistryError carries those fields and the HTTP status. Failures that never
reached the registry (connection refused, TLS) have code "UNAVAILABLE" and status None;
bad arguments found before anything is sent raise ValueError.
"""


class RegistryError(Exception):
    """An error answer of the registry, or a failure to reach it.

    code:    the API's error code, e.g. "NOT_FOUND", "UNAUTHENTICATED", "FAILED_PRECONDITION",
             "UNAVAILABLE" (worth retrying later), "DATA_LOSS" (bytes that do not hash to
             their digest)
    message: the registry's message (prefixed with what the client was doing)
    status:  the HTTP status, or None when there was no HTTP answer
    details: the API's "details" list (e.g. failing gates), possibly empty
    """

    def __init__(self, code, message, status=None, details=None):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.status = status
        self.details = list(details or [])


# The code an answer without a JSON error body maps to (as the CLI: registry/net/http_error.h).
_STATUS_CODES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 404: "NOT_FOUND", 409: "ALREADY_EXISTS", 416: "OUT_OF_RANGE",
                 502: "UNAVAILABLE", 503: "UNAVAILABLE", 504: "UNAVAILABLE"}


def from_answer(status, body, what):
    """The RegistryError for an HTTP error answer `status` with `body` (bytes)."""
    import json
    code, message, details = None, None, []
    try:
        err = json.loads(body.decode("utf-8", "replace")).get("error")
        if isinstance(err, dict) and isinstance(err.get("code"), str):
            code = err["code"]
            message = str(err.get("message", ""))
            details = err.get("details") or []
    except (ValueError, AttributeError):
        pass
    if code is None:
        code = _STATUS_CODES.get(status, "INTERNAL")
        message = "HTTP %d" % status
    return RegistryError(code, "%s: %s" % (what, message), status, details)
