"""End to end: a purchase approved in WeCom calls back (encrypted `sys_approval_change`);
Signoff mirrors it, the app's webhook hears `signoff.instance.approved`, and the contract is
made from the committed Word template with the form WeCom's approval detail API gives.

The app runs for real (FastAPI's TestClient), the webhook receiver is a real HTTP server
verifying signatures with `standardwebhooks`, WeCom's API is a stand-in on 127.0.0.1, and
the dispatcher's steps are driven by hand, as tests/events does."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import docx

from signoff.documents.generator import generate_documents_once
from signoff.events.dispatcher import Dispatcher
from tests.api.conftest import ADMIN, Api
from tests.documents.conftest import body_text
from tests.documents.stored import contract_docx
from tests.events.conftest import Receiver, run_step, settings
from tests.integrations.wecom_api import SECRET, FakeWecom, wecom  # noqa: F401  # fixture
from tests.integrations.wecom_events import (
    CONTRACT_CONTENTS,
    CONTRACT_FIELDS,
    TEMPLATE_ID,
    Record,
    approval_xml,
    seal,
    settings_body,
)

SP_NO = "202612010007"
NODES = ["requesting_head", "legal", "finance_director", "committee"]


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.request.url, response.text)
    return response.json() if response.content else None


def approved_purchase(now: datetime) -> str:
    """WeCom's last event of the request: every node approved, the request too."""
    t = int(now.timestamp())
    records = [
        Record(2, (("lina", 2, "同意", t - 3000),)),
        Record(2, (("gaomin", 2, "条款已审", t - 2400),)),
        Record(2, (("sunli", 2, "", t - 1800),)),
        Record(2, (("hejun", 2, "", t - 900), ("wangqiang", 2, "价格合理", t - 600)), 2),
    ]
    return approval_xml(SP_NO, 2, records, apply_time=now - timedelta(hours=2))


def deliver_all(dispatcher: Dispatcher) -> int:
    """Deliver webhooks until none is due (one per receiver and request at a time: order)."""
    total = 0
    while done := run_step(dispatcher, dispatcher.deliver_webhooks):
        total += done
    return total


def set_up(api: Api, receiver: Receiver, wecom: FakeWecom) -> str:  # noqa: F811  # the fixture
    """A procurement app hearing every event of its templates at the receiver, linked to
    WeCom with the approval app's Secret; the contract template uploaded."""
    admin = api.as_(ADMIN)
    app = ok(admin.post("/api/v1/apps", json={"name": "采购系统"}), 201)
    mapping = {"template_key": "purchase_contract", "nodes": NODES, "fields": CONTRACT_FIELDS}
    body = settings_body(secret=SECRET, templates={TEMPLATE_ID: mapping})
    ok(admin.put(f"/api/v1/apps/{app['id']}/wecom", json=body))
    hook = {"url": receiver.url, "event_types": ["*"]}
    receiver.secret = ok(admin.post(f"/api/v1/apps/{app['id']}/webhooks", json=hook), 201)["secret"]
    upload = admin.put(
        "/api/v1/templates/purchase_contract/document",
        content=contract_docx(),
        params={"filename": "采购合同.docx"},
        headers={"Content-Type": "application/octet-stream"},
    )
    ok(upload)
    wecom.details[SP_NO] = {"sp_no": SP_NO, "apply_data": {"contents": CONTRACT_CONTENTS}}
    return str(app["id"])


def test_a_purchase_approved_in_wecom_is_mirrored_announced_and_gets_its_contract(
    api: Api,
    receiver: Receiver,
    wecom: FakeWecom,  # noqa: F811  # the fixture
) -> None:
    # webhooks are signed with the dispatcher's clock and checked against the real one
    api.clock.current = datetime.now(UTC).replace(microsecond=0)
    api.services.settings = api.services.settings.model_copy(update={"wecom_api_url": wecom.url})
    app_id = set_up(api, receiver, wecom)
    sealed = seal(approved_purchase(api.clock.now()), api.clock.now())

    response = api.anonymous.post(
        f"/integrations/wecom/callback/{app_id}", params=sealed.params, content=sealed.body
    )
    assert response.status_code == 200 and response.text == ""
    assert wecom.calls == ["/cgi-bin/gettoken", "/cgi-bin/oa/getapprovaldetail"]

    # the mirrored request, as the applicant sees it
    [item] = ok(api.as_("u-zhangsan").get("/api/v1/inbox/mine"))["items"]
    view = ok(api.as_("u-zhangsan").get(f"/api/v1/instances/{item['instance_id']}"))
    assert view["status"] == "approved" and view["external"]["id"] == SP_NO
    assert view["form"]["party_b"] == "某某供应商" and len(view["form"]["items"]) == 2
    assert view["title"] == "服务器采购（某某供应商）"
    decisions = [
        (e["actor"], e["data"].get("comment"))
        for e in view["timeline"]
        if e["type"] == "TaskApproved"
    ]
    assert decisions == [
        ("u-lina", "同意"),
        ("u-gaomin", "条款已审"),
        ("u-sunli", None),
        ("u-hejun", None),
        ("u-wangqiang", "价格合理"),
    ]
    assert view["timeline"][-1]["type"] == "InstanceApproved"

    # the app's webhook hears the approval, as for a native one
    dispatcher = Dispatcher(api.services.db, api.clock, settings())
    assert dispatcher.relay_once()
    deliver_all(dispatcher)
    types = [e["type"] for e in receiver.received]
    assert types[0] == "signoff.instance.submitted"
    assert types.count("signoff.task.approved") == 5
    [approval] = [e for e in receiver.received if e["type"] == "signoff.instance.approved"]
    assert approval["subject"] == view["id"] and approval["data"]["status"] == "approved"
    assert approval["data"]["external"] == {"source": view["external"]["source"], "id": SP_NO}

    # the contract, made by the worker from the committed template
    assert generate_documents_once(api.services.db, api.clock) == 1
    assert dispatcher.relay_once()
    assert deliver_all(dispatcher) == 1
    [made] = [e for e in receiver.received if e["type"] == "signoff.document.generated"]
    download = api.as_("u-zhangsan").get(made["data"]["url"])
    assert download.status_code == 200
    text = "\n".join(body_text(download.content))
    for expected in (
        "乙方：某某供应商",
        "陆拾万元整",
        "李娜",
        "高敏",
        "条款已审",
        "何军、王强",
        view["serial"],
    ):
        assert expected in text, expected
    rows = docx.Document(io.BytesIO(download.content)).tables[0].rows
    assert [c.text for c in rows[2].cells][:2] == ["2", "交换机"]

    # WeCom sends the same event again: nothing changes, nothing more is heard or made
    api.clock.advance(seconds=20)
    again = seal(approved_purchase(api.clock.now() - timedelta(seconds=20)), api.clock.now())
    response = api.anonymous.post(
        f"/integrations/wecom/callback/{app_id}", params=again.params, content=again.body
    )
    assert response.status_code == 200
    assert (
        ok(api.as_("u-zhangsan").get(f"/api/v1/instances/{view['id']}"))["version"]
        == view["version"]
    )
    heard = len(receiver.received)
    assert not dispatcher.relay_once()
    assert generate_documents_once(api.services.db, api.clock) == 0
    assert deliver_all(dispatcher) == 0
    assert len(receiver.received) == heard
    assert wecom.tokens == 1  # the access token was reused


def test_when_wecom_s_api_is_away_the_callback_fails_and_its_retry_gets_through(
    api: Api,
    receiver: Receiver,
    wecom: FakeWecom,  # noqa: F811  # the fixture
) -> None:
    api.services.settings = api.services.settings.model_copy(update={"wecom_api_url": wecom.url})
    app_id = set_up(api, receiver, wecom)
    sealed = seal(approved_purchase(api.clock.now()), api.clock.now())
    url = f"/integrations/wecom/callback/{app_id}"
    wecom.down = True
    failed = api.anonymous.post(url, params=sealed.params, content=sealed.body)
    assert failed.status_code == 409 and failed.json()["code"] == "wecom_api_unavailable"
    assert ok(api.as_("u-zhangsan").get("/api/v1/inbox/mine"))["items"] == []
    wecom.down = False
    retried = api.anonymous.post(url, params=sealed.params, content=sealed.body)  # same nonce
    assert retried.status_code == 200, retried.text
    [item] = ok(api.as_("u-zhangsan").get("/api/v1/inbox/mine"))["items"]
    assert item["status"] == "approved"
