"""The app served behind a path prefix, as a reverse proxy or a larger ASGI site would:
`create_app()` mounted at /approvals. Run by uvicorn (`--factory`) for test_prefix.py."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount

from signoff.api.app import create_app

PREFIX = "/approvals"


def app() -> Starlette:
    inner = create_app()
    return Starlette(
        routes=[Mount(PREFIX, app=inner)],
        lifespan=lambda _: inner.router.lifespan_context(inner),
    )
