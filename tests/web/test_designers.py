"""The form and flow designers: every example template opens and saves unchanged; fields
are added, configured and dragged into place; nodes are added between nodes; an invalid
tree shows the server's problem on the node; a new template is published."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage
from tests.web.support import ROOT, Server

ADMIN = "u-huangli"
EXAMPLES = sorted(p.stem for p in (ROOT / "examples" / "templates").glob("*.json"))


def designer(new_page: NewPage, key: str, tab: str = "form", source: str = "") -> Any:
    query = f"?tab={tab}" + (f"&source={source}" if source else "")
    page = new_page(ADMIN, path=f"#/admin/templates/{key}{query}")
    expect(page.locator(".check-status .badge")).to_be_visible()
    return page


def save(page: Any) -> None:
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved")).to_be_visible()


def click_each(page: Any, selector: str, at_least: int) -> None:
    """Select every card in turn (each click re-renders the tree or list), once at least
    `at_least` of them are there (a count read at once could be of a tree not drawn yet)."""
    cards = page.locator(selector)
    expect(cards.nth(at_least - 1)).to_be_visible()
    for i in range(cards.count()):
        cards.nth(i).click()


@pytest.mark.parametrize("key", EXAMPLES)
def test_an_example_template_opened_in_the_designers_saves_unchanged(
    new_page: NewPage, server: Server, key: str
) -> None:
    page = designer(new_page, key, source="published")
    expect(page.locator(".check-status")).to_have_text("No problems")
    click_each(page, ".fd-card", at_least=5)
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("button", name="Back to editing").click()
    page.get_by_role("tab", name="Flow").click()
    click_each(page, ".fl-canvas button.fl-node-main, .fl-canvas .fl-pill", at_least=4)
    page.get_by_role("tab", name="Basics & settings").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value(
        json.loads((ROOT / "examples" / "templates" / f"{key}.json").read_text())["name"]
    )
    save(page)
    draft = server.call(ADMIN, "GET", f"templates/{key}/draft")
    published = server.call(ADMIN, "GET", f"templates/{key}")
    example = json.loads((ROOT / "examples" / "templates" / f"{key}.json").read_text())
    assert draft == published == example


def test_fields_are_added_configured_and_dragged_into_place(
    new_page: NewPage, server: Server
) -> None:
    key = "web_trip"
    blank = {"key": key, "name": "出差", "form": {"fields": []}, "flow": {"nodes": []}}
    server.call(ADMIN, "PUT", f"templates/{key}/draft", json=blank)
    page = designer(new_page, key)
    palette = page.get_by_role("navigation", name="Fields")
    panel = page.get_by_role("complementary", name="Field properties")

    palette.get_by_role("button", name="Add Text").click()
    panel.get_by_label("Label", exact=True).fill("目的地")
    panel.get_by_label("Required").check()

    palette.get_by_role("button", name="Add Single choice").click()
    panel.get_by_label("Label", exact=True).fill("交通方式")
    panel.get_by_label("Field id").fill("transport")
    panel.get_by_label("Label of option 1").fill("飞机")
    panel.get_by_label("Value of option 1").fill("plane")
    panel.get_by_label("Label of option 2").fill("火车")
    panel.get_by_label("Value of option 2").fill("train")

    palette.get_by_role("button", name="Add Text").click()
    panel.get_by_label("Label", exact=True).fill("航班号")
    panel.get_by_label("Show this field").select_option("transport")
    panel.get_by_role("checkbox", name="飞机").check()

    palette.get_by_role("button", name="Add Table (line items)").click()
    panel.get_by_label("Column type").select_option("money")
    panel.get_by_role("button", name="Add column").click()
    panel.get_by_label("Label", exact=True).fill("费用")

    # drag the flight number above the destination (both in view: a drag that scrolls the
    # page makes Chromium start it from the wrong element)
    page.evaluate("window.scrollTo(0, 0)")
    cards = page.locator(".fd-list > .fd-card")
    flight = cards.and_(page.locator('[data-field="text_2"]'))
    flight.drag_to(
        cards.and_(page.locator('[data-field="text_1"]')), target_position={"x": 40, "y": 5}
    )
    expect(cards.nth(0)).to_have_attribute("data-field", "text_2")
    # and move the table up one with the keyboard-reachable button
    cards.and_(page.locator('[data-field="table_1"]')).locator("> .fd-card-head").get_by_role(
        "button", name="Move Table (line items) up"
    ).click()

    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".fd-preview")
    expect(preview.get_by_label("航班号")).to_be_hidden()
    preview.get_by_role("radio", name="飞机").check()
    expect(preview.get_by_label("航班号")).to_be_visible()
    page.get_by_role("button", name="Back to editing").click()
    save(page)

    fields = server.call(ADMIN, "GET", f"templates/{key}/draft")["form"]["fields"]
    assert [f["id"] for f in fields] == ["text_2", "text_1", "table_1", "transport"]
    assert fields[1] == {"id": "text_1", "type": "text", "label": "目的地", "required": True}
    assert fields[0]["visible_when"] == {"field": "transport", "in": ["plane"]}
    assert fields[3]["options"] == [
        {"value": "plane", "label": "飞机"},
        {"value": "train", "label": "火车"},
    ]
    assert [c["type"] for c in fields[2]["columns"]] == ["text", "money"]
    assert fields[2]["columns"][1]["label"] == "费用"


def test_an_approver_added_without_approvers_shows_the_problem_on_its_node(
    new_page: NewPage,
) -> None:
    page = designer(new_page, "leave", tab="flow", source="published")
    expect(page.locator(".check-status")).to_have_text("No problems")
    page.get_by_role("button", name="Add a node after 直属主管").click()
    page.get_by_role("menuitem", name="Approver").click()
    node = page.locator(".fl-node.has-problem")
    expect(node).to_have_count(1)
    expect(node).to_contain_text("Set the approvers")
    expect(node.get_by_role("alert")).to_contain_text("flow.nodes[1].assignees")
    expect(page.locator(".check-status")).to_have_text("1 problems")
    # giving it approvers clears the problem
    panel = page.get_by_role("complementary", name="Node settings")
    panel.get_by_role("button", name="Add approvers").click()
    expect(page.locator(".fl-node.has-problem")).to_have_count(0)
    expect(page.locator(".check-status")).to_have_text("No problems")


def test_a_condition_route_with_a_broken_rule_shows_the_problem_on_the_route(
    new_page: NewPage,
) -> None:
    page = designer(new_page, "expense", tab="flow", source="published")
    page.get_by_role("button", name="Route: 5000元及以上").click()
    panel = page.get_by_role("complementary", name="Node settings")
    panel.get_by_label("Value of condition 1").fill("a lot")
    route = page.locator('.fl-route[data-route="total_5000_up"]')
    expect(route).to_have_class("fl-route is-selected has-problem")
    expect(route.get_by_role("alert")).to_contain_text("routes[0].when")


def test_a_new_template_is_designed_and_published(new_page: NewPage, server: Server) -> None:
    page = new_page(ADMIN, path="#/admin/templates")
    page.get_by_role("button", name="New template").click()
    page.get_by_role("dialog").get_by_label("Key").fill("web_publish")
    page.get_by_role("dialog").get_by_label("Name").fill("网页发布")
    page.get_by_role("dialog").get_by_role("button", name="Create").click()
    page.get_by_role("navigation", name="Fields").get_by_role("button", name="Add Amount").click()
    page.get_by_role("complementary", name="Field properties").get_by_label(
        "Label", exact=True
    ).fill("金额")
    page.get_by_role("tab", name="Flow").click()
    page.get_by_role("button", name="Add a node after Applicant").click()
    page.get_by_role("menuitem", name="Condition", exact=True).click()
    page.get_by_role("button", name="Add a node after Condition 1").click()
    page.get_by_role("menuitem", name="Approver").click()
    panel = page.get_by_role("complementary", name="Node settings")
    panel.get_by_role("button", name="Add approvers").click()
    panel.get_by_label("Kind of rule 1").select_option("role")
    panel.get_by_label("Role", exact=True).select_option("finance")
    page.get_by_role("button", name="Route: Condition 1").click()
    panel.get_by_role("button", name="Add a condition").click()
    panel.get_by_label("Comparison of condition 1").select_option("gte")
    panel.get_by_label("Value of condition 1").fill("1000")
    expect(page.locator(".check-status")).to_have_text("No problems")
    page.get_by_role("button", name="Publish").click()
    page.get_by_role("dialog").get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published version 1")).to_be_visible()
    published = server.call(ADMIN, "GET", "templates/web_publish")
    gateway = published["flow"]["nodes"][0]
    assert gateway["type"] == "condition"
    assert gateway["routes"][0]["when"] == {
        "all": [{"field": "form.money_1", "op": "gte", "value": "1000"}]
    }
    assert gateway["routes"][0]["nodes"][0]["assignees"] == [{"type": "role", "role": "finance"}]


def test_an_open_add_menu_stays_open_when_the_names_arrive(
    new_page: NewPage, server: Server
) -> None:
    """The tree is drawn again once the directory is loaded; a + menu opened before that
    stays open (and usable) instead of vanishing under the pointer."""
    page = new_page(ADMIN)
    expect(page.locator(".me-name")).to_have_text("黄莉")
    held: list[Any] = []
    page.route("**/api/v1/directory/departments*", lambda route: held.append(route))
    # the designer asks for the departments as it opens (and they are held)
    with page.expect_request("**/api/v1/directory/departments*"):
        page.goto(server.url + "#/admin/templates/leave?tab=flow&source=published")
    add = page.get_by_role("button", name="Add a node after 直属主管")
    add.click()
    expect(add).to_have_attribute("aria-expanded", "true")
    page.evaluate("document.querySelector('.fl-tree > .fl-seq').dataset.old = 'yes'")
    # (the held route reached us before the answers to the calls made since the request)
    assert held, "the departments were asked for but not held"
    for route in held:
        route.continue_()
    # the tree is drawn again with the names …
    expect(page.locator(".fl-tree > .fl-seq[data-old]")).to_have_count(0)
    # … and the menu is still open
    expect(page.get_by_role("button", name="Add a node after 直属主管")).to_have_attribute(
        "aria-expanded", "true"
    )
    page.get_by_role("menuitem", name="CC").click()
    expect(page.get_by_role("complementary", name="Node settings")).to_contain_text("CC")
