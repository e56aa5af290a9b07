"""WXBizMsgCrypt against every published vector, every negative case, and the ways a
ciphertext can be wrong although its signature is right."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signoff.domain.errors import Invalid
from signoff.integrations.wecom import errors
from signoff.integrations.wecom.crypto import BLOCK_SIZE, WecomCrypto, pad, signature, unpad
from signoff.integrations.wecom.errors import (
    BadCiphertext,
    BadKey,
    CallbackRejected,
    ReceiveIdMismatch,
    SignatureMismatch,
)
from tests.integrations.conftest import (
    Vector,
    all_vectors,
    crypto_for,
    negative_cases,
    params,
    random_prefix,
    seal_raw,
    vector,
)

SIGNED = [v for v in all_vectors() if v["msg_signature"]]
RECEIVED = [v for v in SIGNED if v["kind"] in {"verify_url", "decrypt_msg"}]
EXPECTED_ERRORS: dict[str, type[CallbackRejected]] = {
    "signature_mismatch": SignatureMismatch,
    "receive_id_mismatch": ReceiveIdMismatch,
}
WECHATPY = "wechatpy-decrypt-message"


def request(v: Vector) -> tuple[str, str, str, str]:
    return v["msg_signature"], v["timestamp"], v["nonce"], v["encrypted"]


def layout(v: Vector, message: bytes, length: int | None = None) -> bytes:
    """The plaintext layout, unpadded: random prefix, length, message, receive id."""
    size = len(message) if length is None else length
    return b"r" * 16 + size.to_bytes(4, "big") + message + str(v["receive_id"]).encode()


def resealed(v: Vector, padded: bytes) -> str:
    """The vector's crypto opening `padded` (encrypted as it is), correctly signed."""
    encrypted, msg_signature = seal_raw(v, padded)
    return crypto_for(v).decrypt(msg_signature, "1", "n", encrypted)


# ---- the published vectors ----------------------------------------------------------


@pytest.mark.parametrize("v", params(SIGNED))
def test_every_vector_s_signature_is_sha1_of_the_four_sorted_strings(v: Vector) -> None:
    assert signature(v["token"], v["timestamp"], v["nonce"], v["encrypted"]) == v["msg_signature"]


@pytest.mark.parametrize("v", params([v for v in RECEIVED if v["kind"] == "verify_url"]))
def test_url_verification_returns_the_decrypted_echostr(v: Vector) -> None:
    assert crypto_for(v).verify_url(*request(v)) == v["expected_plaintext"]


@pytest.mark.parametrize("v", params([v for v in RECEIVED if v["kind"] == "decrypt_msg"]))
def test_a_posted_message_decrypts_to_the_expected_text(v: Vector) -> None:
    assert crypto_for(v).decrypt(*request(v)) == v["expected_plaintext"]


@pytest.mark.parametrize("v", params(all_vectors()))
def test_encrypting_with_the_vector_s_random_prefix_reproduces_its_ciphertext_exactly(
    v: Vector,
) -> None:
    timestamp, nonce = v["timestamp"] or "0", v["nonce"] or "0"
    sealed = crypto_for(v).encrypt(v["expected_plaintext"], timestamp, nonce, random_prefix(v))

    assert sealed.encrypted == v["encrypted"]
    if v["msg_signature"]:
        assert sealed.msg_signature == v["msg_signature"]


@pytest.mark.parametrize("v", params(all_vectors()))
def test_the_vectors_pad_to_32_byte_blocks_with_the_pad_byte_they_record(v: Vector) -> None:
    length = 20 + len(v["expected_plaintext"].encode()) + len(v["receive_id"].encode())

    assert BLOCK_SIZE - length % BLOCK_SIZE == v["pkcs7_pad_byte"]
    assert len(base64.b64decode(v["encrypted"])) % BLOCK_SIZE == 0


@pytest.mark.parametrize("v", params([v for v in all_vectors() if "query_string" in v]))
def test_the_url_decoded_query_string_carries_the_signed_values(v: Vector) -> None:
    query = {k: values[0] for k, values in parse_qs(v["query_string"], strict_parsing=True).items()}

    assert query.get("msg_signature", query.get("signature")) == v["msg_signature"]
    assert (query["timestamp"], query["nonce"]) == (v["timestamp"], v["nonce"])
    if "echostr" in query:
        assert query["echostr"] == v["encrypted"]
        assert crypto_for(v).verify_url(*request(v)) == v["expected_plaintext"]


def test_the_dingtalk_success_reply_is_the_encrypted_word_success() -> None:
    v = vector("dingtalk-o2oa-encrypted-success")
    sealed = crypto_for(v).encrypt("success", v["timestamp"], v["nonce"], random_prefix(v))
    reply = {
        "msg_signature": sealed.msg_signature,
        "timeStamp": v["timestamp"],
        "nonce": v["nonce"],
        "encrypt": sealed.encrypted,
    }

    assert reply == v["response_json"]
    assert crypto_for(v).decrypt(*request(v)) == "success"


def test_a_message_signed_for_another_corp_is_refused_although_its_signature_is_right() -> None:
    v = vector("go-workwx-signature-body-other-corp")

    with pytest.raises(ReceiveIdMismatch) as caught:
        crypto_for(v, receive_id="ww6a112864f8022910").decrypt(*request(v))
    assert caught.value.details["received"] == "wwf181555a13a31443"


@pytest.mark.parametrize("case", params(negative_cases()))
def test_every_published_negative_case_is_refused_for_its_reason(case: dict[str, Any]) -> None:
    base = vector(case["base"])
    override = dict(case["override"])
    configured = override.pop("configured_receive_id", None)
    v = {**base, **override}

    with pytest.raises(EXPECTED_ERRORS[case["expect"]]):
        crypto_for(v, receive_id=configured).decrypt(*request(v))


# ---- tampering and damage -----------------------------------------------------------


def test_a_tampered_ciphertext_no_longer_matches_its_signature() -> None:
    v = vector(WECHATPY)
    changed = "A" if v["encrypted"][10] != "A" else "B"
    tampered = v["encrypted"][:10] + changed + v["encrypted"][11:]

    with pytest.raises(SignatureMismatch):
        crypto_for(v).decrypt(v["msg_signature"], v["timestamp"], v["nonce"], tampered)


def test_a_signature_that_is_not_ascii_is_a_mismatch_not_a_crash() -> None:
    v = vector(WECHATPY)

    with pytest.raises(SignatureMismatch):
        crypto_for(v).decrypt("签名", v["timestamp"], v["nonce"], v["encrypted"])


def test_a_correctly_signed_message_under_another_key_is_refused() -> None:
    v = vector(WECHATPY)
    other_key = WecomCrypto(v["token"], "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "x")

    with pytest.raises((BadCiphertext, ReceiveIdMismatch)):
        other_key.decrypt(*request(v))


def cut(size: int) -> str:
    """The wechatpy ciphertext cut to `size` bytes, as base64."""
    return base64.b64encode(base64.b64decode(vector(WECHATPY)["encrypted"])[:size]).decode()


@pytest.mark.parametrize(
    ("damaged", "reason"),
    [
        pytest.param(cut(16), "not whole 32-byte blocks", id="one-aes-block"),
        pytest.param(cut(48), "not whole 32-byte blocks", id="one-and-a-half-blocks"),
        pytest.param(cut(37), "not whole 32-byte blocks", id="not-whole-aes-blocks"),
        pytest.param(cut(0), "not whole 32-byte blocks", id="empty"),
        pytest.param(cut(32)[:-1], "not valid base64", id="truncated-base64"),
        pytest.param("-" + cut(32)[1:], "not valid base64", id="not-base64"),
        pytest.param(cut(32) + "\n", "not valid base64", id="trailing-newline"),
    ],
)
def test_a_damaged_ciphertext_is_refused_even_when_re_signed(damaged: str, reason: str) -> None:
    v = vector(WECHATPY)
    msg_signature = signature(v["token"], v["timestamp"], v["nonce"], damaged)

    with pytest.raises(BadCiphertext, match=reason):
        crypto_for(v).decrypt(msg_signature, v["timestamp"], v["nonce"], damaged)


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(b"\x00", id="pad-byte-zero"),
        pytest.param(b"\x21", id="pad-byte-33"),
        pytest.param(b"\x01\x02", id="inconsistent-pad-bytes"),
        pytest.param(b"\x20", id="pad-byte-32-over-other-bytes"),
    ],
)
def test_bad_padding_is_refused(tail: bytes) -> None:
    v = vector(WECHATPY)
    body = layout(v, b"hi")
    with pytest.raises(BadCiphertext, match="padding"):
        resealed(v, body + b"\x05" * (64 - len(body) - len(tail)) + tail)


def test_padding_above_16_bytes_is_accepted_up_to_a_whole_32_byte_block() -> None:
    assert pad(b"") == bytes([32]) * 32
    assert unpad(b"x" * 15 + bytes([17]) * 17) == b"x" * 15
    assert unpad(bytes([32]) * 32) == b""


def test_a_length_prefix_longer_than_the_message_is_refused() -> None:
    v = vector(WECHATPY)

    with pytest.raises(BadCiphertext, match="length prefix"):
        resealed(v, pad(layout(v, b"hi", length=999)))


def test_a_plaintext_too_short_for_the_random_prefix_and_length_is_refused() -> None:
    with pytest.raises(BadCiphertext, match="too short"):
        resealed(vector(WECHATPY), pad(b"r" * 19))


def test_a_message_that_is_not_utf8_is_refused() -> None:
    v = vector(WECHATPY)

    with pytest.raises(BadCiphertext, match="UTF-8"):
        resealed(v, pad(layout(v, b"\xff\xfe")))


# ---- configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        pytest.param("a" * 42, "43 characters long, not 42", id="too-short"),
        pytest.param("a" * 44, "43 characters long, not 44", id="too-long"),
        pytest.param("a" * 42 + "=", "only base64 characters", id="padding-character"),
        pytest.param("a" * 42 + "-", "only base64 characters", id="url-safe-alphabet"),
        pytest.param("a" * 42 + "中", "only base64 characters", id="not-ascii"),
    ],
)
def test_an_unusable_encoding_aes_key_is_refused_with_a_clear_reason(key: str, reason: str) -> None:
    with pytest.raises(BadKey, match=reason) as caught:
        WecomCrypto("token", key, "corp")
    assert key not in str(caught.value)


def test_a_key_whose_last_character_has_nonzero_unused_bits_is_accepted_like_everywhere() -> None:
    v = vector("wechatpy-check-signature")
    lenient = crypto_for(v)
    canonical = WecomCrypto(v["token"], v["encoding_aes_key"][:-1] + "Q", v["receive_id"])

    assert v["encoding_aes_key"].endswith("R")
    assert lenient.verify_url(*request(v)) == canonical.verify_url(*request(v))


@pytest.mark.parametrize(("token", "receive_id"), [("", "corp"), ("token", "")])
def test_an_empty_token_or_receive_id_is_refused(token: str, receive_id: str) -> None:
    with pytest.raises(BadKey):
        WecomCrypto(token, "a" * 43, receive_id)


def test_the_crypto_s_repr_shows_neither_token_nor_key() -> None:
    v = vector(WECHATPY)

    shown = repr(crypto_for(v))

    assert v["token"] not in shown and v["encoding_aes_key"] not in shown
    assert v["receive_id"] in shown


def test_a_reply_s_random_prefix_must_be_16_bytes() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        crypto_for(vector(WECHATPY)).encrypt("hi", "1", "n", random=b"short")


def test_every_wecom_error_is_an_invalid_input_with_its_own_stable_code() -> None:
    classes = [
        c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.WecomError)
    ]
    codes = [c.code for c in classes]

    assert all(issubclass(c, Invalid) for c in classes)
    assert len(set(codes)) == len(codes) == 10  # UnknownWecomUser: the mirroring's
    assert all(code.startswith("wecom_") for code in codes)
    assert {c.code for c in classes if issubclass(c, CallbackRejected)} >= {
        "wecom_signature_mismatch",
        "wecom_receive_id_mismatch",
        "wecom_bad_ciphertext",
        "wecom_stale_timestamp",
        "wecom_replayed_nonce",
        "wecom_malformed_xml",
    }


# ---- properties -----------------------------------------------------------------------


@given(
    message=st.text(),
    prefix=st.binary(min_size=16, max_size=16),
    receive_id=st.text(min_size=1, max_size=40),
    nonce=st.text(alphabet="abcdef0123456789", min_size=1, max_size=16),
)
def test_any_utf8_message_encrypted_for_a_receiver_decrypts_back_to_itself(
    message: str, prefix: bytes, receive_id: str, nonce: str
) -> None:
    crypto = WecomCrypto("token", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", receive_id)

    sealed = crypto.encrypt(message, "1700000000", nonce, random=prefix)

    assert len(base64.b64decode(sealed.encrypted)) % BLOCK_SIZE == 0
    assert crypto.decrypt(sealed.msg_signature, "1700000000", nonce, sealed.encrypted) == message


@given(message=st.text(), other=st.text(min_size=1, max_size=40))
def test_a_message_encrypted_for_one_receiver_is_refused_by_another(
    message: str, other: str
) -> None:
    key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    sealed = WecomCrypto("token", key, "corp-a").encrypt(message, "1", "n")

    receiver = WecomCrypto("token", key, "corp-a" + other)
    with pytest.raises(ReceiveIdMismatch):
        receiver.decrypt(sealed.msg_signature, "1", "n", sealed.encrypted)
