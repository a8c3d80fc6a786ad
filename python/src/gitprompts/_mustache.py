"""The Mustache engine: pystache, set up to render as the TypeScript side's mustache.js does.

pystache (maintained, spec-compliant: partials with indentation, standalone lines, delimiters,
comments, dotted names, `{{.}}`) parses and renders. What differs between the two languages is
not Mustache but the data, and the three hooks pystache offers cover it:
- `escape`: values go in as written (no HTML escaping), as the CLI renders;
- `to_str`: a value becomes text as JavaScript's `String()` makes it (`true`, `2` for 2.0,
  `a,b` for a list, `[object Object]`, nothing for null) instead of Python's `True`, `2.0`…;
- `resolve_context`: a name is looked up as gitprompts' TypeScript `DataContext` does: own keys
  of objects, an index or `length` of a list or string, the full dotted path tried on each
  context from the innermost out, and never an attribute of a Python object.
A dict is truthy even when empty (`{}` is truthy in JavaScript): see `JsObject`.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Tuple

from pystache.context import ContextStack  # type: ignore[import-untyped]
from pystache.parser import parse  # type: ignore[import-untyped]
from pystache.renderengine import RenderEngine  # type: ignore[import-untyped]

from ._json import js_number

DEFAULT_TAGS: Tuple[str, str] = ("{{", "}}")


class JsObject(Dict[str, Any]):
    """A dict that is truthy when empty, as a JavaScript object is: `{{#settings}}` over `{}`
    renders once."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return True


_MISSING = object()


def js_string(value: Any) -> str:
    """A value as text, as JavaScript's `String(value)` writes it (null as nothing, as Mustache)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return js_number(value)
    if isinstance(value, (list, tuple)):
        return ",".join(js_string(item) for item in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def _lookup_path(view: Any, path: List[str]) -> Any:
    if len(path) == 1 and not isinstance(view, (dict, list, tuple)):
        return _MISSING
    value = view
    for key in path:
        if isinstance(value, dict):
            if key not in value:
                return _MISSING
            value = value[key]
        elif isinstance(value, (list, tuple, str)):
            if key == "length":
                value = len(value)
            elif key.isdigit() and (key == "0" or key[0] != "0") and int(key) < len(value):
                value = value[int(key)]
            else:
                return _MISSING
        else:
            return _MISSING
    return value


def _resolve(stack: Any, name: str) -> Any:
    items: List[Any] = stack._stack
    if name == ".":
        return items[-1] if items else ""
    path = name.split(".")
    for view in reversed(items):
        value = _lookup_path(view, path)
        if value is not _MISSING:
            return value
    return None


class _Engine(RenderEngine):  # type: ignore[misc]
    """pystache's engine with the hooks above, and parsed templates kept: pystache would parse
    every template on every render, and a prompt is rendered many times between edits."""

    def __init__(self, tags: Tuple[str, str], partial: Callable[[str], str]):
        super().__init__(
            literal=str,
            escape=str,
            resolve_context=_resolve,
            resolve_partial=partial,
            to_str=js_string,
        )
        self.tags = tags
        self.parsed: "OrderedDict[str, Any]" = OrderedDict()

    def render(self, template: str, context_stack: Any, delimiters: Any = None) -> str:
        # A partial is rendered with the delimiters of the prompt that includes it, as in
        # mustache.js; pystache would go back to the default ones.
        tags = self.tags if delimiters is None else tuple(delimiters)
        key = template if tags == self.tags else f"{tags[0]} {tags[1]}\0{template}"
        parsed = self.parsed.get(key)
        if parsed is None:
            parsed = parse(template, tags)
            self.parsed[key] = parsed
            if len(self.parsed) > 4096:
                self.parsed.popitem(last=False)
        return str(parsed.render(self, context_stack))


class Mustache:
    """Renders templates of one set of prompts: `partial(name)` gives an included prompt's template."""

    def __init__(self, partial: Callable[[str], str]):
        self._partial = partial
        self._engines: Dict[Tuple[str, str], _Engine] = {}

    def render(self, template: str, view: Dict[str, Any], tags: Optional[Tuple[str, str]]) -> str:
        """Renders one template with a checked view (see `to_template_data`)."""
        key = tags or DEFAULT_TAGS
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = _Engine(key, self._partial)
        return engine.render(template, ContextStack(view))
