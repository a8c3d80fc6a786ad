"""Fixtures of the Python client's tests: real git repositories in temp folders, a real
`prompts serve` started from the built CLI on port 0, and a plain static file server."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "bin" / "prompts.js"

GREETING = """description: Greets a user.
variables:
  name: string
template: Hello, {{name}}!
"""

ANSWERER = """description: Answers from facts.
model: { name: base-model, temperature: 0.2 }
variables:
  infos: array
  user_query: string
template: |
  Facts:
  {{#infos}}
  - {{.}}
  {{/infos}}
  Q: {{user_query}}
variants:
  concise:
    weight: 30
    model: { temperature: 0.9 }
    template: "Briefly: {{user_query}}"
  warm:
    weight: 30
    template: "Kindly: {{user_query}}"
"""

PROMPTS = {"prompts/greeting.yaml": GREETING, "prompts/answerer_prompt.yaml": ANSWERER}


def wait_for(check: Callable[[], Any], timeout_s: float = 10.0, what: str = "condition") -> Any:
    """Polls `check` until it returns something truthy; fails the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.005)


def write_files(root: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


class Repo:
    """A real git repository of prompts in a temp folder."""

    def __init__(self, path: Path):
        self.path = path

    def write(self, files: Dict[str, str]) -> None:
        write_files(self.path, files)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["node", str(CLI), *args], cwd=self.path, capture_output=True, text=True, env=_env()
        )

    def publish(self, out: str = "dist/prompts.json") -> Path:
        result = self.cli("publish", "--out", out)
        assert result.returncode == 0, result.stderr
        return self.path / out

    def usage_events(self) -> List[Dict[str, Any]]:
        log = self.path / ".prompts" / "usage" / "events.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env.update({"NO_COLOR": "1", "GIT_CONFIG_NOSYSTEM": "1"})
    return env


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test")
    git(path, "config", "user.email", "test@example.invalid")
    write_files(path, PROMPTS)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "prompts")
    return Repo(path)


class Serve:
    """A `prompts serve` of the built CLI, stopped and started again on the same port at will."""

    def __init__(self, repo: Repo, extra: List[str]):
        self.repo = repo
        self.extra = extra
        self.port = 0
        self.process: Optional[subprocess.Popen[str]] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Serve":
        assert CLI.exists(), "the CLI is not built: run npm run build"
        self.process = subprocess.Popen(
            ["node", str(CLI), "serve", "--port", str(self.port), *self.extra],
            cwd=self.repo.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(),
        )
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"prompts serve exited: {self.process.wait()}")
            found = re.search(r"at http://127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                break
        # Drain the rest of its output so that it never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture
def serve(repo: Repo) -> Iterator[Callable[..., Serve]]:
    started: List[Serve] = []

    def start(*extra: str, port: int = 0) -> Serve:
        server = Serve(repo, list(extra))
        server.port = port
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StaticHost:
    """A plain static file server on port 0 with ETag / If-None-Match, counting its answers."""

    def __init__(self, root: Path):
        self.root = root
        self.statuses: List[int] = []
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                path = host.root / self.path.lstrip("/")
                if not path.is_file():
                    self._answer(404, b"not found", None)
                    return
                body = path.read_bytes()
                import hashlib

                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("if-none-match") == etag:
                    self._answer(304, b"", etag)
                    return
                self._answer(200, body, etag)

            def _answer(self, status: int, body: bytes, etag: Optional[str]) -> None:
                host.statuses.append(status)
                self.send_response(status)
                if etag:
                    self.send_header("etag", etag)
                if status != 304:
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def static_host(tmp_path: Path) -> Iterator[StaticHost]:
    root = tmp_path / "www"
    root.mkdir()
    host = StaticHost(root)
    yield host
    host.close()


@pytest.fixture
def clients() -> Iterator[List[Any]]:
    """Clients a test makes, closed after it."""
    made: List[Any] = []
    yield made
    for client in made:
        client.close(timeout_s=2)


def atomic_copy(source: Path, target: Path) -> None:
    """Replaces `target` as `prompts publish` does: a write aside, then a rename."""
    aside = target.with_name(target.name + ".tmp")
    shutil.copyfile(source, aside)
    os.replace(aside, target)
