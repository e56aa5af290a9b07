"""Configuration: `SIGNOFF_*` environment variables over an optional TOML file.

    SIGNOFF_CONFIG=/etc/signoff.toml      # optional; keys as below, without the prefix
    SIGNOFF_DATABASE_URL=postgresql://...
    SIGNOFF_SECRET_KEY=...                # signs access tokens; required outside `make run`

Everything is validated when the server starts; a wrong value stops it with a message
naming the setting. Nothing is read at import time: call `load_settings()`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """The configuration cannot be used; the message names each bad setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIGNOFF_", extra="forbid", frozen=True)

    database_url: str = Field(
        "sqlite:///signoff.db", description="sqlite:///file.db or postgresql://user@host/db"
    )
    secret_key: str = Field(
        "", description="signs access tokens (at least 32 characters); generated for dev runs"
    )
    access_token_minutes: int = Field(15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(30, ge=1, le=365)
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="larger requests get 413")
    login_attempts_per_minute: int = Field(10, ge=1, description="per account and per address")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: str = "info"

    # ---- events out (docs/events.md) ----
    worker: bool = Field(True, description="run the outbox dispatcher and timers inside serve")
    node_id: str = Field("", description="this server's name in presence rows; host:pid if empty")
    public_url: str = Field("http://127.0.0.1:8000", description="links in e-mails")
    event_source: str = Field("urn:signoff", description="the CloudEvents `source` attribute")
    redis_url: str = Field("", description="redis://host:6379/0 for cross-node WebSocket fan-out")
    nats_url: str = Field("", description="nats://host:4222: publish events to JetStream")
    nats_stream: str = Field("SIGNOFF", description="the JetStream stream (subjects signoff.>)")
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60)
    retry_window_hours: float = Field(24.0, gt=0, description="then a delivery is dead-lettered")
    event_retention_days: float = Field(
        7.0, ge=0, description="delivered notices are forgotten after (0: kept for good)"
    )
    retry_base_seconds: float = Field(5.0, gt=0, description="first retry delay; doubles")
    delivery_lease_seconds: float = Field(
        60.0, gt=0, description="a claimed delivery is retried by others after this (worker died)"
    )
    smtp_host: str = Field("", description="SMTP server for e-mail to people who are offline")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Signoff <signoff@localhost>"
    mail_batch_seconds: float = Field(60.0, ge=0, description="new-task mails wait to batch")

    # ---- documents and integrations (docs/documents.md, docs/integrations.md) ----
    max_document_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="the largest Word template an upload may be"
    )
    wecom_api_url: str = Field(
        "https://qyapi.weixin.qq.com", description="WeCom's server API (approval form values)"
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgres:", "postgresql+psycopg:")):
            raise ValueError("must start with sqlite: or postgresql:")
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("nats_url")
    @classmethod
    def _nats(cls, value: str) -> str:
        if value and not value.startswith(("nats://", "tls://")):
            raise ValueError("must start with nats:// or tls://")
        return value

    @field_validator("wecom_api_url")
    @classmethod
    def _wecom(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local stand-in)")
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.lower() not in ("debug", "info", "warning", "error"):
            raise ValueError("one of debug, info, warning, error")
        return value.lower()


def load_settings(config_file: str | None = None, **overrides: Any) -> Settings:
    """Environment over the TOML file (`SIGNOFF_CONFIG`) over defaults; `overrides` win."""
    path = config_file or os.environ.get("SIGNOFF_CONFIG")
    values: dict[str, Any] = {}
    if path:
        try:
            values = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise ConfigError(f"SIGNOFF_CONFIG: no file {path}") from error
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"SIGNOFF_CONFIG: {path} is not valid TOML: {error}") from error
        env = {k[len("SIGNOFF_") :].lower() for k in os.environ if k.startswith("SIGNOFF_")}
        values = {k: v for k, v in values.items() if k not in env}
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = ".".join(str(p) for p in problem["loc"]) or "settings"
            lines.append(f"  SIGNOFF_{name.upper()}: {problem['msg']}")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from error
