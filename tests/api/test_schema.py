"""The app against its own OpenAPI document: Schemathesis generates requests for every
operation the document describes and checks each answer. No answer may be a 5xx, and
every answer must be one the document promises: a documented status code, the documented
content type, headers and body schema.

Two bounded runs over the real app on a seeded SQLite database (the HTTP layer is the same
on PostgreSQL, which the other API tests cover): one signed in as an administrator, so
that every route gets past authentication, and one without credentials. Generation is
derandomized with a fixed seed and no example database, so CI sees the same requests
every time; together the runs send a few hundred requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from signoff.api.app import create_app
from signoff.bootstrap import build
from signoff.service.clock import ManualClock
from signoff.settings import Settings
from signoff.store.database import Database
from signoff.store.migrate import upgrade
from signoff.store.uow import SqlUnitOfWork
from tests.api.conftest import ADMIN, Api, password_hash
from tests.conftest import seed

SEED = 20261123
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """What the `api` fixture of tests/api/conftest.py builds, over a seeded SQLite database
    only and once for the module (it replaces that fixture here): seeding again for each
    of the ~100 operation tests would take a minute. The runs share the database, in a
    fixed order, so what one request changes the next may see, as on a real server."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('schema') / 'signoff.db'}")
    upgrade(database)
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    seed(database, clock)
    with SqlUnitOfWork(database) as uow:
        for person in uow.directory.principal_ids():
            uow.accounts.set_account(person, password_hash(), person == ADMIN, clock.now())
        uow.commit()
    settings = Settings(
        database_url=database.url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        max_body_bytes=64 * 1024,
        login_attempts_per_minute=5,
        log_level="warning",
    )
    services = build(settings, clock)
    services.db.dispose()
    services.db = database
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
        yield Api(client, services, clock)
    database.dispose()


def openapi_document() -> dict[str, Any]:
    """The document the app serves at /openapi.json (an app over nothing, just to ask)."""
    settings = Settings(database_url="sqlite://", secret_key="x" * 32, log_level="warning")
    services = build(settings)
    document: dict[str, Any] = create_app(settings, services).openapi()
    services.db.dispose()
    return document


def schema_for(max_examples: int) -> Any:
    """Fuzzing of every operation, `max_examples` each (Hypothesis `deadline` is None under
    Schemathesis' settings: a slow answer is not a failure here)."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            # The coverage phase adds ~1450 deterministic cases per run (every boundary
            # value and unexpected method of every operation): ten times the budget.
            # Explicit examples and fuzzing stay; stateful runs are not pytest-driven.
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
            "generation": {
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",
                # generated Authorization headers would replace the administrator's token
                "with-security-parameters": False,
            },
        }
    )
    return schemathesis.openapi.from_dict(openapi_document(), config=config)


# Loaded when the module is collected, as `parametrize` needs; the requests go to the
# fixture's app (`call_and_validate(app=...)`). `schemathesis.pytest.from_fixture` would
# load it from the fixture instead, but fails under pytest 9 ("'Function' object has no
# attribute '_nodeid'", schemathesis 4.32.5).
# 48 operations: about 245 requests as an administrator and 130 without credentials.
admin = schema_for(max_examples=6)
anonymous = schema_for(max_examples=3)


@admin.parametrize()
def test_an_administrator_gets_no_server_error_and_only_documented_answers(
    case: Case, api: Api
) -> None:
    # a token signed with the fixture app's secret, valid at its (stopped) clock
    headers = {"Authorization": f"Bearer {api.token(ADMIN)}"}
    case.call_and_validate(app=api.app_client.app, headers=headers, checks=CHECKS)


@anonymous.parametrize()
def test_a_caller_without_credentials_gets_no_server_error_and_only_documented_answers(
    case: Case, api: Api
) -> None:
    case.call_and_validate(app=api.app_client.app, checks=CHECKS)
