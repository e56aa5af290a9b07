"""Fixtures for the engine tests: the demo company, the example templates, a clock."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from signoff.domain.aggregate import Task
from signoff.domain.commands import Approve, Command, Submit
from signoff.domain.directory import InMemoryDirectory
from signoff.domain.events import Event
from signoff.domain.instance import Instance
from signoff.domain.navigation import Env
from signoff.domain.templates import Template, parse_template

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def demo_directory() -> InMemoryDirectory:
    return InMemoryDirectory.from_json(json.loads((EXAMPLES / "directory.json").read_text()))


def example_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "templates" / f"{name}.json").read_text())
    return data


def example(name: str) -> Template:
    return parse_template(example_json(name))


class Play:
    """One instance played through, with a clock that moves a minute per command."""

    def __init__(self, template: Template, applicant: str, directory: InMemoryDirectory) -> None:
        self.directory = directory
        self.now = T0
        self.instance = Instance.new("i-1", template, applicant)
        self.events: list[Event] = []

    def env(self) -> Env:
        return Env(self.now, self.directory)

    def do(self, command: Command) -> list[Event]:
        self.now += timedelta(minutes=1)
        events = self.instance.execute(command, self.env())
        self.events.extend(events)
        return events

    def submit(self, form: Mapping[str, Any], **choices: tuple[str, ...]) -> list[Event]:
        return self.do(
            Submit(
                actor=self.instance.applicant_id,
                form=form,
                serial="T-0001",
                choices=dict(choices),
            )
        )

    def task_of(self, person: str) -> Task:
        """The person's pending task (exactly one)."""
        mine = [t for t in self.instance.pending_tasks() if t.assignee == person]
        assert len(mine) == 1, f"{person} has {len(mine)} pending tasks: {self.who()}"
        return mine[0]

    def approve(self, person: str, **kwargs: Any) -> list[Event]:
        return self.do(Approve(actor=person, task_id=self.task_of(person).id, **kwargs))

    def who(self) -> list[str]:
        """Who must act now, sorted."""
        return sorted(t.assignee for t in self.instance.pending_tasks())

    def types(self, events: list[Event] | None = None) -> list[str]:
        return [e.type for e in (self.events if events is None else events)]


@pytest.fixture(scope="session")
def directory() -> InMemoryDirectory:
    return demo_directory()
