"""A WeCom `sys_approval_change` mirrored onto a Signoff instance (signoff.domain.mirror).

    outcome = mirror_change(db, clock, config, change)   # None: not a mapped WeCom template

The event's TemplateId picks the mapping (config.templates); its SpNo is the request's id.
WeCom user ids become principals by the app's user mapping, for the applicant, every
approver and every CC'd person (`UnknownWecomUser` names the ones the directory lacks,
and nothing is recorded). Each SpRecord is a step, in order, on the mapped Signoff node;
each of its Details an approver's decision, at its SpTime, with its Speech as the comment.
With the approval app's Secret set and control ids mapped, the form values come from
WeCom's approval detail API, fetched before any transaction begins.

    WeCom request (SpStatus)                 Signoff
    1 审批中                                  pending
    2 已通过, 10 已支付                       approved
    3 已驳回                                  rejected
    4 已撤销, 6 通过后撤销, 7 已删除         withdrawn (a finished instance stays as it is)

    WeCom approver (Details/SpStatus)        Signoff task
    1 审批中, 12 已加签                       pending
    2 已同意, 13 已同意并加签, 14 已办理     approved
    3 已驳回                                  rejected
    4 已转审, 15 已转交                       transferred (to the next approver of the node)
    11 已退回                                 returned
"""

from __future__ import annotations

import logging
from typing import Any

from signoff.domain.mirror import (
    ExternalDecision,
    ExternalStatus,
    ExternalStep,
    MirrorExternal,
    Verdict,
)
from signoff.integrations.wecom.api import DEFAULT_BASE, WecomApi
from signoff.integrations.wecom.apply_data import form_values
from signoff.integrations.wecom.approval import ApprovalChange, NodeStatus, SpStatus
from signoff.integrations.wecom.config import TemplateMapping, UserMapping, WecomConfig
from signoff.integrations.wecom.errors import UnknownWecomUser
from signoff.service.commands import Outcome
from signoff.service.mirror import mirror_external
from signoff.service.ports import Clock, DirectoryStore
from signoff.store.database import Database
from signoff.store.uow import SqlUnitOfWork

log = logging.getLogger("signoff.integrations.wecom")

STATUS = {
    SpStatus.PENDING: ExternalStatus.PENDING,
    SpStatus.APPROVED: ExternalStatus.APPROVED,
    SpStatus.PAID: ExternalStatus.APPROVED,
    SpStatus.REJECTED: ExternalStatus.REJECTED,
    SpStatus.CANCELLED: ExternalStatus.WITHDRAWN,
    SpStatus.REVOKED_AFTER_APPROVAL: ExternalStatus.WITHDRAWN,
    SpStatus.DELETED: ExternalStatus.WITHDRAWN,
}
VERDICT = {
    NodeStatus.PENDING: Verdict.PENDING,
    NodeStatus.APPROVER_ADDED: Verdict.PENDING,
    NodeStatus.APPROVED: Verdict.APPROVED,
    NodeStatus.APPROVED_AND_ADDED: Verdict.APPROVED,
    NodeStatus.HANDLED: Verdict.APPROVED,
    NodeStatus.REJECTED: Verdict.REJECTED,
    NodeStatus.TRANSFERRED: Verdict.TRANSFERRED,
    NodeStatus.HANDED_OVER: Verdict.TRANSFERRED,
    NodeStatus.RETURNED: Verdict.RETURNED,
}


def principal_of(directory: DirectoryStore, users: UserMapping, user_id: str) -> str | None:
    """The principal a WeCom user id stands for, by the app's user mapping."""
    if users is UserMapping.ID:
        return user_id if directory.principal(user_id) is not None else None
    return directory.by_identity(f"wecom:user:{user_id}")


def user_ids(change: ApprovalChange) -> list[str]:
    """Every WeCom user the event names: applicant, approvers, CC'd people."""
    found = [change.applicant.user_id, *change.notifyers]
    found += [d.approver for r in change.records for d in r.details]
    return list(dict.fromkeys(u for u in found if u))


def to_command(
    change: ApprovalChange,
    config: WecomConfig,
    mapping: TemplateMapping,
    people: dict[str, str],
    form: dict[str, Any] | None,
) -> MirrorExternal:
    """The domain command for an event whose user ids `people` maps to principals."""
    steps = tuple(
        ExternalStep(
            mapping.node_id(index),
            _step_verdict(record.sp_status),
            tuple(
                ExternalDecision(
                    people[d.approver], VERDICT[d.sp_status], d.speech.strip() or None, d.sp_time
                )
                for d in record.details
            ),
        )
        for index, record in enumerate(change.records)
    )
    return MirrorExternal(
        source=config.source,
        external_id=change.sp_no,
        applicant=people[change.applicant.user_id],
        submitted_at=change.apply_time,
        status=STATUS[change.sp_status],
        steps=steps,
        form=form,
        cc=tuple(people[u] for u in change.notifyers if u),
    )


def _step_verdict(status: NodeStatus) -> Verdict:
    verdict = VERDICT[status]
    return verdict if verdict in (Verdict.APPROVED, Verdict.REJECTED) else Verdict.PENDING


def mirror_change(
    db: Database,
    clock: Clock,
    config: WecomConfig,
    change: ApprovalChange,
    api_base: str = DEFAULT_BASE,
) -> Outcome | None:
    """Record the event on its mirrored instance; None when its template is not mapped."""
    mapping = config.templates.get(change.template_id)
    if mapping is None:
        return None
    detail: dict[str, Any] | None = None
    if config.secret and mapping.fields:  # a network call: before any transaction
        detail = WecomApi(config.corp_id, config.secret, api_base).approval_detail(change.sp_no)
    with SqlUnitOfWork(db) as uow:  # reads only: people, departments, the form
        people = {u: principal_of(uow.directory, config.users, u) for u in user_ids(change)}
        unknown = sorted(u for u, p in people.items() if p is None)
        if unknown:
            raise UnknownWecomUser(unknown)
        form = None
        if detail is not None:
            apply_data = detail.get("apply_data")
            contents = apply_data.get("contents") if isinstance(apply_data, dict) else None
            form = form_values(
                contents,
                mapping.fields,
                uow.templates.get(mapping.template_key).form,
                lambda u: principal_of(uow.directory, config.users, u),
                {d.name: d.id for d in uow.directory.all_departments()},
            )
    known = {u: p for u, p in people.items() if p is not None}
    command = to_command(change, config, mapping, known, form)
    return mirror_external(
        lambda: SqlUnitOfWork(db),
        clock,
        command,
        template_key=mapping.template_key,
        app_id=config.app_id,
    )
