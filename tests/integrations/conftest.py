"""The published WXBizMsgCrypt vectors (WeCom and DingTalk) and the approval event sample.

`vectors/` is a byte-for-byte copy of the shared vector set (`../shared/vectors/` next to
the repository), so that the tests do not depend on a path outside the repository. Every
vector records the public repository, path and commit it was copied from; `vectors/README.md`
describes the layout and the sources.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from signoff.integrations.wecom.crypto import WecomCrypto, decode_key, signature
from tests.api.conftest import api  # noqa: F401  # the real app, for the callback endpoint's tests
from tests.events.conftest import receiver  # noqa: F401  # a webhook receiver (end to end)

VECTORS = Path(__file__).resolve().parent / "vectors"

Vector = dict[str, Any]


@cache
def vector_file(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


def all_vectors() -> list[Vector]:
    """Every positive vector of both files (DingTalk uses the same scheme)."""
    return [
        *vector_file("wecom_public.json")["vectors"],
        *vector_file("dingtalk_vectors.json")["vectors"],
    ]


def negative_cases() -> list[Vector]:
    return [
        *vector_file("wecom_public.json")["negative_cases"],
        *vector_file("dingtalk_vectors.json")["negative_cases"],
    ]


def vector(vector_id: str) -> Vector:
    return next(v for v in all_vectors() if v["id"] == vector_id)


def params(vectors: list[Vector]) -> list[Any]:
    """Vectors as pytest parameters named by their id."""
    return [pytest.param(v, id=v["id"]) for v in vectors]


def crypto_for(v: Vector, receive_id: str | None = None) -> WecomCrypto:
    return WecomCrypto(v["token"], v["encoding_aes_key"], receive_id or v["receive_id"])


def random_prefix(v: Vector) -> bytes:
    """The vector's 16 random bytes, stored as latin-1 text."""
    return str(v["random_prefix"]).encode("latin-1")


def seal_raw(v: Vector, padded: bytes, timestamp: str = "1", nonce: str = "n") -> tuple[str, str]:
    """Encrypt `padded` as it is (no padding, no layout) with the vector's key, and sign it:
    for ciphertexts whose signature is right but whose inside is wrong."""
    key = decode_key(v["encoding_aes_key"])
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypted = base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()
    return encrypted, signature(v["token"], timestamp, nonce, encrypted)


@pytest.fixture
def event_xml() -> bytes:
    return (VECTORS / "wecom_approval_event.xml").read_bytes()


@pytest.fixture
def event_expectations() -> dict[str, Any]:
    return vector_file("wecom_approval_event.json")
