"""The approval path before submitting: which branches are taken, who approves each node.

`preview` walks the whole flow tree with the same route selection and assignee
resolution the engine uses when it runs, without creating anything. Nodes on
routes that are not taken are listed too (`taken=False`), so a UI can draw the
whole tree. Nodes whose approvers are chosen (by the applicant, or by the
approver before) say so in `needs_choice` and list their `candidates`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from signoff.domain.assignees import Applicant, active, on_applicant, resolve
from signoff.domain.conditions import Facts
from signoff.domain.directory import Directory
from signoff.domain.errors import ChoiceRequired
from signoff.domain.flow import (
    ApproverNode,
    CcNode,
    GatewayNode,
    Node,
    NodeType,
    OnApplicant,
    OnEmpty,
    RuleKind,
    taken_routes,
)
from signoff.domain.templates import Template


@dataclass(frozen=True, slots=True)
class PreviewRoute:
    id: str
    name: str
    taken: bool
    steps: tuple[PreviewStep, ...]


@dataclass(frozen=True, slots=True)
class PreviewStep:
    node_id: str
    name: str
    type: NodeType
    taken: bool
    mode: str | None = None
    people: tuple[str, ...] = ()
    needs_choice: RuleKind | None = None
    candidates: tuple[str, ...] = ()
    when_empty: OnEmpty | None = None  # nobody resolved: what will happen
    cc_when: str | None = None
    routes: tuple[PreviewRoute, ...] = field(default=())


class _Walker:
    def __init__(
        self,
        template: Template,
        applicant: Applicant,
        form: Mapping[str, object],
        directory: Directory,
        choices: Mapping[str, tuple[str, ...]],
    ) -> None:
        self.template = template
        self.applicant = applicant
        self.form = form
        self.directory = directory
        self.choices = choices
        self.facts = Facts(
            form, applicant.id, applicant.department_ids, applicant.roles, applicant.position
        )

    def sequence(self, nodes: tuple[Node, ...], taken: bool) -> tuple[PreviewStep, ...]:
        return tuple(self.step(node, taken) for node in nodes)

    def step(self, node: Node, taken: bool) -> PreviewStep:
        if isinstance(node, GatewayNode):
            chosen = {r.id for r in taken_routes(node, self.facts)} if taken else set()
            routes = tuple(
                PreviewRoute(
                    r.id, r.name, r.id in chosen, self.sequence(r.nodes, taken and r.id in chosen)
                )
                for r in node.routes
            )
            return PreviewStep(node.id, node.name, node.type, taken, routes=routes)
        if isinstance(node, CcNode):
            return PreviewStep(
                node.id,
                node.name,
                node.type,
                taken,
                people=self.people(node.id, node.recipients) if taken else (),
                cc_when=node.when.value,
            )
        assert isinstance(node, ApproverNode)  # noqa: S101  # the three node kinds
        choice = node.chosen_by
        candidates = next((r.candidates for r in node.assignees if r.kind is choice), ())
        people: tuple[str, ...] = ()
        empty = None
        if taken:
            try:
                resolved = list(self.people(node.id, node.assignees))
            except ChoiceRequired:
                resolved = []
            resolved = on_applicant(resolved, node, self.applicant, self.directory)
            if not resolved and (choice is None or node.id in self.choices):
                empty = node.on_empty
                if empty is OnEmpty.ADMINS:
                    resolved = active(self.template.settings.admins, self.directory)
            skip = node.on_applicant is OnApplicant.SKIP
            people = tuple(p for p in resolved if not (skip and p == self.applicant.id))
        return PreviewStep(
            node.id,
            node.name,
            node.type,
            taken,
            mode=node.mode.value,
            people=people,
            needs_choice=choice if choice and node.id not in self.choices else None,
            candidates=candidates,
            when_empty=empty,
        )

    def people(self, node_id: str, rules: tuple[object, ...]) -> tuple[str, ...]:
        return tuple(
            resolve(
                rules,  # type: ignore[arg-type]  # AssigneeRule tuples from the flow
                node_id=node_id,
                applicant=self.applicant,
                form=self.form,
                choices=self.choices,
                directory=self.directory,
            )
        )


def preview(
    template: Template,
    form: Mapping[str, object],
    applicant: Applicant,
    directory: Directory,
    choices: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[PreviewStep, ...]:
    """The approval path for these (validated) form values and this applicant."""
    walker = _Walker(template, applicant, form, directory, choices or {})
    return walker.sequence(template.flow.nodes, True)


def choices_needed(
    template: Template, form: Mapping[str, object], applicant: Applicant, directory: Directory
) -> list[str]:
    """Ids of the nodes on the taken path whose approvers the applicant must choose."""
    if not any(n.chosen_by is RuleKind.APPLICANT_CHOICE for n in template.flow.approvers()):
        return []
    out: list[str] = []

    def visit(steps: tuple[PreviewStep, ...]) -> None:
        for step in steps:
            if step.taken and step.type is NodeType.APPROVER:
                node = template.flow.approver(step.node_id)
                if node is not None and node.chosen_by is RuleKind.APPLICANT_CHOICE:
                    out.append(step.node_id)
            for route in step.routes:
                visit(route.steps)

    visit(preview(template, form, applicant, directory, {}))
    return out
