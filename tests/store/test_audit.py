"""`signoff audit verify` on SQLite and PostgreSQL: the hash-chained audit trail verifies
while untouched, and every change made behind the application's back (a row edited, a
row deleted from the middle, the newest rows deleted, a whole trail deleted, a row
forged at the end) is reported where it happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from signoff.cli import main
from signoff.domain.commands import Approve
from signoff.service.clock import ManualClock
from signoff.service.commands import act, start
from signoff.store.audit import AuditProblem, row_hash, verify
from signoff.store.database import Database
from signoff.store.schema import audit, instances, tasks
from signoff.store.uow import SqlUnitOfWork

LEAVE = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-05"],
    "days": 5,
    "reason": "family trip",
}
CHANGED = "the row was changed (hash mismatch)"
HEAD_NOT_REACHED = "the newest rows are missing (head not reached)"
ALL_GONE = "every audit row is missing"
PREV_MISMATCH = "prev_hash does not match the row before"


@dataclass
class Trail:
    approved: str  # approved by 陈杰 ("同意"), 李娜 and 黄莉 ("批准")
    pending: str  # waiting for 陈杰


def approve(db: Database, clock: ManualClock, instance_id: str, person: str, comment: str) -> None:
    with db.reader() as conn:
        task = conn.execute(
            sa.select(tasks.c.id).where(
                tasks.c.instance_id == instance_id,
                tasks.c.assignee == person,
                tasks.c.status == "pending",
            )
        ).scalar_one()
    clock.advance(minutes=5)
    act(
        SqlUnitOfWork(db),
        clock,
        instance_id,
        Approve(actor=person, task_id=task, comment=comment),
    )


def submit(db: Database, clock: ManualClock) -> str:
    return start(
        lambda: SqlUnitOfWork(db), clock, actor="u-zhangsan", template_key="leave", form=LEAVE
    ).instance_id


@pytest.fixture
def trail(seeded: Database, clock: ManualClock) -> Trail:
    approved = submit(seeded, clock)
    approve(seeded, clock, approved, "u-chenjie", "同意")
    approve(seeded, clock, approved, "u-lina", "可以")
    approve(seeded, clock, approved, "u-huangli", "批准")
    pending = submit(seeded, clock)
    return Trail(approved, pending)


def rows(db: Database, instance_id: str) -> list[dict[str, Any]]:
    with db.reader() as conn:
        result = conn.execute(
            sa.select(audit).where(audit.c.instance_id == instance_id).order_by(audit.c.seq)
        )
        return [dict(r) for r in result.mappings()]


def check(db: Database, instance_id: str | None = None) -> tuple[int, list[AuditProblem]]:
    with db.reader() as conn:
        return verify(conn, instance_id)


def change(db: Database, row_id: int, **values: Any) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.update(audit).where(audit.c.id == row_id).values(**values))


def delete(db: Database, row_ids: list[int]) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.delete(audit).where(audit.c.id.in_(row_ids)))


def count(db: Database) -> int:
    with db.reader() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(audit)).scalar_one())


def test_an_untouched_trail_verifies(seeded: Database, trail: Trail) -> None:
    approved, pending = rows(seeded, trail.approved), rows(seeded, trail.pending)
    assert [r["seq"] for r in approved] == list(range(len(approved)))
    assert approved[-1]["to_status"] == "approved"
    assert check(seeded) == (count(seeded), [])
    assert check(seeded, trail.approved) == (len(approved), [])
    assert check(seeded, trail.pending) == (len(pending), [])
    with seeded.reader() as conn:
        heads = dict(conn.execute(sa.select(instances.c.id, instances.c.audit_head)).all())
    assert heads == {trail.approved: approved[-1]["hash"], trail.pending: pending[-1]["hash"]}


def _with_comment(row: dict[str, Any]) -> dict[str, Any]:
    return {"data": {**row["data"], "comment": "不同意"}}


def _with_form(row: dict[str, Any]) -> dict[str, Any]:
    return {"data": {**row["data"], "form": {**row["data"]["form"], "days": 1}}}


def _with_time(row: dict[str, Any]) -> dict[str, Any]:
    return {"at": row["at"] + timedelta(seconds=1)}


@pytest.mark.parametrize(
    ("event", "edit"),
    [
        ("TaskApproved", _with_comment),
        ("InstanceSubmitted", _with_form),
        ("TaskApproved", lambda row: {"actor": "u-zhouming"}),
        ("TaskApproved", _with_time),
        ("InstanceApproved", lambda row: {"to_status": "rejected"}),
        ("InstanceApproved", lambda row: {"type": "InstanceRejected"}),
        ("TaskApproved", lambda row: {"data": {}}),
    ],
    ids=["comment", "form", "actor", "time", "status", "type", "data emptied"],
)
def test_a_row_changed_behind_the_applications_back_is_reported_at_its_seq(
    seeded: Database, trail: Trail, event: str, edit: Any
) -> None:
    target = next(r for r in rows(seeded, trail.approved) if r["type"] == event)
    change(seeded, target["id"], **edit(target))
    checked, problems = check(seeded)
    assert checked == count(seeded)
    assert problems == [AuditProblem(trail.approved, target["seq"], target["id"], CHANGED)]
    assert str(problems[0]) == (
        f"instance {trail.approved} seq {target['seq']} (row {target['id']}): {CHANGED}"
    )


def test_a_changed_comment_is_found_even_when_the_sql_is_written_by_hand(
    seeded: Database, trail: Trail
) -> None:
    target = next(r for r in rows(seeded, trail.approved) if r["type"] == "TaskApproved")
    assert target["data"]["comment"] == "同意"
    edit = (
        "UPDATE audit SET data = json_set(data, '$.comment', 'forged') WHERE id = :id"
        if seeded.is_sqlite
        else "UPDATE audit SET data = jsonb_set(data, '{comment}', '\"forged\"') WHERE id = :id"
    )
    with seeded.engine.begin() as conn:
        conn.execute(sa.text(edit), {"id": target["id"]})
    assert (
        next(r for r in rows(seeded, trail.approved) if r["id"] == target["id"])["data"]["comment"]
        == "forged"
    )
    assert check(seeded)[1] == [AuditProblem(trail.approved, target["seq"], target["id"], CHANGED)]


@pytest.mark.parametrize("position", [0, 3, -2], ids=["first", "middle", "next to newest"])
def test_a_deleted_row_is_reported_as_a_gap_at_the_row_after_it(
    seeded: Database, trail: Trail, position: int
) -> None:
    chain = rows(seeded, trail.approved)
    gone = chain[position]
    after = chain[chain.index(gone) + 1]
    delete(seeded, [gone["id"]])
    checked, problems = check(seeded)
    assert checked == count(seeded)
    assert problems == [
        AuditProblem(
            trail.approved, after["seq"], after["id"], f"rows before seq {after['seq']} are missing"
        ),
        AuditProblem(trail.approved, after["seq"], after["id"], PREV_MISMATCH),
    ]


@pytest.mark.parametrize("how_many", [1, 3])
def test_deleting_the_newest_rows_is_reported_as_the_head_not_reached(
    seeded: Database, trail: Trail, how_many: int
) -> None:
    chain = rows(seeded, trail.approved)
    delete(seeded, [r["id"] for r in chain[-how_many:]])
    assert check(seeded)[1] == [AuditProblem(trail.approved, None, None, HEAD_NOT_REACHED)]
    assert str(check(seeded)[1][0]) == f"instance {trail.approved} chain (row None): " + (
        HEAD_NOT_REACHED
    )


def test_deleting_every_row_of_an_instance_is_reported(seeded: Database, trail: Trail) -> None:
    with seeded.engine.begin() as conn:
        conn.execute(sa.delete(audit).where(audit.c.instance_id == trail.approved))
    checked, problems = check(seeded)
    assert checked == len(rows(seeded, trail.pending))
    assert problems == [AuditProblem(trail.approved, None, None, ALL_GONE)]
    assert check(seeded, trail.approved)[1] == problems
    assert check(seeded, trail.pending)[1] == []


def test_a_row_forged_after_the_newest_does_not_reach_the_stored_head(
    seeded: Database, trail: Trail
) -> None:
    newest = rows(seeded, trail.approved)[-1]
    forged = {
        k: newest[k] for k in ("instance_id", "type", "actor", "at", "from_status", "to_status")
    }
    forged.update(
        seq=newest["seq"] + 1,
        event_id=f"{trail.approved}:{newest['seq'] + 1}",
        data={"comment": "补签"},
        prev_hash=newest["hash"],
    )
    forged["hash"] = row_hash(newest["hash"], forged)
    with seeded.engine.begin() as conn:
        conn.execute(sa.insert(audit).values(**forged))
    assert check(seeded)[1] == [AuditProblem(trail.approved, None, None, HEAD_NOT_REACHED)]


def test_verifying_one_instance_looks_at_its_chain_only(seeded: Database, trail: Trail) -> None:
    chain = rows(seeded, trail.approved)
    change(seeded, chain[2]["id"], **_with_comment(chain[2]))
    assert check(seeded, trail.pending) == (len(rows(seeded, trail.pending)), [])
    assert check(seeded, trail.approved)[1] == [
        AuditProblem(trail.approved, 2, chain[2]["id"], CHANGED)
    ]
    assert check(seeded, "i-none") == (0, [])


def test_a_trail_written_by_a_clock_in_another_time_zone_verifies(seeded: Database) -> None:
    """The store keeps any aware time as UTC; the hash must not depend on the writer's zone
    (a clock at UTC+8, as a server in Shanghai may well be set up)."""
    shanghai = ManualClock(datetime(2026, 11, 23, 17, 0, tzinfo=timezone(timedelta(hours=8))))
    instance_id = submit(seeded, shanghai)
    approve(seeded, shanghai, instance_id, "u-chenjie", "同意")
    assert rows(seeded, instance_id)[0]["at"] == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert check(seeded) == (count(seeded), [])


# ---- through the command line --------------------------------------------------------


def test_the_command_verifies_a_clean_trail_with_exit_status_0(
    seeded: Database, trail: Trail, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database", seeded.url, "audit", "verify"]) == 0
    assert capsys.readouterr().out == f"{count(seeded)} audit rows checked, 0 problem(s)\n"


def test_the_command_prints_each_problem_and_exits_1(
    seeded: Database, trail: Trail, capsys: pytest.CaptureFixture[str]
) -> None:
    chain = rows(seeded, trail.approved)
    change(seeded, chain[3]["id"], **_with_comment(chain[3]))
    delete(seeded, [chain[-1]["id"]])
    assert main(["--database", seeded.url, "audit", "verify"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"instance {trail.approved} seq 3 (row {chain[3]['id']}): {CHANGED}",
        f"instance {trail.approved} chain (row None): {HEAD_NOT_REACHED}",
        f"{count(seeded)} audit rows checked, 2 problem(s)",
    ]
    assert main(["--database", seeded.url, "audit", "verify", "--instance", trail.pending]) == 0
    assert capsys.readouterr().out.endswith(" 0 problem(s)\n")
