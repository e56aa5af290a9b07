"""The engine against SpiffWorkflow, in memory: the same processes, the same data.

For each process of `bench/processes.py` (sequential, parallel then final, an `all` node
of 3 and of 30, an `any` node of 3) and each engine, a run plays batches of 50
instances until its time is up: first every instance of the batch is started (Signoff:
`Instance.new(...).execute(Submit)`; Spiff: `BpmnWorkflow(spec)`, start data,
`do_engine_steps()`), then every pending task is approved by its holder, by task id,
with "who must act now" asked after each command, as a service answers it. The two
phases are timed apart (wall clock and process CPU time), so an approval's cost does
not include the start.

Runs of the two engines alternate, so both see the same noise. Printed: approvals per
second and per CPU-second (min / median / max over the runs), whole instances (start +
approvals) per CPU-second, and the ratio Signoff / SpiffWorkflow of the medians.
Goals: Signoff >= 20x SpiffWorkflow; an approval on the 30-person `all` node costs no
more than one on the 3-person node.

Run: `.venv/bin/python -m bench.spiff [--seconds S] [--runs N] [--quick]`. A script.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.processes import PROCESSES, Process, SignoffPlayer, SpiffPlayer
from bench.results import Result, command_line, spread

BATCH = 50
Player = SignoffPlayer | SpiffPlayer


@dataclass
class Runs:
    """One engine on one process: per run, the figures of both phases."""

    approvals_per_s: list[float] = field(default_factory=list)
    approvals_per_cpu: list[float] = field(default_factory=list)
    instances_per_cpu: list[float] = field(default_factory=list)  # start + approvals
    start_cpu_us: list[float] = field(default_factory=list)
    approval_cpu_us: list[float] = field(default_factory=list)


def one_run(make: Callable[[int], Player], seconds: float, runs: Runs) -> None:
    approvals = instances = 0
    start_wall = start_cpu = approve_wall = approve_cpu = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        players = [make(instances + k) for k in range(BATCH)]
        w0, c0 = time.perf_counter(), time.process_time()
        pending = [p.start() for p in players]
        w1, c1 = time.perf_counter(), time.process_time()
        for player, waiting in zip(players, pending, strict=True):
            while waiting:
                task_id, person = waiting[0]
                waiting = player.approve(task_id, person)
                approvals += 1
        w2, c2 = time.perf_counter(), time.process_time()
        assert all(p.outcome == "approved" for p in players)
        start_wall += w1 - w0
        start_cpu += c1 - c0
        approve_wall += w2 - w1
        approve_cpu += c2 - c1
        instances += BATCH
    runs.approvals_per_s.append(approvals / approve_wall)
    runs.approvals_per_cpu.append(approvals / max(approve_cpu, 1e-9))
    runs.instances_per_cpu.append(instances / max(start_cpu + approve_cpu, 1e-9))
    runs.start_cpu_us.append(start_cpu / instances * 1e6)
    runs.approval_cpu_us.append(approve_cpu / approvals * 1e6)


def makers(process: Process) -> dict[str, Callable[[int], Player]]:
    return {
        "signoff": lambda k: SignoffPlayer(process, f"i-{k}"),
        "spiff": lambda k: SpiffPlayer(process),
    }


def measure(seconds: float, runs: int) -> dict[str, dict[str, Runs]]:
    figures: dict[str, dict[str, Runs]] = {}
    for process in PROCESSES:
        engines = makers(process)
        figures[process.key] = {name: Runs() for name in engines}
        for make in engines.values():  # warm up: parse, import, caches
            one_run(make, seconds / 10, Runs())
        for _ in range(runs):
            for name, make in engines.items():
                one_run(make, seconds, figures[process.key][name])
    return figures


def report(result: Result, figures: dict[str, dict[str, Runs]], args: argparse.Namespace) -> None:
    result.notes.append(
        f"{args.runs} runs of {args.seconds:g} s per engine and process, engines alternating; "
        "one process, one thread; ratios are of medians measured in this one run."
    )
    approvals = result.table(
        "Approvals (the approval phase only)",
        [
            "process",
            "approvals/instance",
            "Signoff approvals/s",
            "Signoff approvals/CPU-s",
            "Spiff approvals/s",
            "Spiff approvals/CPU-s",
            "Signoff/Spiff (CPU)",
        ],
        "min / median / max over the runs",
    )
    whole = result.table(
        "Whole instances (start + every approval)",
        [
            "process",
            "Signoff start, µs CPU",
            "Spiff start, µs CPU",
            "Signoff instances/CPU-s",
            "Spiff instances/CPU-s",
            "Signoff/Spiff",
        ],
        "medians",
    )
    ratios: dict[str, float] = {}
    for process in PROCESSES:
        ours, theirs = figures[process.key]["signoff"], figures[process.key]["spiff"]
        ratio = statistics.median(ours.approvals_per_cpu) / statistics.median(
            theirs.approvals_per_cpu
        )
        ratios[process.key] = ratio
        approvals.add(
            process.key,
            process.approvals,
            spread(ours.approvals_per_s),
            spread(ours.approvals_per_cpu),
            spread(theirs.approvals_per_s),
            spread(theirs.approvals_per_cpu),
            f"{ratio:.1f}x",
        )
        whole_ratio = statistics.median(ours.instances_per_cpu) / statistics.median(
            theirs.instances_per_cpu
        )
        ratios[f"{process.key}:whole"] = whole_ratio
        whole.add(
            process.key,
            f"{statistics.median(ours.start_cpu_us):,.0f}",
            f"{statistics.median(theirs.start_cpu_us):,.0f}",
            f"{statistics.median(ours.instances_per_cpu):,.0f}",
            f"{statistics.median(theirs.instances_per_cpu):,.0f}",
            f"{whole_ratio:.1f}x",
        )
    cost = {
        key: statistics.median(figures[key]["signoff"].approval_cpu_us) for key in ("all3", "all30")
    }
    scaling = result.table(
        "Cost of one approval on an `all` node (Signoff, µs of CPU)",
        ["node", "min / median / max", "per approval vs all3"],
    )
    for key in ("all3", "all30"):
        scaling.add(
            key,
            spread(figures[key]["signoff"].approval_cpu_us, "{:,.1f}"),
            f"{cost[key] / cost['all3']:.2f}x",
        )
    approval_ratios = {k: v for k, v in ratios.items() if ":" not in k}
    worst = min(approval_ratios, key=approval_ratios.__getitem__)
    result.goal(
        "Signoff >= 20x SpiffWorkflow per approval (CPU, every process)",
        ", ".join(f"{k} {v:.1f}x" for k, v in approval_ratios.items()) + f" (lowest: {worst})",
        approval_ratios[worst] >= 20,
    )
    whole_ratios = {k.split(":")[0]: v for k, v in ratios.items() if k.endswith(":whole")}
    result.goal(
        "Signoff >= 20x SpiffWorkflow per whole instance (start + approvals, CPU)",
        ", ".join(f"{k} {v:.1f}x" for k, v in whole_ratios.items()),
        min(whole_ratios.values()) >= 20,
    )
    result.goal(
        "an approval on the 30-person all node costs no more than on the 3-person one",
        f"{cost['all30']:.1f} µs vs {cost['all3']:.1f} µs ({cost['all30'] / cost['all3']:.2f}x)",
        cost["all30"] <= cost["all3"],
    )
    result.data = {
        "ratios": ratios,
        "figures": {k: {e: vars(r) for e, r in v.items()} for k, v in figures.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="length of one run")
    parser.add_argument("--runs", type=int, default=5, help="runs per engine and process")
    parser.add_argument("--quick", action="store_true", help="3 runs of 0.3 s")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.runs = 0.3, 3
    result = Result("spiff", "Engine vs SpiffWorkflow 3.2.0, in memory", command_line(), args.quick)
    report(result, measure(args.seconds, args.runs), args)
    result.print()
    result.save()


if __name__ == "__main__":
    main()
