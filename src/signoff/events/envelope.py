"""The one envelope every notice leaves in: a CloudEvents 1.0 JSON document.

    {"specversion": "1.0", "id": "01J...:7", "source": "urn:signoff",
     "type": "signoff.task.assigned", "subject": "01J...", "time": "2026-11-23T09:05:00Z",
     "datacontenttype": "application/json", "data": {...}}

`id` is the domain event's id (`<instance>:<seq>`): the same on every sink and every
retry, so receivers de-duplicate on it. `subject` is the instance id. `data` holds the
notice's own fields and the instance as the command left it (docs/events.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

PREFIX = "signoff."


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cloud_event(row: Any, source: str) -> dict[str, Any]:
    """The CloudEvents document of an outbox row."""
    data = dict(row.data)
    data["instance_id"] = row.instance_id
    data["actor"] = row.actor
    return {
        "specversion": "1.0",
        "id": row.event_id,
        "source": source,
        "type": PREFIX + row.type,
        "subject": row.instance_id,
        "time": iso(row.at),
        "datacontenttype": "application/json",
        "data": data,
    }


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
