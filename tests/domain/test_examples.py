"""The four example templates, played through their main paths."""

from __future__ import annotations

import pytest

from signoff.domain.commands import Reject, Resubmit, Return
from signoff.domain.directory import InMemoryDirectory
from signoff.domain.errors import ChoiceRequired
from signoff.domain.events import CcSent, InstanceApproved
from signoff.domain.instance import Instance
from signoff.domain.states import InstanceStatus, TaskStatus

from .conftest import Play, example

LEAVE = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-05"],
    "days": 5,
    "reason": "family trip",
}


def test_a_long_leave_goes_to_team_lead_then_department_head_then_hr(
    directory: InMemoryDirectory,
) -> None:
    play = Play(example("leave"), "u-zhangsan", directory)
    play.submit(LEAVE)
    assert play.instance.status is InstanceStatus.PENDING
    assert play.instance.title == "张三的请假申请（5天）"
    assert play.who() == ["u-chenjie"]
    play.approve("u-chenjie", comment="ok")
    assert play.who() == ["u-lina"]
    play.approve("u-lina")
    assert play.who() == ["u-huangli", "u-xuting"]
    events = play.approve("u-xuting")
    assert play.instance.status is InstanceStatus.APPROVED
    assert play.who() == []
    cc = [e for e in events if isinstance(e, CcSent)]
    assert cc and set(cc[0].recipients) == {"u-huangli", "u-xuting"}
    assert isinstance(events[-1], InstanceApproved)
    # the other HR person's task of the any node was cancelled, not left pending
    assert all(not t.status.open for t in play.instance.tasks.values())


def test_a_short_leave_skips_the_department_head(directory: InMemoryDirectory) -> None:
    play = Play(example("leave"), "u-zhangsan", directory)
    play.submit({**LEAVE, "days": 2, "period": ["2026-12-01", "2026-12-02"]})
    play.approve("u-chenjie")
    assert play.who() == ["u-huangli", "u-xuting"]


def test_a_team_lead_on_leave_goes_to_their_own_head_and_the_one_above(
    directory: InMemoryDirectory,
) -> None:
    play = Play(example("leave"), "u-chenjie", directory)
    play.submit(LEAVE)
    # 陈杰 heads the backend team: nobody approves their own request as its head
    assert play.who() == ["u-lina"]
    play.approve("u-lina")
    assert play.who() == ["u-zhouming"]


def test_every_state_is_the_replay_of_its_events(directory: InMemoryDirectory) -> None:
    play = Play(example("leave"), "u-zhangsan", directory)
    play.submit(LEAVE)
    play.approve("u-chenjie")
    play.do(Return(actor="u-lina", task_id=play.task_of("u-lina").id, comment="dates?"))
    play.do(Resubmit(actor="u-zhangsan", form={**LEAVE, "reason": "family trip, 5 days"}))
    assert play.who() == ["u-lina"]  # back_to_returner
    play.approve("u-lina")
    replayed = Instance.replay("i-1", play.instance.template, "u-zhangsan", play.events)
    assert snapshot(replayed) == snapshot(play.instance)


def snapshot(instance: object) -> dict[str, object]:
    keep = (
        "status form form_revision serial title version seq nodes tasks choices approvals "
        "last_approvers cc resume_nodes undo applicant submitted_at finished_at"
    ).split()
    return {k: getattr(instance, k) for k in keep}


EXPENSE = {
    "expense_type": "travel",
    "items": [
        {"date": "2026-11-02", "category": "transport", "description": "高铁", "amount": "4500"},
        {"date": "2026-11-03", "category": "lodging", "description": "酒店", "amount": "1200.5"},
    ],
    "total": "5700.50",
    "invoices": [
        {"id": "f-1", "name": "invoice.pdf", "size": 2048, "content_type": "application/pdf"}
    ],
    "payee": "u-zhangsan",
}


def test_a_large_expense_needs_every_finance_approver(directory: InMemoryDirectory) -> None:
    template = example("expense")
    play = Play(template, "u-zhangsan", directory)
    play.submit(EXPENSE)
    play.approve("u-chenjie")
    assert play.who() == ["u-sunli", "u-wufang", "u-zhoujing"]
    play.approve("u-zhoujing")
    play.approve("u-sunli")
    assert play.who() == ["u-wufang"]
    play.approve("u-wufang")
    assert play.who() == ["u-zhengyu"]
    play.approve("u-zhengyu")
    assert play.instance.status is InstanceStatus.APPROVED


def test_a_medium_expense_goes_to_the_reviewer_the_head_chooses(
    directory: InMemoryDirectory,
) -> None:
    template = example("expense")
    play = Play(template, "u-zhangsan", directory)
    play.submit({**EXPENSE, "items": EXPENSE["items"][:1], "total": "4500"})
    choice_node = next(
        n.id
        for n in template.flow.approvers()
        if n.chosen_by and n.chosen_by.value.startswith("prev")
    )
    with pytest.raises(ChoiceRequired):
        play.approve("u-chenjie")
    assert play.who() == ["u-chenjie"]  # nothing changed
    play.approve("u-chenjie", choices={choice_node: ("u-wufang",)})
    assert play.who() == ["u-wufang"]


PERMISSION = {
    "apply_type": "rd",
    "resources": ["dashboard", "core_db"],
    "role": "viewer",
    "duration": ["2026-12-01", "2027-03-01"],
    "reason": "on-call dashboards",
}


def test_a_permission_for_special_resources_adds_the_vp(directory: InMemoryDirectory) -> None:
    template = example("permission")
    play = Play(template, "u-zhangsan", directory)
    play.submit(PERMISSION)
    play.approve("u-chenjie")
    # parallel: resource owners (any) and IT admins (all)
    assert set(play.who()) >= {"u-lina", "u-liuyang", "u-zhaolei", "u-lisi"}
    play.approve("u-liuyang")
    play.approve("u-zhaolei")
    play.approve("u-lisi")
    assert play.who() == ["u-wangqiang"]
    play.approve("u-wangqiang")
    assert play.instance.status is InstanceStatus.APPROVED


def test_a_rejection_ends_the_instance_and_closes_every_task(
    directory: InMemoryDirectory,
) -> None:
    template = example("permission")
    play = Play(template, "u-zhangsan", directory)
    play.submit(PERMISSION)
    play.approve("u-chenjie")
    play.do(Reject(actor="u-lisi", task_id=play.task_of("u-lisi").id, comment="no"))
    assert play.instance.status is InstanceStatus.REJECTED
    assert not play.instance.open_tasks()


def test_a_purchase_contract_runs_to_the_committee_vote(directory: InMemoryDirectory) -> None:
    template = example("purchase_contract")
    form = {
        "contract_name": "服务器采购",
        "party_a": "Acme 示例科技",
        "party_b": "某某供应商",
        "contract_amount": "600000",
        "sign_date": "2026-12-01",
        "payment_terms": "货到付款",
        "department": "d-rd",
        "items": [
            {
                "name": "服务器",
                "spec": "2U",
                "quantity": 10,
                "unit_price": "60000",
                "subtotal": "600000",
            }
        ],
    }
    legal = next(n.id for n in template.flow.approvers() if n.chosen_by)
    play = Play(template, "u-zhangsan", directory)
    with pytest.raises(ChoiceRequired):
        play.submit(form)
    assert play.instance.status is InstanceStatus.DRAFT and play.instance.version == 0
    play.submit(form, **{legal: ("u-gaomin",)})
    play.approve("u-lina")
    play.approve("u-gaomin", comment="条款已审")
    assert play.who() == ["u-sunli", "u-zhouming"]
    play.approve("u-sunli")
    play.approve("u-zhouming")
    assert play.who() == ["u-hejun", "u-majun", "u-wangqiang"]
    play.approve("u-hejun")  # weight 2 of 4: not yet 0.6
    assert play.instance.status is InstanceStatus.PENDING
    play.approve("u-majun")  # 3 of 4 >= 2.4: passed, the third vote is no longer needed
    assert play.instance.status is InstanceStatus.APPROVED
    wangqiang = [t for t in play.instance.tasks.values() if t.assignee == "u-wangqiang"]
    assert wangqiang[-1].status is TaskStatus.CANCELLED
