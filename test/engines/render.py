"""Renders templates with the engines prompts are imported from, for the import tests.

Reads a JSON list of {"engine": "fstring" | "jinja" | "variables", "template": str,
"vars": object} on stdin and writes a JSON list of {"text": str} or {"error": str}: one process
for every case. `variables` is Langfuse's Python SDK substitution (`{{ name }}` replaced when
the name is given, any other text kept).
"""

from __future__ import annotations

import json
import re
import sys
from types import SimpleNamespace
from typing import Any

import jinja2


def as_attributes(value: Any) -> Any:
    """str.format reads `{x.y}` as an attribute: objects become namespaces."""
    if isinstance(value, dict):
        return SimpleNamespace(**{key: as_attributes(item) for key, item in value.items()})
    return value


def substitute(template: str, variables: dict[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(variables[name]) if name in variables else match.group(0)

    return re.sub(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}", replace, template)


def render(case: dict[str, Any]) -> dict[str, str]:
    engine, template, variables = case["engine"], case["template"], case["vars"]
    try:
        if engine == "fstring":
            text = template.format(**{k: as_attributes(v) for k, v in variables.items()})
        elif engine == "jinja":
            text = jinja2.Template(template).render(**variables)
        elif engine == "variables":
            text = substitute(template, variables)
        else:
            return {"error": f"unknown engine {engine}"}
    except Exception as error:  # the test reports what the engine said
        return {"error": f"{type(error).__name__}: {error}"}
    return {"text": text}


json.dump([render(case) for case in json.load(sys.stdin)], sys.stdout)
