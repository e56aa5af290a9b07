"""A WeCom approval's form values (apply_data) as the values of a Signoff form.

WeCom describes each control by its id and type, with a type-specific value object:

    Text, Textarea   {"text": "..."}                 Number  {"new_number": "12"}
    Money            {"new_money": "600000.00"}      Date    {"date": {"s_timestamp": "1764..."}}
    DateRange        {"date_range": {"new_begin": 1764..., "new_end": 1764...}}
    Selector         {"selector": {"options": [{"key": "option-1", "value": [{"text": "..."}]}]}}
    Contact          {"members": [{"userid": "..."}], "departments": [{"name": "..."}]}
    Table            {"children": [{"list": [<control>, ...]}, ...]}   one entry per row

The mapping names, per control id, the Signoff field (`party_b`) or table column
(`items.name`); the value is read the way the *Signoff* field's type needs it, so a WeCom
Text control can fill a Signoff number field. Options are matched by label, then by
value; people by the user mapping; departments by name. Unmapped controls, attachments
and values that cannot be read are left out: the request is mirrored with what fits (the
domain drops whatever the form still refuses) and the contract names what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from signoff.domain.forms import Field, FieldType, FormSchema

TZ = ZoneInfo("Asia/Shanghai")  # WeCom's dates are midnight in China
Resolve = Callable[[str], str | None]  # WeCom user id -> principal id


def form_values(
    contents: object,
    fields: Mapping[str, str],
    schema: FormSchema,
    resolve_user: Resolve,
    department_by_name: Mapping[str, str],
) -> dict[str, Any]:
    """The Signoff form values of apply_data.contents, as far as the mapping goes."""
    reader = _Reader(resolve_user, department_by_name)
    out: dict[str, Any] = {}
    for control in _controls(contents):
        path = fields.get(str(control.get("id", "")))
        target = schema.get(path) if path and "." not in path else None
        if target is None:
            continue
        value = _value(control)
        if target.type is FieldType.TABLE:
            rows = [_row(row, target, fields, reader) for row in _rows(value)]
            out[target.id] = [r for r in rows if r]
            continue
        found = reader.read(target, value)
        if found is not None:
            out[target.id] = found
    return out


def _controls(contents: object) -> list[dict[str, Any]]:
    return [c for c in contents if isinstance(c, dict)] if isinstance(contents, list) else []


def _value(control: dict[str, Any]) -> dict[str, Any]:
    value = control.get("value")
    return value if isinstance(value, dict) else {}


def _rows(value: dict[str, Any]) -> list[list[dict[str, Any]]]:
    children = value.get("children")
    if not isinstance(children, list):
        return []
    return [_controls(child.get("list")) for child in children if isinstance(child, dict)]


def _row(
    controls: list[dict[str, Any]], table: Field, fields: Mapping[str, str], reader: _Reader
) -> dict[str, Any]:
    columns = {c.id: c for c in table.columns}
    out: dict[str, Any] = {}
    for control in controls:
        path = fields.get(str(control.get("id", "")), "")
        owner, _, column = path.partition(".")
        if owner != table.id or column not in columns:
            continue
        found = reader.read(columns[column], _value(control))
        if found is not None:
            out[column] = found
    return out


class _Reader:
    def __init__(self, resolve_user: Resolve, department_by_name: Mapping[str, str]) -> None:
        self.resolve_user = resolve_user
        self.departments = department_by_name

    def read(self, f: Field, value: dict[str, Any]) -> Any:
        kind = f.type
        if kind in (FieldType.TEXT, FieldType.TEXTAREA):
            return _text(value)
        if kind is FieldType.NUMBER:
            return _number(value.get("new_number", _text(value)))
        if kind is FieldType.MONEY:
            amount = _decimal(value.get("new_money", _text(value)))
            return None if amount is None else format(amount, "f")
        if kind is FieldType.DATE:
            date = value.get("date")
            return _day(date.get("s_timestamp")) if isinstance(date, dict) else None
        if kind is FieldType.DATE_RANGE:
            span = value.get("date_range")
            if not isinstance(span, dict):
                return None
            start, end = _day(span.get("new_begin")), _day(span.get("new_end"))
            return [start, end] if start and end else None
        if kind in (FieldType.SELECT, FieldType.RADIO, FieldType.MULTI_SELECT, FieldType.CHECKBOX):
            return self._options(f, value)
        if kind is FieldType.USER:
            people = [self.resolve_user(str(m.get("userid", ""))) for m in _dicts(value, "members")]
            return _one_or_many(f, [p for p in people if p])
        if kind is FieldType.DEPARTMENT:
            names = [str(d.get("name", "")) for d in _dicts(value, "departments")]
            return _one_or_many(f, [self.departments[n] for n in names if n in self.departments])
        return None  # attachments: WeCom gives file ids only, nothing a person could open

    def _options(self, f: Field, value: dict[str, Any]) -> Any:
        selector = value.get("selector")
        options = selector.get("options") if isinstance(selector, dict) else None
        by_label = {o.label: o.value for o in f.options}
        chosen = []
        for option in options if isinstance(options, list) else []:
            texts = _dicts(option, "value") if isinstance(option, dict) else []
            label = str(texts[0].get("text", "")) if texts else ""
            found = by_label.get(label) or (label if label in f.option_values else None)
            if found:
                chosen.append(found)
        if f.type in (FieldType.MULTI_SELECT, FieldType.CHECKBOX):
            return chosen or None
        return chosen[0] if chosen else None


def _dicts(value: dict[str, Any], key: str) -> list[dict[str, Any]]:
    found = value.get(key)
    return [d for d in found if isinstance(d, dict)] if isinstance(found, list) else []


def _one_or_many(f: Field, ids: list[str]) -> Any:
    if not ids:
        return None
    return ids if f.multiple else ids[0]


def _text(value: dict[str, Any]) -> str | None:
    text = value.get("text")
    return text if isinstance(text, str) else None


def _decimal(raw: object) -> Decimal | None:
    try:
        amount = Decimal(str(raw).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def _number(raw: object) -> int | float | None:
    amount = _decimal(raw) if raw is not None else None
    if amount is None:
        return None
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _day(raw: object) -> str | None:
    """A WeCom time (seconds, maybe as text) as the day it is in China."""
    try:
        seconds = int(str(raw))
    except ValueError:
        return None
    if seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, UTC).astimezone(TZ).date().isoformat()
