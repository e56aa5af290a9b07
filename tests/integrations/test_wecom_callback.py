"""The WeCom callback endpoint on the real app: the URL handshake, every refusal (a 4xx, a
log line, nothing changed), approval changes mirrored onto Signoff instances, and the same
event delivered twice changing nothing the second time. Also the app's WeCom settings,
through the API and the CLI, whose secrets never come back out."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from httpx import Response

from signoff.cli import main
from signoff.integrations.wecom.crypto import WecomCrypto
from signoff.store.schema import callback_nonces, external_links, instances
from tests.api.conftest import ADMIN, Api
from tests.integrations.wecom_events import (
    AES_KEY,
    CORP_ID,
    TEMPLATE_ID,
    TOKEN,
    Record,
    approval_xml,
    nonce,
    seal,
    settings_body,
)

LOGGER = "signoff.integrations.wecom"
SP_NO = "202611230001"


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.request.url, response.text)
    return response.json() if response.content else None


def linked(api: Api) -> str:
    """An app linked to WeCom: its id."""
    app = ok(api.as_(ADMIN).post("/api/v1/apps", json={"name": "企业微信"}), 201)
    ok(api.as_(ADMIN).put(f"/api/v1/apps/{app['id']}/wecom", json=settings_body()))
    return str(app["id"])


@pytest.fixture
def app_id(api: Api) -> str:
    return linked(api)


def pending_at_legal(api: Api, sp_status: int = 1, **kwargs: Any) -> str:
    """张三's purchase request, approved by 李娜, with legal (高敏 or 林峰) now."""
    t = int(api.clock.now().timestamp())
    records = [
        Record(2, (("lina", 2, "同意采购", t - 600),)),
        Record(1, (("gaomin", 1, "", 0), ("linfeng", 1, "", 0))),
        Record(1, (("sunli", 1, "", 0),)),
    ]
    return approval_xml(
        SP_NO, sp_status, records, apply_time=api.clock.now() - timedelta(hours=1), **kwargs
    )


def post(api: Api, app_id: str, message: str, **seal_args: Any) -> Response:
    sealed = seal(message, api.clock.now(), **seal_args)
    return post_sealed(api, app_id, sealed.params, sealed.body)


def post_sealed(api: Api, app_id: str, params: dict[str, str], body: str) -> Response:
    url = f"/integrations/wecom/callback/{app_id}"
    return api.anonymous.post(url, params=params, content=body.encode())


def table(api: Api, name: sa.Table) -> list[Any]:
    with api.services.db.reader() as conn:
        return list(conn.execute(sa.select(name)))


def mirrored(api: Api) -> dict[str, Any]:
    [link] = table(api, external_links)
    assert (link.source, link.external_id) == (f"wecom:{CORP_ID}", SP_NO)
    return ok(api.as_(ADMIN).get(f"/api/v1/instances/{link.instance_id}"))  # type: ignore[no-any-return]


def refusal(response: Response, code: str, caplog: pytest.LogCaptureFixture) -> None:
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["code"] == code, response.text
    said = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert any(f"[{code}]" in line for line in said), said


# ---- the handshake --------------------------------------------------------------------------


def test_the_url_verification_answers_the_decrypted_echostr(api: Api, app_id: str) -> None:
    timestamp, once = str(int(api.clock.now().timestamp())), nonce()
    sealed = WecomCrypto(TOKEN, AES_KEY, CORP_ID).encrypt("5927782489442352469", timestamp, once)
    params = {
        "msg_signature": sealed.msg_signature,
        "timestamp": timestamp,
        "nonce": once,
        "echostr": sealed.encrypted,
    }
    response = api.anonymous.get(f"/integrations/wecom/callback/{app_id}", params=params)
    assert response.status_code == 200, response.text
    assert response.text == "5927782489442352469"
    assert response.headers["content-type"].startswith("text/plain")


def test_an_echostr_sent_with_its_plus_signs_unescaped_still_verifies(
    api: Api, app_id: str
) -> None:
    crypto = WecomCrypto(TOKEN, AES_KEY, CORP_ID)
    timestamp = str(int(api.clock.now().timestamp()))
    for attempt in range(200):  # find a ciphertext with a "+" in it
        once = f"n{attempt}"
        sealed = crypto.encrypt("echo", timestamp, once)
        if "+" in sealed.encrypted:
            break
    query = (
        f"msg_signature={sealed.msg_signature}&timestamp={timestamp}&nonce={once}"
        f"&echostr={sealed.encrypted}"
    )
    response = api.anonymous.get(f"/integrations/wecom/callback/{app_id}?{query}")
    assert response.status_code == 200 and response.text == "echo", response.text


# ---- refusals -------------------------------------------------------------------------------


def test_every_bad_callback_is_refused_logged_and_changes_nothing(
    api: Api, app_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    message = pending_at_legal(api)
    good = seal(message, api.clock.now())
    forged = dict(good.params, msg_signature="0" * 40)
    refusal(post_sealed(api, app_id, forged, good.body), "wecom_signature_mismatch", caplog)
    other_corp = seal(message, api.clock.now(), corp_id="wwsomebodyelse")
    refusal(
        post_sealed(api, app_id, other_corp.params, other_corp.body),
        "wecom_receive_id_mismatch",
        caplog,
    )
    old = seal(message, api.clock.now() - timedelta(minutes=6))
    refusal(post_sealed(api, app_id, old.params, old.body), "wecom_stale_timestamp", caplog)
    refusal(post(api, app_id, "<xml><ApprovalInfo>"), "wecom_malformed_xml", caplog)
    not_xml = seal("no xml", api.clock.now())
    refusal(
        post_sealed(api, app_id, not_xml.params, "<xml><Encrypt>"), "wecom_malformed_xml", caplog
    )
    assert table(api, instances) == [] and table(api, external_links) == []
    assert table(api, callback_nonces) == []  # nothing refused is remembered either
    refusal(post(api, "app-nobody", message), "wecom_not_configured", caplog)


def test_a_replayed_callback_is_refused_and_changes_nothing(
    api: Api, app_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    sealed = seal(pending_at_legal(api), api.clock.now())
    ok(post_sealed(api, app_id, sealed.params, sealed.body))
    version = mirrored(api)["version"]
    refusal(post_sealed(api, app_id, sealed.params, sealed.body), "wecom_replayed_nonce", caplog)
    assert mirrored(api)["version"] == version


# ---- mirroring ------------------------------------------------------------------------------


def test_an_approval_change_makes_a_mirrored_request_with_each_decision_in_its_timeline(
    api: Api, app_id: str
) -> None:
    response = post(api, app_id, pending_at_legal(api, notifyers=("majun",)))
    assert response.status_code == 200 and response.text == ""
    view = mirrored(api)
    assert view["template_key"] == "purchase_contract" and view["status"] == "pending"
    assert view["applicant_id"] == "u-zhangsan" and view["cc"] == ["u-majun"]
    assert view["serial"].startswith("PC-")
    assert sorted(t["assignee"] for t in view["pending"]) == ["u-gaomin", "u-linfeng"]
    approved = next(e for e in view["timeline"] if e["type"] == "TaskApproved")
    assert approved["actor"] == "u-lina" and approved["data"]["comment"] == "同意采购"
    assert view["external"] == {"source": f"wecom:{CORP_ID}", "id": SP_NO}
    legal = ok(api.as_("u-gaomin").get(f"/api/v1/instances/{view['id']}"))
    assert legal["actions"] == ["comment", "cc"]  # decided in WeCom, not here
    assert legal["writable"] == []  # the legal node may write payment_terms: not from here


def test_the_same_event_delivered_twice_changes_nothing_the_second_time(
    api: Api, app_id: str
) -> None:
    message = pending_at_legal(api)
    ok(post(api, app_id, message))
    first = mirrored(api)
    api.clock.advance(seconds=30)
    ok(post(api, app_id, message))  # WeCom sends it again (a new nonce and time)
    again = mirrored(api)
    assert again["version"] == first["version"] and again["timeline"] == first["timeline"]
    assert len(table(api, instances)) == 1


def test_later_events_move_the_mirrored_request_on(api: Api, app_id: str) -> None:
    ok(post(api, app_id, pending_at_legal(api)))
    t = int(api.clock.now().timestamp())
    done = [
        Record(2, (("lina", 2, "同意采购", t - 600),)),
        Record(2, (("gaomin", 2, "条款已审", t - 300), ("linfeng", 1, "", 0))),
        Record(3, (("sunli", 3, "预算不足", t - 60),)),
    ]
    rejected = approval_xml(SP_NO, 3, done, apply_time=api.clock.now() - timedelta(hours=1))
    ok(post(api, app_id, rejected))
    view = mirrored(api)
    assert view["status"] == "rejected" and view["pending"] == []
    decided = {t["assignee"]: t["status"] for t in view["tasks"]}
    assert decided == {
        "u-lina": "approved",
        "u-gaomin": "approved",
        "u-linfeng": "cancelled",
        "u-sunli": "rejected",
    }


def test_nobody_decides_a_mirrored_request_in_signoff(api: Api, app_id: str) -> None:
    ok(post(api, app_id, pending_at_legal(api)))
    task = next(t for t in mirrored(api)["pending"] if t["assignee"] == "u-gaomin")
    refused = api.as_("u-gaomin").post(f"/api/v1/tasks/{task['id']}/approve", json={})
    assert refused.status_code == 403 and refused.json()["code"] == "externally_decided"
    ok(
        api.as_("u-gaomin").post(
            f"/api/v1/instances/{task['id'][:-3]}/comments", json={"text": "已阅"}
        )
    )


def test_an_unknown_user_is_refused_and_wecom_s_retry_is_not_taken_for_a_replay(
    api: Api, app_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    sealed = seal(pending_at_legal(api, applicant="stranger007"), api.clock.now())
    first = post_sealed(api, app_id, sealed.params, sealed.body)
    refusal(first, "wecom_unknown_user", caplog)
    assert first.json()["details"]["user_ids"] == ["stranger007"]
    retry = post_sealed(api, app_id, sealed.params, sealed.body)
    refusal(retry, "wecom_unknown_user", caplog)  # not wecom_replayed_nonce
    assert table(api, instances) == [] and table(api, callback_nonces) == []


def test_events_of_unmapped_templates_and_other_events_are_answered_and_ignored(
    api: Api, app_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    ok(post(api, app_id, pending_at_legal(api, template_id="SomeOtherWeComTemplate")))
    contact = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[sys]]>"
        "</FromUserName><CreateTime>1795396800</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_contact]]></Event></xml>"
    )
    ok(post(api, app_id, contact))
    assert table(api, instances) == []
    said = " ".join(r.getMessage() for r in caplog.records if r.name == LOGGER)
    assert "not mapped" in said and "change_contact ignored" in said


# ---- settings -------------------------------------------------------------------------------


def test_the_settings_never_show_their_secrets(api: Api, app_id: str) -> None:
    url = f"/api/v1/apps/{app_id}/wecom"
    response = api.as_(ADMIN).get(url)
    shown = ok(response)
    assert TOKEN not in response.text and AES_KEY not in response.text
    assert shown["token_set"] and shown["aes_key_set"] and not shown["secret_set"]
    assert shown["callback_url"] == f"/integrations/wecom/callback/{app_id}"
    assert shown["templates"][TEMPLATE_ID]["nodes"][0] == "requesting_head"
    # saved again without the secrets: the ones saved before are kept
    body = settings_body(token=None, aes_key=None, secret="approval-app-secret")
    again = api.as_(ADMIN).put(url, json=body)
    assert ok(again)["secret_set"] and "approval-app-secret" not in again.text
    ok(post(api, app_id, pending_at_legal(api, template_id="Unmapped")))  # still verifies
    owned = ok(api.as_(ADMIN).get(f"/api/v1/apps/{app_id}"))
    assert owned["templates"] == ["purchase_contract"]  # it hears its events


def test_bad_settings_are_refused(api: Api, app_id: str) -> None:
    url = f"/api/v1/apps/{app_id}/wecom"
    admin = api.as_(ADMIN)
    bad_key = admin.put(url, json=settings_body(aes_key="!" * 43))
    assert bad_key.status_code == 422 and bad_key.json()["code"] == "wecom_bad_key"
    unknown = settings_body(templates={TEMPLATE_ID: {"template_key": "nope"}})
    assert admin.put(url, json=unknown).json()["code"] == "unknown_template"
    nodes = settings_body(templates={TEMPLATE_ID: {"template_key": "leave", "nodes": ["a b"]}})
    assert admin.put(url, json=nodes).json()["code"] == "command_invalid"
    other = ok(admin.post("/api/v1/apps", json={"name": "another"}), 201)
    same_corp = admin.put(f"/api/v1/apps/{other['id']}/wecom", json=settings_body())
    assert same_corp.json()["code"] == "command_invalid"
    fresh = ok(admin.post("/api/v1/apps", json={"name": "third"}), 201)
    no_secrets = settings_body(corp_id="wwthird", token=None, aes_key=None)
    assert admin.put(f"/api/v1/apps/{fresh['id']}/wecom", json=no_secrets).status_code == 422
    missing = admin.get(f"/api/v1/apps/{fresh['id']}/wecom")
    assert missing.json()["code"] == "wecom_not_configured"
    assert api.as_("u-hejun").get(url).json()["code"] == "not_admin"


def test_the_cli_links_an_app_and_prints_no_secret(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    app = ok(api.as_(ADMIN).post("/api/v1/apps", json={"name": "企业微信"}), 201)
    code = main(
        [
            "--database",
            api.services.db.url,
            "app",
            "wecom",
            app["id"],
            "--corp-id",
            CORP_ID,
            "--token",
            TOKEN,
            "--aes-key",
            AES_KEY,
            "--template",
            f"{TEMPLATE_ID}=purchase_contract:requesting_head,legal",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"/integrations/wecom/callback/{app['id']}" in out
    assert TOKEN not in out and AES_KEY not in out
    shown = ok(api.as_(ADMIN).get(f"/api/v1/apps/{app['id']}/wecom"))
    assert shown["templates"][TEMPLATE_ID]["nodes"] == ["requesting_head", "legal"]
    assert (
        main(
            [
                "--database",
                api.services.db.url,
                "app",
                "wecom",
                app["id"],
                "--corp-id",
                "x",
                "--template",
                "bad",
            ]
        )
        == 1
    )
