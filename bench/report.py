"""Assemble docs/benchmarks.md (and its charts) from the scripts' results.

Reads `bench/results/*.json` (written by bench.spiff, bench.persisted, bench.http,
bench.growth and bench.profile), draws the growth curves with matplotlib (Agg) into
docs/benchmarks/*.png, and writes docs/benchmarks.md: the machine, the versions, the
exact commands, every table, the charts, and every goal met or missed.
With `--quick` it reads `bench/results/quick/` and only prints the goals (the
document is `make bench`'s).

Run: `.venv/bin/python -m bench.report [--quick]`.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import os
import platform
import sqlite3
from pathlib import Path
from typing import Any

import psycopg

from bench.results import RESULTS, Goal, Result, load, signoff_commit
from bench.store import pg_base_url

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
CHARTS = ROOT / "docs" / "benchmarks"
ORDER = ("spiff", "persisted", "http", "http-no-worker", "growth", "profile")
OPS = ("inbox", "my requests", "instance page", "approve")


def results(quick: bool) -> list[Result]:
    folder = RESULTS / "quick" if quick else RESULTS
    return [load(folder / f"{name}.json") for name in ORDER if (folder / f"{name}.json").exists()]


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor(),
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kb = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal")))
    return {
        "CPU": model,
        "cores": str(os.cpu_count()),
        "RAM": f"{total_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
    }


def versions() -> dict[str, str]:
    out = {"Python": platform.python_version(), "SQLite": sqlite3.sqlite_version}
    try:
        with psycopg.connect(pg_base_url(), connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            out["PostgreSQL"] = str(row[0]) if row else "?"
    except psycopg.Error:
        out["PostgreSQL"] = "not reachable"
    for package in ("SpiffWorkflow", "SQLAlchemy", "psycopg", "fastapi", "uvicorn", "matplotlib"):
        out[package] = importlib.metadata.version(package)
    out["Signoff"] = "the commit of each run is given under its section"
    return out


# ---- charts ----------------------------------------------------------------------------


def growth_charts(growth: Result) -> list[str]:
    import matplotlib  # only `make bench` draws

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    CHARTS.mkdir(parents=True, exist_ok=True)
    drawn = []
    for kind, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        figures = growth.data.get(kind)
        if not figures:
            continue
        sizes = figures["sizes"]
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
        for ax, q in zip(axes, ("p50", "p99"), strict=True):
            for op in OPS:
                ax.plot(sizes, figures["ops"][op][q], marker="o", label=op)
            ax.set_xscale("log")
            ax.set_ylim(bottom=0)
            ax.set_xlabel("instances in the database")
            ax.set_ylabel(f"{q}, ms")
            ax.set_title(f"{label}: {q} per call")
            ax.grid(True, which="both", alpha=0.3)
        axes[0].legend()
        fig.suptitle("Growth curves (one run on a shared 2-core machine)", fontsize=10)
        fig.tight_layout()
        name = f"growth-{kind}.png"
        fig.savefig(CHARTS / name, dpi=110)
        plt.close(fig)
        drawn.append(f"benchmarks/{name}")
    return drawn


# ---- the document ----------------------------------------------------------------------


def goals_table(found: list[Result]) -> str:
    lines = ["| verdict | goal | measured |", "|---|---|---|"]
    for result in found:
        for goal in result.goals:
            lines.append(f"| **{goal.verdict}** | {goal.goal} | {goal.measured} |")
    return "\n".join(lines)


def findings(found: dict[str, Result]) -> list[str]:
    """Sentences computed from the results: where the time goes when a goal is missed."""
    out: list[str] = []
    profile = found.get("profile")
    if profile is not None:
        for table in profile.tables:
            if "by area" not in table.title:
                continue
            top = ", ".join(f"{r[0]} {r[2]}" for r in table.rows[:4])
            out.append(f"- **{table.title.split(':')[0]}**: {top}.")
    persisted = found.get("persisted")
    if persisted is not None and persisted.tables:
        rows = persisted.tables[0].rows
        cols = persisted.tables[0].columns
        i_ours, i_raw = cols.index("Signoff CPU µs"), cols.index("raw CPU µs")
        spans = ", ".join(f"{r[0]} {r[i_ours]} µs vs {r[i_raw]} µs" for r in rows)
        out.append(
            "- **CPU per durable approval on SQLite** (Signoff vs the same statements through "
            f"the bare driver): {spans}."
        )
    http, alone = found.get("http"), found.get("http-no-worker")
    if http is not None and alone is not None:
        pairs = []
        for n, phases in alone.data.get("SQLite, worker off", {}).items():
            with_worker = http.data.get("SQLite", {}).get(n)
            if with_worker:
                pairs.append(
                    f"{n} client(s) {_cpu_ms(with_worker['approve']):.1f} ms with the worker, "
                    f"{_cpu_ms(phases['approve']):.1f} ms without"
                )
        if pairs:
            out.append(
                "- **Server CPU per HTTP approval on SQLite, with and without the in-process "
                "worker** (relay, sinks, timers; `SIGNOFF_WORKER=false`): " + "; ".join(pairs) + "."
            )
    growth = found.get("growth")
    if growth is not None:
        for kind, sizes in growth.data.get("bytes_per_instance", {}).items():
            total = sum(sizes.values())
            parts = ", ".join(
                f"{t} {b / 1024:.1f} KB ({b / total:.0%})"
                for t, b in sorted(sizes.items(), key=lambda kv: -kv[1])
            )
            out.append(f"- **Bytes per finished 4-step instance on {kind}**: {parts}.")
    return out


def _cpu_ms(phase: dict[str, Any]) -> float:
    return float(phase["server_cpu"]) / max(1, int(phase["latencies"])) * 1000


def write(found: list[Result]) -> None:
    by_name = {r.name: r for r in found}
    charts = growth_charts(by_name["growth"]) if "growth" in by_name else []
    if "growth" in by_name:
        by_name["growth"].charts = charts
    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/report.py` from `bench/results/*.json`); do not edit "
        "by hand. Every figure comes from **one run** on a **shared, noisy 2-core machine** "
        "where other work (test suites, other benchmarks) ran at the same time: absolute "
        "times are noise, the **ratios measured side by side in the same run** and the "
        "**growth curves** are what to read. The load averages during each script are listed "
        "under it.",
        "",
        "## Goals",
        "",
        goals_table(found),
        "",
        "## Where the time goes",
        "",
        "Computed from the profiles (`bench/profile.py`, cProfile) and the persisted run; "
        "the full profile tables are at the end.",
        "",
        *findings(by_name),
        "",
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in {**machine(), **versions()}.items()),
        "",
        "## Commands",
        "",
        "```sh",
        "make bench          # all of the below, then this document",
        "make bench-quick    # the same at small sizes (< 2 minutes); prints the goals only",
        *(r.command for r in found),
        ".venv/bin/python -m bench.report",
        "```",
        "",
    ]
    for result in found:
        out += [f"## {result.title}", "", method(result.name), ""]
        out += [f"`{result.command}`  ", _when(result), ""]
        for table in result.tables:
            out += [table.markdown(), ""]
        for chart in result.charts:
            out += [f"![{Path(chart).stem}]({chart})", ""]
        out += [f"- {note}" for note in result.notes]
        if result.goals:
            out.append("")
            out += [f"- **{g.verdict}**: {g.goal}: {g.measured}" for g in result.goals]
        out.append("")
    DOC.write_text("\n".join(out).rstrip() + "\n")


def method(name: str) -> str:
    """How the script measures: its docstring, without the first line and the "Run:" part."""
    module = name.split("-")[0]
    if module != name:
        return "`bench/http.py` again, the server started with `SIGNOFF_WORKER=false`."
    text = ast.get_docstring(ast.parse((ROOT / "bench" / f"{module}.py").read_text())) or ""
    body = text.split("\n", 1)[1].strip() if "\n" in text else ""
    return body.split("\nRun:", 1)[0].split("Run: `", 1)[0].strip()


def _when(result: Result) -> str:
    env: dict[str, Any] = result.environment
    start = f"{env['loadavg_at_start'][0]:.1f}" if "loadavg_at_start" in env else "?"
    end = f"{env['loadavg_at_end'][0]:.1f}" if "loadavg_at_end" in env else "?"
    commit = env.get("signoff_commit") or signoff_commit(result.started)
    return (
        f"Run {result.started} to {result.finished} on Signoff {commit}; load average "
        f"{start} at start, {end} at end."
    )


def print_goals(found: list[Result]) -> None:
    goals: list[Goal] = [g for r in found for g in r.goals]
    print("== Goals")
    for goal in goals:
        print(goal.text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="print the quick run's goals")
    args = parser.parse_args()
    found = results(args.quick)
    if not found:
        raise SystemExit("no results yet: run the benchmarks first (make bench)")
    if not args.quick:
        write(found)
        print(f"wrote {DOC.relative_to(ROOT)}")
    print_goals(found)


if __name__ == "__main__":
    main()
