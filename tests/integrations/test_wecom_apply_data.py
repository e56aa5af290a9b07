"""A WeCom approval's form (apply_data) read into a Signoff form: by the Signoff field's
type, through the mapping of control ids, leaving out whatever cannot be read."""

from __future__ import annotations

from typing import Any

from signoff.domain.forms import validate_form
from signoff.integrations.wecom.apply_data import form_values
from tests.domain.conftest import example
from tests.integrations.wecom_events import CONTRACT_CONTENTS, CONTRACT_FIELDS

DEPARTMENTS = {"研发中心": "d-rd"}
PEOPLE = {"lisi": "u-lisi"}


def read(contents: list[Any], fields: dict[str, str], template: str) -> dict[str, Any]:
    schema = example(template).form
    return form_values(contents, fields, schema, PEOPLE.get, DEPARTMENTS)


def test_a_purchase_request_s_controls_fill_the_purchase_contract_form() -> None:
    form = read(CONTRACT_CONTENTS, CONTRACT_FIELDS, "purchase_contract")
    assert form == {
        "contract_name": "服务器采购",
        "party_a": "Acme 示例科技",
        "party_b": "某某供应商",
        "contract_amount": "600000.00",
        "sign_date": "2026-12-01",  # midnight in China, not the day before in UTC
        "payment_terms": "货到付款",
        "department": "d-rd",
        "items": [
            {
                "name": "服务器",
                "spec": "2U",
                "quantity": 10,
                "unit_price": "55000",
                "subtotal": "550000",
            },
            {
                "name": "交换机",
                "spec": "",
                "quantity": 2,
                "unit_price": "25000",
                "subtotal": "50000",
            },
        ],
    }  # the quotation (a WeCom file id) is left out: nothing a person could open
    validate_form(example("purchase_contract").form, form)  # a complete, valid request


def control(kind: str, control_id: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"control": kind, "id": control_id, "value": value}


def test_options_are_matched_by_label_ranges_by_their_days_and_people_by_the_mapping() -> None:
    contents = [
        control(
            "Selector",
            "S",
            {"selector": {"options": [{"key": "o-2", "value": [{"text": "病假"}]}]}},
        ),
        control("DateRange", "R", {"date_range": {"new_begin": 1796054400, "new_end": 1796400000}}),
        control("Number", "N", {"new_number": "2.5"}),
        control("Text", "T", {"text": "发烧"}),
        control("Contact", "C", {"members": [{"userid": "lisi"}, {"userid": "ghost"}]}),
        control("Text", "Unmapped", {"text": "ignored"}),
    ]
    fields = {"S": "leave_type", "R": "period", "N": "days", "T": "reason", "C": "handover"}
    assert read(contents, fields, "leave") == {
        "leave_type": "sick",
        "period": ["2026-12-01", "2026-12-05"],
        "days": 2.5,
        "reason": "发烧",
        "handover": "u-lisi",
    }


def test_values_that_cannot_be_read_are_left_out() -> None:
    contents = [
        control("Number", "N", {"new_number": "many"}),
        control("Selector", "S", {"selector": {"options": [{"value": [{"text": "调休"}]}]}}),
        control("Text", "T", {"unexpected": True}),
        {"not": "a control"},
        "garbage",
    ]
    fields = {"N": "days", "S": "leave_type", "T": "reason"}
    assert read(contents, fields, "leave") == {}
    assert form_values("not a list", fields, example("leave").form, PEOPLE.get, {}) == {}
