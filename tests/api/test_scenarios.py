"""The four seed scenarios end to end, through HTTP only.

Leave (a condition on the days; return and resubmit; rejection), expense (a 会签 node
and a reviewer chosen by the previous approver), permission (a parallel gateway with an
`any` and an `all` node, then a VP) and purchase contract (a lawyer chosen at submit, an
inclusive gateway by amount, a vote). Then every other command once, batch decisions,
inbox counts, filters and paging, If-Match and idempotent retries.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.api.conftest import ADMIN, Api

APPLICANT = "u-zhangsan"


def leave(days: float) -> dict[str, Any]:
    return {
        "leave_type": "annual",
        "period": ["2026-12-01", "2026-12-05"],
        "days": days,
        "reason": "family trip",
    }


def expense(total: str) -> dict[str, Any]:
    return {
        "expense_type": "travel",
        "items": [
            {"date": "2026-11-20", "category": "transport", "amount": total},
        ],
        "total": total,
        "invoices": [
            {"id": "f-1", "name": "invoice.pdf", "size": 1024, "content_type": "application/pdf"}
        ],
        "payee": APPLICANT,
    }


def permission(*resources: str) -> dict[str, Any]:
    return {
        "apply_type": "rd",
        "resources": list(resources),
        "role": "viewer",
        "duration": ["2026-12-01", "2027-05-31"],
        "reason": "quarterly report",
    }


def contract(amount: str) -> dict[str, Any]:
    return {
        "contract_name": "服务器采购",
        "party_a": "Acme 示例科技",
        "party_b": "某某供应商",
        "contract_amount": amount,
        "sign_date": "2026-12-01",
        "payment_terms": "30% on signing, 70% on delivery",
        "items": [
            {"name": "server", "quantity": 2, "unit_price": "1000.00", "subtotal": "2000.00"},
        ],
        "department": "d-rd",
    }


# ---- helpers ---------------------------------------------------------------------------------


def ok(response: Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def submit(
    api: Api,
    template_key: str,
    form: dict[str, Any],
    person: str = APPLICANT,
    choices: dict[str, list[str]] | None = None,
) -> str:
    body = {"template_key": template_key, "form": form, "choices": choices or {}}
    created = ok(api.as_(person).post("/api/v1/instances", json=body), 201)
    instance_id: str = created["instance_id"]
    return instance_id


def show(api: Api, instance_id: str, person: str = APPLICANT) -> dict[str, Any]:
    return ok(api.as_(person).get(f"/api/v1/instances/{instance_id}"))


def pending_of(api: Api, instance_id: str, viewer: str = APPLICANT) -> list[tuple[str, str]]:
    """(node id, assignee) of the pending tasks, sorted."""
    return sorted((t["node_id"], t["assignee"]) for t in show(api, instance_id, viewer)["pending"])


def task_of(api: Api, person: str, instance_id: str) -> str:
    """The person's pending task on the instance, as their inbox lists it."""
    inbox = ok(api.as_(person).get("/api/v1/inbox/pending", params={"limit": 200}))
    found = [i["task_id"] for i in inbox["items"] if i["instance_id"] == instance_id]
    assert len(found) == 1, (person, inbox)
    task_id: str = found[0]
    return task_id


def decide(
    api: Api, person: str, instance_id: str, action: str = "approve", **body: Any
) -> dict[str, Any]:
    task_id = task_of(api, person, instance_id)
    return ok(api.as_(person).post(f"/api/v1/tasks/{task_id}/{action}", json=body))


def taken_path(steps: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    """The approver nodes of a preview that are taken, with their people, in tree order."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for step in steps:
        if not step["taken"]:
            continue
        if step["type"] == "approver":
            out.append((step["node_id"], tuple(step["people"])))
        for route in step["routes"]:
            out.extend(taken_path(route["steps"]))
    return out


def preview(
    client: TestClient,
    template_key: str,
    form: dict[str, Any],
    choices: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    body = {"form": form, "choices": choices or {}}
    return ok(client.post(f"/api/v1/templates/{template_key}/preview", json=body))


def events(body: dict[str, Any]) -> list[str]:
    return [e["type"] for e in body["timeline"]]


# ---- leave -----------------------------------------------------------------------------------


def test_a_short_leave_goes_to_the_team_lead_then_hr_and_is_copied_to_hr(api: Api) -> None:
    path = taken_path(preview(api.as_(APPLICANT), "leave", leave(2))["steps"])
    assert path == [("team_lead", ("u-chenjie",)), ("hr", ("u-huangli", "u-xuting"))]
    instance_id = submit(api, "leave", leave(2))
    assert pending_of(api, instance_id) == [("team_lead", "u-chenjie")]
    decide(api, "u-chenjie", instance_id)
    assert pending_of(api, instance_id) == [("hr", "u-huangli"), ("hr", "u-xuting")]
    done = decide(api, "u-xuting", instance_id, comment="enjoy")
    assert done["status"] == "approved" and done["pending"] == []
    body = show(api, instance_id)
    assert body["status"] == "approved"
    assert sorted(body["cc"]) == ["u-huangli", "u-xuting"]
    assert [t["node_id"] for t in body["tasks"] if t["status"] == "approved"] == [
        "team_lead",
        "hr",
    ]
    cancelled = [t for t in body["tasks"] if t["status"] == "cancelled"]
    assert [t["assignee"] for t in cancelled] == ["u-huangli"]
    assert events(body)[0] == "InstanceSubmitted" and events(body)[-1] == "InstanceApproved"
    assert body["actions"] == ["copy", "comment", "cc"]
    assert body["serial"] and body["submitted_at"] and body["finished_at"]


def test_a_long_leave_also_goes_to_the_head_one_level_up(api: Api) -> None:
    path = taken_path(preview(api.as_(APPLICANT), "leave", leave(5))["steps"])
    assert path == [
        ("team_lead", ("u-chenjie",)),
        ("dept_head", ("u-lina",)),
        ("hr", ("u-huangli", "u-xuting")),
    ]
    instance_id = submit(api, "leave", leave(5))
    taken = []
    for person in ("u-chenjie", "u-lina", "u-huangli"):
        taken.append(pending_of(api, instance_id)[0][0])
        decide(api, person, instance_id)
    assert taken == ["team_lead", "dept_head", "hr"]
    assert show(api, instance_id)["status"] == "approved"


def test_a_returned_leave_is_edited_resubmitted_and_goes_back_to_the_returner(api: Api) -> None:
    instance_id = submit(api, "leave", leave(2))
    decide(api, "u-chenjie", instance_id)
    returned = decide(api, "u-huangli", instance_id, "return", comment="wrong dates")
    assert returned["status"] == "returned" and returned["pending"] == []
    body = show(api, instance_id)
    assert body["status"] == "returned"
    assert "resubmit" in body["actions"] and "withdraw" in body["actions"]
    assert ok(api.as_("u-xuting").get("/api/v1/inbox/pending"))["items"] == []

    form = {**leave(2), "period": ["2026-12-02", "2026-12-03"]}
    again = ok(
        api.as_(APPLICANT).post(f"/api/v1/instances/{instance_id}/resubmit", json={"form": form})
    )
    assert again["status"] == "pending"
    # back_to_returner: the flow resumes at HR, not at the team lead
    assert pending_of(api, instance_id) == [("hr", "u-huangli"), ("hr", "u-xuting")]
    decide(api, "u-huangli", instance_id)
    body = show(api, instance_id)
    assert body["status"] == "approved"
    assert body["form"]["period"] == ["2026-12-02", "2026-12-03"]
    assert "InstanceReturned" in events(body) and "InstanceResubmitted" in events(body)


def test_a_rejected_leave_ends_with_the_rejecters_comment(api: Api) -> None:
    instance_id = submit(api, "leave", leave(5))
    decide(api, "u-chenjie", instance_id)
    rejected = decide(api, "u-lina", instance_id, "reject", comment="project deadline")
    assert rejected["status"] == "rejected" and rejected["pending"] == []
    body = show(api, instance_id)
    assert body["status"] == "rejected"
    task = next(t for t in body["tasks"] if t["assignee"] == "u-lina")
    assert task["status"] == "rejected" and task["comment"] == "project deadline"
    entry = next(e for e in body["timeline"] if e["type"] == "TaskRejected")
    assert entry["actor"] == "u-lina" and entry["data"]["comment"] == "project deadline"
    assert events(body)[-1] == "InstanceRejected"
    # nobody may decide a finished request any more
    late = api.as_("u-lina").post(f"/api/v1/tasks/{task['id']}/approve", json={})
    assert late.status_code == 409, late.text


# ---- expense ---------------------------------------------------------------------------------


def test_a_large_expense_needs_every_finance_countersign_before_the_cashier(api: Api) -> None:
    path = taken_path(preview(api.as_(APPLICANT), "expense", expense("6000.00"))["steps"])
    assert path == [
        ("dept_head", ("u-chenjie",)),
        ("finance_countersign", ("u-zhoujing", "u-wufang", "u-sunli")),
        ("cashier", ("u-zhengyu",)),
    ]
    instance_id = submit(api, "expense", expense("6000.00"))
    decide(api, "u-chenjie", instance_id)
    finance = [("finance_countersign", p) for p in ("u-sunli", "u-wufang", "u-zhoujing")]
    assert pending_of(api, instance_id) == finance
    decide(api, "u-zhoujing", instance_id)
    # 会签: everyone must approve; one approval leaves the others pending
    assert pending_of(api, instance_id) == finance[:2]
    decide(
        api,
        "u-wufang",
        instance_id,
        edits={"items": [{**expense("6000.00")["items"][0], "category": "lodging"}]},
    )
    assert pending_of(api, instance_id) == finance[:1]
    decide(api, "u-sunli", instance_id)
    assert pending_of(api, instance_id) == [("cashier", "u-zhengyu")]
    # the cashier's node hides the invoices
    seen = show(api, instance_id, "u-zhengyu")
    assert "invoices" not in seen["form"] and seen["form"]["total"] == "6000.00"
    assert seen["form"]["items"][0]["category"] == "lodging"
    decide(api, "u-zhengyu", instance_id)
    assert show(api, instance_id)["status"] == "approved"


def test_a_smaller_expense_goes_to_the_reviewer_the_lead_chooses_or_straight_to_the_cashier(
    api: Api,
) -> None:
    steps = preview(api.as_(APPLICANT), "expense", expense("3000.00"))["steps"]
    route = next(r for r in steps[1]["routes"] if r["id"] == "total_1000_5000")
    assert route["taken"]
    assert route["steps"][0]["needs_choice"] == "previous_approver_choice"
    assert route["steps"][0]["people"] == []

    instance_id = submit(api, "expense", expense("3000.00"))
    task_id = task_of(api, "u-chenjie", instance_id)
    lead = api.as_("u-chenjie")
    problem(lead.post(f"/api/v1/tasks/{task_id}/approve", json={}), 422, "choice_required")
    assert pending_of(api, instance_id) == [("dept_head", "u-chenjie")]
    chosen = {"finance_review": ["u-wufang"]}
    ok(lead.post(f"/api/v1/tasks/{task_id}/approve", json={"choices": chosen}))
    assert pending_of(api, instance_id) == [("finance_review", "u-wufang")]
    decide(api, "u-wufang", instance_id)
    decide(api, "u-zhengyu", instance_id)
    assert show(api, instance_id)["status"] == "approved"

    # under 1000 the default route is empty: straight to the cashier
    path = taken_path(preview(api.as_(APPLICANT), "expense", expense("200.00"))["steps"])
    assert path == [("dept_head", ("u-chenjie",)), ("cashier", ("u-zhengyu",))]
    small = submit(api, "expense", expense("200.00"))
    decide(api, "u-chenjie", small)
    assert pending_of(api, small) == [("cashier", "u-zhengyu")]


# ---- permission ------------------------------------------------------------------------------


def test_a_permission_for_core_data_runs_owners_and_it_in_parallel_then_the_vp(
    api: Api,
) -> None:
    form = permission("dashboard", "core_db")
    path = taken_path(preview(api.as_(APPLICANT), "permission", form)["steps"])
    assert [(node, sorted(people)) for node, people in path] == [
        ("supervisor", ["u-chenjie"]),
        ("resource_owners", ["u-lina", "u-liuyang"]),
        ("it_admins", ["u-lisi", "u-zhaolei"]),
        ("vp", ["u-wangqiang"]),
    ]
    instance_id = submit(api, "permission", form)
    decide(api, "u-chenjie", instance_id)
    assert pending_of(api, instance_id) == [
        ("it_admins", "u-lisi"),
        ("it_admins", "u-zhaolei"),
        ("resource_owners", "u-lina"),
        ("resource_owners", "u-liuyang"),
    ]
    # 或签: the first owner decides for the node; the other owner is too late
    late_task = task_of(api, "u-liuyang", instance_id)
    decide(api, "u-lina", instance_id)
    problem(
        api.as_("u-liuyang").post(f"/api/v1/tasks/{late_task}/approve", json={}),
        409,
        "node_already_decided",
    )
    assert pending_of(api, instance_id) == [("it_admins", "u-lisi"), ("it_admins", "u-zhaolei")]
    decide(api, "u-zhaolei", instance_id)
    assert pending_of(api, instance_id) == [("it_admins", "u-lisi")]
    decide(api, "u-lisi", instance_id)
    # both branches joined: the special resource adds the VP
    assert pending_of(api, instance_id) == [("vp", "u-wangqiang")]
    decide(api, "u-wangqiang", instance_id)
    body = show(api, instance_id)
    assert body["status"] == "approved"
    assert sorted(body["cc"]) == ["u-lisi", "u-zhaolei"]
    # ordinary resources take the empty default route: no VP
    ordinary = preview(api.as_(APPLICANT), "permission", permission("dashboard", "fenghuo"))
    assert [node for node, _ in taken_path(ordinary["steps"])] == [
        "supervisor",
        "resource_owners",
        "it_admins",
    ]


def test_role_assignees_come_ordered_by_id_as_the_template_docs_say(api: Api) -> None:
    """docs/templates.md: a role rule names "everyone with the role (ordered by principal
    id)" — the same order on every store. The order matters for `sequential` nodes."""
    steps = preview(api.as_(APPLICANT), "permission", permission("dashboard"))["steps"]
    it_admins = steps[1]["routes"][1]["steps"][0]
    assert it_admins["node_id"] == "it_admins"
    assert it_admins["people"] == ["u-lisi", "u-zhaolei"]


# ---- purchase contract -----------------------------------------------------------------------


def test_a_purchase_contract_has_a_chosen_lawyer_amount_routes_and_a_committee_vote(
    api: Api,
) -> None:
    form = contract("600000.00")
    me = api.as_(APPLICANT)
    steps = preview(me, "purchase_contract", form)["steps"]
    legal = next(s for s in steps if s["node_id"] == "legal")
    assert legal["needs_choice"] == "applicant_choice"
    assert legal["candidates"] == ["u-gaomin", "u-linfeng"]
    chosen = {"legal": ["u-linfeng"]}
    path = taken_path(preview(me, "purchase_contract", form, chosen)["steps"])
    assert path == [
        ("requesting_head", ("u-lina",)),
        ("legal", ("u-linfeng",)),
        ("finance_director", ("u-sunli",)),
        ("ceo", ("u-zhouming",)),
        ("committee", ("u-hejun", "u-wangqiang", "u-majun")),
    ]
    smaller = taken_path(preview(me, "purchase_contract", contract("200000.00"), chosen)["steps"])
    assert "ceo" not in [node for node, _ in smaller]

    no_choice = me.post(
        "/api/v1/instances", json={"template_key": "purchase_contract", "form": form}
    )
    problem(no_choice, 422, "choice_required")
    outsider = {"legal": ["u-zhangsan"]}
    refused = me.post(
        "/api/v1/instances",
        json={"template_key": "purchase_contract", "form": form, "choices": outsider},
    )
    assert refused.status_code == 422, refused.text
    instance_id = submit(api, "purchase_contract", form, choices=chosen)
    assert pending_of(api, instance_id) == [("requesting_head", "u-lina")]
    decide(api, "u-lina", instance_id)
    assert pending_of(api, instance_id) == [("legal", "u-linfeng")]
    task_id = task_of(api, "u-linfeng", instance_id)
    lawyer = api.as_("u-linfeng")
    problem(lawyer.post(f"/api/v1/tasks/{task_id}/approve", json={}), 422, "comment_required")
    ok(lawyer.post(f"/api/v1/tasks/{task_id}/approve", json={"comment": "terms checked"}))
    # inclusive gateway: both amount routes run in parallel
    assert pending_of(api, instance_id) == [("ceo", "u-zhouming"), ("finance_director", "u-sunli")]
    decide(api, "u-zhouming", instance_id)
    assert pending_of(api, instance_id) == [("finance_director", "u-sunli")]
    decide(api, "u-sunli", instance_id)
    committee = [("committee", p) for p in ("u-hejun", "u-majun", "u-wangqiang")]
    assert pending_of(api, instance_id) == committee
    decide(api, "u-hejun", instance_id)  # weight 2 of 4: not yet 2.4
    assert show(api, instance_id)["status"] == "pending"
    decide(api, "u-majun", instance_id)  # 3 of 4 ≥ 2.4: passed
    body = show(api, instance_id)
    assert body["status"] == "approved"
    assert body["cc"] == ["u-hejun"]
    committee_tasks = {
        t["assignee"]: t["status"] for t in body["tasks"] if t["node_id"] == "committee"
    }
    assert committee_tasks == {
        "u-hejun": "approved",
        "u-majun": "approved",
        "u-wangqiang": "cancelled",
    }


def test_a_purchase_contract_is_rejected_when_the_heavy_voter_says_no_and_sales_may_not_start_one(
    api: Api,
) -> None:
    instance_id = submit(
        api, "purchase_contract", contract("5000.00"), choices={"legal": ["u-gaomin"]}
    )
    decide(api, "u-lina", instance_id)
    decide(api, "u-gaomin", instance_id, comment="ok")
    assert [n for n, _ in pending_of(api, instance_id)] == ["committee"] * 3
    decide(api, "u-hejun", instance_id, "reject", comment="too expensive")
    assert show(api, instance_id)["status"] == "rejected"
    # a sales director is not among the initiators
    refused = api.as_("u-majun").post(
        "/api/v1/instances",
        json={
            "template_key": "purchase_contract",
            "form": contract("5000.00"),
            "choices": {"legal": ["u-gaomin"]},
        },
    )
    problem(refused, 403, "not_initiator")


# ---- every other command once ----------------------------------------------------------------


def test_a_transferred_task_goes_to_the_new_approver(api: Api) -> None:
    instance_id = submit(api, "leave", leave(2))
    moved = decide(api, "u-chenjie", instance_id, "transfer", to="u-liuyang", comment="on leave")
    assert [(p["node_id"], p["assignee"]) for p in moved["pending"]] == [("team_lead", "u-liuyang")]
    assert ok(api.as_("u-chenjie").get("/api/v1/inbox/pending"))["items"] == []
    done = ok(api.as_("u-chenjie").get("/api/v1/inbox/done"))["items"]
    assert [(i["instance_id"], i["task_status"]) for i in done] == [(instance_id, "transferred")]
    decide(api, "u-liuyang", instance_id)
    assert pending_of(api, instance_id)[0][0] == "hr"


def test_a_delegated_task_comes_back_to_the_delegator_after_the_delegate_answers(
    api: Api,
) -> None:
    instance_id = submit(api, "leave", leave(2))
    decide(api, "u-chenjie", instance_id, "delegate", to="u-wangwu")
    assert pending_of(api, instance_id) == [("team_lead", "u-wangwu")]
    body = show(api, instance_id, "u-wangwu")
    assert next(t for t in body["pending"])["kind"] == "delegated"
    decide(api, "u-wangwu", instance_id, comment="looks fine")
    assert pending_of(api, instance_id) == [("team_lead", "u-chenjie")]
    decide(api, "u-chenjie", instance_id)
    assert pending_of(api, instance_id)[0][0] == "hr"


def test_an_added_approver_decides_after_the_one_who_added_them(api: Api) -> None:
    instance_id = submit(api, "leave", leave(2))
    added = decide(
        api, "u-chenjie", instance_id, "add-approvers", people=["u-liuyang"], position="after"
    )
    assert [p["assignee"] for p in added["pending"]] == ["u-chenjie"]
    decide(api, "u-chenjie", instance_id)
    assert pending_of(api, instance_id) == [("team_lead", "u-liuyang")]
    decide(api, "u-liuyang", instance_id)
    assert pending_of(api, instance_id)[0][0] == "hr"


def test_an_approval_is_taken_back_until_someone_acts_after_it(api: Api) -> None:
    instance_id = submit(api, "leave", leave(2))
    task_id = task_of(api, "u-chenjie", instance_id)
    lead = api.as_("u-chenjie")
    ok(lead.post(f"/api/v1/tasks/{task_id}/approve", json={}))
    assert "take_back" in show(api, instance_id, "u-chenjie")["actions"]
    back = ok(lead.post(f"/api/v1/tasks/{task_id}/take-back", json={"comment": "oops"}))
    assert [(p["node_id"], p["assignee"]) for p in back["pending"]] == [("team_lead", "u-chenjie")]
    assert ok(api.as_("u-xuting").get("/api/v1/inbox/pending"))["items"] == []
    ok(lead.post(f"/api/v1/tasks/{task_id}/approve", json={}))
    decide(api, "u-xuting", instance_id, "return", comment="dates?")
    problem(lead.post(f"/api/v1/tasks/{task_id}/take-back", json={}), 409, "invalid_transition")


def test_the_applicant_urges_comments_ccs_withdraws_and_copies(api: Api) -> None:
    instance_id = submit(api, "leave", leave(2))
    me = api.as_(APPLICANT)
    base = f"/api/v1/instances/{instance_id}"
    ok(me.post(f"{base}/urge", json={"comment": "please"}))
    ok(me.post(f"{base}/comments", json={"text": "tickets are booked"}))
    problem(api.as_("u-wangwu").get(base), 404, "unknown_instance")
    ok(me.post(f"{base}/cc", json={"people": ["u-wangwu"]}))
    assert show(api, instance_id, "u-wangwu")["cc"] == ["u-wangwu"]
    cc_box = ok(api.as_("u-wangwu").get("/api/v1/inbox/cc"))["items"]
    assert [i["instance_id"] for i in cc_box] == [instance_id]
    withdrawn = ok(me.post(f"{base}/withdraw", json={"comment": "plans changed"}))
    assert withdrawn["status"] == "withdrawn" and withdrawn["pending"] == []
    assert ok(api.as_("u-chenjie").get("/api/v1/inbox/pending"))["items"] == []
    body = show(api, instance_id)
    kinds = events(body)
    for kind in ("Urged", "CommentAdded", "CcSent", "InstanceWithdrawn"):
        assert kind in kinds
    urged = next(e for e in body["timeline"] if e["type"] == "Urged")
    assert urged["data"]["recipients"] == ["u-chenjie"]
    assert "copy" in body["actions"]

    copied = me.post(f"{base}/copy")
    draft = ok(copied, 201)
    assert draft["status"] == "draft" and draft["instance_id"] != instance_id
    assert copied.headers["Location"] == f"/api/v1/instances/{draft['instance_id']}"
    assert show(api, draft["instance_id"])["form"]["days"] == 2


def test_a_template_admin_terminates_a_running_request(api: Api) -> None:
    instance_id = submit(api, "expense", expense("200.00"))
    base = f"/api/v1/instances/{instance_id}"
    problem(api.as_(APPLICANT).post(f"{base}/terminate", json={}), 403, "not_template_admin")
    assert "terminate" in show(api, instance_id, "u-sunli")["actions"]
    ended = ok(api.as_("u-sunli").post(f"{base}/terminate", json={"comment": "duplicate"}))
    assert ended["pending"] == []
    assert events(show(api, instance_id))[-1] == "InstanceTerminated"
    # an administrator who is not among the template's admins is not offered it either
    other = submit(api, "expense", expense("200.00"))
    assert "terminate" not in show(api, other, ADMIN)["actions"]
    refused = api.as_(ADMIN).post(f"/api/v1/instances/{other}/terminate", json={})
    problem(refused, 403, "not_template_admin")


# ---- batch, inbox ----------------------------------------------------------------------------


def test_a_batch_approval_answers_per_task_and_each_task_stands_alone(api: Api) -> None:
    first = submit(api, "leave", leave(2))
    second = submit(api, "leave", leave(3))
    third = submit(api, "expense", expense("6000.00"))
    lead = api.as_("u-chenjie")
    mine = [task_of(api, "u-chenjie", i) for i in (first, second, third)]
    others = f"{first}.t999"
    body = {
        "action": "approve",
        "task_ids": [mine[0], "garbage", others, mine[1], mine[2], mine[0]],
        "comment": "batch",
    }
    answer = ok(lead.post("/api/v1/inbox/batch", json=body))
    results = {r["task_id"]: r for r in answer["results"]}
    assert list(results) == [mine[0], "garbage", others, mine[1], mine[2]]
    assert answer["succeeded"] == 3 and answer["failed"] == 2
    assert (
        results["garbage"]["status"] == 404
        and results["garbage"]["problem"]["code"] == "unknown_task"
    )
    assert results[others]["status"] == 404
    for task_id in mine:
        assert results[task_id]["ok"] and results[task_id]["outcome"]["status"] == "pending"
    assert pending_of(api, first)[0][0] == "hr"
    assert pending_of(api, third)[0][0] == "finance_countersign"
    # someone else's task is refused, and the valid one next to it still goes through
    fourth = submit(api, "leave", leave(1))
    hr_task = task_of(api, "u-huangli", first)
    mixed = ok(
        api.as_("u-huangli").post(
            "/api/v1/inbox/batch",
            json={
                "action": "reject",
                "task_ids": [task_of(api, "u-chenjie", fourth), hr_task],
                "comment": "no",
            },
        )
    )
    assert [r["ok"] for r in mixed["results"]] == [False, True], mixed
    assert mixed["results"][0]["problem"]["code"] in ("not_assignee", "unknown_instance")
    assert show(api, first)["status"] == "rejected"
    assert pending_of(api, fourth) == [("team_lead", "u-chenjie")]


def test_the_inbox_counts_filters_and_pages_by_keyset(api: Api) -> None:
    ids = []
    for n in range(5):
        ids.append(submit(api, "leave", leave(1 + n)))
        api.clock.advance(minutes=1)
    ids.append(submit(api, "expense", expense("200.00")))
    lead = api.as_("u-chenjie")
    everything = ok(lead.get("/api/v1/inbox/pending"))
    assert everything["counts"]["pending"] == 6
    assert [i["instance_id"] for i in everything["items"]] == ids[::-1]  # newest first
    assert everything["next_cursor"] is None

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, "template": "leave"}
        if cursor:
            params["cursor"] = cursor
        page = ok(lead.get("/api/v1/inbox/pending", params=params))
        pages += 1
        seen += [i["instance_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[:5][::-1] and pages == 3

    only_expense = ok(lead.get("/api/v1/inbox/pending", params={"template": "expense"}))
    assert [i["instance_id"] for i in only_expense["items"]] == [ids[5]]
    since = ok(lead.get("/api/v1/inbox/pending", params={"since": "2026-11-23T09:03:00Z"}))
    assert [i["instance_id"] for i in since["items"]] == ids[3:][::-1]

    decide(api, "u-chenjie", ids[0])
    me = ok(api.as_(APPLICANT).get("/api/v1/inbox/mine", params={"status": "pending"}))
    assert len(me["items"]) == 6 and me["counts"]["mine"] == 6
    done = ok(lead.get("/api/v1/inbox/done"))
    assert [i["instance_id"] for i in done["items"]] == [ids[0]]
    counts = ok(lead.get("/api/v1/me"))["counts"]
    assert counts["pending"] == 5 and counts["done"] == 1
    bad = lead.get("/api/v1/inbox/pending", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422, bad.text


# ---- concurrency and retries -----------------------------------------------------------------


def test_a_stale_if_match_is_refused_with_version_conflict(api: Api) -> None:
    instance_id = submit(api, "leave", leave(2))
    shown = api.as_(APPLICANT).get(f"/api/v1/instances/{instance_id}")
    etag = shown.headers["ETag"]
    me = api.as_(APPLICANT)
    ok(
        me.post(
            f"/api/v1/instances/{instance_id}/comments",
            json={"text": "one"},
            headers={"If-Match": etag},
        )
    )
    stale = me.post(
        f"/api/v1/instances/{instance_id}/comments",
        json={"text": "two"},
        headers={"If-Match": etag},
    )
    body = problem(stale, 409, "version_conflict")
    assert body["details"]["expected_version"] == int(etag.strip('"'))
    task_id = task_of(api, "u-chenjie", instance_id)
    refused = api.as_("u-chenjie").post(
        f"/api/v1/tasks/{task_id}/approve", json={}, headers={"If-Match": etag}
    )
    problem(refused, 409, "version_conflict")
    assert pending_of(api, instance_id) == [("team_lead", "u-chenjie")]
    fresh = api.as_(APPLICANT).get(f"/api/v1/instances/{instance_id}").headers["ETag"]
    approved = api.as_("u-chenjie").post(
        f"/api/v1/tasks/{task_id}/approve", json={}, headers={"If-Match": fresh}
    )
    ok(approved)
    assert approved.headers["ETag"] == f'"{approved.json()["version"]}"'


def test_idempotent_retries_return_the_first_answer_and_act_once(api: Api) -> None:
    me = api.as_(APPLICANT)
    key = {"Idempotency-Key": "submit-1"}
    body = {"template_key": "leave", "form": leave(2)}
    first = ok(me.post("/api/v1/instances", json=body, headers=key), 201)
    again = ok(me.post("/api/v1/instances", json=body, headers=key), 201)
    assert again == first
    assert ok(me.get("/api/v1/inbox/mine"))["counts"]["mine"] == 1

    instance_id = first["instance_id"]
    task_id = task_of(api, "u-chenjie", instance_id)
    lead = api.as_("u-chenjie")
    retry = {"Idempotency-Key": "approve-1"}
    one = ok(lead.post(f"/api/v1/tasks/{task_id}/approve", json={"comment": "ok"}, headers=retry))
    length = len(show(api, instance_id)["timeline"])
    two = ok(lead.post(f"/api/v1/tasks/{task_id}/approve", json={"comment": "ok"}, headers=retry))
    assert two == one
    assert len(show(api, instance_id)["timeline"]) == length

    comment = {"Idempotency-Key": "comment-1"}
    ok(me.post(f"/api/v1/instances/{instance_id}/comments", json={"text": "a"}, headers=comment))
    length = len(show(api, instance_id)["timeline"])
    ok(me.post(f"/api/v1/instances/{instance_id}/comments", json={"text": "a"}, headers=comment))
    assert len(show(api, instance_id)["timeline"]) == length


def test_the_same_idempotency_key_with_a_different_body_is_refused(api: Api) -> None:
    me = api.as_(APPLICANT)
    key = {"Idempotency-Key": "k-1"}
    ok(
        me.post("/api/v1/instances", json={"template_key": "leave", "form": leave(2)}, headers=key),
        201,
    )
    other = me.post(
        "/api/v1/instances", json={"template_key": "leave", "form": leave(3)}, headers=key
    )
    problem(other, 409, "idempotency_key_reused")
    assert ok(me.get("/api/v1/inbox/mine"))["counts"]["mine"] == 1

    instance_id = ok(me.get("/api/v1/inbox/mine"))["items"][0]["instance_id"]
    base = f"/api/v1/instances/{instance_id}/comments"
    ok(me.post(base, json={"text": "first"}, headers={"Idempotency-Key": "c-1"}))
    length = len(show(api, instance_id)["timeline"])
    problem(
        me.post(base, json={"text": "second"}, headers={"Idempotency-Key": "c-1"}),
        409,
        "idempotency_key_reused",
    )
    assert len(show(api, instance_id)["timeline"]) == length
