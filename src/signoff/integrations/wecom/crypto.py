"""The WXBizMsgCrypt scheme that signs and encrypts WeCom (and DingTalk) callbacks.

- Signature: `msg_signature` = SHA-1 hex of token, timestamp, nonce and the base64
  ciphertext, sorted as plain strings and concatenated. It is computed over the base64
  text, so it can (and must) be checked before anything is decrypted.
- Key: AES key = base64-decode(EncodingAESKey + "="), 32 bytes, so AES-256. The 43rd
  character carries 2 unused bits; like every other implementation we ignore them.
- Cipher: AES-256-CBC, IV = the first 16 bytes of the key, PKCS#7 padding to 32-byte
  blocks (pad byte 1..32; a 16-byte unpadder would refuse most real messages).
- Plaintext: 16 random bytes + message length (4 bytes, big-endian, counting UTF-8
  bytes) + message + receive id (the corp id of a self-built app, the suite id of a
  third-party suite; DingTalk's owner key). The receive id must be ours.

The padding is not checked in constant time: it is only looked at after the signature
(which needs the Token) has been verified, so no padding oracle is exposed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
from typing import NamedTuple

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from signoff.integrations.wecom.errors import (
    BadCiphertext,
    BadKey,
    ReceiveIdMismatch,
    SignatureMismatch,
)

BLOCK_SIZE = 32
"""WXBizMsgCrypt pads to 32-byte blocks, twice AES's block."""

KEY_LENGTH = 43
RANDOM_LENGTH = 16
_LENGTH_PREFIX = 4
_BASE64_ALPHABET = frozenset(string.ascii_letters + string.digits + "+/")


class Sealed(NamedTuple):
    """An encrypted message and its signature: the `<Encrypt>` text and `<MsgSignature>`."""

    encrypted: str
    msg_signature: str


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """SHA-1 hex digest of the four strings, sorted lexicographically and concatenated."""
    joined = "".join(sorted((token, timestamp, nonce, encrypted)))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()  # noqa: S324  # the protocol fixes SHA-1


def decode_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key an EncodingAESKey stands for (BadKey if it is not one)."""
    if len(encoding_aes_key) != KEY_LENGTH:
        raise BadKey(
            f"the EncodingAESKey must be {KEY_LENGTH} characters long, not {len(encoding_aes_key)}",
            length=len(encoding_aes_key),
        )
    if not set(encoding_aes_key) <= _BASE64_ALPHABET:
        raise BadKey("the EncodingAESKey may hold only base64 characters: A-Z a-z 0-9 + /")
    key = base64.b64decode(encoding_aes_key + "=", validate=True)
    if len(key) != 32:  # cannot happen for 43 base64 characters; kept as the contract
        raise BadKey(f"the EncodingAESKey must decode to 32 bytes, not {len(key)}")
    return key


def pad(data: bytes) -> bytes:
    """PKCS#7 padding to a whole number of 32-byte blocks (always 1 to 32 bytes added)."""
    amount = BLOCK_SIZE - len(data) % BLOCK_SIZE
    return data + bytes([amount]) * amount


def unpad(data: bytes) -> bytes:
    """Remove PKCS#7 padding to 32-byte blocks, checking every pad byte (BadCiphertext)."""
    if not data or len(data) % BLOCK_SIZE:
        raise BadCiphertext(f"the padded plaintext is not whole {BLOCK_SIZE}-byte blocks")
    amount = data[-1]
    if not 1 <= amount <= BLOCK_SIZE or data[-amount:] != bytes([amount]) * amount:
        raise BadCiphertext("the plaintext's PKCS#7 padding is invalid")
    return data[:-amount]


def _same(a: str, b: str) -> bool:
    """Constant-time equality of two strings (any characters, unlike compare_digest on str)."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class WecomCrypto:
    """Verify, decrypt and encrypt the callbacks of one WeCom app (or DingTalk owner key).

    `token` and `encoding_aes_key` are the app's callback settings; `receive_id` is the
    corp id (self-built app), suite id (third-party suite) or DingTalk owner key.
    """

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        if not token:
            raise BadKey("the callback Token must not be empty")
        if not receive_id:
            raise BadKey("the receive id (corp id or suite id) must not be empty")
        self._token = token
        self._key = decode_key(encoding_aes_key)
        self.receive_id = receive_id

    def __repr__(self) -> str:  # never show the Token or the key
        return f"WecomCrypto(receive_id={self.receive_id!r})"

    def check_signature(
        self, msg_signature: str, timestamp: str, nonce: str, encrypted: str
    ) -> None:
        """Raise SignatureMismatch unless `msg_signature` signs these values with our Token."""
        expected = signature(self._token, timestamp, nonce, encrypted)
        if not _same(expected, msg_signature):
            raise SignatureMismatch(
                "msg_signature does not match the Token, timestamp, nonce and ciphertext",
                timestamp=timestamp,
                nonce=nonce,
            )

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The decrypted `echostr` of a URL verification (GET), to send back verbatim.

        `echostr` is the query parameter after URL-decoding (`%2B` -> `+`, never `+` -> space).
        """
        return self.decrypt(msg_signature, timestamp, nonce, echostr)

    def decrypt(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> str:
        """The message inside `encrypted` (the `<Encrypt>` text), after every check passed."""
        self.check_signature(msg_signature, timestamp, nonce, encrypted)
        return self._open(encrypted)

    def _open(self, encrypted: str) -> str:
        try:
            ciphertext = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadCiphertext("the ciphertext is not valid base64") from exc
        if not ciphertext or len(ciphertext) % BLOCK_SIZE:
            raise BadCiphertext(
                f"the ciphertext is {len(ciphertext)} bytes, not whole {BLOCK_SIZE}-byte blocks",
                length=len(ciphertext),
            )
        decryptor = self._cipher().decryptor()
        content = unpad(decryptor.update(ciphertext) + decryptor.finalize())
        header = RANDOM_LENGTH + _LENGTH_PREFIX
        if len(content) < header:
            raise BadCiphertext("the plaintext is too short to hold the random prefix and length")
        length = int.from_bytes(content[RANDOM_LENGTH:header], "big")
        if header + length > len(content):
            raise BadCiphertext(
                f"the length prefix says {length} bytes but only {len(content) - header} follow",
                length=length,
            )
        message, tail = content[header : header + length], content[header + length :]
        if not hmac.compare_digest(tail, self.receive_id.encode("utf-8")):
            raise ReceiveIdMismatch(
                "the message is addressed to another receive id than the one configured",
                received=tail.decode("utf-8", errors="replace"),
                expected=self.receive_id,
            )
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadCiphertext("the decrypted message is not UTF-8") from exc

    def encrypt(
        self, message: str, timestamp: str, nonce: str, random: bytes | None = None
    ) -> Sealed:
        """Encrypt and sign `message` (a reply); `random` fixes the 16-byte prefix for tests."""
        prefix = secrets.token_bytes(RANDOM_LENGTH) if random is None else random
        if len(prefix) != RANDOM_LENGTH:
            raise ValueError(f"the random prefix must be {RANDOM_LENGTH} bytes, not {len(prefix)}")
        body = message.encode("utf-8")
        plaintext = prefix + len(body).to_bytes(_LENGTH_PREFIX, "big") + body
        encryptor = self._cipher().encryptor()
        padded = pad(plaintext + self.receive_id.encode("utf-8"))
        encrypted = base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()
        return Sealed(encrypted, signature(self._token, timestamp, nonce, encrypted))

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:RANDOM_LENGTH]))
