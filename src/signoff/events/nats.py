"""Publishing notices to NATS JetStream (`SIGNOFF_NATS_URL`).

Subject `signoff.<app>.<notice type>` — the app owning the template (`_` when none),
so each business system subscribes to its own `signoff.<app>.>` (seed 002's per-project
topics). The event id (`<event id>@<app>` on an app's subject, since one stream
de-duplicates across subjects) is the `Nats-Msg-Id` header: JetStream drops a duplicate published
within the stream's duplicate window, so a retry after a lost acknowledgement does not
store the event twice. The stream (`SIGNOFF_NATS_STREAM`, subjects `signoff.>`) is
created when missing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import nats
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

log = logging.getLogger("signoff.events.nats")


async def _quiet(error: Exception) -> None:
    log.debug("nats: %s", error)


def subject(app: str, notice_type: str) -> str:
    return f"signoff.{app}.{notice_type}"


class NatsPublisher:
    def __init__(self, url: str, stream: str) -> None:
        self.url = url
        self.stream = stream
        self._nc: Any = None
        self._js: Any = None

    async def _jetstream(self) -> Any:
        if self._nc is None or self._nc.is_closed:
            # nats-py keeps retrying a refused first connect on its own: bound it, and
            # report the failure once through the delivery's last_error instead of its log
            self._nc = await asyncio.wait_for(
                nats.connect(
                    self.url,
                    connect_timeout=2,
                    max_reconnect_attempts=0,
                    allow_reconnect=False,
                    error_cb=_quiet,
                ),
                timeout=3,
            )
            self._js = self._nc.jetstream(timeout=5)
            try:
                await self._js.stream_info(self.stream)
            except NotFoundError:
                await self._js.add_stream(StreamConfig(name=self.stream, subjects=["signoff.>"]))
        return self._js

    async def publish(self, app: str, notice_type: str, msg_id: str, body: bytes) -> str | None:
        """Publish once; None when JetStream stored it (or already had it), else the error."""
        try:
            js = await self._jetstream()
            await js.publish(subject(app, notice_type), body, headers={"Nats-Msg-Id": msg_id})
        except Exception as error:  # any failure is retried later with backoff
            await self.close()
            return f"{type(error).__name__}: {error}"[:500]
        return None

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            try:
                await nc.close()
            except Exception:  # already broken: nothing to close cleanly
                log.debug("closing a broken NATS connection", exc_info=True)
