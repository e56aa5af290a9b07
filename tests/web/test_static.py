"""The web app's files, without a browser: served from the package with a <base> that
follows the path prefix, a language hint from Accept-Language and a strict content
security policy; no HTML built from strings, no absolute or external URLs, every message
in both languages, small modules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from signoff.api.routes import web

WEB = Path(web.__file__).resolve().parents[2] / "web"
SCRIPTS = sorted(WEB.rglob("*.js"))
SOURCES = [*SCRIPTS, *WEB.rglob("*.css"), WEB / "index.html"]


def app_client(root_path: str = "") -> TestClient:
    app = FastAPI()
    web.install(app)
    return TestClient(app, root_path=root_path)


@pytest.mark.parametrize("root_path", ["", "/approvals", "/a/b"])
def test_the_page_takes_its_base_from_the_path_it_is_served_under(root_path: str) -> None:
    response = app_client(root_path).get("/")
    assert response.status_code == 200
    assert f'<base href="{root_path}/">' in response.text
    assert 'src="static/js/app.js"' in response.text


@pytest.mark.parametrize(
    ("accept", "locale"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("en;q=0.5, zh;q=0.8", "zh-CN"),
        ("fr-FR", "en"),
        ("", "en"),
    ],
)
def test_the_language_hint_follows_accept_language(accept: str, locale: str) -> None:
    response = app_client().get("/", headers={"Accept-Language": accept})
    assert f'<html lang="{locale}" data-locale="{locale}">' in response.text


def test_the_page_forbids_inline_and_foreign_scripts() -> None:
    policy = app_client().get("/").headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "object-src 'none'" in policy
    assert "unsafe-inline" not in policy


def test_the_scripts_are_served_as_javascript_modules_and_nothing_outside() -> None:
    client = app_client()
    script = client.get("/static/js/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "no-cache"  # revalidated: no stale modules
    assert (
        client.get(
            "/static/js/app.js", headers={"If-None-Match": script.headers["etag"]}
        ).status_code
        == 304
    )
    assert client.get("/static/i18n/zh-CN.js").status_code == 200
    assert client.get("/static/../api/routes/web.py").status_code == 404


def test_no_script_builds_html_from_strings() -> None:
    forbidden = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
        r"setAttribute\(\s*['\"](?:style|on\w+)['\"]"
    )
    found = [f"{p.name}: {m.group(0)}" for p in SCRIPTS for m in forbidden.finditer(p.read_text())]
    assert not found


def test_every_url_is_relative_to_the_base_and_local() -> None:
    absolute = re.compile(r"""['"`]/(?:api|ws|static)\b""")
    external = re.compile(
        r"""(?:src|href)=["']https?:|from\s+['"]https?:|@import|url\(\s*['"]?https?:"""
    )
    for path in SOURCES:
        text = path.read_text()
        assert not absolute.search(text), f"{path.name} builds an absolute URL"
        assert not external.search(text), f"{path.name} loads something from elsewhere"


def dictionary(language: str) -> dict[str, str]:
    """The messages of a language: its app file and its admin file."""
    out: dict[str, str] = {}
    for name in (f"{language}.js", f"{language}-admin.js"):
        text = (WEB / "i18n" / name).read_text()
        out.update(re.findall(r"^\s*'([^']+)':\s*(['\"].*['\"]),$", text, re.M))
    return out


def test_every_message_the_app_uses_is_there_in_both_languages() -> None:
    en, zh = dictionary("en"), dictionary("zh-CN")
    used = set()
    for path in SCRIPTS:
        used |= set(re.findall(r"\bt(?:Or)?\(\s*'([^']+)'", path.read_text()))
    assert used - en.keys() == set()
    assert used - zh.keys() == set()
    # Chinese also names the server's validation rules; otherwise the same keys
    assert {k for k in zh.keys() - en.keys() if not k.startswith("rule.")} == set()
    assert en.keys() - zh.keys() == set()
    families = {
        "status": [
            "draft",
            "pending",
            "approved",
            "rejected",
            "withdrawn",
            "returned",
            "terminated",
        ],
        "node": ["approver", "cc", "condition", "inclusive", "parallel"],
        "mode": ["sequential", "all", "any", "vote"],
        "fieldType": [
            "text",
            "textarea",
            "number",
            "money",
            "date",
            "date_range",
            "select",
            "radio",
            "multi_select",
            "checkbox",
            "user",
            "department",
            "attachment",
            "table",
        ],
        "action": [
            "approve",
            "reject",
            "return",
            "transfer",
            "delegate",
            "add_approvers",
            "take_back",
            "comment",
            "cc",
            "urge",
            "withdraw",
            "terminate",
            "resubmit",
            "copy",
        ],
    }
    for family, names in families.items():
        assert {f"{family}.{n}" for n in names} <= en.keys() & zh.keys(), family


def test_every_script_is_a_small_module() -> None:
    for path in SCRIPTS:
        lines = len(path.read_text().splitlines())
        assert lines <= 400, f"{path.relative_to(WEB)} has {lines} lines"
