"""Validation hooks over HTTP: the service layer's `ValidationHooks` port.

Signoff POSTs JSON to the template's `validation.url`:

    {"moment": "submit" | "final_approval", "template": "purchase", "template_version": 3,
     "instance_id": "...", "applicant": "u-...", "actor": "u-...", "form": {...}}

and expects, within `timeout_seconds`, a 2xx answer `{"allow": true}` or
`{"allow": false, "message": "预算不足: budget exceeded"}` — the message is shown to the
person. Anything else (a timeout, a 5xx, not JSON) is an error the template's `on_error`
decides about: `refuse` (the default) or `proceed`.
"""

from __future__ import annotations

from typing import Any

import httpx

from signoff.domain.templates import ValidationHook
from signoff.service.ports import HookAnswer


class HttpValidationHooks:
    def __init__(self) -> None:
        self.client = httpx.Client()

    def ask(self, hook: ValidationHook, moment: str, payload: dict[str, Any]) -> HookAnswer:
        try:
            response = self.client.post(hook.url, json=payload, timeout=hook.timeout_seconds)
        except httpx.HTTPError as error:
            return HookAnswer(False, error=f"{type(error).__name__}: {error}"[:300])
        if not 200 <= response.status_code < 300:
            return HookAnswer(False, error=f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            return HookAnswer(False, error="the answer is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("allow"), bool):
            return HookAnswer(False, error='the answer has no boolean "allow"')
        message = body.get("message")
        return HookAnswer(body["allow"], str(message)[:500] if message else "")

    def close(self) -> None:
        self.client.close()
