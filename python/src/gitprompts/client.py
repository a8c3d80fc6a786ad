"""`PromptClient`: prompts for a running Python application, read from memory on every call,
swapped live when they change, with usage logged in the background (DESIGN §6, §7)."""

from __future__ import annotations

import atexit
import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Collection, List, Mapping, Optional, Union

from ._bundle import Bundle, Prompt, check_bundle, parse_bundle
from ._render import Catalog, Rendered
from ._suggest import did_you_mean
from ._usage import Event, Sink, UsageQueue, file_sink, serve_sink
from ._variants import choose_variant
from .errors import NothingToServe, NotReady, PromptNotFound, PromptsError, SourceError

__all__ = ["PromptClient", "Update"]

_RECONNECT_MIN_S = 0.25
_RECONNECT_MAX_S = 10.0
_FILE_POLL_S = 0.05
_DEFAULT: Any = object()


@dataclass(frozen=True)
class Update:
    """What `on_update` callbacks get: the new bundle's hash and the names whose version changed."""

    hash: str
    changed: List[str]


@dataclass(frozen=True)
class _Loaded:
    bundle: Bundle
    catalog: Catalog
    etag: Optional[str]


@dataclass(frozen=True)
class _Source:
    kind: str  # "serve", "url" or "file"
    where: str  # base URL, bundle URL or absolute path


def _classify(source: Union[str, "os.PathLike[str]"]) -> _Source:
    text = os.fspath(source)
    if text.lower().startswith(("http://", "https://")):
        if urllib.parse.urlsplit(text).path.endswith(".json"):
            return _Source("url", text)
        return _Source("serve", text.rstrip("/"))
    return _Source("file", os.path.abspath(text))


class PromptClient:
    """Prompts for an application: loaded once, read from memory on every call, swapped live
    when they change, with usage logged in the background.

    `source` is the base URL of `prompts serve`, the URL of a bundle file on any static host
    (a path ending in `.json`), or a local bundle file. `get`, `names` and `render` never touch
    the network; refreshing, watching and sending usage run on daemon threads, and nothing
    raises into the caller but `ready()` (nothing to serve) and `render()`/`get()` (the
    caller's own mistake: an unknown prompt, bad variables)."""

    def __init__(
        self,
        source: Union[str, "os.PathLike[str]"],
        *,
        fallback: Union[None, str, "os.PathLike[str]", Mapping[str, Any]] = None,
        watch: bool = False,
        refresh_s: float = 60.0,
        token: Optional[str] = None,
        usage: Union[None, bool, str, "os.PathLike[str]", Sink] = _DEFAULT,
        log_input: Union[bool, Collection[str]] = True,
        call_site: bool = False,
        queue_size: int = 10_000,
        batch_size: int = 500,
        flush_s: float = 1.0,
        timeout_s: float = 10.0,
    ):
        """
        Args:
            source: a `prompts serve` base URL, a bundle URL ending in `.json`, or a bundle file.
            fallback: what to serve when the source cannot be read at start: a bundle file or
                a bundle dict.
            watch: swap prompts the moment they change: `/v1/events` of `prompts serve`, or
                the bundle file (polled, so an atomic `prompts publish` is seen).
            refresh_s: background refresh period (0 turns it off); an unchanged bundle is a 304.
            token: bearer token of a `prompts serve --token`.
            usage: where usage events go: `False` for nowhere, a path (JSON lines), a `prompts
                serve` URL, or a callable taking a list of events. Default: the server for a
                serve source, `.prompts/usage/events.jsonl` under the working directory for a
                local bundle, nowhere for a static bundle URL.
            log_input: `False` keeps the variables out of usage events (they can be large or
                private); a collection of names keeps only those.
            call_site: record the caller's `file:line` in usage events.
            queue_size: most usage events held while the sink is down; more are dropped and counted.
            batch_size: most events per usage batch.
            flush_s: how long an event waits for its batch.
            timeout_s: timeout of each HTTP request.
        """
        self._source = _classify(source)
        self._fallback = fallback
        self._watch = watch
        self._refresh_s = refresh_s
        self._token = token
        self._timeout_s = timeout_s
        self._call_site = call_site
        self._log_input: Optional[frozenset[str]] = None
        self._log_none = log_input is False
        if not isinstance(log_input, bool):
            self._log_input = frozenset(log_input)
        self._loaded: Optional[_Loaded] = None
        self._update_listeners: List[Callable[[Update], None]] = []
        self._error_listeners: List[Callable[[PromptsError], None]] = []
        # Reentrant: an on_update callback may call refresh() itself.
        self._refresh_lock = threading.RLock()
        self._ready_lock = threading.Lock()
        self._started = False
        self._closed = threading.Event()
        self._stream_socket: Optional[socket.socket] = None
        self._threads: List[threading.Thread] = []
        self._usage: Optional[UsageQueue] = None
        self._usage_note: Optional[PromptsError] = None
        sink = self._usage_sink(usage)
        if sink is not None:
            self._usage = UsageQueue(
                sink,
                max_queue=queue_size,
                batch_size=batch_size,
                flush_s=flush_s,
                on_error=self._emit_error,
            )
            # At interpreter exit, send what is queued; a weak reference lets the client go.
            ref = weakref.ref(self)

            def flush_at_exit() -> None:
                client = ref()
                if client is not None:
                    client.close()

            self._atexit = flush_at_exit
            atexit.register(flush_at_exit)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=partial(_after_fork_in_child, weakref.ref(self)))

    # --- reading ---------------------------------------------------------------------------

    def ready(self) -> "PromptClient":
        """Loads the prompts (from the source, or else the fallback) and starts the background
        refresh and watch. Raises `NothingToServe` only when there is nothing at all to serve.
        It blocks on I/O: from async code, `await asyncio.to_thread(prompts.ready)`."""
        with self._ready_lock:
            if self._started:
                return self
            try:
                self._load()
            except Exception as error:
                self._start_from_fallback(error)
            self._started = True
            if self._usage_note is not None:
                self._emit_error(self._usage_note)
            self._start_background()
        return self

    def __enter__(self) -> "PromptClient":
        return self.ready()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def hash(self) -> Optional[str]:
        """The hash of the bundle in use (None before `ready()`)."""
        loaded = self._loaded
        return loaded.bundle.hash if loaded else None

    @property
    def dropped_events(self) -> int:
        """Usage events dropped: the queue was full, they could not be sent, or were refused."""
        return self._usage.dropped if self._usage else 0

    @property
    def pending_events(self) -> int:
        """Usage events waiting to be sent."""
        return self._usage.pending if self._usage else 0

    def get(self, name: str) -> Prompt:
        """A prompt by name, from memory."""
        prompts = self._current().catalog.prompts
        prompt = prompts.get(name)
        if prompt is None:
            raise PromptNotFound(
                f'prompt "{name}" not found in {self._describe()}{did_you_mean(name, prompts.keys())}'
            )
        return prompt

    def names(self) -> List[str]:
        """The names of the prompts in use, sorted."""
        return list(self._current().catalog.prompts.keys())

    def render(
        self,
        name: str,
        variables: Optional[Mapping[str, Any]] = None,
        *,
        unit: Optional[str] = None,
        variant: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> Rendered:
        """Renders a prompt from memory with the CLI's rules and errors, and queues a usage
        event (never blocking, never raising because of logging). `unit` (a user, a session)
        makes the A/B variant sticky; `variant` forces one."""
        loaded = self._current()
        prompt = self.get(name)
        chosen = variant if variant is not None else choose_variant(name, prompt.variants, unit)
        result = loaded.catalog.render(name, variables, chosen)
        usage = self._usage
        if usage is not None:
            # With no sink there is nothing to tie an outcome to: no id is made.
            result.usage_id = _uuid4()
            event: Event = {
                "type": "usage",
                "id": result.usage_id,
                "ts": time.time(),
                "name": name,
                "version": result.version,
                "variant": result.variant,
            }
            if unit and len(unit) <= 1024:
                event["unit"] = unit
            if self._call_site:
                site = _call_site()
                if site:
                    event["call_site"] = site
            if variables and not self._log_none:
                # A copy: the event is written later, and the caller may reuse its dict.
                keep = self._log_input
                event["input"] = (
                    dict(variables)
                    if keep is None
                    else {k: v for k, v in variables.items() if k in keep}
                )
            if metadata is not None:
                event["metadata"] = dict(metadata)
            usage.push(event)
        return result

    def outcome(
        self,
        usage_id: str,
        *,
        score: Optional[float] = None,
        success: Optional[bool] = None,
        latency_ms: Optional[float] = None,
        tokens: Optional[Mapping[str, int]] = None,
        cost: Optional[float] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> None:
        """Queues how a rendered prompt did, tied to its `usage_id`."""
        usage = self._usage
        if usage is None:
            return
        if not isinstance(usage_id, str) or usage_id == "":
            usage.drop("the outcome event cannot be sent: usage_id: must be a non-empty string")
            return
        event: Event = {"type": "outcome", "id": _uuid4(), "ts": time.time(), "usage_id": usage_id}
        if score is not None:
            event["score"] = score
        if success is not None:
            event["success"] = success
        if latency_ms is not None:
            event["latency_ms"] = latency_ms
        if tokens is not None:
            event["tokens"] = dict(tokens)
        if cost is not None:
            event["cost"] = cost
        if metadata is not None:
            event["metadata"] = dict(metadata)
        usage.push(event)

    # --- events ----------------------------------------------------------------------------

    def on_update(self, callback: Callable[[Update], None]) -> Callable[[Update], None]:
        """Calls `callback(update)` (on a background thread) whenever new prompts are in use."""
        self._update_listeners.append(callback)
        return callback

    def on_error(self, callback: Callable[[PromptsError], None]) -> Callable[[PromptsError], None]:
        """Calls `callback(error)` when a refresh, the watch or the usage sink fails; the client
        goes on with its last good prompts."""
        self._error_listeners.append(callback)
        return callback

    def _emit_error(self, error: PromptsError) -> None:
        for listener in list(self._error_listeners):
            try:
                listener(error)
            except Exception:
                pass  # a listener's failure is its own

    def _emit_update(self, update: Update) -> None:
        for listener in list(self._update_listeners):
            try:
                listener(update)
            except Exception:
                pass

    # --- loading ---------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Fetches the bundle now; True when new prompts were swapped in. A failure keeps the
        last good prompts and goes to `on_error`. It blocks on I/O."""
        with self._refresh_lock:
            try:
                return self._load()
            except Exception as error:
                self._emit_error(
                    _as_error(error, f"cannot refresh prompts from {self._describe()}")
                )
                return False

    def _load(self) -> bool:
        source = self._source
        if source.kind == "file":
            with open(source.where, encoding="utf-8") as file:
                text = file.read()
            bundle = parse_bundle(text, source.where)
            return self._swap(bundle, None)
        url = source.where + "/v1/bundle" if source.kind == "serve" else source.where
        headers = {"accept": "application/json"}
        current = self._loaded
        if current is not None and current.etag:
            headers["if-none-match"] = current.etag
        if self._token and source.kind == "serve":
            headers["authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                text = response.read().decode("utf-8")
                etag = response.headers.get("etag")
        except urllib.error.HTTPError as error:
            if error.code == 304:
                return False
            raise SourceError(f"GET {url} answered {error.code}") from error
        return self._swap(parse_bundle(text, url), etag)

    def _swap(self, bundle: Bundle, etag: Optional[str]) -> bool:
        before = self._loaded
        if before is not None and before.bundle.hash == bundle.hash:
            if etag and etag != before.etag:
                self._loaded = _Loaded(before.bundle, before.catalog, etag)
            return False
        self._loaded = _Loaded(bundle, Catalog(bundle.prompts), etag)
        if before is not None:
            old, new = before.bundle.prompts, bundle.prompts
            changed = sorted(
                n
                for n in set(old) | set(new)
                if (old[n].version if n in old else None) != (new[n].version if n in new else None)
            )
            self._emit_update(Update(bundle.hash, changed))
        return True

    def _start_from_fallback(self, error: Exception) -> None:
        fallback = self._fallback
        if fallback is None:
            raise NothingToServe(
                f"no prompts to serve: cannot read {self._describe()}: {_describe(error)} (and no fallback was given)"
            ) from error
        try:
            if isinstance(fallback, Mapping):
                bundle = check_bundle(dict(fallback), "(fallback)")
            else:
                path = os.fspath(fallback)
                bundle = parse_bundle(Path(path).read_text(encoding="utf-8"), path)
        except Exception as fallback_error:
            raise NothingToServe(
                f"no prompts to serve: cannot read {self._describe()}: {_describe(error)}; the fallback failed too: {_describe(fallback_error)}"
            ) from error
        self._swap(bundle, None)
        self._emit_error(
            _as_error(
                error, f"{self._describe()} could not be read; serving the fallback until it can"
            )
        )

    def _start_background(self) -> None:
        if self._refresh_s > 0:
            self._spawn(self._refresh_loop, "gitprompts-refresh")
        if not self._watch:
            return
        if self._source.kind == "file":
            self._spawn(self._watch_file, "gitprompts-watch")
        elif self._source.kind == "serve":
            self._spawn(self._watch_events, "gitprompts-events")

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _refresh_loop(self) -> None:
        while not self._closed.wait(self._refresh_s):
            self.refresh()

    def _watch_file(self) -> None:
        # Polled: the standard library has no file events, and an atomic publish replaces the
        # file (a new inode), which a stat sees at once.
        def signature() -> Any:
            try:
                st = os.stat(self._source.where)
                return (st.st_ino, st.st_mtime_ns, st.st_size)
            except OSError:
                return None

        seen = signature()
        while not self._closed.wait(_FILE_POLL_S):
            now = signature()
            if now != seen and now is not None:
                seen = now
                self.refresh()

    def _watch_events(self) -> None:
        """Follows `/v1/events`, reconnecting with backoff while the server is away."""
        delay = _RECONNECT_MIN_S
        while not self._closed.is_set():
            try:
                for event, data in self._event_stream():
                    delay = _RECONNECT_MIN_S
                    self._on_event(event, data)
                if not self._closed.is_set():
                    raise SourceError("the server closed the stream")
            except Exception as error:
                if self._closed.is_set():
                    return
                self._emit_error(
                    _as_error(error, f"lost the event stream of {self._source.where}; reconnecting")
                )
            if self._closed.wait(delay):
                return
            delay = min(_RECONNECT_MAX_S, delay * 2)

    def _event_stream(self) -> Any:
        parts = urllib.parse.urlsplit(self._source.where)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(parts.netloc, timeout=self._timeout_s)
        try:
            connection.connect()
            sock = connection.sock
            # Reads wait for as long as the stream is quiet; close() shuts the socket to end them.
            sock.settimeout(None)
            self._stream_socket = sock
            if self._closed.is_set():
                return
            headers = {"accept": "text/event-stream"}
            if self._token:
                headers["authorization"] = f"Bearer {self._token}"
            connection.request("GET", parts.path.rstrip("/") + "/v1/events", headers=headers)
            response = connection.getresponse()
            if response.status != 200:
                raise SourceError(f"GET {self._source.where}/v1/events answered {response.status}")
            event, data = "", ""
            while not self._closed.is_set():
                line = response.readline()
                if not line:
                    return
                text = line.decode("utf-8").rstrip("\r\n")
                if text == "":
                    if event:
                        yield event, data
                    event, data = "", ""
                elif text.startswith("event:"):
                    event = text[6:].strip()
                elif text.startswith("data:"):
                    data = text[5:].strip()
        finally:
            self._stream_socket = None
            connection.close()

    def _on_event(self, event: str, data: str) -> None:
        if event == "bundle":
            try:
                digest = json.loads(data).get("hash")
            except (ValueError, AttributeError):
                digest = None
            if digest != self.hash:
                self.refresh()
        elif event == "invalid":
            self._emit_error(
                PromptsError(
                    "the server's prompts have errors; it keeps serving the last good ones",
                    code="E_INVALID_PROMPT",
                )
            )

    # --- usage -----------------------------------------------------------------------------

    def _usage_sink(self, usage: Any) -> Optional[Sink]:
        if usage is False or usage is None:
            return None
        if callable(usage):
            return usage  # type: ignore[no-any-return]
        if isinstance(usage, (str, os.PathLike)) and usage is not _DEFAULT:
            text = os.fspath(usage)
            if text.lower().startswith(("http://", "https://")):
                return serve_sink(text, self._token, self._timeout_s)
            return file_sink(os.path.abspath(text))
        if self._source.kind == "serve":
            return serve_sink(self._source.where, self._token, self._timeout_s)
        if self._source.kind == "file":
            return file_sink(os.path.join(os.getcwd(), ".prompts", "usage", "events.jsonl"))
        self._usage_note = PromptsError(
            f"usage is not logged: {self._source.where} is a static bundle; pass usage=: a path, a prompts serve URL or a callable",
            code="E_USAGE",
        )
        return None

    # --- closing ---------------------------------------------------------------------------

    def flush(self, timeout_s: float = 10.0) -> None:
        """Sends the usage events queued now, waiting up to `timeout_s`."""
        if self._usage is not None:
            self._usage.flush(timeout_s)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stops refreshing and watching, and sends the usage events still queued."""
        if self._closed.is_set():
            return
        self._closed.set()
        sock = self._stream_socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._usage is not None:
            self._usage.close(timeout_s)
            atexit.unregister(self._atexit)

    def _restart_in_child(self) -> None:
        # Threads do not survive a fork, and a lock held by one at that moment stays held.
        self._refresh_lock = threading.RLock()
        self._ready_lock = threading.Lock()
        self._stream_socket = None
        self._threads = []
        if self._usage is not None:
            self._usage.after_fork_in_child()
        if self._started and not self._closed.is_set():
            self._start_background()

    # --- helpers ---------------------------------------------------------------------------

    def _current(self) -> _Loaded:
        loaded = self._loaded
        if loaded is None:
            raise NotReady("prompts are not loaded yet: call ready() first")
        return loaded

    def _describe(self) -> str:
        return self._source.where


def _after_fork_in_child(ref: "weakref.ReferenceType[PromptClient]") -> None:
    client = ref()
    if client is not None:
        client._restart_in_child()


def _uuid4() -> str:
    """A random (version 4) UUID as text: what `str(uuid.uuid4())` gives, in a third of the
    time, which is most of what logging adds to a render."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _call_site() -> Optional[str]:
    """`file:line` of the application's call to render."""
    frame = sys._getframe(2)
    path = frame.f_code.co_filename
    try:
        relative = os.path.relpath(path)
        if not relative.startswith(".."):
            path = relative
    except ValueError:
        pass
    return f"{path}:{frame.f_lineno}"


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError):
        return f"{error.reason}"
    if isinstance(error, PromptsError):
        return error.message
    return str(error) or type(error).__name__


def _as_error(error: BaseException, context: str) -> PromptsError:
    wrapped = SourceError(f"{context}: {_describe(error)}")
    wrapped.__cause__ = error
    return wrapped
