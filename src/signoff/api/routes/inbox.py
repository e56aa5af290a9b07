"""A person's inbox: pending / done / cc / mine, with counts, filters and keyset paging;
batch approve or reject (each task its own transaction, a result per task)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from signoff.api.commands import counted, outcome_out
from signoff.api.deps import CallerDep, IdempotencyDep, ServicesDep, instance_of_task
from signoff.api.errors import problem_body
from signoff.api.models import BatchBody, BatchOut, BatchResult, InboxItemOut, InboxOut, Problem
from signoff.domain.commands import Approve, Command, Reject
from signoff.domain.errors import CommandInvalid, SignoffError
from signoff.service.commands import act
from signoff.service.readmodel import InboxFilter

router = APIRouter(tags=["inbox"])


@router.get("/inbox/{box}", response_model=InboxOut, summary="My inbox")
def inbox(
    box: Literal["pending", "done", "cc", "mine"],
    who: CallerDep,
    svc: ServicesDep,
    request: Request,
    template: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[
        Literal["draft", "pending", "approved", "rejected", "withdrawn", "returned", "terminated"]
        | None,
        Query(),
    ] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> InboxOut:
    person = who.require_person()
    where = InboxFilter(template, status, _aware(since), _aware(until))
    with svc.uow() as uow:
        page = uow.queries.inbox(person, box, where, cursor, limit)
        counts = uow.queries.counts(person)
    request.app.state.metrics.inbox_size.observe(counts["pending"])
    return InboxOut(
        box=box,
        items=[InboxItemOut.model_validate(item, from_attributes=True) for item in page.items],
        next_cursor=page.next_cursor,
        counts=counts,
    )


def _aware(value: datetime | None) -> datetime | None:
    """In UTC (a time without a zone is taken as UTC)."""
    if value is None:
        return None
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError as error:
        raise CommandInvalid(f"{value.isoformat()} is outside the calendar") from error


@router.post("/inbox/batch", response_model=BatchOut, summary="Approve or reject many tasks")
def batch(
    body: BatchBody, who: CallerDep, svc: ServicesDep, request: Request, key: IdempotencyDep
) -> BatchOut:
    """Each task is decided in its own transaction; one failing does not stop the others.
    With an Idempotency-Key, each task's command gets `<key>:<task id>`."""
    person = who.require_person()
    results: list[BatchResult] = []
    for task_id in dict.fromkeys(body.task_ids):
        command: Command
        if body.action == "approve":
            command = Approve(actor=person, task_id=task_id, comment=body.comment)
        else:
            command = Reject(actor=person, task_id=task_id, comment=body.comment)
        try:
            with counted(svc, type(command).__name__):
                outcome = act(
                    svc.uow(),
                    svc.clock,
                    instance_of_task(task_id),
                    command,
                    idempotency_key=f"{key}:{task_id}" if key else None,
                    viewer=who,
                    hooks=svc.hooks,
                )
            results.append(
                BatchResult(task_id=task_id, ok=True, status=200, outcome=outcome_out(outcome))
            )
        except SignoffError as error:
            found = problem_body(error)
            found["request_id"] = getattr(request.state, "request_id", None)
            results.append(
                BatchResult(
                    task_id=task_id, ok=False, status=found["status"], problem=Problem(**found)
                )
            )
    ok = sum(r.ok for r in results)
    return BatchOut(results=results, succeeded=ok, failed=len(results) - ok)
