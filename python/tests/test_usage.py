"""Usage logging: bounded, batched, retried, counted, flushed on close and at interpreter exit,
and never raising into the caller."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from conftest import Repo, Serve, free_port, wait_for
from gitprompts import PromptClient, PromptsError, RefusedBatch


def test_10000_events_queued_while_the_server_is_down_are_all_delivered_once_it_is_up(
    repo: Repo, serve: Callable[..., Serve], clients: List[Any]
) -> None:
    port = free_port()
    prompts = PromptClient(
        repo.publish(), usage=f"http://127.0.0.1:{port}", queue_size=10_000, flush_s=0.05
    )
    clients.append(prompts)
    errors: List[PromptsError] = []
    prompts.on_error(errors.append)
    prompts.ready()
    for i in range(10_050):
        prompts.render("greeting", {"name": f"u{i}"}, unit=f"u{i}")
    # The queue is bounded: past 10,000 events are dropped, and counted exactly.
    assert prompts.dropped_events == 50
    wait_for(lambda: errors, 5, "the first failed send")
    assert "kept and retried" in str(errors[0])
    assert prompts.pending_events == 10_000
    serve(port=port)
    wait_for(lambda: prompts.pending_events == 0, 40, "the queue to drain")
    events = repo.usage_events()
    assert len(events) == 10_000 and len({e["id"] for e in events}) == 10_000
    assert prompts.dropped_events == 50


def test_a_callable_sink_gets_batches_retried_when_it_raises_and_counts_what_it_refuses(
    repo: Repo, clients: List[Any]
) -> None:
    batches: List[List[Dict[str, Any]]] = []
    failing = threading.Event()
    failing.set()

    def sink(events: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        if failing.is_set():
            raise OSError("the collector is down")
        batches.append(events)
        return {"refused": [{"index": 0, "message": "not this one"}]}

    prompts = PromptClient(repo.publish(), usage=sink, batch_size=10, flush_s=0.01)
    clients.append(prompts)
    errors: List[PromptsError] = []
    prompts.on_error(errors.append)
    prompts.ready()
    for i in range(25):
        prompts.render("greeting", {"name": str(i)})
    wait_for(lambda: errors, 5, "the failure")
    failing.clear()
    wait_for(lambda: prompts.pending_events == 0, 10, "the retry")
    assert [len(b) for b in batches] == [10, 10, 5]
    assert prompts.dropped_events == 3
    assert "3 usage events dropped" not in " ".join(map(str, errors))  # one report per batch
    assert sum("1 usage event dropped: refused: not this one" in str(e) for e in errors) == 3


def test_a_batch_refused_for_good_is_dropped_and_events_json_cannot_hold_go_alone(
    repo: Repo, clients: List[Any]
) -> None:
    calls: List[int] = []
    lines: List[str] = []

    def sink(events: List[Dict[str, Any]]) -> None:
        calls.append(len(events))
        if len(calls) == 1:
            raise RefusedBatch("400 bad request")
        from gitprompts._usage import serialize

        good, _, refused = serialize(events)
        lines.extend(good)
        if refused:
            raise RefusedBatch(refused[0]["message"])

    # Batches form by size alone (no timer in the way): the two usages, then NaN's outcome with
    # r2's. A 10 ms timer could send NaN's outcome alone on a busy machine.
    prompts = PromptClient(repo.publish(), usage=sink, batch_size=2, flush_s=3600)
    clients.append(prompts)
    prompts.ready()
    r1 = prompts.render("greeting", {"name": "a"})
    r2 = prompts.render("greeting", {"name": "b"})
    prompts.flush()
    prompts.outcome(r1.usage_id, score=float("nan"))  # JSON has no NaN
    prompts.outcome("", success=True)  # no usage to tie it to: dropped at once
    prompts.outcome(r2.usage_id, score=1)
    prompts.close()
    assert prompts.dropped_events == 2 + 1 + 1 + 1  # the refused batch, NaN's batch, the empty id
    assert r1.usage_id and r2.usage_id


def test_interpreter_exit_flushes_what_is_queued(repo: Repo, tmp_path: Path) -> None:
    bundle = repo.publish()
    log = tmp_path / "events.jsonl"
    script = textwrap.dedent(
        f"""
        from gitprompts import PromptClient
        prompts = PromptClient({str(bundle)!r}, usage={str(log)!r}, flush_s=3600)
        prompts.ready()
        for i in range(7):
            r = prompts.render("greeting", {{"name": str(i)}})
        prompts.outcome(r.usage_id, success=True)
        print(prompts.pending_events)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "8"
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["type"] for e in events] == ["usage"] * 7 + ["outcome"]


def test_call_site_names_the_callers_file_and_line(repo: Repo, tmp_path: Path) -> None:
    events: List[Dict[str, Any]] = []
    with PromptClient(
        repo.publish(), usage=lambda batch: events.extend(batch), call_site=True
    ) as prompts:
        line = sys._getframe().f_lineno + 1
        prompts.render("greeting", {"name": "x"})
    assert events[0]["call_site"].endswith(f"test_usage.py:{line}")


def test_the_example_answerer_renders_and_logs_usage(repo: Repo, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    bundle = repo.publish()
    result = subprocess.run(
        [
            sys.executable,
            str(root / "examples" / "answerer.py"),
            "What is RAG?",
            "--source",
            str(bundle),
            "--infos",
            str(root / "examples" / "infos.json"),
            "--user",
            "user-42",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("answerer_prompt ") and "What is RAG?" in result.stdout
    events = [
        json.loads(line)
        for line in (tmp_path / ".prompts/usage/events.jsonl").read_text().splitlines()
    ]
    assert [e["type"] for e in events] == ["usage", "outcome"]
    assert events[0]["unit"] == "user-42" and events[1]["usage_id"] == events[0]["id"]


def test_renders_on_many_threads_are_counted_exactly_when_the_queue_is_full(
    repo: Repo, clients: List[Any]
) -> None:
    def down(events: List[Dict[str, Any]]) -> None:
        raise OSError("down")

    prompts = PromptClient(repo.publish(), usage=down, queue_size=100, flush_s=3600)
    clients.append(prompts)
    prompts.ready()

    def work() -> None:
        for i in range(2_000):
            prompts.render("greeting", {"name": str(i)})

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (prompts.pending_events, prompts.dropped_events) == (100, 16_000 - 100)
    prompts.close(timeout_s=0.1)


def test_a_forked_worker_sends_its_own_events_and_not_its_parents_twice(
    repo: Repo, tmp_path: Path
) -> None:
    bundle = repo.publish()
    log = tmp_path / "events.jsonl"
    script = textwrap.dedent(
        f"""
        import os, time
        from gitprompts import PromptClient
        prompts = PromptClient({str(bundle)!r}, usage={str(log)!r}, flush_s=0.01)
        prompts.ready()
        prompts.render("greeting", {{"name": "parent"}})
        pid = os.fork()
        if pid == 0:
            for name in ("child-1", "child-2"):
                prompts.render("greeting", {{"name": name}})
            deadline = time.monotonic() + 10
            while prompts.pending_events and time.monotonic() < deadline:
                time.sleep(0.01)
            os._exit(0 if prompts.pending_events == 0 else 3)
        _, status = os.waitpid(pid, 0)
        prompts.close()
        raise SystemExit(os.waitstatus_to_exitcode(status))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    names = sorted(json.loads(line)["input"]["name"] for line in log.read_text().splitlines())
    assert names == ["child-1", "child-2", "parent"]
