"""Who may call: people sign in with a password (rate limited per account and per
address), trade refresh tokens once each, and hold short-lived access tokens; business
systems use API keys that see only their templates' requests and die when revoked; only
administrators manage apps, templates and the directory. Also the `signoff user add` and
`signoff app add` commands, and how settings are read and checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from signoff.cli import main
from signoff.service.auth import TokenIssuer
from signoff.settings import ConfigError, Settings, load_settings
from tests.api.conftest import ADMIN, PASSWORD, Api

LEAVE = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-05"],
    "days": 2,
    "reason": "family trip",
}
EXPENSE = {
    "expense_type": "travel",
    "items": [{"date": "2026-11-20", "category": "transport", "amount": "300.00"}],
    "total": "300.00",
    "invoices": [{"id": "f-1", "name": "a.pdf", "size": 10, "content_type": "application/pdf"}],
    "payee": "u-zhangsan",
}


def problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def from_address(api: Api, host: str) -> TestClient:
    return TestClient(api.app_client.app, raise_server_exceptions=False, client=(host, 40000))


def login(client: TestClient, person: str, password: str = PASSWORD) -> Response:
    return client.post("/api/v1/auth/login", json={"principal_id": person, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def submit(api: Api, template_key: str, form: dict[str, Any]) -> str:
    created = api.as_("u-zhangsan").post(
        "/api/v1/instances", json={"template_key": template_key, "form": form}
    )
    assert created.status_code == 201, created.text
    instance_id: str = created.json()["instance_id"]
    return instance_id


# ---- signing in -------------------------------------------------------------------------------


def test_a_person_signs_in_with_the_right_password_and_gets_working_tokens(api: Api) -> None:
    signed_in = login(api.anonymous, "u-zhangsan")
    assert signed_in.status_code == 200, signed_in.text
    tokens = signed_in.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 15 * 60
    assert tokens["principal_id"] == "u-zhangsan" and tokens["is_admin"] is False
    assert tokens["access_token"] != tokens["refresh_token"]
    me = api.anonymous.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["principal_id"] == "u-zhangsan" and me.json()["name"] == "张三"
    admin = login(api.anonymous, ADMIN).json()
    assert admin["is_admin"] is True


def test_an_unknown_account_and_a_wrong_password_get_the_same_401(api: Api) -> None:
    unknown = problem(login(api.anonymous, "u-nobody"), 401, "not_authenticated")
    wrong = problem(
        login(from_address(api, "10.0.0.2"), "u-zhangsan", "wrong password"),
        401,
        "not_authenticated",
    )
    assert unknown["detail"] == wrong["detail"]
    assert unknown["title"] == wrong["title"]
    assert "access_token" not in unknown and "access_token" not in wrong


def test_sign_in_attempts_are_limited_per_account_and_per_address(api: Api) -> None:
    """Five attempts a minute (the test settings): the sixth is refused with 429 whether it
    names the same account from elsewhere or another account from the same address."""
    here = from_address(api, "10.1.0.1")
    for n in range(5):
        tried = login(here, "u-zhangsan", f"guess number {n}")
        assert tried.status_code == 401, tried.text
    same_account = login(from_address(api, "10.1.0.2"), "u-zhangsan")
    problem(same_account, 429, "rate_limited")
    assert 1 <= int(same_account.headers["retry-after"]) <= 60
    same_address = login(here, "u-lisi")
    body = problem(same_address, 429, "rate_limited")
    assert body["details"]["retry_after"] == int(same_address.headers["retry-after"])
    assert login(from_address(api, "10.1.0.3"), "u-lisi").status_code == 200


def test_a_refresh_token_works_once_and_for_30_days(api: Api) -> None:
    first = login(api.anonymous, "u-zhangsan").json()
    traded = api.anonymous.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert traded.status_code == 200, traded.text
    second = traded.json()
    assert second["principal_id"] == "u-zhangsan"
    assert second["refresh_token"] != first["refresh_token"]
    me = api.anonymous.get("/api/v1/me", headers=bearer(second["access_token"]))
    assert me.status_code == 200
    again = api.anonymous.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    problem(again, 401, "not_authenticated")
    newest = api.anonymous.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert newest.status_code == 200, newest.text
    # and each lasts 30 days
    api.clock.advance(days=30, seconds=1)
    late = api.anonymous.post(
        "/api/v1/auth/refresh", json={"refresh_token": newest.json()["refresh_token"]}
    )
    problem(late, 401, "not_authenticated")


def test_an_access_token_expires_after_15_minutes_and_a_refresh_gets_a_new_one(
    api: Api,
) -> None:
    tokens = login(api.anonymous, "u-zhangsan").json()
    headers = bearer(tokens["access_token"])
    api.clock.advance(minutes=14, seconds=59)
    assert api.anonymous.get("/api/v1/me", headers=headers).status_code == 200
    api.clock.advance(seconds=1)
    expired = problem(api.anonymous.get("/api/v1/me", headers=headers), 401, "not_authenticated")
    assert "expired" in expired["detail"]
    fresh = api.anonymous.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    ).json()
    assert api.anonymous.get("/api/v1/me", headers=bearer(fresh["access_token"])).is_success
    # a token signed with another key is worth nothing, whatever it claims
    forged = TokenIssuer("another-secret-key-that-is-long-enough-0123456789")
    token = forged.access_token(ADMIN, True, api.clock.now())
    problem(api.anonymous.get("/api/v1/apps", headers=bearer(token)), 401, "not_authenticated")


# ---- API keys -----------------------------------------------------------------------------------


def test_an_app_key_is_shown_once_sees_only_its_templates_and_dies_when_revoked(
    api: Api,
) -> None:
    admin = api.as_(ADMIN)
    created = admin.post("/api/v1/apps", json={"name": "HR system", "templates": ["leave"]})
    assert created.status_code == 201, created.text
    app = created.json()
    key = app["api_key"]
    assert key.startswith("so_") and key.startswith(app["key_prefix"])
    assert app["templates"] == ["leave"] and app["revoked_at"] is None
    assert created.headers["Location"] == f"/api/v1/apps/{app['id']}"

    listed = admin.get("/api/v1/apps")
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == [app["id"]]
    assert "api_key" not in listed.json()[0] and key not in listed.text
    shown = admin.get(f"/api/v1/apps/{app['id']}")
    assert shown.status_code == 200 and key not in shown.text

    leave = submit(api, "leave", LEAVE)
    expense = submit(api, "expense", EXPENSE)
    system = api.with_key(key)
    me = system.get("/api/v1/me").json()
    assert me["app_id"] == app["id"] and me["principal_id"] is None
    assert [t["key"] for t in system.get("/api/v1/templates").json()] == ["leave"]
    assert system.get("/api/v1/templates/leave").status_code == 200
    problem(system.get("/api/v1/templates/expense"), 404, "unknown_template")
    seen = system.get(f"/api/v1/instances/{leave}")
    assert seen.status_code == 200, seen.text
    assert seen.json()["form"]["reason"] == "family trip"
    assert seen.json()["actions"] == []
    problem(system.get(f"/api/v1/instances/{expense}"), 404, "unknown_instance")
    # an app is not a person: it neither submits nor decides
    refused = system.post("/api/v1/instances", json={"template_key": "leave", "form": LEAVE})
    problem(refused, 403, "forbidden")
    problem(system.get("/api/v1/apps"), 403, "not_admin")

    revoked = admin.delete(f"/api/v1/apps/{app['id']}")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    problem(system.get(f"/api/v1/instances/{leave}"), 401, "not_authenticated")
    problem(api.with_key(key[:-1] + "x").get("/api/v1/me"), 401, "not_authenticated")


def test_only_administrators_manage_apps_templates_and_the_directory(api: Api) -> None:
    person = api.as_("u-zhangsan")
    template = api.as_(ADMIN).get("/api/v1/templates/leave").json()
    tried = [
        person.post("/api/v1/apps", json={"name": "mine", "templates": ["leave"]}),
        person.get("/api/v1/apps"),
        person.get("/api/v1/apps/app-x"),
        person.delete("/api/v1/apps/app-x"),
        person.post("/api/v1/templates/validate", json=template),
        person.put("/api/v1/templates/leave/draft", json=template),
        person.get("/api/v1/templates/leave/draft"),
        person.post("/api/v1/templates/leave/publish", json=template),
        person.post("/api/v1/directory/import", json={"departments": [], "principals": []}),
        person.post(
            "/api/v1/directory/hand-over", json={"from_person": "u-lina", "to": "u-zhangsan"}
        ),
        person.get("/api/v1/directory/identities/wecom:user:lina"),
        person.post("/api/v1/templates/leave/preview", json={"applicant_id": "u-lina"}),
    ]
    for sent in tried:
        problem(sent, 403, "not_admin")
    # and the same requests work for an administrator
    admin = api.as_(ADMIN)
    assert admin.post("/api/v1/templates/validate", json=template).json()["valid"] is True
    assert admin.get("/api/v1/directory/identities/wecom:user:lina").json() == {
        "identity": "wecom:user:lina",
        "principal_id": "u-lina",
    }
    published = admin.post("/api/v1/templates/leave/publish", json=template)
    assert published.status_code == 201, published.text
    assert published.json()["version"] == 2


# ---- the command line ----------------------------------------------------------------------------


def test_signoff_user_add_gives_a_person_a_password_to_sign_in_with(
    api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = api.services.db.url
    old = login(api.anonymous, "u-wangwu").json()
    monkeypatch.setenv("SIGNOFF_PASSWORD", "a brand new password")
    assert main(["--database", url, "user", "add", "u-wangwu", "--admin"]) == 0
    assert "u-wangwu can sign in now (administrator)" in capsys.readouterr().out
    problem(login(api.anonymous, "u-wangwu"), 401, "not_authenticated")
    signed_in = login(from_address(api, "10.3.0.1"), "u-wangwu", "a brand new password")
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["is_admin"] is True
    # the new password ends the sessions opened with the old one
    stale = api.anonymous.post("/api/v1/auth/refresh", json={"refresh_token": old["refresh_token"]})
    problem(stale, 401, "not_authenticated")

    assert main(["--database", url, "user", "add", "u-nobody"]) == 1
    assert "u-nobody" in capsys.readouterr().err
    monkeypatch.setenv("SIGNOFF_PASSWORD", "short")
    assert main(["--database", url, "user", "add", "u-lisi"]) == 1
    assert "8 characters" in capsys.readouterr().err


def test_signoff_app_add_prints_a_key_that_authenticates(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    url = api.services.db.url
    assert main(["--database", url, "app", "add", "ERP", "--template", "expense"]) == 0
    out = capsys.readouterr().out
    key = out.split("API key (shown once, store it now): ", 1)[1].strip()
    system = api.with_key(key)
    assert system.get("/api/v1/me").json()["name"] == "ERP"
    assert [t["key"] for t in system.get("/api/v1/templates").json()] == ["expense"]
    expense = submit(api, "expense", EXPENSE)
    assert system.get(f"/api/v1/instances/{expense}").status_code == 200
    apps = api.as_(ADMIN).get("/api/v1/apps").json()
    assert [(a["name"], a["templates"]) for a in apps] == [("ERP", ["expense"])]


# ---- settings ------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No SIGNOFF_* setting from the environment the tests happen to run in."""
    for name in [*Settings.model_fields, "config"]:
        monkeypatch.delenv(f"SIGNOFF_{name.upper()}", raising=False)
    return monkeypatch


def test_an_unknown_database_url_is_refused_naming_the_setting(
    clean_env: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigError, match="SIGNOFF_DATABASE_URL"):
        load_settings(database_url="mysql://x")
    with pytest.raises(ConfigError, match="SIGNOFF_SECRET_KEY"):
        load_settings(secret_key="too short")
    clean_env.setenv("SIGNOFF_PORT", "not a port")
    with pytest.raises(ConfigError, match="SIGNOFF_PORT"):
        load_settings()


def test_settings_are_read_from_the_toml_file_and_the_environment_wins(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "signoff.toml"
    config.write_text(
        'database_url = "postgresql://signoff@db/signoff"\n'
        "port = 9000\n"
        'log_level = "DEBUG"\n'
        "login_attempts_per_minute = 3\n",
        encoding="utf-8",
    )
    clean_env.setenv("SIGNOFF_CONFIG", str(config))
    settings = load_settings()
    assert settings.database_url == "postgresql://signoff@db/signoff"
    assert settings.port == 9000 and settings.log_level == "debug"
    assert settings.login_attempts_per_minute == 3
    assert settings.host == "127.0.0.1"  # the default, named nowhere

    clean_env.setenv("SIGNOFF_PORT", "9100")
    clean_env.setenv("SIGNOFF_DATABASE_URL", "sqlite:///other.db")
    settings = load_settings()
    assert settings.port == 9100 and settings.database_url == "sqlite:///other.db"
    assert settings.log_level == "debug"
    assert load_settings(port=9200).port == 9200  # explicit overrides win over both


def test_a_bad_config_file_is_refused_with_a_message(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="SIGNOFF_CONFIG"):
        load_settings(str(tmp_path / "missing.toml"))
    broken = tmp_path / "broken.toml"
    broken.write_text("port = = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(str(broken))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("colour = 'blue'\nport = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(str(unknown))
    assert "SIGNOFF_COLOUR" in str(raised.value) and "SIGNOFF_PORT" in str(raised.value)
