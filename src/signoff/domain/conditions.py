"""Conditions: typed rules over form values and facts about the applicant, never code.

A condition is a rule `{"field": "form.amount", "op": "gte", "value": "5000"}` or a group
`{"all": [...]}` / `{"any": [...]}` (docs/templates.md, "Conditions"). `parse_condition` checks
one against the template's form when the template is published and compiles it: the value is
coerced once (`Decimal` for numbers and money, `date` for dates, frozensets for lists), so that
`holds` only reads the facts and compares.
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as _attr
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, Final, Literal, TypeAlias

from signoff.domain.errors import Problem
from signoff.domain.forms import Field, FieldType, FormSchema, as_date, as_decimal

MAX_DEPTH: Final = 8
"""Groups nest at most this deep."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What a condition may look at."""

    form: Mapping[str, object]  # values as returned by validate_form
    applicant_id: str
    department_ids: frozenset[str]  # the applicant's department and every department above it
    roles: frozenset[str]
    position: str | None


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    IN = "in"
    NOT_IN = "not_in"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    ANY_OF = "any_of"
    NONE_OF = "none_of"
    IS_EMPTY = "is_empty"
    NOT_EMPTY = "not_empty"


HOLDS_WHEN_MISSING: Final = frozenset({Op.IS_EMPTY, Op.NE, Op.NOT_IN, Op.NONE_OF, Op.NOT_CONTAINS})
"""The operators that hold for a missing (or hidden) value; every other one fails."""


class _Kind(Enum):
    """What a subject's value is, for choosing operators and reading values."""

    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    DAYS = "date range (its length in days)"
    CHOICE = "single choice"
    CHOICES = "list of choices"
    ID = "id"
    IDS = "list of ids"
    DEPARTMENT = "applicant.department"
    OPAQUE = "value that can only be empty or not"


_OP_NAMES: Final = frozenset(op.value for op in Op)
_EQ = frozenset({Op.EQ, Op.NE})
_ORDER = frozenset({Op.GT, Op.GTE, Op.LT, Op.LTE, Op.BETWEEN})
_MEMBER = frozenset({Op.IN, Op.NOT_IN})
_HAS = frozenset({Op.CONTAINS, Op.NOT_CONTAINS, Op.ANY_OF, Op.NONE_OF})
_EMPTY = frozenset({Op.IS_EMPTY, Op.NOT_EMPTY})
_LIST_VALUE = frozenset({Op.IN, Op.NOT_IN, Op.ANY_OF, Op.NONE_OF})
_OPS: Final[dict[_Kind, frozenset[Op]]] = {
    _Kind.TEXT: _EQ | _MEMBER | {Op.CONTAINS, Op.NOT_CONTAINS} | _EMPTY,
    _Kind.NUMBER: _EQ | _ORDER | _MEMBER | _EMPTY,
    _Kind.MONEY: _EQ | _ORDER | _MEMBER | _EMPTY,
    _Kind.DATE: _EQ | _ORDER | _MEMBER | _EMPTY,
    _Kind.DAYS: _EQ | _ORDER | _MEMBER | _EMPTY,
    _Kind.CHOICE: _EQ | _MEMBER | _EMPTY,
    _Kind.CHOICES: _EQ | _HAS | _EMPTY,
    _Kind.ID: _EQ | _MEMBER | _EMPTY,
    _Kind.IDS: _EQ | _HAS | _EMPTY,
    _Kind.DEPARTMENT: _EQ | _MEMBER | _EMPTY,
    _Kind.OPAQUE: _EMPTY,
}
_KINDS: Final[dict[FieldType, _Kind]] = {
    FieldType.TEXT: _Kind.TEXT,
    FieldType.TEXTAREA: _Kind.TEXT,
    FieldType.NUMBER: _Kind.NUMBER,
    FieldType.MONEY: _Kind.MONEY,
    FieldType.DATE: _Kind.DATE,
    FieldType.DATE_RANGE: _Kind.DAYS,
    FieldType.SELECT: _Kind.CHOICE,
    FieldType.RADIO: _Kind.CHOICE,
    FieldType.MULTI_SELECT: _Kind.CHOICES,
    FieldType.CHECKBOX: _Kind.CHOICES,
    FieldType.USER: _Kind.ID,
    FieldType.DEPARTMENT: _Kind.ID,
    FieldType.ATTACHMENT: _Kind.OPAQUE,
    FieldType.TABLE: _Kind.OPAQUE,
}
_APPLICANT: Final[dict[str, tuple[_Kind, Callable[[Facts], object]]]] = {
    "applicant.department": (_Kind.DEPARTMENT, lambda facts: facts.department_ids),
    "applicant.roles": (_Kind.IDS, lambda facts: facts.roles),
    "applicant.position": (_Kind.ID, lambda facts: facts.position),
    "applicant.id": (_Kind.ID, lambda facts: facts.applicant_id),
}


# ---- reading values from the facts: None when missing ---------------------------------------


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: object) -> Decimal | int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None if isinstance(value, str) else as_decimal(value)


def _days(value: object) -> int | None:
    if not isinstance(value, list) or len(value) != 2:
        return None
    start, end = as_date(value[0]), as_date(value[1])
    return (end - start).days + 1 if start is not None and end is not None else None


def _strings(value: object) -> frozenset[str] | None:
    if not isinstance(value, list | tuple | set | frozenset):
        return None
    return frozenset(v for v in value if isinstance(v, str)) or None


def _opaque(value: object) -> object:
    return None if value is None or (isinstance(value, str | list) and not value) else value


_READ: Final[dict[_Kind, Callable[[object], Any]]] = {
    _Kind.TEXT: _text,
    _Kind.NUMBER: _number,
    _Kind.MONEY: as_decimal,
    _Kind.DATE: as_date,
    _Kind.DAYS: _days,
    _Kind.CHOICE: _text,
    _Kind.CHOICES: _strings,
    _Kind.ID: _text,
    _Kind.IDS: _strings,
    _Kind.DEPARTMENT: _strings,
    _Kind.OPAQUE: _opaque,
}

_TESTS: Final[dict[Op, Callable[[Any, Any], bool]]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.GT: operator.gt,
    Op.GTE: operator.ge,
    Op.LT: operator.lt,
    Op.LTE: operator.le,
    Op.BETWEEN: lambda x, c: bool(c[0] <= x <= c[1]),
    Op.IN: lambda x, c: x in c,
    Op.NOT_IN: lambda x, c: x not in c,
    Op.CONTAINS: lambda x, c: c in x,
    Op.NOT_CONTAINS: lambda x, c: c not in x,
    Op.ANY_OF: lambda x, c: not x.isdisjoint(c),
    Op.NONE_OF: lambda x, c: x.isdisjoint(c),
    Op.IS_EMPTY: lambda x, c: False,
    Op.NOT_EMPTY: lambda x, c: True,
}
_DEPARTMENT_OPS: Final = {  # the applicant is in (under) the department(s)
    Op.EQ: Op.CONTAINS,
    Op.NE: Op.NOT_CONTAINS,
    Op.IN: Op.ANY_OF,
    Op.NOT_IN: Op.NONE_OF,
}


def _compile(
    op: Op, kind: _Kind, value: object, read: Callable[[Facts], object], column: str | None
) -> Callable[[Facts], bool]:
    test = _TESTS[_DEPARTMENT_OPS.get(op, op) if kind is _Kind.DEPARTMENT else op]
    convert, missing = _READ[kind], op in HOLDS_WHEN_MISSING

    def holds(facts: Facts) -> bool:
        x = convert(read(facts))
        return missing if x is None else test(x, value)

    if column is None:
        return holds

    def any_row_holds(facts: Facts) -> bool:
        rows = read(facts)
        if not isinstance(rows, list) or not rows:
            return missing
        for row in rows:
            x = convert(row.get(column)) if isinstance(row, dict) else None
            if missing if x is None else test(x, value):
                return True
        return False

    return any_row_holds


# ---- the condition types ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """`subject op value`; `value` is coerced (Decimal, date, frozenset, (low, high))."""

    field: str
    op: Op
    value: object
    raw: dict[str, object] = _attr(compare=False, repr=False)
    test: Callable[[Facts], bool] = _attr(compare=False, repr=False)

    def holds(self, facts: Facts) -> bool:
        return self.test(facts)


@dataclass(frozen=True, slots=True)
class Group:
    """`all` of the conditions hold, or `any` of them."""

    mode: Literal["all", "any"]
    conditions: tuple[Condition, ...]
    raw: dict[str, object] = _attr(compare=False, repr=False)

    def holds(self, facts: Facts) -> bool:
        if self.mode == "all":
            return all(c.holds(facts) for c in self.conditions)
        return any(c.holds(facts) for c in self.conditions)


Condition: TypeAlias = Rule | Group


def condition_to_json(c: Condition) -> dict[str, object]:
    """The condition JSON exactly as it was given to `parse_condition`."""
    return copy.deepcopy(c.raw)


# ---- parsing ------------------------------------------------------------------------------


def parse_condition(
    data: object, path: str, form: FormSchema, problems: list[Problem]
) -> Condition | None:
    """The compiled condition, or None after appending a `Problem` for each thing wrong."""
    before = len(problems)
    found = _parse(copy.deepcopy(data), path, form, problems, 1)
    return found if len(problems) == before else None


def _parse(
    data: object, path: str, form: FormSchema, problems: list[Problem], depth: int
) -> Condition | None:
    if not isinstance(data, dict):
        message = 'expected a rule {"field", "op", "value"} or a group {"all": [...]}'
        problems.append(Problem(path, "type", message))
        return None
    if "all" not in data and "any" not in data:
        return _parse_rule(data, path, form, problems)
    mode: Literal["all", "any"] = "all" if "all" in data else "any"
    problems.extend(
        Problem(f"{path}.{key}", "unknown_key", f"a group holds only {mode!r}")
        for key in data
        if key != mode
    )
    items = data[mode]
    if depth > MAX_DEPTH:
        problems.append(Problem(path, "depth", f"groups nest at most {MAX_DEPTH} deep"))
        return None
    if not isinstance(items, list) or not items:
        rule = "empty" if items == [] else "type"
        problems.append(Problem(f"{path}.{mode}", rule, "expected a non-empty list of conditions"))
        return None
    found = [
        _parse(c, f"{path}.{mode}[{i}]", form, problems, depth + 1) for i, c in enumerate(items)
    ]
    conditions = tuple(c for c in found if c is not None)
    return Group(mode, conditions, data) if len(conditions) == len(found) else None


def _subject(
    name: str, form: FormSchema
) -> tuple[_Kind, Field | None, Callable[[Facts], object], str | None] | None:
    """The subject's kind, field, how to read it from the facts and its table column."""
    if name in _APPLICANT:
        kind, read = _APPLICANT[name]
        return kind, None, read, None
    if not name.startswith("form."):
        return None
    field_id, _, column_id = name.removeprefix("form.").partition(".")
    top = form.get(field_id)
    f = top.column(column_id) if top is not None and column_id else top
    if f is None or top is None:
        return None
    many = f.type in (FieldType.USER, FieldType.DEPARTMENT) and f.multiple
    return (
        _Kind.IDS if many else _KINDS[f.type],
        f,
        lambda facts: facts.form.get(field_id),
        column_id or None,
    )


def _parse_rule(
    data: dict[str, object], path: str, form: FormSchema, problems: list[Problem]
) -> Rule | None:
    before = len(problems)
    problems.extend(
        Problem(f"{path}.{key}", "unknown_key", "a rule holds field, op and value")
        for key in data
        if key not in ("field", "op", "value")
    )
    name, op_name = data.get("field"), data.get("op")
    for key, given in (("field", name), ("op", op_name)):
        if not isinstance(given, str):
            rule = "required" if given is None else "type"
            problems.append(Problem(f"{path}.{key}", rule, "expected a string"))
    subject = _subject(name, form) if isinstance(name, str) else None
    if isinstance(name, str) and subject is None:
        message = "expected form.<field>, form.<table>.<column> or applicant.<attribute>"
        problems.append(Problem(f"{path}.field", "unknown_field", f"{name!r}: {message}"))
    op = Op(op_name) if isinstance(op_name, str) and op_name in _OP_NAMES else None
    if isinstance(op_name, str) and op is None:
        problems.append(Problem(f"{path}.op", "op", f"unknown operator {op_name!r}"))
    if subject is None or op is None or len(problems) > before:
        return None
    kind, f, read, column = subject
    if op not in _OPS[kind]:
        fits = ", ".join(sorted(_OPS[kind]))
        problems.append(Problem(f"{path}.op", "op", f"a {kind.value} takes {fits}"))
        return None
    value = _parse_value(data, f"{path}.value", op, kind, f, problems)
    if len(problems) > before:
        return None
    return Rule(str(name), op, value, data, _compile(op, kind, value, read, column))


_ELEMENT: Final[dict[_Kind, tuple[Callable[[object], object], str]]] = {
    _Kind.TEXT: (lambda v: v if isinstance(v, str) else None, "expected a string"),
    _Kind.NUMBER: (lambda v: None if isinstance(v, str) else as_decimal(v), "expected a number"),
    _Kind.MONEY: (as_decimal, 'expected an amount: a decimal string such as "5000" or a number'),
    _Kind.DATE: (as_date, "expected a date YYYY-MM-DD"),
    _Kind.DAYS: (
        lambda v: None if isinstance(v, str) else as_decimal(v),
        "expected a number of days",
    ),
    _Kind.CHOICE: (_text, "expected an option value"),
    _Kind.CHOICES: (_text, "expected an option value"),
    _Kind.ID: (_text, "expected an id"),
    _Kind.IDS: (_text, "expected an id"),
    _Kind.DEPARTMENT: (_text, "expected a department id"),
}


def _parse_element(
    value: object, path: str, kind: _Kind, f: Field | None, problems: list[Problem]
) -> object:
    convert, message = _ELEMENT[kind]
    found = convert(value)
    if found is None:
        problems.append(Problem(path, "type", message))
    elif f is not None and f.options and found not in f.option_values:
        problems.append(Problem(path, "option", f"{value!r} is not an option of {f.id}"))
    return found


def _parse_value(
    data: dict[str, object],
    path: str,
    op: Op,
    kind: _Kind,
    f: Field | None,
    problems: list[Problem],
) -> object:
    value = data.get("value")
    if op in _EMPTY:
        if value is not None:
            problems.append(Problem(path, "type", f"{op} takes no value"))
        return None
    if value is None:
        problems.append(Problem(path, "required", f"{op} needs a value"))
        return None
    listed = op in _LIST_VALUE or (op in _EQ and kind in (_Kind.CHOICES, _Kind.IDS))
    if not listed and op is not Op.BETWEEN:
        return _parse_element(value, path, kind, f, problems)
    if not isinstance(value, list) or not value or (op is Op.BETWEEN and len(value) != 2):
        shape = "[low, high]" if op is Op.BETWEEN else "a non-empty list"
        problems.append(Problem(path, "type", f"{op} takes {shape}"))
        return None
    items = [_parse_element(v, f"{path}[{i}]", kind, f, problems) for i, v in enumerate(value)]
    if op is not Op.BETWEEN:
        return frozenset(items)
    low, high = items
    if low is not None and high is not None and low > high:  # type: ignore[operator]
        problems.append(Problem(path, "order", "the low end is above the high end"))
    return (low, high)
