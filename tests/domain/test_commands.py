"""Every command an instance accepts, one rule per test, on small inline templates.

Each test builds the smallest template that shows its rule (`tpl`), plays it
through `Instance.execute` with the demo company's people, and checks the
events, statuses and error codes. After every refused command the instance must
be exactly as it was (`refused`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from signoff.domain.commands import (
    AddApprovers,
    AddComment,
    Approve,
    Cc,
    Command,
    Delegate,
    HandOver,
    MarkRead,
    Reject,
    RemoveApprover,
    Resubmit,
    Return,
    SaveDraft,
    Submit,
    TakeBack,
    Terminate,
    Transfer,
    Urge,
    Withdraw,
)
from signoff.domain.directory import InMemoryDirectory
from signoff.domain.errors import Invalid, SignoffError
from signoff.domain.events import (
    ApprovalTakenBack,
    ApproverRemoved,
    ApproversAdded,
    CcSent,
    CommentAdded,
    DraftSaved,
    FormEdited,
    InstanceRejected,
    InstanceResubmitted,
    InstanceReturned,
    NodesReset,
    TaskCreated,
    TaskDelegated,
    TaskRead,
    TaskTransferred,
    Urged,
)
from signoff.domain.instance import Instance
from signoff.domain.states import CancelReason, InstanceStatus, NodeStatus, TaskKind, TaskStatus
from signoff.domain.templates import Template, parse_template

from .conftest import Play

# ---- helpers ---------------------------------------------------------------------------

FIELDS: list[dict[str, Any]] = [
    {"id": "amount", "type": "money", "label": "金额"},
    {"id": "days", "type": "number", "label": "天数", "required": True, "precision": 1},
    {
        "id": "kind",
        "type": "radio",
        "label": "类型",
        "required": True,
        "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
    },
    {"id": "reviewer", "type": "user", "label": "复核人"},
    {"id": "dept", "type": "department", "label": "部门"},
]
FORM: dict[str, Any] = {"amount": "100.00", "days": 1, "kind": "a"}
APPLICANT = "u-zhangsan"


def tpl_json(
    nodes: Iterable[Mapping[str, Any]], *, fields: Iterable[Mapping[str, Any]] = (), **settings: Any
) -> dict[str, Any]:
    """A whole template document around these flow nodes, with the small test form."""
    return {
        "key": "t",
        "name": "测试",
        "version": 1,
        "settings": settings,
        "form": {"fields": [*copy.deepcopy(FIELDS), *fields]},
        "flow": {"nodes": [dict(n) for n in nodes]},
    }


def tpl(
    nodes: Iterable[Mapping[str, Any]], *, fields: Iterable[Mapping[str, Any]] = (), **settings: Any
) -> Template:
    return parse_template(tpl_json(nodes, fields=fields, **settings))


def users(*people: str) -> dict[str, Any]:
    return {"type": "users", "users": list(people)}


def approver(node_id: str, *people: str, mode: str = "sequential", **extra: Any) -> dict[str, Any]:
    """An approver node whose assignees are these people."""
    return node(node_id, users(*people), mode=mode, **extra)


def node(node_id: str, *rules: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """An approver node with these assignee rules."""
    return {"id": node_id, "type": "approver", "name": node_id, "assignees": list(rules), **extra}


def parallel(node_id: str, *branches: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "parallel",
        "branches": [{"id": b, "nodes": nodes} for b, nodes in branches],
    }


def started(
    template: Template,
    directory: InMemoryDirectory,
    form: Mapping[str, Any] | None = None,
    applicant: str = APPLICANT,
    **choices: tuple[str, ...],
) -> Play:
    """A play whose instance has just been submitted."""
    play = Play(template, applicant, directory)
    play.submit(FORM if form is None else form, **choices)
    return play


def state(instance: Instance) -> tuple[object, ...]:
    """Everything a refused command must leave untouched."""
    return (
        instance.version,
        instance.seq,
        instance.status,
        copy.deepcopy(instance.tasks),
        copy.deepcopy(instance.nodes),
        copy.deepcopy(instance.form),
        instance.form_revision,
        instance.cc,
        instance.undo,
    )


def refused(play: Play, command: Command, code: str) -> SignoffError:
    """The command fails with this error code and changes nothing."""
    before = state(play.instance)
    events = len(play.events)
    with pytest.raises(SignoffError) as caught:
        play.do(command)
    assert caught.value.code == code, str(caught.value)
    assert state(play.instance) == before
    assert len(play.events) == events
    return caught.value


def problem_paths(error: SignoffError) -> list[tuple[str, str]]:
    assert isinstance(error, Invalid)
    return [(p.path, p.rule) for p in error.problems]


def task(play: Play, person: str, node_id: str | None = None) -> str:
    """The id of the person's latest task (on that node)."""
    found = [
        t
        for t in play.instance.tasks.values()
        if t.assignee == person and (node_id is None or t.node_id == node_id)
    ]
    assert found, f"{person} has no task"
    return found[-1].id


def statuses(play: Play) -> dict[str, tuple[str, TaskStatus]]:
    return {t.id: (t.assignee, t.status) for t in play.instance.tasks.values()}


def of_type(events: Iterable[object], cls: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


TWO_STEPS = [approver("a", "u-chenjie"), approver("b", "u-lina")]
THREE_STEPS = [approver("a", "u-chenjie"), approver("b", "u-lina"), approver("c", "u-zhouming")]


# ---- save draft ------------------------------------------------------------------------


def test_the_applicant_may_save_a_draft_with_only_some_fields_filled(
    directory: InMemoryDirectory,
) -> None:
    play = Play(tpl(TWO_STEPS), APPLICANT, directory)
    events = play.do(SaveDraft(actor=APPLICANT, form={"amount": "12.5"}))
    assert play.types(events) == ["DraftSaved"]
    assert play.instance.status is InstanceStatus.DRAFT
    assert play.instance.form == {"amount": "12.50"}
    assert play.instance.version == 1
    play.do(SaveDraft(actor=APPLICANT, form={"amount": "13", "days": 2}))
    assert play.instance.form == {"amount": "13.00", "days": 2}
    assert play.instance.version == 2


def test_a_draft_with_a_value_of_the_wrong_type_is_refused(directory: InMemoryDirectory) -> None:
    play = Play(tpl(TWO_STEPS), APPLICANT, directory)
    error = refused(play, SaveDraft(actor=APPLICANT, form={"days": "many"}), "form_invalid")
    assert problem_paths(error) == [("days", "type")]


def test_only_the_applicant_may_save_their_draft(directory: InMemoryDirectory) -> None:
    play = Play(tpl(TWO_STEPS), APPLICANT, directory)
    refused(play, SaveDraft(actor="u-lisi", form={"days": 1}), "not_applicant")
    assert play.instance.version == 0


def test_a_submitted_request_is_no_longer_a_draft_to_save(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, SaveDraft(actor=APPLICANT, form=FORM), "invalid_transition")


# ---- submit ----------------------------------------------------------------------------


def test_submitting_enters_the_first_node_and_gives_its_approver_the_turn(
    directory: InMemoryDirectory,
) -> None:
    play = Play(tpl(TWO_STEPS), APPLICANT, directory)
    events = play.submit(FORM)
    assert play.types(events) == ["InstanceSubmitted", "NodeEntered", "TaskCreated"]
    assert play.instance.status is InstanceStatus.PENDING
    assert play.instance.version == 1
    assert {e.version for e in events} == {1}
    assert [e.seq for e in events] == [0, 1, 2]
    assert play.who() == ["u-chenjie"]
    assert play.instance.serial == "T-0001"
    assert play.instance.title == "张三的测试"


def test_a_saved_draft_is_submitted_with_the_final_form(directory: InMemoryDirectory) -> None:
    play = Play(tpl(TWO_STEPS), APPLICANT, directory)
    play.do(SaveDraft(actor=APPLICANT, form={"days": 1}))
    play.submit({**FORM, "days": 3})
    assert play.instance.form["days"] == 3
    assert play.instance.version == 2


def test_someone_the_template_does_not_list_as_initiator_cannot_submit(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(TWO_STEPS, initiators={"users": [], "departments": ["d-finance"], "roles": []})
    play = Play(template, APPLICANT, directory)
    refused(play, Submit(actor=APPLICANT, form=FORM, serial="T-1"), "not_initiator")
    assert play.instance.status is InstanceStatus.DRAFT


@pytest.mark.parametrize(
    "initiators",
    [
        {"users": ["u-zhangsan"]},
        {"departments": ["d-rd"]},  # a department above the applicant's own
        {"roles": ["staff"]},
        {},
    ],
)
def test_initiators_are_listed_by_user_department_or_role(
    directory: InMemoryDirectory, initiators: dict[str, list[str]]
) -> None:
    play = started(tpl(TWO_STEPS, initiators=initiators), directory)
    assert play.instance.status is InstanceStatus.PENDING


def test_a_form_that_breaks_its_rules_is_refused_naming_every_field(
    directory: InMemoryDirectory,
) -> None:
    play = Play(tpl(TWO_STEPS), APPLICANT, directory)
    error = refused(
        play,
        Submit(actor=APPLICANT, form={"amount": "abc", "kind": "z"}, serial="T-1"),
        "form_invalid",
    )
    assert set(problem_paths(error)) == {
        ("amount", "type"),
        ("days", "required"),
        ("kind", "option"),
    }


def test_an_applicant_unknown_to_the_directory_cannot_submit(
    directory: InMemoryDirectory,
) -> None:
    play = Play(tpl(TWO_STEPS), "u-nobody", directory)
    refused(play, Submit(actor="u-nobody", form=FORM, serial="T-1"), "unknown_principal")


def test_someone_else_cannot_submit_the_applicants_request(directory: InMemoryDirectory) -> None:
    play = Play(tpl(TWO_STEPS), APPLICANT, directory)
    refused(play, Submit(actor="u-lisi", form=FORM, serial="T-1"), "not_applicant")


def test_a_request_cannot_be_submitted_twice(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, Submit(actor=APPLICANT, form=FORM, serial="T-2"), "invalid_transition")


# ---- approve ---------------------------------------------------------------------------


def test_approving_the_last_node_approves_the_instance(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    play.approve("u-chenjie", comment="好")
    assert play.who() == ["u-lina"]
    events = play.approve("u-lina")
    assert play.types(events) == ["TaskApproved", "NodeCompleted", "InstanceApproved"]
    assert play.instance.status is InstanceStatus.APPROVED
    assert play.instance.tasks[task(play, "u-chenjie")].comment == "好"


def test_nobody_may_approve_a_task_that_is_not_theirs(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, Approve(actor="u-lina", task_id=task(play, "u-chenjie")), "not_assignee")


def test_an_unknown_task_cannot_be_approved(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, Approve(actor="u-lina", task_id="i-1.t99"), "unknown_task")


def test_the_second_approver_of_a_sequential_node_must_wait_for_their_turn(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl([approver("a", "u-chenjie", "u-lina")]), directory)
    refused(play, Approve(actor="u-lina", task_id=task(play, "u-lina")), "not_your_turn")


def test_a_task_cannot_be_approved_twice(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    done = task(play, "u-chenjie")
    play.approve("u-chenjie")
    refused(play, Approve(actor="u-chenjie", task_id=done), "task_already_done")


def test_the_second_approver_of_an_any_node_is_told_it_was_already_decided(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("a", "u-huangli", "u-xuting", mode="any"), approver("b", "u-lina")])
    play = started(template, directory)
    late = task(play, "u-xuting")
    play.approve("u-huangli")
    assert play.instance.tasks[late].status is TaskStatus.CANCELLED
    refused(play, Approve(actor="u-xuting", task_id=late), "node_already_decided")


def test_nothing_can_be_approved_once_the_instance_has_finished(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl([approver("a", "u-chenjie", "u-lina", mode="all")]), directory)
    lina = task(play, "u-lina")
    play.do(Reject(actor="u-chenjie", task_id=task(play, "u-chenjie"), comment="不行"))
    refused(play, Approve(actor="u-lina", task_id=lina), "instance_finished")


def test_an_approver_may_edit_a_field_their_node_may_write(directory: InMemoryDirectory) -> None:
    template = tpl(
        [approver("a", "u-chenjie", permissions={"days": "write"}), approver("b", "u-lina")]
    )
    play = started(template, directory)
    events = play.approve("u-chenjie", edits={"days": 2.5})
    edited = of_type(events, FormEdited)
    assert len(edited) == 1
    assert edited[0].changes == {"days": 2.5}
    assert edited[0].previous == {"days": 1}
    assert edited[0].task_id == task(play, "u-chenjie")
    assert play.instance.form == {**FORM, "days": 2.5}
    assert play.instance.form_revision == 1


def test_an_edit_that_changes_nothing_records_no_form_edit(directory: InMemoryDirectory) -> None:
    template = tpl([approver("a", "u-chenjie"), approver("b", "u-lina")])
    play = started(template, directory)
    events = play.approve("u-chenjie", edits={"days": 1})
    assert not of_type(events, FormEdited)


def test_an_approver_may_not_edit_a_field_their_node_only_reads(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [approver("a", "u-chenjie", permissions={"days": "write"}), approver("b", "u-lina")]
    )
    play = started(template, directory)
    error = refused(
        play,
        Approve(actor="u-chenjie", task_id=task(play, "u-chenjie"), edits={"amount": "5"}),
        "field_not_writable",
    )
    assert error.details["fields"] == ["amount"]


def test_an_edit_that_breaks_the_form_rules_is_refused(directory: InMemoryDirectory) -> None:
    template = tpl(
        [approver("a", "u-chenjie", permissions={"days": "write"}), approver("b", "u-lina")]
    )
    play = started(template, directory)
    refused(
        play,
        Approve(actor="u-chenjie", task_id=task(play, "u-chenjie"), edits={"days": "x"}),
        "form_invalid",
    )


ITEMS = {
    "id": "items",
    "type": "table",
    "label": "明细",
    "columns": [
        {"id": "name", "type": "text", "label": "名称"},
        {"id": "price", "type": "money", "label": "单价"},
    ],
}
ROWS = [{"name": "椅子", "price": "10.00"}, {"name": "桌子", "price": "20.00"}]


def table_play(directory: InMemoryDirectory) -> Play:
    template = tpl(
        [approver("a", "u-chenjie", permissions={"items.price": "write"}), approver("b", "u-lina")],
        fields=[ITEMS],
    )
    return started(template, directory, {**FORM, "items": ROWS})


def test_an_approver_may_edit_a_table_column_their_node_may_write(
    directory: InMemoryDirectory,
) -> None:
    play = table_play(directory)
    new_rows = [{"name": "椅子", "price": "9.50"}, {"name": "桌子", "price": "20.00"}]
    events = play.approve("u-chenjie", edits={"items": new_rows})
    assert of_type(events, FormEdited)[0].changes == {"items": new_rows}
    assert play.instance.form["items"] == new_rows


def test_an_approver_may_not_edit_a_table_column_their_node_only_reads(
    directory: InMemoryDirectory,
) -> None:
    play = table_play(directory)
    new_rows = [{"name": "凳子", "price": "10.00"}, {"name": "桌子", "price": "20.00"}]
    error = refused(
        play,
        Approve(actor="u-chenjie", task_id=task(play, "u-chenjie"), edits={"items": new_rows}),
        "field_not_writable",
    )
    assert error.details["fields"] == ["items.name"]


def test_an_approver_with_one_writable_column_may_not_add_rows(
    directory: InMemoryDirectory,
) -> None:
    play = table_play(directory)
    more = [*ROWS, {"name": "灯", "price": "5.00"}]
    refused(
        play,
        Approve(actor="u-chenjie", task_id=task(play, "u-chenjie"), edits={"items": more}),
        "field_not_writable",
    )


def test_a_node_may_require_a_comment_to_approve(directory: InMemoryDirectory) -> None:
    template = tpl([approver("a", "u-chenjie", comment_required={"approve": True})])
    play = started(template, directory)
    refused(play, Approve(actor="u-chenjie", task_id=task(play, "u-chenjie")), "comment_required")
    refused(
        play,
        Approve(actor="u-chenjie", task_id=task(play, "u-chenjie"), comment="   "),
        "comment_required",
    )
    play.approve("u-chenjie", comment="同意")
    assert play.instance.status is InstanceStatus.APPROVED


# ---- reject ----------------------------------------------------------------------------


def test_rejecting_needs_a_comment_by_default(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, Reject(actor="u-chenjie", task_id=task(play, "u-chenjie")), "comment_required")


def test_a_node_may_allow_rejecting_without_a_comment(directory: InMemoryDirectory) -> None:
    template = tpl([approver("a", "u-chenjie", comment_required={"reject": False})])
    play = started(template, directory)
    play.do(Reject(actor="u-chenjie", task_id=task(play, "u-chenjie")))
    assert play.instance.status is InstanceStatus.REJECTED


def test_a_rejection_ends_the_instance_and_cancels_every_open_task(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("a", "u-chenjie", "u-lina", "u-zhouming", mode="all")])
    play = started(template, directory)
    events = play.do(Reject(actor="u-lina", task_id=task(play, "u-lina"), comment="预算不足"))
    assert play.instance.status is InstanceStatus.REJECTED
    rejected = of_type(events, InstanceRejected)
    assert len(rejected) == 1 and rejected[0].node_id == "a"
    assert statuses(play) == {
        "i-1.t1": ("u-chenjie", TaskStatus.CANCELLED),
        "i-1.t2": ("u-lina", TaskStatus.REJECTED),
        "i-1.t3": ("u-zhouming", TaskStatus.CANCELLED),
    }
    assert play.instance.nodes["a"].status is NodeStatus.REJECTED
    assert play.instance.finished_at == play.now


# ---- return to the applicant and resubmit ---------------------------------------------


def test_returning_to_the_applicant_closes_the_tasks_and_waits_for_a_resubmit(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(THREE_STEPS), directory)
    play.approve("u-chenjie")
    events = play.do(Return(actor="u-lina", task_id=task(play, "u-lina"), comment="补充材料"))
    assert play.types(events) == ["TaskReturned", "InstanceReturned"]
    assert of_type(events, InstanceReturned)[0].resume_nodes == ("b",)
    assert play.instance.status is InstanceStatus.RETURNED
    assert play.instance.tasks[task(play, "u-lina")].status is TaskStatus.RETURNED
    assert play.who() == []


def test_a_restart_resubmit_runs_the_flow_again_from_the_first_node(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(THREE_STEPS, resubmit="restart"), directory)
    play.approve("u-chenjie")
    play.do(Return(actor="u-lina", task_id=task(play, "u-lina"), comment="补充材料"))
    events = play.do(Resubmit(actor=APPLICANT, form={**FORM, "days": 2}))
    assert of_type(events, InstanceResubmitted)[0].restart is True
    assert play.instance.status is InstanceStatus.PENDING
    assert play.who() == ["u-chenjie"]
    assert play.instance.form["days"] == 2
    play.approve("u-chenjie")
    play.approve("u-lina")
    play.approve("u-zhouming")
    assert play.instance.status is InstanceStatus.APPROVED


def test_a_back_to_returner_resubmit_jumps_to_the_node_that_returned_it(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(THREE_STEPS, resubmit="back_to_returner"), directory)
    play.approve("u-chenjie")
    play.do(Return(actor="u-lina", task_id=task(play, "u-lina"), comment="补充材料"))
    events = play.do(Resubmit(actor=APPLICANT, form=FORM))
    assert of_type(events, InstanceResubmitted)[0].restart is False
    assert play.who() == ["u-lina"]
    assert play.instance.nodes["a"].status is NodeStatus.APPROVED
    play.approve("u-lina")
    assert play.who() == ["u-zhouming"]


def test_a_back_to_returner_resubmit_reopens_only_the_returning_branch_of_a_parallel_gateway(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [
            approver("a", "u-chenjie"),
            parallel(
                "p", ("left", [approver("x", "u-lina")]), ("right", [approver("y", "u-sunli")])
            ),
            approver("z", "u-zhouming"),
        ],
        resubmit="back_to_returner",
    )
    play = started(template, directory)
    play.approve("u-chenjie")
    play.approve("u-sunli")  # the right branch has finished
    play.do(Return(actor="u-lina", task_id=task(play, "u-lina"), comment="再看看"))
    play.do(Resubmit(actor=APPLICANT, form=FORM))
    assert play.who() == ["u-lina"]
    assert len([t for t in play.instance.tasks.values() if t.assignee == "u-sunli"]) == 1
    play.approve("u-lina")
    assert play.who() == ["u-zhouming"]
    play.approve("u-zhouming")
    assert play.instance.status is InstanceStatus.APPROVED


def test_a_back_to_returner_resubmit_reopens_every_branch_that_was_still_running(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [
            parallel(
                "p", ("left", [approver("x", "u-lina")]), ("right", [approver("y", "u-sunli")])
            ),
            approver("z", "u-zhouming"),
        ],
        resubmit="back_to_returner",
    )
    play = started(template, directory)
    play.do(Return(actor="u-lina", task_id=task(play, "u-lina"), comment="再看看"))
    play.do(Resubmit(actor=APPLICANT, form=FORM))
    assert play.who() == ["u-lina", "u-sunli"]
    play.approve("u-lina")
    play.approve("u-sunli")
    assert play.who() == ["u-zhouming"]


def test_only_the_applicant_may_resubmit(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    play.do(Return(actor="u-chenjie", task_id=task(play, "u-chenjie"), comment="改"))
    refused(play, Resubmit(actor="u-chenjie", form=FORM), "not_applicant")


def test_a_resubmit_needs_a_returned_instance(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, Resubmit(actor=APPLICANT, form=FORM), "invalid_transition")


def test_a_resubmitted_form_must_be_valid(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    play.do(Return(actor="u-chenjie", task_id=task(play, "u-chenjie"), comment="改"))
    refused(play, Resubmit(actor=APPLICANT, form={"kind": "a"}), "form_invalid")


def test_a_returned_task_cannot_be_approved(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    returned = task(play, "u-chenjie")
    play.do(Return(actor="u-chenjie", task_id=returned, comment="改"))
    refused(play, Approve(actor="u-chenjie", task_id=returned), "invalid_transition")


# ---- return to an earlier node ---------------------------------------------------------


def test_a_return_to_an_earlier_node_runs_the_flow_again_from_there(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(THREE_STEPS), directory)
    play.approve("u-chenjie")
    play.approve("u-lina")
    events = play.do(
        Return(actor="u-zhouming", task_id=task(play, "u-zhouming"), to_node="a", comment="重审")
    )
    assert play.types(events) == [
        "TaskReturned",
        "NodesReset",
        "NodeEntered",
        "TaskCreated",
    ]
    assert of_type(events, NodesReset)[0].node_ids == ("a", "b", "c")
    assert play.instance.status is InstanceStatus.PENDING
    assert play.who() == ["u-chenjie"]
    assert set(play.instance.nodes) == {"a"}
    play.approve("u-chenjie")
    play.approve("u-lina")
    play.approve("u-zhouming")
    assert play.instance.status is InstanceStatus.APPROVED


def test_a_return_inside_a_branch_leaves_the_other_branch_running(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [
            parallel(
                "p",
                ("left", [approver("x1", "u-lina"), approver("x2", "u-chenjie")]),
                ("right", [approver("y", "u-sunli")]),
            ),
        ]
    )
    play = started(template, directory)
    play.approve("u-lina")
    play.do(
        Return(actor="u-chenjie", task_id=task(play, "u-chenjie"), to_node="x1", comment="再看")
    )
    assert play.who() == ["u-lina", "u-sunli"]
    play.approve("u-sunli")
    play.approve("u-lina")
    play.approve("u-chenjie")
    assert play.instance.status is InstanceStatus.APPROVED


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("c", "the returning node itself"),
        ("d", "a later node"),
        ("y", "a node of the other branch"),
        ("r", "a node on a route not taken"),
        ("note", "a CC node"),
        ("g", "a gateway"),
    ],
)
def test_a_return_goes_only_to_an_earlier_approved_approver_node(
    directory: InMemoryDirectory, target: str, why: str
) -> None:
    template = tpl(
        [
            approver("a", "u-chenjie"),
            {"id": "note", "type": "cc", "recipients": [users("u-xuting")]},
            {
                "id": "g",
                "type": "condition",
                "routes": [
                    {
                        "id": "big",
                        "priority": 1,
                        "when": {"field": "form.days", "op": "gt", "value": 10},
                        "nodes": [approver("r", "u-sunli")],
                    },
                    {"id": "other", "default": True, "nodes": []},
                ],
            },
            parallel(
                "p", ("left", [approver("c", "u-lina")]), ("right", [approver("y", "u-wangqiang")])
            ),
            approver("d", "u-zhouming"),
        ]
    )
    play = started(template, directory)
    play.approve("u-chenjie")
    cmd = Return(actor="u-lina", task_id=task(play, "u-lina"), to_node=target, comment=why)
    refused(play, cmd, "command_invalid")


def test_a_return_to_an_unknown_node_is_refused(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    play.approve("u-chenjie")
    cmd = Return(actor="u-lina", task_id=task(play, "u-lina"), to_node="nope", comment="?")
    refused(play, cmd, "unknown_node")


def test_a_return_needs_a_comment_like_a_rejection(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, Return(actor="u-chenjie", task_id=task(play, "u-chenjie")), "comment_required")


# ---- withdraw --------------------------------------------------------------------------


def test_the_applicant_may_withdraw_a_pending_request(directory: InMemoryDirectory) -> None:
    play = started(tpl([approver("a", "u-chenjie", "u-lina", mode="all")]), directory)
    events = play.do(Withdraw(actor=APPLICANT, comment="不请了"))
    assert play.types(events) == ["TaskCancelled", "TaskCancelled", "InstanceWithdrawn"]
    assert play.instance.status is InstanceStatus.WITHDRAWN
    assert all(
        t.cancel_reason is CancelReason.INSTANCE_FINISHED for t in play.instance.tasks.values()
    )


def test_the_applicant_may_withdraw_a_returned_request(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    play.do(Return(actor="u-chenjie", task_id=task(play, "u-chenjie"), comment="改"))
    play.do(Withdraw(actor=APPLICANT))
    assert play.instance.status is InstanceStatus.WITHDRAWN


def test_only_the_applicant_may_withdraw(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, Withdraw(actor="u-chenjie"), "not_applicant")


def test_a_template_may_forbid_withdrawing(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS, allow_withdraw=False), directory)
    refused(play, Withdraw(actor=APPLICANT), "action_not_allowed")


def test_a_finished_request_cannot_be_withdrawn(directory: InMemoryDirectory) -> None:
    play = started(tpl([approver("a", "u-chenjie")]), directory)
    play.approve("u-chenjie")
    refused(play, Withdraw(actor=APPLICANT), "instance_finished")


# ---- take back (拿回) -------------------------------------------------------------------


def test_taking_back_reopens_a_sequential_approval_and_puts_the_next_person_back_to_waiting(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [approver("a", "u-chenjie", "u-lina", timeout={"after": {"hours": 4}, "action": "remind"})]
    )
    play = started(template, directory)
    tasks_before = copy.deepcopy(play.instance.tasks)
    nodes_before = copy.deepcopy(play.instance.nodes)
    mine = task(play, "u-chenjie")
    play.approve("u-chenjie")
    assert play.who() == ["u-lina"]
    events = play.do(TakeBack(actor="u-chenjie", task_id=mine, comment="还要再看"))
    assert play.types(events) == ["ApprovalTakenBack"]
    assert play.instance.tasks == tasks_before
    assert play.instance.nodes == nodes_before
    assert play.who() == ["u-chenjie"]
    assert play.instance.tasks[task(play, "u-lina")].due_at is None


def test_taking_back_an_any_approval_reopens_the_cancelled_tasks_of_the_others(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("a", "u-huangli", "u-xuting", mode="any"), approver("b", "u-lina")])
    play = started(template, directory)
    tasks_before = copy.deepcopy(play.instance.tasks)
    nodes_before = copy.deepcopy(play.instance.nodes)
    mine = task(play, "u-huangli")
    play.approve("u-huangli")
    assert play.who() == ["u-lina"]
    play.do(TakeBack(actor="u-huangli", task_id=mine))
    assert play.who() == ["u-huangli", "u-xuting"]
    assert {k: v for k, v in play.instance.tasks.items() if k in tasks_before} == tasks_before
    assert play.instance.nodes == nodes_before
    # the task the approval created on the next node is closed, not left open
    lina = play.instance.tasks[task(play, "u-lina")]
    assert lina.status is TaskStatus.CANCELLED
    assert lina.cancel_reason is CancelReason.TAKEN_BACK
    # and the state is still the replay of its events
    replayed = Instance.replay("i-1", template, APPLICANT, play.events)
    assert replayed.tasks == play.instance.tasks
    assert replayed.nodes == play.instance.nodes


def test_taking_back_an_approval_that_completed_the_node_leaves_the_next_node(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(THREE_STEPS, dedup="any"), directory)
    approvals_before = dict(play.instance.approvals)
    mine = task(play, "u-chenjie")
    play.approve("u-chenjie")
    assert set(play.instance.nodes) == {"a", "b"}
    play.do(TakeBack(actor="u-chenjie", task_id=mine))
    assert set(play.instance.nodes) == {"a"}
    assert play.instance.nodes["a"].status is NodeStatus.ACTIVE
    assert play.instance.approvals == approvals_before
    assert play.instance.last_approvers == frozenset()
    assert play.who() == ["u-chenjie"]
    play.approve("u-chenjie")
    assert play.who() == ["u-lina"]


def test_taking_back_an_approval_also_takes_back_its_edits(directory: InMemoryDirectory) -> None:
    template = tpl(
        [approver("a", "u-chenjie", permissions={"days": "write"}), approver("b", "u-lina")]
    )
    play = started(template, directory)
    mine = task(play, "u-chenjie")
    play.approve("u-chenjie", edits={"days": 4})
    play.do(TakeBack(actor="u-chenjie", task_id=mine))
    assert play.instance.form == FORM
    assert play.instance.form_revision == 0


def test_a_comment_or_a_read_after_the_approval_does_not_stop_a_take_back(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(THREE_STEPS), directory)
    mine = task(play, "u-chenjie")
    play.approve("u-chenjie")
    play.do(MarkRead(actor="u-lina", task_id=task(play, "u-lina")))
    play.do(AddComment(actor=APPLICANT, text="谢谢"))
    play.do(TakeBack(actor="u-chenjie", task_id=mine))
    assert play.who() == ["u-chenjie"]


def test_an_approval_cannot_be_taken_back_after_the_next_person_acted(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(THREE_STEPS), directory)
    mine = task(play, "u-chenjie")
    play.approve("u-chenjie")
    play.approve("u-lina")
    refused(play, TakeBack(actor="u-chenjie", task_id=mine), "take_back_too_late")


def test_an_approval_cannot_be_taken_back_after_the_next_person_transferred(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(THREE_STEPS), directory)
    mine = task(play, "u-chenjie")
    play.approve("u-chenjie")
    play.do(Transfer(actor="u-lina", task_id=task(play, "u-lina"), to="u-sunli"))
    refused(play, TakeBack(actor="u-chenjie", task_id=mine), "take_back_too_late")


def test_an_approval_can_be_taken_back_only_once(directory: InMemoryDirectory) -> None:
    play = started(tpl(THREE_STEPS), directory)
    mine = task(play, "u-chenjie")
    play.approve("u-chenjie")
    play.do(TakeBack(actor="u-chenjie", task_id=mine))
    refused(play, TakeBack(actor="u-chenjie", task_id=mine), "take_back_too_late")


def test_only_the_approver_may_take_their_approval_back(directory: InMemoryDirectory) -> None:
    play = started(tpl(THREE_STEPS), directory)
    mine = task(play, "u-chenjie")
    play.approve("u-chenjie")
    refused(play, TakeBack(actor="u-lina", task_id=mine), "not_assignee")


def test_a_template_may_forbid_taking_back(directory: InMemoryDirectory) -> None:
    play = started(tpl(THREE_STEPS, allow_take_back=False), directory)
    mine = task(play, "u-chenjie")
    play.approve("u-chenjie")
    refused(play, TakeBack(actor="u-chenjie", task_id=mine), "action_not_allowed")


def test_an_approval_that_finished_the_instance_cannot_be_taken_back(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl([approver("a", "u-chenjie")]), directory)
    mine = task(play, "u-chenjie")
    play.approve("u-chenjie")
    refused(play, TakeBack(actor="u-chenjie", task_id=mine), "instance_finished")


# ---- transfer (转办) --------------------------------------------------------------------


def test_a_transfer_gives_the_task_to_someone_else(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    old = task(play, "u-chenjie")
    events = play.do(Transfer(actor="u-chenjie", task_id=old, to="u-wangwu", comment="你来"))
    assert play.types(events) == ["TaskCreated", "TaskTransferred"]
    created = of_type(events, TaskCreated)[0]
    moved = of_type(events, TaskTransferred)[0]
    assert (created.assignee, created.origin, created.status) == (
        "u-wangwu",
        old,
        TaskStatus.PENDING,
    )
    assert (moved.task_id, moved.to, moved.new_task_id, moved.comment) == (
        old,
        "u-wangwu",
        created.task_id,
        "你来",
    )
    assert moved.handover is False
    assert play.instance.tasks[old].status is TaskStatus.TRANSFERRED
    assert play.who() == ["u-wangwu"]
    refused(play, Approve(actor="u-chenjie", task_id=old), "task_already_done")
    play.approve("u-wangwu")
    assert play.who() == ["u-lina"]


def test_a_transferred_task_of_a_sequential_node_keeps_its_place_in_the_order(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl([approver("a", "u-chenjie", "u-lina")]), directory)
    play.do(Transfer(actor="u-chenjie", task_id=task(play, "u-chenjie"), to="u-wangwu"))
    assert play.who() == ["u-wangwu"]
    play.approve("u-wangwu")
    assert play.who() == ["u-lina"]


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("u-chenjie", "command_invalid"),  # oneself
        ("u-lina", "command_invalid"),  # already holds a task on the node
        ("u-nobody", "unknown_principal"),
    ],
)
def test_a_transfer_goes_to_a_known_person_without_a_task_on_the_node(
    directory: InMemoryDirectory, to: str, code: str
) -> None:
    play = started(tpl([approver("a", "u-chenjie", "u-lina", mode="all")]), directory)
    refused(play, Transfer(actor="u-chenjie", task_id=task(play, "u-chenjie"), to=to), code)


def test_only_the_assignee_may_transfer_their_task(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    cmd = Transfer(actor="u-lina", task_id=task(play, "u-chenjie"), to="u-wangwu")
    refused(play, cmd, "not_assignee")


# ---- delegate (委派) --------------------------------------------------------------------


def test_a_delegate_answers_first_then_the_delegator_decides(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(TWO_STEPS), directory)
    mine = task(play, "u-chenjie")
    events = play.do(Delegate(actor="u-chenjie", task_id=mine, to="u-wangwu", comment="帮看"))
    assert play.types(events) == ["TaskCreated", "TaskDeactivated", "TaskDelegated"]
    delegated = of_type(events, TaskDelegated)[0]
    assert (delegated.to, delegated.task_id) == ("u-wangwu", mine)
    assert play.instance.tasks[delegated.new_task_id].kind is TaskKind.DELEGATED
    assert play.who() == ["u-wangwu"]
    refused(play, Approve(actor="u-chenjie", task_id=mine), "not_your_turn")
    events = play.approve("u-wangwu", comment="没问题")
    assert play.types(events) == ["TaskApproved", "TaskActivated"]
    assert play.who() == ["u-chenjie"]
    assert play.instance.nodes["a"].status is NodeStatus.ACTIVE
    play.approve("u-chenjie")
    assert play.who() == ["u-lina"]


def test_a_delegates_rejection_does_not_reject_the_node(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    play.do(Delegate(actor="u-chenjie", task_id=task(play, "u-chenjie"), to="u-wangwu"))
    play.do(Reject(actor="u-wangwu", task_id=task(play, "u-wangwu")))  # no comment needed
    assert play.instance.status is InstanceStatus.PENDING
    assert play.instance.nodes["a"].status is NodeStatus.ACTIVE
    assert play.who() == ["u-chenjie"]
    play.approve("u-chenjie")
    assert play.who() == ["u-lina"]


def test_a_delegate_cannot_delegate_again_nor_edit_nor_return(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("a", "u-chenjie", permissions={"days": "write"})])
    play = started(template, directory)
    play.do(Delegate(actor="u-chenjie", task_id=task(play, "u-chenjie"), to="u-wangwu"))
    mine = task(play, "u-wangwu")
    refused(play, Delegate(actor="u-wangwu", task_id=mine, to="u-lisi"), "action_not_allowed")
    refused(play, Approve(actor="u-wangwu", task_id=mine, edits={"days": 3}), "field_not_writable")
    refused(play, Return(actor="u-wangwu", task_id=mine, comment="x"), "action_not_allowed")


# ---- add approvers (加签) and remove them (减签) -----------------------------------------


def test_approvers_added_before_in_a_sequential_node_go_first_in_order(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(TWO_STEPS), directory)
    mine = task(play, "u-chenjie")
    events = play.do(
        AddApprovers(actor="u-chenjie", task_id=mine, people=("u-wangwu", "u-lisi"), before=True)
    )
    assert play.types(events) == ["TaskCreated", "TaskCreated", "TaskDeactivated", "ApproversAdded"]
    added = of_type(events, ApproversAdded)[0]
    assert added.people == ("u-wangwu", "u-lisi") and added.before is True
    assert all(play.instance.tasks[t].kind is TaskKind.ADDED for t in added.new_task_ids)
    assert play.who() == ["u-wangwu"]
    play.approve("u-wangwu")
    assert play.who() == ["u-lisi"]
    play.approve("u-lisi")
    assert play.who() == ["u-chenjie"]
    play.approve("u-chenjie")
    assert play.who() == ["u-lina"]


def test_approvers_added_after_in_a_sequential_node_follow_the_adder(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(TWO_STEPS), directory)
    play.do(
        AddApprovers(
            actor="u-chenjie", task_id=task(play, "u-chenjie"), people=("u-wangwu",), before=False
        )
    )
    assert play.who() == ["u-chenjie"]
    play.approve("u-chenjie")
    assert play.who() == ["u-wangwu"]
    play.approve("u-wangwu")
    assert play.who() == ["u-lina"]


def test_in_an_all_node_an_approver_added_after_must_approve_too(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("a", "u-chenjie", "u-lina", mode="all"), approver("b", "u-zhouming")])
    play = started(template, directory)
    play.do(
        AddApprovers(
            actor="u-chenjie", task_id=task(play, "u-chenjie"), people=("u-wangwu",), before=False
        )
    )
    play.approve("u-chenjie")
    assert play.who() == ["u-lina", "u-wangwu"]
    play.approve("u-lina")
    assert play.instance.nodes["a"].status is NodeStatus.ACTIVE
    play.approve("u-wangwu")
    assert play.who() == ["u-zhouming"]


def test_in_an_any_node_an_approver_added_before_answers_before_the_adder(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("a", "u-chenjie", "u-lina", mode="any"), approver("b", "u-zhouming")])
    play = started(template, directory)
    play.do(
        AddApprovers(
            actor="u-chenjie", task_id=task(play, "u-chenjie"), people=("u-wangwu",), before=True
        )
    )
    assert play.who() == ["u-lina", "u-wangwu"]
    play.approve("u-wangwu")
    assert play.instance.nodes["a"].status is NodeStatus.ACTIVE
    assert play.who() == ["u-chenjie", "u-lina"]
    play.approve("u-chenjie")
    assert play.who() == ["u-zhouming"]


def test_approvers_cannot_be_added_to_a_vote_node(directory: InMemoryDirectory) -> None:
    vote = {"pass": 0.5, "reject": 0.5}
    template = tpl([approver("a", "u-chenjie", "u-lina", mode="vote", vote=vote)])
    play = started(template, directory)
    cmd = AddApprovers(
        actor="u-chenjie", task_id=task(play, "u-chenjie"), people=("u-wangwu",), before=True
    )
    refused(play, cmd, "action_not_allowed")


@pytest.mark.parametrize(
    ("people", "code"),
    [
        ((), "command_invalid"),
        (("u-chenjie",), "command_invalid"),  # oneself
        (("u-lina",), "command_invalid"),  # already on the node
        (("u-wangwu", "u-wangwu"), "command_invalid"),
        (("u-nobody",), "unknown_principal"),
    ],
)
def test_added_approvers_are_known_people_not_yet_on_the_node(
    directory: InMemoryDirectory, people: tuple[str, ...], code: str
) -> None:
    play = started(tpl([approver("a", "u-chenjie", "u-lina", mode="all")]), directory)
    cmd = AddApprovers(
        actor="u-chenjie", task_id=task(play, "u-chenjie"), people=people, before=True
    )
    refused(play, cmd, code)


def test_the_adder_may_remove_an_approver_added_after_them(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    play.do(
        AddApprovers(
            actor="u-chenjie", task_id=task(play, "u-chenjie"), people=("u-wangwu",), before=False
        )
    )
    added = task(play, "u-wangwu")
    events = play.do(RemoveApprover(actor="u-chenjie", task_id=added, comment="不用了"))
    assert play.types(events) == ["TaskCancelled", "ApproverRemoved"]
    assert of_type(events, ApproverRemoved)[0].task_id == added
    assert play.instance.tasks[added].cancel_reason is CancelReason.REMOVED
    play.approve("u-chenjie")
    assert play.who() == ["u-lina"]


def test_removing_an_approver_added_before_gives_the_turn_back_to_the_adder(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(TWO_STEPS), directory)
    play.do(
        AddApprovers(
            actor="u-chenjie", task_id=task(play, "u-chenjie"), people=("u-wangwu",), before=True
        )
    )
    play.do(RemoveApprover(actor="u-chenjie", task_id=task(play, "u-wangwu")))
    assert play.who() == ["u-chenjie"]


def test_removing_the_last_open_added_approver_completes_the_node(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(TWO_STEPS), directory)
    play.do(
        AddApprovers(
            actor="u-chenjie", task_id=task(play, "u-chenjie"), people=("u-wangwu",), before=False
        )
    )
    play.approve("u-chenjie")
    play.do(RemoveApprover(actor="u-chenjie", task_id=task(play, "u-wangwu")))
    assert play.who() == ["u-lina"]


@pytest.mark.parametrize("actor", ["u-lina", "u-wangwu"])
def test_only_whoever_added_an_approver_may_remove_them(
    directory: InMemoryDirectory, actor: str
) -> None:
    play = started(tpl([approver("a", "u-chenjie", "u-lina", mode="all")]), directory)
    play.do(
        AddApprovers(
            actor="u-chenjie", task_id=task(play, "u-chenjie"), people=("u-wangwu",), before=False
        )
    )
    refused(play, RemoveApprover(actor=actor, task_id=task(play, "u-wangwu")), "not_assignee")


def test_only_added_approvers_can_be_removed(directory: InMemoryDirectory) -> None:
    play = started(tpl([approver("a", "u-chenjie", "u-lina")]), directory)
    refused(
        play, RemoveApprover(actor="u-chenjie", task_id=task(play, "u-lina")), "action_not_allowed"
    )


def test_an_added_approver_who_already_approved_cannot_be_removed(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(TWO_STEPS), directory)
    play.do(
        AddApprovers(
            actor="u-chenjie", task_id=task(play, "u-chenjie"), people=("u-wangwu",), before=True
        )
    )
    added = task(play, "u-wangwu")
    play.approve("u-wangwu")
    refused(play, RemoveApprover(actor="u-chenjie", task_id=added), "task_already_done")


# ---- cc, comment, urge, read -----------------------------------------------------------


def test_a_participant_may_cc_someone_who_then_takes_part(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    events = play.do(Cc(actor=APPLICANT, people=("u-huangli", "u-huangli"), comment="知悉"))
    sent = of_type(events, CcSent)
    assert len(sent) == 1
    assert (sent[0].node_id, sent[0].recipients, sent[0].comment) == (None, ("u-huangli",), "知悉")
    assert play.instance.cc == ("u-huangli",)
    play.do(AddComment(actor="u-huangli", text="收到"))


def test_someone_who_takes_no_part_cannot_cc(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, Cc(actor="u-lisi", people=("u-huangli",)), "not_participant")


def test_a_cc_names_known_people(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, Cc(actor=APPLICANT, people=("u-nobody",)), "unknown_principal")
    refused(play, Cc(actor=APPLICANT, people=()), "command_invalid")


def test_a_draft_cannot_be_ccd(directory: InMemoryDirectory) -> None:
    play = Play(tpl(TWO_STEPS), APPLICANT, directory)
    play.do(SaveDraft(actor=APPLICANT, form={}))
    refused(play, Cc(actor=APPLICANT, people=("u-huangli",)), "invalid_transition")


def test_participants_may_comment(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    events = play.do(AddComment(actor="u-chenjie", text="  看一下附件  "))
    assert of_type(events, CommentAdded)[0].text == "看一下附件"
    assert play.instance.version == 2


def test_someone_who_takes_no_part_cannot_comment(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, AddComment(actor="u-lisi", text="路过"), "not_participant")


def test_an_empty_comment_is_refused(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, AddComment(actor=APPLICANT, text="  "), "comment_required")


def test_the_applicant_may_urge_everyone_whose_turn_it_is(directory: InMemoryDirectory) -> None:
    play = started(tpl([approver("a", "u-chenjie", "u-lina", mode="all")]), directory)
    events = play.do(Urge(actor=APPLICANT, comment="急"))
    urged = of_type(events, Urged)[0]
    assert set(urged.recipients) == {"u-chenjie", "u-lina"}
    assert set(urged.task_ids) == {task(play, "u-chenjie"), task(play, "u-lina")}


def test_only_the_applicant_may_urge(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, Urge(actor="u-lina"), "not_applicant")


def test_only_a_pending_request_can_be_urged(directory: InMemoryDirectory) -> None:
    play = started(tpl([approver("a", "u-chenjie")]), directory)
    play.approve("u-chenjie")
    refused(play, Urge(actor=APPLICANT), "instance_finished")


def test_only_pending_tasks_can_be_urged(directory: InMemoryDirectory) -> None:
    play = started(tpl([approver("a", "u-chenjie", "u-lina")]), directory)
    refused(play, Urge(actor=APPLICANT, task_ids=(task(play, "u-lina"),)), "task_already_done")


def test_an_assignee_marks_their_task_read_once(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    mine = task(play, "u-chenjie")
    events = play.do(MarkRead(actor="u-chenjie", task_id=mine))
    assert of_type(events, TaskRead)[0].task_id == mine
    assert play.instance.tasks[mine].read_at == play.now
    version = play.instance.version
    assert play.do(MarkRead(actor="u-chenjie", task_id=mine)) == []
    assert play.instance.version == version


def test_nobody_marks_someone_elses_task_read(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, MarkRead(actor="u-lina", task_id=task(play, "u-chenjie")), "not_assignee")


# ---- hand over, terminate --------------------------------------------------------------


def test_handing_over_moves_every_open_task_of_someone_who_left(
    directory: InMemoryDirectory,
) -> None:
    template = tpl(
        [
            parallel(
                "p",
                ("left", [approver("x", "u-lina")]),
                ("right", [approver("y", "u-sunli", "u-lina")]),
            )
        ]
    )
    play = started(template, directory)
    old = {t.id for t in play.instance.open_tasks() if t.assignee == "u-lina"}
    assert len(old) == 2
    events = play.do(HandOver(actor="u-huangli", from_person="u-lina", to="u-zhouming"))
    moved = of_type(events, TaskTransferred)
    assert {e.task_id for e in moved} == old
    assert all(e.handover and e.to == "u-zhouming" for e in moved)
    assert all(play.instance.tasks[t].status is TaskStatus.TRANSFERRED for t in old)
    assert not [t for t in play.instance.open_tasks() if t.assignee == "u-lina"]
    assert play.who() == ["u-sunli", "u-zhouming"]
    play.approve("u-sunli")
    assert play.who() == ["u-zhouming", "u-zhouming"]


@pytest.mark.parametrize("mode", ["sequential", "all"])
def test_a_hand_over_to_someone_already_on_the_node_is_refused(
    directory: InMemoryDirectory, mode: str
) -> None:
    """Like a transfer, a hand over must not make one person approve the same node twice:
    it is refused for that instance and changes nothing (a person picks someone else)."""
    play = started(tpl([approver("a", "u-lina", "u-sunli", mode=mode)]), directory)
    refused(
        play, HandOver(actor="u-huangli", from_person="u-lina", to="u-sunli"), "command_invalid"
    )
    assert len([t for t in play.instance.open_tasks() if t.assignee == "u-sunli"]) == 1


@pytest.mark.parametrize(
    ("to", "code"), [("u-lina", "command_invalid"), ("u-nobody", "unknown_principal")]
)
def test_a_hand_over_goes_to_another_known_person(
    directory: InMemoryDirectory, to: str, code: str
) -> None:
    play = started(tpl(TWO_STEPS), directory)
    refused(play, HandOver(actor="u-huangli", from_person="u-lina", to=to), code)


def test_a_template_admin_may_terminate_a_running_request(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS, admins=["u-huangli"]), directory)
    events = play.do(Terminate(actor="u-huangli", comment="流程作废"))
    assert play.types(events) == ["TaskCancelled", "InstanceTerminated"]
    assert play.instance.status is InstanceStatus.TERMINATED
    assert not play.instance.open_tasks()


def test_only_a_template_admin_may_terminate(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS, admins=["u-huangli"]), directory)
    refused(play, Terminate(actor=APPLICANT), "not_template_admin")
    refused(play, Terminate(actor="u-chenjie"), "not_template_admin")


def test_a_finished_request_cannot_be_terminated(directory: InMemoryDirectory) -> None:
    play = started(tpl([approver("a", "u-chenjie")], admins=["u-huangli"]), directory)
    play.approve("u-chenjie")
    refused(play, Terminate(actor="u-huangli"), "instance_finished")


# ---- copy ------------------------------------------------------------------------------


def test_a_finished_request_is_copied_into_a_new_draft_with_its_values(
    directory: InMemoryDirectory,
) -> None:
    template = tpl([approver("a", "u-chenjie")])
    play = started(template, directory, {**FORM, "reviewer": "u-lisi"})
    play.approve("u-chenjie")
    copy_, events = Instance.copy_of(play.instance, "i-2", template, APPLICANT, play.env())
    assert play.types(events) == ["DraftSaved"]
    saved = of_type(events, DraftSaved)[0]
    assert saved.copied_from == "i-1"
    assert copy_.id == "i-2"
    assert copy_.status is InstanceStatus.DRAFT
    assert copy_.form == {**FORM, "reviewer": "u-lisi"}
    assert copy_.copied_from == "i-1"
    assert copy_.version == 1
    assert copy_.tasks == {}


def test_a_copy_leaves_out_values_the_new_template_version_no_longer_takes(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl([approver("a", "u-chenjie")]), directory)
    play.approve("u-chenjie")
    newer = tpl_json([approver("a", "u-chenjie")])
    newer["version"] = 2
    newer["form"]["fields"] = [f for f in newer["form"]["fields"] if f["id"] != "amount"]
    newer["form"]["fields"][1]["options"] = [{"value": "b", "label": "B"}]  # kind "a" is gone
    copy_, _ = Instance.copy_of(play.instance, "i-2", parse_template(newer), APPLICANT, play.env())
    assert copy_.form == {"days": 1}


def test_a_running_request_cannot_be_copied(directory: InMemoryDirectory) -> None:
    template = tpl(TWO_STEPS)
    play = started(template, directory)
    with pytest.raises(SignoffError) as caught:
        Instance.copy_of(play.instance, "i-2", template, APPLICANT, play.env())
    assert caught.value.code == "invalid_transition"


def test_only_the_applicant_may_copy_their_request(directory: InMemoryDirectory) -> None:
    template = tpl([approver("a", "u-chenjie")])
    play = started(template, directory)
    play.approve("u-chenjie")
    with pytest.raises(SignoffError) as caught:
        Instance.copy_of(play.instance, "i-2", template, "u-chenjie", play.env())
    assert caught.value.code == "not_applicant"


# ---- versions --------------------------------------------------------------------------


def test_every_command_that_changes_something_raises_the_version_by_one(
    directory: InMemoryDirectory,
) -> None:
    play = started(tpl(THREE_STEPS), directory)
    commands: list[Command] = [
        AddComment(actor=APPLICANT, text="hi"),
        Approve(actor="u-chenjie", task_id=task(play, "u-chenjie")),
    ]
    for number, command in enumerate(commands, start=2):
        events = play.do(command)
        assert {e.version for e in events} == {number}
        assert play.instance.version == number
    assert [e.seq for e in play.events] == list(range(len(play.events)))
    assert play.instance.seq == len(play.events)


def test_a_take_back_is_recorded_as_its_own_event(directory: InMemoryDirectory) -> None:
    play = started(tpl(TWO_STEPS), directory)
    mine = task(play, "u-chenjie")
    play.approve("u-chenjie")
    events = play.do(TakeBack(actor="u-chenjie", task_id=mine, comment="再想想"))
    taken = of_type(events, ApprovalTakenBack)[0]
    assert (taken.task_id, taken.comment, taken.actor) == (mine, "再想想", "u-chenjie")
