"""Rendering a prompt of a bundle with the rules of the CLI: strict variables (missing,
unknown, mistyped: all reported at once, worded as the CLI words them), defaults, partials,
custom delimiters, `raw`, chat messages, a variant's body and model."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from ._bundle import DEFAULT_VARIANT, Prompt
from ._mustache import JsObject, Mustache
from ._suggest import did_you_mean
from .errors import InvalidVariables, MissingVariables, PromptNotFound, UnknownVariant

Message = Dict[str, str]


@dataclass
class Rendered:
    """A rendered prompt: `text` for a text prompt, `messages` for a chat prompt (the other is
    None), `model` the prompt's settings with the variant's merged over them, and `usage_id`
    the id to pass to `outcome()` ("" when usage is not logged)."""

    name: str
    version: str
    variant: str
    model: Dict[str, Any]
    text: Optional[str] = None
    messages: Optional[List[Message]] = None
    usage_id: str = ""

    def to_dict(self) -> Dict[str, Any]:
        """The result as the TypeScript client and the server give it (`text` or `messages`)."""
        out: Dict[str, Any] = {"name": self.name, "version": self.version, "variant": self.variant}
        if self.messages is not None:
            out["messages"] = self.messages
        else:
            out["text"] = self.text
        out["model"] = self.model
        return out


class Catalog:
    """The prompts of one bundle, with what rendering needs prepared once: the variables each
    prompt accepts (its own and its partials') and the Mustache engine that finds partials."""

    def __init__(self, prompts: Mapping[str, Prompt]):
        self.prompts = prompts
        self._accepted: Dict[str, Mapping[str, Mapping[str, Any]]] = {}
        self.mustache = Mustache(self._partial_template)

    def _partial_template(self, name: str) -> str:
        partial = self.prompts.get(name)
        if partial is None:
            raise PromptNotFound(f'a prompt includes "{name}", which is not loaded')
        return partial.template or ""

    def accepted(self, prompt: Prompt) -> Mapping[str, Mapping[str, Any]]:
        """The variables a prompt accepts: its partials' and its own (its own win)."""
        if not prompt.partials:
            return prompt.variables
        merged = self._accepted.get(prompt.name)
        if merged is None:
            merged = {}
            for name in prompt.partials:
                partial = self.prompts.get(name)
                if partial is None:
                    raise PromptNotFound(
                        f'prompt "{prompt.name}" includes "{name}", which is not loaded'
                    )
                merged.update(partial.variables)
            merged.update(prompt.variables)
            self._accepted[prompt.name] = merged
        return merged

    def render(
        self,
        name: str,
        variables: Optional[Mapping[str, Any]] = None,
        variant: Optional[str] = None,
    ) -> Rendered:
        """Renders a prompt; raises `PromptNotFound`, `UnknownVariant`, `InvalidVariables`."""
        prompt = self.prompts.get(name)
        if prompt is None:
            raise PromptNotFound(
                f'prompt "{name}" not found{did_you_mean(name, self.prompts.keys())} (run: prompts list)'
            )
        variant_name = DEFAULT_VARIANT if variant is None else variant
        spec: Optional[Mapping[str, Any]] = None
        if variant_name != DEFAULT_VARIANT:
            spec = prompt.variants.get(variant_name)
            if spec is None:
                known = [DEFAULT_VARIANT, *prompt.variants.keys()]
                raise UnknownVariant(
                    f'prompt "{name}" has no variant "{variant_name}"{did_you_mean(variant_name, known)}; variants: {", ".join(known)}'
                )
        view = check_variables(prompt, self.accepted(prompt), variables or {})
        model = dict(prompt.model)
        if spec is not None and "model" in spec:
            model.update(spec["model"])
        tags = prompt.delimiters
        messages = spec.get("messages") if spec is not None else None
        if messages is None:
            messages = prompt.messages
        if messages is not None:
            rendered = [
                {"role": m["role"], "content": self._body(prompt, m["content"], view, tags)}
                for m in messages
            ]
            return Rendered(name, prompt.version, variant_name, model, messages=rendered)
        template = spec.get("template") if spec is not None else None
        if template is None:
            template = prompt.template or ""
        text = self._body(prompt, template, view, tags)
        return Rendered(name, prompt.version, variant_name, model, text=text)

    def _body(
        self, prompt: Prompt, template: str, view: Dict[str, Any], tags: Optional[Tuple[str, str]]
    ) -> str:
        if prompt.raw:
            return template
        return self.mustache.render(template, view, tags)


def value_type(value: Any) -> str:
    """The declared type a value has: string, number, boolean, array, object, null or other."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "other"


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


class _NotJson(Exception):
    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def _copy_for_template(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, int) or math.isfinite(value):
            return value
        raise _NotJson("NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity"))
    if depth > 64:
        raise _NotJson("nesting deeper than 64 levels")
    if isinstance(value, (list, tuple)):
        return [_copy_for_template(item, depth + 1) for item in value]
    if isinstance(value, dict):
        copy = JsObject()
        for key, item in value.items():
            if not isinstance(key, str):
                raise _NotJson(f"a key that is no string ({key!r})")
            copy[key] = _copy_for_template(item, depth + 1)
        return copy
    raise _NotJson("a function" if callable(value) else f"a {type(value).__name__}")


def check_variables(
    prompt: Prompt, declared: Mapping[str, Mapping[str, Any]], given: Mapping[str, Any]
) -> Dict[str, Any]:
    """Checks the given values against the declarations; the view to render, with defaults."""
    problems: List[str] = []
    for key in given:
        if key not in declared:
            problems.append(f'unknown variable "{key}"{did_you_mean(str(key), declared.keys())}')
    view: Dict[str, Any] = {}
    missing: List[str] = []
    for key, spec in declared.items():
        value = given.get(key)
        if value is None:
            if "default" in spec:
                view[key] = _copy_for_template(spec["default"], 0)
            elif spec["required"]:
                missing.append(key)
            continue
        kind = value_type(value)
        if kind != spec["type"]:
            got = type(value).__name__ if kind == "other" else kind
            problems.append(f'variable "{key}" must be {_article(spec["type"])}, got {got}')
            continue
        if kind in ("array", "object"):
            try:
                view[key] = _copy_for_template(value, 0)
            except _NotJson as error:
                problems.append(f'variable "{key}" holds {error.what}; values must be JSON data')
            continue
        view[key] = value
    if missing:
        plural = "s" if len(missing) > 1 else ""
        problems.insert(0, f"missing required variable{plural}: {', '.join(missing)}")
    if problems:
        error_class = MissingVariables if missing else InvalidVariables
        raise error_class(f'cannot render "{prompt.name}": {"; ".join(problems)}', details=problems)
    return view


def render_prompt(
    prompts: Union[Catalog, Mapping[str, Prompt]],
    name: str,
    variables: Optional[Mapping[str, Any]] = None,
    variant: Optional[str] = None,
) -> Rendered:
    """Renders one prompt of a set, as `prompts render` would (no usage logged)."""
    catalog = prompts if isinstance(prompts, Catalog) else Catalog(prompts)
    return catalog.render(name, variables, variant)
