"""WeCom callbacks for the endpoint tests: `sys_approval_change` events made from the
published sample (vectors/wecom_approval_event.xml) with our own SpNo, TemplateId and
user ids, encrypted and signed with `WecomCrypto` as WeCom would send them."""

from __future__ import annotations

import copy
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET  # builds XML; parsing is defusedxml's

import defusedxml.ElementTree  # type: ignore[import-untyped]  # no stubs in the pinned set

from signoff.integrations.wecom.crypto import WecomCrypto
from tests.integrations.conftest import VECTORS

CORP_ID = "wwacme5e1f0c0ffee"
TOKEN = "SignoffCallbackToken"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"  # 43 base64 characters
TEMPLATE_ID = "C4RbmJxqoR6tBvRxiFFUZdXMfJ9hH3k2qf7VdDV3n"  # WeCom's 采购合同 template
SAMPLE = (VECTORS / "wecom_approval_event.xml").read_bytes()

Detail = tuple[str, int, str, int]  # (user id, SpStatus, speech, SpTime)


@dataclass(frozen=True)
class Record:
    """One SpRecord: its status, how its approvers decide (1 any, 2 all), its Details."""

    sp_status: int
    details: tuple[Detail, ...]
    approver_attr: int = 1


def approval_xml(
    sp_no: str,
    sp_status: int,
    records: list[Record],
    *,
    apply_time: datetime,
    change_event: int = 2,
    applicant: str = "zhangsan",
    notifyers: tuple[str, ...] = (),
    template_id: str = TEMPLATE_ID,
    corp_id: str = CORP_ID,
) -> str:
    """The sample event with our values in place of its own."""
    root = defusedxml.ElementTree.fromstring(SAMPLE)
    root.find("ToUserName").text = corp_id
    root.find("CreateTime").text = str(int(apply_time.timestamp()))
    info = root.find("ApprovalInfo")
    info.find("SpNo").text = sp_no
    info.find("SpName").text = "采购合同"
    info.find("SpStatus").text = str(sp_status)
    info.find("TemplateId").text = template_id
    info.find("ApplyTime").text = str(int(apply_time.timestamp()))
    info.find("Applyer/UserId").text = applicant
    info.find("StatuChangeEvent").text = str(change_event)
    sample_record = info.find("SpRecord")
    sample_detail = sample_record.find("Details")
    for tag in ("SpRecord", "Notifyer", "ProcessList", "Comments"):
        for element in info.findall(tag):
            info.remove(element)
    at = list(info).index(info.find("Applyer")) + 1
    for offset, record in enumerate(records):
        element = copy.deepcopy(sample_record)
        for old in element.findall("Details"):
            element.remove(old)
        element.find("SpStatus").text = str(record.sp_status)
        element.find("ApproverAttr").text = str(record.approver_attr)
        for user_id, status, speech, sp_time in record.details:
            detail = copy.deepcopy(sample_detail)
            detail.find("Approver/UserId").text = user_id
            detail.find("Speech").text = speech
            detail.find("SpStatus").text = str(status)
            detail.find("SpTime").text = str(sp_time)
            element.append(detail)
        info.insert(at + offset, element)
    if notifyers:
        notifyer = ET.SubElement(info, "Notifyer")
        for user_id in notifyers:
            ET.SubElement(notifyer, "UserId").text = user_id
    return ET.tostring(root, encoding="unicode")


def nonce() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(10))


@dataclass(frozen=True)
class Sealed:
    """A POST as WeCom sends it: the query parameters and the XML body."""

    params: dict[str, str]
    body: str


def seal(
    message: str,
    now: datetime,
    *,
    once: str | None = None,
    token: str = TOKEN,
    aes_key: str = AES_KEY,
    corp_id: str = CORP_ID,
) -> Sealed:
    timestamp = str(int(now.timestamp()))
    chosen = once or nonce()
    sealed = WecomCrypto(token, aes_key, corp_id).encrypt(message, timestamp, chosen)
    body = (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
        f"<Encrypt><![CDATA[{sealed.encrypted}]]></Encrypt>"
        "<AgentID><![CDATA[3010040]]></AgentID></xml>"
    )
    params = {"msg_signature": sealed.msg_signature, "timestamp": timestamp, "nonce": chosen}
    return Sealed(params, body)


def settings_body(**overrides: Any) -> dict[str, Any]:
    """The app's WeCom settings as an administrator PUTs them."""
    body: dict[str, Any] = {
        "corp_id": CORP_ID,
        "token": TOKEN,
        "aes_key": AES_KEY,
        "templates": {
            TEMPLATE_ID: {
                "template_key": "purchase_contract",
                "nodes": ["requesting_head", "legal", "finance_director", "committee"],
            }
        },
    }
    body.update(overrides)
    return body


# ---- the form of a purchase request, as WeCom's approval detail gives it -------------------


def _control(kind: str, control_id: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"control": kind, "id": control_id, "title": [{"text": control_id}], "value": value}


def _day(iso_date: str) -> str:
    """WeCom's Date control: midnight in China, in seconds, as text."""
    return str(int(datetime.fromisoformat(f"{iso_date}T00:00:00+08:00").timestamp()))


def _item(name: str, spec: str, quantity: str, price: str, subtotal: str) -> dict[str, Any]:
    return {
        "list": [
            _control("Text", "Text-item", {"text": name}),
            _control("Text", "Text-spec", {"text": spec}),
            _control("Number", "Number-qty", {"new_number": quantity}),
            _control("Money", "Money-price", {"new_money": price}),
            _control("Money", "Money-subtotal", {"new_money": subtotal}),
        ]
    }


CONTRACT_CONTENTS: list[dict[str, Any]] = [
    _control("Text", "Text-contract", {"text": "服务器采购"}),
    _control("Text", "Text-party-a", {"text": "Acme 示例科技"}),
    _control("Text", "Text-party-b", {"text": "某某供应商"}),
    _control("Money", "Money-amount", {"new_money": "600000.00"}),
    _control("Date", "Date-sign", {"date": {"type": "day", "s_timestamp": _day("2026-12-01")}}),
    _control("Textarea", "Textarea-terms", {"text": "货到付款"}),
    _control("Contact", "Contact-dept", {"departments": [{"openapi_id": "7", "name": "研发中心"}]}),
    _control(
        "Table",
        "Table-items",
        {
            "children": [
                _item("服务器", "2U", "10", "55000", "550000"),
                _item("交换机", "", "2", "25000", "50000"),
            ]
        },
    ),
    _control("File", "File-quote", {"files": [{"file_id": "WWCISP_quote"}]}),
]

CONTRACT_FIELDS: dict[str, str] = {
    "Text-contract": "contract_name",
    "Text-party-a": "party_a",
    "Text-party-b": "party_b",
    "Money-amount": "contract_amount",
    "Date-sign": "sign_date",
    "Textarea-terms": "payment_terms",
    "Contact-dept": "department",
    "Table-items": "items",
    "Text-item": "items.name",
    "Text-spec": "items.spec",
    "Number-qty": "items.quantity",
    "Money-price": "items.unit_price",
    "Money-subtotal": "items.subtotal",
    "File-quote": "attachments",
}
