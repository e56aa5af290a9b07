"""The real app over a real database (SQLite and PostgreSQL), driven through httpx.

`api` gives a client factory: `api.as_("u-zhangsan")` is an httpx client signed in as that
person with a real access token; `api.anonymous` sends no credentials. Every demo person
has the password `PASSWORD`; `u-huangli` is an administrator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from signoff.api.app import create_app
from signoff.bootstrap import Services, build
from signoff.service.clock import ManualClock
from signoff.settings import Settings
from signoff.store.database import Database
from signoff.store.uow import SqlUnitOfWork

PASSWORD = "correct horse battery"
ADMIN = "u-huangli"


@cache
def password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


@dataclass
class Api:
    app_client: TestClient
    services: Services
    clock: ManualClock
    clients: dict[str, TestClient] = field(default_factory=dict)

    def token(self, person: str) -> str:
        return self.services.issuer.access_token(person, person == ADMIN, self.clock.now())

    def as_(self, person: str) -> TestClient:
        client = self.clients.get(person)
        if client is None:
            client = TestClient(self.app_client.app, raise_server_exceptions=False)
            client.headers["Authorization"] = f"Bearer {self.token(person)}"
            self.clients[person] = client
        return client

    def with_key(self, api_key: str) -> TestClient:
        client = TestClient(self.app_client.app, raise_server_exceptions=False)
        client.headers["Authorization"] = f"Bearer {api_key}"
        return client

    @property
    def anonymous(self) -> TestClient:
        return self.app_client


@pytest.fixture
def api(seeded: Database, clock: ManualClock) -> Iterator[Api]:
    with SqlUnitOfWork(seeded) as uow:
        for person in uow.directory.principal_ids():
            uow.accounts.set_account(person, password_hash(), person == ADMIN, clock.now())
        uow.commit()
    settings = Settings(
        database_url=seeded.url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        max_body_bytes=64 * 1024,
        login_attempts_per_minute=5,
        log_level="warning",
        worker=False,  # the tests drive timers and deliveries themselves (tests/events)
    )
    services = build(settings, clock)
    services.db.dispose()
    services.db = seeded
    app = create_app(settings, services)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, services, clock)
