"""A receiver runs every check in order: signature, freshness, decryption, replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from signoff.integrations.wecom.approval import ChangeEvent, SpStatus, parse_approval_change
from signoff.integrations.wecom.crypto import WecomCrypto
from signoff.integrations.wecom.errors import (
    MalformedXml,
    ReceiveIdMismatch,
    ReplayedNonce,
    SignatureMismatch,
    StaleTimestamp,
)
from signoff.integrations.wecom.freshness import MemoryReplayGuard
from signoff.integrations.wecom.messages import parse_xml
from signoff.integrations.wecom.receiver import WecomReceiver, new_nonce
from signoff.service.clock import ManualClock
from tests.integrations.conftest import Vector, crypto_for, vector


def receiver_at(v: Vector, receive_id: str | None = None) -> WecomReceiver:
    """A receiver for the vector's app whose clock reads the vector's timestamp."""
    return receiver_with(v, receive_id)[0]


def receiver_with(
    v: Vector, receive_id: str | None = None
) -> tuple[WecomReceiver, ManualClock, MemoryReplayGuard]:
    """The receiver of `receiver_at`, its clock and its replay guard."""
    clock = ManualClock(datetime.fromtimestamp(int(v["timestamp"]), UTC))
    guard = MemoryReplayGuard(clock)
    return WecomReceiver(crypto_for(v, receive_id), guard, clock), clock, guard


def test_the_official_url_verification_is_answered_with_the_echostr() -> None:
    v = vector("wecom-official-doc-verifyurl")

    answer = receiver_at(v).verify_url(
        v["msg_signature"], v["timestamp"], v["nonce"], v["encrypted"]
    )

    assert answer == "1616140317555161061"


def test_a_posted_body_is_opened_to_its_message() -> None:
    v = vector("go-workwx-envelope-message")

    message = receiver_at(v).receive(v["msg_signature"], v["timestamp"], v["nonce"], v["post_body"])

    assert message == v["expected_plaintext"]


def test_the_same_request_twice_is_refused_the_second_time() -> None:
    v = vector("wecom-official-python-decryptmsg")
    receiver = receiver_at(v)
    receiver.receive(v["msg_signature"], v["timestamp"], v["nonce"], v["post_body"].encode())

    with pytest.raises(ReplayedNonce):
        receiver.receive(v["msg_signature"], v["timestamp"], v["nonce"], v["post_body"].encode())


def test_an_old_request_is_refused_as_stale() -> None:
    v = vector("wecom-official-python-decryptmsg")
    receiver, clock, _ = receiver_with(v)
    clock.advance(minutes=6)

    with pytest.raises(StaleTimestamp):
        receiver.receive(v["msg_signature"], v["timestamp"], v["nonce"], v["post_body"])


def test_a_bad_signature_is_reported_before_staleness_and_remembers_nothing() -> None:
    v = vector("wechatpy-decrypt-message")
    clock = ManualClock(datetime(2030, 1, 1, tzinfo=UTC))
    guard = MemoryReplayGuard(clock)
    receiver = WecomReceiver(crypto_for(v), guard, clock)

    with pytest.raises(SignatureMismatch):
        receiver.receive("0" * 40, v["timestamp"], v["nonce"], v["post_body"])
    assert len(guard) == 0


def test_a_request_for_another_corp_is_refused_and_its_nonce_not_remembered() -> None:
    v = vector("go-workwx-signature-body-other-corp")
    receiver, _, guard = receiver_with(v, receive_id="ww6a112864f8022910")
    body = f"<xml><Encrypt><![CDATA[{v['encrypted']}]]></Encrypt></xml>"

    with pytest.raises(ReceiveIdMismatch):
        receiver.receive(v["msg_signature"], v["timestamp"], v["nonce"], body)
    assert len(guard) == 0


def test_a_body_with_a_dtd_is_refused_before_any_crypto() -> None:
    v = vector("wecom-official-python-decryptmsg")
    body = '<!DOCTYPE xml [<!ENTITY e "x">]><xml><Encrypt>&e;</Encrypt></xml>'

    with pytest.raises(MalformedXml):
        receiver_at(v).receive(v["msg_signature"], v["timestamp"], v["nonce"], body)


def test_an_approval_change_travels_from_wecom_to_a_typed_event(event_xml: bytes) -> None:
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    crypto = WecomCrypto(
        "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "ww1cSD21f1e9c0caaa"
    )
    timestamp = str(int(clock.now().timestamp()))
    sealed = crypto.encrypt(event_xml.decode(), timestamp, "42")
    body = f"<xml><ToUserName>ww1</ToUserName><Encrypt>{sealed.encrypted}</Encrypt></xml>"
    receiver = WecomReceiver(crypto, MemoryReplayGuard(clock), clock)
    clock.advance(seconds=3)

    event = parse_approval_change(receiver.receive(sealed.msg_signature, timestamp, "42", body))

    assert (event.sp_no, event.sp_status, event.status_change_event) == (
        "201910220003",
        SpStatus.PENDING,
        ChangeEvent.COMMENTED,
    )
    assert event.comments[0].content == "这是一个备注"


def test_a_reply_is_stamped_now_and_opens_with_the_same_crypto() -> None:
    v = vector("go-workwx-envelope-message")
    receiver, clock, _ = receiver_with(v)
    clock.advance(seconds=1)

    reply = parse_xml(receiver.reply("<xml><Content>ok</Content></xml>"))

    assert reply.text("TimeStamp") == str(int(v["timestamp"]) + 1)
    assert len(reply.text("Nonce")) == 16
    opened = receiver.crypto.decrypt(
        reply.text("MsgSignature"),
        reply.text("TimeStamp"),
        reply.text("Nonce"),
        reply.text("Encrypt"),
    )
    assert opened == "<xml><Content>ok</Content></xml>"


def test_nonces_for_replies_are_letters_and_digits_and_differ() -> None:
    nonces = {new_nonce() for _ in range(50)}

    assert len(nonces) == 50
    assert all(n.isascii() and n.isalnum() and len(n) == 16 for n in nonces)


def test_the_window_of_a_receiver_can_be_widened() -> None:
    v = vector("wecom-official-python-decryptmsg")
    clock = ManualClock(datetime.fromtimestamp(int(v["timestamp"]), UTC) + timedelta(minutes=8))
    receiver = WecomReceiver(
        crypto_for(v), MemoryReplayGuard(clock, timedelta(minutes=10)), clock, timedelta(minutes=10)
    )

    message = receiver.receive(v["msg_signature"], v["timestamp"], v["nonce"], v["post_body"])

    assert message == v["expected_plaintext"]
