"""One app's callback checks in the order they must run, for an HTTP endpoint to call.

    GET  ?msg_signature&timestamp&nonce&echostr  -> receiver.verify_url(...)  -> reply the text
    POST ?msg_signature&timestamp&nonce + body   -> receiver.receive(...)     -> the message XML

Order: the signature first (cheap, needs the Token, so nothing unsigned gets further),
then the timestamp's freshness, then decryption with the receive-id check, and last the
replay guard, so only requests that are otherwise acceptable are remembered.
Every refusal is a `CallbackRejected`; nothing has been acted on when one is raised.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from signoff.integrations.wecom.crypto import WecomCrypto
from signoff.integrations.wecom.freshness import WINDOW, ReplayGuard, check_fresh, refuse_replay
from signoff.integrations.wecom.messages import parse_envelope, reply_xml
from signoff.service.ports import Clock

_NONCE_ALPHABET = string.ascii_letters + string.digits


def new_nonce(length: int = 16) -> str:
    """A random nonce of letters and digits for a reply."""
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


@dataclass(frozen=True, slots=True)
class WecomReceiver:
    crypto: WecomCrypto
    guard: ReplayGuard
    clock: Clock
    window: timedelta = WINDOW

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The decrypted echostr to answer a URL verification with (plain text, verbatim)."""
        return self._open(msg_signature, timestamp, nonce, echostr)

    def receive(self, msg_signature: str, timestamp: str, nonce: str, body: bytes | str) -> str:
        """The decrypted message XML of a POSTed callback (the raw body, as received)."""
        envelope = parse_envelope(body)
        return self._open(msg_signature, timestamp, nonce, envelope.encrypt)

    def reply(self, message: str, nonce: str | None = None) -> str:
        """The encrypted passive-reply XML carrying `message`, stamped now."""
        timestamp = str(int(self.clock.now().timestamp()))
        nonce = nonce or new_nonce()
        return reply_xml(self.crypto.encrypt(message, timestamp, nonce), timestamp, nonce)

    def _open(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> str:
        self.crypto.check_signature(msg_signature, timestamp, nonce, encrypted)
        check_fresh(timestamp, self.clock.now(), self.window)
        message = self.crypto.decrypt(msg_signature, timestamp, nonce, encrypted)
        refuse_replay(self.guard, nonce, timestamp)
        return message
