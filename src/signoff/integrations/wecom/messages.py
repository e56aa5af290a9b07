"""The XML around WeCom callbacks: the encrypted POST envelope, the encrypted reply, the
header every decrypted message starts with, and a reader that looks values up by path.

Envelope (POST body):  <xml><ToUserName/><Encrypt/><AgentID/></xml>
Reply (passive reply): <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>

Everything is parsed with defusedxml, refusing DTDs, entity declarations and external
references (billion laughs, XXE). Values are found by their path from the root, never
by searching the tree for a tag: `SpStatus`, for one, means three different things at
three depths. Errors name the path, XPath-like with 1-based indices:
`xml/ApprovalInfo/SpRecord[2]/Details[1]/SpStatus`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import TypeVar
from xml.etree.ElementTree import Element, ParseError

import defusedxml  # type: ignore[import-untyped]  # no stubs in the pinned dev set
import defusedxml.ElementTree  # type: ignore[import-untyped]  # (types-defusedxml)

from signoff.integrations.wecom.crypto import Sealed
from signoff.integrations.wecom.errors import MalformedXml

MAX_XML_BYTES = 1 << 20
"""Callbacks are small; anything bigger is refused before parsing."""

E = TypeVar("E", bound=IntEnum)

_NONCE = re.compile(r"[A-Za-z0-9]{1,64}")
_INTEGER = re.compile(r"-?[0-9]{1,19}")


def parse_xml(document: bytes | str) -> XmlNode:
    """The root of `document`, parsed safely (MalformedXml for bad XML, a DTD or entities)."""
    size = len(document.encode("utf-8") if isinstance(document, str) else document)
    if size > MAX_XML_BYTES:
        raise MalformedXml("", "size", f"the XML is {size} bytes; at most {MAX_XML_BYTES}")
    try:
        root: Element = defusedxml.ElementTree.fromstring(
            document, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise MalformedXml(
            "",
            "unsafe",
            f"DTDs, entities and external references are refused ({type(exc).__name__})",
        ) from exc
    except (ParseError, ValueError) as exc:  # ValueError: e.g. a multi-byte encoding like GBK
        raise MalformedXml("", "syntax", f"the XML does not parse: {exc}") from exc
    return XmlNode(root, root.tag)


class XmlNode:
    """An element and its path; every lookup is by direct child, never anywhere below."""

    def __init__(self, element: Element, path: str) -> None:
        self.element = element
        self.path = path

    def children(self, tag: str) -> list[XmlNode]:
        """Every direct child named `tag` (repeated siblings, no wrapper), maybe none."""
        found = self.element.findall(tag)
        return [XmlNode(e, f"{self.path}/{tag}[{i}]") for i, e in enumerate(found, start=1)]

    def optional_child(self, tag: str) -> XmlNode | None:
        found = self.element.findall(tag)
        if len(found) > 1:
            raise MalformedXml(f"{self.path}/{tag}", "single", f"appears {len(found)} times")
        return XmlNode(found[0], f"{self.path}/{tag}") if found else None

    def child(self, tag: str) -> XmlNode:
        node = self.optional_child(tag)
        if node is None:
            raise MalformedXml(f"{self.path}/{tag}", "required", "is missing")
        return node

    def optional_text(self, tag: str) -> str | None:
        """The text of child `tag`; empty CDATA is "", a missing element None."""
        node = self.optional_child(tag)
        return None if node is None else (node.element.text or "")

    def text(self, tag: str) -> str:
        return self.child(tag).element.text or ""

    def integer(self, tag: str) -> int:
        return self._integer(f"{self.path}/{tag}", self.text(tag))

    def optional_integer(self, tag: str) -> int | None:
        value = self.optional_text(tag)
        return None if value is None else self._integer(f"{self.path}/{tag}", value)

    def time(self, tag: str) -> datetime | None:
        """A Unix time in seconds as UTC; 0 (WeCom's "not yet") or a missing element is None."""
        seconds = self.optional_integer(tag)
        if not seconds:
            return None
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise MalformedXml(f"{self.path}/{tag}", "time", f"{seconds} is not a time") from None

    def required_time(self, tag: str) -> datetime:
        value = self.time(tag)
        if value is None:
            raise MalformedXml(f"{self.path}/{tag}", "required", "is missing or 0")
        return value

    def enum(self, tag: str, kind: type[E]) -> E:
        return self._enum(f"{self.path}/{tag}", self.integer(tag), kind)

    def optional_enum(self, tag: str, kind: type[E]) -> E | None:
        value = self.optional_integer(tag)
        return None if value is None else self._enum(f"{self.path}/{tag}", value, kind)

    @staticmethod
    def _integer(path: str, text: str) -> int:
        stripped = text.strip()
        if not _INTEGER.fullmatch(stripped):
            raise MalformedXml(path, "integer", f"{text[:40]!r} is not a whole number")
        return int(stripped)

    @staticmethod
    def _enum(path: str, value: int, kind: type[E]) -> E:
        try:
            return kind(value)
        except ValueError:
            known = ", ".join(f"{m.value} {m.name.lower()}" for m in kind)
            raise MalformedXml(
                path, "enum", f"{value} is not a known {kind.__name__} ({known})"
            ) from None


# ---- the envelope and the reply ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Envelope:
    """The POST body of a callback: the ciphertext and who it is for (unauthenticated)."""

    encrypt: str
    to_user: str | None
    agent_id: str | None


def parse_envelope(body: bytes | str) -> Envelope:
    """Read `<xml><ToUserName/><Encrypt/><AgentID/></xml>`; only Encrypt is required."""
    root = _root(parse_xml(body))
    return Envelope(
        encrypt=root.text("Encrypt"),
        to_user=root.optional_text("ToUserName"),
        agent_id=root.optional_text("AgentID"),
    )


def reply_xml(sealed: Sealed, timestamp: str, nonce: str) -> str:
    """The passive-reply body for a message encrypted and signed with `timestamp` and `nonce`."""
    if not timestamp.isascii() or not timestamp.isdigit():
        raise ValueError("the reply timestamp must be whole seconds")
    if not _NONCE.fullmatch(nonce):
        raise ValueError("the reply nonce must be 1 to 64 letters and digits")
    return (
        f"<xml>\n<Encrypt><![CDATA[{sealed.encrypted}]]></Encrypt>\n"
        f"<MsgSignature><![CDATA[{sealed.msg_signature}]]></MsgSignature>\n"
        f"<TimeStamp>{timestamp}</TimeStamp>\n<Nonce><![CDATA[{nonce}]]></Nonce>\n</xml>"
    )


# ---- the header of a decrypted message --------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageHeader:
    """What every decrypted message or event starts with; route on `msg_type` and `event`."""

    to_user: str
    from_user: str
    create_time: datetime
    msg_type: str
    event: str | None
    agent_id: str | None


def read_header(root: XmlNode) -> MessageHeader:
    return MessageHeader(
        to_user=root.text("ToUserName"),
        from_user=root.text("FromUserName"),
        create_time=root.required_time("CreateTime"),
        msg_type=root.text("MsgType"),
        event=root.optional_text("Event"),
        agent_id=root.optional_text("AgentID"),
    )


def parse_header(message: bytes | str) -> MessageHeader:
    """The header of a decrypted message (MalformedXml naming the missing path)."""
    return read_header(_root(parse_xml(message)))


def _root(node: XmlNode) -> XmlNode:
    if node.element.tag != "xml":
        raise MalformedXml(node.path, "root", "the root element must be <xml>")
    return node
