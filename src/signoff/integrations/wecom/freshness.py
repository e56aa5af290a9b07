"""Freshness and replay checks for signed callbacks.

A valid signature proves WeCom sent a request once; it does not prove it was sent just
now, or only once. A receiver therefore also refuses a request whose `timestamp` is
more than `window` away from now (either side: clocks drift) and one whose
(nonce, timestamp) it has already accepted. Check the signature first, so that
unsigned requests cannot fill the replay store.

A `ReplayGuard` must remember each pair for at least twice the window: a request with
timestamp t is accepted while now is within [t - window, t + window].
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Protocol

from signoff.integrations.wecom.errors import ReplayedNonce, StaleTimestamp
from signoff.service.ports import Clock

WINDOW = timedelta(seconds=300)


def check_fresh(timestamp: str, now: datetime, window: timedelta = WINDOW) -> datetime:
    """When the request says it was sent (UTC), or StaleTimestamp if that is too far from now.

    `timestamp` is the query parameter: whole seconds since the epoch, as WeCom sends it.
    (DingTalk sends milliseconds; divide by 1000 before calling.)
    """
    text = timestamp.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 20:
        raise StaleTimestamp(
            f"timestamp {timestamp[:20]!r} is not a whole number of seconds", timestamp=timestamp
        )
    drift = abs(now.timestamp() - int(text))
    if drift > window.total_seconds():
        raise StaleTimestamp(
            f"timestamp {text} is {int(drift)} s away from now; "
            f"at most {int(window.total_seconds())} s is accepted",
            timestamp=timestamp,
        )
    return datetime.fromtimestamp(int(text), UTC)


class ReplayGuard(Protocol):
    """Remembers accepted (nonce, timestamp) pairs; the database implements it in production."""

    def seen(self, nonce: str, timestamp: str) -> bool:
        """True if this pair was seen before; otherwise remember it and return False.

        Check-and-remember must be atomic (one INSERT with a unique key in a database),
        so that two copies of one request arriving together cannot both pass.
        """
        ...


def refuse_replay(guard: ReplayGuard, nonce: str, timestamp: str) -> None:
    """Raise ReplayedNonce if `guard` has already seen this (nonce, timestamp)."""
    if guard.seen(nonce, timestamp):
        raise ReplayedNonce(
            "this nonce and timestamp were already accepted", nonce=nonce, timestamp=timestamp
        )


class MemoryReplayGuard:
    """A ReplayGuard in this process's memory, forgetting each pair 2 x `window` after it
    was first seen (by then `check_fresh` refuses its timestamp anyway).

    For tests and a single process; several API nodes need the shared (database) guard.
    """

    def __init__(self, clock: Clock, window: timedelta = WINDOW) -> None:
        self._clock = clock
        self._ttl = 2 * window
        self._expiry: dict[tuple[str, str], datetime] = {}
        self._order: deque[tuple[datetime, tuple[str, str]]] = deque()
        self._lock = threading.Lock()

    def seen(self, nonce: str, timestamp: str) -> bool:
        now = self._clock.now()
        key = (nonce, timestamp)
        with self._lock:
            self._forget(now)
            if key in self._expiry:
                return True
            expires = now + self._ttl
            self._expiry[key] = expires
            self._order.append((expires, key))
            return False

    def __len__(self) -> int:
        """How many pairs are remembered (expired ones may linger until the next `seen`)."""
        return len(self._expiry)

    def _forget(self, now: datetime) -> None:
        while self._order and self._order[0][0] <= now:
            _, key = self._order.popleft()
            self._expiry.pop(key, None)
