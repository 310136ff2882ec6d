"""Steady client traffic, recorded, while a test disturbs the stack."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx


@dataclass
class Outcome:
    status: int
    path: str
    body: str


@dataclass
class Burst:
    """GET ``paths`` round-robin from ``workers`` threads until stopped."""

    base_url: str
    paths: list[str]
    workers: int = 4
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Burst:
        for n in range(self.workers):
            thread = threading.Thread(target=self._run, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self, offset: int) -> None:
        # A fresh connection per request, like many independent clients.
        n = offset
        while not self._stop.is_set():
            path = self.paths[n % len(self.paths)]
            n += 1
            try:
                response = httpx.get(self.base_url + path, timeout=30)
                outcome = Outcome(response.status_code, path, response.text[:2000])
            except httpx.HTTPError as exc:
                outcome = Outcome(0, path, repr(exc))
            with self._lock:
                self.outcomes.append(outcome)
            time.sleep(0.01)

    def statuses(self) -> Counter[int]:
        return Counter(outcome.status for outcome in self.outcomes)
