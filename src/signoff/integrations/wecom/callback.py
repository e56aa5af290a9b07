"""The WeCom callback endpoint's work, for one app (`/integrations/wecom/callback/{app_id}`).

    GET   URL verification: the decrypted echostr, answered verbatim as text
    POST  an event: verified, decrypted, then `sys_approval_change` is mirrored; answered
          with an empty 200 (WeCom wants an answer within 5 s, and no passive reply)

Checks run in `WecomReceiver`'s order (signature, freshness, decryption with the corp id,
replay). Every refusal is logged on `signoff.integrations.wecom` with its code and raised
(the API answers 4xx) with nothing changed. The nonce of a request is only kept once the
request was acted on: when mirroring fails (a user the directory lacks, WeCom's API away,
the database away) it is forgotten again, so WeCom's retry of the same request is not
refused as a replay. Other events and unmapped WeCom templates are logged and answered 200.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from signoff.domain.errors import SignoffError
from signoff.integrations.wecom.api import DEFAULT_BASE
from signoff.integrations.wecom.approval import EVENT, parse_approval_change
from signoff.integrations.wecom.config import WecomConfig, load_config
from signoff.integrations.wecom.freshness import WINDOW
from signoff.integrations.wecom.messages import parse_header
from signoff.integrations.wecom.mirroring import mirror_change
from signoff.integrations.wecom.receiver import WecomReceiver
from signoff.service.ports import Clock
from signoff.store.database import Database
from signoff.store.integrations import SqlReplayGuard
from signoff.store.uow import SqlUnitOfWork

log = logging.getLogger("signoff.integrations.wecom")


@dataclass(frozen=True, slots=True)
class WecomCallbacks:
    db: Database
    clock: Clock
    api_base: str = DEFAULT_BASE

    def _setup(self, app_id: str) -> tuple[WecomConfig, SqlReplayGuard, WecomReceiver]:
        with SqlUnitOfWork(self.db) as uow:
            config = load_config(uow, app_id)
        guard = SqlReplayGuard(self.db, f"wecom:{app_id}", self.clock, 2 * WINDOW)
        return config, guard, WecomReceiver(config.crypto(), guard, self.clock, WINDOW)

    def verify(
        self, app_id: str, msg_signature: str, timestamp: str, nonce: str, echostr: str
    ) -> str:
        """The URL-verification handshake: the plain echostr to answer with."""
        try:
            _, _, receiver = self._setup(app_id)
            echo = receiver.verify_url(msg_signature, timestamp, nonce, echostr)
        except SignoffError as error:
            _refused(app_id, "URL verification", error)
            raise
        log.info("WeCom URL verification for app %s accepted", app_id)
        return echo

    def deliver(
        self, app_id: str, msg_signature: str, timestamp: str, nonce: str, body: bytes
    ) -> None:
        """Verify, decrypt and act on one POSTed callback."""
        try:
            config, guard, receiver = self._setup(app_id)
            message = receiver.receive(msg_signature, timestamp, nonce, body)
        except SignoffError as error:
            _refused(app_id, "callback", error)
            raise
        try:
            self._act(app_id, config, message)
        except BaseException as error:
            guard.forget(nonce, timestamp)  # not acted on: WeCom's retry must get through
            if isinstance(error, SignoffError):
                _refused(app_id, "event", error)
            raise

    def _act(self, app_id: str, config: WecomConfig, message: str) -> None:
        header = parse_header(message)
        if header.msg_type != "event" or header.event != EVENT:
            log.info(
                "WeCom callback to app %s: %s/%s ignored", app_id, header.msg_type, header.event
            )
            return
        change = parse_approval_change(message)
        outcome = mirror_change(self.db, self.clock, config, change, self.api_base)
        if outcome is None:
            log.info(
                "WeCom approval %s of template %s ignored: the template is not mapped (app %s)",
                change.sp_no,
                change.template_id,
                app_id,
            )
            return
        log.info(
            "WeCom approval %s (status %s) mirrored on instance %s: %d new event(s), version %d",
            change.sp_no,
            change.sp_status.name.lower(),
            outcome.instance_id,
            len(outcome.events),
            outcome.version,
        )


def _refused(app_id: str, what: str, error: SignoffError) -> None:
    log.warning(
        "WeCom %s for app %s refused [%s]: %s",
        what,
        app_id,
        error.code,
        error.message,
        extra={"fields": {"app_id": app_id, "code": error.code}},
    )
