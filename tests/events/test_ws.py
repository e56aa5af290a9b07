"""WebSocket push through a real uvicorn server: the right people hear each step at once,
and a client that was away gets what it missed."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets.asyncio.client as ws_client
from websockets.exceptions import ConnectionClosed

from signoff.store.database import Database
from tests.events.conftest import LEAVE
from tests.events.servers import approve, connect, submit, thread_server


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_the_approver_hears_of_a_new_task_and_the_applicant_of_each_step(
    seeded: Database,
) -> None:
    async def play() -> None:
        with thread_server(seeded.url) as base:
            lead = await connect(base, "u-chenjie")
            applicant = await connect(base, "u-zhangsan")
            outcome = submit(base, "u-zhangsan", LEAVE)
            iid = outcome["instance_id"]
            task = await lead.until("task.assigned", iid)
            assert task["type"] == "task.assigned"
            assert task["status"] == "pending"
            assert task["next_approvers"] == [{"id": "u-chenjie", "name": "陈杰"}]
            assert task["counts"]["pending"] == 1
            assert task["data"]["task_id"] == outcome["pending"][0]["task_id"]
            submitted = await applicant.until("instance.submitted", iid)
            assert submitted["type"] == "instance.updated"
            assert submitted["counts"]["mine"] == 1
            approve(base, "u-chenjie", outcome["pending"][0]["task_id"])
            step = await applicant.until("task.approved", iid)
            assert step["actor"] == "u-chenjie"
            assert [p["id"] for p in step["next_approvers"]] == ["u-lina"]
            # positions only grow, and each client heard only what concerns them
            for sock in (lead, applicant):
                positions = [m["position"] for m in sock.messages]
                assert positions == sorted(set(positions))
            assert all(m["instance_id"] == iid for m in lead.messages)
            await lead.close()
            await applicant.close()

    run(play())


def test_a_client_that_was_away_resumes_from_its_last_position_and_misses_nothing(
    seeded: Database,
) -> None:
    async def play() -> None:
        with thread_server(seeded.url) as base:
            applicant = await connect(base, "u-zhangsan")
            outcome = submit(base, "u-zhangsan", LEAVE)
            iid = outcome["instance_id"]
            seen = await applicant.until("instance.submitted", iid)
            await applicant.close()
            # while the applicant is away, two approvals happen
            first = approve(base, "u-chenjie", outcome["pending"][0]["task_id"])
            approve(base, "u-lina", first["pending"][0]["task_id"])
            back = await connect(base, "u-zhangsan", after=seen["position"])
            missed = [await back.next(), await back.next()]
            assert [m["event"] for m in missed] == ["task.approved", "task.approved"]
            assert [m["actor"] for m in missed] == ["u-chenjie", "u-lina"]
            assert all(m["position"] > seen["position"] for m in missed)
            # and nothing twice: the next message is a live one
            second = submit(base, "u-zhangsan", LEAVE)
            live = await back.until("instance.submitted", second["instance_id"])
            assert live["position"] > missed[-1]["position"]
            await back.close()

    run(play())


@pytest.mark.parametrize(
    ("hello", "code"),
    [
        ({"type": "hello", "token": "not-a-token"}, 4401),
        ({"type": "subscribe"}, 4400),
        ({"type": "hello", "token": None, "after": -1}, 4401),
    ],
)
def test_a_socket_without_a_valid_hello_is_closed_with_a_reason(
    seeded: Database, hello: dict[str, object], code: int
) -> None:
    async def play() -> None:
        with thread_server(seeded.url) as base:
            conn = await ws_client.connect(base.replace("http", "ws", 1) + "/ws")
            await conn.send(json.dumps(hello))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(conn.recv(), 10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == code

    run(play())
