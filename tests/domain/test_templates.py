"""Template documents: every problem reported at once with its JSON path and rule, the
examples read and written back unchanged, and events read and written as JSON."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest

from signoff.domain.commands import (
    AddApprovers,
    AddComment,
    Cc,
    Delegate,
    FireTimeout,
    HandOver,
    MarkRead,
    Reject,
    RemoveApprover,
    Resubmit,
    Return,
    SaveDraft,
    TakeBack,
    Terminate,
    Transfer,
    Urge,
    Withdraw,
)
from signoff.domain.directory import InMemoryDirectory
from signoff.domain.errors import TemplateInvalid
from signoff.domain.events import EVENT_TYPES, Event, event_from_dict, event_to_dict
from signoff.domain.instance import Instance
from signoff.domain.mirror import (
    ExternalDecision,
    ExternalStatus,
    ExternalStep,
    MirrorExternal,
    Verdict,
)
from signoff.domain.states import InstanceStatus
from signoff.domain.templates import Dedup, parse_template, template_to_json

from .conftest import EXAMPLES, Play, example, example_json
from .test_commands import approver, node, tpl_json, users

# ---- helpers ---------------------------------------------------------------------------


def problems(doc: object) -> list[tuple[str, str]]:
    """The (path, rule) of every problem parse_template reports, in order."""
    with pytest.raises(TemplateInvalid) as caught:
        parse_template(doc)
    assert caught.value.code == "template_invalid"
    return [(p.path, p.rule) for p in caught.value.problems]


def when(field: str, op: str, value: object) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


def gateway(routes: list[dict[str, Any]], kind: str = "condition") -> dict[str, Any]:
    return {"id": "g", "type": kind, "routes": routes}


def route(route_id: str, condition: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": route_id, "nodes": [], **extra}
    if condition is not None:
        out["when"] = condition
    return out


DEFAULT = route("other", default=True)
LONG = when("form.days", "gt", 3)


# ---- flow problems ---------------------------------------------------------------------


def test_a_template_is_read_when_it_has_no_problems() -> None:
    template = parse_template(tpl_json([approver("a", "u-lina")], dedup="any"))
    assert template.ref == "t@1"
    assert template.settings.dedup is Dedup.ANY
    assert template.settings.resubmit == "restart"
    assert template.flow.approver("a") is not None


def test_an_unknown_node_type_is_reported_at_its_type() -> None:
    assert problems(tpl_json([{"id": "x", "type": "magic"}])) == [("flow.nodes[0].type", "option")]


def test_a_node_id_used_twice_is_reported_where_it_is_used_again() -> None:
    doc = tpl_json([approver("a", "u-lina"), approver("b", "u-lina"), approver("a", "u-sunli")])
    assert problems(doc) == [("flow.nodes[2].id", "duplicate")]


def test_node_ids_are_unique_across_the_whole_tree_routes_included() -> None:
    doc = tpl_json([gateway([route("r", LONG, nodes=[approver("r", "u-lina")]), DEFAULT])])
    assert problems(doc) == [("flow.nodes[0].routes[0].nodes[0].id", "duplicate")]


def test_a_node_id_must_be_an_identifier() -> None:
    assert problems(tpl_json([approver("a b", "u-lina")])) == [("flow.nodes[0].id", "format")]


def test_a_gateway_without_a_default_route_is_refused() -> None:
    doc = tpl_json([gateway([route("r1", LONG), route("r2", when("form.days", "lt", 1))])])
    assert problems(doc) == [("flow.nodes[0].routes", "default")]


def test_a_gateway_with_two_default_routes_is_refused() -> None:
    doc = tpl_json([gateway([route("r1", default=True), route("r2", default=True)], "inclusive")])
    assert problems(doc) == [("flow.nodes[0].routes", "default")]


def test_a_gateway_with_fewer_than_two_routes_is_refused() -> None:
    assert problems(tpl_json([gateway([DEFAULT])])) == [("flow.nodes[0].routes", "min_items")]


def test_a_parallel_gateway_with_fewer_than_two_branches_is_refused() -> None:
    doc = tpl_json([{"id": "p", "type": "parallel", "branches": [{"id": "b", "nodes": []}]}])
    assert problems(doc) == [("flow.nodes[0].branches", "min_items")]


def test_a_route_without_a_condition_must_be_the_default_and_the_default_has_none() -> None:
    doc = tpl_json([gateway([route("r1"), route("other", LONG, default=True)])])
    assert problems(doc) == [
        ("flow.nodes[0].routes[0].when", "required"),
        ("flow.nodes[0].routes[1].when", "unexpected"),
    ]


def test_route_priorities_are_unique() -> None:
    doc = tpl_json(
        [gateway([route("r1", LONG, priority=1), route("r2", LONG, priority=1), DEFAULT])]
    )
    assert problems(doc) == [("flow.nodes[0].routes[1].priority", "duplicate")]


def test_a_condition_on_an_unknown_field_is_refused() -> None:
    doc = tpl_json([gateway([route("r1", when("form.nope", "gt", 1)), DEFAULT])])
    assert problems(doc) == [("flow.nodes[0].routes[0].when.field", "unknown_field")]


def test_an_operator_that_does_not_fit_the_fields_type_is_refused() -> None:
    doc = tpl_json([gateway([route("r1", {"all": [LONG, when("form.kind", "gt", 1)]}), DEFAULT])])
    assert problems(doc) == [("flow.nodes[0].routes[0].when.all[1].op", "op")]


def test_a_condition_value_of_the_wrong_type_is_refused() -> None:
    doc = tpl_json([gateway([route("r1", when("form.days", "gt", "three")), DEFAULT])])
    assert problems(doc) == [("flow.nodes[0].routes[0].when.value", "type")]


def test_a_vote_node_needs_its_vote_settings() -> None:
    doc = tpl_json([approver("v", "u-lina", "u-sunli", mode="vote")])
    assert problems(doc) == [("flow.nodes[0].vote", "required")]


def test_vote_settings_belong_to_vote_nodes_only() -> None:
    doc = tpl_json([approver("a", "u-lina", mode="any", vote={"pass": 0.5, "reject": 0.5})])
    assert problems(doc) == [("flow.nodes[0].vote", "unexpected")]


@pytest.mark.parametrize(
    ("vote", "expected"),
    [
        ({"pass": 1.5, "reject": 0.5}, [("flow.nodes[0].vote.pass", "range")]),
        ({"pass": 0.5, "reject": 0}, [("flow.nodes[0].vote.reject", "range")]),
        ({"pass": 0.5}, [("flow.nodes[0].vote.reject", "required")]),
        ({"pass": "half", "reject": 0.5}, [("flow.nodes[0].vote.pass", "type")]),
        (
            {"pass": 0.5, "reject": 0.5, "weights": {"u-lina": 0}, "default_weight": 0},
            [
                ("flow.nodes[0].vote.weights.u-lina", "min"),
                ("flow.nodes[0].vote.default_weight", "min"),
            ],
        ),
    ],
    ids=["pass-above-one", "reject-zero", "reject-missing", "pass-not-a-number", "weights-zero"],
)
def test_vote_thresholds_are_ratios_above_zero_up_to_one_and_weights_are_positive(
    vote: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    doc = tpl_json([approver("v", "u-lina", "u-sunli", mode="vote", vote=vote)])
    assert problems(doc) == expected


def test_permissions_name_known_fields_and_columns_with_a_known_access() -> None:
    items = {
        "id": "items",
        "type": "table",
        "label": "明细",
        "columns": [{"id": "price", "type": "money", "label": "单价"}],
    }
    perms = {"nope": "write", "items.nope": "read", "items.price": "write", "days": "edit"}
    doc = tpl_json([approver("a", "u-lina", permissions=perms)], fields=[items])
    assert problems(doc) == [
        ("flow.nodes[0].permissions.nope", "unknown_field"),
        ("flow.nodes[0].permissions.items.nope", "unknown_field"),
        ("flow.nodes[0].permissions.days", "option"),
    ]


def test_an_assignee_rule_names_a_known_form_field_of_the_right_type() -> None:
    doc = tpl_json(
        [
            node("a", {"type": "form_user", "field": "nope"}),
            node("b", {"type": "form_department_head", "field": "reviewer"}),
            node("c", {"type": "form_user", "field": "dept"}),
        ]
    )
    assert problems(doc) == [
        ("flow.nodes[0].assignees[0].field", "unknown_field"),
        ("flow.nodes[1].assignees[0].field", "type"),
        ("flow.nodes[2].assignees[0].field", "type"),
    ]


@pytest.mark.parametrize("choice", ["applicant_choice", "previous_approver_choice"])
def test_a_choice_rule_cannot_be_combined_with_other_rules(choice: str) -> None:
    doc = tpl_json([node("a", {"type": choice}, users("u-lina"))])
    assert problems(doc) == [("flow.nodes[0].assignees", "choice_alone")]


def test_cc_recipients_cannot_be_chosen() -> None:
    doc = tpl_json([{"id": "c", "type": "cc", "recipients": [{"type": "applicant_choice"}]}])
    assert problems(doc) == [("flow.nodes[0].recipients[0].type", "option")]


def test_assignee_rules_are_checked_one_by_one() -> None:
    doc = tpl_json(
        [
            node("a"),
            node("b", {"type": "boss"}),
            node("c", {"type": "supervisors", "up_to_level": 2, "up_to_position": "vp"}),
            node("d", {"type": "users", "users": []}),
            node("e", {"type": "department_head", "level": 0}),
        ]
    )
    assert problems(doc) == [
        ("flow.nodes[0].assignees", "min_items"),
        ("flow.nodes[1].assignees[0].type", "option"),
        ("flow.nodes[2].assignees[0].up_to_level", "one_of"),
        ("flow.nodes[3].assignees[0].users", "min_items"),
        ("flow.nodes[4].assignees[0].level", "min"),
    ]


def test_a_timeout_needs_a_positive_duration_and_an_action() -> None:
    doc = tpl_json([approver("a", "u-lina", timeout={"after": {"hours": 0}})])
    assert problems(doc) == [
        ("flow.nodes[0].timeout.after", "min"),
        ("flow.nodes[0].timeout.action", "required"),
    ]


def test_unknown_keys_are_reported_at_every_level() -> None:
    doc = tpl_json(
        [approver("a", "u-lina", bogus=1), gateway([route("r1", LONG, extra=1), DEFAULT])],
        extra=True,
    )
    doc["foo"] = 1
    assert problems(doc) == [
        ("foo", "unknown_key"),
        ("settings.extra", "unknown_key"),
        ("flow.nodes[0].bogus", "unknown_key"),
        ("flow.nodes[1].routes[0].extra", "unknown_key"),
    ]


# ---- document and settings problems ----------------------------------------------------


@pytest.mark.parametrize("key", ["Leave", "1leave", "leave!", "x" * 65])
def test_a_template_key_is_lower_case_letters_digits_dashes_and_underscores(key: str) -> None:
    doc = {**tpl_json([]), "key": key}
    assert problems(doc) == [("key", "format")]


def test_an_empty_key_or_name_is_refused() -> None:
    doc = {**tpl_json([]), "key": "", "name": ""}
    assert [path for path, _ in problems(doc)] == ["key", "name"]


def test_empty_node_and_route_ids_are_refused() -> None:
    branches = [{"id": "", "nodes": [approver("x", "u-lina")]}, {"id": "", "nodes": []}]
    doc = tpl_json(
        [
            approver("", "u-lina"),
            approver("", "u-sunli"),
            {"id": "p", "type": "parallel", "branches": branches},
        ]
    )
    paths = {path for path, _ in problems(doc)}
    assert {
        "flow.nodes[0].id",
        "flow.nodes[1].id",
        "flow.nodes[2].branches[0].id",
        "flow.nodes[2].branches[1].id",
    } <= paths


def test_a_template_needs_a_name_and_a_positive_version() -> None:
    doc = tpl_json([])
    del doc["name"]
    doc["version"] = 0
    assert problems(doc) == [("name", "required"), ("version", "min")]


@pytest.mark.parametrize("date", ["%Y-%H", "%s", "%%", "%"])
def test_a_serial_date_uses_only_year_month_and_day(date: str) -> None:
    doc = tpl_json([], serial={"prefix": "X", "date": date, "digits": 4})
    assert problems(doc) == [("settings.serial.date", "format")]


@pytest.mark.parametrize("digits", [0, 13])
def test_a_serial_counter_has_one_to_twelve_digits(digits: int) -> None:
    doc = tpl_json([], serial={"prefix": "X", "date": "", "digits": digits})
    assert problems(doc) == [("settings.serial.digits", "min" if digits < 1 else "max")]


@pytest.mark.parametrize(
    "placeholder",
    ["{applicant.age}", "{form.nope}", "{template.key}", "{serial.no}", "{now}", "{form}"],
)
def test_a_title_uses_only_the_documented_placeholders(placeholder: str) -> None:
    doc = tpl_json([], title=f"{{applicant.name}}{placeholder}{{form.days}}")
    assert problems(doc) == [("settings.title", "placeholder")]


def test_summary_fields_are_known_top_level_fields() -> None:
    doc = tpl_json([], summary_fields=["days", "nope"])
    assert problems(doc) == [("settings.summary_fields[1]", "unknown_field")]


def test_settings_take_only_their_documented_values() -> None:
    doc = tpl_json(
        [],
        resubmit="later",
        dedup="maybe",
        allow_withdraw="yes",
        initiators={"users": "u-lina", "teams": []},
    )
    assert problems(doc) == [
        ("settings.initiators.teams", "unknown_key"),
        ("settings.initiators.users", "type"),
        ("settings.resubmit", "option"),
        ("settings.dedup", "option"),
        ("settings.allow_withdraw", "type"),
    ]


def test_every_problem_of_a_template_is_reported_at_once() -> None:
    doc = tpl_json(
        [
            {"id": "x", "type": "magic"},
            approver("a", "u-lina", mode="vote", permissions={"nope": "write"}),
            approver("a", "u-sunli"),
            {
                "id": "p",
                "type": "parallel",
                "branches": [
                    {"id": "b1", "nodes": [node("c", {"type": "form_user", "field": "days"})]},
                    {"id": "b2", "nodes": [gateway([route("r1", when("form.kind", "gt", 1))])]},
                ],
            },
        ],
        title="{form.nope}",
        summary_fields=["nope"],
        serial={"date": "%H"},
    )
    doc["key"] = "Bad Key"
    assert sorted(problems(doc)) == sorted(
        [
            ("key", "format"),
            ("settings.serial.date", "format"),
            ("settings.title", "placeholder"),
            ("settings.summary_fields[0]", "unknown_field"),
            ("flow.nodes[0].type", "option"),
            ("flow.nodes[1].vote", "required"),
            ("flow.nodes[1].permissions.nope", "unknown_field"),
            ("flow.nodes[2].id", "duplicate"),
            ("flow.nodes[3].branches[0].nodes[0].assignees[0].field", "type"),
            ("flow.nodes[3].branches[1].nodes[0].routes[0].when.op", "op"),
            ("flow.nodes[3].branches[1].nodes[0].routes", "min_items"),
            ("flow.nodes[3].branches[1].nodes[0].routes", "default"),
        ]
    )


def test_a_problem_in_the_form_does_not_make_the_titles_fields_unknown() -> None:
    bad_field = {"id": "bad", "type": "weird", "label": "怪"}
    doc = tpl_json([], fields=[bad_field], title="{applicant.name}的{form.days}天")
    assert problems(doc) == [("form.fields[5].type", "unknown_type")]


def test_a_problem_message_names_its_path_and_rule() -> None:
    with pytest.raises(TemplateInvalid) as caught:
        parse_template(tpl_json([{"id": "x", "type": "magic"}]))
    assert str(caught.value.problems[0]).startswith("flow.nodes[0].type: option — ")
    assert "flow.nodes[0].type: option" in str(caught.value)


# ---- round trips -----------------------------------------------------------------------

EXAMPLE_NAMES = sorted(p.stem for p in (EXAMPLES / "templates").glob("*.json"))


def test_there_are_four_example_templates() -> None:
    assert EXAMPLE_NAMES == ["expense", "leave", "permission", "purchase_contract"]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_template_reads_and_writes_back_unchanged(name: str) -> None:
    doc = example_json(name)
    template = parse_template(copy.deepcopy(doc))
    assert template.key == doc["key"] and template.version == doc["version"]
    assert template_to_json(template) == doc
    assert template_to_json(parse_template(template_to_json(template))) == doc
    text = (EXAMPLES / "templates" / f"{name}.json").read_text()
    assert json.loads(json.dumps(template_to_json(template))) == json.loads(text)


def test_the_written_document_is_a_copy_that_cannot_change_the_template() -> None:
    template = example("leave")
    written = template_to_json(template)
    written["name"] = "changed"
    flow = written["flow"]
    assert isinstance(flow, dict)
    flow["nodes"].clear()
    assert template_to_json(template) == example_json("leave")


def test_publishing_assigns_the_version_into_the_written_document() -> None:
    doc = example_json("leave")
    del doc["version"]
    assert parse_template(copy.deepcopy(doc)).version == 0
    template = parse_template(doc, version=7)
    assert template.version == 7 and template.ref == "leave@7"
    assert template_to_json(template) == {**doc, "version": 7}


# ---- events as JSON --------------------------------------------------------------------

LEAVE = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-05"],
    "days": 5,
    "reason": "family trip",
}


def leave_plays(directory: InMemoryDirectory) -> list[Play]:
    """A full leave request played through most commands, and three that end otherwise."""
    template = example("leave")
    play = Play(template, "u-zhangsan", directory)
    play.do(SaveDraft(actor="u-zhangsan", form={"leave_type": "annual"}))
    play.submit(LEAVE)
    lead = play.task_of("u-chenjie").id
    play.do(MarkRead(actor="u-chenjie", task_id=lead))
    play.do(AddComment(actor="u-zhangsan", text="麻烦尽快"))
    play.do(Urge(actor="u-zhangsan"))
    play.do(Cc(actor="u-zhangsan", people=("u-wangwu",), comment="知悉"))
    play.do(Delegate(actor="u-chenjie", task_id=lead, to="u-lisi"))
    play.approve("u-lisi", comment="可以")
    play.do(AddApprovers(actor="u-chenjie", task_id=lead, people=("u-liuyang",), before=False))
    added = next(t.id for t in play.instance.open_tasks() if t.assignee == "u-liuyang")
    play.do(RemoveApprover(actor="u-chenjie", task_id=added))
    play.approve("u-chenjie")
    play.do(TakeBack(actor="u-chenjie", task_id=lead, comment="再看一下"))
    play.approve("u-chenjie")
    play.do(Transfer(actor="u-lina", task_id=play.task_of("u-lina").id, to="u-zhouming"))
    play.do(Return(actor="u-zhouming", task_id=play.task_of("u-zhouming").id, comment="改日期"))
    play.do(Resubmit(actor="u-zhangsan", form={**LEAVE, "reason": "family trip, 5 days"}))
    play.approve(play.who()[0])
    play.do(
        Return(
            actor="u-xuting",
            task_id=play.task_of("u-xuting").id,
            to_node="team_lead",
            comment="主管再确认",
        )
    )
    play.approve("u-chenjie")
    play.approve("u-lina")
    play.do(HandOver(actor="u-huangli", from_person="u-xuting", to="u-lisi"))
    play.approve("u-huangli", edits={"days": 4.5})
    assert play.instance.status is InstanceStatus.APPROVED

    rejected = Play(template, "u-zhangsan", directory)
    rejected.submit(LEAVE)
    rejected.now += timedelta(days=2)  # the team lead's reminder is due
    rejected.do(FireTimeout(task_id=rejected.task_of("u-chenjie").id))
    rejected.do(Reject(actor="u-chenjie", task_id=rejected.task_of("u-chenjie").id, comment="忙"))
    withdrawn = Play(template, "u-zhangsan", directory)
    withdrawn.submit(LEAVE)
    withdrawn.do(Withdraw(actor="u-zhangsan", comment="不请了"))
    terminated = Play(template, "u-zhangsan", directory)
    terminated.submit(LEAVE)
    terminated.do(Terminate(actor="u-huangli", comment="作废"))
    mirrored = Play(template, "u-zhangsan", directory)  # a leave approved in WeCom
    decision = ExternalDecision("u-chenjie", Verdict.APPROVED, "好", mirrored.now)
    mirrored.do(
        MirrorExternal(
            source="wecom:ww-acme",
            external_id="202611230001",
            applicant="u-zhangsan",
            submitted_at=mirrored.now,
            status=ExternalStatus.APPROVED,
            steps=(ExternalStep("team_lead", Verdict.APPROVED, (decision,)),),
        )
    )
    return [play, rejected, withdrawn, terminated, mirrored]


def through_json(event: Event) -> Event:
    return event_from_dict(json.loads(json.dumps(event_to_dict(event), ensure_ascii=False)))


def test_every_event_of_the_leave_plays_reads_back_from_json_unchanged(
    directory: InMemoryDirectory,
) -> None:
    events = [e for play in leave_plays(directory) for e in play.events]
    assert {e.type for e in events} == set(EVENT_TYPES)
    for event in events:
        data = event_to_dict(event)
        assert data["type"] == event.type
        assert through_json(event) == event


def test_the_events_read_back_from_json_replay_into_the_same_instance(
    directory: InMemoryDirectory,
) -> None:
    play = leave_plays(directory)[0]
    replayed = Instance.replay(
        "i-1", play.instance.template, "u-zhangsan", [through_json(e) for e in play.events]
    )
    keep = (
        "status form form_revision serial title version seq nodes tasks choices approvals "
        "last_approvers cc resume_nodes applicant submitted_at finished_at"
    ).split()
    assert {k: getattr(replayed, k) for k in keep} == {k: getattr(play.instance, k) for k in keep}


def test_an_event_written_as_json_names_enums_by_value_and_times_in_iso_8601(
    directory: InMemoryDirectory,
) -> None:
    play = Play(example("leave"), "u-zhangsan", directory)
    events = play.submit(LEAVE)
    created = next(e for e in events if e.type == "TaskCreated")
    data = event_to_dict(created)
    assert data["status"] == "pending" and data["kind"] == "normal"
    assert data["at"] == created.at.isoformat()
    # a working-time timeout without a calendar is counted in plain time
    assert data["due_at"] == (created.at + timedelta(hours=24)).isoformat()
    assert created.id == "i-1:2"
