"""Reading a bundle (`prompts publish`'s JSON) and checking it exactly as `parseBundle` does in
TypeScript: a corrupt, half-written or foreign bundle is refused whole, never half used."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ._json import canonical_json, sha256_hex
from .errors import InvalidBundle

BUNDLE_FORMAT = "gitprompts-bundle/1"
DEFAULT_VARIANT = "default"

_PROMPT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/]*")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VARIANT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_HASH = re.compile(r"[0-9a-f]{64}")
_VARIABLE_TYPES = ("string", "number", "boolean", "array", "object")
_ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Prompt:
    """One prompt of a bundle, ready to render. `variables` are its own declarations (those of
    its partials are merged in when rendering); `variants` are in the order the file declares
    them, which decides who gets which."""

    name: str
    version: str
    variables: Mapping[str, Mapping[str, Any]]
    model: Mapping[str, Any]
    variants: Mapping[str, Mapping[str, Any]]
    partials: Tuple[str, ...]
    template: Optional[str] = None
    messages: Optional[Tuple[Mapping[str, str], ...]] = None
    raw: bool = False
    delimiters: Optional[Tuple[str, str]] = None
    description: Optional[str] = None
    metadata: Optional[Mapping[str, Any]] = None


@dataclass(frozen=True)
class Bundle:
    """A checked bundle: its hash (its identity and ETag), the raw JSON, and its prompts by name."""

    hash: str
    data: Mapping[str, Any]
    prompts: Mapping[str, Prompt]


def parse_bundle(text: str, where: Optional[str] = None) -> Bundle:
    """Reads and checks a bundle's text; raises `InvalidBundle` naming what is wrong."""
    try:
        value = json.loads(text)
    except ValueError as error:
        _fail(where, f"not valid JSON ({error}); a truncated or half-written file?")
    return check_bundle(value, where)


def check_bundle(value: Any, where: Optional[str] = None) -> Bundle:
    """Checks a bundle already read as JSON (a dict): the format, the hash, each prompt."""
    if not isinstance(value, dict):
        _fail(where, "not a JSON object; a gitprompts bundle is one")
    fmt = value.get("format")
    if fmt != BUNDLE_FORMAT:
        if isinstance(fmt, str) and fmt.startswith("gitprompts-bundle/"):
            _fail(
                where,
                f'format "{fmt}" is not supported; this gitprompts reads "{BUNDLE_FORMAT}" (upgrade gitprompts)',
            )
        shown = "missing" if "format" not in value else _js_json(fmt)
        _fail(where, f'format is {shown}, expected "{BUNDLE_FORMAT}"; not a gitprompts bundle')
    prompts = value.get("prompts")
    if not isinstance(prompts, dict):
        _fail(where, "`prompts` must be an object of name → prompt")
    digest = value.get("hash")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        _fail(where, "`hash` must be 64 lowercase hex digits (a SHA-256)")
    actual = sha256_hex(canonical_json(prompts))
    if actual != digest:
        _fail(
            where,
            f"hash mismatch: the bundle says {digest[:12]}…, its prompts hash to {actual[:12]}…; it is corrupt or was edited (run: prompts publish)",
        )
    source = value.get("source")
    if not (
        isinstance(source, dict)
        and _str_or_none(source.get("commit", 0))
        and _str_or_none(source.get("ref", 0))
        and isinstance(source.get("dirty"), bool)
    ):
        _fail(where, "`source` must be {commit: string|null, ref: string|null, dirty: boolean}")
    problems: List[str] = []
    for name in sorted(prompts, key=_utf16):
        _check_prompt(name, prompts[name], prompts, problems)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        _fail(where, problems[0] + more, problems)
    return Bundle(
        hash=digest,
        data=value,
        prompts={name: _to_prompt(name, prompts[name]) for name in sorted(prompts, key=_utf16)},
    )


def _fail(where: Optional[str], message: str, details: Optional[List[str]] = None) -> Any:
    prefix = "invalid bundle: " if where is None else f"invalid bundle {where}: "
    raise InvalidBundle(prefix + message, details=details or ())


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def _js_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _str_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _check_name(name: str) -> Optional[str]:
    if not _PROMPT_NAME.fullmatch(name):
        return f'prompt name "{name}" has characters outside A-Z a-z 0-9 _ . - /'
    if any(segment in ("", ".", "..") for segment in name.split("/")):
        return f'prompt name "{name}" has an empty, "." or ".." path segment'
    if name == "__proto__":
        return 'prompt name "__proto__" is reserved in JavaScript objects'
    return None


def _check_prompt(name: str, value: Any, prompts: Dict[str, Any], problems: List[str]) -> None:
    bad_name = _check_name(name)
    if bad_name is not None:
        problems.append(bad_name)
    at = f'prompt "{name}"'
    if not isinstance(value, dict):
        problems.append(f"{at} must be an object")
        return
    version = value.get("version")
    if not isinstance(version, str) or version == "":
        problems.append(f"{at} has no version")
    has_template = "template" in value
    has_messages = "messages" in value
    if has_template and has_messages:
        problems.append(f"{at} has both template and messages")
    elif not has_template and not has_messages:
        problems.append(f"{at} has neither template nor messages")
    if has_template and not isinstance(value["template"], str):
        problems.append(f"{at}: `template` must be a string")
    if has_messages:
        _check_messages(value["messages"], f"{at}: `messages`", problems)
    if "description" in value and not isinstance(value["description"], str):
        problems.append(f"{at}: `description` must be a string")
    _check_variables(value.get("variables"), at, problems)
    if not isinstance(value.get("model"), dict):
        problems.append(f"{at}: `model` must be an object")
    _check_variants(value.get("variants"), at, problems)
    partials = value.get("partials")
    if not isinstance(partials, list) or any(not isinstance(p, str) for p in partials):
        problems.append(f"{at}: `partials` must be a list of prompt names")
    else:
        for partial in partials:
            if partial not in prompts:
                problems.append(f'{at} includes "{partial}", which is not in the bundle')
    if "raw" in value and not isinstance(value["raw"], bool):
        problems.append(f"{at}: `raw` must be true or false")
    delimiters = value.get("delimiters")
    if "delimiters" in value and not (
        isinstance(delimiters, list)
        and len(delimiters) == 2
        and all(isinstance(tag, str) and tag != "" for tag in delimiters)
    ):
        problems.append(f"{at}: `delimiters` must be two non-empty strings")
    if "metadata" in value and not isinstance(value["metadata"], dict):
        problems.append(f"{at}: `metadata` must be an object")


def _check_messages(value: Any, at: str, problems: List[str]) -> None:
    ok = (
        isinstance(value, list)
        and len(value) > 0
        and all(
            isinstance(m, dict) and m.get("role") in _ROLES and isinstance(m.get("content"), str)
            for m in value
        )
    )
    if not ok:
        problems.append(f"{at} must be a non-empty list of {{role, content}}")


def _check_variables(value: Any, at: str, problems: List[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{at}: `variables` must be an object")
        return
    for name, spec in value.items():
        ok = (
            bool(_VARIABLE_NAME.fullmatch(name))
            and name != "__proto__"
            and isinstance(spec, dict)
            and spec.get("type") in _VARIABLE_TYPES
            and isinstance(spec.get("required"), bool)
        )
        if not ok:
            problems.append(f'{at}: variable "{name}" must be {{type, required, …}}')


def _check_variants(value: Any, at: str, problems: List[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{at}: `variants` must be an object")
        return
    for name, variant in value.items():
        where = f'{at}: variant "{name}"'
        if not _VARIANT_NAME.fullmatch(name) or name in ("__proto__", DEFAULT_VARIANT):
            problems.append(f"{where} is not a valid variant name")
            continue
        if not isinstance(variant, dict):
            problems.append(f"{where} must be an object")
            continue
        weight = variant.get("weight")
        if (
            isinstance(weight, bool)
            or not isinstance(weight, (int, float))
            or not math.isfinite(weight)
        ):
            problems.append(f"{where} has no weight")
        if "template" in variant and not isinstance(variant["template"], str):
            problems.append(f"{where}: `template` must be a string")
        if "messages" in variant:
            _check_messages(variant["messages"], where, problems)
        if "model" in variant and not isinstance(variant["model"], dict):
            problems.append(f"{where}: `model` must be an object")


def _to_prompt(name: str, bundled: Dict[str, Any]) -> Prompt:
    variants: Dict[str, Any] = bundled["variants"]
    order = bundled.get("variant_order")
    if isinstance(order, list):
        ordered = {n: variants[n] for n in order if isinstance(n, str) and n in variants}
        ordered.update({n: v for n, v in variants.items() if n not in ordered})
        variants = ordered
    messages = bundled.get("messages")
    delimiters = bundled.get("delimiters")
    return Prompt(
        name=name,
        version=bundled["version"],
        variables=bundled["variables"],
        model=bundled["model"],
        variants=variants,
        partials=tuple(bundled["partials"]),
        template=bundled.get("template"),
        messages=tuple(messages) if messages is not None else None,
        raw=bundled.get("raw") is True,
        delimiters=(delimiters[0], delimiters[1]) if delimiters is not None else None,
        description=bundled.get("description"),
        metadata=bundled.get("metadata"),
    )
