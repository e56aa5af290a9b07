"""Sign-in rate limiting: a sliding one-minute window per account and per address.

Kept in the process: with several server processes each enforces the limit on its
own (documented in docs/operations.md).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from signoff.domain.errors import SignoffError


class RateLimited(SignoffError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class SlidingWindow:
    def __init__(self, limit: int, seconds: float = 60.0) -> None:
        self.limit = limit
        self.seconds = seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, *keys: str) -> None:
        """Count one attempt for every key; RateLimited if any key is over its limit."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                hits = self._hits.setdefault(key, deque())
                while hits and hits[0] <= now - self.seconds:
                    hits.popleft()
                if len(hits) >= self.limit:
                    retry = int(hits[0] + self.seconds - now) + 1
                    raise RateLimited(f"too many sign-in attempts for {key}; wait {retry} s", retry)
            for key in keys:
                self._hits[key].append(now)
            if len(self._hits) > 100_000:
                self._hits = {
                    k: v for k, v in self._hits.items() if v and v[-1] > now - self.seconds
                }
