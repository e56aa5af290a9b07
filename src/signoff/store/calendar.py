"""The company's work calendar (one row), with a short-lived process cache.

Every command that enters an approver node with a working-time timeout needs it, so it
is read at most once per `CACHE_SECONDS` per process; a change made here is seen at once
in this process and within `CACHE_SECONDS` on other server nodes.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from signoff.domain.calendar import WorkingCalendar, calendar_from_json, calendar_to_json
from signoff.store.schema import work_calendar

CACHE_SECONDS = 30.0

_cache: dict[str, tuple[float, WorkingCalendar | None]] = {}
_lock = threading.Lock()


class SqlCalendarStore:
    def __init__(self, conn: Connection, url: str) -> None:
        self.conn = conn
        self.url = url

    def get(self) -> WorkingCalendar | None:
        """The calendar timeouts count working time in; None when none is set."""
        with _lock:
            cached = _cache.get(self.url)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        row = self.conn.execute(select(work_calendar.c.definition)).first()
        found = calendar_from_json(row.definition) if row else None
        with _lock:
            _cache[self.url] = (time.monotonic(), found)
        return found

    def document(self) -> dict[str, Any] | None:
        row = self.conn.execute(select(work_calendar)).first()
        return dict(row.definition) if row else None

    def put(self, calendar: WorkingCalendar, by: str | None, at: datetime) -> None:
        values = {"definition": calendar_to_json(calendar), "updated_at": at, "updated_by": by}
        done = self.conn.execute(
            work_calendar.update().where(work_calendar.c.id == 1).values(values)
        )
        if done.rowcount == 0:
            self.conn.execute(work_calendar.insert().values(id=1, **values))
        with _lock:
            _cache.pop(self.url, None)
