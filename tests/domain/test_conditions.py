"""Conditions: typed rules over form values and applicant facts, checked when a template is
published and evaluated without eval."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signoff.domain.conditions import (
    HOLDS_WHEN_MISSING,
    MAX_DEPTH,
    Condition,
    Facts,
    Group,
    Op,
    Rule,
    condition_to_json,
    parse_condition,
)
from signoff.domain.errors import Problem
from signoff.domain.forms import FormSchema, parse_form, validate_form


def fld(field_id: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"id": field_id, "type": type_, "label": field_id, **extra}


def opts(*values: str) -> list[dict[str, str]]:
    return [{"value": v, "label": v} for v in values]


def _form() -> FormSchema:
    problems: list[Problem] = []
    fields = [
        fld("amount", "money"),
        fld("days", "number", precision=1),
        fld("title", "text"),
        fld("note", "textarea"),
        fld("start", "date"),
        fld("period", "date_range"),
        fld("leave_type", "select", options=opts("annual", "sick", "personal")),
        fld("urgency", "radio", options=opts("low", "high")),
        fld("tags", "multi_select", options=opts("a", "b", "c")),
        fld("boxes", "checkbox", options=opts("x", "y")),
        fld("reviewer", "user"),
        fld("reviewers", "user", multiple=True),
        fld("dept", "department"),
        fld("depts", "department", multiple=True),
        fld("files", "attachment"),
        fld(
            "items",
            "table",
            columns=[
                fld("price", "money"),
                fld("kind", "select", options=opts("goods", "service")),
                fld("qty", "number"),
                fld("when", "date"),
            ],
        ),
    ]
    form = parse_form({"fields": fields}, "form", problems)
    assert problems == []
    assert form is not None
    return form


FORM = _form()
PATH = "flow.nodes[1].routes[0].when"


def cond(data: object) -> Condition:
    problems: list[Problem] = []
    found = parse_condition(data, PATH, FORM, problems)
    assert problems == []
    assert found is not None
    return found


def problems_of(data: object) -> list[tuple[str, str]]:
    problems: list[Problem] = []
    assert parse_condition(data, PATH, FORM, problems) is None
    assert problems
    return [(p.path.removeprefix(PATH), p.rule) for p in problems]


def facts(
    form: dict[str, object] | None = None,
    *,
    applicant_id: str = "u-ann",
    department_ids: frozenset[str] = frozenset({"d-backend", "d-eng", "d-root"}),
    roles: frozenset[str] = frozenset({"staff", "engineer"}),
    position: str | None = "engineer",
) -> Facts:
    values = validate_form(FORM, form or {})
    return Facts(values, applicant_id, department_ids, roles, position)


def holds(field: str, op: str, value: object = None, **form: object) -> bool:
    rule: dict[str, object] = {"field": field, "op": op}
    if value is not None:
        rule["value"] = value
    return cond(rule).holds(facts(form))


# ---- money and numbers -----------------------------------------------------------------


def test_money_is_compared_exactly() -> None:
    assert holds("form.amount", "eq", "0.3", amount="0.30")
    assert holds("form.amount", "eq", 0.3, amount="0.30")
    assert not holds("form.amount", "gt", "0.3", amount="0.30")
    assert holds("form.amount", "gte", "5000", amount="5000.00")
    assert not holds("form.amount", "gte", "5000.01", amount="5000")
    assert holds("form.amount", "lt", "5000.01", amount=5000)
    assert holds("form.amount", "lte", 5000, amount="5000")
    assert holds("form.amount", "ne", "1", amount="1.01")


def test_a_money_rule_keeps_its_value_as_a_decimal() -> None:
    rule = cond({"field": "form.amount", "op": "between", "value": ["1000", 5000.5]})
    assert isinstance(rule, Rule)
    assert rule.op is Op.BETWEEN
    assert rule.value == (Decimal("1000"), Decimal("5000.5"))


@pytest.mark.parametrize(
    ("amount", "expected"), [("999.99", False), ("1000", True), ("5000", True), ("5000.01", False)]
)
def test_between_includes_both_ends(amount: str, expected: bool) -> None:
    assert holds("form.amount", "between", ["1000", "5000"], amount=amount) is expected


def test_numbers_compare_as_decimals() -> None:
    assert holds("form.days", "gt", 3, days=3.5)
    assert not holds("form.days", "gt", 3, days=3)
    assert holds("form.days", "eq", 0.1, days=0.1)
    assert not holds("form.days", "gt", 0.1, days=0.1)
    assert holds("form.days", "gte", 0.5, days=0.5)
    assert holds("form.days", "lt", 1e3, days=999)
    assert holds("form.days", "lte", 2, days=2.0)
    assert holds("form.days", "between", [1, 2.5], days=2.5)
    assert holds("form.days", "in", [1, 2, 3.5], days=2)
    assert holds("form.days", "in", [1, 2, 3.5], days=3.5)
    assert holds("form.days", "not_in", [1, 2], days=3)


def test_money_in_and_not_in_compare_amounts() -> None:
    assert holds("form.amount", "in", ["100", 200], amount="200.00")
    assert holds("form.amount", "not_in", ["100", 200], amount="200.01")


# ---- dates -----------------------------------------------------------------------------


def test_dates_compare_as_dates() -> None:
    assert holds("form.start", "gt", "2026-11-22", start="2026-11-23")
    assert holds("form.start", "gte", "2026-11-22", start="2026-11-22")
    assert not holds("form.start", "lt", "2026-02-01", start="2026-10-01")
    assert holds("form.start", "lte", "2026-12-31", start="2026-12-31")
    assert holds("form.start", "eq", "2026-12-31", start="2026-12-31")
    assert holds("form.start", "between", ["2026-01-01", "2026-12-31"], start="2026-06-30")
    assert holds("form.start", "in", ["2026-01-01", "2026-06-30"], start="2026-06-30")


def test_a_date_range_compares_its_length_in_days() -> None:
    three_days = ["2026-11-22", "2026-11-24"]
    assert holds("form.period", "eq", 3, period=three_days)
    assert holds("form.period", "gt", 2, period=three_days)
    assert not holds("form.period", "gt", 3, period=three_days)
    assert holds("form.period", "gte", 3, period=three_days)
    assert holds("form.period", "lt", 3.5, period=three_days)
    assert holds("form.period", "lte", 3, period=three_days)
    assert holds("form.period", "between", [1, 3], period=three_days)
    assert holds("form.period", "eq", 1, period=["2026-11-22", "2026-11-22"])
    assert holds("form.period", "ne", 1, period=three_days)


# ---- text and choices ------------------------------------------------------------------


def test_text_compares_whole_values_or_substrings() -> None:
    assert holds("form.title", "eq", "Laptop", title="Laptop")
    assert not holds("form.title", "eq", "laptop", title="Laptop")
    assert holds("form.title", "contains", "apt", title="Laptop")
    assert holds("form.note", "not_contains", "urgent", note="whenever")
    assert holds("form.title", "in", ["Laptop", "Phone"], title="Phone")
    assert holds("form.title", "not_in", ["Laptop", "Phone"], title="Desk")


def test_a_single_choice_compares_option_values() -> None:
    assert holds("form.leave_type", "eq", "sick", leave_type="sick")
    assert holds("form.leave_type", "ne", "sick", leave_type="annual")
    assert holds("form.urgency", "in", ["high"], urgency="high")
    assert holds("form.leave_type", "not_in", ["sick", "personal"], leave_type="annual")


def test_a_list_of_choices_holds_values() -> None:
    assert holds("form.tags", "contains", "b", tags=["a", "b"])
    assert holds("form.tags", "not_contains", "c", tags=["a", "b"])
    assert holds("form.boxes", "any_of", ["y", "x"], boxes=["x"])
    assert holds("form.boxes", "none_of", ["y"], boxes=["x"])
    assert not holds("form.boxes", "none_of", ["x", "y"], boxes=["x"])
    assert holds("form.tags", "eq", ["b", "a"], tags=["a", "b"])
    assert holds("form.tags", "ne", ["a"], tags=["a", "b"])


# ---- people and departments ------------------------------------------------------------


def test_user_and_department_fields_compare_ids() -> None:
    assert holds("form.reviewer", "eq", "u-bob", reviewer="u-bob")
    assert holds("form.reviewer", "in", ["u-bob", "u-cy"], reviewer="u-cy")
    assert holds("form.dept", "not_in", ["d-eng"], dept="d-sales")
    assert holds("form.reviewers", "contains", "u-bob", reviewers=["u-ann", "u-bob"])
    assert holds("form.depts", "any_of", ["d-x", "d-1"], depts=["d-1"])
    assert holds("form.depts", "none_of", ["d-x"], depts=["d-1"])


def test_the_applicant_is_in_a_department_or_under_it() -> None:
    assert holds("applicant.department", "in", ["d-eng"])
    assert holds("applicant.department", "in", ["d-sales", "d-root"])
    assert not holds("applicant.department", "in", ["d-sales"])
    assert holds("applicant.department", "not_in", ["d-sales"])
    assert not holds("applicant.department", "not_in", ["d-eng"])
    assert holds("applicant.department", "eq", "d-backend")
    assert holds("applicant.department", "ne", "d-sales")


def test_applicant_roles_position_and_id() -> None:
    assert holds("applicant.roles", "contains", "engineer")
    assert holds("applicant.roles", "not_contains", "hr")
    assert holds("applicant.roles", "any_of", ["hr", "staff"])
    assert holds("applicant.roles", "none_of", ["hr", "vp"])
    assert holds("applicant.position", "eq", "engineer")
    assert holds("applicant.position", "in", ["vp", "engineer"])
    assert holds("applicant.id", "eq", "u-ann")
    assert holds("applicant.id", "not_in", ["u-bob"])
    assert holds("applicant.position", "not_empty")


def test_an_applicant_without_position_or_roles_has_empty_facts() -> None:
    bare = facts(roles=frozenset(), position=None, department_ids=frozenset())
    assert cond({"field": "applicant.position", "op": "is_empty"}).holds(bare)
    assert cond({"field": "applicant.roles", "op": "is_empty"}).holds(bare)
    assert cond({"field": "applicant.department", "op": "not_in", "value": ["d"]}).holds(bare)
    assert not cond({"field": "applicant.department", "op": "in", "value": ["d"]}).holds(bare)
    assert not cond({"field": "applicant.position", "op": "eq", "value": "vp"}).holds(bare)


# ---- missing values --------------------------------------------------------------------

RULES_ON_AMOUNT: list[tuple[str, object]] = [
    ("eq", "1"),
    ("ne", "1"),
    ("gt", "1"),
    ("gte", "1"),
    ("lt", "1"),
    ("lte", "1"),
    ("between", ["1", "2"]),
    ("in", ["1"]),
    ("not_in", ["1"]),
    ("is_empty", None),
    ("not_empty", None),
]
RULES_ON_TAGS: list[tuple[str, object]] = [
    ("contains", "a"),
    ("not_contains", "a"),
    ("any_of", ["a"]),
    ("none_of", ["a"]),
]


@pytest.mark.parametrize(("op", "value"), RULES_ON_AMOUNT + RULES_ON_TAGS)
def test_a_rule_on_a_missing_field_holds_only_for_the_negative_operators(
    op: str, value: object
) -> None:
    field = "form.tags" if (op, value) in RULES_ON_TAGS else "form.amount"
    assert holds(field, op, value) is (op in HOLDS_WHEN_MISSING)


def test_the_operators_that_hold_for_missing_values_are_documented_ones() -> None:
    assert {str(op) for op in HOLDS_WHEN_MISSING} == {
        "is_empty",
        "ne",
        "not_in",
        "none_of",
        "not_contains",
    }


def test_a_hidden_field_counts_as_missing() -> None:
    problems: list[Problem] = []
    fields = [
        fld("kind", "radio", options=opts("a", "b")),
        fld("cost", "money", visible_when={"field": "kind", "in": ["a"]}),
    ]
    form = parse_form({"fields": fields}, "form", problems)
    assert form is not None
    rule = parse_condition({"field": "form.cost", "op": "gt", "value": 0}, PATH, form, problems)
    empty = parse_condition({"field": "form.cost", "op": "is_empty"}, PATH, form, problems)
    assert rule is not None
    assert empty is not None
    values = validate_form(form, {"kind": "b", "cost": "100"})
    hidden = Facts(values, "u", frozenset(), frozenset(), None)
    assert not rule.holds(hidden)
    assert empty.holds(hidden)
    shown = Facts(
        validate_form(form, {"kind": "a", "cost": "100"}), "u", frozenset(), frozenset(), None
    )
    assert rule.holds(shown)


def test_empty_and_not_empty_apply_to_every_type() -> None:
    pdf = {"id": "f", "name": "a.pdf", "size": 1, "content_type": "application/pdf"}
    assert holds("form.files", "not_empty", files=[pdf])
    assert holds("form.files", "is_empty")
    assert holds("form.items", "is_empty", items=[])
    assert holds("form.items", "not_empty", items=[{"price": "1"}])
    assert holds("form.title", "not_empty", title="x")
    assert not holds("form.period", "is_empty", period=["2026-01-01", "2026-01-02"])


# ---- table columns ---------------------------------------------------------------------

ROWS = [
    {"price": "50", "kind": "goods", "qty": 1, "when": "2026-01-01"},
    {"price": "150.50", "kind": "service"},
]


def test_a_column_rule_holds_when_any_row_matches() -> None:
    assert holds("form.items.price", "gt", "100", items=ROWS)
    assert not holds("form.items.price", "gt", "200", items=ROWS)
    assert holds("form.items.kind", "eq", "service", items=ROWS)
    assert holds("form.items.kind", "in", ["goods"], items=ROWS)
    assert holds("form.items.when", "lt", "2026-02-01", items=ROWS)


def test_a_column_rule_treats_a_missing_cell_as_missing() -> None:
    assert holds("form.items.qty", "is_empty", items=ROWS)
    assert holds("form.items.qty", "not_empty", items=ROWS)
    assert not holds("form.items.qty", "gt", 5, items=ROWS)


def test_a_column_rule_on_an_empty_table_follows_the_missing_value_rule() -> None:
    assert not holds("form.items.price", "gt", "0")
    assert holds("form.items.price", "is_empty")
    assert holds("form.items.kind", "ne", "goods")


# ---- groups ----------------------------------------------------------------------------


def test_all_needs_every_condition_and_any_needs_one() -> None:
    big = {"field": "form.amount", "op": "gte", "value": "5000"}
    sick = {"field": "form.leave_type", "op": "eq", "value": "sick"}
    both = cond({"all": [big, sick]})
    either = cond({"any": [big, sick]})
    assert isinstance(both, Group)
    assert both.mode == "all"
    assert len(both.conditions) == 2
    for amount, kind, expect_all, expect_any in [
        ("6000", "sick", True, True),
        ("6000", "annual", False, True),
        ("10", "sick", False, True),
        ("10", "annual", False, False),
    ]:
        f = facts({"amount": amount, "leave_type": kind})
        assert both.holds(f) is expect_all
        assert either.holds(f) is expect_any


def test_groups_nest() -> None:
    nested = cond(
        {
            "any": [
                {"field": "applicant.roles", "op": "contains", "value": "vp"},
                {
                    "all": [
                        {"field": "form.amount", "op": "lt", "value": 100},
                        {"any": [{"field": "form.title", "op": "contains", "value": "pen"}]},
                    ]
                },
            ]
        }
    )
    assert nested.holds(facts({"amount": "99", "title": "pencil"}))
    assert not nested.holds(facts({"amount": "100", "title": "pencil"}))


def nest(depth: int) -> dict[str, object]:
    data: dict[str, object] = {"field": "form.amount", "op": "gt", "value": 1}
    for _ in range(depth):
        data = {"all": [data]}
    return data


def test_groups_nest_at_most_eight_deep() -> None:
    assert MAX_DEPTH == 8
    cond(nest(8))
    assert problems_of(nest(9)) == [("".join([".all[0]"] * 8), "depth")]


# ---- round trip ------------------------------------------------------------------------


def test_a_condition_round_trips_exactly_as_given() -> None:
    data: dict[str, Any] = {
        "all": [
            {"field": "form.amount", "op": "gte", "value": "5000"},
            {"field": "form.days", "op": "between", "value": [1, 2.5]},
            {"field": "applicant.department", "op": "in", "value": ["d-eng"]},
        ]
    }
    original = copy.deepcopy(data)
    found = cond(data)
    data["all"].append({"field": "form.title", "op": "is_empty"})
    assert condition_to_json(found) == original
    out = condition_to_json(found)
    out["x"] = 1
    assert condition_to_json(found) == original


# ---- template problems -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("amount > 5", [("", "type")]),
        ([], [("", "type")]),
        ({}, [(".field", "required"), (".op", "required")]),
        ({"field": 1, "op": 2}, [(".field", "type"), (".op", "type")]),
        ({"field": "form.nope", "op": "eq", "value": 1}, [(".field", "unknown_field")]),
        ({"field": "amount", "op": "eq", "value": 1}, [(".field", "unknown_field")]),
        ({"field": "form.items.nope", "op": "eq", "value": 1}, [(".field", "unknown_field")]),
        ({"field": "form.title.x", "op": "eq", "value": "x"}, [(".field", "unknown_field")]),
        ({"field": "applicant.name", "op": "eq", "value": "x"}, [(".field", "unknown_field")]),
        ({"field": "form.amount", "op": "approx", "value": 1}, [(".op", "op")]),
        ({"field": "form.amount", "op": "eq", "value": 1, "x": 2}, [(".x", "unknown_key")]),
        ({"all": [], "label": "x"}, [(".label", "unknown_key"), (".all", "empty")]),
        ({"all": [], "any": []}, [(".any", "unknown_key"), (".all", "empty")]),
        ({"any": {"field": "form.amount"}}, [(".any", "type")]),
        ({"any": [1]}, [(".any[0]", "type")]),
    ],
)
def test_malformed_conditions_are_refused_with_their_path(
    data: object, expected: list[tuple[str, str]]
) -> None:
    assert problems_of(data) == expected


@pytest.mark.parametrize(
    ("field", "op"),
    [
        ("form.title", "gt"),
        ("form.title", "any_of"),
        ("form.leave_type", "contains"),
        ("form.leave_type", "between"),
        ("form.tags", "in"),
        ("form.tags", "gt"),
        ("form.reviewer", "contains"),
        ("form.reviewers", "in"),
        ("form.files", "eq"),
        ("form.items", "contains"),
        ("form.amount", "contains"),
        ("form.start", "any_of"),
        ("form.period", "contains"),
        ("applicant.roles", "in"),
        ("applicant.department", "gt"),
        ("applicant.position", "gte"),
        ("applicant.id", "contains"),
    ],
)
def test_an_operator_must_fit_the_subjects_type(field: str, op: str) -> None:
    assert problems_of({"field": field, "op": op, "value": "x"}) == [(".op", "op")]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"field": "form.days", "op": "gt", "value": "3"}, [(".value", "type")]),
        ({"field": "form.days", "op": "gt", "value": True}, [(".value", "type")]),
        ({"field": "form.days", "op": "gt", "value": float("nan")}, [(".value", "type")]),
        ({"field": "form.amount", "op": "gte", "value": "5,000"}, [(".value", "type")]),
        ({"field": "form.amount", "op": "gte", "value": "NaN"}, [(".value", "type")]),
        ({"field": "form.amount", "op": "gte"}, [(".value", "required")]),
        ({"field": "form.start", "op": "gt", "value": "22/11/2026"}, [(".value", "type")]),
        ({"field": "form.period", "op": "gt", "value": "3"}, [(".value", "type")]),
        ({"field": "form.title", "op": "eq", "value": 3}, [(".value", "type")]),
        ({"field": "form.leave_type", "op": "eq", "value": "vacation"}, [(".value", "option")]),
        (
            {"field": "form.leave_type", "op": "in", "value": ["sick", "x", 1]},
            [(".value[1]", "option"), (".value[2]", "type")],
        ),
        ({"field": "form.tags", "op": "contains", "value": "z"}, [(".value", "option")]),
        ({"field": "form.tags", "op": "any_of", "value": []}, [(".value", "type")]),
        ({"field": "form.tags", "op": "eq", "value": "a"}, [(".value", "type")]),
        ({"field": "form.items.kind", "op": "eq", "value": "x"}, [(".value", "option")]),
        ({"field": "form.items.price", "op": "gt", "value": "x"}, [(".value", "type")]),
        ({"field": "form.amount", "op": "between", "value": ["1"]}, [(".value", "type")]),
        ({"field": "form.amount", "op": "between", "value": ["5", "1"]}, [(".value", "order")]),
        ({"field": "form.amount", "op": "in", "value": "1"}, [(".value", "type")]),
        ({"field": "form.amount", "op": "is_empty", "value": "1"}, [(".value", "type")]),
        ({"field": "applicant.department", "op": "in", "value": [""]}, [(".value[0]", "type")]),
        ({"field": "applicant.roles", "op": "contains", "value": 1}, [(".value", "type")]),
    ],
)
def test_a_value_must_have_the_subjects_type(
    rule: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    assert problems_of(rule) == expected


def test_every_problem_is_reported_with_its_full_path() -> None:
    data = {
        "all": [
            {"field": "form.amount", "op": "gte", "value": "5000"},
            {"field": "form.nope", "op": "eq", "value": 1},
            {"any": [{"field": "form.days", "op": "gt", "value": "3"}]},
        ]
    }
    problems: list[Problem] = []
    assert parse_condition(data, PATH, FORM, problems) is None
    assert [(p.path, p.rule) for p in problems] == [
        ("flow.nodes[1].routes[0].when.all[1].field", "unknown_field"),
        ("flow.nodes[1].routes[0].when.all[2].any[0].value", "type"),
    ]
    assert str(problems[1]).startswith("flow.nodes[1].routes[0].when.all[2].any[0].value: type")


def test_parse_condition_appends_to_the_callers_problems() -> None:
    problems = [Problem("form.fields[0]", "type", "earlier")]
    rule = {"field": "form.amount", "op": "gt", "value": 1}
    assert parse_condition(rule, PATH, FORM, problems) is not None
    assert len(problems) == 1


# ---- properties ------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["2026-11-22", "12.5", "a", "sick", "u-1"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
EVERY_RULE = [
    {"field": "form.amount", "op": "gt", "value": "1"},
    {"field": "form.days", "op": "between", "value": [1, 2]},
    {"field": "form.start", "op": "lte", "value": "2026-01-01"},
    {"field": "form.period", "op": "gt", "value": 2},
    {"field": "form.title", "op": "contains", "value": "a"},
    {"field": "form.leave_type", "op": "in", "value": ["sick"]},
    {"field": "form.tags", "op": "any_of", "value": ["a"]},
    {"field": "form.tags", "op": "eq", "value": ["a"]},
    {"field": "form.reviewers", "op": "none_of", "value": ["u-1"]},
    {"field": "form.items.price", "op": "gte", "value": 1},
    {"field": "form.items.kind", "op": "ne", "value": "goods"},
    {"field": "form.files", "op": "not_empty"},
]


@settings(max_examples=300, deadline=None)
@given(
    values=st.dictionaries(
        st.sampled_from([r["field"].split(".")[1] for r in EVERY_RULE]), json_values
    )
)
def test_holds_never_raises_even_on_unvalidated_values(values: dict[str, object]) -> None:
    f = Facts(values, "u", frozenset({"d"}), frozenset({"r"}), None)
    for data in EVERY_RULE:
        assert cond(data).holds(f) in (True, False)


@settings(max_examples=300, deadline=None)
@given(data=json_values)
def test_parse_condition_never_raises_on_arbitrary_json(data: object) -> None:
    parse_condition(data, PATH, FORM, [])
    parse_condition({"field": "form.amount", "op": "between", "value": data}, PATH, FORM, [])
    parse_condition({"any": [data]}, PATH, FORM, [])
