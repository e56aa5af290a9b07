"""Form schemas: parsing the template's form, validating and normalising values, approvers'
edits, and what each person may see."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signoff.domain.errors import FieldNotWritable, FormInvalid, Problem
from signoff.domain.forms import (
    ID_PATTERN,
    Access,
    FieldType,
    FormSchema,
    form_to_json,
    merge_edits,
    parse_form,
    redact,
    validate_form,
    visible,
)

# ---- helpers ---------------------------------------------------------------------------


def fld(field_id: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"id": field_id, "type": type_, "label": field_id.title(), **extra}


def opts(*values: str) -> list[dict[str, str]]:
    return [{"value": v, "label": v.upper()} for v in values]


def schema(*fields: dict[str, Any]) -> FormSchema:
    problems: list[Problem] = []
    parsed = parse_form({"fields": list(fields)}, "form", problems)
    assert problems == []
    assert parsed is not None
    return parsed


def template_problems(data: object) -> list[tuple[str, str]]:
    problems: list[Problem] = []
    parsed = parse_form(data, "form", problems)
    assert parsed is None
    assert problems
    return [(p.path, p.rule) for p in problems]


def field_problems(*fields: dict[str, Any]) -> list[tuple[str, str]]:
    return template_problems({"fields": list(fields)})


def invalid(form: FormSchema, values: object, *, partial: bool = False) -> list[tuple[str, str]]:
    with pytest.raises(FormInvalid) as caught:
        validate_form(form, values, partial=partial)
    return [(p.path, p.rule) for p in caught.value.problems]


LEAVE = schema(
    fld("leave_type", "radio", required=True, options=opts("annual", "sick", "personal")),
    fld("period", "date_range", required=True, max_days=30),
    fld("days", "number", required=True, min=0.5, max=30, precision=1),
    fld("reason", "textarea", max_length=500),
    fld("certificate", "attachment", visible_when={"field": "leave_type", "in": ["sick"]}),
    fld("cost", "money", min="0"),
)
ITEMS = schema(
    fld("title", "text"),
    fld(
        "items",
        "table",
        min_rows=1,
        max_rows=3,
        columns=[
            fld("name", "text", required=True),
            fld("kind", "select", options=opts("goods", "service")),
            fld("amount", "money", min="0.01"),
            fld("unit", "text", visible_when={"field": "kind", "in": ["goods"]}),
        ],
    ),
)

# ---- parsing the form ------------------------------------------------------------------


def test_a_form_round_trips_exactly_as_given() -> None:
    data = {
        "fields": [
            fld("a", "text", pattern="[a-z]+", ui={"width": 2}, default="abc"),
            fld("b", "money", currency="USD", scale=2, min="0", max=100),
            fld("c", "select", options=[{"value": "x", "label": "X"}], description="pick"),
        ],
        "ui": {"layout": "two-columns"},
    }
    given_data = copy.deepcopy(data)
    form = parse_form(data, "form", [])
    assert form is not None
    out = form_to_json(form)
    assert out == given_data
    out["fields"].append({"x": 1})
    data["fields"].append({"y": 2})
    assert form_to_json(form) == given_data


def test_the_id_pattern_accepts_identifiers_only() -> None:
    assert ID_PATTERN.fullmatch("leave_type_2")
    assert ID_PATTERN.fullmatch("_x")
    for bad in ("2x", "a-b", "a.b", "", "a" * 65, "中文"):
        assert not ID_PATTERN.fullmatch(bad)


def test_a_form_must_be_an_object_with_a_list_of_fields() -> None:
    assert template_problems([]) == [("form", "type")]
    assert template_problems({}) == [("form.fields", "required")]
    assert template_problems({"fields": {}}) == [("form.fields", "type")]
    assert template_problems({"fields": [], "layout": 1}) == [("form.layout", "unknown_key")]
    assert template_problems({"fields": [], "ui": []}) == [("form.ui", "type")]


def test_an_empty_form_is_allowed() -> None:
    form = schema()
    assert validate_form(form, {}) == {}


def test_a_field_needs_id_type_and_label() -> None:
    assert field_problems("text") == [("form.fields[0]", "type")]
    assert field_problems({}) == [
        ("form.fields[0].id", "required"),
        ("form.fields[0].type", "required"),
        ("form.fields[0].label", "required"),
    ]
    assert field_problems({"id": 1, "type": "text", "label": None}) == [
        ("form.fields[0].id", "type"),
        ("form.fields[0].label", "required"),
    ]


@pytest.mark.parametrize("bad_id", ["2days", "a-b", "a b", "x" * 65])
def test_field_ids_must_match_the_id_pattern(bad_id: str) -> None:
    assert field_problems(fld(bad_id, "text")) == [("form.fields[0].id", "format")]


def test_field_ids_are_unique_in_their_scope() -> None:
    assert field_problems(fld("a", "text"), fld("b", "text"), fld("a", "number")) == [
        ("form.fields[2].id", "duplicate")
    ]
    columns = [fld("a", "text"), fld("a", "text")]
    assert field_problems(fld("t", "table", columns=columns)) == [
        ("form.fields[0].columns[1].id", "duplicate")
    ]


def test_a_column_may_share_an_id_with_a_top_level_field() -> None:
    form = schema(fld("name", "text"), fld("t", "table", columns=[fld("name", "text")]))
    assert form.paths() == ["name", "t", "t.name"]


def test_unknown_field_types_are_refused() -> None:
    assert field_problems(fld("a", "colour")) == [("form.fields[0].type", "unknown_type")]


def test_keys_that_do_not_belong_to_the_type_are_refused() -> None:
    assert field_problems(fld("a", "number", pattern="x", colour=1)) == [
        ("form.fields[0].pattern", "unknown_key"),
        ("form.fields[0].colour", "unknown_key"),
    ]


def test_a_ui_object_is_allowed_on_every_field() -> None:
    for type_ in FieldType:
        extra: dict[str, Any] = {"ui": {"anything": [1, 2]}}
        if type_ in ("select", "radio", "multi_select", "checkbox"):
            extra["options"] = opts("a")
        if type_ == "table":
            extra["columns"] = [fld("c", "text")]
        schema(fld("f", type_, **extra))
    assert field_problems(fld("a", "text", ui="wide")) == [("form.fields[0].ui", "type")]


@pytest.mark.parametrize(
    ("field", "path", "rule"),
    [
        (fld("a", "text", required="yes"), "required", "type"),
        (fld("a", "text", description=3), "description", "type"),
        (fld("a", "text", placeholder=[]), "placeholder", "type"),
        (fld("a", "text", max_length=-1), "max_length", "min"),
        (fld("a", "text", max_length=1.5), "max_length", "type"),
        (fld("a", "text", min_length=True), "min_length", "type"),
        (fld("a", "text", pattern="("), "pattern", "pattern"),
        (fld("a", "text", pattern=1), "pattern", "type"),
        (fld("a", "number", min="1"), "min", "type"),
        (fld("a", "number", max=math.inf), "max", "type"),
        (fld("a", "number", precision=21), "precision", "max"),
        (fld("a", "money", min="1,000"), "min", "type"),
        (fld("a", "money", max=True), "max", "type"),
        (fld("a", "money", currency="rmb"), "currency", "format"),
        (fld("a", "money", scale=-1), "scale", "min"),
        (fld("a", "date", min="2026-13-01"), "min", "type"),
        (fld("a", "date_range", max_days=0), "max_days", "min"),
        (fld("a", "multi_select", options=opts("x"), max_items="2"), "max_items", "type"),
        (fld("a", "user", multiple="no"), "multiple", "type"),
        (fld("a", "attachment", max_size=0), "max_size", "min"),
        (fld("a", "table", columns=[fld("c", "text")], max_rows=0), "max_rows", "min"),
    ],
)
def test_constraint_keys_must_have_the_right_type(
    field: dict[str, Any], path: str, rule: str
) -> None:
    assert field_problems(field) == [(f"form.fields[0].{path}", rule)]


@pytest.mark.parametrize(
    ("field", "key"),
    [
        (fld("a", "text", min_length=5, max_length=4), "min_length"),
        (fld("a", "text", min_length=201), "min_length"),
        (fld("a", "number", min=5, max=4.5), "min"),
        (fld("a", "money", min="10.00", max="9.99"), "min"),
        (fld("a", "date", min="2026-02-01", max="2026-01-31"), "min"),
        (fld("a", "date_range", min="2026-02-01", max="2026-01-31"), "min"),
        (fld("a", "checkbox", options=opts("x"), min_items=2, max_items=1), "min_items"),
        (fld("a", "table", columns=[fld("c", "text")], min_rows=3, max_rows=2), "min_rows"),
    ],
)
def test_a_minimum_above_its_maximum_is_refused(field: dict[str, Any], key: str) -> None:
    assert field_problems(field) == [(f"form.fields[0].{key}", "order")]


def test_choice_fields_need_non_empty_options_with_unique_values() -> None:
    assert field_problems(fld("a", "select")) == [("form.fields[0].options", "required")]
    assert field_problems(fld("a", "radio", options=[])) == [("form.fields[0].options", "empty")]
    assert field_problems(fld("a", "checkbox", options="x")) == [("form.fields[0].options", "type")]
    options = [*opts("a", "b"), {"value": "b", "label": "again"}, "c", {"value": ""}]
    assert field_problems(fld("a", "multi_select", options=options)) == [
        ("form.fields[0].options[2].value", "duplicate"),
        ("form.fields[0].options[3]", "type"),
        ("form.fields[0].options[4].value", "empty"),
    ]
    options = [{"value": "a", "label": 1, "colour": "red"}, {"label": "b"}]
    assert field_problems(fld("a", "select", options=options)) == [
        ("form.fields[0].options[0].colour", "unknown_key"),
        ("form.fields[0].options[0].label", "type"),
        ("form.fields[0].options[1].value", "required"),
    ]


def test_an_option_without_a_label_shows_its_value() -> None:
    form = schema(fld("a", "select", options=[{"value": "x"}]))
    field = form.get("a")
    assert field is not None
    assert field.options[0].label == "x"


def test_a_table_needs_columns_and_cannot_hold_a_table() -> None:
    assert field_problems(fld("t", "table")) == [("form.fields[0].columns", "required")]
    assert field_problems(fld("t", "table", columns=[])) == [("form.fields[0].columns", "empty")]
    inner = fld("inner", "table", columns=[fld("c", "text")])
    assert field_problems(fld("t", "table", columns=[inner])) == [
        ("form.fields[0].columns[0].type", "nested_table"),
    ]
    bad_column = fld("t", "table", columns=[fld("c", "number", min="x")])
    assert field_problems(bad_column) == [("form.fields[0].columns[0].min", "type")]


def test_visible_when_may_refer_to_a_choice_declared_later_in_the_scope() -> None:
    form = schema(
        fld("cert", "attachment", visible_when={"field": "kind", "in": ["sick"]}),
        fld("kind", "select", options=opts("sick", "annual")),
    )
    assert visible(form, {"kind": "sick"}) == {"kind", "cert"}
    assert visible(form, {"kind": "annual"}) == {"kind"}


def test_visible_when_must_name_a_choice_field_of_the_same_scope_and_its_options() -> None:
    kind = fld("kind", "radio", options=opts("a", "b"))
    when: Any = {"field": "nope", "in": ["a"]}
    assert field_problems(kind, fld("x", "text", visible_when=when)) == [
        ("form.fields[1].visible_when.field", "unknown_field")
    ]
    when = {"field": "name", "in": ["a"]}
    assert field_problems(fld("name", "text"), fld("x", "text", visible_when=when)) == [
        ("form.fields[1].visible_when.field", "field_type")
    ]
    when = {"field": "kind", "in": ["a", "z"]}
    assert field_problems(kind, fld("x", "text", visible_when=when)) == [
        ("form.fields[1].visible_when.in[1]", "option")
    ]
    column = fld("c", "text", visible_when={"field": "kind", "in": ["a"]})
    assert field_problems(kind, fld("t", "table", columns=[column])) == [
        ("form.fields[1].columns[0].visible_when.field", "unknown_field")
    ]


def test_visible_when_must_be_well_formed() -> None:
    assert field_problems(fld("x", "text", visible_when="kind")) == [
        ("form.fields[0].visible_when", "type")
    ]
    kind = fld("kind", "radio", options=opts("a"))
    when = {"field": "kind", "in": [], "not": ["a"]}
    assert field_problems(kind, fld("x", "text", visible_when=when)) == [
        ("form.fields[1].visible_when.not", "unknown_key"),
        ("form.fields[1].visible_when.in", "empty"),
    ]
    assert field_problems(kind, fld("x", "text", visible_when={"in": [1]})) == [
        ("form.fields[1].visible_when.field", "required"),
        ("form.fields[1].visible_when.in", "type"),
    ]


def test_visibility_that_depends_on_itself_is_refused() -> None:
    a = fld("a", "radio", options=opts("x"), visible_when={"field": "b", "in": ["y"]})
    b = fld("b", "radio", options=opts("y"), visible_when={"field": "a", "in": ["x"]})
    assert field_problems(a, b) == [
        ("form.fields[0].visible_when", "cycle"),
        ("form.fields[1].visible_when", "cycle"),
    ]
    c = fld("c", "select", options=opts("x"), visible_when={"field": "c", "in": ["x"]})
    assert field_problems(c) == [("form.fields[0].visible_when", "cycle")]


@pytest.mark.parametrize(
    ("field", "path", "rule"),
    [
        (fld("a", "select", options=opts("x"), default="y"), "default", "option"),
        (fld("a", "money", default="1.234"), "default", "scale"),
        (fld("a", "text", max_length=2, default="abc"), "default", "max_length"),
        (fld("a", "number", default=True), "default", "type"),
        (fld("a", "checkbox", options=opts("x"), default=["x", "q"]), "default[1]", "option"),
        (
            fld("a", "table", columns=[fld("p", "money")], default=[{"p": "x"}]),
            "default[0].p",
            "type",
        ),
    ],
)
def test_defaults_must_be_valid_values(field: dict[str, Any], path: str, rule: str) -> None:
    assert field_problems(field) == [(f"form.fields[0].{path}", rule)]


def test_valid_defaults_and_required_table_columns_in_defaults_are_accepted() -> None:
    columns = [fld("p", "money", required=True), fld("q", "text")]
    form = schema(
        fld("a", "select", options=opts("x"), default="x"),
        fld("t", "table", columns=columns, min_rows=2, default=[{"q": "a"}]),
        fld("d", "date", default=None),
    )
    field = form.get("t")
    assert field is not None
    assert field.default == [{"q": "a"}]


def test_every_problem_of_a_form_is_reported_at_once() -> None:
    problems = field_problems(
        fld("1a", "text"),
        fld("b", "what"),
        fld("c", "select", options=[]),
        fld("d", "number", min=3, max=1),
    )
    assert problems == [
        ("form.fields[0].id", "format"),
        ("form.fields[1].type", "unknown_type"),
        ("form.fields[2].options", "empty"),
        ("form.fields[3].min", "order"),
    ]


def test_parse_form_appends_to_the_callers_problems() -> None:
    problems = [Problem("earlier", "x", "y")]
    assert parse_form({"fields": [fld("a", "colour")]}, "form", problems) is None
    assert len(problems) == 2
    assert parse_form({"fields": []}, "form", problems) is not None


def test_the_schema_finds_fields_and_columns_by_path() -> None:
    assert [f.id for f in ITEMS.fields] == ["title", "items"]
    title = ITEMS.get("title")
    assert title is not None
    assert title.type is FieldType.TEXT
    assert title.max_length == 200
    assert ITEMS.get("items.name") is None
    column = ITEMS.resolve("items.amount")
    assert column is not None
    assert column.type is FieldType.MONEY
    assert ITEMS.resolve("items") is ITEMS.get("items")
    assert ITEMS.resolve("items.nope") is None
    assert ITEMS.resolve("title.x") is None
    assert ITEMS.resolve("nope") is None
    assert ITEMS.paths() == [
        "title",
        "items",
        "items.name",
        "items.kind",
        "items.amount",
        "items.unit",
    ]


# ---- validating values -----------------------------------------------------------------

GOOD_LEAVE = {
    "leave_type": "annual",
    "period": ["2026-11-22", "2026-11-24"],
    "days": 3,
    "reason": "family",
    "cost": "1234.5",
}


def test_valid_values_come_back_normalised() -> None:
    assert validate_form(LEAVE, GOOD_LEAVE) == {**GOOD_LEAVE, "cost": "1234.50"}


def test_values_must_be_an_object() -> None:
    assert invalid(LEAVE, ["annual"]) == [("", "type")]
    assert invalid(LEAVE, None) == [("", "type")]


def test_unknown_fields_are_refused() -> None:
    assert invalid(LEAVE, {**GOOD_LEAVE, "bonus": 1}) == [("bonus", "unknown_field")]


@pytest.mark.parametrize("missing", [None, "", []])
def test_a_required_field_needs_a_value(missing: object) -> None:
    assert invalid(LEAVE, {**GOOD_LEAVE, "days": missing}) == [("days", "required")]


def test_missing_optional_fields_are_simply_absent() -> None:
    values = {**GOOD_LEAVE, "reason": "", "cost": None}
    expected = {k: v for k, v in GOOD_LEAVE.items() if k not in ("reason", "cost")}
    assert validate_form(LEAVE, values) == expected


def test_a_draft_skips_required_fields_and_minimum_rows_but_checks_the_rest() -> None:
    assert validate_form(LEAVE, {}, partial=True) == {}
    assert validate_form(ITEMS, {"items": [{"amount": "3"}]}, partial=True) == {
        "items": [{"amount": "3.00"}]
    }
    assert invalid(LEAVE, {"days": 0}, partial=True) == [("days", "min")]
    assert invalid(ITEMS, {"items": [{}, {}, {}, {}]}, partial=True) == [("items", "max_rows")]


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    values = {
        "leave_type": "holiday",
        "period": ["2026-11-24", "2026-11-22"],
        "days": True,
        "cost": "1.234",
        "extra": 1,
    }
    assert invalid(LEAVE, values) == [
        ("leave_type", "option"),
        ("period", "order"),
        ("days", "type"),
        ("cost", "scale"),
        ("extra", "unknown_field"),
    ]


def test_form_invalid_carries_a_readable_message() -> None:
    with pytest.raises(FormInvalid) as caught:
        validate_form(LEAVE, {})
    assert caught.value.code == "form_invalid"
    assert "leave_type: required" in str(caught.value)


# text and textarea


def test_text_is_checked_for_length_and_pattern() -> None:
    form = schema(
        fld("code", "text", min_length=2, max_length=4, pattern="[A-Z]+"),
        fld("free", "text"),
        fld("long", "textarea"),
    )
    assert validate_form(form, {"code": "AB", "free": "x" * 200, "long": "y" * 5000}) == {
        "code": "AB",
        "free": "x" * 200,
        "long": "y" * 5000,
    }
    assert invalid(form, {"code": "A"}) == [("code", "min_length")]
    assert invalid(form, {"code": "ABCDE"}) == [("code", "max_length")]
    assert invalid(form, {"code": "AB1"}) == [("code", "pattern")]
    assert invalid(form, {"free": "x" * 201}) == [("free", "max_length")]
    assert invalid(form, {"long": "y" * 5001}) == [("long", "max_length")]
    assert invalid(form, {"free": 5, "long": ["a"]}) == [("free", "type"), ("long", "type")]


def test_a_pattern_must_match_the_whole_value() -> None:
    form = schema(fld("code", "text", pattern="[0-9]{3}"))
    assert invalid(form, {"code": "1234"}) == [("code", "pattern")]
    assert invalid(form, {"code": "123\n"}) == [("code", "pattern")]


def test_a_huge_string_is_refused_by_length() -> None:
    form = schema(fld("code", "text", pattern="(a+)+$"))
    assert invalid(form, {"code": "a" * 1_000_000 + "b"}) == [("code", "max_length")]


# number


def test_whole_numbers_become_integers() -> None:
    form = schema(fld("n", "number"))
    result = validate_form(form, {"n": 3.0})
    assert result == {"n": 3}
    assert type(result["n"]) is int
    assert invalid(form, {"n": 1.5}) == [("n", "precision")]


def test_a_number_may_have_at_most_precision_decimal_places() -> None:
    form = schema(fld("n", "number", precision=2))
    assert validate_form(form, {"n": 1.25}) == {"n": 1.25}
    assert validate_form(form, {"n": 2}) == {"n": 2}
    assert invalid(form, {"n": 1.255}) == [("n", "precision")]


@pytest.mark.parametrize("bad", [True, False, "3", [3], {"n": 3}, math.nan, math.inf, -math.inf])
def test_a_number_must_be_a_finite_json_number(bad: object) -> None:
    assert invalid(schema(fld("n", "number")), {"n": bad}) == [("n", "type")]


def test_a_number_is_checked_against_min_and_max() -> None:
    form = schema(fld("n", "number", min=0.1, max=10, precision=1))
    assert validate_form(form, {"n": 0.1}) == {"n": 0.1}
    assert validate_form(form, {"n": 10}) == {"n": 10}
    assert invalid(form, {"n": 0}) == [("n", "min")]
    assert invalid(form, {"n": 10.1}) == [("n", "max")]
    assert invalid(form, {"n": 10**400}) == [("n", "max")]


# money


@pytest.mark.parametrize(
    ("given_value", "normal"),
    [
        ("1234.5", "1234.50"),
        ("1234", "1234.00"),
        (1234.5, "1234.50"),
        (100, "100.00"),
        ("0.1", "0.10"),
        ("1.230", "1.23"),
        ("-0", "0.00"),
        ("-12.5", "-12.50"),
        ("000012.50", "12.50"),
    ],
)
def test_money_is_normalised_to_an_exact_decimal_string(given_value: object, normal: str) -> None:
    assert validate_form(schema(fld("m", "money")), {"m": given_value}) == {"m": normal}


def test_money_keeps_exactly_scale_places() -> None:
    yen = schema(fld("m", "money", scale=0))
    assert validate_form(yen, {"m": "1200"}) == {"m": "1200"}
    assert invalid(yen, {"m": "1200.5"}) == [("m", "scale")]
    form = schema(fld("m", "money", scale=4))
    assert validate_form(form, {"m": "0.0001"}) == {"m": "0.0001"}


def test_money_refuses_more_places_than_its_scale_even_from_float_noise() -> None:
    form = schema(fld("m", "money"))
    assert invalid(form, {"m": "0.001"}) == [("m", "scale")]
    assert invalid(form, {"m": 0.1 + 0.2}) == [("m", "scale")]


@pytest.mark.parametrize(
    "bad",
    [
        *("abc", "1e3", "NaN", "Infinity", "-inf", " 1", "1,000", "1_000", "+1", ".5", "1."),
        *("１２", True, {}, math.nan, math.inf, ["1"]),
    ],
)
def test_money_must_be_a_plain_decimal(bad: object) -> None:
    assert invalid(schema(fld("m", "money")), {"m": bad}) == [("m", "type")]


def test_an_absurd_amount_is_refused() -> None:
    form = schema(fld("m", "money"))
    assert invalid(form, {"m": "1" + "0" * 40}) == [("m", "max")]
    assert invalid(form, {"m": "1" * 100}) == [("m", "type")]
    assert invalid(form, {"m": 10**50}) == [("m", "max")]


def test_money_is_compared_exactly_with_its_bounds() -> None:
    form = schema(fld("m", "money", min="0.01", max="0.30"))
    assert validate_form(form, {"m": "0.30"}) == {"m": "0.30"}
    assert validate_form(form, {"m": 0.3}) == {"m": "0.30"}
    assert invalid(form, {"m": "0.31"}) == [("m", "max")]
    assert invalid(form, {"m": "0"}) == [("m", "min")]


# dates


def test_a_date_is_an_iso_string_within_its_bounds() -> None:
    form = schema(fld("d", "date", min="2026-01-01", max="2026-12-31"))
    assert validate_form(form, {"d": "2026-02-28"}) == {"d": "2026-02-28"}
    assert invalid(form, {"d": "2025-12-31"}) == [("d", "min")]
    assert invalid(form, {"d": "2027-01-01"}) == [("d", "max")]
    for bad in ("2026-02-30", "20260228", "2026-2-28", "2026-02-28T00:00", 20260228):
        assert invalid(form, {"d": bad}) == [("d", "type")]


def test_a_date_range_is_ordered_and_within_its_bounds() -> None:
    form = schema(fld("p", "date_range", min="2026-01-01", max="2026-12-31", max_days=3))
    assert validate_form(form, {"p": ["2026-11-22", "2026-11-24"]}) == {
        "p": ["2026-11-22", "2026-11-24"]
    }
    assert validate_form(form, {"p": ["2026-11-22", "2026-11-22"]}) == {
        "p": ["2026-11-22", "2026-11-22"]
    }
    assert invalid(form, {"p": ["2026-11-24", "2026-11-22"]}) == [("p", "order")]
    assert invalid(form, {"p": ["2026-11-22", "2026-11-25"]}) == [("p", "max_days")]
    assert invalid(form, {"p": ["2025-12-31", "2026-01-01"]}) == [("p", "min")]
    assert invalid(form, {"p": ["2026-12-31", "2027-01-01"]}) == [("p", "max")]
    for bad in (["2026-11-22"], ["2026-11-22", "x"], "2026-11-22", ["a", "b", "c"]):
        assert invalid(form, {"p": bad}) == [("p", "type")]


# choices


def test_a_select_or_radio_holds_one_option_value() -> None:
    form = schema(fld("s", "select", options=opts("a", "b")), fld("r", "radio", options=opts("x")))
    assert validate_form(form, {"s": "b", "r": "x"}) == {"s": "b", "r": "x"}
    assert invalid(form, {"s": "c", "r": ["x"]}) == [("s", "option"), ("r", "type")]


def test_a_multi_select_or_checkbox_holds_distinct_option_values() -> None:
    form = schema(
        fld("m", "multi_select", options=opts("a", "b", "c"), min_items=2, max_items=2),
        fld("c", "checkbox", options=opts("x", "y")),
    )
    assert validate_form(form, {"m": ["c", "a"], "c": ["y"]}) == {"m": ["c", "a"], "c": ["y"]}
    assert invalid(form, {"m": ["a"]}) == [("m", "min_items")]
    assert invalid(form, {"m": ["a", "b", "c"]}) == [("m", "max_items")]
    assert invalid(form, {"c": ["x", "x"]}) == [("c[1]", "duplicate")]
    assert invalid(form, {"c": ["x", "z", 1]}) == [("c[1]", "option"), ("c[2]", "type")]
    assert invalid(form, {"c": "x"}) == [("c", "type")]


# people, departments, files


def test_user_and_department_fields_hold_ids() -> None:
    form = schema(
        fld("reviewer", "user"),
        fld("team", "user", multiple=True),
        fld("dept", "department"),
        fld("depts", "department", multiple=True),
    )
    values = {"reviewer": "u-ann", "team": ["u-a", "u-b"], "dept": "d-eng", "depts": ["d-1"]}
    assert validate_form(form, values) == values
    assert invalid(form, {"reviewer": ["u-ann"], "dept": 7}) == [
        ("reviewer", "type"),
        ("dept", "type"),
    ]
    assert invalid(form, {"team": "u-a", "depts": ["d-1", "d-1", ""]}) == [
        ("team", "type"),
        ("depts[1]", "duplicate"),
        ("depts[2]", "type"),
    ]


def test_attachments_are_file_references() -> None:
    form = schema(fld("files", "attachment", max_items=2, max_size=100))
    pdf = {"id": "f1", "name": "a.pdf", "size": 100, "content_type": "application/pdf"}
    assert validate_form(form, {"files": [pdf]}) == {"files": [pdf]}
    png = {**pdf, "id": "f2", "size": 101}
    assert invalid(form, {"files": [pdf, png]}) == [("files[1].size", "max_size")]
    assert invalid(form, {"files": [pdf, pdf]}) == [("files[1].id", "duplicate")]
    assert invalid(form, {"files": [pdf, pdf, pdf]}) == [("files", "max_items")]
    broken = [
        {k: v for k, v in pdf.items() if k != "size"},
        {**pdf, "size": -1},
        {**pdf, "size": True},
        {**pdf, "url": "http://x"},
        {**pdf, "id": 3},
        "f1",
    ]
    form = schema(fld("files", "attachment"))
    assert invalid(form, {"files": broken}) == [(f"files[{i}]", "type") for i in range(6)]


# tables


def test_table_rows_are_validated_and_normalised_like_the_form() -> None:
    values = {
        "items": [
            {"name": "pen", "kind": "goods", "amount": "2.5", "unit": "box"},
            {"name": "repair", "kind": "service", "amount": 100, "unit": "hour"},
        ]
    }
    assert validate_form(ITEMS, values) == {
        "items": [
            {"name": "pen", "kind": "goods", "amount": "2.50", "unit": "box"},
            {"name": "repair", "kind": "service", "amount": "100.00"},
        ]
    }


def test_table_problems_name_the_row_and_column() -> None:
    values = {
        "items": [
            {"name": "ok"},
            {"name": "pen", "amount": "0"},
            "row",
            {"amount": "1", "colour": "red"},
        ]
    }
    assert invalid(ITEMS, values) == [
        ("items", "max_rows"),
    ]
    assert invalid(ITEMS, {"items": values["items"][1:]}) == [
        ("items[0].amount", "min"),
        ("items[1]", "type"),
        ("items[2].name", "required"),
        ("items[2].colour", "unknown_field"),
    ]
    assert invalid(ITEMS, {"items": {"name": "x"}}) == [("items", "type")]


def test_a_table_needs_at_least_min_rows_unless_it_is_empty_and_optional() -> None:
    form = schema(fld("t", "table", columns=[fld("c", "text")], min_rows=2))
    assert invalid(form, {"t": [{"c": "a"}]}) == [("t", "min_rows")]
    assert validate_form(form, {"t": []}) == {}
    assert validate_form(form, {"t": [{}, {}]}) == {"t": [{}, {}]}


# visibility


def test_a_hidden_field_is_dropped_and_never_required() -> None:
    form = schema(
        fld("kind", "radio", options=opts("sick", "annual")),
        fld("cert", "text", required=True, visible_when={"field": "kind", "in": ["sick"]}),
    )
    assert validate_form(form, {"kind": "annual", "cert": 12}) == {"kind": "annual"}
    assert validate_form(form, {}) == {}
    assert invalid(form, {"kind": "sick"}) == [("cert", "required")]
    assert validate_form(form, {"kind": "sick", "cert": "ok"}) == {"kind": "sick", "cert": "ok"}


def test_a_field_controlled_by_a_hidden_field_is_hidden_too() -> None:
    form = schema(
        fld("a", "radio", options=opts("on", "off")),
        fld("b", "select", options=opts("on"), visible_when={"field": "a", "in": ["on"]}),
        fld("c", "text", visible_when={"field": "b", "in": ["on"]}),
    )
    assert visible(form, {"a": "on", "b": "on"}) == {"a", "b", "c"}
    assert visible(form, {"a": "off", "b": "on"}) == {"a"}
    assert validate_form(form, {"a": "off", "b": "on", "c": "x"}) == {"a": "off"}


def test_a_checkbox_shows_a_field_when_any_checked_value_is_listed() -> None:
    form = schema(
        fld("needs", "checkbox", options=opts("car", "hotel", "meal")),
        fld("hotel_name", "text", visible_when={"field": "needs", "in": ["hotel", "car"]}),
    )
    assert "hotel_name" in visible(form, {"needs": ["meal", "hotel"]})
    assert "hotel_name" not in visible(form, {"needs": ["meal"]})
    assert "hotel_name" not in visible(form, {"needs": "hotel"})


def test_a_column_is_shown_per_row() -> None:
    values = {"items": [{"name": "a", "kind": "service", "unit": "u"}, {"name": "b"}]}
    assert validate_form(ITEMS, values) == {
        "items": [{"name": "a", "kind": "service"}, {"name": "b"}]
    }


def test_visible_tolerates_values_of_any_shape() -> None:
    assert visible(LEAVE, {"leave_type": ["sick", 1]}) == visible(LEAVE, {})
    assert "certificate" not in visible(LEAVE, {"leave_type": {"x": 1}})


# ---- approvers' edits ------------------------------------------------------------------

CURRENT = validate_form(LEAVE, GOOD_LEAVE)


def test_a_writable_field_may_be_edited() -> None:
    values, changed = merge_edits(LEAVE, CURRENT, {"days": 2.5}, {"days": Access.WRITE})
    assert values == {**CURRENT, "days": 2.5}
    assert changed == ["days"]


def test_a_field_without_write_access_may_not_be_edited() -> None:
    for access in ({}, {"days": Access.READ}, {"days": Access.HIDDEN}, {"reason": Access.WRITE}):
        with pytest.raises(FieldNotWritable) as caught:
            merge_edits(LEAVE, CURRENT, {"days": 2, "reason": "x"}, access)
        assert caught.value.details["field"] == "days"
    with pytest.raises(FieldNotWritable) as caught:
        merge_edits(LEAVE, CURRENT, {"days": 2, "reason": "x"}, {})
    assert caught.value.details["fields"] == ["days", "reason"]
    assert caught.value.code == "field_not_writable"


def test_sending_back_unchanged_values_needs_no_write_access() -> None:
    edits = {**GOOD_LEAVE, "days": 3.0, "reason": "better reason"}
    values, changed = merge_edits(LEAVE, CURRENT, edits, {"reason": "write"})
    assert changed == ["reason"]
    assert values == {**CURRENT, "reason": "better reason"}


def test_edits_are_validated_like_a_submission() -> None:
    access = {"days": Access.WRITE, "cost": Access.WRITE}
    with pytest.raises(FormInvalid) as caught:
        merge_edits(LEAVE, CURRENT, {"days": 99, "cost": None}, access)
    assert [(p.path, p.rule) for p in caught.value.problems] == [("days", "max")]
    with pytest.raises(FormInvalid):
        merge_edits(LEAVE, CURRENT, ["days"], access)
    with pytest.raises(FormInvalid) as caught:
        merge_edits(LEAVE, CURRENT, {"nope": 1}, access)
    assert [(p.path, p.rule) for p in caught.value.problems] == [("nope", "unknown_field")]


def test_clearing_a_writable_field_reports_it_as_changed() -> None:
    values, changed = merge_edits(LEAVE, CURRENT, {"cost": ""}, {"cost": Access.WRITE})
    assert "cost" not in values
    assert changed == ["cost"]


def test_an_edit_that_hides_a_field_drops_its_value() -> None:
    current = validate_form(LEAVE, {**GOOD_LEAVE, "leave_type": "sick", "certificate": []})
    pdf = {"id": "f", "name": "n", "size": 1, "content_type": "x"}
    current = {**current, "certificate": [pdf]}
    edits = {"leave_type": "annual", "certificate": [pdf]}
    values, changed = merge_edits(LEAVE, current, edits, {"leave_type": Access.WRITE})
    assert "certificate" not in values
    assert changed == ["certificate", "leave_type"]


TABLE_CURRENT = validate_form(
    ITEMS,
    {
        "items": [
            {"name": "pen", "kind": "goods", "amount": "2.50", "unit": "box"},
            {"name": "repair", "kind": "service", "amount": "100"},
        ]
    },
)


def rows_with(index: int, **changes: object) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = copy.deepcopy(TABLE_CURRENT["items"])
    rows[index].update(changes)
    return rows


def test_a_writable_table_may_change_in_every_way() -> None:
    rows = [*rows_with(0, name="pencil"), {"name": "new", "amount": "1"}]
    values, changed = merge_edits(ITEMS, TABLE_CURRENT, {"items": rows}, {"items": "write"})
    assert changed == ["items"]
    assert values["items"][2] == {"name": "new", "amount": "1.00"}


def test_a_writable_column_may_change_in_existing_rows() -> None:
    access = {"items.amount": Access.WRITE}
    rows = rows_with(1, amount=120)
    values, changed = merge_edits(ITEMS, TABLE_CURRENT, {"items": rows}, access)
    assert changed == ["items"]
    assert values["items"][1]["amount"] == "120.00"


def test_a_read_only_column_may_not_change() -> None:
    access = {"items.amount": Access.WRITE}
    with pytest.raises(FieldNotWritable) as caught:
        merge_edits(ITEMS, TABLE_CURRENT, {"items": rows_with(0, name="x", amount=3)}, access)
    assert caught.value.details["fields"] == ["items.name"]
    removed = {k: v for k, v in rows_with(0)[0].items() if k != "unit"}
    with pytest.raises(FieldNotWritable) as caught:
        merge_edits(ITEMS, TABLE_CURRENT, {"items": [removed, rows_with(1)[1]]}, access)
    assert caught.value.details["fields"] == ["items.unit"]


def test_rows_may_not_be_added_or_removed_with_column_access_only() -> None:
    access = {"items.amount": Access.WRITE, "items.name": Access.WRITE}
    for rows in (rows_with(0)[:1], [*rows_with(0), {"name": "x"}], None, ["x", "y"]):
        with pytest.raises(FieldNotWritable) as caught:
            merge_edits(ITEMS, TABLE_CURRENT, {"items": rows}, access)
        assert caught.value.details["field"] == "items"


def test_an_unchanged_table_may_be_sent_back_without_access() -> None:
    rows = rows_with(1, amount=100)
    assert merge_edits(ITEMS, TABLE_CURRENT, {"items": rows}, {}) == (TABLE_CURRENT, [])


def test_an_invalid_cell_in_a_writable_column_is_a_form_problem() -> None:
    access = {"items.amount": Access.WRITE}
    with pytest.raises(FormInvalid) as caught:
        merge_edits(ITEMS, TABLE_CURRENT, {"items": rows_with(0, amount="-1")}, access)
    assert [(p.path, p.rule) for p in caught.value.problems] == [("items[0].amount", "min")]


# ---- what each person sees -------------------------------------------------------------


def test_redact_removes_hidden_fields_and_columns() -> None:
    values = {**CURRENT, **TABLE_CURRENT}
    form = schema(*LEAVE.raw["fields"], *ITEMS.raw["fields"])
    access = {"cost": Access.HIDDEN, "items.amount": "hidden", "days": Access.WRITE}
    seen = redact(form, values, access)
    assert "cost" not in seen
    assert seen["days"] == 3
    assert seen["items"] == [
        {"name": "pen", "kind": "goods", "unit": "box"},
        {"name": "repair", "kind": "service"},
    ]
    assert redact(form, values, {}) == values
    assert redact(form, values, {"items": Access.HIDDEN, "items.name": Access.READ}).keys() == (
        values.keys() - {"items"}
    )


def test_redact_returns_a_copy() -> None:
    seen = redact(ITEMS, TABLE_CURRENT, {})
    seen["items"][0]["name"] = "changed"
    assert TABLE_CURRENT["items"][0]["name"] == "pen"


# ---- properties ------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["2026-11-22", "1234.5", "annual", "sick", "goods", "u-1", ""]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
EVERYTHING = schema(
    fld("text", "text", pattern="[a-z]*", max_length=10),
    fld("area", "textarea", min_length=1),
    fld("num", "number", min=-5, max=1e6),
    fld("dec", "number", precision=2),
    fld("money", "money", max="100000"),
    fld("day", "date", min="2000-01-01"),
    fld("period", "date_range", max_days=400),
    fld("kind", "radio", options=opts("annual", "sick")),
    fld(
        "pick",
        "select",
        options=opts("goods", "service"),
        visible_when={"field": "kind", "in": ["sick"]},
    ),
    fld("tags", "multi_select", options=opts("annual", "sick", "goods"), max_items=3),
    fld("boxes", "checkbox", options=opts("annual", "sick")),
    fld("who", "user"),
    fld("whom", "user", multiple=True),
    fld("dept", "department"),
    fld("files", "attachment"),
    fld(
        "rows",
        "table",
        max_rows=5,
        columns=[
            fld("kind", "select", options=opts("goods", "service")),
            fld("amount", "money", required=True),
            fld("day", "date"),
        ],
    ),
)
FIELD_VALUES = {
    "text": st.text(alphabet="abcz", max_size=12),
    "area": st.text(max_size=5),
    "num": st.integers(-10, 10) | st.floats(-10, 10),
    "dec": st.decimals(-100, 100, places=2).map(float),
    "money": st.decimals(-1000, 1000, places=2).map(str) | st.integers(-10, 10**6),
    "day": st.dates().map(str),
    "period": st.lists(st.dates().map(str), min_size=2, max_size=2),
    "kind": st.sampled_from(["annual", "sick", "other"]),
    "pick": st.sampled_from(["goods", "service"]),
    "tags": st.lists(st.sampled_from(["annual", "sick", "goods"]), max_size=3),
    "boxes": st.lists(st.sampled_from(["annual", "sick"]), unique=True),
    "who": st.sampled_from(["u-1", "u-2"]),
    "whom": st.lists(st.sampled_from(["u-1", "u-2", "u-3"]), unique=True),
    "dept": st.sampled_from(["d-1", "d-2"]),
    "files": st.lists(
        st.fixed_dictionaries(
            {
                "id": st.sampled_from(["f1", "f2"]),
                "name": st.text(max_size=5),
                "size": st.integers(0, 10),
                "content_type": st.just("text/plain"),
            }
        ),
        max_size=2,
    ),
    "rows": st.lists(
        st.fixed_dictionaries(
            {"amount": st.decimals(0, 100, places=2).map(str)},
            optional={"kind": st.sampled_from(["goods", "service"]), "day": st.dates().map(str)},
        ),
        max_size=4,
    ),
}
plausible_values = st.fixed_dictionaries(
    {}, optional={k: v | json_values for k, v in FIELD_VALUES.items()}
)


@settings(max_examples=300, deadline=None)
@given(values=json_values | plausible_values, partial=st.booleans())
def test_validate_form_raises_nothing_but_form_invalid(values: object, partial: bool) -> None:
    problems: list[Problem] | None = None
    try:
        validate_form(EVERYTHING, values, partial=partial)
    except FormInvalid as error:
        problems = error.problems
    assert problems is None or (problems and all(p.rule for p in problems))


@settings(max_examples=300, deadline=None)
@given(values=st.fixed_dictionaries({}, optional=FIELD_VALUES), partial=st.booleans())
def test_validating_normalised_values_gives_them_back_unchanged(
    values: dict[str, object], partial: bool
) -> None:
    try:
        normal = validate_form(EVERYTHING, values, partial=partial)
    except FormInvalid:
        return
    assert validate_form(EVERYTHING, normal, partial=partial) == normal


@settings(max_examples=200, deadline=None)
@given(data=json_values)
def test_parse_form_raises_nothing_on_arbitrary_json(data: object) -> None:
    problems: list[Problem] = []
    parse_form({"fields": [data]}, "form", problems)
    parse_form(data, "form", problems)


@settings(max_examples=200, deadline=None)
@given(edits=json_values | plausible_values)
def test_merge_edits_raises_only_signoff_errors(edits: object) -> None:
    current = validate_form(EVERYTHING, {"money": "5", "rows": [{"amount": "1"}]})
    access = {"money": Access.WRITE, "rows.amount": Access.WRITE}
    try:
        values, changed = merge_edits(EVERYTHING, current, edits, access)
    except (FormInvalid, FieldNotWritable):
        return
    assert set(changed) <= {"money", "rows"} | set(values)
