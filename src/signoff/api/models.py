"""Request and response bodies of the HTTP API (pydantic v2; unknown keys refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Id = Field(min_length=1, max_length=64)
Comment = Field(default=None, max_length=2000)


def _unsafe_text(value: object, depth: int = 0) -> str | None:
    """A NUL or a lone surrogate anywhere in a body (databases refuse them), or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return "text must not contain NUL characters"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "text must be valid Unicode (no lone surrogates)"
        return None
    if depth > 64:
        return "the body is nested too deeply"
    if isinstance(value, dict):
        for key, item in value.items():
            found = _unsafe_text(key, depth + 1) or _unsafe_text(item, depth + 1)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for item in value:
            found = _unsafe_text(item, depth + 1)
            if found:
                return found
    return None


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _safe_text(self) -> Body:
        found = _unsafe_text(self.__dict__)
        if found:
            raise ValueError(found)
        return self


class Problem(BaseModel):
    """RFC 9457 problem details, with Signoff's stable `code`."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None
    request_id: str | None = None
    details: dict[str, Any] | None = None


# ---- sign-in -----------------------------------------------------------------------------


class LoginBody(Body):
    principal_id: str = Field(min_length=1, max_length=64, examples=["u-zhangsan"])
    password: str = Field(min_length=1, max_length=200)


class RefreshBody(Body):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  # the OAuth token type, not a secret
    expires_in: int
    principal_id: str
    is_admin: bool


class MeOut(BaseModel):
    principal_id: str | None
    name: str
    department_id: str | None = None
    roles: list[str] = []
    position: str | None = None
    is_admin: bool
    app_id: str | None = None
    counts: dict[str, int] = {}


# ---- commands ----------------------------------------------------------------------------


class OutcomeOut(BaseModel):
    """What a command did; `version` is also the new ETag."""

    instance_id: str
    version: int
    status: str
    events: list[str]
    pending: list[dict[str, str]]


class StartBody(Body):
    template_key: str = Field(min_length=1, max_length=64, examples=["leave"])
    form: dict[str, Any] = Field(default_factory=dict)
    choices: dict[str, list[str]] = Field(default_factory=dict)
    draft: bool = False


class FormBody(Body):
    form: dict[str, Any] = Field(default_factory=dict)
    choices: dict[str, list[str]] = Field(default_factory=dict)


class CommentBody(Body):
    comment: str | None = Comment


class TextBody(Body):
    text: str = Field(min_length=1, max_length=2000)


class CcBody(Body):
    people: list[str] = Field(min_length=1, max_length=100)
    comment: str | None = Comment


class UrgeBody(Body):
    task_ids: list[str] = Field(default_factory=list, max_length=100)
    comment: str | None = Comment


class ApproveBody(Body):
    comment: str | None = Comment
    edits: dict[str, Any] = Field(default_factory=dict)
    choices: dict[str, list[str]] = Field(default_factory=dict)


class ReturnBody(Body):
    to_node: str | None = Field(default=None, max_length=64)
    comment: str | None = Comment


class PersonBody(Body):
    to: str = Field(min_length=1, max_length=64)
    comment: str | None = Comment


class AddApproversBody(Body):
    people: list[str] = Field(min_length=1, max_length=50)
    position: Literal["before", "after"] = "after"
    comment: str | None = Comment


class BatchBody(Body):
    action: Literal["approve", "reject"]
    task_ids: list[str] = Field(min_length=1, max_length=200)
    comment: str | None = Comment


class BatchResult(BaseModel):
    task_id: str
    ok: bool
    status: int
    outcome: OutcomeOut | None = None
    problem: Problem | None = None


class BatchOut(BaseModel):
    results: list[BatchResult]
    succeeded: int
    failed: int


class HandOverOut(BaseModel):
    moved: list[OutcomeOut]
    failed: list[Problem]


class HandOverBody(Body):
    from_person: str = Field(min_length=1, max_length=64)
    to: str = Field(min_length=1, max_length=64)


# ---- reading -----------------------------------------------------------------------------


class TaskOut(BaseModel):
    id: str
    node_id: str
    node_name: str
    assignee: str
    assignee_name: str | None = None
    status: str
    kind: str
    created_at: datetime
    acted_at: datetime | None = None
    due_at: datetime | None = None
    comment: str | None = None
    auto: str | None = None
    on_behalf_of: str | None = None
    origin: str | None = None


class TimelineOut(BaseModel):
    seq: int
    event_id: str
    type: str
    actor: str | None
    at: datetime
    from_status: str
    to_status: str
    data: dict[str, Any]


class InstanceOut(BaseModel):
    id: str
    template_key: str
    template_version: int
    template_name: str
    title: str
    serial: str | None
    status: str
    version: int
    applicant_id: str
    form: dict[str, Any]
    created_at: datetime | None
    submitted_at: datetime | None
    finished_at: datetime | None
    pending: list[TaskOut]
    tasks: list[TaskOut]
    cc: list[str]
    timeline: list[TimelineOut]
    actions: list[str]
    writable: list[str] = Field(
        default_factory=list, description="fields you may edit when approving now"
    )
    names: dict[str, str] = Field(
        default_factory=dict, description="the names of the people this request mentions"
    )
    external: dict[str, str] | None = Field(
        None,
        description="the request this one mirrors in another system ({source, id}: WeCom's "
        "SpNo); it is decided there (docs/integrations.md)",
    )


class InboxItemOut(BaseModel):
    instance_id: str
    template_key: str
    title: str
    serial: str | None
    status: str
    applicant_id: str
    at: datetime
    task_id: str | None = None
    node_id: str | None = None
    task_status: str | None = None


class InboxOut(BaseModel):
    box: str
    items: list[InboxItemOut]
    next_cursor: str | None
    counts: dict[str, int]


class TemplateSummaryOut(BaseModel):
    key: str
    name: str
    version: int
    published_at: datetime
    has_draft: bool


class ValidationOut(BaseModel):
    valid: bool
    errors: list[dict[str, str]]


class PreviewBody(Body):
    form: dict[str, Any] = Field(default_factory=dict)
    choices: dict[str, list[str]] = Field(default_factory=dict)
    applicant_id: str | None = Field(default=None, max_length=64)


class AppBody(Body):
    name: str = Field(min_length=1, max_length=200)
    templates: list[str] = Field(default_factory=list, max_length=100)
    acts_as: str | None = Field(
        None, max_length=64, description="a principal whose tasks the app may act on"
    )


class AppOut(BaseModel):
    id: str
    name: str
    key_prefix: str
    created_at: datetime
    revoked_at: datetime | None
    templates: list[str]
    acts_as: str | None = None


class AppCreatedOut(AppOut):
    api_key: str = Field(description="shown once; only its hash is stored")


class ImportOut(BaseModel):
    applied: bool
    departments: int
    principals: int
    rejected: list[dict[str, Any]]


class WebhookBody(Body):
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://\S+$")
    event_types: list[str] = Field(
        default_factory=lambda: ["*"],
        min_length=1,
        max_length=50,
        description='notice types (GET /api/v1/events/types), or ["*"] for all',
    )
    description: str = Field("", max_length=200)


class WebhookOut(BaseModel):
    id: str
    app_id: str
    url: str
    event_types: list[str]
    description: str
    created_at: datetime
    disabled_at: datetime | None


class WebhookSecretOut(WebhookOut):
    secret: str = Field(description="shown once: verify deliveries with it (Standard Webhooks)")


class RotateBody(Body):
    keep_old_minutes: int = Field(
        24 * 60, ge=0, le=30 * 24 * 60, description="how long the old secret still signs"
    )


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    type: str | None = Field(None, description="the notice type (signoff.<type>)")
    instance_id: str
    sink: str
    target: str
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None


class ReplayBody(Body):
    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1, max_length=1000)


class ReplayOut(BaseModel):
    replayed: int
