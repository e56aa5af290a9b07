"""Several server processes on one PostgreSQL: a client on any node hears what happens on
any other, through Redis pub/sub or PostgreSQL LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio

import pytest

from signoff.store.database import Database
from tests.events.conftest import LEAVE
from tests.events.servers import approve, connect, process_servers, require_port, submit


@pytest.mark.parametrize("fanout", ["postgres", "redis"])
def test_seed_000s_chain_plays_out_across_three_nodes_with_each_party_told_in_order(
    seeded: Database, fanout: str
) -> None:
    if not seeded.url.startswith("postgresql"):
        pytest.skip("several processes share one database on PostgreSQL only")
    env = {}
    if fanout == "redis":
        require_port("Redis", 6379)
        env["SIGNOFF_REDIS_URL"] = "redis://127.0.0.1:6379/0"

    async def play(a: str, b: str, c: str) -> None:
        applicant = await connect(a, "u-zhangsan")
        lead = await connect(b, "u-chenjie")
        head = await connect(c, "u-lina")
        outcome = submit(a, "u-zhangsan", LEAVE)  # on node A
        iid = outcome["instance_id"]
        assigned = await lead.until("task.assigned", iid)  # heard on node B
        assert assigned["counts"]["pending"] == 1
        done = approve(b, "u-chenjie", assigned["data"]["task_id"])  # approved on node B
        second = await head.until("task.assigned", iid)  # heard on node C
        assert second["data"]["task_id"] == done["pending"][0]["task_id"]
        step = await applicant.until("task.approved", iid)  # and on node A
        assert step["actor"] == "u-chenjie"
        approve(c, "u-lina", second["data"]["task_id"])
        again = await applicant.until("task.approved", iid)
        assert again["actor"] == "u-lina"
        assert again["position"] > step["position"]
        for sock in (applicant, lead, head):
            await sock.close()

    with process_servers(seeded.url, 3, **env) as (a, b, c):
        asyncio.run(play(a, b, c))
