"""A process that applies leave-request commands in a loop until it is killed.

    python tests/store/crash_worker.py DATABASE_URL LOG_FILE SEED

It loops forever: starts a leave request, or picks an open one and approves, rejects,
returns or withdraws it (a returned one is resubmitted), through the service layer, one
transaction per command. After each command commits it appends the outcome (instance id,
version, event ids) to LOG_FILE as one JSON line, so the test knows commands that certainly
committed; after the first one it prints `ready` (so that however slow the machine, every
run commits something before it is killed). The database must hold the demo company and
the example templates (`tests.conftest.seed`).
"""

from __future__ import annotations

import json
import os
import random
import sys

import sqlalchemy as sa

from signoff.domain.commands import Approve, Command, Reject, Resubmit, Return, Withdraw
from signoff.domain.errors import SignoffError
from signoff.service.clock import SystemClock
from signoff.service.commands import Outcome, act, start
from signoff.store.database import Database
from signoff.store.schema import instances, tasks
from signoff.store.uow import SqlUnitOfWork

# staff in four departments: the leave flow goes to their heads, one or two levels up, then HR
APPLICANTS = ("u-zhangsan", "u-wangwu", "u-lisi", "u-zhoujing")


def leave_form(rng: random.Random) -> dict[str, object]:
    days = rng.choice([1, 2, 5])  # more than 3 days also goes to the head above
    return {
        "leave_type": rng.choice(["annual", "personal"]),
        "period": ["2026-12-01", "2026-12-05"],
        "days": days,
        "reason": f"crash test, {days} days",
    }


class Worker:
    def __init__(self, url: str, log: int, seed: int) -> None:
        self.db = Database(url)
        self.clock = SystemClock()
        self.log = log
        self.rng = random.Random(seed)  # noqa: S311  # a replayable test schedule, not a secret
        self.seed = seed
        self.count = 0

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.db)

    def record(self, outcome: Outcome) -> None:
        line = {
            "instance_id": outcome.instance_id,
            "version": outcome.version,
            "events": outcome.events,
        }
        os.write(self.log, (json.dumps(line) + "\n").encode())

    def open_instances(self) -> list[tuple[str, str, str]]:
        with self.db.reader() as conn:
            query = sa.select(instances.c.id, instances.c.status, instances.c.applicant_id).where(
                instances.c.status.in_(("pending", "returned"))
            )
            return [(r.id, r.status, r.applicant_id) for r in conn.execute(query)]

    def pending_tasks(self, instance_id: str) -> list[tuple[str, str]]:
        with self.db.reader() as conn:
            query = (
                sa.select(tasks.c.id, tasks.c.assignee)
                .where(tasks.c.instance_id == instance_id, tasks.c.status == "pending")
                .order_by(tasks.c.id)
            )
            return [(r.id, r.assignee) for r in conn.execute(query)]

    def step(self) -> Outcome | None:
        rng = self.rng
        open_ = self.open_instances()
        if not open_ or rng.random() < 0.3:
            self.count += 1
            key = f"crash-{self.seed}-{self.count}" if rng.random() < 0.5 else None
            return start(
                self.uow,
                self.clock,
                actor=rng.choice(APPLICANTS),
                template_key="leave",
                form=leave_form(rng),
                idempotency_key=key,
            )
        instance_id, status, applicant = rng.choice(open_)
        command: Command
        if status == "returned":
            command = Resubmit(actor=applicant, form=leave_form(rng))
        else:
            pending = self.pending_tasks(instance_id)
            if not pending:
                return None
            task_id, assignee = rng.choice(pending)
            roll = rng.random()
            if roll < 0.6:
                command = Approve(actor=assignee, task_id=task_id, comment="ok")
            elif roll < 0.75:
                command = Return(actor=assignee, task_id=task_id, comment="please fix")
            elif roll < 0.9:
                command = Reject(actor=assignee, task_id=task_id, comment="no")
            else:
                command = Withdraw(actor=applicant, comment="not needed")
        return act(self.uow(), self.clock, instance_id, command)

    def run(self) -> None:
        ready = False
        while True:
            try:
                outcome = self.step()
            except SignoffError as error:  # a refusal changes nothing; go on
                print(f"refused: {error}", file=sys.stderr, flush=True)
                continue
            if outcome is not None:
                self.record(outcome)
                if not ready:  # connected and committing: the test may kill it from now on
                    print("ready", flush=True)
                    ready = True


def main() -> None:
    url, log_path, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    Worker(url, log, seed).run()


if __name__ == "__main__":
    main()
