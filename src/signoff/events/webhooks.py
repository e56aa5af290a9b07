"""Webhook deliveries as the Standard Webhooks specification has them.

Each delivery is a POST of the CloudEvents JSON with three headers:

    webhook-id:        the event id (the same on every retry: receivers de-duplicate on it)
    webhook-timestamp: seconds since the epoch (receivers refuse stale ones: no replays)
    webhook-signature: "v1,<base64 HMAC-SHA256 of '<id>.<timestamp>.<body>'>", one per
                       valid secret, separated by spaces (secret rotation)

A secret is "whsec_" + base64 of 32 random bytes; the HMAC key is the decoded bytes.
Any 2xx answer is a success; anything else, or no answer within the timeout, is retried
with exponential backoff until the retry window closes, then dead-lettered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import httpx

SECRET_PREFIX = "whsec_"  # noqa: S105  # the format marker of a secret, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def active_secrets(stored: Iterable[dict[str, Any]], now: datetime) -> list[str]:
    """The secrets to sign with now: the current one, and rotated ones until they expire."""
    out = []
    for entry in stored:
        expires = entry.get("expires_at")
        if expires is None or datetime.fromisoformat(expires) > now:
            out.append(entry["secret"])
    return out


def headers(secrets_now: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets_now),
        "user-agent": "Signoff-Webhooks/1",
    }


async def post(
    client: httpx.AsyncClient, url: str, hdrs: dict[str, str], body: bytes
) -> str | None:
    """Deliver once; None on success, else what went wrong (kept as the last error)."""
    try:
        response = await client.post(url, content=body, headers=hdrs)
    except httpx.HTTPError as error:
        return f"{type(error).__name__}: {error}"[:500] or type(error).__name__
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}: {response.text[:300]}"


def backoff(attempts: int, base: timedelta, cap: timedelta = timedelta(hours=1)) -> timedelta:
    """The wait before attempt `attempts + 1`: base, 2 base, 4 base, ... up to `cap`."""
    wait: timedelta = base * (2 ** max(attempts - 1, 0))
    return min(wait, cap)
