"""The work calendar: working hours, weekdays, public holidays and make-up days (调休).

Approver timeouts with `"working_time": true` count in it (docs/templates.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from signoff.api.deps import CallerDep, ServicesDep
from signoff.domain.calendar import calendar_from_json, calendar_to_json

router = APIRouter(tags=["calendar"])

EXAMPLE = {
    "timezone": "Asia/Shanghai",
    "hours": [["09:00", "12:00"], ["13:00", "18:00"]],
    "weekdays": [1, 2, 3, 4, 5],
    "holidays": ["2026-10-01", "2026-10-02"],
    "workdays": ["2026-10-10"],
}


@router.get("/calendar", summary="The work calendar (null: none is set)")
def show(who: CallerDep, svc: ServicesDep) -> dict[str, Any] | None:
    with svc.uow() as uow:
        return uow.calendar.document()


@router.put("/calendar", summary="Set the work calendar")
def put(
    who: CallerDep,
    svc: ServicesDep,
    document: dict[str, Any] = Body(examples=[EXAMPLE]),  # noqa: B008  # FastAPI's way
) -> dict[str, Any]:
    """Refused with 422 and a problem per wrong entry (path and rule) when invalid."""
    who.require_admin()
    calendar = calendar_from_json(document)
    with svc.uow() as uow:
        uow.calendar.put(calendar, who.principal_id, svc.clock.now())
        uow.commit()
    return calendar_to_json(calendar)
