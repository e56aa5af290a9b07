"""Reading definition JSON while collecting every problem with its path.

`Obj` wraps one JSON object being read: each accessor checks a key's type,
records a `Problem` at `path.key` when it is wrong, and returns a fallback, so
that a template with ten mistakes reports ten problems at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TypeVar

from signoff.domain.errors import Problem

E = TypeVar("E")

ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class Obj:
    """One JSON object at `path`; problems go to the shared `problems` list."""

    __slots__ = ("data", "path", "problems")

    def __init__(
        self,
        data: object,
        path: str,
        problems: list[Problem],
        allowed: Sequence[str] | None = None,
    ) -> None:
        self.path = path
        self.problems = problems
        if not isinstance(data, dict):
            problems.append(Problem(path, "type", f"expected an object, got {type_name(data)}"))
            data = {}
        self.data: Mapping[str, object] = data
        if allowed is not None:
            for key in data:
                if key not in allowed:
                    problems.append(Problem(self.at(key), "unknown_key", f"unknown key {key!r}"))

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, rule: str, message: str) -> None:
        self.problems.append(Problem(self.at(key), rule, message))

    def has(self, key: str) -> bool:
        return key in self.data

    def _typed(
        self, key: str, kinds: type | tuple[type, ...], label: str, required: bool
    ) -> object:
        if key not in self.data or self.data[key] is None:
            if required:
                self.problem(key, "required", f"{key!r} is required")
            return None
        value = self.data[key]
        if isinstance(value, bool) and bool not in (
            kinds if isinstance(kinds, tuple) else (kinds,)
        ):
            self.problem(key, "type", f"expected {label}, got boolean")
            return None
        if not isinstance(value, kinds):
            self.problem(key, "type", f"expected {label}, got {type_name(value)}")
            return None
        return value

    def string(self, key: str, default: str = "", *, required: bool = False) -> str:
        value = self._typed(key, str, "a string", required)
        if required and value == "":
            self.problem(key, "required", f"{key!r} must not be empty")
        return value if isinstance(value, str) else default

    def opt_str(self, key: str) -> str | None:
        value = self._typed(key, str, "a string", False)
        return value if isinstance(value, str) else None

    def ident(self, key: str = "id") -> str:
        value = self.string(key, required=True)
        if value and not ID.fullmatch(value):
            self.problem(key, "format", f"{value!r} is not a valid id ([A-Za-z_][A-Za-z0-9_-]*)")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._typed(key, bool, "true or false", False)
        return value if isinstance(value, bool) else default

    def integer(self, key: str, default: int, *, minimum: int | None = None) -> int:
        value = self._typed(key, int, "an integer", False)
        if not isinstance(value, int):
            return default
        if minimum is not None and value < minimum:
            self.problem(key, "min", f"must be at least {minimum}")
            return default
        return value

    def number(self, key: str) -> float | None:
        value = self._typed(key, (int, float), "a number", False)
        return float(value) if isinstance(value, int | float) else None

    def array(self, key: str, *, required: bool = False) -> list[object]:
        value = self._typed(key, list, "an array", required)
        return value if isinstance(value, list) else []

    def strings(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        out: list[str] = []
        for i, item in enumerate(self.array(key, required=required)):
            if isinstance(item, str) and item:
                out.append(item)
            else:
                self.problems.append(
                    Problem(f"{self.at(key)}[{i}]", "type", "expected a non-empty string")
                )
        return tuple(out)

    def obj(self, key: str, allowed: Sequence[str] | None = None) -> Obj | None:
        if key not in self.data or self.data[key] is None:
            return None
        return Obj(self.data[key], self.at(key), self.problems, allowed)

    def choice(self, key: str, enum: type[E], default: E) -> E:
        value = self.data.get(key)
        if value is None:
            return default
        try:
            return enum(value)  # type: ignore[call-arg]  # enum lookup by value
        except ValueError:
            options = ", ".join(str(getattr(m, "value", m)) for m in enum)  # type: ignore[attr-defined]  # enums iterate
            self.problem(key, "option", f"{value!r} is not one of: {options}")
            return default
