"""Signing in, in Chinese and in English, and the header that follows."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.api.conftest import PASSWORD
from tests.web.conftest import NewPage


def sign_in(page: Any, person: str, account: str, password_label: str, button: str) -> None:
    page.get_by_label(account).fill(person)
    page.get_by_label(password_label).fill(PASSWORD)
    page.get_by_role("button", name=button).click()


def test_a_chinese_browser_signs_in_and_sees_the_name_and_pending_count(
    new_page: NewPage,
) -> None:
    page = new_page(locale="zh-CN")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    sign_in(page, "u-zhangsan", "账号", "密码", "登录")
    expect(page.get_by_role("navigation", name="主导航")).to_be_visible()
    expect(page.locator(".me-name")).to_have_text("张三")
    expect(page.get_by_role("heading", name="待处理")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_an_english_browser_gets_the_english_interface(new_page: NewPage) -> None:
    page = new_page(locale="en-US")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, "u-lina", "Account", "Password", "Sign in")
    expect(page.locator(".me-name")).to_have_text("李娜")
    expect(page.get_by_role("link", name=re.compile("^Inbox"))).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_a_wrong_password_is_refused_with_a_message(new_page: NewPage) -> None:
    page = new_page()
    page.get_by_label("Account").fill("u-zhangsan")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong account or password.")


def test_the_header_counts_the_pending_tasks(new_page: NewPage, server: Any) -> None:
    counts = server.call("u-huangli", "GET", "me")["counts"]
    page = new_page("u-huangli")
    badge = page.locator('[data-count="pending"]').first
    if counts["pending"]:
        expect(badge).to_have_attribute("data-value", str(counts["pending"]))
    else:
        expect(badge).to_be_hidden()


def test_signing_out_returns_to_the_sign_in_page(new_page: NewPage) -> None:
    page = new_page("u-wangwu")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("localStorage.getItem('signoff.session')") is None
