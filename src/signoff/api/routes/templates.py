"""Templates: list and show (everyone signed in); drafts, validation and publishing
(administrators); the approval path preview for a form and applicant."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from signoff.api.deps import CallerDep, ServicesDep
from signoff.api.models import PreviewBody, TemplateSummaryOut, ValidationOut
from signoff.domain.assignees import Applicant
from signoff.domain.directory import require_principal
from signoff.domain.errors import CommandInvalid, TemplateInvalid, UnknownTemplate
from signoff.domain.forms import validate_form
from signoff.domain.preview import PreviewStep, preview
from signoff.domain.templates import parse_template

router = APIRouter(tags=["templates"])
Definition = Annotated[dict[str, Any], Body(description="a template document (docs/templates.md)")]


@router.get("/templates", response_model=list[TemplateSummaryOut], summary="Published templates")
def list_templates(who: CallerDep, svc: ServicesDep) -> list[TemplateSummaryOut]:
    with svc.uow() as uow:
        summaries = uow.templates.summaries()
    if who.app is not None:
        summaries = [s for s in summaries if s.key in who.app.templates]
    return [TemplateSummaryOut.model_validate(s, from_attributes=True) for s in summaries]


@router.get("/templates/{key}", summary="A published template (the newest, or ?version=)")
def show_template(
    key: str,
    who: CallerDep,
    svc: ServicesDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    if who.app is not None and key not in who.app.templates:
        raise UnknownTemplate(f"no published template {key!r}", key=key)
    with svc.uow() as uow:
        return uow.templates.get(key, version).raw


@router.post("/templates/validate", response_model=ValidationOut, summary="Check a template")
def validate(definition: Definition, who: CallerDep) -> ValidationOut:
    """Every problem of a template document, each with its JSON path and rule."""
    who.require_admin()
    try:
        parse_template(definition)
    except TemplateInvalid as error:
        return ValidationOut(
            valid=False,
            errors=[{"path": p.path, "rule": p.rule, "message": p.message} for p in error.problems],
        )
    return ValidationOut(valid=True, errors=[])


@router.put("/templates/{key}/draft", summary="Save a template draft")
def save_draft(
    key: str, definition: Definition, who: CallerDep, svc: ServicesDep
) -> dict[str, Any]:
    who.require_admin()
    if definition.get("key") != key:
        raise CommandInvalid(f"the document's key must be {key!r}", key=key)
    with svc.uow() as uow:
        uow.templates.save_draft(definition, who.principal_id, svc.clock.now())
        uow.commit()
    return definition


@router.get("/templates/{key}/draft", summary="A template's draft")
def get_draft(key: str, who: CallerDep, svc: ServicesDep) -> dict[str, Any]:
    who.require_admin()
    with svc.uow() as uow:
        draft = uow.templates.get_draft(key)
    if draft is None:
        raise UnknownTemplate(f"template {key!r} has no draft", key=key)
    return draft


@router.post("/templates/{key}/publish", status_code=201, summary="Publish a new version")
def publish(
    key: str,
    who: CallerDep,
    svc: ServicesDep,
    definition: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    """Publish the given document, or the saved draft, as the next version. Running
    requests keep the version they started on."""
    who.require_admin()
    with svc.uow() as uow:
        document = definition if definition is not None else uow.templates.get_draft(key)
        if document is None:
            raise UnknownTemplate(f"template {key!r} has no draft to publish", key=key)
        if document.get("key") != key:
            raise CommandInvalid(f"the document's key must be {key!r}", key=key)
        template = uow.templates.publish(document, who.principal_id, svc.clock.now())
        uow.commit()
    return template.raw


def _step(step: PreviewStep) -> dict[str, Any]:
    return {
        "node_id": step.node_id,
        "name": step.name,
        "type": step.type.value,
        "taken": step.taken,
        "mode": step.mode,
        "people": list(step.people),
        "needs_choice": step.needs_choice.value if step.needs_choice else None,
        "candidates": list(step.candidates),
        "when_empty": step.when_empty.value if step.when_empty else None,
        "cc_when": step.cc_when,
        "routes": [
            {"id": r.id, "name": r.name, "taken": r.taken, "steps": [_step(s) for s in r.steps]}
            for r in step.routes
        ],
    }


@router.post("/templates/{key}/preview", summary="Preview the approval path")
def preview_path(key: str, body: PreviewBody, who: CallerDep, svc: ServicesDep) -> dict[str, Any]:
    """Which routes a form takes and who approves each node, before submitting. The
    applicant is you (administrators may name someone else). Incomplete forms preview
    with the values given."""
    person = who.require_person()
    applicant_id = body.applicant_id or person
    if applicant_id != person:
        who.require_admin()
    with svc.uow() as uow:
        template = uow.templates.get(key)
        principal = require_principal(uow.directory, applicant_id)
        applicant = Applicant.of(principal, uow.directory)
        form = validate_form(template.form, body.form, partial=True)
        steps = preview(
            template,
            form,
            applicant,
            uow.directory,
            {k: tuple(v) for k, v in body.choices.items()},
        )
    return {"template_key": key, "version": template.version, "steps": [_step(s) for s in steps]}
