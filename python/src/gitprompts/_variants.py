"""Which A/B variant a unit gets: the same function as the server's and the TypeScript client's."""

from __future__ import annotations

import hashlib
import random
from typing import Any, Mapping, Optional

from ._bundle import DEFAULT_VARIANT


def unit_bucket(name: str, unit: str) -> float:
    """Where a unit falls for a prompt, in [0, 100): from the SHA-256 of name, NUL, unit."""
    digest = hashlib.sha256(f"{name}\0{unit}".encode("utf-8", "surrogatepass")).digest()
    return (int.from_bytes(digest[:4], "big") / 2**32) * 100


def choose_variant(
    name: str, variants: Mapping[str, Mapping[str, Any]], unit: Optional[str] = None
) -> str:
    """The variant a unit gets: variants take consecutive slices of [0, 100) by weight in the
    order the file declares them, `default` the rest. Random without a unit."""
    if not variants:
        return DEFAULT_VARIANT
    bucket = random.random() * 100 if unit is None else unit_bucket(name, unit)
    edge: float = 0
    for variant, spec in variants.items():
        edge += spec["weight"]
        if bucket < edge:
            return variant
    return DEFAULT_VARIANT
