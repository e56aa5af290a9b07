"""The two calls of WeCom's server API a mirrored approval needs for its form values.

A `sys_approval_change` callback says who decided what, not what was asked for: the form
values (apply_data) come from the approval detail API, with an access token for the
approval app's Secret:

    GET  {base}/cgi-bin/gettoken?corpid=ID&corpsecret=SECRET    -> access_token, expires_in
    POST {base}/cgi-bin/oa/getapprovaldetail?access_token=TOKEN  {"sp_no": "..."} -> info

Tokens are cached per corp and Secret until shortly before they expire (WeCom limits how
often they may be asked for) and asked again once when WeCom says one is no longer valid.
Every failure is `WecomApiUnavailable`; nothing here logs a Secret or a token.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

import httpx

from signoff.integrations.wecom.errors import WecomApiUnavailable

DEFAULT_BASE = "https://qyapi.weixin.qq.com"
TIMEOUT = 3.0  # WeCom waits 5 s for the callback's answer
_EXPIRED = {40014, 42001}  # invalid / expired access_token

_tokens: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


class WecomApi:
    def __init__(self, corp_id: str, secret: str, base: str = DEFAULT_BASE) -> None:
        self.corp_id = corp_id
        self._secret = secret
        self.base = base.rstrip("/")
        digest = hashlib.sha256(secret.encode()).hexdigest()[:16]
        self._key = f"{self.base}|{corp_id}|{digest}"

    def __repr__(self) -> str:
        return f"WecomApi(corp_id={self.corp_id!r}, base={self.base!r})"

    def approval_detail(self, sp_no: str) -> dict[str, Any]:
        """The `info` of an approval request (its apply_data holds the form values)."""
        for attempt in (0, 1):
            body = self._call(
                "POST",
                "/cgi-bin/oa/getapprovaldetail",
                {"access_token": self._token(fresh=attempt == 1)},
                {"sp_no": sp_no},
            )
            code = body.get("errcode", 0)
            if code in _EXPIRED and attempt == 0:
                continue
            if code != 0:
                raise WecomApiUnavailable(
                    f"WeCom refused the approval detail of {sp_no}: {code} {body.get('errmsg')}",
                    errcode=code,
                )
            info = body.get("info")
            if not isinstance(info, dict):
                raise WecomApiUnavailable(f"WeCom's approval detail of {sp_no} has no info")
            return info
        raise WecomApiUnavailable("WeCom's access token keeps being refused")  # pragma: no cover

    def _token(self, fresh: bool) -> str:
        now = time.monotonic()
        with _lock:
            cached = _tokens.get(self._key)
            if cached is not None and cached[1] > now and not fresh:
                return cached[0]
        body = self._call(
            "GET", "/cgi-bin/gettoken", {"corpid": self.corp_id, "corpsecret": self._secret}
        )
        token = body.get("access_token")
        if body.get("errcode", 0) != 0 or not isinstance(token, str):
            raise WecomApiUnavailable(
                f"WeCom gave no access token: {body.get('errcode')} {body.get('errmsg')}",
                errcode=body.get("errcode"),
            )
        lifetime = float(body.get("expires_in") or 7200)
        with _lock:
            _tokens[self._key] = (token, now + max(lifetime - 300, 60))
        return token

    def _call(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        try:
            response = httpx.request(
                method, self.base + path, params=params, json=json, timeout=TIMEOUT
            )
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise WecomApiUnavailable(
                f"WeCom's API did not answer {path}: {type(error).__name__}"
            ) from None
        if not isinstance(body, dict):
            raise WecomApiUnavailable(f"WeCom's API answered {path} with no JSON object")
        return body
