"""How fast is the pure engine? Complete leave requests per second (submit + every approval).

Run: `make bench-engine` (or `.venv/bin/python -m bench.engine [--seconds N]`).
A script, not a test: it prints figures, it asserts nothing about them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from signoff.domain.commands import Approve, Submit
from signoff.domain.directory import InMemoryDirectory
from signoff.domain.instance import Instance
from signoff.domain.navigation import Env
from signoff.domain.templates import parse_template

ROOT = Path(__file__).resolve().parents[1]
FORM = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-05"],
    "days": 5,
    "reason": "family trip",
}


def load_directory() -> InMemoryDirectory:
    return InMemoryDirectory.from_json(json.loads((ROOT / "examples/directory.json").read_text()))


def one_run(seconds: float) -> tuple[int, int, float, float]:
    """Play leave requests for about `seconds`; return instances, approvals, wall, cpu."""
    template = parse_template(json.loads((ROOT / "examples/templates/leave.json").read_text()))
    directory = load_directory()
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    env = Env(now, directory)
    instances = approvals = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    deadline = wall0 + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):
            inst = Instance.new(f"i-{instances}", template, "u-zhangsan")
            inst.execute(Submit(actor="u-zhangsan", form=FORM, serial="LEAVE-1"), env)
            while not inst.finished:
                task = next(t for t in inst.tasks.values() if t.status == "pending")
                inst.execute(Approve(actor=task.assignee, task_id=task.id), env)
                approvals += 1
            instances += 1
        env = Env(env.now + timedelta(seconds=1), directory)
    return instances, approvals, time.perf_counter() - wall0, time.process_time() - cpu0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one run")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rates, per_cpu, approvals_rate = [], [], []
    for _ in range(args.runs):
        instances, approvals, wall, cpu = one_run(args.seconds)
        rates.append(instances / wall)
        per_cpu.append(instances / cpu)
        approvals_rate.append(approvals / wall)
    print("leave request: submit + team lead + department head + HR (5 days)")
    print(f"{'runs':<28}{args.runs} x {args.seconds:.1f} s")
    print(
        f"{'instances/s (min/med/max)':<28}{min(rates):,.0f} / {statistics.median(rates):,.0f}"
        f" / {max(rates):,.0f}"
    )
    print(f"{'instances per CPU-second':<28}{statistics.median(per_cpu):,.0f}")
    print(f"{'approvals/s (median)':<28}{statistics.median(approvals_rate):,.0f}")


if __name__ == "__main__":
    main()
