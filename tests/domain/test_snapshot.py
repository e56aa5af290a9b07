"""The stored state: format 2 round-trips every attribute (the state machine checks that
after every command); rows written in format 1 still load; a finished request keeps no
undo journal; the state stays small."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from signoff.domain.directory import InMemoryDirectory
from signoff.domain.instance import Instance
from signoff.domain.snapshot import FORMAT, dump_state, encode, load_instance
from signoff.domain.states import InstanceStatus

from .conftest import Play, example
from .test_examples import LEAVE
from .test_state_machine import STATE, state_of

FORMAT_1 = (
    "applicant form_revision copied_from seq nodes task_counter entry_counter choices "
    "approvals last_approvers cc resume_nodes undo external"
).split()


def dump_format_1(instance: Instance) -> dict[str, Any]:
    """The state as Signoff wrote it before format 2: every value tagged."""
    out: dict[str, Any] = {}
    for name in FORMAT_1:
        value = getattr(instance, name)
        if name == "applicant" and value is not None:
            value = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        elif name == "nodes":
            value = {k: encode(run) for k, run in value.items()}
        else:
            value = encode(value)
        out[name] = value
    return out


def loaded(instance: Instance, state: dict[str, Any]) -> Instance:
    return load_instance(
        instance_id=instance.id,
        template=instance.template,
        applicant_id=instance.applicant_id,
        status=instance.status.value,
        form=instance.form,
        serial=instance.serial,
        title=instance.title,
        version=instance.version,
        created_at=instance.created_at,
        submitted_at=instance.submitted_at,
        finished_at=instance.finished_at,
        updated_at=instance.updated_at,
        state=json.loads(json.dumps(state)),
        tasks=list(instance.tasks.values()),
    )


def leave_at_hr(directory: InMemoryDirectory) -> Play:
    """A 5-day leave approved by the team lead and the department head: HR's any node is
    open, the department head may still take back (an undo journal is kept)."""
    play = Play(example("leave"), "u-zhangsan", directory)
    play.submit(LEAVE)
    play.approve("u-chenjie", comment="ok")
    play.approve("u-lina")
    assert play.instance.undo is not None
    return play


def test_a_state_written_in_format_1_loads_as_the_same_instance(
    directory: InMemoryDirectory,
) -> None:
    play = leave_at_hr(directory)
    old = dump_format_1(play.instance)
    assert "format" not in old
    again = loaded(play.instance, old)
    assert state_of(again) == state_of(play.instance)
    assert dump_state(again) == dump_state(play.instance)  # the next save writes format 2
    play.instance = again
    play.approve("u-xuting")  # and it goes on from there
    assert play.instance.status is InstanceStatus.APPROVED


def test_format_2_keeps_every_attribute_in_fewer_bytes(directory: InMemoryDirectory) -> None:
    play = leave_at_hr(directory)
    state = dump_state(play.instance)
    assert state["format"] == FORMAT
    again = loaded(play.instance, state)
    assert {k: v for k, v in state_of(again).items() if k in STATE} == state_of(play.instance)
    size, size_1 = len(json.dumps(state)), len(json.dumps(dump_format_1(play.instance)))
    assert size < size_1 * 0.75, (size, size_1)


def test_a_finished_request_keeps_no_undo_journal(directory: InMemoryDirectory) -> None:
    """Taking back needs a pending request: the journal is dropped when it finishes, and
    the stored state of a finished leave request is small."""
    play = leave_at_hr(directory)
    play.approve("u-xuting")
    assert play.instance.status is InstanceStatus.APPROVED
    assert play.instance.undo is None
    state = dump_state(play.instance)
    assert state["undo"] is None
    assert len(json.dumps(state, ensure_ascii=False).encode()) < 1200
