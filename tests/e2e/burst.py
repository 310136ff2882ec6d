"""Steady client traffic through the gateway, every request recorded with its latency, while a
test disturbs the stack.

Readers GET a list of paths round-robin; writers POST what a ``write`` function builds (each write
distinct, with its own ``Idempotency-Key``, so a duplicated write can be found afterwards). Each
worker keeps one keep-alive connection to the gateway, as a real client would. Loops stop when the
burst is left, and by themselves after ``max_seconds`` whatever happens.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Write:
    """One POST: ``key`` is its Idempotency-Key and identifies it afterwards."""

    path: str
    json: dict[str, Any]
    key: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    method: str
    path: str
    status: int  # 0: no response at all (the exception is in ``body``)
    started: float  # seconds since the burst began
    seconds: float
    body: str
    request_id: str
    key: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def ended(self) -> float:
        return self.started + self.seconds


@dataclass
class Burst:
    base_url: str
    reads: list[str]
    readers: int = 4
    write: Callable[[int], Write] | None = None
    writers: int = 0
    # Between two requests of one worker: keeps the load steady rather than saturating.
    pause: float = 0.01
    # Longer than any bound a test asserts (a paused replica holds a request this long at most).
    timeout: float = 60
    max_seconds: float = 300
    outcomes: list[Outcome] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _t0: float = 0.0
    _writes: int = 0

    def __enter__(self) -> Burst:
        self._t0 = time.monotonic()
        workers = [self._read] * self.readers + [self._post] * (self.writers if self.write else 0)
        for n, work in enumerate(workers):
            thread = threading.Thread(target=self._run, args=(work, n), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 10)

    def now(self) -> float:
        """Seconds since the burst began (the clock of ``Outcome.started``)."""
        return time.monotonic() - self._t0

    def mark(self, name: str) -> float:
        self.marks[name] = self.now()
        return self.marks[name]

    # WORKERS
    # --------------------------------------------------------------------------------------

    def _run(self, work: Callable[[httpx.Client, int], Outcome], n: int) -> None:
        with httpx.Client(base_url=self.base_url, timeout=self.timeout) as client:
            while not self._stop.is_set() and self.now() < self.max_seconds:
                outcome = work(client, n)
                n += 1
                with self._lock:
                    self.outcomes.append(outcome)
                time.sleep(self.pause)

    def _read(self, client: httpx.Client, n: int) -> Outcome:
        return self._send(client, "GET", self.reads[n % len(self.reads)])

    def _post(self, client: httpx.Client, n: int) -> Outcome:
        assert self.write is not None
        with self._lock:
            self._writes += 1
            write = self.write(self._writes)
        return self._send(
            client, "POST", write.path, json=write.json, key=write.key, headers=write.headers
        )

    def _send(
        self,
        client: httpx.Client,
        method: str,
        path: str,
        json: dict[str, Any] | None = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Outcome:
        request_id = f"burst-{uuid.uuid4().hex}"
        headers = {**(headers or {}), "X-Request-ID": request_id}
        if key is not None:
            headers["Idempotency-Key"] = key
        started = self.now()
        try:
            response = client.request(method, path, json=json, headers=headers)
            status, body = response.status_code, response.text[:2000]
        except httpx.HTTPError as exc:
            status, body = 0, repr(exc)
        return Outcome(
            method, path, status, started, self.now() - started, body, request_id, key=key
        )

    # RESULTS
    # --------------------------------------------------------------------------------------

    def statuses(self) -> Counter[int]:
        return Counter(outcome.status for outcome in self.outcomes)

    def between(self, start: float, end: float = float("inf")) -> list[Outcome]:
        """Requests in progress at some point between ``start`` and ``end``."""
        return [o for o in self.outcomes if o.ended >= start and o.started <= end]

    def failed(self, outcomes: list[Outcome] | None = None) -> list[Outcome]:
        return [o for o in (self.outcomes if outcomes is None else outcomes) if not o.ok]


def percentile(outcomes: list[Outcome], q: float) -> float:
    """The ``q`` quantile (0 < q < 1) of these requests' latencies, in seconds."""
    latencies = [o.seconds for o in outcomes]
    assert len(latencies) >= 20, f"too few requests to measure ({len(latencies)})"
    return statistics.quantiles(latencies, n=100, method="inclusive")[round(q * 100) - 1]
