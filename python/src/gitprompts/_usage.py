"""Usage events: a bounded queue in front of a sink, sent in batches by a daemon thread.

`push` is on the application's render path: it never blocks on I/O, never raises, and costs a
deque append. A batch the sink could not take is kept and sent again with backoff; a batch or
an event it refuses for good is dropped and counted, so that it never holds back the others.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from itertools import islice
from datetime import datetime, timezone
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Sequence

from .errors import DroppedEvents, PromptsError, SourceError

Event = Dict[str, Any]
#: A sink takes one batch of events. It raises to have the batch sent again later, raises
#: `RefusedBatch` to have it dropped, and may return `{"refused": [{"index", "message"}]}`.
Sink = Callable[[List[Event]], Optional[Mapping[str, Any]]]

_RETRY_MIN_S = 0.25
_RETRY_MAX_S = 30.0


class RefusedBatch(Exception):
    """What a sink raises for a batch it will never accept (a 400): dropped, not retried."""


def iso_time(seconds: float) -> str:
    """`2026-12-03T22:41:07.123Z`, as JavaScript's `toISOString()` writes a time."""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def serialize(events: Sequence[Event]) -> "tuple[list[str], list[int], list[Dict[str, Any]]]":
    """Each event as one JSON line, its `ts` written out; an event JSON cannot hold (NaN, a
    set, a circular dict) is refused alone. Returns the lines, the index of each line's event,
    and the refusals."""
    lines: List[str] = []
    positions: List[int] = []
    refused: List[Dict[str, Any]] = []
    for index, event in enumerate(events):
        ts = event.get("ts")
        out = dict(event, ts=iso_time(ts)) if isinstance(ts, float) else event
        try:
            lines.append(
                json.dumps(out, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            )
            positions.append(index)
        except (TypeError, ValueError, RecursionError) as error:
            refused.append(
                {"index": index, "message": f"[{index}]: cannot be written as JSON: {error}"}
            )
    return lines, positions, refused


def serve_sink(base: str, token: Optional[str], timeout_s: float) -> Sink:
    """Posts batches to `prompts serve`'s `/v1/usage`."""
    url = base.rstrip("/") + "/v1/usage"

    def send(events: List[Event]) -> Optional[Mapping[str, Any]]:
        lines, positions, refused = serialize(events)
        if not lines:
            return {"refused": refused}
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        body = ("[" + ",".join(lines) + "]").encode("utf-8")
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                status, text = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode("utf-8", "replace")
        answer: Any = None
        try:
            answer = json.loads(text)
        except ValueError:
            pass
        rejected = answer.get("rejected") if isinstance(answer, dict) else None
        if status in (202, 400) and isinstance(rejected, list):
            for item in rejected:
                at = item.get("index") if isinstance(item, dict) else None
                if isinstance(at, int) and 0 <= at < len(positions):
                    refused.append({"index": positions[at], "message": str(item.get("message"))})
            return {"refused": refused}
        if status in (400, 413, 422):
            # Malformed or too large: sending it again would fail again.
            raise RefusedBatch(f"POST {url} refused {len(events)} event(s): {status} {text}")
        if status != 202:
            raise SourceError(f"POST {url} answered {status}: {text}")
        return {"refused": refused}

    return send


def file_sink(path: str) -> Sink:
    """Appends batches to a JSON-lines file (the embedded default beside a local bundle)."""

    def send(events: List[Event]) -> Optional[Mapping[str, Any]]:
        lines, _, refused = serialize(events)
        if lines:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(path, "a", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
        return {"refused": refused}

    return send


class UsageQueue:
    """A bounded, batching queue with a daemon sender thread."""

    def __init__(
        self,
        sink: Sink,
        *,
        max_queue: int,
        batch_size: int,
        flush_s: float,
        on_error: Callable[[PromptsError], None],
    ):
        self._sink = sink
        self._max_queue = max_queue
        self._batch_size = batch_size
        self._flush_s = flush_s
        self._on_error = on_error
        self._queue: Deque[Event] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        # One sender at a time: the thread, or close() and atexit flushing in the caller's thread.
        self._send_lock = threading.Lock()
        self._retry_s = 0.0
        self._failing = False
        self._count_lock = threading.Lock()
        self.dropped = 0
        self.sent = 0
        self._start_thread()

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gitprompts-usage", daemon=True)
        self._thread.start()

    def after_fork_in_child(self) -> None:
        """A forked worker (gunicorn, multiprocessing) has no sender thread and may have
        inherited locks held at the fork: it starts afresh, without the parent's events,
        which the parent sends itself."""
        self._queue = deque()
        self._wake = threading.Event()
        self._send_lock = threading.Lock()
        self._count_lock = threading.Lock()
        if not self._stop.is_set():
            self._start_thread()

    @property
    def pending(self) -> int:
        """Events waiting to be sent."""
        return len(self._queue)

    def push(self, event: Event) -> None:
        """Queues one event; no I/O, never raises."""
        # The check and the append as one step: renders on several threads must not overfill
        # the queue, and each drop is counted once.
        with self._count_lock:
            if len(self._queue) >= self._max_queue:
                self.dropped += 1
                return
            self._queue.append(event)
        if len(self._queue) == self._batch_size:
            self._wake.set()

    def drop(self, reason: str) -> None:
        """Counts and reports an event that can never be sent."""
        self._count_dropped(1)
        self._report(DroppedEvents(1, reason))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._retry_s if self._failing else self._flush_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            if self._queue:
                with self._send_lock:
                    self._send_all()

    def _send_all(self) -> bool:
        """Sends batches until the queue is empty (True) or the sink fails (False)."""
        while self._queue:
            count = min(self._batch_size, len(self._queue))
            batch = list(islice(self._queue, count))
            try:
                result = self._sink(batch)
            except RefusedBatch as error:
                self._take(count)
                self._count_dropped(count)
                self._report(DroppedEvents(count, str(error)))
                continue
            except Exception as error:  # a sink is the network or the application's code
                if not self._failing:
                    self._report(
                        SourceError(
                            f"usage events could not be sent (they are kept and retried): {error}"
                        )
                    )
                self._failing = True
                self._retry_s = min(_RETRY_MAX_S, max(_RETRY_MIN_S, self._retry_s * 2))
                return False
            self._take(count)
            said = result.get("refused") if isinstance(result, Mapping) else None
            refused = list(said)[:count] if isinstance(said, list) else []
            self.sent += count - len(refused)
            self._count_dropped(len(refused))
            if refused:
                reasons = [
                    str(item.get("message") if isinstance(item, dict) else item) for item in refused
                ]
                shown = "; ".join(reasons[:3]) + ("; …" if len(reasons) > 3 else "")
                self._report(DroppedEvents(len(refused), f"refused: {shown}"))
            self._failing = False
            self._retry_s = 0.0
        return True

    def _count_dropped(self, count: int) -> None:
        with self._count_lock:
            self.dropped += count

    def _take(self, count: int) -> None:
        for _ in range(count):
            self._queue.popleft()

    def _report(self, error: PromptsError) -> None:
        try:
            self._on_error(error)
        except Exception:
            pass  # a listener's failure is its own

    def flush(self, timeout_s: float = 10.0) -> None:
        """Sends everything queued from the calling thread, retrying with backoff until it is
        sent or `timeout_s` passes; what is left stays counted in `pending`."""
        deadline = time.monotonic() + timeout_s
        while self._queue and time.monotonic() < deadline:
            with self._send_lock:
                done = self._send_all()
            if not done:
                time.sleep(
                    min(self._retry_s or _RETRY_MIN_S, max(0.0, deadline - time.monotonic()))
                )

    def close(self, timeout_s: float = 10.0) -> None:
        """Flushes, then stops the sender thread."""
        self.flush(timeout_s)
        self._stop.set()
        self._wake.set()
