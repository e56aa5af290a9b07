"""WeCom: an app's settings (administrators; secrets go in, never come out) and the callback
endpoint WeCom calls, authenticated by its signature, not by a token (docs/integrations.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from signoff.api.deps import CallerDep, ServicesDep
from signoff.integrations.wecom.callback import WecomCallbacks
from signoff.integrations.wecom.config import (
    TemplateMapping,
    UserMapping,
    get_config,
    put_config,
)

router = APIRouter(tags=["integrations"])  # under /api/v1
callbacks = APIRouter(tags=["integrations"])  # at the root: WeCom calls it


class WecomTemplateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_key: str = Field(max_length=64, description="the Signoff template it mirrors into")
    nodes: list[str] = Field(
        default_factory=list, description="the Signoff node of each WeCom approval node, in order"
    )
    fields: dict[str, str] = Field(
        default_factory=dict, description="WeCom control id -> field id or table.column"
    )


class WecomBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    corp_id: str = Field(min_length=1, max_length=64, description="企业ID")
    token: str | None = Field(None, min_length=1, max_length=64, description="write only")
    aes_key: str | None = Field(
        None, min_length=43, max_length=43, description="EncodingAESKey; write only"
    )
    secret: str | None = Field(
        None, max_length=200, description="the approval app's Secret (form values); write only"
    )
    users: Literal["identity", "id"] = "identity"
    templates: dict[str, WecomTemplateBody] = Field(
        default_factory=dict, description="WeCom TemplateId -> mapping"
    )


class WecomOut(BaseModel):
    app_id: str
    corp_id: str
    users: str
    templates: dict[str, dict[str, Any]]
    token_set: bool
    aes_key_set: bool
    secret_set: bool
    callback_url: str
    updated_at: datetime
    updated_by: str | None


@router.put("/apps/{app_id}/wecom", response_model=WecomOut, summary="Set an app's WeCom link")
def put_settings(app_id: str, body: WecomBody, who: CallerDep, svc: ServicesDep) -> WecomOut:
    """Token, EncodingAESKey and Secret may be left out to keep the ones saved before. The
    app is given the mapped templates (it hears their events)."""
    who.require_admin()
    config = put_config(
        svc.uow(),
        svc.clock,
        app_id,
        corp_id=body.corp_id,
        token=body.token,
        aes_key=body.aes_key,
        secret=body.secret,
        users=UserMapping(body.users),
        templates={
            wecom_id: TemplateMapping(m.template_key, tuple(m.nodes), dict(m.fields))
            for wecom_id, m in body.templates.items()
        },
        by=who.principal_id,
    )
    return WecomOut.model_validate(config.public())


@router.get("/apps/{app_id}/wecom", response_model=WecomOut, summary="An app's WeCom link")
def get_settings(app_id: str, who: CallerDep, svc: ServicesDep) -> WecomOut:
    """Everything but the secrets: only whether each one is set."""
    who.require_admin()
    return WecomOut.model_validate(get_config(svc.uow(), app_id).public())


Signature = Annotated[str, Query(min_length=1, max_length=128)]
Timestamp = Annotated[str, Query(min_length=1, max_length=20)]
Nonce = Annotated[str, Query(min_length=1, max_length=64)]


def _raw(request: Request, name: str) -> str:
    """A query parameter URL-decoded without turning `+` into a space: base64 keeps its `+`
    even when WeCom sends it unescaped."""
    for pair in request.scope.get("query_string", b"").decode("latin-1").split("&"):
        key, _, value = pair.partition("=")
        if key == name:
            return unquote(value)
    return ""


@callbacks.get(
    "/integrations/wecom/callback/{app_id}",
    response_class=PlainTextResponse,
    summary="WeCom's URL verification",
)
def verify(
    app_id: str,
    request: Request,
    svc: ServicesDep,
    msg_signature: Signature,
    timestamp: Timestamp,
    nonce: Nonce,
    echostr: Annotated[str, Query(min_length=1, max_length=4096)],
) -> PlainTextResponse:
    """Answers the decrypted `echostr` when the signature, time and corp id are right."""
    handler = WecomCallbacks(svc.db, svc.clock, svc.settings.wecom_api_url)
    echo = handler.verify(app_id, msg_signature, timestamp, nonce, _raw(request, "echostr"))
    return PlainTextResponse(echo)


@callbacks.post(
    "/integrations/wecom/callback/{app_id}",
    response_class=PlainTextResponse,
    summary="WeCom's events (approval changes are mirrored)",
)
async def deliver(
    app_id: str,
    request: Request,
    svc: ServicesDep,
    msg_signature: Signature,
    timestamp: Timestamp,
    nonce: Nonce,
) -> PlainTextResponse:
    """An encrypted event; `sys_approval_change` updates the mirrored request. Refusals
    are 4xx with a problem document, logged, and change nothing."""
    body = await request.body()
    handler = WecomCallbacks(svc.db, svc.clock, svc.settings.wecom_api_url)
    await run_in_threadpool(handler.deliver, app_id, msg_signature, timestamp, nonce, body)
    return PlainTextResponse("")
