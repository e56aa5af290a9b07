"""The rules a template sets: who approves, what happens when nobody or the applicant
does, dedup, approval modes, routing, CC, timeouts, serial numbers, titles and the
approval preview."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from signoff.domain.assignees import Applicant
from signoff.domain.commands import AddApprovers, Approve, Reject, Resubmit, Return, Submit
from signoff.domain.directory import InMemoryDirectory, Principal
from signoff.domain.events import (
    CcSent,
    InstanceApproved,
    InstanceRejected,
    NodeCompleted,
    NodeEntered,
    TaskApproved,
)
from signoff.domain.flow import NodeType, OnEmpty, RuleKind
from signoff.domain.instance import Instance
from signoff.domain.navigation import Env
from signoff.domain.preview import PreviewStep, choices_needed, preview
from signoff.domain.states import CancelReason, InstanceStatus, NodeStatus, TaskKind, TaskStatus
from signoff.domain.templates import Template

from .conftest import T0, Play, demo_directory
from .test_commands import (
    APPLICANT,
    FORM,
    approver,
    node,
    of_type,
    parallel,
    refused,
    started,
    task,
    tpl,
    users,
)

# ---- helpers ---------------------------------------------------------------------------


def people(play: Play, node_id: str) -> list[str]:
    """The assignees of a node's tasks, in the order they were created."""
    return [t.assignee for t in play.instance.tasks.values() if t.node_id == node_id]


def with_leavers() -> InMemoryDirectory:
    """The demo company plus 离职员工 u-gone: an inactive HR director in the backend team."""
    directory = demo_directory()
    directory.add(
        Principal("u-gone", "离职员工", "d-backend", frozenset({"hr"}), "director", active=False)
    )
    return directory


def applicant(directory: InMemoryDirectory, person: str = APPLICANT) -> Applicant:
    found = directory.principal(person)
    assert found is not None
    return Applicant.of(found, directory)


def decide(play: Play, person: str, approve: bool) -> None:
    if approve:
        play.approve(person)
    else:
        play.do(Reject(actor=person, task_id=play.task_of(person).id, comment="不同意"))


def condition(node_id: str, kind: str, routes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": node_id, "type": kind, "routes": routes}


def route(
    route_id: str, when: dict[str, Any] | None, nodes: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    if when is None:
        return {"id": route_id, "default": True, "nodes": nodes, **extra}
    return {"id": route_id, "when": when, "nodes": nodes, **extra}


def amount_at_least(value: str) -> dict[str, Any]:
    return {"field": "form.amount", "op": "gte", "value": value}


# ---- assignee rules --------------------------------------------------------------------


def test_users_rules_give_their_people_in_order_each_once(directory: InMemoryDirectory) -> None:
    template = tpl(
        [node("a", users("u-lina", "u-sunli"), users("u-sunli", "u-chenjie"), mode="all")]
    )
    play = started(template, directory)
    assert people(play, "a") == ["u-lina", "u-sunli", "u-chenjie"]


def test_a_role_rule_gives_everyone_with_the_role_ordered_by_id(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl([node("a", {"type": "role", "role": "finance"}, mode="all")]), directory)
    assert people(play, "a") == ["u-sunli", "u-wufang", "u-zhoujing"]


def test_a_position_rule_gives_everyone_with_the_position(directory: InMemoryDirectory) -> None:
    play = started(
        tpl([node("a", {"type": "position", "position": "team_lead"}, mode="all")]), directory
    )
    assert people(play, "a") == ["u-chenjie", "u-liuyang", "u-zhaolei"]


@pytest.mark.parametrize(
    ("person", "level", "head"),
    [
        ("u-zhangsan", 1, "u-chenjie"),
        ("u-zhangsan", 2, "u-lina"),
        ("u-zhangsan", 3, "u-zhouming"),
        ("u-wangwu", 1, "u-liuyang"),
        # a head is passed over upwards when they are the applicant
        ("u-chenjie", 1, "u-lina"),
        ("u-chenjie", 2, "u-zhouming"),
        ("u-lina", 1, "u-zhouming"),
    ],
)
def test_a_department_head_rule_walks_up_from_the_applicants_department(
    directory: InMemoryDirectory, person: str, level: int, head: str
) -> None:
    template = tpl([node("a", {"type": "department_head", "level": level})])
    play = started(template, directory, applicant=person)
    assert people(play, "a") == [head]


def test_a_department_head_above_the_top_resolves_to_nobody(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([node("a", {"type": "department_head", "level": 4}, on_empty="auto_approve")])
    play = started(template, directory)
    assert people(play, "a") == []
    assert play.instance.status is InstanceStatus.APPROVED


@pytest.mark.parametrize(
    ("person", "rule", "heads"),
    [
        ("u-zhangsan", {"up_to_level": 2}, ["u-chenjie", "u-lina"]),
        ("u-zhangsan", {"up_to_level": 9}, ["u-chenjie", "u-lina", "u-zhouming"]),
        ("u-chenjie", {"up_to_level": 2}, ["u-lina", "u-zhouming"]),
        ("u-zhangsan", {"up_to_position": "director"}, ["u-chenjie", "u-lina"]),
        ("u-wangwu", {"up_to_position": "director"}, ["u-liuyang", "u-lina"]),
        ("u-zhangsan", {"up_to_position": "ceo"}, ["u-chenjie", "u-lina", "u-zhouming"]),
        ("u-lisi", {"up_to_position": "vp"}, ["u-zhaolei", "u-wangqiang"]),
    ],
)
def test_a_supervisors_rule_gives_the_heads_upwards_one_after_another(
    directory: InMemoryDirectory, person: str, rule: dict[str, Any], heads: list[str]
) -> None:
    template = tpl([node("a", {"type": "supervisors", **rule})])
    play = started(template, directory, applicant=person)
    assert people(play, "a") == heads
    for head in heads:
        assert play.who() == [head]
        play.approve(head)
    assert play.instance.status is InstanceStatus.APPROVED


@pytest.mark.parametrize(
    ("person", "dept", "level", "head"),
    [
        ("u-zhangsan", "d-finance", 1, "u-sunli"),
        ("u-zhangsan", "d-finance", 2, "u-zhouming"),
        ("u-zhangsan", "d-ops", 2, "u-wangqiang"),
        ("u-sunli", "d-finance", 1, "u-zhouming"),  # the applicant heads it: passed over
    ],
)
def test_a_form_department_head_rule_walks_up_from_the_chosen_department(
    directory: InMemoryDirectory, person: str, dept: str, level: int, head: str
) -> None:
    template = tpl([node("a", {"type": "form_department_head", "field": "dept", "level": level})])
    play = started(template, directory, {**FORM, "dept": dept}, applicant=person)
    assert people(play, "a") == [head]


def test_an_applicant_choice_rule_gives_the_people_chosen_at_submission(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([node("a", {"type": "applicant_choice", "multiple": True}, mode="all")])
    play = started(template, directory, a=("u-wufang", "u-sunli"))
    assert people(play, "a") == ["u-wufang", "u-sunli"]
    assert play.instance.choices == {"a": ("u-wufang", "u-sunli")}


def test_an_applicant_choice_left_out_at_submission_is_required(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("first", "u-chenjie"), node("a", {"type": "applicant_choice"})])
    play = Play(template, APPLICANT, directory)
    error = refused(play, Submit(actor=APPLICANT, form=FORM, serial="T-1"), "choice_required")
    assert error.details["node_id"] == "a"
    assert play.instance.status is InstanceStatus.DRAFT


@pytest.mark.parametrize(
    ("choice", "code"),
    [
        (("u-sunli",), "command_invalid"),  # not a candidate
        (("u-gaomin", "u-linfeng"), "command_invalid"),  # one only
        (("u-nobody",), "unknown_principal"),
        ((), "choice_required"),
    ],
)
def test_an_applicant_choice_is_one_known_candidate(
    directory: InMemoryDirectory, choice: tuple[str, ...], code: str
) -> None:
    rule = {"type": "applicant_choice", "multiple": False, "candidates": ["u-gaomin", "u-linfeng"]}
    play = Play(tpl([node("legal", rule)]), APPLICANT, directory)
    cmd = Submit(actor=APPLICANT, form=FORM, serial="T-1", choices={"legal": choice})
    refused(play, cmd, code)
    play.submit(FORM, legal=("u-linfeng",))
    assert play.who() == ["u-linfeng"]


def test_choices_name_approver_nodes_chosen_by_the_applicant(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("a", "u-chenjie"), node("b", {"type": "applicant_choice"})])
    play = Play(template, APPLICANT, directory)
    for choices, code in [
        ({"nope": ("u-lina",), "b": ("u-lina",)}, "unknown_node"),
        ({"a": ("u-lina",), "b": ("u-lina",)}, "command_invalid"),
    ]:
        refused(play, Submit(actor=APPLICANT, form=FORM, serial="T-1", choices=choices), code)


def test_an_applicant_choice_on_a_route_not_taken_is_not_needed(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [
            condition(
                "g",
                "condition",
                [
                    route(
                        "big", amount_at_least("1000"), [node("b", {"type": "applicant_choice"})]
                    ),
                    route("other", None, [approver("c", "u-chenjie")]),
                ],
            )
        ]
    )
    play = started(template, directory)
    assert play.who() == ["u-chenjie"]


def test_a_previous_approver_choice_is_made_by_the_approver_entering_the_node(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("a", "u-chenjie"), node("b", {"type": "previous_approver_choice"})])
    play = started(template, directory)
    events = play.approve("u-chenjie", choices={"b": ("u-wufang",)})
    assert of_type(events, TaskApproved)[0].choices == {"b": ("u-wufang",)}
    assert play.who() == ["u-wufang"]


def test_a_previous_approver_choice_left_out_is_required(directory: InMemoryDirectory) -> None:
    template = tpl([approver("a", "u-chenjie"), node("b", {"type": "previous_approver_choice"})])
    play = started(template, directory)
    refused(play, Approve(actor="u-chenjie", task_id=task(play, "u-chenjie")), "choice_required")
    refused(
        play,
        Approve(actor="u-chenjie", task_id=task(play, "u-chenjie"), choices={"b": ("u-nobody",)}),
        "unknown_principal",
    )


def test_an_applicant_rule_gives_the_applicant(directory: InMemoryDirectory) -> None:
    play = started(tpl([node("a", {"type": "applicant"})]), directory)
    assert people(play, "a") == [APPLICANT]


def test_a_form_user_rule_gives_the_person_in_the_field(directory: InMemoryDirectory) -> None:
    template = tpl([node("a", {"type": "form_user", "field": "reviewer"})])
    play = started(template, directory, {**FORM, "reviewer": "u-lisi"})
    assert people(play, "a") == ["u-lisi"]


@pytest.mark.parametrize(
    "rule",
    [
        users("u-gone", "u-lina"),
        {"type": "role", "role": "hr"},
        {"type": "position", "position": "director"},
        {"type": "form_user", "field": "reviewer"},
    ],
)
def test_people_who_left_are_left_out(rule: dict[str, Any]) -> None:
    directory = with_leavers()
    template = tpl([node("a", rule, mode="all", on_empty="auto_approve")])
    play = started(template, directory, {**FORM, "reviewer": "u-gone"})
    assert "u-gone" not in people(play, "a")


# ---- nobody resolved (on_empty) --------------------------------------------------------


def test_a_node_nobody_resolves_to_may_approve_itself(directory: InMemoryDirectory) -> None:
    template = tpl(
        [
            node("a", {"type": "role", "role": "nobody"}, on_empty="auto_approve"),
            approver("b", "u-lina"),
        ]
    )
    play = started(template, directory)
    completed = of_type(play.events, NodeCompleted)
    assert [(e.node_id, e.outcome, e.reason) for e in completed] == [
        ("a", NodeStatus.APPROVED, "empty")
    ]
    assert play.who() == ["u-lina"]


def test_a_node_nobody_resolves_to_may_reject_the_request(directory: InMemoryDirectory) -> None:
    template = tpl(
        [
            node("a", {"type": "role", "role": "nobody"}, on_empty="auto_reject"),
            approver("b", "u-lina"),
        ]
    )
    play = started(template, directory)
    assert play.instance.status is InstanceStatus.REJECTED
    assert of_type(play.events, InstanceRejected)[0].node_id == "a"
    assert play.instance.nodes["a"].status is NodeStatus.REJECTED


def test_a_node_nobody_resolves_to_goes_to_the_template_admins_by_default(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [node("a", {"type": "role", "role": "nobody"}, mode="all")],
        admins=["u-huangli", "u-xuting"],
    )
    play = started(template, directory)
    assert people(play, "a") == ["u-huangli", "u-xuting"]
    assert {t.kind for t in play.instance.tasks.values()} == {TaskKind.ADMIN}


def test_admins_who_left_get_no_task_for_a_node_nobody_resolves_to() -> None:
    directory = with_leavers()
    template = tpl(
        [node("a", {"type": "role", "role": "nobody"}, mode="all")], admins=["u-gone", "u-huangli"]
    )
    play = started(template, directory)
    assert people(play, "a") == ["u-huangli"]


# ---- the applicant among the assignees (on_applicant) ----------------------------------


def test_an_applicant_among_the_assignees_approves_themself_by_default(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl([approver("a", APPLICANT)]), directory)
    assert play.who() == [APPLICANT]


def test_an_applicant_among_the_assignees_may_be_skipped(directory: InMemoryDirectory) -> None:
    """Skipping leaves the applicant out: in an `any` node the others still decide."""
    template = tpl([approver("a", APPLICANT, "u-sunli", on_applicant="skip", mode="any")])
    play = started(template, directory)
    assert [t.assignee for t in play.instance.tasks.values()] == ["u-sunli"]
    assert play.who() == ["u-sunli"]


def test_an_applicant_who_is_the_only_assignee_is_skipped_with_the_node(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("a", APPLICANT, on_applicant="skip"), approver("b", "u-lina")])
    play = started(template, directory)
    assert play.instance.nodes["a"].status is NodeStatus.APPROVED
    assert play.instance.nodes["a"].outcome_reason == "applicant"
    assert play.who() == ["u-lina"]


def test_an_applicant_later_in_a_sequential_node_is_skipped_too(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [approver("a", "u-sunli", APPLICANT, on_applicant="skip"), approver("b", "u-lina")]
    )
    play = started(template, directory)
    play.approve("u-sunli")
    assert all(t.assignee != APPLICANT for t in play.instance.tasks.values())
    assert play.who() == ["u-lina"]


def test_an_applicant_among_the_assignees_may_be_replaced_by_their_head_in_place(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("a", "u-sunli", APPLICANT, "u-lisi", on_applicant="supervisor")])
    play = started(template, directory)
    assert people(play, "a") == ["u-sunli", "u-chenjie", "u-lisi"]


def test_a_head_applicant_is_replaced_by_the_next_head_up(directory: InMemoryDirectory) -> None:
    template = tpl([approver("a", "u-chenjie", on_applicant="supervisor")])
    play = started(template, directory, applicant="u-chenjie")
    assert people(play, "a") == ["u-lina"]


def test_an_applicant_whose_head_is_already_an_assignee_is_just_left_out(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("a", "u-chenjie", APPLICANT, on_applicant="supervisor")])
    play = started(template, directory)
    assert people(play, "a") == ["u-chenjie"]


# ---- dedup (审批人去重) -----------------------------------------------------------------


def test_without_dedup_the_same_person_approves_every_node_they_are_on(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl([approver("a", "u-lina"), approver("b", "u-lina")], dedup="off"), directory)
    play.approve("u-lina")
    assert play.who() == ["u-lina"]


def test_consecutive_dedup_approves_for_someone_who_approved_the_node_just_before(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [approver("a", "u-lina"), approver("b", "u-lina", "u-sunli")], dedup="consecutive"
    )
    play = started(template, directory)
    events = play.approve("u-lina")
    auto = [e for e in of_type(events, TaskApproved) if e.auto]
    assert [(play.instance.tasks[e.task_id].node_id, e.auto, e.actor) for e in auto] == [
        ("b", "dedup", "u-lina")
    ]
    assert play.instance.tasks[auto[0].task_id].status is TaskStatus.SKIPPED
    assert play.who() == ["u-sunli"]


def test_consecutive_dedup_does_not_reach_over_a_node(directory: InMemoryDirectory) -> None:
    template = tpl(
        [approver("a", "u-lina"), approver("b", "u-sunli"), approver("c", "u-lina")],
        dedup="consecutive",
    )
    play = started(template, directory)
    play.approve("u-lina")
    play.approve("u-sunli")
    assert play.who() == ["u-lina"]


def test_any_dedup_approves_for_someone_who_approved_any_earlier_node(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [approver("a", "u-lina"), approver("b", "u-sunli"), approver("c", "u-lina")], dedup="any"
    )
    play = started(template, directory)
    play.approve("u-lina")
    play.approve("u-sunli")
    assert play.instance.status is InstanceStatus.APPROVED


def test_dedup_does_not_apply_when_the_form_was_edited_after_the_approval(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [
            approver("a", "u-lina"),
            approver("b", "u-sunli", permissions={"amount": "write"}),
            approver("c", "u-lina"),
        ],
        dedup="any",
    )
    play = started(template, directory)
    play.approve("u-lina")
    play.approve("u-sunli", edits={"amount": "99999"})
    assert play.who() == ["u-lina"]


def test_dedup_does_not_apply_after_a_return_to_the_applicant(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [approver("a", "u-lina"), approver("b", "u-sunli"), approver("c", "u-lina")],
        dedup="any",
        resubmit="back_to_returner",
    )
    play = started(template, directory)
    play.approve("u-lina")
    play.do(Return(actor="u-sunli", task_id=task(play, "u-sunli"), comment="补材料"))
    play.do(Resubmit(actor=APPLICANT, form=FORM))
    play.approve("u-sunli")
    assert play.who() == ["u-lina"]


def test_dedup_does_not_apply_after_a_return_to_an_earlier_node(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [
            approver("a", "u-lina"),
            approver("b", "u-sunli"),
            approver("c", "u-zhouming"),
            approver("d", "u-lina"),
        ],
        dedup="any",
    )
    play = started(template, directory)
    play.approve("u-lina")
    play.approve("u-sunli")
    play.do(
        Return(actor="u-zhouming", task_id=task(play, "u-zhouming"), to_node="b", comment="再核")
    )
    play.approve("u-sunli")
    play.approve("u-zhouming")
    assert play.who() == ["u-lina"]


# ---- modes -----------------------------------------------------------------------------


def test_a_sequential_node_asks_its_people_one_after_another_in_rule_order(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl([approver("a", "u-zhouming", "u-lina", "u-chenjie")]), directory)
    assert [
        play.instance.tasks[task(play, p)].status for p in ("u-zhouming", "u-lina", "u-chenjie")
    ] == [
        TaskStatus.PENDING,
        TaskStatus.WAITING,
        TaskStatus.WAITING,
    ]
    for person in ("u-zhouming", "u-lina", "u-chenjie"):
        assert play.who() == [person]
        play.approve(person)
    assert play.instance.status is InstanceStatus.APPROVED


def test_an_all_node_asks_everyone_at_once_and_waits_for_all(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl([approver("a", "u-chenjie", "u-lina", "u-sunli", mode="all")]), directory)
    assert play.who() == ["u-chenjie", "u-lina", "u-sunli"]
    play.approve("u-lina")
    play.approve("u-chenjie")
    assert play.instance.status is InstanceStatus.PENDING
    play.approve("u-sunli")
    assert play.instance.status is InstanceStatus.APPROVED


def test_one_rejection_rejects_an_all_node(directory: InMemoryDirectory) -> None:
    play = started(tpl([approver("a", "u-chenjie", "u-lina", mode="all")]), directory)
    play.approve("u-lina")
    decide(play, "u-chenjie", approve=False)
    assert play.instance.status is InstanceStatus.REJECTED


@pytest.mark.parametrize("approve", [True, False])
def test_the_first_decision_wins_an_any_node(directory: InMemoryDirectory, approve: bool) -> None:
    template = tpl([approver("a", "u-chenjie", "u-lina", mode="any"), approver("b", "u-sunli")])
    play = started(template, directory)
    decide(play, "u-lina", approve)
    other = play.instance.tasks[task(play, "u-chenjie")]
    assert (other.status, other.cancel_reason) == (TaskStatus.CANCELLED, CancelReason.NODE_DECIDED)
    expected = InstanceStatus.PENDING if approve else InstanceStatus.REJECTED
    assert play.instance.status is expected


VOTERS = ("u-hejun", "u-majun", "u-wangqiang", "u-sunli")


def vote_play(directory: InMemoryDirectory, **vote: Any) -> Play:
    template = tpl(
        [approver("v", *VOTERS, mode="vote", vote=vote), approver("after", "u-zhouming")]
    )
    return started(template, directory)


def test_a_vote_passes_as_soon_as_the_approving_weight_reaches_the_threshold(
    directory: InMemoryDirectory,
) -> None:
    play = vote_play(directory, weights={"u-hejun": 2}, **{"pass": 0.6, "reject": 0.5})
    play.approve("u-hejun")  # 2 of 5 < 3
    assert play.instance.nodes["v"].status is NodeStatus.ACTIVE
    play.approve("u-majun")  # 3 of 5 >= 3
    assert play.instance.nodes["v"].status is NodeStatus.APPROVED
    assert play.who() == ["u-zhouming"]
    late = task(play, "u-sunli")
    assert play.instance.tasks[late].cancel_reason is CancelReason.NODE_DECIDED
    refused(play, Approve(actor="u-sunli", task_id=late), "node_already_decided")


def test_a_vote_is_rejected_as_soon_as_the_rejecting_weight_reaches_the_threshold(
    directory: InMemoryDirectory,
) -> None:
    play = vote_play(directory, **{"pass": 0.5, "reject": 0.5})
    decide(play, "u-hejun", approve=False)  # 1 of 4 < 2
    assert play.instance.status is InstanceStatus.PENDING
    decide(play, "u-majun", approve=False)  # 2 of 4 >= 2
    assert play.instance.status is InstanceStatus.REJECTED
    assert play.instance.nodes["v"].status is NodeStatus.REJECTED


def test_a_vote_is_rejected_as_soon_as_a_pass_has_become_impossible(
    directory: InMemoryDirectory,
) -> None:
    play = vote_play(directory, **{"pass": 0.75, "reject": 1})
    decide(play, "u-hejun", approve=False)  # 3 can still approve: 3 >= 3
    assert play.instance.status is InstanceStatus.PENDING
    decide(play, "u-majun", approve=True)
    decide(play, "u-wangqiang", approve=False)  # at most 2 of 4 < 3
    assert play.instance.status is InstanceStatus.REJECTED


def test_a_vote_counts_the_default_weight_for_unlisted_voters(
    directory: InMemoryDirectory,
) -> None:
    play = vote_play(
        directory, default_weight=2, weights={"u-hejun": 1}, **{"pass": 0.5, "reject": 1}
    )
    assert play.instance.nodes["v"].weights == (1, 2, 2, 2)
    play.approve("u-hejun")
    play.approve("u-majun")  # 3 of 7 < 3.5
    assert play.instance.nodes["v"].status is NodeStatus.ACTIVE
    play.approve("u-sunli")
    assert play.instance.nodes["v"].status is NodeStatus.APPROVED


# ---- routing ---------------------------------------------------------------------------


def priority_template() -> Template:
    return tpl(
        [
            condition(
                "g",
                "condition",
                [
                    route("big", amount_at_least("1000"), [approver("x", "u-sunli")], priority=2),
                    route(
                        "huge", amount_at_least("10000"), [approver("y", "u-zhouming")], priority=1
                    ),
                    route("other", None, [approver("z", "u-chenjie")]),
                ],
            ),
            approver("after", "u-lina"),
        ]
    )


@pytest.mark.parametrize(
    ("amount", "taken", "who"),
    [
        ("20000", ("huge",), "u-zhouming"),  # both match: the lower priority number wins
        ("5000", ("big",), "u-sunli"),
        ("10", ("other",), "u-chenjie"),
    ],
)
def test_a_condition_takes_the_first_matching_route_by_priority_else_the_default(
    directory: InMemoryDirectory, amount: str, taken: tuple[str, ...], who: str
) -> None:
    play = started(priority_template(), directory, {**FORM, "amount": amount})
    entered = [e for e in of_type(play.events, NodeEntered) if e.node_id == "g"]
    assert entered[0].routes == taken
    assert play.who() == [who]
    play.approve(who)
    assert play.instance.nodes["g"].status is NodeStatus.APPROVED
    assert play.who() == ["u-lina"]


def inclusive_template() -> Template:
    return tpl(
        [
            condition(
                "g",
                "inclusive",
                [
                    route(
                        "long",
                        {"field": "form.days", "op": "gt", "value": 3},
                        [approver("x", "u-huangli")],
                    ),
                    route("costly", amount_at_least("1000"), [approver("y", "u-sunli")]),
                    route("other", None, [approver("z", "u-chenjie")]),
                ],
            ),
            approver("after", "u-lina"),
        ]
    )


def test_an_inclusive_gateway_runs_every_matching_route_then_joins(
    directory: InMemoryDirectory,
) -> None:
    play = started(inclusive_template(), directory, {**FORM, "days": 5, "amount": "2000"})
    assert play.who() == ["u-huangli", "u-sunli"]
    play.approve("u-sunli")
    assert play.who() == ["u-huangli"]
    play.approve("u-huangli")
    assert play.who() == ["u-lina"]


@pytest.mark.parametrize(
    ("form", "who"),
    [({"days": 5, "amount": "1"}, ["u-huangli"]), ({"days": 1, "amount": "1"}, ["u-chenjie"])],
)
def test_an_inclusive_gateway_runs_its_default_only_when_no_other_route_matches(
    directory: InMemoryDirectory, form: dict[str, Any], who: list[str]
) -> None:
    play = started(inclusive_template(), directory, {**FORM, **form})
    assert play.who() == who


def test_a_parallel_gateway_runs_every_branch_and_joins_when_all_finished(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [
            parallel(
                "p",
                ("legal", [approver("x1", "u-gaomin"), approver("x2", "u-hejun")]),
                ("finance", [approver("y", "u-sunli")]),
                ("empty", []),
            ),
            approver("after", "u-lina"),
        ]
    )
    play = started(template, directory)
    assert play.who() == ["u-gaomin", "u-sunli"]
    play.approve("u-gaomin")
    play.approve("u-sunli")
    assert play.who() == ["u-hejun"]
    play.approve("u-hejun")
    assert play.instance.nodes["p"].status is NodeStatus.APPROVED
    assert play.who() == ["u-lina"]


def test_a_rejection_in_one_branch_rejects_the_request_and_closes_the_others(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [
            parallel(
                "p", ("legal", [approver("x", "u-gaomin")]), ("finance", [approver("y", "u-sunli")])
            )
        ]
    )
    play = started(template, directory)
    decide(play, "u-gaomin", approve=False)
    assert play.instance.status is InstanceStatus.REJECTED
    assert not play.instance.open_tasks()


def test_an_empty_flow_approves_at_once(directory: InMemoryDirectory) -> None:
    play = started(tpl([]), directory)
    assert play.instance.status is InstanceStatus.APPROVED
    assert play.types() == ["InstanceSubmitted", "InstanceApproved"]


# ---- CC --------------------------------------------------------------------------------


def cc(node_id: str, when: str, *recipients: str) -> dict[str, Any]:
    return {"id": node_id, "type": "cc", "recipients": [users(*recipients)], "when": when}


def sent(play: Play) -> list[tuple[str | None, tuple[str, ...]]]:
    return [(e.node_id, e.recipients) for e in of_type(play.events, CcSent)]


def test_a_cc_node_sends_when_the_flow_reaches_it(directory: InMemoryDirectory) -> None:
    template = tpl(
        [
            approver("a", "u-chenjie"),
            cc("note", "reached", "u-xuting", "u-huangli"),
            approver("b", "u-lina"),
        ]
    )
    play = started(template, directory)
    assert sent(play) == []
    play.approve("u-chenjie")
    assert sent(play) == [("note", ("u-xuting", "u-huangli"))]
    assert play.instance.cc == ("u-xuting", "u-huangli")


def test_a_start_cc_is_sent_at_submission(directory: InMemoryDirectory) -> None:
    template = tpl([approver("a", "u-chenjie"), cc("note", "start", "u-xuting")])
    play = started(template, directory)
    assert play.types()[:2] == ["InstanceSubmitted", "CcSent"]
    play.approve("u-chenjie")
    assert sent(play) == [("note", ("u-xuting",))]


def test_a_finish_cc_is_sent_when_the_request_is_approved(directory: InMemoryDirectory) -> None:
    template = tpl([cc("note", "finish", "u-xuting"), approver("a", "u-chenjie")])
    play = started(template, directory)
    assert sent(play) == []
    events = play.approve("u-chenjie")
    assert play.types(events)[-2:] == ["CcSent", "InstanceApproved"]
    assert isinstance(events[-1], InstanceApproved)


def test_a_finish_cc_is_not_sent_when_the_request_is_rejected(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("a", "u-chenjie"), cc("note", "finish", "u-xuting")])
    play = started(template, directory)
    decide(play, "u-chenjie", approve=False)
    assert sent(play) == []


def test_a_cc_on_a_route_not_taken_is_not_sent(directory: InMemoryDirectory) -> None:
    template = tpl(
        [
            condition(
                "g",
                "condition",
                [
                    route("big", amount_at_least("1000"), [cc("note", "reached", "u-xuting")]),
                    route("other", None, []),
                ],
            ),
            approver("a", "u-chenjie"),
        ]
    )
    play = started(template, directory)
    play.approve("u-chenjie")
    assert sent(play) == []


def test_a_finish_cc_on_a_taken_route_is_sent_when_the_request_is_approved(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [
            condition(
                "g",
                "condition",
                [
                    route("big", amount_at_least("1000"), [cc("note", "finish", "u-xuting")]),
                    route("other", None, []),
                ],
            ),
            approver("a", "u-chenjie"),
        ]
    )
    play = started(template, directory, {**FORM, "amount": "5000"})
    play.approve("u-chenjie")
    assert play.instance.status is InstanceStatus.APPROVED
    assert sent(play) == [("note", ("u-xuting",))]


# ---- timeouts --------------------------------------------------------------------------

TIMEOUT = {"after": {"days": 1, "hours": 2, "minutes": 30}, "action": "remind"}
AFTER = timedelta(days=1, hours=2, minutes=30)


def test_a_task_is_due_the_timeout_after_it_became_someones_turn(
    directory: InMemoryDirectory,
) -> None:
    play = started(
        tpl([approver("a", "u-chenjie", "u-lina", mode="all", timeout=TIMEOUT)]), directory
    )
    assert {t.due_at for t in play.instance.tasks.values()} == {play.now + AFTER}


def test_the_next_person_of_a_sequential_node_gets_a_due_time_when_activated(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl([approver("a", "u-chenjie", "u-lina", timeout=TIMEOUT)]), directory)
    assert play.instance.tasks[task(play, "u-lina")].due_at is None
    play.approve("u-chenjie")
    assert play.instance.tasks[task(play, "u-lina")].due_at == play.now + AFTER


def test_a_node_without_a_timeout_has_no_due_times(directory: InMemoryDirectory) -> None:
    play = started(tpl([approver("a", "u-chenjie")]), directory)
    assert play.instance.tasks[task(play, "u-chenjie")].due_at is None


class TwoDaysLater:
    """A working calendar where every duration starts two days later (a weekend)."""

    day_length = timedelta(hours=8)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start + timedelta(days=2) + duration


@pytest.mark.parametrize(
    ("working_time", "extra"),
    # in working time the "days" of a timeout are working days (8 hours here), not 24 hours
    [(True, timedelta(days=2) - timedelta(days=AFTER.days) * 2 / 3), (False, timedelta())],
)
def test_a_working_time_timeout_is_counted_on_the_calendar(
    directory: InMemoryDirectory, working_time: bool, extra: timedelta
) -> None:
    template = tpl([approver("a", "u-chenjie", timeout={**TIMEOUT, "working_time": working_time})])
    instance = Instance.new("i-1", template, APPLICANT)
    instance.execute(
        Submit(actor=APPLICANT, form=FORM, serial="T-1"), Env(T0, directory, TwoDaysLater())
    )
    assert instance.pending_tasks()[0].due_at == T0 + AFTER + extra


def test_an_approver_added_before_inherits_the_due_time(directory: InMemoryDirectory) -> None:
    play = started(tpl([approver("a", "u-chenjie", timeout=TIMEOUT)]), directory)
    due = play.instance.tasks[task(play, "u-chenjie")].due_at
    play.do(
        AddApprovers(
            actor="u-chenjie", task_id=task(play, "u-chenjie"), people=("u-wangwu",), before=True
        )
    )
    assert play.instance.tasks[task(play, "u-wangwu")].due_at == due


# ---- serial numbers and titles ---------------------------------------------------------


def serial_of(**serial: Any) -> Template:
    return tpl([], serial=serial) if serial else tpl([])


@pytest.mark.parametrize(
    ("serial", "period", "formatted"),
    [
        (
            {"prefix": "LEAVE", "date": "%Y%m%d", "digits": 4},
            "LEAVE-20261122",
            "LEAVE-20261122-0007",
        ),
        ({"prefix": "LEAVE", "date": "%Y%m", "digits": 3}, "LEAVE-202611", "LEAVE-202611-007"),
        ({"prefix": "LEAVE", "date": "", "digits": 6}, "LEAVE", "LEAVE-000007"),
        ({}, "T-20261122", "T-20261122-0007"),  # prefix = key upper-cased
    ],
)
def test_a_serial_number_is_the_prefix_the_date_and_a_padded_counter(
    serial: dict[str, Any], period: str, formatted: str
) -> None:
    rule = serial_of(**serial).settings.serial
    day = datetime(2026, 11, 22, 18, 30)
    assert rule.period(day) == period
    assert rule.format(day, 7) == formatted


def test_a_counter_wider_than_its_digits_is_not_cut() -> None:
    rule = serial_of(prefix="X", date="", digits=2).settings.serial
    assert rule.format(datetime(2026, 1, 1), 123) == "X-123"


def test_the_default_title_names_the_applicant_and_the_template(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl([]), directory)
    assert play.instance.title == "张三的测试"


def test_a_title_pattern_fills_every_documented_placeholder(directory: InMemoryDirectory) -> None:
    pattern = (
        "{applicant.name}/{applicant.department}/{template.name}/{serial}/{date}"
        "/{form.days}/{form.kind}/{form.reviewer}"
    )
    play = started(tpl([], title=pattern), directory)
    assert play.instance.title == "张三/后端组/测试/T-0001/2026-11-23/1/a/"


def test_a_title_is_cut_to_two_hundred_characters(directory: InMemoryDirectory) -> None:
    play = started(tpl([], title="长" * 300), directory)
    assert play.instance.title == "长" * 200


# ---- preview ---------------------------------------------------------------------------


def steps_by_id(steps: tuple[PreviewStep, ...]) -> dict[str, PreviewStep]:
    out: dict[str, PreviewStep] = {}
    for step in steps:
        out[step.node_id] = step
        for r in step.routes:
            out.update(steps_by_id(r.steps))
    return out


def preview_template() -> Template:
    return tpl(
        [
            node("lead", {"type": "department_head", "level": 1}),
            condition(
                "g",
                "condition",
                [
                    route(
                        "big",
                        amount_at_least("1000"),
                        [node("fin", {"type": "role", "role": "finance"}, mode="all")],
                    ),
                    route("other", None, [approver("small", "u-chenjie")]),
                ],
            ),
            node("legal", {"type": "applicant_choice", "candidates": ["u-gaomin", "u-linfeng"]}),
            node("empty", {"type": "role", "role": "nobody"}, on_empty="auto_approve"),
            node("admin", {"type": "role", "role": "nobody"}),
            {
                "id": "note",
                "type": "cc",
                "recipients": [{"type": "role", "role": "hr"}],
                "when": "finish",
            },
        ],
        admins=["u-huangli"],
    )


def test_a_preview_shows_the_taken_route_and_the_people_of_each_node(
    directory: InMemoryDirectory,
) -> None:
    form = {**FORM, "amount": "5000"}
    steps = preview(preview_template(), form, applicant(directory), directory)
    assert [s.node_id for s in steps] == ["lead", "g", "legal", "empty", "admin", "note"]
    by_id = steps_by_id(steps)
    assert by_id["lead"].people == ("u-chenjie",)
    assert [(r.id, r.taken) for r in by_id["g"].routes] == [("big", True), ("other", False)]
    assert by_id["fin"].taken and by_id["fin"].people == ("u-sunli", "u-wufang", "u-zhoujing")
    assert by_id["fin"].mode == "all"
    assert not by_id["small"].taken and by_id["small"].people == ()
    assert by_id["legal"].needs_choice is RuleKind.APPLICANT_CHOICE
    assert by_id["legal"].candidates == ("u-gaomin", "u-linfeng")
    assert by_id["legal"].people == ()
    assert by_id["empty"].when_empty is OnEmpty.AUTO_APPROVE and by_id["empty"].people == ()
    assert by_id["admin"].when_empty is OnEmpty.ADMINS and by_id["admin"].people == ("u-huangli",)
    assert by_id["note"].type is NodeType.CC
    assert by_id["note"].cc_when == "finish"
    assert by_id["note"].people == ("u-huangli", "u-xuting")


def test_a_preview_with_the_choices_made_shows_the_chosen_people(
    directory: InMemoryDirectory,
) -> None:
    steps = preview(
        preview_template(), FORM, applicant(directory), directory, {"legal": ("u-gaomin",)}
    )
    by_id = steps_by_id(steps)
    assert by_id["legal"].needs_choice is None
    assert by_id["legal"].people == ("u-gaomin",)
    assert by_id["small"].taken and not by_id["fin"].taken


def test_choices_needed_lists_the_applicant_choice_nodes_on_the_taken_path(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [
            condition(
                "g",
                "condition",
                [
                    route(
                        "big", amount_at_least("1000"), [node("b1", {"type": "applicant_choice"})]
                    ),
                    route("other", None, [node("b2", {"type": "applicant_choice"})]),
                ],
            ),
            node("prev", {"type": "previous_approver_choice"}),
            node("c", {"type": "applicant_choice"}),
        ]
    )
    who = applicant(directory)
    assert choices_needed(template, {**FORM, "amount": "5000"}, who, directory) == ["b1", "c"]
    assert choices_needed(template, FORM, who, directory) == ["b2", "c"]
    assert choices_needed(tpl([approver("a", "u-lina")]), FORM, who, directory) == []


@pytest.mark.parametrize(
    "flow",
    [
        [approver("a", "u-sunli", APPLICANT, "u-lisi", on_applicant="supervisor")],
        [approver("a", APPLICANT, on_applicant="skip"), approver("b", "u-lina")],
        [
            node("a", {"type": "department_head", "level": 1}),
            node("b", {"type": "supervisors", "up_to_level": 3}),
        ],
    ],
    ids=["supervisor", "skip-only-applicant", "heads"],
)
def test_a_preview_names_the_same_people_in_the_same_order_as_the_run(
    directory: InMemoryDirectory, flow: list[dict[str, Any]]
) -> None:
    """What the applicant is shown is who will be asked: the people of every node that
    will need someone, in task order."""
    template = tpl(flow, admins=["u-huangli"])
    steps = preview(template, FORM, applicant(directory), directory)
    shown = {s.node_id: list(s.people) for s in steps}
    play = started(template, directory)
    for step in steps:
        assert step.node_id in play.instance.nodes
        asked = [
            t.assignee
            for t in play.instance.tasks.values()
            if t.node_id == step.node_id and t.status is not TaskStatus.SKIPPED
        ]
        assert shown[step.node_id] == asked, step.node_id
        for person in asked:
            if play.instance.status is InstanceStatus.PENDING and person in play.who():
                play.approve(person)


def test_a_submitted_request_keeps_the_applicant_as_they_were(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl([approver("a", "u-lina")]), directory)
    assert play.instance.applicant == applicant(directory)
    assert play.instance.applicant.department_ids == {"d-backend", "d-rd", "d-acme"}
