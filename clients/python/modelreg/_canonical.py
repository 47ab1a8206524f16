"""Canonical JSON exactly as the CLI writes it (nlohmann::json dump() without indent).

Object keys sorted by their UTF-8 bytes, no whitespace, strings with only '"', '\\' and control
characters escaped (lowercase \\u00xx; non-ASCII as UTF-8), integers as digits, and doubles the
way nlohmann prints them: the shortest digits that read back to the same double, in fixed
notation when the decimal point falls within -4 < n <= 15 digits of the first one (always with
a fraction: "1.0"), else as "1e+16" / "1.5e-05". Python's repr() picks the same digits but
switches to exponents at another point (1e15 is "1000000000000000.0" in Python,
"1e+15" in nlohmann), hence this module. The bundle digest depends on these bytes:
registering the same files and lineage from the CLI or from Python must give the same digest.
"""

import json
import math

_MIN_EXP, _MAX_EXP = -4, 15  # nlohmann::detail::to_chars: kMinExp, kMaxExp (digits10 of double)


def _exponent(e):
    return ("e-" if e < 0 else "e+") + ("%02d" % abs(e))


def format_double(x):
    """`x` (a finite float) as nlohmann::json writes a double."""
    if not math.isfinite(x):
        raise ValueError("%r is not a finite number" % x)
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return sign + "0.0"
    r = repr(abs(x))  # shortest round-trip digits
    mant, _, exp = r.partition("e")
    e = int(exp) if exp else 0
    whole, _, frac = mant.partition(".")
    digits = (whole + frac).lstrip("0")
    # value = 0.whole frac... scaled: the decimal point sits len(whole) digits after the start
    lead_zeros = len(whole + frac) - len((whole + frac).lstrip("0"))
    n = len(whole) - lead_zeros + e  # position of the decimal point relative to the first digit
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= _MAX_EXP:
        return sign + digits + "0" * (n - k) + ".0"
    if 0 < n <= _MAX_EXP:
        return sign + digits[:n] + "." + digits[n:]
    if _MIN_EXP < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    if k == 1:
        return sign + digits + _exponent(n - 1)
    return sign + digits[0] + "." + digits[1:] + _exponent(n - 1)


def _string(s):
    return json.dumps(s, ensure_ascii=False)


def dumps(value):
    """The canonical JSON text of `value` (dict, list, str, int, float, bool, None) as str."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_double(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-8", "surrogatepass"))
        return "{" + ",".join(_string(k) + ":" + dumps(value[k]) for k in keys) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError("cannot write %r as JSON" % (value,))


def dumpb(value):
    """dumps(value) as UTF-8 bytes (what is hashed and sent)."""
    return dumps(value).encode("utf-8", "replace")
