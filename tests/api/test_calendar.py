"""The work calendar through the API: admins set it, bad documents are refused with the
entry at fault, and working-time timeouts count in it."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from signoff.store.schema import tasks
from tests.api.conftest import ADMIN, Api

CALENDAR = {
    "timezone": "Asia/Shanghai",
    "hours": [["09:00", "12:00"], ["13:00", "18:00"]],
    "weekdays": [1, 2, 3, 4, 5],
    "holidays": ["2026-11-25"],
    "workdays": [],
}
LEAVE = {"leave_type": "annual", "period": ["2026-12-01", "2026-12-05"], "days": 5, "reason": "x"}


def due_at(api: Api, instance_id: str) -> datetime:
    with api.services.db.reader() as conn:
        query = sa.select(tasks.c.due_at).where(
            tasks.c.instance_id == instance_id, tasks.c.status == "pending"
        )
        value: datetime = conn.execute(query).scalar_one()
        return value


def test_a_working_time_timeout_counts_working_days_and_skips_holidays(api: Api) -> None:
    # Monday 2026-11-23 17:00 in Shanghai; the leave template's first node times out after
    # 24 working hours = 3 working days of 8 hours, and Wednesday is a holiday
    assert api.as_(ADMIN).put("/api/v1/calendar", json=CALENDAR).status_code == 200
    assert api.as_("u-zhangsan").get("/api/v1/calendar").json() == CALENDAR
    created = api.as_("u-zhangsan").post(
        "/api/v1/instances", json={"template_key": "leave", "form": LEAVE}
    )
    assert created.status_code == 201, created.text
    # 1 h on Monday, 8 on Tuesday, Wednesday off, 8 on Thursday, 7 on Friday -> Fri 17:00
    assert due_at(api, created.json()["instance_id"]) == datetime(2026, 11, 27, 9, tzinfo=UTC)


def test_without_a_calendar_the_timeout_counts_clock_hours(api: Api) -> None:
    assert api.as_("u-zhangsan").get("/api/v1/calendar").json() is None
    created = api.as_("u-zhangsan").post(
        "/api/v1/instances", json={"template_key": "leave", "form": LEAVE}
    )
    assert due_at(api, created.json()["instance_id"]) == datetime(2026, 11, 24, 9, tzinfo=UTC)


def test_a_bad_calendar_is_refused_with_the_entry_at_fault_and_changes_nothing(
    api: Api,
) -> None:
    bad = {**CALENDAR, "hours": [["09:00", "08:00"]], "holidays": ["2026-02-30"]}
    response = api.as_(ADMIN).put("/api/v1/calendar", json=bad)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "calendar_invalid"
    assert {e["path"] for e in body["errors"]} >= {"hours[0]", "holidays[0]"}
    assert api.as_(ADMIN).get("/api/v1/calendar").json() is None


def test_only_administrators_set_the_calendar(api: Api) -> None:
    response = api.as_("u-zhangsan").put("/api/v1/calendar", json=CALENDAR)
    assert response.status_code == 403
