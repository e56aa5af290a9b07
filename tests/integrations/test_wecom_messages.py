"""The XML envelope, the encrypted reply, the message header, and unsafe XML refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from signoff.integrations.wecom.crypto import Sealed
from signoff.integrations.wecom.errors import MalformedXml
from signoff.integrations.wecom.messages import (
    MAX_XML_BYTES,
    parse_envelope,
    parse_header,
    parse_xml,
    reply_xml,
)
from tests.integrations.conftest import (
    Vector,
    all_vectors,
    crypto_for,
    params,
    random_prefix,
    vector,
)

XML_BODIES = [v for v in all_vectors() if v.get("post_body", "").startswith("<xml>")]
XML_MESSAGES = [v for v in all_vectors() if v["expected_plaintext"].startswith("<xml>")]

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xml [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml><Encrypt>&lol3;</Encrypt></xml>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xml><Encrypt>&secret;</Encrypt></xml>"""
DTD_ONLY = '<!DOCTYPE xml SYSTEM "http://example.com/x.dtd"><xml><Encrypt>x</Encrypt></xml>'


@pytest.mark.parametrize("v", params(XML_BODIES))
def test_the_envelope_of_a_posted_vector_holds_its_ciphertext(v: Vector) -> None:
    envelope = parse_envelope(v["post_body"])

    assert envelope.encrypt == v["encrypted"]
    assert envelope.to_user == v["receive_id"]
    assert envelope.agent_id is not None and envelope.agent_id.isdigit()


def test_an_envelope_without_encrypt_is_refused_naming_the_path() -> None:
    with pytest.raises(MalformedXml) as caught:
        parse_envelope("<xml><ToUserName>ww1</ToUserName></xml>")

    assert caught.value.details["path"] == "xml/Encrypt"
    assert caught.value.problems[0].rule == "required"


def test_an_envelope_with_two_encrypt_elements_is_refused() -> None:
    with pytest.raises(MalformedXml, match="appears 2 times"):
        parse_envelope("<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>")


def test_only_encrypt_is_required_in_an_envelope() -> None:
    envelope = parse_envelope(b"<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>")

    assert (envelope.encrypt, envelope.to_user, envelope.agent_id) == ("abc", None, None)


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        pytest.param(BILLION_LAUGHS, "unsafe", id="billion-laughs"),
        pytest.param(EXTERNAL_ENTITY, "unsafe", id="external-entity"),
        pytest.param(DTD_ONLY, "unsafe", id="external-dtd"),
        pytest.param("<xml><Encrypt>x</xml>", "syntax", id="mismatched-tag"),
        pytest.param("", "syntax", id="empty"),
        pytest.param("not xml", "syntax", id="text"),
        pytest.param(b'<?xml version="1.0" encoding="GBK"?><xml/>', "syntax", id="gbk-declared"),
        pytest.param("<envelope><Encrypt>x</Encrypt></envelope>", "root", id="wrong-root"),
        pytest.param(b"<xml>" + b" " * MAX_XML_BYTES + b"</xml>", "size", id="too-large"),
    ],
)
def test_unsafe_or_broken_xml_is_refused_before_anything_is_read(
    document: str | bytes, rule: str
) -> None:
    with pytest.raises(MalformedXml) as caught:
        parse_envelope(document)
    assert caught.value.problems[0].rule == rule


def test_the_reply_is_the_envelope_wechatpy_expects_byte_for_byte() -> None:
    v = vector("wechatpy-encrypt-message-deterministic")
    sealed = crypto_for(v).encrypt(
        v["expected_plaintext"], v["timestamp"], v["nonce"], random_prefix(v)
    )

    assert reply_xml(sealed, v["timestamp"], v["nonce"]) == (
        f"<xml>\n<Encrypt><![CDATA[{v['encrypted']}]]></Encrypt>\n"
        "<MsgSignature><![CDATA[407518b7649e86ef23978113f92d27afa9296533]]></MsgSignature>\n"
        "<TimeStamp>1411525903</TimeStamp>\n"
        "<Nonce><![CDATA[461056294]]></Nonce>\n</xml>"
    )


def test_a_reply_parses_back_and_its_signature_verifies() -> None:
    v = vector("go-workwx-envelope-message")
    crypto = crypto_for(v)
    sealed = crypto.encrypt("<xml><Content>回复</Content></xml>", "1583995626", "abc123")

    root = parse_xml(reply_xml(sealed, "1583995626", "abc123"))

    assert root.text("MsgSignature") == sealed.msg_signature
    assert crypto.decrypt(
        root.text("MsgSignature"), root.text("TimeStamp"), root.text("Nonce"), root.text("Encrypt")
    ) == ("<xml><Content>回复</Content></xml>")


@pytest.mark.parametrize(
    ("timestamp", "nonce"), [("12a", "n1"), ("1", "a]]>b"), ("1", ""), ("1", "空")]
)
def test_a_reply_refuses_a_timestamp_or_nonce_that_could_break_its_xml(
    timestamp: str, nonce: str
) -> None:
    with pytest.raises(ValueError, match="reply"):
        reply_xml(Sealed("abc", "def"), timestamp, nonce)


@pytest.mark.parametrize("v", params(XML_MESSAGES))
def test_every_decrypted_vector_message_has_a_readable_header(v: Vector) -> None:
    header = parse_header(v["expected_plaintext"])

    assert header.msg_type == "text"
    assert header.event is None
    assert header.from_user
    assert header.create_time > datetime(2009, 1, 1, tzinfo=UTC)


def test_a_header_names_the_missing_path() -> None:
    with pytest.raises(MalformedXml) as caught:
        parse_header("<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName></xml>")

    assert caught.value.details["path"] == "xml/CreateTime"


def test_a_header_refuses_a_create_time_that_is_not_a_number() -> None:
    document = (
        "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
        "<CreateTime>--5</CreateTime><MsgType>text</MsgType></xml>"
    )

    with pytest.raises(MalformedXml, match="xml/CreateTime: '--5' is not a whole number"):
        parse_header(document)
