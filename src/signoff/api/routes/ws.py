"""`/ws`: live messages for the signed-in person (protocol in docs/events.md).

    client -> {"type": "hello", "token": "<access token>", "after": <position or null>}
    server -> {"type": "welcome", "principal": "u-...", "position": <the latest>}
              ... what was missed after `after`, then live messages ...
    client -> {"type": "ping"}   server -> {"type": "pong"}

The token goes in the first message, not the URL (URLs end up in logs). A bad or
expired token closes the socket with code 4401 (refresh it and reconnect); no hello
within 10 seconds closes it with 4408.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from signoff.bootstrap import Services
from signoff.events.hub import Connection, Hub
from signoff.service.auth import NotAuthenticated

router = APIRouter()

HELLO_TIMEOUT = 10.0


async def _hello(ws: WebSocket) -> dict[str, object] | None:
    try:
        text = await asyncio.wait_for(ws.receive_text(), timeout=HELLO_TIMEOUT)
    except TimeoutError:
        await ws.close(4408, "send hello first")
        return None
    try:
        message = json.loads(text)
    except ValueError:
        message = None
    if not isinstance(message, dict) or message.get("type") != "hello":
        await ws.close(4400, 'the first message must be {"type": "hello", "token": ...}')
        return None
    return message


@router.websocket("/ws")
async def live(ws: WebSocket) -> None:
    await ws.accept()
    services: Services = ws.app.state.services
    hub: Hub = ws.app.state.hub
    hello = await _hello(ws)
    if hello is None:
        return
    after = hello.get("after")
    try:
        who = services.issuer.read_access_token(str(hello.get("token", "")), services.clock.now())
    except NotAuthenticated as error:
        await ws.close(4401, error.message[:120])
        return
    if who.principal_id is None or not (after is None or (isinstance(after, int) and after >= 0)):
        await ws.close(4400, "after must be a position (a number) or null")
        return
    conn = Connection(who.principal_id, ws.send_json)
    position = await hub.attach(conn, after if isinstance(after, int) else None)
    # the welcome goes first: queue the backlog behind it
    await ws.send_json({"type": "welcome", "principal": who.principal_id, "position": position})
    pump = asyncio.create_task(conn.pump())
    try:
        while True:
            receive = asyncio.create_task(ws.receive_text())
            done, _ = await asyncio.wait({receive, pump}, return_when=asyncio.FIRST_COMPLETED)
            if pump in done:  # the client fell too far behind, or sending failed
                receive.cancel()
                await ws.close(4409 if conn.overflowed else 1011, "reconnect and resume")
                return
            text = receive.result()
            with contextlib.suppress(ValueError):
                if json.loads(text).get("type") == "ping":
                    await ws.send_json({"type": "pong"})
    except WebSocketDisconnect:
        pass
    finally:
        hub.detach(conn)
        conn.close()
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump
