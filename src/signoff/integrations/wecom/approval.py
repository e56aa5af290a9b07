"""The `sys_approval_change` event (审批申请状态变化回调通知), parsed into typed values.

WeCom sends it whenever an approval request in its own approval app changes: submitted,
approved or rejected at a node, transferred, urged, cancelled, commented on, ... The
request's status is `sp_status`; what just happened is `status_change_event`. A comment
(`ChangeEvent.COMMENTED`) or a reminder changes no outcome.

Pitfalls handled here: `SpRecord`, `Details`, `Notifyer`, `Comments`, `NodeList` and
`SubNodeList` repeat as siblings without a wrapper (one element is still a list);
`SpStatus` means the request's status under ApprovalInfo but a node's or an approver's
under SpRecord and Details (different code tables), so every value is read by path;
empty CDATA reads as ""; text is UTF-8 (Chinese names and comments); `SpNoStr`
(the newer, always-string approval number) is preferred to `SpNo` when both are sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from signoff.integrations.wecom.errors import MalformedXml
from signoff.integrations.wecom.messages import XmlNode, parse_xml, read_header

EVENT = "sys_approval_change"


class SpStatus(IntEnum):
    """The approval request's status (ApprovalInfo/SpStatus, 申请单状态)."""

    PENDING = 1  # 审批中
    APPROVED = 2  # 已通过
    REJECTED = 3  # 已驳回
    CANCELLED = 4  # 已撤销 (by the applicant, before a decision)
    REVOKED_AFTER_APPROVAL = 6  # 通过后撤销
    DELETED = 7  # 已删除
    PAID = 10  # 已支付


class NodeStatus(IntEnum):
    """A node's or one approver's status (SpRecord/SpStatus, Details/SpStatus, NodeList
    SpStatus, SubNodeList/SpYj): not the request's table, 4 here means transferred."""

    PENDING = 1  # 审批中
    APPROVED = 2  # 已同意
    REJECTED = 3  # 已驳回
    TRANSFERRED = 4  # 已转审
    RETURNED = 11  # 已退回 (to a chosen approver)
    APPROVER_ADDED = 12  # 已加签
    APPROVED_AND_ADDED = 13  # 已同意并加签
    HANDLED = 14  # 已办理 (handler nodes)
    HANDED_OVER = 15  # 已转交 (handler nodes)


class ApproverAttr(IntEnum):
    """How a SpRecord's approvers decide (ApproverAttr, 节点审批方式)."""

    ANY = 1  # 或签: the first decision counts
    ALL = 2  # 会签: every approver must approve


class ApproverRelation(IntEnum):
    """How a ProcessList node's people act (ApvRel, 多人办理方式). NB: the numbers are the
    reverse of ApproverAttr's."""

    ALL = 1  # 会签
    ANY = 2  # 或签
    SEQUENTIAL = 3  # 依次审批


class NodeType(IntEnum):
    """What a ProcessList node is (NodeType)."""

    APPROVER = 1  # 审批人
    CC = 2  # 抄送人
    HANDLER = 3  # 办理人


class ChangeEvent(IntEnum):
    """What just happened to the request (StatuChangeEvent, 审批申请状态变化类型)."""

    SUBMITTED = 1  # 提单
    APPROVED = 2  # 同意
    REJECTED = 3  # 驳回
    TRANSFERRED = 4  # 转审
    URGED = 5  # 催办
    CANCELLED = 6  # 撤销
    REVOKED_AFTER_APPROVAL = 8  # 通过后撤销
    COMMENTED = 10  # 添加备注: not an outcome
    RETURNED = 11  # 回退给指定审批人
    APPROVER_ADDED = 12  # 添加审批人
    APPROVED_AND_ADDED = 13  # 加签并同意
    HANDLED = 14  # 已办理
    HANDED_OVER = 15  # 已转交


@dataclass(frozen=True, slots=True)
class Applicant:
    user_id: str
    party: str | None  # the applicant's department id


@dataclass(frozen=True, slots=True)
class SpDetail:
    """One approver of a SpRecord node and their decision so far."""

    approver: str  # user id
    speech: str  # the approver's comment, "" if none
    sp_status: NodeStatus
    sp_time: datetime | None  # None until they act (WeCom sends 0)


@dataclass(frozen=True, slots=True)
class SpRecord:
    """One approval node: its status, how its approvers decide, and each approver."""

    sp_status: NodeStatus
    approver_attr: ApproverAttr
    details: tuple[SpDetail, ...]


@dataclass(frozen=True, slots=True)
class Comment:
    commentor: str  # user id
    time: datetime
    content: str
    comment_id: str


@dataclass(frozen=True, slots=True)
class ProcessSubNode:
    user_id: str
    speech: str
    sp_yj: NodeStatus | None  # absent on CC nodes
    sp_time: datetime | None


@dataclass(frozen=True, slots=True)
class ProcessNode:
    """One node of ProcessList, the newer description of the whole flow (CC nodes too)."""

    node_type: NodeType
    sp_status: NodeStatus | None
    apv_rel: ApproverRelation | None
    sub_nodes: tuple[ProcessSubNode, ...]


@dataclass(frozen=True, slots=True)
class ApprovalChange:
    """A decrypted `sys_approval_change` event."""

    to_user: str  # the corp id
    from_user: str  # "sys"
    create_time: datetime
    agent_id: str | None
    sp_no: str  # the approval number, WeCom's id of the request
    sp_name: str  # the template's name
    sp_status: SpStatus
    template_id: str
    apply_time: datetime
    applicant: Applicant
    status_change_event: ChangeEvent
    records: tuple[SpRecord, ...]
    notifyers: tuple[str, ...]  # CC'd user ids
    comments: tuple[Comment, ...]
    process: tuple[ProcessNode, ...]


def parse_approval_change(message: bytes | str) -> ApprovalChange:
    """Parse a decrypted event (MalformedXml naming the path that is missing or bad)."""
    root = parse_xml(message)
    if root.element.tag != "xml":
        raise MalformedXml(root.path, "root", "the root element must be <xml>")
    header = read_header(root)
    if header.msg_type != "event" or header.event != EVENT:
        raise MalformedXml(
            "xml/Event", "value", f"is {header.msg_type}/{header.event}, not event/{EVENT}"
        )
    info = root.child("ApprovalInfo")
    applyer = info.child("Applyer")
    process = info.optional_child("ProcessList")
    return ApprovalChange(
        to_user=header.to_user,
        from_user=header.from_user,
        create_time=header.create_time,
        agent_id=header.agent_id,
        sp_no=_sp_no(info),
        sp_name=info.text("SpName"),
        sp_status=info.enum("SpStatus", SpStatus),
        template_id=info.text("TemplateId"),
        apply_time=info.required_time("ApplyTime"),
        applicant=Applicant(applyer.text("UserId"), applyer.optional_text("Party")),
        status_change_event=info.enum("StatuChangeEvent", ChangeEvent),
        records=tuple(_record(node) for node in info.children("SpRecord")),
        notifyers=tuple(
            user.element.text or ""
            for notifyer in info.children("Notifyer")
            for user in notifyer.children("UserId")
        ),
        comments=tuple(_comment(node) for node in info.children("Comments")),
        process=tuple(_process_node(n) for n in process.children("NodeList")) if process else (),
    )


def _sp_no(info: XmlNode) -> str:
    number = info.optional_text("SpNoStr") or info.optional_text("SpNo")
    if not number:
        raise MalformedXml(f"{info.path}/SpNo", "required", "is missing (and so is SpNoStr)")
    return number.strip()


def _record(node: XmlNode) -> SpRecord:
    return SpRecord(
        sp_status=node.enum("SpStatus", NodeStatus),
        approver_attr=node.enum("ApproverAttr", ApproverAttr),
        details=tuple(
            SpDetail(
                approver=detail.child("Approver").text("UserId"),
                speech=detail.optional_text("Speech") or "",
                sp_status=detail.enum("SpStatus", NodeStatus),
                sp_time=detail.time("SpTime"),
            )
            for detail in node.children("Details")
        ),
    )


def _comment(node: XmlNode) -> Comment:
    return Comment(
        commentor=node.child("CommentUserInfo").text("UserId"),
        time=node.required_time("CommentTime"),
        content=node.text("CommentContent"),
        comment_id=node.text("CommentId"),
    )


def _process_node(node: XmlNode) -> ProcessNode:
    return ProcessNode(
        node_type=node.enum("NodeType", NodeType),
        sp_status=node.optional_enum("SpStatus", NodeStatus),
        apv_rel=node.optional_enum("ApvRel", ApproverRelation),
        sub_nodes=tuple(
            ProcessSubNode(
                user_id=sub.child("UserInfo").text("UserId"),
                speech=sub.optional_text("Speech") or "",
                sp_yj=sub.optional_enum("SpYj", NodeStatus),
                sp_time=sub.time("Sptime"),
            )
            for sub in node.children("SubNodeList")
        ),
    )
