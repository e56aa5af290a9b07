"""The web app: `index.html` at `/` and its static files (ES modules, CSS) under `/static`.

The page's `<base href>` is filled with the path the app is served under (`root_path`: an
ASGI mount or a proxy's prefix), so every URL the app computes — `api/v1/...`, `ws`,
`static/...` — is relative to it. The `lang` hint comes from Accept-Language (zh-CN when
the browser asks for Chinese, else English); the page may switch it and remember that.
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)


@cache
def _index_template() -> str:
    return (files("signoff") / "web" / "index.html").read_text(encoding="utf-8")


def preferred_locale(accept_language: str) -> str:
    """`zh-CN` when the highest-ranked language the browser accepts is Chinese, else `en`."""
    best, best_q = "", -1.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > best_q:
            best, best_q = tag.lower(), q
    return "zh-CN" if best.startswith("zh") else "en"


def _security_headers(request: Request) -> dict[str, str]:
    host = request.headers.get("host", "")
    sockets = f" ws://{host} wss://{host}" if host else ""
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"connect-src 'self'{sockets}; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-cache",
    }


@router.get("/", response_class=HTMLResponse, summary="The web app")
def index(request: Request) -> HTMLResponse:
    base = str(request.scope.get("root_path", "")).rstrip("/") + "/"
    locale = preferred_locale(request.headers.get("accept-language", ""))
    page = (
        _index_template()
        .replace("{{base}}", html.escape(base, quote=True))
        .replace("{{lang}}", locale)
    )
    return HTMLResponse(page, headers=_security_headers(request))


class _Files(StaticFiles):
    """The package's web files, revalidated on every use (`no-cache` with their ETag): after
    an upgrade no browser mixes old and new modules."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def install(app: FastAPI) -> None:
    """Serve the page at `/` and its files under `/static`."""
    app.include_router(router)
    app.mount("/static", _Files(packages=[("signoff", "web")]), name="static")
