"""What a benchmark script hands to the report: its tables, goals and notes, as JSON.

Every script prints its tables as plain text and writes them to
`bench/results/<name>.json` (`bench/results/quick/<name>.json` with `--quick`);
`bench/report.py` assembles those files into docs/benchmarks.md. A table's cells are
already formatted strings, so the printed table and the document show the same figures.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""

    def add(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])

    def text(self) -> str:
        widths = [
            max(len(c), *(len(r[i]) for r in self.rows)) if self.rows else len(c)
            for i, c in enumerate(self.columns)
        ]
        lines = [self.title]
        lines.append(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(self.columns, widths, strict=True))
            )
        )
        for row in self.rows:
            lines.append(
                "  ".join(
                    c.rjust(w) if i else c.ljust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=True))
                )
            )
        if self.note:
            lines.append(f"({self.note})")
        return "\n".join(lines)

    def markdown(self) -> str:
        out = [f"**{self.title}**", ""]
        out.append("| " + " | ".join(self.columns) + " |")
        out.append(
            "|" + "|".join("---" if i == 0 else "---:" for i in range(len(self.columns))) + "|"
        )
        out.extend("| " + " | ".join(row) + " |" for row in self.rows)
        if self.note:
            out += ["", self.note]
        return "\n".join(out)


@dataclass
class Goal:
    goal: str  # "Signoff >= 20x SpiffWorkflow per approval (CPU)"
    measured: str  # "8.1x (sequential) ... 15.2x (all30)"
    met: bool
    judged: bool = True  # False: this run cannot tell (a quick run's smaller sizes)

    @property
    def verdict(self) -> str:
        if not self.judged:
            return "NOT JUDGED"
        return "MET" if self.met else "MISSED"

    def text(self) -> str:
        return f"{self.verdict:<10}  {self.goal}: {self.measured}"


@dataclass
class Result:
    name: str  # the script: spiff, persisted, http, growth
    title: str
    command: str
    quick: bool
    tables: list[Table] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)  # paths relative to docs/
    data: dict[str, Any] = field(default_factory=dict)  # raw figures, for charts
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    finished: str = ""
    environment: dict[str, Any] = field(
        default_factory=lambda: {
            "loadavg_at_start": list(os.getloadavg()),
            "signoff_commit": signoff_commit(),
        }
    )

    def table(self, title: str, columns: Sequence[str], note: str = "") -> Table:
        table = Table(title, list(columns), note=note)
        self.tables.append(table)
        return table

    def goal(self, goal: str, measured: str, met: bool, judged: bool = True) -> Goal:
        found = Goal(goal, measured, met, judged)
        self.goals.append(found)
        return found

    def print(self) -> None:
        print(f"== {self.title}")
        for table in self.tables:
            print()
            print(table.text())
        for note in self.notes:
            print(f"note: {note}")
        if self.goals:
            print()
            for goal in self.goals:
                print(goal.text())
        print(flush=True)

    def save(self) -> Path:
        self.finished = datetime.now(UTC).isoformat(timespec="seconds")
        self.environment["loadavg_at_end"] = list(os.getloadavg())
        folder = RESULTS / "quick" if self.quick else RESULTS
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}.json"
        path.write_text(json.dumps(asdict(self), indent=1, ensure_ascii=False, default=str))
        return path


def signoff_commit(at: str | None = None) -> str:
    """The commit checked out (or the one that was HEAD at an ISO time), and whether src/
    had uncommitted changes (other engineers work in this tree at the same time)."""

    def git(*args: str) -> str:
        done = subprocess.run(  # noqa: S603  # a fixed, read-only git command
            ["git", *args],  # noqa: S607  # git from PATH
            cwd=RESULTS.parents[1],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip()

    if at is not None:
        return (git("log", "-1", "--format=%h", f"--before={at}") or "unknown") + " (HEAD then)"
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "src")
    return commit + (" + uncommitted changes in src/" if dirty else "")


def load(path: Path) -> Result:
    raw = json.loads(path.read_text())
    raw["tables"] = [Table(**t) for t in raw["tables"]]
    raw["goals"] = [Goal(**g) for g in raw["goals"]]
    return Result(**raw)


def command_line() -> str:
    module = Path(sys.argv[0]).stem
    return " ".join([".venv/bin/python -m", f"bench.{module}", *sys.argv[1:]])


def spread(values: Iterable[float], fmt: str = "{:,.0f}") -> str:
    """min / median / max"""
    data = list(values)
    return " / ".join(fmt.format(v) for v in (min(data), statistics.median(data), max(data)))


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank) of the values; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
