"""The `sys_approval_change` event, parsed from the official sample and from variations of
it that show each pitfall listed in wecom_approval_event.json."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from signoff.integrations.wecom.approval import (
    Applicant,
    ApprovalChange,
    ApproverAttr,
    ApproverRelation,
    ChangeEvent,
    Comment,
    NodeStatus,
    NodeType,
    ProcessNode,
    ProcessSubNode,
    SpDetail,
    SpRecord,
    SpStatus,
    parse_approval_change,
)
from signoff.integrations.wecom.errors import MalformedXml


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def pending(user: str) -> SpDetail:
    return SpDetail(approver=user, speech="", sp_status=NodeStatus.PENDING, sp_time=None)


def sub_node(user: str) -> ProcessSubNode:
    return ProcessSubNode(user_id=user, speech="", sp_yj=NodeStatus.PENDING, sp_time=None)


SAMPLE = ApprovalChange(
    to_user="ww1cSD21f1e9c0caaa",
    from_user="sys",
    create_time=at(1571732272),
    agent_id="3010040",
    sp_no="201910220003",
    sp_name="示例模板",
    sp_status=SpStatus.PENDING,
    template_id="3TkaH5KFbrG9heEQWLJjhgpFwmqAFB4dLEnapaB7aaa",
    apply_time=at(1571728713),
    applicant=Applicant(user_id="WuJunJie", party="1"),
    status_change_event=ChangeEvent.COMMENTED,
    records=(
        SpRecord(
            NodeStatus.PENDING,
            ApproverAttr.ALL,
            (pending("WangXiaoMing"), pending("XiaoGangHuang")),
        ),
        SpRecord(NodeStatus.PENDING, ApproverAttr.ANY, (pending("XiaoHongLiu"),)),
    ),
    notifyers=("ChengLiang",),
    comments=(Comment("LiuZhi", at(1571732272), "这是一个备注", "6750538708562308220"),),
    process=(
        ProcessNode(
            NodeType.APPROVER,
            NodeStatus.PENDING,
            ApproverRelation.ANY,
            (sub_node("userid1"), sub_node("userid2")),
        ),
        ProcessNode(
            NodeType.CC, None, None, (ProcessSubNode("userid3", "", sp_yj=None, sp_time=None),)
        ),
    ),
)

# How each key of the vector's `expected_fields` / `expected_lists` reads from the result.
FIELDS: dict[str, Callable[[ApprovalChange], Any]] = {
    "ToUserName": lambda e: e.to_user,
    "FromUserName": lambda e: e.from_user,
    "CreateTime": lambda e: str(int(e.create_time.timestamp())),
    "MsgType": lambda e: "event",  # checked by the parser: anything else is refused
    "Event": lambda e: "sys_approval_change",  # likewise
    "AgentID": lambda e: e.agent_id,
    "ApprovalInfo/SpNo": lambda e: e.sp_no,
    "ApprovalInfo/SpName": lambda e: e.sp_name,
    "ApprovalInfo/SpStatus": lambda e: str(e.sp_status.value),
    "ApprovalInfo/TemplateId": lambda e: e.template_id,
    "ApprovalInfo/ApplyTime": lambda e: str(int(e.apply_time.timestamp())),
    "ApprovalInfo/Applyer/UserId": lambda e: e.applicant.user_id,
    "ApprovalInfo/Applyer/Party": lambda e: e.applicant.party,
    "ApprovalInfo/StatuChangeEvent": lambda e: str(e.status_change_event.value),
    "ApprovalInfo/Comments/CommentContent": lambda e: e.comments[0].content,
}
LISTS: dict[str, Callable[[ApprovalChange], Any]] = {
    "SpRecord count": lambda e: len(e.records),
    "SpRecord[0] ApproverAttr (2 = 会签/all must approve)": lambda e: str(
        e.records[0].approver_attr.value
    ),
    "SpRecord[0] Details approvers": lambda e: [d.approver for d in e.records[0].details],
    "SpRecord[1] ApproverAttr (1 = 或签/any one)": lambda e: str(e.records[1].approver_attr.value),
    "SpRecord[1] Details approvers": lambda e: [d.approver for d in e.records[1].details],
    "Notifyer UserIds": lambda e: list(e.notifyers),
    "ProcessList NodeList count": lambda e: len(e.process),
    "ProcessList NodeList[0] SubNodeList UserIds": lambda e: [
        s.user_id for s in e.process[0].sub_nodes
    ],
    "ProcessList NodeList[1] NodeType (2 = 抄送/cc)": lambda e: str(e.process[1].node_type.value),
}


def edited(xml: bytes, old: str, new: str, count: int = 1) -> bytes:
    text = xml.decode()
    assert text.count(old) >= count, old
    return text.replace(old, new, count).encode()


def test_the_official_sample_parses_to_exactly_the_expected_event(event_xml: bytes) -> None:
    assert parse_approval_change(event_xml) == SAMPLE


def test_every_expected_field_of_the_vector_is_read(
    event_xml: bytes, event_expectations: dict[str, Any]
) -> None:
    event = parse_approval_change(event_xml)

    assert set(FIELDS) == set(event_expectations["expected_fields"])
    assert {k: FIELDS[k](event) for k in FIELDS} == event_expectations["expected_fields"]


def test_every_expected_list_of_the_vector_is_read(
    event_xml: bytes, event_expectations: dict[str, Any]
) -> None:
    event = parse_approval_change(event_xml)

    assert set(LISTS) == set(event_expectations["expected_lists"])
    assert {k: LISTS[k](event) for k in LISTS} == event_expectations["expected_lists"]


def test_a_single_sp_record_is_still_a_sequence_of_one(event_xml: bytes) -> None:
    start = event_xml.index(b"<SpRecord>", event_xml.index(b"</SpRecord>"))
    end = event_xml.index(b"</SpRecord>", start) + len(b"</SpRecord>")

    event = parse_approval_change(event_xml[:start] + event_xml[end:])

    assert event.records == SAMPLE.records[:1]


def test_each_sp_status_is_read_at_its_own_level(event_xml: bytes) -> None:
    xml = edited(event_xml, "<SpStatus>1</SpStatus>", "<SpStatus>2</SpStatus>")  # ApprovalInfo
    xml = edited(xml, "<SpStatus>1</SpStatus>", "<SpStatus>4</SpStatus>")  # SpRecord[1]
    xml = edited(xml, "<SpStatus>1</SpStatus>", "<SpStatus>3</SpStatus>")  # its Details[1]

    event = parse_approval_change(xml)

    assert event.sp_status is SpStatus.APPROVED
    assert event.records[0].sp_status is NodeStatus.TRANSFERRED  # not SpStatus.CANCELLED
    assert event.records[0].details[0].sp_status is NodeStatus.REJECTED
    assert event.records[0].details[1].sp_status is NodeStatus.PENDING


def test_an_approver_s_comment_and_decision_time_are_read_when_present(event_xml: bytes) -> None:
    xml = edited(event_xml, "<Speech><![CDATA[]]>", "<Speech><![CDATA[同意 <ok>]]>")
    xml = edited(xml, "<SpTime>0</SpTime>", "<SpTime>1571730000</SpTime>")

    detail = parse_approval_change(xml).records[0].details[0]

    assert (detail.speech, detail.sp_time) == ("同意 <ok>", at(1571730000))


def test_the_text_is_the_same_whether_the_event_arrives_as_bytes_or_text(event_xml: bytes) -> None:
    assert parse_approval_change(event_xml.decode("utf-8")) == parse_approval_change(event_xml)


def test_the_string_approval_number_is_preferred_when_both_are_sent(event_xml: bytes) -> None:
    xml = edited(event_xml, "<SpNo>", "<SpNoStr>202401010001</SpNoStr><SpNo>")

    assert parse_approval_change(xml).sp_no == "202401010001"


def test_several_notifyers_and_comments_are_all_read(event_xml: bytes) -> None:
    comment = event_xml[event_xml.index(b"<Comments>") : event_xml.index(b"</Comments>") + 11]
    xml = edited(
        event_xml,
        "</Notifyer>",
        "</Notifyer><Notifyer><UserId><![CDATA[LiSi]]></UserId></Notifyer>",
    )
    xml = xml.replace(comment, comment + comment.replace(b"LiuZhi", b"WangWu"))

    event = parse_approval_change(xml)

    assert event.notifyers == ("ChengLiang", "LiSi")
    assert [c.commentor for c in event.comments] == ["LiuZhi", "WangWu"]


def test_an_event_without_process_list_comments_or_notifyers_has_empty_sequences() -> None:
    xml = """<xml><ToUserName>ww1</ToUserName><FromUserName>sys</FromUserName>
    <CreateTime>1571732272</CreateTime><MsgType>event</MsgType><Event>sys_approval_change</Event>
    <ApprovalInfo><SpNo>1</SpNo><SpName>请假</SpName><SpStatus>2</SpStatus><TemplateId>t</TemplateId>
    <ApplyTime>1571728713</ApplyTime><Applyer><UserId>u</UserId></Applyer>
    <StatuChangeEvent>2</StatuChangeEvent></ApprovalInfo></xml>"""

    event = parse_approval_change(xml)

    assert (event.records, event.notifyers, event.comments, event.process) == ((), (), (), ())
    assert (event.agent_id, event.applicant.party) == (None, None)
    assert event.sp_status is SpStatus.APPROVED


def drop(xml: bytes, tag: str, nth: int = 1) -> bytes:
    """`xml` without the `nth` <tag>...</tag> element (in document order)."""
    found = list(re.finditer(rf"<{tag}>.*?</{tag}>".encode(), xml, re.DOTALL))
    return xml[: found[nth - 1].start()] + xml[found[nth - 1].end() :]


INFO = "xml/ApprovalInfo/"
Edit = Callable[[bytes], bytes]
BROKEN: dict[str, tuple[Edit, str]] = {
    "missing-sp-no": (lambda x: drop(x, "SpNo"), INFO + "SpNo"),
    "two-sp-nos": (lambda x: edited(x, "<SpNo>", "<SpNo>2</SpNo><SpNo>"), INFO + "SpNo"),
    "missing-template-id": (lambda x: drop(x, "TemplateId"), INFO + "TemplateId"),
    "missing-applicant": (lambda x: drop(x, "UserId"), INFO + "Applyer/UserId"),
    "apply-time-zero": (
        lambda x: edited(x, "<ApplyTime>1571728713<", "<ApplyTime>0<"),
        INFO + "ApplyTime",
    ),
    "unknown-sp-status": (lambda x: edited(x, "<SpStatus>1<", "<SpStatus>5<"), INFO + "SpStatus"),
    "change-event-not-a-number": (
        lambda x: edited(x, ">10</Statu", ">x</Statu"),
        INFO + "StatuChangeEvent",
    ),
    "missing-approver-attr": (
        lambda x: drop(x, "ApproverAttr", 2),
        INFO + "SpRecord[2]/ApproverAttr",
    ),
    "missing-approver": (
        lambda x: drop(x, "UserId", 4),
        INFO + "SpRecord[2]/Details[1]/Approver/UserId",
    ),
    "missing-comment-time": (lambda x: drop(x, "CommentTime"), INFO + "Comments[1]/CommentTime"),
    "unknown-node-type": (
        lambda x: edited(x, "<NodeType>2<", "<NodeType>9<"),
        INFO + "ProcessList/NodeList[2]/NodeType",
    ),
    "another-event": (
        lambda x: edited(x, "[sys_approval_change]", "[change_contact]"),
        "xml/Event",
    ),
}


@pytest.mark.parametrize(("edit", "path"), list(BROKEN.values()), ids=list(BROKEN))
def test_a_missing_or_bad_value_is_refused_naming_its_path(
    event_xml: bytes, edit: Edit, path: str
) -> None:
    with pytest.raises(MalformedXml) as caught:
        parse_approval_change(edit(event_xml))

    assert caught.value.details["path"] == path
    assert str(caught.value).startswith(f"[wecom_malformed_xml] {path}: ")


def test_a_bad_details_status_names_the_record_and_approver_it_belongs_to(event_xml: bytes) -> None:
    details_status = "<SpStatus>1</SpStatus>\n                <SpTime>"
    xml = edited(event_xml, details_status, details_status.replace("1", "99"), count=2)
    xml = edited(xml, "<SpStatus>99<", "<SpStatus>1<")  # SpRecord[1]/Details[1] is fine again

    with pytest.raises(MalformedXml, match="99 is not a known NodeStatus") as caught:
        parse_approval_change(xml)
    assert caught.value.details["path"] == "xml/ApprovalInfo/SpRecord[1]/Details[2]/SpStatus"
