"""PromptClient against a real `prompts serve`: reads, refresh, watch, restarts, fallback,
variants, tokens and usage events that land in the server's log."""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Callable, List

import pytest

from conftest import GREETING, Repo, Serve, free_port, wait_for
from gitprompts import (
    MissingVariables,
    NothingToServe,
    NotReady,
    PromptClient,
    PromptNotFound,
    PromptsError,
    Update,
)


def test_renders_from_serve_like_the_cli_and_logs_each_render_and_outcome(
    repo: Repo, serve: Callable[..., Serve], clients: List[Any]
) -> None:
    server = serve()
    prompts = PromptClient(server.url)
    clients.append(prompts)
    prompts.ready()
    assert prompts.names() == ["answerer_prompt", "greeting"]
    r = prompts.render("greeting", {"name": "Ann"}, unit="user-1", metadata={"run": 7})
    cli = repo.cli("render", "greeting", "--var", "name=Ann")
    assert r.text is not None and r.text + "\n" == cli.stdout
    assert (r.name, r.variant, len(r.version), r.model) == ("greeting", "default", 12, {})
    prompts.outcome(r.usage_id, success=True, score=0.9, latency_ms=812, tokens={"input": 3})
    prompts.close()
    events = repo.usage_events()
    usage = next(e for e in events if e["type"] == "usage")
    outcome = next(e for e in events if e["type"] == "outcome")
    assert usage["id"] == r.usage_id and usage["name"] == "greeting"
    assert usage["input"] == {"name": "Ann"} and usage["unit"] == "user-1"
    assert usage["metadata"] == {"run": 7} and usage["version"] == r.version
    assert usage["ts"].endswith("Z")
    assert outcome["usage_id"] == r.usage_id and outcome["score"] == 0.9
    assert outcome["success"] is True and outcome["latency_ms"] == 812
    assert outcome["tokens"] == {"input": 3}
    assert prompts.dropped_events == 0


def test_errors_are_the_clis_with_a_stable_code(
    serve: Callable[..., Serve], clients: List[Any]
) -> None:
    prompts = PromptClient(serve().url, usage=False)
    clients.append(prompts)
    with pytest.raises(NotReady) as not_ready:
        prompts.render("greeting", {"name": "x"})
    assert "ready()" in str(not_ready.value) and not_ready.value.code == "E_USAGE"
    prompts.ready()
    with pytest.raises(MissingVariables) as missing:
        prompts.render("greeting", {})
    assert missing.value.code == "E_INVALID_INPUT"
    assert str(missing.value) == 'cannot render "greeting": missing required variable: name'
    with pytest.raises(PromptNotFound) as unknown:
        prompts.render("greting", {"name": "x"})
    assert unknown.value.code == "E_PROMPT_NOT_FOUND"
    assert '(did you mean "greeting"?)' in str(unknown.value)
    assert prompts.render("greeting", {"name": "x"}).usage_id == ""


def test_log_input_off_or_limited_keeps_variables_out_of_usage_events(
    repo: Repo, serve: Callable[..., Serve]
) -> None:
    server = serve()
    facts = {"infos": ["secret fact"], "user_query": "q"}
    with PromptClient(server.url, log_input=False) as off:
        off.render("answerer_prompt", facts, variant="default")
    with PromptClient(server.url, log_input=["user_query"]) as some:
        some.render("answerer_prompt", facts, variant="default")
    inputs = [e.get("input") for e in repo.usage_events() if e["type"] == "usage"]
    assert inputs == [None, {"user_query": "q"}]


def test_refresh_is_a_304_while_unchanged_and_a_swap_with_the_changed_names_after_an_edit(
    repo: Repo, serve: Callable[..., Serve], clients: List[Any]
) -> None:
    prompts = PromptClient(serve().url, usage=False, refresh_s=0)
    clients.append(prompts)
    updates: List[Update] = []
    prompts.on_update(updates.append)
    prompts.ready()
    before = prompts.hash
    assert prompts.refresh() is False
    repo.write({"prompts/greeting.yaml": GREETING.replace("Hello", "Howdy")})
    assert wait_for(lambda: prompts.refresh() or None, what="a refresh that swaps")
    assert prompts.render("greeting", {"name": "Bo"}).text == "Howdy, Bo!"
    assert prompts.hash != before
    assert [u.changed for u in updates] == [["greeting"]]


def test_watch_swaps_on_edit_and_reconnects_after_a_restart(
    repo: Repo, serve: Callable[..., Serve], clients: List[Any]
) -> None:
    server = serve()
    prompts = PromptClient(server.url, watch=True, usage=False)
    clients.append(prompts)
    errors: List[PromptsError] = []
    prompts.on_error(errors.append)
    prompts.ready()
    text = lambda: prompts.render("greeting", {"name": "Cy"}).text  # noqa: E731
    repo.write({"prompts/greeting.yaml": GREETING.replace("Hello", "Hi")})
    wait_for(lambda: text() == "Hi, Cy!", 5, "the edit over SSE")
    server.stop()
    wait_for(lambda: any("lost the event stream" in str(e) for e in errors), 5, "the lost stream")
    assert text() == "Hi, Cy!"  # the last good prompts stay
    server.start()  # the same port
    repo.write({"prompts/greeting.yaml": GREETING.replace("Hello", "Hey")})
    wait_for(lambda: text() == "Hey, Cy!", 15, "the edit after the restart")


def test_server_down_at_start_serves_the_fallback_then_goes_live(
    repo: Repo, serve: Callable[..., Serve], clients: List[Any]
) -> None:
    bundle = repo.publish()
    repo.write({"prompts/greeting.yaml": GREETING.replace("Hello", "Live")})
    port = free_port()
    prompts = PromptClient(f"http://127.0.0.1:{port}", fallback=bundle, usage=False, refresh_s=0)
    clients.append(prompts)
    errors: List[PromptsError] = []
    prompts.on_error(errors.append)
    prompts.ready()
    assert prompts.render("greeting", {"name": "D"}).text == "Hello, D!"
    assert "serving the fallback" in str(errors[0]) and str(port) in str(errors[0])
    assert prompts.refresh() is False
    serve(port=port)
    assert prompts.refresh() is True
    assert prompts.render("greeting", {"name": "D"}).text == "Live, D!"


def test_a_fallback_bundle_dict_and_nothing_to_serve(repo: Repo, clients: List[Any]) -> None:
    bundle = json.loads(repo.publish().read_text(encoding="utf-8"))
    url = f"http://127.0.0.1:{free_port()}"
    with PromptClient(url, fallback=bundle, usage=False) as prompts:
        assert prompts.render("greeting", {"name": "E"}).text == "Hello, E!"
    nothing = PromptClient(url, usage=False)
    clients.append(nothing)
    with pytest.raises(NothingToServe) as raised:
        nothing.ready()
    message = str(raised.value)
    assert message.startswith(f"no prompts to serve: cannot read {url}")
    assert message.endswith("(and no fallback was given)")


def test_the_same_unit_gets_the_same_variant_as_the_server(
    serve: Callable[..., Serve], clients: List[Any]
) -> None:
    server = serve()
    prompts = PromptClient(server.url, usage=False)
    clients.append(prompts)
    prompts.ready()
    seen = set()
    for i in range(60):
        unit = f"user-{i}"
        body = json.dumps({"variables": {"infos": [], "user_query": "q"}, "unit": unit}).encode()
        request = urllib.request.Request(
            f"{server.url}/v1/prompts/answerer_prompt/render",
            data=body,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            theirs = json.loads(response.read())["variant"]
        ours = prompts.render("answerer_prompt", {"infos": [], "user_query": "q"}, unit=unit)
        assert ours.variant == theirs, unit
        seen.add(theirs)
    assert seen == {"default", "concise", "warm"}


def test_a_token_server(serve: Callable[..., Serve], clients: List[Any]) -> None:
    server = serve("--token", "s3cret")
    with pytest.raises(NothingToServe) as refused:
        PromptClient(server.url, usage=False).ready()
    assert "401" in str(refused.value)
    prompts = PromptClient(server.url, token="s3cret", watch=True)
    clients.append(prompts)
    prompts.ready()
    prompts.render("greeting", {"name": "T"})
    prompts.flush()
    assert prompts.pending_events == 0 and prompts.dropped_events == 0


def test_usable_from_asyncio(serve: Callable[..., Serve]) -> None:
    import asyncio

    async def agent(url: str) -> List[str]:
        prompts = PromptClient(url, usage=False)
        await asyncio.to_thread(prompts.ready)
        texts = await asyncio.gather(
            *(
                asyncio.to_thread(lambda n=n: prompts.render("greeting", {"name": n}).text)
                for n in "ab"
            )
        )
        texts.append(prompts.render("greeting", {"name": "c"}).text)
        await asyncio.to_thread(prompts.close)
        return [t or "" for t in texts]

    assert asyncio.run(agent(serve().url)) == ["Hello, a!", "Hello, b!", "Hello, c!"]


def test_an_invalid_edit_on_the_server_is_an_error_and_the_last_good_prompts_stay(
    repo: Repo, serve: Callable[..., Serve], clients: List[Any]
) -> None:
    prompts = PromptClient(serve().url, watch=True, usage=False)
    clients.append(prompts)
    errors: List[PromptsError] = []
    prompts.on_error(errors.append)
    prompts.ready()
    repo.write({"prompts/greeting.yaml": "variables:\n  name: strin\ntemplate: Hi {{nme}}\n"})
    wait_for(lambda: [e for e in errors if e.code == "E_INVALID_PROMPT"], 5, "the invalid event")
    assert "keeps serving the last good ones" in str(errors[-1])
    assert prompts.render("greeting", {"name": "G"}).text == "Hello, G!"


def test_a_503_from_the_servers_full_disk_is_retried_and_a_refused_event_is_dropped_and_counted(
    repo: Repo, serve: Callable[..., Serve], clients: List[Any]
) -> None:
    # A file where the usage folder should be: the server cannot write its log and answers 503.
    (repo.path / ".prompts").mkdir()
    (repo.path / ".prompts" / "usage").write_text("in the way")
    prompts = PromptClient(serve().url, flush_s=0.01)
    clients.append(prompts)
    errors: List[PromptsError] = []
    prompts.on_error(errors.append)
    prompts.ready()
    r = prompts.render("greeting", {"name": "H"})
    prompts.outcome(r.usage_id, success="yes")  # type: ignore[arg-type]  # the server refuses it
    prompts.outcome(r.usage_id, success=True)
    wait_for(lambda: errors, 5, "the failed send")
    assert "503" in str(errors[0]) and "kept and retried" in str(errors[0])
    assert prompts.pending_events == 3
    (repo.path / ".prompts" / "usage").unlink()
    wait_for(lambda: prompts.pending_events == 0, 15, "the retry")
    assert [e["type"] for e in repo.usage_events()] == ["usage", "outcome"]
    assert prompts.dropped_events == 1
    assert "1 usage event dropped: refused:" in str(errors[-1]) and "success" in str(errors[-1])
