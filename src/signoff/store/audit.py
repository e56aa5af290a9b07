"""The audit trail: one append-only row per domain event, hash-chained per instance.

Each row's `hash` is SHA-256 over the previous row's hash and the row's own content
(canonical JSON), and the instance row keeps the newest hash (`audit_head`). So a
changed row breaks its own hash, a deleted row breaks the chain (a gap in `seq`, a
`prev_hash` that no longer matches) and a deleted tail no longer reaches the head.
`verify` walks every chain and reports each broken row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from signoff.domain.events import Event, event_from_dict, event_to_dict, status_after
from signoff.store.prepared import inserting
from signoff.store.schema import audit, instances

GENESIS = "0" * 64


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    content = {
        k: row[k]
        for k in ("instance_id", "seq", "event_id", "type", "actor", "from_status", "to_status")
    }
    content["at"] = _iso(row["at"])
    content["data"] = row["data"]
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _iso(value: datetime) -> str:
    """UTC, so that the hash of a row is the same written and read back."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def audit_rows(
    events: Sequence[Event], status_before: str, head: str | None
) -> tuple[list[dict[str, Any]], str]:
    """Rows for these events, chained after `head`; returns the rows and the new head."""
    rows: list[dict[str, Any]] = []
    prev = head or GENESIS
    status = status_before
    for event in events:
        after = status_after(event, status)
        data = event_to_dict(event)
        for key in ("instance_id", "seq", "at", "actor", "type"):
            data.pop(key, None)
        row: dict[str, Any] = {
            "instance_id": event.instance_id,
            "seq": event.seq,
            "event_id": event.id,
            "type": event.type,
            "actor": event.actor,
            "at": event.at,
            "from_status": status,
            "to_status": after,
            "data": data,
        }
        row["prev_hash"] = prev
        row["hash"] = prev = row_hash(prev, row)
        rows.append(row)
        status = after
    return rows, prev


def audit_events(conn: Connection, instance_id: str) -> list[Event]:
    """An instance's events as the audit trail recorded them (in order)."""
    rows = conn.execute(
        select(audit).where(audit.c.instance_id == instance_id).order_by(audit.c.seq)
    )
    return [
        event_from_dict(
            {
                **r.data,
                "type": r.type,
                "instance_id": r.instance_id,
                "seq": r.seq,
                "at": _iso(r.at),
                "actor": r.actor,
            }
        )
        for r in rows
    ]


_insert = inserting(
    audit,
    "instance_id seq event_id type actor at from_status to_status data prev_hash hash".split(),
)


def write_audit(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        _insert.executemany(conn, rows)


@dataclass(frozen=True, slots=True)
class AuditProblem:
    instance_id: str
    seq: int | None
    audit_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "chain"
        return f"instance {self.instance_id} {where} (row {self.audit_id}): {self.problem}"


def verify(conn: Connection, instance_id: str | None = None) -> tuple[int, list[AuditProblem]]:
    """Check every chain (or one instance's); returns rows checked and the problems found."""
    query = select(instances.c.id, instances.c.audit_head).order_by(instances.c.id)
    if instance_id is not None:
        query = query.where(instances.c.id == instance_id)
    heads = {row.id: row.audit_head for row in conn.execute(query)}
    rows_query = select(audit).order_by(audit.c.instance_id, audit.c.seq)
    if instance_id is not None:
        rows_query = rows_query.where(audit.c.instance_id == instance_id)
    problems: list[AuditProblem] = []
    checked = 0
    current: str | None = None
    prev = GENESIS
    expected_seq = 0

    def close(chain: str | None, last: str) -> None:
        if chain is not None and heads.get(chain) not in (None, last):
            problems.append(
                AuditProblem(chain, None, None, "the newest rows are missing (head not reached)")
            )

    seen: set[str] = set()
    for row in conn.execute(rows_query).mappings():
        checked += 1
        seen.add(row["instance_id"])
        if row["instance_id"] != current:
            close(current, prev)
            current, prev, expected_seq = row["instance_id"], GENESIS, 0
        ident = (row["instance_id"], row["seq"], row["id"])
        if row["seq"] != expected_seq:
            problems.append(AuditProblem(*ident, f"rows before seq {row['seq']} are missing"))
        if row["prev_hash"] != prev:
            problems.append(AuditProblem(*ident, "prev_hash does not match the row before"))
        if row_hash(row["prev_hash"], dict(row)) != row["hash"]:
            problems.append(AuditProblem(*ident, "the row was changed (hash mismatch)"))
        prev = row["hash"]
        expected_seq = row["seq"] + 1
    close(current, prev)
    for chain, head in heads.items():
        if head is not None and chain not in seen:
            problems.append(AuditProblem(chain, None, None, "every audit row is missing"))
    return checked, problems
