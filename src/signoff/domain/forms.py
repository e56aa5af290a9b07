"""Form schemas: the typed view of a template's `form` JSON, and the rules form values obey.

`parse_form` checks a form once, when its template is published, and compiles it (patterns,
bounds, visibility order) so that `validate_form` only walks the values. `validate_form`
reports every problem at once in a `FormInvalid` (one `Problem` per field path such as
`items[2].amount` and rule such as `min`) and returns the values normalised: exact money
strings, integers for whole numbers, hidden fields dropped. See docs/templates.md ("Form").
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as _attr
from datetime import date
from decimal import Context, Decimal
from enum import StrEnum
from typing import Any, Final, TypeVar

from signoff.domain.errors import FieldNotWritable, FormInvalid, Problem

ID_PATTERN: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
"""Field ids (use `fullmatch`)."""

MONEY_LIMIT: Final = Decimal(10) ** 30
"""Amounts must stay below this, in absolute value."""

_DECIMAL: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTEXT: Final = Context(prec=100)
_INVALID: Final = object()
_Ordered = TypeVar("_Ordered", Decimal, date)


class FieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    DATE_RANGE = "date_range"
    SELECT = "select"
    MULTI_SELECT = "multi_select"
    RADIO = "radio"
    CHECKBOX = "checkbox"
    USER = "user"
    DEPARTMENT = "department"
    ATTACHMENT = "attachment"
    TABLE = "table"


class Access(StrEnum):
    """What the people of an approver node may do with a field (the node's `permissions`)."""

    HIDDEN = "hidden"
    READ = "read"
    WRITE = "write"


CHOICE_TYPES: Final = frozenset({FieldType.SELECT, FieldType.RADIO})
MULTI_CHOICE_TYPES: Final = frozenset({FieldType.MULTI_SELECT, FieldType.CHECKBOX})
CONTROLLER_TYPES: Final = frozenset({FieldType.SELECT, FieldType.RADIO, FieldType.CHECKBOX})


def as_decimal(value: object) -> Decimal | None:
    """A finite decimal from a decimal string (`"-12.50"`) or a JSON number; else None."""
    if isinstance(value, str):
        return Decimal(value) if len(value) <= 80 and _DECIMAL.fullmatch(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    return None


def as_date(value: object) -> date | None:
    """A date from an ISO `YYYY-MM-DD` string; else None."""
    if not isinstance(value, str) or len(value) != 10 or not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def is_missing(value: object) -> bool:
    """No value: None, an empty string or an empty list."""
    return value is None or (isinstance(value, str | list) and not value)


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class VisibleWhen:
    """The field is shown only when `field` (same scope) holds one of `values`."""

    field: str
    values: frozenset[str]


@dataclass(frozen=True, slots=True)
class Field:
    """One field; the attributes that do not apply to its type keep their defaults."""

    id: str
    type: FieldType
    label: str
    required: bool = False
    raw: dict[str, object] = _attr(default_factory=dict, compare=False, repr=False)
    description: str | None = None
    placeholder: str | None = None
    visible_when: VisibleWhen | None = None
    default: object = _attr(default=None, compare=False)
    ui: dict[str, object] | None = _attr(default=None, compare=False, repr=False)
    min_length: int = 0
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    min: Decimal | None = None  # number and money bounds
    max: Decimal | None = None
    precision: int = 0
    scale: int = 2
    currency: str = "CNY"
    min_date: date | None = None  # date and date_range bounds
    max_date: date | None = None
    max_days: int | None = None
    options: tuple[Option, ...] = ()
    min_items: int = 0
    max_items: int | None = None
    multiple: bool = False
    max_size: int | None = None
    columns: tuple[Field, ...] = ()
    min_rows: int = 0
    max_rows: int = 500
    option_values: frozenset[str] = _attr(init=False, repr=False, compare=False)
    quantum: Decimal = _attr(init=False, repr=False, compare=False)
    scope: _Scope | None = _attr(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "option_values", frozenset(o.value for o in self.options))
        object.__setattr__(self, "quantum", Decimal(1).scaleb(-self.scale))
        object.__setattr__(self, "scope", _Scope(self.columns) if self.columns else None)

    def column(self, column_id: str) -> Field | None:
        return self.scope.by_id.get(column_id) if self.scope is not None else None


class _Scope:
    """Fields that share ids and visibility: the top level, or the columns of one table."""

    __slots__ = ("all_ids", "by_id", "fields", "order")

    def __init__(self, fields: tuple[Field, ...]) -> None:
        self.fields = fields
        self.by_id = {f.id: f for f in fields}
        self.all_ids = frozenset(self.by_id)
        self.order = _controllers_first(fields, self.by_id)

    def shown(self, values: Mapping[str, object]) -> frozenset[str] | set[str]:
        if self.order is None:
            return self.all_ids
        shown: set[str] = set()
        for f in self.order:
            when = f.visible_when
            if when is None or (when.field in shown and self._selects(when, values)):
                shown.add(f.id)
        return shown

    def _selects(self, when: VisibleWhen, values: Mapping[str, object]) -> bool:
        value, controller = values.get(when.field), self.by_id.get(when.field)
        if controller is not None and controller.type is FieldType.CHECKBOX:
            return isinstance(value, list) and any(
                isinstance(v, str) and v in when.values for v in value
            )
        return isinstance(value, str) and value in when.values


def _controllers_first(
    fields: tuple[Field, ...], by_id: dict[str, Field]
) -> tuple[Field, ...] | None:
    """Fields ordered so that each comes after the field its visibility depends on."""
    if all(f.visible_when is None for f in fields):
        return None
    order: dict[str, Field] = {}
    for f in fields:
        chain: dict[str, Field] = {}
        current: Field | None = f
        while current is not None and current.id not in order and current.id not in chain:
            chain[current.id] = current
            when = current.visible_when
            current = by_id.get(when.field) if when is not None else None
        order.update((item.id, item) for item in reversed(chain.values()))
    return tuple(order.values())


@dataclass(frozen=True, slots=True)
class FormSchema:
    fields: tuple[Field, ...]
    raw: dict[str, object] = _attr(default_factory=dict, compare=False, repr=False)
    scope: _Scope = _attr(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scope", _Scope(self.fields))

    def get(self, field_id: str) -> Field | None:
        """The top-level field with this id."""
        return self.scope.by_id.get(field_id)

    def resolve(self, path: str) -> Field | None:
        """A top-level field (`amount`) or a table column (`items.price`)."""
        table_id, dot, column_id = path.partition(".")
        found = self.scope.by_id.get(table_id)
        return found.column(column_id) if found is not None and dot else found

    def paths(self) -> list[str]:
        """Every field path: top-level ids and `table.column`, in declaration order."""
        return [p for f in self.fields for p in (f.id, *(f"{f.id}.{c.id}" for c in f.columns))]


# ---- validating values --------------------------------------------------------------------

_Check = Callable[[Field, object, str, list[Problem], bool], object]


def _bad(out: list[Problem], path: str, rule: str, message: str) -> object:
    out.append(Problem(path, rule, message))
    return _INVALID


def _within(
    v: _Ordered, low: _Ordered | None, high: _Ordered | None, p: str, out: list[Problem]
) -> bool:
    if low is not None and v < low:
        out.append(Problem(p, "min", f"at least {low}"))
        return False
    if high is not None and v > high:
        out.append(Problem(p, "max", f"at most {high}"))
        return False
    return True


def _check_text(f: Field, v: object, p: str, out: list[Problem], partial: bool) -> object:
    if not isinstance(v, str):
        return _bad(out, p, "type", "expected a string")
    if f.max_length is not None and len(v) > f.max_length:
        return _bad(out, p, "max_length", f"at most {f.max_length} characters")
    if len(v) < f.min_length:
        return _bad(out, p, "min_length", f"at least {f.min_length} characters")
    if f.pattern is not None and f.pattern.fullmatch(v) is None:
        return _bad(out, p, "pattern", "does not have the expected format")
    return v


def _check_number(f: Field, v: object, p: str, out: list[Problem], partial: bool) -> object:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return _bad(out, p, "type", "expected a number")
    if isinstance(v, float):
        if not math.isfinite(v):
            return _bad(out, p, "type", "expected a finite number")
        if f.precision == 0 and not v.is_integer():
            return _bad(out, p, "precision", "expected a whole number")
        exponent = Decimal(repr(v)).as_tuple().exponent
        if f.precision == 0:
            v = int(v)
        elif isinstance(exponent, int) and -exponent > f.precision:
            return _bad(out, p, "precision", f"at most {f.precision} decimal places")
    if f.min is None and f.max is None:
        return v
    d = Decimal(v) if isinstance(v, int) else Decimal(repr(v))
    return v if _within(d, f.min, f.max, p, out) else _INVALID


def _check_money(f: Field, v: object, p: str, out: list[Problem], partial: bool) -> object:
    d = as_decimal(v)
    if d is None:
        return _bad(out, p, "type", 'expected an amount such as "1234.50"')
    if abs(d) >= MONEY_LIMIT:
        return _bad(out, p, "max", "the amount is too large")
    q = d.quantize(f.quantum, context=_CONTEXT)
    if q != d:
        return _bad(out, p, "scale", f"at most {f.scale} decimal places")
    return format(q if q else abs(q), "f") if _within(q, f.min, f.max, p, out) else _INVALID


def _check_date(f: Field, v: object, p: str, out: list[Problem], partial: bool) -> object:
    d = as_date(v)
    if d is None:
        return _bad(out, p, "type", "expected a date YYYY-MM-DD")
    return v if _within(d, f.min_date, f.max_date, p, out) else _INVALID


def _check_date_range(f: Field, v: object, p: str, out: list[Problem], partial: bool) -> object:
    start, end = (
        (as_date(v[0]), as_date(v[1])) if isinstance(v, list) and len(v) == 2 else (None,) * 2
    )
    if start is None or end is None:
        return _bad(out, p, "type", "expected [start, end] dates YYYY-MM-DD")
    if start > end:
        return _bad(out, p, "order", "the start is after the end")
    if not (_within(start, f.min_date, None, p, out) and _within(end, None, f.max_date, p, out)):
        return _INVALID
    if f.max_days is not None and (end - start).days + 1 > f.max_days:
        return _bad(out, p, "max_days", f"at most {f.max_days} days")
    return [start.isoformat(), end.isoformat()]


def _check_choice(f: Field, v: object, p: str, out: list[Problem], partial: bool) -> object:
    if not isinstance(v, str):
        return _bad(out, p, "type", "expected an option value")
    return v if v in f.option_values else _bad(out, p, "option", "not one of the options")


def _check_count(f: Field, v: object, p: str, out: list[Problem], what: str) -> list[object]:
    """`v` if it is a list of an allowed length; else [] after recording the problem."""
    if not isinstance(v, list):
        out.append(Problem(p, "type", f"expected a list of {what}"))
    elif f.max_items is not None and len(v) > f.max_items:
        out.append(Problem(p, "max_items", f"at most {f.max_items} {what}"))
    elif len(v) < f.min_items:
        out.append(Problem(p, "min_items", f"at least {f.min_items} {what}"))
    else:
        return v
    return []


def _check_items(f: Field, v: object, p: str, out: list[Problem], what: str) -> object:
    """A list of distinct option values (or ids, when the field has no options)."""
    before, seen = len(out), set[str]()
    for i, item in enumerate(items := _check_count(f, v, p, out, what)):
        if not isinstance(item, str) or not 0 < len(item) <= 256:
            out.append(Problem(f"{p}[{i}]", "type", f"expected one of the {what}"))
        elif f.options and item not in f.option_values:
            out.append(Problem(f"{p}[{i}]", "option", "not one of the options"))
        elif item in seen:
            out.append(Problem(f"{p}[{i}]", "duplicate", "given twice"))
        seen.add(str(item))
    return list(items) if len(out) == before else _INVALID


def _check_choices(f: Field, v: object, p: str, out: list[Problem], partial: bool) -> object:
    return _check_items(f, v, p, out, "option values")


def _check_reference(f: Field, v: object, p: str, out: list[Problem], partial: bool) -> object:
    if f.multiple:
        return _check_items(f, v, p, out, "ids")
    if isinstance(v, str) and len(v) <= 256:
        return v
    return _bad(out, p, "type", "expected an id")


_FILE_KEYS: Final = ("id", "name", "size", "content_type")
_FILE: Final = "expected {id, name, content_type: strings, size: bytes}"


def _check_attachment(f: Field, v: object, p: str, out: list[Problem], partial: bool) -> object:
    before, files, seen = len(out), list[object](), set[object]()
    for i, item in enumerate(_check_count(f, v, p, out, "files")):
        file_id, name, size, kind = (
            (item.get(k) for k in _FILE_KEYS) if isinstance(item, dict) else [None] * 4
        )
        if (
            not isinstance(item, dict)
            or len(item) != len(_FILE_KEYS)
            or not all(isinstance(x, str) for x in (file_id, name, kind))
            or isinstance(size, bool)
            or not isinstance(size, int)
            or size < 0
        ):
            out.append(Problem(f"{p}[{i}]", "type", _FILE))
        elif file_id in seen:
            out.append(Problem(f"{p}[{i}].id", "duplicate", "the same file twice"))
        elif f.max_size is not None and size > f.max_size:
            out.append(Problem(f"{p}[{i}].size", "max_size", f"at most {f.max_size} bytes"))
        seen.add(str(file_id))
        files.append({"id": file_id, "name": name, "size": size, "content_type": kind})
    return files if len(out) == before else _INVALID


def _check_table(f: Field, v: object, p: str, out: list[Problem], partial: bool) -> object:
    if not isinstance(v, list) or f.scope is None:
        return _bad(out, p, "type", "expected a list of rows")
    if len(v) > f.max_rows:
        return _bad(out, p, "max_rows", f"at most {f.max_rows} rows")
    before = len(out)
    if not partial and len(v) < f.min_rows:
        out.append(Problem(p, "min_rows", f"at least {f.min_rows} rows"))
    rows: list[object] = []
    for i, row in enumerate(v):
        if isinstance(row, dict):
            rows.append(_validate_scope(f.scope, row, f"{p}[{i}].", out, partial))
        else:
            out.append(Problem(f"{p}[{i}]", "type", "expected an object keyed by column id"))
    return rows if len(out) == before else _INVALID


_CHECKS: Final[dict[FieldType, _Check]] = {
    **dict.fromkeys((FieldType.TEXT, FieldType.TEXTAREA), _check_text),
    FieldType.NUMBER: _check_number,
    FieldType.MONEY: _check_money,
    FieldType.DATE: _check_date,
    FieldType.DATE_RANGE: _check_date_range,
    **dict.fromkeys(CHOICE_TYPES, _check_choice),
    **dict.fromkeys(MULTI_CHOICE_TYPES, _check_choices),
    **dict.fromkeys((FieldType.USER, FieldType.DEPARTMENT), _check_reference),
    FieldType.ATTACHMENT: _check_attachment,
    FieldType.TABLE: _check_table,
}


def _validate_scope(
    scope: _Scope, values: Mapping[str, object], prefix: str, out: list[Problem], partial: bool
) -> dict[str, object]:
    shown = scope.shown(values)
    result: dict[str, object] = {}
    for f in scope.fields:
        if f.id not in shown:
            continue
        v = values.get(f.id)
        if v is None or (isinstance(v, str | list) and not v):
            if f.required and not partial:
                out.append(Problem(prefix + f.id, "required", "a value is required"))
            continue
        normal = _CHECKS[f.type](f, v, prefix + f.id, out, partial)
        if normal is not _INVALID:
            result[f.id] = normal
    if len(values) > len(result):
        out.extend(
            Problem(f"{prefix}{key}", "unknown_field", "the form has no such field")
            for key in values
            if key not in scope.by_id
        )
    return result


def validate_form(
    schema: FormSchema, values: object, *, partial: bool = False
) -> dict[str, object]:
    """The values normalised, or `FormInvalid` listing every problem (drafts: `partial=True`)."""
    if not isinstance(values, Mapping):
        raise FormInvalid([Problem("", "type", "expected an object of field values")])
    out: list[Problem] = []
    result = _validate_scope(schema.scope, values, "", out, partial)
    if out:
        raise FormInvalid(out)
    return result


def visible(schema: FormSchema, values: Mapping[str, object]) -> frozenset[str]:
    """Ids of the top-level fields shown for these values."""
    return frozenset(schema.scope.shown(values))


# ---- approvers' edits and what each person sees --------------------------------------------


def _normal(f: Field, value: object) -> object:
    """One value normalised: None when missing, `_INVALID` when it breaks a rule."""
    return None if is_missing(value) else _CHECKS[f.type](f, value, "", [], True)


def _changed_columns(table: _Scope, new: object, old: object) -> list[str] | None:
    """The columns an edit of a table changes; None if it adds, removes or breaks rows."""
    old_rows = old if isinstance(old, list) else []
    new_rows = [] if is_missing(new) else new
    if not isinstance(new_rows, list) or len(new_rows) != len(old_rows):
        return None
    changed: set[str] = set()
    for new_row, old_row in zip(new_rows, old_rows, strict=True):
        if not isinstance(new_row, dict) or not isinstance(old_row, dict):
            return None
        shown = table.shown(new_row)
        for key, value in new_row.items():
            column = table.by_id.get(key)
            if column is None or (key in shown and _normal(column, value) != old_row.get(key)):
                changed.add(str(key))
        changed.update(k for k in old_row if k not in new_row or k not in shown)
    return sorted(changed)


def merge_edits(
    schema: FormSchema,
    current: Mapping[str, object],
    edits: object,
    access: Mapping[str, Access],
) -> tuple[dict[str, object], list[str]]:
    """An approver's edits applied: the new validated values and the sorted ids that changed.

    Only values that really change need `write` access (a hidden field's value is dropped
    anyway). A table without `write` access may change its `write` columns, keeping its rows.
    Raises `FieldNotWritable` (naming every refused path) or `FormInvalid`.
    """
    if not isinstance(edits, Mapping):
        raise FormInvalid([Problem("", "type", "expected an object of field values")])
    merged = {**current, **edits}
    shown = schema.scope.shown(merged)
    refused: list[str] = []
    for key, value in edits.items():
        f = schema.scope.by_id.get(key)
        if f is None or key not in shown or access.get(key, Access.READ) == Access.WRITE:
            continue  # unknown fields are reported by validate_form, hidden ones are dropped
        if _normal(f, value) == current.get(key):
            continue
        columns = _changed_columns(f.scope, value, current.get(key)) if f.scope else None
        if columns is None:
            refused.append(key)
        else:
            paths = (f"{key}.{c}" for c in columns)
            refused.extend(p for p in paths if access.get(p, Access.READ) != Access.WRITE)
    if refused:
        message = f"these fields may not be edited here: {', '.join(refused)}"
        raise FieldNotWritable(message, field=refused[0], fields=refused)
    result = validate_form(schema, merged)
    keys = result.keys() | current.keys()
    return result, sorted(k for k in keys if result.get(k) != current.get(k))


def redact(
    schema: FormSchema, values: Mapping[str, object], access: Mapping[str, Access]
) -> dict[str, object]:
    """The values as someone with this access sees them: hidden fields and columns removed."""
    out: dict[str, object] = {}
    for f in schema.fields:
        if f.id not in values or access.get(f.id, Access.READ) == Access.HIDDEN:
            continue
        value = copy.deepcopy(values[f.id])
        hidden = {c.id for c in f.columns if access.get(f"{f.id}.{c.id}") == Access.HIDDEN}
        if hidden and isinstance(value, list):
            value = [
                {k: v for k, v in row.items() if k not in hidden} if isinstance(row, dict) else row
                for row in value
            ]
        out[f.id] = value
    return out


def form_to_json(schema: FormSchema) -> dict[str, object]:
    """The form JSON exactly as it was given to `parse_form`."""
    return copy.deepcopy(schema.raw)


# ---- parsing the form JSON ----------------------------------------------------------------

_Read = Callable[[object], object]


class _Bad(Exception):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


def _reader(convert: Callable[[object], object], message: str, rule: str = "type") -> _Read:
    def read(value: object) -> object:
        found = convert(value)
        if found is None:
            raise _Bad(rule, message)
        return found

    return read


def _integer(low: int = 0, high: int = 10**9) -> _Read:
    def read(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad("type", "expected an integer")
        if not low <= value <= high:
            raise _Bad("min" if value < low else "max", f"expected {low} to {high}")
        return value

    return read


def _regex(value: object) -> object:
    if not isinstance(value, str):
        raise _Bad("type", "expected a regular expression")
    try:
        return re.compile(value)
    except (re.error, RecursionError, OverflowError) as error:
        raise _Bad("pattern", f"not a valid regular expression: {error}") from None


def _kind(kind: type | tuple[type, ...], message: str) -> _Read:
    return _reader(lambda v: v if isinstance(v, kind) else None, message)


_STRING, _FLAG, _COUNT = _kind(str, "expected a string"), _kind(bool, "expected a bool"), _integer()
_CURRENCY: Final = _reader(
    lambda v: v if isinstance(v, str) and re.fullmatch("[A-Z]{3}", v) else None,
    "expected a currency code such as CNY",
    "format",
)
_NUMBER: Final = _reader(lambda v: None if isinstance(v, str) else as_decimal(v), "not a number")
_BOUND: Final[dict[FieldType, tuple[str, _Read]]] = {  # min/max: attribute suffix, reader
    FieldType.NUMBER: ("", _NUMBER),
    FieldType.MONEY: ("", _reader(as_decimal, 'expected a decimal string such as "5000.00"')),
    **dict.fromkeys(
        (FieldType.DATE, FieldType.DATE_RANGE), ("_date", _reader(as_date, "expected YYYY-MM-DD"))
    ),
}
_KEYS: Final[dict[str, tuple[str, _Read | None]]] = {
    # key: (the field types that take it, "*" for all; how to read it, None: read apart)
    **dict.fromkeys(("id", "type", "visible_when"), ("*", None)),
    **dict.fromkeys(("label", "description", "placeholder"), ("*", _STRING)),
    "required": ("*", _FLAG),
    "default": ("*", lambda value: value),
    "ui": ("*", _kind(dict, "expected an object")),
    **dict.fromkeys(("min_length", "max_length"), ("text textarea", _COUNT)),
    "pattern": ("text", _regex),
    **dict.fromkeys(("min", "max"), ("number money date date_range", None)),
    "precision": ("number", _integer(0, 20)),
    "scale": ("money", _integer(0, 20)),
    "currency": ("money", _CURRENCY),
    "max_days": ("date_range", _integer(1)),
    "options": ("select radio multi_select checkbox", None),
    "min_items": ("multi_select checkbox", _COUNT),
    "max_items": ("multi_select checkbox attachment", _COUNT),
    "multiple": ("user department", _FLAG),
    "max_size": ("attachment", _integer(1)),
    "columns": ("table", None),
    "min_rows": ("table", _COUNT),
    "max_rows": ("table", _integer(1)),
}
_ALLOWED: Final = {
    t: frozenset(k for k, (types, _) in _KEYS.items() if types == "*" or t in types.split())
    for t in FieldType
}
_ORDERED: Final = ("_length", "", "_date", "_items", "_rows")


def _parse_options(data: object, path: str, problems: list[Problem]) -> tuple[Option, ...]:
    if not isinstance(data, list) or not data:
        rule = "required" if data is None else "empty" if data == [] else "type"
        problems.append(Problem(path, rule, "expected a non-empty list of {value, label}"))
        return ()
    options: dict[str, Option] = {}
    for j, item in enumerate(data):
        at = f"{path}[{j}]"
        if not isinstance(item, dict):
            problems.append(Problem(at, "type", "expected {value, label}"))
            continue
        extra = [k for k in item if k not in ("value", "label")]
        problems.extend(Problem(f"{at}.{k}", "unknown_key", "expected value, label") for k in extra)
        value, label = item.get("value"), item.get("label", item.get("value"))
        if not isinstance(value, str) or not value:
            rule = "required" if value is None else "empty" if value == "" else "type"
            problems.append(Problem(f"{at}.value", rule, "expected a non-empty string"))
        elif not isinstance(label, str):
            problems.append(Problem(f"{at}.label", "type", "expected a string"))
        elif value in options:
            problems.append(Problem(f"{at}.value", "duplicate", f"{value!r} is used twice"))
        else:
            options[value] = Option(value, label)
    return tuple(options.values())


def _parse_visible_when(data: object, path: str, problems: list[Problem]) -> VisibleWhen | None:
    if not isinstance(data, dict):
        problems.append(Problem(path, "type", 'expected {"field": ..., "in": [...]}'))
        return None
    extra = [k for k in data if k not in ("field", "in")]
    problems.extend(Problem(f"{path}.{k}", "unknown_key", "expected field, in") for k in extra)
    target, values = data.get("field"), data.get("in")
    if not isinstance(target, str):
        rule = "required" if target is None else "type"
        problems.append(Problem(f"{path}.field", rule, "expected a field id"))
    if not isinstance(values, list) or not values or any(not isinstance(v, str) for v in values):
        rule = "required" if values is None else "empty" if values == [] else "type"
        problems.append(Problem(f"{path}.in", rule, "expected a non-empty list of option values"))
        return None
    return VisibleWhen(target, frozenset(values)) if isinstance(target, str) else None


def _parse_field(data: object, path: str, problems: list[Problem], in_table: bool) -> Field | None:
    if not isinstance(data, dict):
        problems.append(Problem(path, "type", "expected a field object"))
        return None
    before = len(problems)

    def fail(key: str, rule: str, message: str) -> None:
        problems.append(Problem(f"{path}.{key}", rule, message))

    for key in ("id", "type", "label"):
        if not isinstance(data.get(key), str):
            fail(key, "required" if data.get(key) is None else "type", "expected a string")
    field_id, type_name, t = data.get("id"), data.get("type"), None
    if isinstance(field_id, str) and not ID_PATTERN.fullmatch(field_id):
        fail("id", "format", "expected letters, digits and _ (not first), at most 64")
    if isinstance(type_name, str) and type_name not in _ALLOWED:
        fail("type", "unknown_type", f"expected one of {', '.join(FieldType)}")
    elif isinstance(type_name, str):
        t = FieldType(type_name)
        if t is FieldType.TABLE and in_table:
            fail("type", "nested_table", "a table cannot hold another table")
    attrs: dict[str, Any] = {"raw": data}
    suffix, bound = _BOUND.get(t, ("", None)) if t is not None else ("", None)
    for key, value in data.items():
        types, read = _KEYS.get(key, ("", None))
        if not types or (t is not None and key not in _ALLOWED[t]):
            fail(key, "unknown_key", f"a {t or 'field'} does not take {key!r}")
            continue
        read = bound if key in ("min", "max") else read
        try:
            if value is not None and read is not None:
                attrs[key + suffix if key in ("min", "max") else key] = read(value)
        except _Bad as bad:
            fail(key, bad.rule, bad.message)
    if t in (FieldType.TEXT, FieldType.TEXTAREA):
        attrs.setdefault("max_length", 200 if t is FieldType.TEXT else 5000)
    for part in _ORDERED:
        low, high = attrs.get(f"min{part}"), attrs.get(f"max{part}")
        if low is not None and high is not None and low > high:
            fail("min" + part.removesuffix("_date"), "order", f"greater than the maximum {high}")
    if t in CHOICE_TYPES or t in MULTI_CHOICE_TYPES:
        attrs["options"] = _parse_options(data.get("options"), f"{path}.options", problems)
    if data.get("visible_when") is not None:
        when = _parse_visible_when(data["visible_when"], f"{path}.visible_when", problems)
        attrs["visible_when"] = when
    if t is FieldType.TABLE and not in_table:
        at = f"{path}.columns"
        attrs["columns"] = _parse_scope(data.get("columns"), at, problems, in_table=True)
    if len(problems) > before or t is None:
        return None
    f = Field(id=str(field_id), type=t, **attrs)
    if not is_missing(f.default):
        _CHECKS[t](f, f.default, f"{path}.default", problems, True)
    return f if len(problems) == before else None


def _parse_scope(
    data: object, path: str, problems: list[Problem], *, in_table: bool
) -> tuple[Field, ...]:
    """The fields of one scope, checking their ids and the `visible_when` between them."""
    if not isinstance(data, list) or (in_table and not data):
        rule = "required" if data is None else "empty" if data == [] else "type"
        problems.append(Problem(path, rule, "expected a list of fields (a table needs one)"))
        return ()
    parsed = [_parse_field(item, f"{path}[{i}]", problems, in_table) for i, item in enumerate(data)]
    declared: dict[str, int] = {}
    for i, item in enumerate(data):
        field_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(field_id, str) and field_id in declared:
            problems.append(Problem(f"{path}[{i}].id", "duplicate", f"{field_id!r} is used twice"))
        elif isinstance(field_id, str):
            declared[field_id] = i
    fields = tuple(f for f in parsed if f is not None)
    by_id = {f.id: f for f in reversed(fields)}
    for i, f in enumerate(parsed):
        when = f.visible_when if f is not None else None
        if f is None or when is None:
            continue
        at, target = f"{path}[{i}].visible_when", by_id.get(when.field)
        if when.field not in declared:
            problems.append(Problem(f"{at}.field", "unknown_field", f"no field {when.field!r}"))
        elif target is not None and target.type not in CONTROLLER_TYPES:
            message = "expected a radio, select or checkbox field"
            problems.append(Problem(f"{at}.field", "field_type", message))
        elif target is not None:
            wanted: list[str] = f.raw["visible_when"]["in"]  # type: ignore[index]
            problems.extend(
                Problem(f"{at}.in[{k}]", "option", f"{value!r} is not an option of {target.id}")
                for k, value in enumerate(wanted)
                if value not in target.option_values
            )
            if _in_cycle(f, by_id):
                problems.append(Problem(at, "cycle", "visibility depends on itself"))
    return fields


def _in_cycle(start: Field, by_id: dict[str, Field]) -> bool:
    seen: set[str] = set()
    current: Field | None = start
    while current is not None and current.visible_when is not None and current.id not in seen:
        seen.add(current.id)
        current = by_id.get(current.visible_when.field)
    return current is start


def parse_form(data: object, path: str, problems: list[Problem]) -> FormSchema | None:
    """The typed form, or None after appending a `Problem` for everything wrong with it."""
    if not isinstance(data, dict):
        problems.append(Problem(path, "type", 'expected {"fields": [...]}'))
        return None
    before, raw = len(problems), copy.deepcopy(data)
    extra = [k for k in raw if k not in ("fields", "ui")]
    problems.extend(Problem(f"{path}.{k}", "unknown_key", "expected fields, ui") for k in extra)
    if "ui" in raw and not isinstance(raw["ui"], dict):
        problems.append(Problem(f"{path}.ui", "type", "expected an object"))
    fields = _parse_scope(raw.get("fields"), f"{path}.fields", problems, in_table=False)
    return FormSchema(fields, raw) if len(problems) == before else None
