"""Mirrored requests: another system's decisions recorded as Signoff's own events, forward
only, so that a report delivered twice or late records nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from signoff.domain.commands import AddComment, Approve, Withdraw
from signoff.domain.directory import InMemoryDirectory
from signoff.domain.errors import CommandInvalid, ExternallyDecided, UnknownPrincipal
from signoff.domain.events import InstanceSubmitted, event_from_dict, event_to_dict
from signoff.domain.instance import Instance
from signoff.domain.mirror import (
    ExternalDecision,
    ExternalStatus,
    ExternalStep,
    MirrorExternal,
    Verdict,
)
from signoff.domain.navigation import Env
from signoff.domain.notices import notices_for
from signoff.domain.snapshot import dump_state, load_instance
from signoff.domain.states import InstanceStatus, NodeStatus, TaskStatus
from tests.domain.conftest import T0, Play, example

SOURCE = "wecom:ww-acme"
P = Verdict.PENDING
A = Verdict.APPROVED
R = Verdict.REJECTED


def step(node_id: str, verdict: Verdict, *people: tuple[str, Verdict, int]) -> ExternalStep:
    """A step whose approvers acted `minutes` after T0 (0: not yet)."""
    return ExternalStep(
        node_id,
        verdict,
        tuple(
            ExternalDecision(
                person,
                said,
                comment=f"{person} says {said.value}" if said is not P else None,
                at=T0 + timedelta(minutes=minutes) if minutes else None,
            )
            for person, said, minutes in people
        ),
    )


def report(status: ExternalStatus, *steps: ExternalStep, **more: Any) -> MirrorExternal:
    return MirrorExternal(
        source=SOURCE,
        external_id="202611230001",
        applicant="u-zhangsan",
        submitted_at=T0 - timedelta(hours=1),
        status=status,
        steps=steps,
        serial="PC-2026-0001",
        **more,
    )


# a purchase: the department head, then legal (any of two), then finance
PENDING_AT_LEGAL = report(
    ExternalStatus.PENDING,
    step("requesting_head", A, ("u-lina", A, 5)),
    step("legal", P, ("u-gaomin", P, 0), ("u-linfeng", P, 0)),
    step("finance_director", P, ("u-sunli", P, 0)),
)
APPROVED = report(
    ExternalStatus.APPROVED,
    step("requesting_head", A, ("u-lina", A, 5)),
    step("legal", A, ("u-gaomin", P, 0), ("u-linfeng", A, 30)),
    step("finance_director", A, ("u-sunli", A, 60)),
)


@pytest.fixture
def play(directory: InMemoryDirectory) -> Play:
    return Play(example("purchase_contract"), "u-zhangsan", directory)


def test_the_first_report_submits_the_request_and_reaches_the_step_whose_turn_it_is(
    play: Play,
) -> None:
    events = play.do(PENDING_AT_LEGAL)
    inst = play.instance
    assert inst.status is InstanceStatus.PENDING
    assert inst.external == (SOURCE, "202611230001")
    assert play.types(events)[:2] == ["InstanceSubmitted", "ExternalLinked"]
    assert inst.submitted_at == T0 - timedelta(hours=1)  # when it was submitted there
    assert inst.serial == "PC-2026-0001" and inst.title == "张三的采购合同审批"
    head = next(t for t in inst.tasks.values() if t.node_id == "requesting_head")
    assert (head.assignee, head.status, head.comment) == (
        "u-lina",
        TaskStatus.APPROVED,
        "u-lina says approved",
    )
    assert head.acted_at == T0 + timedelta(minutes=5)
    assert play.who() == ["u-gaomin", "u-linfeng"]
    assert "finance_director" not in inst.nodes  # not reached yet
    assert inst.version == 1  # one report, one command


def test_the_same_report_again_records_nothing(play: Play) -> None:
    play.do(PENDING_AT_LEGAL)
    state = dump_state(play.instance)
    assert play.do(PENDING_AT_LEGAL) == []
    assert dump_state(play.instance) == state and play.instance.version == 1


def test_a_later_report_records_only_what_happened_since(play: Play) -> None:
    play.do(PENDING_AT_LEGAL)
    events = play.do(APPROVED)
    assert play.types(events) == [
        "TaskApproved",  # 林峰
        "TaskCancelled",  # 高敏's task: the any-node was decided
        "NodeCompleted",
        "NodeEntered",
        "TaskCreated",
        "TaskApproved",  # 孙丽
        "NodeCompleted",
        "InstanceApproved",
    ]
    inst = play.instance
    assert inst.status is InstanceStatus.APPROVED
    assert inst.finished_at == T0 + timedelta(minutes=60)
    assert events[-1].actor == "u-sunli"
    assert {n: r.status for n, r in inst.nodes.items()} == dict.fromkeys(
        ("requesting_head", "legal", "finance_director"), NodeStatus.APPROVED
    )


def test_an_older_report_arriving_late_changes_nothing(play: Play) -> None:
    play.do(APPROVED)
    assert play.instance.status is InstanceStatus.APPROVED
    assert play.do(PENDING_AT_LEGAL) == []
    assert play.do(APPROVED) == []


def test_an_approved_request_seen_first_is_recorded_whole_in_one_command(play: Play) -> None:
    events = play.do(APPROVED)
    assert {e.version for e in events} == {1}
    decided = [(t.node_id, t.assignee, t.status) for t in play.instance.tasks.values()]
    assert decided == [
        ("requesting_head", "u-lina", TaskStatus.APPROVED),
        ("legal", "u-gaomin", TaskStatus.CANCELLED),
        ("legal", "u-linfeng", TaskStatus.APPROVED),
        ("finance_director", "u-sunli", TaskStatus.APPROVED),
    ]


def test_the_outside_world_hears_the_same_notices_as_for_a_native_approval(play: Play) -> None:
    events = play.do(APPROVED)
    said = notices_for(play.instance, events)
    kinds = [n.type for n in said]
    assert kinds[0] == "instance.submitted" and kinds[-1] == "instance.approved"
    assert said[-1].data["external"] == {"source": SOURCE, "id": "202611230001"}
    assert kinds.count("task.approved") == 3 and "task.assigned" in kinds


def test_a_rejection_there_rejects_here_at_the_rejecting_step(play: Play) -> None:
    events = play.do(
        report(
            ExternalStatus.REJECTED,
            step("requesting_head", A, ("u-lina", A, 5)),
            step("legal", R, ("u-gaomin", R, 9), ("u-linfeng", P, 0)),
            step("finance_director", P, ("u-sunli", P, 0)),
        )
    )
    assert play.instance.status is InstanceStatus.REJECTED
    rejected = events[-1]
    assert rejected.type == "InstanceRejected" and rejected.node_id == "legal"
    assert "finance_director" not in play.instance.nodes


def test_a_withdrawal_there_withdraws_here(play: Play) -> None:
    play.do(PENDING_AT_LEGAL)
    play.do(report(ExternalStatus.WITHDRAWN, *PENDING_AT_LEGAL.steps))
    assert play.instance.status is InstanceStatus.WITHDRAWN
    assert play.instance.open_tasks() == []


def test_a_transfer_there_moves_the_task_to_the_next_person_of_the_step(play: Play) -> None:
    play.do(PENDING_AT_LEGAL)
    moved = report(
        ExternalStatus.PENDING,
        step("requesting_head", A, ("u-lina", A, 5)),
        step(
            "legal",
            P,
            ("u-gaomin", Verdict.TRANSFERRED, 7),
            ("u-linfeng", P, 0),
            ("u-hejun", P, 0),
        ),
    )
    play.do(moved)
    assert play.who() == ["u-hejun", "u-linfeng"]
    gaomin = next(t for t in play.instance.tasks.values() if t.assignee == "u-gaomin")
    assert gaomin.status is TaskStatus.TRANSFERRED
    assert play.do(moved) == []


def test_a_later_report_with_other_form_values_edits_the_form(play: Play) -> None:
    play.do(report(ExternalStatus.PENDING, form={"contract_name": "服务器", "party_b": "某某"}))
    assert play.instance.title == "服务器（某某）"
    events = play.do(report(ExternalStatus.PENDING, form={"contract_name": "服务器采购"}))
    assert play.types(events) == ["FormEdited"]
    assert play.instance.form == {"contract_name": "服务器采购"}


def test_values_the_template_cannot_hold_are_left_out(play: Play) -> None:
    play.do(report(ExternalStatus.PENDING, form={"contract_amount": "lots", "party_b": "某某"}))
    assert play.instance.form == {"party_b": "某某"}


def test_people_cc_d_there_are_cc_d_here_once(play: Play) -> None:
    play.do(report(ExternalStatus.PENDING, cc=("u-majun",)))
    assert play.instance.cc == ("u-majun",)
    assert play.do(report(ExternalStatus.PENDING, cc=("u-majun",))) == []


def test_steps_of_their_own_get_node_ids_outside_the_flow(play: Play) -> None:
    play.do(report(ExternalStatus.APPROVED, step("wecom_1", A, ("u-lina", A, 5))))
    assert play.instance.nodes["wecom_1"].status is NodeStatus.APPROVED
    assert play.instance.status is InstanceStatus.APPROVED


def test_nothing_is_decided_here_on_a_mirrored_request(play: Play) -> None:
    play.do(PENDING_AT_LEGAL)
    task = play.task_of("u-gaomin")
    with pytest.raises(ExternallyDecided):
        play.do(Approve(actor="u-gaomin", task_id=task.id))
    with pytest.raises(ExternallyDecided):
        play.do(Withdraw(actor="u-zhangsan"))
    assert play.do(AddComment(actor="u-gaomin", text="看过了"))  # talking is fine


def test_a_native_request_refuses_a_mirror_report(play: Play) -> None:
    play.submit(
        {
            "contract_name": "x",
            "party_a": "Acme",
            "party_b": "y",
            "contract_amount": "100",
            "sign_date": "2026-12-01",
            "payment_terms": "z",
            "items": [{"name": "a", "quantity": 1, "unit_price": "100", "subtotal": "100"}],
            "department": "d-rd",
        },
        legal=("u-gaomin",),
    )
    with pytest.raises(CommandInvalid):
        play.do(PENDING_AT_LEGAL)


def test_a_report_naming_someone_the_directory_does_not_know_changes_nothing(
    play: Play,
) -> None:
    bad = report(ExternalStatus.PENDING, step("legal", P, ("u-nobody", P, 0)))
    with pytest.raises(UnknownPrincipal):
        play.do(bad)
    assert play.instance.version == 0 and play.instance.status is InstanceStatus.DRAFT


@pytest.mark.parametrize("node_id", ["by_amount", "cc_procurement", "bad id", ""])
def test_a_step_may_not_be_a_gateway_or_cc_node_or_a_malformed_id(play: Play, node_id: str) -> None:
    with pytest.raises(CommandInvalid):
        play.do(report(ExternalStatus.PENDING, step(node_id, P, ("u-lina", P, 0))))


def test_a_mirrored_instance_survives_the_store_s_round_trip_and_replay(
    play: Play, directory: InMemoryDirectory
) -> None:
    play.do(PENDING_AT_LEGAL)
    inst = play.instance
    loaded = load_instance(
        instance_id=inst.id,
        template=inst.template,
        applicant_id=inst.applicant_id,
        status=inst.status.value,
        form=inst.form,
        serial=inst.serial,
        title=inst.title,
        version=inst.version,
        created_at=inst.created_at,
        submitted_at=inst.submitted_at,
        finished_at=inst.finished_at,
        updated_at=inst.updated_at,
        state=dump_state(inst),
        tasks=list(inst.tasks.values()),
    )
    assert loaded.external == inst.external
    assert loaded.execute(APPROVED, Env(T0 + timedelta(hours=2), directory))
    replayed = Instance.replay(
        inst.id,
        inst.template,
        inst.applicant_id,
        [event_from_dict(event_to_dict(e)) for e in play.events],
    )
    assert replayed.external == inst.external and replayed.status is inst.status


def test_the_submission_is_an_ordinary_instance_submitted_event(play: Play) -> None:
    first = play.do(PENDING_AT_LEGAL)[0]
    assert isinstance(first, InstanceSubmitted)
    assert first.actor == "u-zhangsan" and first.applicant_name == "张三"
