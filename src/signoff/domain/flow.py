"""The flow tree: approver, CC and gateway nodes in nested sequences.

A flow is a sequence of nodes run from the start. Gateways (`condition`,
`inclusive`, `parallel`) hold routes, each with its own sequence; the flow
continues after a gateway once all of its taken routes have finished. Because
the tree is structured (every branch rejoins at its gateway), the position of a
node is fully described by (sequence, index), and "what comes next" is the next
index, or - at the end of a route - the gateway's own continuation.

`parse_flow` validates the JSON (see docs/templates.md) and builds `Flow`, whose
index answers in O(1): where is node X, which gateway owns route R, which nodes
come before X on every path (return targets).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from fractions import Fraction

from signoff.domain.conditions import Condition, Facts, parse_condition
from signoff.domain.errors import Problem
from signoff.domain.forms import Access, FieldType, FormSchema
from signoff.domain.parsing import Obj

ROOT = "root"  # the id of the top-level sequence


class NodeType(StrEnum):
    APPROVER = "approver"
    CC = "cc"
    CONDITION = "condition"
    INCLUSIVE = "inclusive"
    PARALLEL = "parallel"


class Mode(StrEnum):
    SEQUENTIAL = "sequential"  # 依次
    ALL = "all"  # 会签
    ANY = "any"  # 或签
    VOTE = "vote"  # 票签


class OnEmpty(StrEnum):
    AUTO_APPROVE = "auto_approve"
    AUTO_REJECT = "auto_reject"
    ADMINS = "admins"


class OnApplicant(StrEnum):
    SELF = "self"
    SKIP = "skip"
    SUPERVISOR = "supervisor"


class CcWhen(StrEnum):
    REACHED = "reached"
    START = "start"
    FINISH = "finish"


class TimeoutAction(StrEnum):
    REMIND = "remind"
    AUTO_APPROVE = "auto_approve"
    AUTO_REJECT = "auto_reject"
    ESCALATE = "escalate"


class RuleKind(StrEnum):
    USERS = "users"
    ROLE = "role"
    POSITION = "position"
    DEPARTMENT_HEAD = "department_head"
    SUPERVISORS = "supervisors"
    FORM_DEPARTMENT_HEAD = "form_department_head"
    APPLICANT_CHOICE = "applicant_choice"
    PREVIOUS_APPROVER_CHOICE = "previous_approver_choice"
    APPLICANT = "applicant"
    FORM_USER = "form_user"


CHOICE_RULES = frozenset({RuleKind.APPLICANT_CHOICE, RuleKind.PREVIOUS_APPROVER_CHOICE})


@dataclass(frozen=True, slots=True)
class AssigneeRule:
    kind: RuleKind
    users: tuple[str, ...] = ()
    role: str = ""
    position: str = ""
    level: int = 1
    up_to_level: int = 0
    up_to_position: str = ""
    field: str = ""
    multiple: bool = True
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Vote:
    weights: Mapping[str, int]
    default_weight: int
    pass_ratio: Fraction
    reject_ratio: Fraction

    def weight(self, principal_id: str) -> int:
        return self.weights.get(principal_id, self.default_weight)


@dataclass(frozen=True, slots=True)
class Timeout:
    after: timedelta
    action: TimeoutAction
    repeat: int
    working_time: bool
    days: int = 0  # the "days" part of `after`: in working time, each is one working day


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    type: NodeType
    name: str


@dataclass(frozen=True, slots=True)
class ApproverNode(Node):
    mode: Mode
    assignees: tuple[AssigneeRule, ...]
    on_empty: OnEmpty
    on_applicant: OnApplicant
    permissions: Mapping[str, Access]
    timeout: Timeout | None
    vote: Vote | None
    comment_on_approve: bool
    comment_on_reject: bool

    @property
    def chosen_by(self) -> RuleKind | None:
        """`applicant_choice` / `previous_approver_choice` when one of the rules is a choice."""
        for rule in self.assignees:
            if rule.kind in CHOICE_RULES:
                return rule.kind
        return None


@dataclass(frozen=True, slots=True)
class CcNode(Node):
    recipients: tuple[AssigneeRule, ...]
    when: CcWhen


@dataclass(frozen=True, slots=True)
class Route:
    id: str
    name: str
    priority: int
    when: Condition | None
    default: bool
    nodes: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class GatewayNode(Node):
    routes: tuple[Route, ...]  # condition routes sorted by priority; parallel branches as given


def taken_routes(node: GatewayNode, facts: Facts) -> list[Route]:
    """Routes a gateway takes: every branch of a parallel node; the first matching route
    of a condition node, every matching route of an inclusive node; else the default."""
    if node.type is NodeType.PARALLEL:
        return list(node.routes)
    matching = [r for r in node.routes if not r.default and r.when and r.when.holds(facts)]
    if node.type is NodeType.CONDITION:
        matching = matching[:1]
    return matching or [r for r in node.routes if r.default]


@dataclass(frozen=True, slots=True)
class Place:
    """Where a node sits: its sequence and its index in it."""

    seq: str
    index: int


@dataclass
class Flow:
    nodes: tuple[Node, ...]
    raw: dict[str, object]
    sequences: dict[str, tuple[Node, ...]] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # route id -> gateway node id
    by_id: dict[str, Node] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index(ROOT, self.nodes)

    def _index(self, seq: str, nodes: tuple[Node, ...]) -> None:
        self.sequences[seq] = nodes
        for i, node in enumerate(nodes):
            self.by_id[node.id] = node
            self.places[node.id] = Place(seq, i)
            if isinstance(node, GatewayNode):
                for route in node.routes:
                    self.owners[route.id] = node.id
                    self._index(route.id, route.nodes)

    def node(self, node_id: str) -> Node | None:
        return self.by_id.get(node_id)

    def approver(self, node_id: str) -> ApproverNode | None:
        node = self.by_id.get(node_id)
        return node if isinstance(node, ApproverNode) else None

    def approvers(self) -> list[ApproverNode]:
        return [n for n in self.by_id.values() if isinstance(n, ApproverNode)]

    def enclosing(self, node_id: str) -> list[str]:
        """The sequences containing the node, innermost first, up to the root."""
        seqs: list[str] = []
        seq = self.places[node_id].seq
        while True:
            seqs.append(seq)
            if seq == ROOT:
                return seqs
            seq = self.places[self.owners[seq]].seq

    def dominators(self, node_id: str) -> list[str]:
        """Nodes that every path to `node_id` passes through, nearest first.

        These are the earlier siblings in each enclosing sequence: the valid targets
        of a return from `node_id`.
        """
        out: list[str] = []
        place = self.places[node_id]
        while True:
            seq_nodes = self.sequences[place.seq]
            out.extend(n.id for n in reversed(seq_nodes[: place.index]))
            if place.seq == ROOT:
                return out
            place = self.places[self.owners[place.seq]]

    def region_after(self, node_id: str) -> list[str]:
        """Every node after `node_id` in its sequence, nested nodes included."""
        place = self.places[node_id]
        out: list[str] = []
        for node in self.sequences[place.seq][place.index + 1 :]:
            out.extend(self.subtree(node))
        return out

    def subtree(self, node: Node) -> list[str]:
        ids = [node.id]
        if isinstance(node, GatewayNode):
            for route in node.routes:
                for child in route.nodes:
                    ids.extend(self.subtree(child))
        return ids


# ---- parsing ---------------------------------------------------------------------------

_NODE_KEYS = {
    NodeType.APPROVER: (
        "id",
        "type",
        "name",
        "mode",
        "assignees",
        "on_empty",
        "on_applicant",
        "permissions",
        "timeout",
        "vote",
        "comment_required",
        "ui",
    ),
    NodeType.CC: ("id", "type", "name", "recipients", "when", "ui"),
    NodeType.CONDITION: ("id", "type", "name", "routes", "ui"),
    NodeType.INCLUSIVE: ("id", "type", "name", "routes", "ui"),
    NodeType.PARALLEL: ("id", "type", "name", "branches", "ui"),
}

_RULE_KEYS = {
    RuleKind.USERS: ("users",),
    RuleKind.ROLE: ("role",),
    RuleKind.POSITION: ("position",),
    RuleKind.DEPARTMENT_HEAD: ("level",),
    RuleKind.SUPERVISORS: ("up_to_level", "up_to_position"),
    RuleKind.FORM_DEPARTMENT_HEAD: ("field", "level"),
    RuleKind.APPLICANT_CHOICE: ("multiple", "candidates"),
    RuleKind.PREVIOUS_APPROVER_CHOICE: ("multiple", "candidates"),
    RuleKind.APPLICANT: (),
    RuleKind.FORM_USER: ("field",),
}


class _FlowParser:
    def __init__(self, form: FormSchema | None, problems: list[Problem]) -> None:
        self.form = form
        self.problems = problems
        self.seen: dict[str, str] = {}  # node and route ids -> path
        self.depth = 0  # 0: the top-level sequence

    def claim(self, ident: str, path: str) -> None:
        if not ident:
            return
        if ident == ROOT:
            self.problems.append(Problem(path, "reserved", f"{ROOT!r} is reserved"))
        elif ident in self.seen:
            self.problems.append(
                Problem(path, "duplicate", f"id {ident!r} is already used at {self.seen[ident]}")
            )
        else:
            self.seen[ident] = path

    def sequence(self, data: object, path: str) -> tuple[Node, ...]:
        if not isinstance(data, list):
            self.problems.append(Problem(path, "type", "expected an array of nodes"))
            return ()
        nodes = (self.node(item, f"{path}[{i}]") for i, item in enumerate(data))
        return tuple(n for n in nodes if n is not None)

    def node(self, data: object, path: str) -> Node | None:
        kind = data.get("type") if isinstance(data, dict) else None
        try:
            node_type = NodeType(kind) if isinstance(kind, str) else None
        except ValueError:
            node_type = None
        if node_type is None:
            Obj(data, path, self.problems)  # reports a non-object
            if isinstance(data, dict):
                self.problems.append(
                    Problem(f"{path}.type", "option", f"unknown node type {kind!r}")
                )
            return None
        obj = Obj(data, path, self.problems, _NODE_KEYS[node_type])
        node_id = obj.ident()
        self.claim(node_id, obj.at("id"))
        name = obj.string("name", node_id)
        if node_type is NodeType.APPROVER:
            return self.approver(obj, node_id, name)
        if node_type is NodeType.CC:
            when = obj.choice("when", CcWhen, CcWhen.REACHED)
            if when is CcWhen.START and self.depth:
                obj.problem("when", "placement", "a start CC belongs in the top-level flow")
            return CcNode(
                node_id,
                node_type,
                name,
                recipients=self.rules(obj, "recipients", allow_choice=False),
                when=when,
            )
        if node_type is NodeType.PARALLEL:
            return GatewayNode(node_id, node_type, name, routes=self.branches(obj))
        return GatewayNode(node_id, node_type, name, routes=self.routes(obj))

    def approver(self, obj: Obj, node_id: str, name: str) -> ApproverNode:
        mode = obj.choice("mode", Mode, Mode.SEQUENTIAL)
        rules = self.rules(obj, "assignees", allow_choice=True)
        vote = self.vote(obj) if mode is Mode.VOTE else None
        if mode is Mode.VOTE and vote is None:
            obj.problem("vote", "required", "a vote node needs its vote settings")
        elif mode is not Mode.VOTE and obj.has("vote") and obj.data["vote"] is not None:
            obj.problem("vote", "unexpected", "vote settings are only for mode 'vote'")
        comment = obj.obj("comment_required", ("approve", "reject"))
        return ApproverNode(
            node_id,
            NodeType.APPROVER,
            name,
            mode=mode,
            assignees=rules,
            on_empty=obj.choice("on_empty", OnEmpty, OnEmpty.ADMINS),
            on_applicant=obj.choice("on_applicant", OnApplicant, OnApplicant.SELF),
            permissions=self.permissions(obj),
            timeout=self.timeout(obj),
            vote=vote,
            comment_on_approve=comment.boolean("approve", False) if comment else False,
            comment_on_reject=comment.boolean("reject", True) if comment else True,
        )

    def rules(self, obj: Obj, key: str, *, allow_choice: bool) -> tuple[AssigneeRule, ...]:
        items = obj.array(key, required=True)
        if obj.has(key) and not items and isinstance(obj.data.get(key), list):
            obj.problem(key, "min_items", "at least one rule is needed")
        rules = []
        for i, item in enumerate(items):
            rule = self.rule(item, f"{obj.at(key)}[{i}]", allow_choice)
            if rule is not None:
                rules.append(rule)
        choices = [r for r in rules if r.kind in CHOICE_RULES]
        if choices and len(rules) > 1:
            obj.problem(key, "choice_alone", "a choice rule cannot be combined with other rules")
        return tuple(rules)

    def rule(self, data: object, path: str, allow_choice: bool) -> AssigneeRule | None:
        kind_value = data.get("type") if isinstance(data, dict) else None
        try:
            kind = RuleKind(kind_value) if isinstance(kind_value, str) else None
        except ValueError:
            kind = None
        if kind is None:
            Obj(data, path, self.problems)
            if isinstance(data, dict):
                self.problems.append(
                    Problem(f"{path}.type", "option", f"unknown assignee rule {kind_value!r}")
                )
            return None
        obj = Obj(data, path, self.problems, ("type", *_RULE_KEYS[kind]))
        if kind in CHOICE_RULES and not allow_choice:
            obj.problem("type", "option", f"{kind.value!r} cannot choose CC recipients")
        if kind is RuleKind.USERS:
            users = obj.strings("users", required=True)
            if not users and not any(p.path.startswith(obj.at("users")) for p in self.problems):
                obj.problem("users", "min_items", "at least one user")
            return AssigneeRule(kind, users=users)
        if kind is RuleKind.ROLE:
            return AssigneeRule(kind, role=obj.string("role", required=True))
        if kind is RuleKind.POSITION:
            return AssigneeRule(kind, position=obj.string("position", required=True))
        if kind is RuleKind.DEPARTMENT_HEAD:
            return AssigneeRule(kind, level=obj.integer("level", 1, minimum=1))
        if kind is RuleKind.SUPERVISORS:
            up_to_level = obj.integer("up_to_level", 0, minimum=1)
            up_to_position = obj.string("up_to_position")
            if bool(up_to_level) == bool(up_to_position):
                obj.problem(
                    "up_to_level", "one_of", "give exactly one of up_to_level, up_to_position"
                )
            return AssigneeRule(kind, up_to_level=up_to_level, up_to_position=up_to_position)
        if kind is RuleKind.FORM_DEPARTMENT_HEAD:
            field_id = self.form_field(obj, FieldType.DEPARTMENT)
            return AssigneeRule(kind, field=field_id, level=obj.integer("level", 1, minimum=1))
        if kind is RuleKind.FORM_USER:
            return AssigneeRule(kind, field=self.form_field(obj, FieldType.USER))
        if kind in CHOICE_RULES:
            return AssigneeRule(
                kind, multiple=obj.boolean("multiple", True), candidates=obj.strings("candidates")
            )
        return AssigneeRule(kind)

    def form_field(self, obj: Obj, expected: FieldType) -> str:
        field_id = obj.string("field", required=True)
        if field_id and self.form is not None:
            found = self.form.get(field_id)
            if found is None:
                obj.problem("field", "unknown_field", f"no top-level form field {field_id!r}")
            elif found.type is not expected:
                obj.problem("field", "type", f"field {field_id!r} is not a {expected.value} field")
        return field_id

    def permissions(self, obj: Obj) -> Mapping[str, Access]:
        perms = obj.obj("permissions")
        if perms is None:
            return {}
        out: dict[str, Access] = {}
        paths = set(self.form.paths()) if self.form is not None else None
        for key in perms.data:
            if paths is not None and key not in paths:
                perms.problem(key, "unknown_field", f"no form field {key!r}")
                continue
            out[key] = perms.choice(key, Access, Access.READ)
        return out

    def timeout(self, obj: Obj) -> Timeout | None:
        data = obj.obj("timeout", ("after", "action", "repeat", "working_time"))
        if data is None:
            return None
        after = data.obj("after", ("days", "hours", "minutes"))
        delta = timedelta()
        days = 0
        if after is None:
            data.problem("after", "required", "how long before the timeout fires")
        else:
            days = after.integer("days", 0, minimum=0)
            delta = timedelta(
                days=days,
                hours=after.integer("hours", 0, minimum=0),
                minutes=after.integer("minutes", 0, minimum=0),
            )
            if delta <= timedelta():
                data.problem("after", "min", "the duration must be positive")
        action = data.choice("action", TimeoutAction, TimeoutAction.REMIND)
        if not data.has("action"):
            data.problem("action", "required", "what happens at the timeout")
        return Timeout(
            delta,
            action,
            data.integer("repeat", 1, minimum=1),
            data.boolean("working_time", False),
            days,
        )

    def vote(self, obj: Obj) -> Vote | None:
        data = obj.obj("vote", ("weights", "default_weight", "pass", "reject"))
        if data is None:
            return None
        weights: dict[str, int] = {}
        weight_obj = data.obj("weights")
        if weight_obj is not None:
            for key in weight_obj.data:
                weights[key] = weight_obj.integer(key, 1, minimum=1)
        ratios: list[Fraction] = []
        for key in ("pass", "reject"):
            value = data.number(key)
            if value is None:
                if not data.has(key):
                    data.problem(key, "required", f"the {key} threshold (a ratio in (0, 1])")
                ratios.append(Fraction(1))
            elif not 0 < value <= 1:
                data.problem(key, "range", "must be greater than 0 and at most 1")
                ratios.append(Fraction(1))
            else:
                ratios.append(Fraction(str(value)))
        return Vote(weights, data.integer("default_weight", 1, minimum=1), ratios[0], ratios[1])

    def routes(self, obj: Obj) -> tuple[Route, ...]:
        items = obj.array("routes", required=True)
        routes: list[Route] = []
        defaults = 0
        priorities: dict[int, str] = {}
        for i, item in enumerate(items):
            path = f"{obj.at('routes')}[{i}]"
            r = Obj(
                item,
                path,
                self.problems,
                ("id", "name", "priority", "when", "default", "nodes", "ui"),
            )
            route_id = r.ident()
            self.claim(route_id, r.at("id"))
            default = r.boolean("default", False)
            defaults += default
            priority = r.integer("priority", 1_000_000 + i)
            if r.has("priority"):
                if priority in priorities:
                    r.problem("priority", "duplicate", f"priority {priority} is used twice")
                priorities[priority] = route_id
            when = None
            if default:
                if r.has("when") and r.data["when"] is not None:
                    r.problem("when", "unexpected", "the default route has no condition")
            elif not r.has("when"):
                r.problem("when", "required", "a route needs a condition (or default: true)")
            elif self.form is not None:
                when = parse_condition(r.data["when"], r.at("when"), self.form, self.problems)
            self.depth += 1
            nodes = self.sequence(r.data.get("nodes", []), r.at("nodes"))
            self.depth -= 1
            routes.append(
                Route(route_id, r.string("name", route_id), priority, when, default, nodes)
            )
        if obj.has("routes") and len(items) < 2:
            obj.problem("routes", "min_items", "a gateway needs at least two routes")
        if items and defaults != 1:
            obj.problem(
                "routes", "default", f"exactly one default route is needed, found {defaults}"
            )
        routes.sort(key=lambda route: (route.default, route.priority))
        return tuple(routes)

    def branches(self, obj: Obj) -> tuple[Route, ...]:
        items = obj.array("branches", required=True)
        if obj.has("branches") and len(items) < 2:
            obj.problem("branches", "min_items", "a parallel node needs at least two branches")
        out: list[Route] = []
        for i, item in enumerate(items):
            b = Obj(
                item, f"{obj.at('branches')}[{i}]", self.problems, ("id", "name", "nodes", "ui")
            )
            branch_id = b.ident()
            self.claim(branch_id, b.at("id"))
            self.depth += 1
            nodes = self.sequence(b.data.get("nodes", []), b.at("nodes"))
            self.depth -= 1
            out.append(Route(branch_id, b.string("name", branch_id), i, None, False, nodes))
        return tuple(out)


def parse_flow(data: object, path: str, form: FormSchema | None, problems: list[Problem]) -> Flow:
    """Validate the flow JSON; problems are appended (the Flow is only usable without them)."""
    obj = Obj(data, path, problems, ("nodes", "ui"))
    parser = _FlowParser(form, problems)
    nodes = parser.sequence(obj.data.get("nodes", []), obj.at("nodes"))
    raw = dict(obj.data)
    return Flow(nodes, raw)
