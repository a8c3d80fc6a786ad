"""Every shared test vector of conformance/ (made from the TypeScript implementation): the
Python client must render, choose variants and refuse bundles exactly as the TypeScript does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from gitprompts import PromptsError, choose_variant, parse_bundle, render_prompt

VECTORS = Path(__file__).resolve().parents[2] / "conformance"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _render_cases() -> List[Tuple[str, Dict[str, Any], Dict[str, Any]]]:
    cases = []
    for path in sorted((VECTORS / "render").glob("*.json")):
        data = _load(path)
        for case in data["cases"]:
            cases.append((f"{path.stem}: {case['about']}", data["bundle"], case))
    return cases


RENDER_CASES = _render_cases()


def test_the_vectors_are_there() -> None:
    assert len(RENDER_CASES) >= 25
    assert len(list((VECTORS / "bundles-invalid").glob("*.json"))) >= 10


@pytest.mark.parametrize("about,bundle,case", RENDER_CASES, ids=[c[0] for c in RENDER_CASES])
def test_render(about: str, bundle: Dict[str, Any], case: Dict[str, Any]) -> None:
    prompts = parse_bundle(json.dumps(bundle)).prompts
    expect = case["expect"]
    variant = case.get("variant")
    if variant is None and "unit" in case and case["name"] in prompts:
        variant = choose_variant(case["name"], prompts[case["name"]].variants, case["unit"])
    if "error" in expect:
        with pytest.raises(PromptsError) as raised:
            render_prompt(prompts, case["name"], case.get("variables", {}), variant)
        assert (raised.value.code, str(raised.value)) == (expect["error"], expect["message"])
        return
    result = render_prompt(prompts, case["name"], case.get("variables", {}), variant)
    assert result.to_dict() == expect


VARIANT_CASES = _load(VECTORS / "variants.json")["cases"]


def test_variants_sticky_bucket_as_typescript() -> None:
    wrong = [
        case
        for case in VARIANT_CASES
        if choose_variant(
            case["name"], {arm: {"weight": w} for arm, w in case["weights"].items()}, case["unit"]
        )
        != case["variant"]
    ]
    assert wrong == []
    assert len({case["variant"] for case in VARIANT_CASES}) >= 4


INVALID = sorted((VECTORS / "bundles-invalid").glob("*.json"))


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_bundles_are_refused(path: Path) -> None:
    vector = _load(path)
    with pytest.raises(PromptsError) as raised:
        parse_bundle(vector["text"])
    assert raised.value.code == vector["error"]
    message = str(raised.value)
    if vector["message"].startswith("invalid bundle: not valid JSON"):
        # The parser's own words after "not valid JSON" differ between languages.
        assert message.startswith("invalid bundle: not valid JSON (")
        assert message.endswith("; a truncated or half-written file?")
    else:
        assert message == vector["message"]
