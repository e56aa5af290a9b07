"""Hypothesis strategies: random valid templates over a small fixed company, and their forms.

`template_docs()` draws template JSON documents (docs/templates.md) that `parse_template`
accepts: nested flows of approver nodes in every mode, CC nodes, condition / inclusive
gateways routing on `form.amount` with exactly one default route, and parallel gateways;
approvers are named by `users` rules mostly, else by role, position, department head,
supervisors, the applicant, or chosen (by the applicant at submission, or by the approver
before);
gateways nest at most three deep and a flow has at most eight approver nodes. `templates()`
parses them. Every template has the same form (a whole `amount` and an optional `note`),
drawn by `forms()`. People and departments come from `DIRECTORY`:

    d-co    Company       head u-boss (ceo)
      d-eng   Engineering   head u-lead (director)
        d-team  Backend       heads u-tl, u-ann (the second head stands in for the first)

`u-old` has left (inactive); `u-ghost` is not in the directory at all.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hypothesis import strategies as st

from signoff.domain.directory import Department, InMemoryDirectory, Principal
from signoff.domain.templates import Template, parse_template

PEOPLE = ("u-boss", "u-lead", "u-tl", "u-ann", "u-bob", "u-cat", "u-dan", "u-eve")
STRANGERS = ("u-old", "u-ghost")  # inactive, unknown: for commands that must fail
ROLES = ("hr", "finance", "exec", "nobody")  # nobody has the role `nobody`
POSITIONS = ("ceo", "director", "manager", "engineer", "astronaut")

DIRECTORY = InMemoryDirectory.of(
    [
        Principal("u-boss", "Boss", "d-co", frozenset({"exec"}), "ceo"),
        Principal("u-lead", "Lead", "d-eng", frozenset({"finance"}), "director"),
        Principal("u-tl", "Tess", "d-team", frozenset(), "manager"),
        Principal("u-ann", "Ann", "d-team", frozenset({"hr"}), "engineer"),
        Principal("u-bob", "Bob", "d-team", frozenset({"finance"}), "engineer"),
        Principal("u-cat", "Cat", "d-eng", frozenset({"hr", "finance"}), "engineer"),
        Principal("u-dan", "Dan", "d-co", frozenset({"hr"}), "manager"),
        Principal("u-eve", "Eve", "d-team", frozenset(), None),
        Principal("u-old", "Old", "d-team", frozenset({"hr"}), "engineer", active=False),
    ],
    [
        Department("d-co", "Company", None, ("u-boss",)),
        Department("d-eng", "Engineering", "d-co", ("u-lead",)),
        Department("d-team", "Backend", "d-eng", ("u-tl", "u-ann")),
    ],
)

MAX_AMOUNT = 10_000
THRESHOLDS = (0, 100, 1_000, 5_000, MAX_AMOUNT)

FORM = {
    "fields": [
        {
            "id": "amount",
            "type": "number",
            "label": "Amount",
            "required": True,
            "min": 0,
            "max": MAX_AMOUNT,
        },
        {"id": "note", "type": "text", "label": "Note", "max_length": 20},
    ]
}

MAX_DEPTH = 3
MAX_APPROVERS = 8
RATIOS = (0.25, 0.34, 0.5, 0.6, 0.75, 1)

JSON = dict[str, Any]
T = TypeVar("T")


def amounts() -> st.SearchStrategy[int]:
    """Amounts near the thresholds the conditions test, and anywhere in range."""
    near = st.sampled_from(THRESHOLDS).flatmap(
        lambda t: st.sampled_from([max(t - 1, 0), t, min(t + 1, MAX_AMOUNT)])
    )
    return st.one_of(near, st.integers(0, MAX_AMOUNT))


def forms() -> st.SearchStrategy[JSON]:
    """Valid form values for every template drawn here."""
    return st.fixed_dictionaries(
        {"amount": amounts()}, optional={"note": st.sampled_from(["", "trip", "团建"])}
    )


@dataclass
class _Build:
    """Ids and the approver budget of one template being drawn."""

    counter: int = 0
    approvers: int = 0
    last_users: list[str] = field(default_factory=list)  # of the approver node drawn last

    def new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"


@functools.cache
def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


def _int(draw: st.DrawFn, low: int, high: int) -> int:
    """Strategies are cached: building one costs more than drawing from it."""
    return draw(_integers(low, high))


def _one(draw: st.DrawFn, options: Sequence[T]) -> T:
    return options[_int(draw, 0, len(options) - 1)]


def _yes(draw: st.DrawFn) -> bool:
    return _int(draw, 0, 1) == 1


# the first four people come up more often, so that the same person approves one node after
# another (dedup), is named twice, or already holds a task on the node
_USERS = st.lists(
    st.sampled_from((*PEOPLE[:4], *PEOPLE[:4], *PEOPLE, *STRANGERS)),
    min_size=1,
    max_size=3,
    unique=True,
)
_SOME_PEOPLE = st.lists(st.sampled_from(PEOPLE), max_size=3, unique=True)
_TWO_THRESHOLDS = st.lists(st.sampled_from(THRESHOLDS), min_size=2, max_size=2)


def _users(draw: st.DrawFn, build: _Build) -> list[str]:
    """Often the people of the approver node drawn last: one approval after another (dedup)."""
    if build.last_users and _yes(draw):
        return build.last_users
    return draw(_USERS)


_RULE_KINDS = (
    *("users",) * 6,
    "role",
    "department_head",
    "applicant",
    "position",
    "supervisors",
)


def _rule(draw: st.DrawFn, build: _Build) -> JSON:
    kind = _one(draw, _RULE_KINDS)
    if kind == "users":
        return {"type": "users", "users": _users(draw, build)}
    if kind == "role":
        return {"type": "role", "role": _one(draw, ROLES)}
    if kind == "position":
        return {"type": "position", "position": _one(draw, POSITIONS)}
    if kind == "department_head":
        return {"type": "department_head", "level": _int(draw, 1, 3)}
    if kind == "supervisors":
        if _yes(draw):
            return {"type": "supervisors", "up_to_level": _int(draw, 1, 3)}
        return {"type": "supervisors", "up_to_position": _one(draw, POSITIONS)}
    return {"type": "applicant"}


def _rules(draw: st.DrawFn, build: _Build) -> list[JSON]:
    return [_rule(draw, build) for _ in range(_int(draw, 1, 2))]


def _choice(draw: st.DrawFn) -> JSON:
    """Approvers chosen by the applicant at submission or by the approver before."""
    rule: JSON = {
        "type": _one(draw, ["previous_approver_choice", "applicant_choice"]),
        "multiple": _yes(draw),
    }
    if _yes(draw):
        rule["candidates"] = draw(_SOME_PEOPLE)[:2] or ["u-dan"]
    return rule


def _approver(draw: st.DrawFn, build: _Build) -> JSON:
    build.approvers += 1
    mode = _one(draw, ["sequential", "all", "any", "vote"])
    chosen = _int(draw, 0, 4) == 4  # a choice rule stands alone
    node: JSON = {
        "id": build.new_id("n"),
        "type": "approver",
        "mode": mode,
        "assignees": [_choice(draw)] if chosen else _rules(draw, build),
    }
    build.last_users = list(dict.fromkeys(u for r in node["assignees"] for u in r.get("users", ())))
    if _yes(draw):
        node["on_empty"] = _one(draw, ["auto_approve", "auto_reject", "admins"])
    if _yes(draw):
        node["on_applicant"] = _one(draw, ["self", "skip", "supervisor"])
    if mode == "vote":
        weighted = draw(_SOME_PEOPLE)
        node["vote"] = {
            "weights": {p: _int(draw, 1, 3) for p in weighted},
            "default_weight": _int(draw, 1, 2),
            "pass": _one(draw, RATIOS),
            "reject": _one(draw, RATIOS),
        }
    if _yes(draw):
        node["permissions"] = {_one(draw, ["amount", "amount", "note"]): "write"}
    if _yes(draw):
        node["comment_required"] = {"approve": _yes(draw), "reject": _yes(draw)}
    if _int(draw, 0, 3) == 3:
        node["timeout"] = {
            "after": {"hours": _int(draw, 1, 48)},
            "action": _one(draw, ["remind", "auto_approve", "auto_reject", "escalate"]),
            "repeat": _int(draw, 1, 3),
            "working_time": _yes(draw),
        }
    return node


def _cc(draw: st.DrawFn, build: _Build, depth: int) -> JSON:
    whens = ["reached", "finish", "start"] if depth == 0 else ["reached", "finish"]
    return {
        "id": build.new_id("cc"),
        "type": "cc",
        "recipients": _rules(draw, build),
        "when": _one(draw, whens),  # a start CC belongs in the top-level flow
    }


def _rule_on_amount(draw: st.DrawFn) -> JSON:
    op = _one(draw, ["gt", "gte", "lt", "lte", "eq", "ne", "between"])
    if op == "between":
        low, high = sorted(draw(_TWO_THRESHOLDS))
        return {"field": "form.amount", "op": op, "value": [low, high]}
    return {"field": "form.amount", "op": op, "value": _one(draw, THRESHOLDS)}


def _condition(draw: st.DrawFn) -> JSON:
    if _int(draw, 0, 3):
        return _rule_on_amount(draw)
    group = _one(draw, ["all", "any"])
    return {group: [_rule_on_amount(draw) for _ in range(_int(draw, 1, 2))]}


def _gateway(draw: st.DrawFn, build: _Build, depth: int) -> JSON:
    kind = _one(draw, ["condition", "inclusive", "parallel"])
    node_id = build.new_id("g")
    count = _int(draw, 2, 3)
    if kind == "parallel":
        branches = [
            {"id": build.new_id("b"), "nodes": _sequence(draw, build, depth + 1)}
            for _ in range(count)
        ]
        return {"id": node_id, "type": kind, "branches": branches}
    default_at = _int(draw, 0, count - 1)
    priorities = draw(st.permutations(range(1, count + 1)))  # unique, in any order
    routes: list[JSON] = []
    for i in range(count):
        route: JSON = {"id": build.new_id("r")}
        if i == default_at:
            route["default"] = True
        else:
            route["priority"] = priorities[i]
            route["when"] = _condition(draw)
        route["nodes"] = _sequence(draw, build, depth + 1)
        routes.append(route)
    return {"id": node_id, "type": kind, "routes": routes}


def _sequence(draw: st.DrawFn, build: _Build, depth: int) -> list[JSON]:
    nodes: list[JSON] = []
    for _ in range(_int(draw, 0 if depth else 1, 3)):
        kinds = ["approver", "approver", "cc"]
        if depth < MAX_DEPTH:
            kinds.append("gateway")
        kind = _one(draw, kinds)
        if kind == "approver" and build.approvers < MAX_APPROVERS:
            nodes.append(_approver(draw, build))
        elif kind == "gateway" and build.approvers < MAX_APPROVERS - 1:
            nodes.append(_gateway(draw, build, depth))
        else:
            nodes.append(_cc(draw, build, depth))
    return nodes


@st.composite
def template_docs(draw: st.DrawFn) -> JSON:
    """A valid template document (see the module docstring)."""
    build = _Build()
    admins = draw(_SOME_PEOPLE)[:2]
    return {
        "key": "random",
        "name": "Random",
        "version": 1,
        "settings": {
            "admins": admins,
            "resubmit": _one(draw, ["restart", "back_to_returner"]),
            "dedup": _one(draw, ["off", "consecutive", "any"]),
            "allow_withdraw": _one(draw, [True, True, True, False]),
            "allow_take_back": _one(draw, [True, True, True, False]),
        },
        "form": FORM,
        "flow": {"nodes": _sequence(draw, build, 0)},
    }


def templates() -> st.SearchStrategy[Template]:
    return template_docs().map(parse_template)
