"""PromptClient on a bundle URL of a plain static host and on a local bundle file: polling
with If-None-Match, watching an atomic publish, and invalid bundles that keep the last good."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict, List

import pytest

from conftest import GREETING, Repo, StaticHost, atomic_copy, wait_for
from gitprompts import PromptClient, PromptsError, Update


def test_a_static_bundle_url_is_polled_with_if_none_match_and_swapped_when_republished(
    repo: Repo, static_host: StaticHost, clients: List[Any]
) -> None:
    shutil.copyfile(repo.publish(), static_host.root / "prompts.json")
    prompts = PromptClient(static_host.url("prompts.json"), refresh_s=0.05)
    clients.append(prompts)
    errors: List[PromptsError] = []
    prompts.on_error(errors.append)
    prompts.ready()
    wait_for(lambda: static_host.statuses.count(304) >= 3, 5, "304s while unchanged")
    # A bare static bundle has nowhere to send usage: it says so once.
    assert [e.code for e in errors] == ["E_USAGE"] and "usage is not logged" in str(errors[0])
    assert prompts.render("greeting", {"name": "A"}).usage_id == ""
    repo.write({"prompts/greeting.yaml": GREETING.replace("Hello", "Hej")})
    atomic_copy(repo.publish(), static_host.root / "prompts.json")
    wait_for(lambda: prompts.render("greeting", {"name": "A"}).text == "Hej, A!", 5, "the swap")


@pytest.mark.parametrize(
    "broken,why",
    [
        (lambda text: text[: len(text) // 2], "not valid JSON"),
        (lambda text: text.replace("Hello", "Hullo"), "hash mismatch"),
        (lambda text: '{"format":"gitprompts-bundle/2"}', "is not supported"),
    ],
    ids=["half-written", "hash-mismatch", "newer-format"],
)
def test_an_invalid_bundle_on_the_host_keeps_the_last_good_and_says_why(
    repo: Repo, static_host: StaticHost, clients: List[Any], broken: Any, why: str
) -> None:
    good = repo.publish().read_text(encoding="utf-8")
    target = static_host.root / "prompts.json"
    target.write_text(good, encoding="utf-8")
    prompts = PromptClient(static_host.url("prompts.json"), refresh_s=0, usage=False)
    clients.append(prompts)
    errors: List[PromptsError] = []
    prompts.on_error(errors.append)
    prompts.ready()
    target.write_text(broken(good), encoding="utf-8")
    assert prompts.refresh() is False
    assert len(errors) == 1 and why in str(errors[0]) and errors[0].code == "E_IO"
    assert "cannot refresh prompts from http://127.0.0.1:" in str(errors[0])
    assert prompts.render("greeting", {"name": "K"}).text == "Hello, K!"


def test_a_local_bundle_file_is_watched_and_an_atomic_publish_swaps_within_milliseconds(
    repo: Repo, clients: List[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bundle = repo.publish()
    prompts = PromptClient(bundle, watch=True, refresh_s=0)
    clients.append(prompts)
    updates: List[Update] = []
    errors: List[PromptsError] = []
    prompts.on_update(updates.append)
    prompts.on_error(errors.append)
    prompts.ready()
    r = prompts.render("greeting", {"name": "F"})
    repo.write({"prompts/greeting.yaml": GREETING.replace("Hello", "Moin")})
    repo.publish()  # `prompts publish` writes aside and renames
    wait_for(lambda: updates, 5, "the update")
    assert updates[0].changed == ["greeting"]
    assert prompts.render("greeting", {"name": "F"}).text == "Moin, F!"
    # A half-written file is refused; the last good prompts stay.
    bundle.write_text(bundle.read_text(encoding="utf-8")[:100], encoding="utf-8")
    wait_for(lambda: errors, 5, "the error")
    assert "not valid JSON" in str(errors[0])
    assert prompts.render("greeting", {"name": "F"}).text == "Moin, F!"
    # A local bundle logs usage to .prompts/usage/events.jsonl under the working directory.
    prompts.close()
    log = tmp_path / ".prompts" / "usage" / "events.jsonl"
    events: List[Dict[str, Any]] = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["id"] for e in events][0] == r.usage_id and len(events) == 3
