"""The only place that wires adapters to the service layer."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from signoff.events.hooks import HttpValidationHooks
from signoff.service.auth import TokenIssuer
from signoff.service.clock import SystemClock
from signoff.service.ports import Clock, ValidationHooks
from signoff.settings import Settings
from signoff.store.database import Database
from signoff.store.uow import SqlUnitOfWork


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    issuer: TokenIssuer
    ephemeral_secret: bool = field(default=False)
    hooks: ValidationHooks = field(default_factory=HttpValidationHooks)
    # called with (command name, "ok" or the error code) after every command
    observe_action: Callable[[str, str], None] = field(default=lambda name, outcome: None)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.db)


def build(settings: Settings, clock: Clock | None = None) -> Services:
    """Connect to the database and set up token signing from the settings."""
    secret = settings.secret_key
    ephemeral = not secret
    if ephemeral:
        secret = secrets.token_urlsafe(48)  # dev runs: tokens die with the process
    issuer = TokenIssuer(secret, settings.access_token_minutes, settings.refresh_token_days)
    return Services(
        settings, Database(settings.database_url), clock or SystemClock(), issuer, ephemeral
    )
