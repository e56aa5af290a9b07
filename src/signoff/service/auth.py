"""Who is calling: people sign in with a password; business systems use API keys.

- Passwords are stored as argon2id hashes (argon2-cffi).
- A sign-in returns a short-lived access token (a JWT signed with HS256, `sub` = the
  principal id, `adm` = administrator) and a refresh token (256 random bits; only its
  SHA-256 is stored; each works once and is replaced by a new one).
- An app's API key is `so_<40 random characters>`, shown once at creation; only its
  SHA-256 is stored; revoking it takes effect at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from signoff.domain.directory import require_principal
from signoff.domain.errors import Forbidden, Invalid, NotFound, SignoffError
from signoff.service.ids import new_id
from signoff.service.ports import App, Clock, UnitOfWork

_hasher = PasswordHasher()
API_KEY_PREFIX = "so_"


class NotAuthenticated(SignoffError):
    """No valid credentials: a missing, expired or forged token, a wrong password."""

    code = "not_authenticated"


class UnknownApp(NotFound):
    code = "unknown_app"


class NotAdmin(Forbidden):
    code = "not_admin"


@dataclass(frozen=True, slots=True)
class Caller:
    """A signed-in person (`principal_id`) or an app (`app`)."""

    principal_id: str | None
    is_admin: bool = False
    app: App | None = None

    @property
    def name(self) -> str:
        if self.app is not None:
            return f"app:{self.app.id}"
        return self.principal_id or "anonymous"

    def require_admin(self) -> None:
        if not self.is_admin:
            raise NotAdmin("only administrators may do this")

    def require_person(self) -> str:
        """Who acts: the signed-in person, or the principal an app acts as (its tasks)."""
        if self.principal_id is not None:
            return self.principal_id
        if self.app is not None and self.app.acts_as:
            return self.app.acts_as
        raise Forbidden("this needs a signed-in person (or an app that acts as one)")


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds
    principal_id: str
    is_admin: bool


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise Invalid("a password needs at least 8 characters")
    return _hasher.hash(password)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenIssuer:
    secret_key: str
    access_minutes: int = 15
    refresh_days: int = 30

    def access_token(self, principal_id: str, is_admin: bool, now: datetime) -> str:
        claims = {
            "sub": principal_id,
            "adm": is_admin,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=self.access_minutes)).timestamp()),
        }
        return jwt.encode(claims, self.secret_key, algorithm="HS256")

    def read_access_token(self, token: str, now: datetime) -> Caller:
        try:
            claims = jwt.decode(
                token,
                self.secret_key,
                algorithms=["HS256"],
                options={"require": ["sub", "exp"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as error:
            raise NotAuthenticated(f"invalid access token: {error}") from error
        if int(claims["exp"]) <= int(now.timestamp()):
            raise NotAuthenticated("the access token has expired; refresh it")
        return Caller(str(claims["sub"]), bool(claims.get("adm", False)))

    def issue(self, uow: UnitOfWork, principal_id: str, is_admin: bool, now: datetime) -> Tokens:
        refresh = secrets.token_urlsafe(32)
        uow.accounts.add_refresh(
            _digest(refresh), principal_id, now + timedelta(days=self.refresh_days)
        )
        return Tokens(
            self.access_token(principal_id, is_admin, now),
            refresh,
            self.access_minutes * 60,
            principal_id,
            is_admin,
        )


def set_password(
    uow: UnitOfWork, clock: Clock, principal_id: str, password: str, *, is_admin: bool = False
) -> None:
    """`signoff user add`: give a principal of the directory a password."""
    password_hash = hash_password(password)
    with uow:
        require_principal(uow.directory, principal_id)
        uow.accounts.set_account(principal_id, password_hash, is_admin, clock.now())
        uow.commit()


def sign_in(
    uow: UnitOfWork, clock: Clock, issuer: TokenIssuer, principal_id: str, password: str
) -> Tokens:
    with uow:
        account = uow.accounts.get_account(principal_id)
        person = uow.directory.principal(principal_id)
        if account is None or person is None or not person.active:
            _hasher.hash("spend the same time as a real check")
            raise NotAuthenticated("wrong account or password")
        try:
            _hasher.verify(account.password_hash, password)
        except (VerificationError, InvalidHashError) as error:
            raise NotAuthenticated("wrong account or password") from error
        tokens = issuer.issue(uow, principal_id, account.is_admin, clock.now())
        uow.commit()
        return tokens


def refresh(uow: UnitOfWork, clock: Clock, issuer: TokenIssuer, refresh_token: str) -> Tokens:
    with uow:
        now = clock.now()
        principal_id = uow.accounts.use_refresh(_digest(refresh_token), now)
        account = uow.accounts.get_account(principal_id) if principal_id else None
        person = uow.directory.principal(principal_id) if principal_id else None
        if principal_id is None or account is None or person is None or not person.active:
            raise NotAuthenticated("the refresh token is unknown, used or expired")
        tokens = issuer.issue(uow, principal_id, account.is_admin, now)
        uow.commit()
        return tokens


def create_app(
    uow: UnitOfWork,
    clock: Clock,
    name: str,
    templates: tuple[str, ...] = (),
    acts_as: str | None = None,
) -> tuple[App, str]:
    """A new app and its API key (returned once, never stored in clear). With `acts_as`,
    the app may act on the tasks of that principal (a system account of the directory)
    in its templates' instances: seed 002's asynchronous callbacks."""
    if not name.strip():
        raise Invalid("an app needs a name")
    key = API_KEY_PREFIX + secrets.token_urlsafe(30)
    app_id = "app-" + new_id()
    with uow:
        for template_key in templates:
            uow.templates.get(template_key)  # UnknownTemplate for a key nobody published
        if acts_as is not None:
            require_principal(uow.directory, acts_as)
        uow.accounts.add_app(app_id, name.strip(), _digest(key), key[:10], clock.now(), acts_as)
        for template_key in templates:
            uow.accounts.grant_template(app_id, template_key)
        app = uow.accounts.get_app(app_id)
        uow.commit()
    assert app is not None  # noqa: S101  # just written
    return app, key


def app_caller(uow: UnitOfWork, key: str) -> Caller:
    with uow:
        app = uow.accounts.app_by_key(_digest(key))
    if app is None:
        raise NotAuthenticated("unknown or revoked API key")
    return Caller(None, False, app)
