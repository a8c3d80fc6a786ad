"""JSON written exactly as JavaScript writes it, for hashes that agree with the TypeScript side."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

_encode_string = json.encoder.encode_basestring


def js_number(value: float) -> str:
    """A number as JavaScript's `String(n)` writes it: `2` for 2.0, `1e-7`, `1e+21`, `NaN`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    # repr gives the shortest digits that read back the same, as JavaScript does; only the
    # layout differs (JavaScript switches to exponents below 1e-6 and from 1e21 up).
    mantissa, _, exponent_text = repr(value).partition("e")
    digits = mantissa.lstrip("-").replace(".", "")
    point = mantissa.lstrip("-").find(".")
    point = len(mantissa.lstrip("-")) if point == -1 else point
    exponent = int(exponent_text or 0)
    # Normalise to digits d1d2… and n, where the value is 0.d1d2… × 10^n.
    stripped = digits.lstrip("0")
    n = point + exponent - (len(digits) - len(stripped))
    digits = stripped.rstrip("0") or "0"
    sign = "-" if value < 0 else ""
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{head}e{'+' if e >= 0 else '-'}{abs(e)}"


def _utf16_key(text: str) -> bytes:
    # JavaScript sorts keys by UTF-16 code units; Python by code points. They differ only
    # above U+FFFF, but a bundle's hash must agree there too.
    return text.encode("utf-16-be", "surrogatepass")


def canonical_json(value: Any) -> str:
    """JSON with keys sorted at every depth and no whitespace, as `canonicalJson` in TypeScript."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return str(_encode_string(value))
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "null"
        return js_number(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value.keys(), key=_utf16_key)
        return (
            "{"
            + ",".join(f"{_encode_string(key)}:{canonical_json(value[key])}" for key in keys)
            + "}"
        )
    raise TypeError(f"not JSON data: {type(value).__name__}")


def sha256_hex(text: str) -> str:
    """Hex SHA-256 of a string's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
