"""Importing the directory (`signoff.service.directory_import`) into SQLite and PostgreSQL:
JSON and CSV files, every kind of rejected row listed with its line while nothing at all
is written, re-imports that update in place, and what `SqlDirectory` answers afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from signoff.cli import main
from signoff.domain.directory import Department, Principal
from signoff.service.directory_import import ImportReport, import_directory, import_directory_file
from signoff.store.database import Database
from signoff.store.directory import SqlDirectory
from signoff.store.schema import (
    department_heads,
    departments,
    directory_version,
    identities,
    principal_roles,
    principals,
)
from signoff.store.uow import SqlUnitOfWork
from tests.conftest import EXAMPLES

EXAMPLE = EXAMPLES / "directory.json"
EXAMPLE_DATA = json.loads(EXAMPLE.read_text(encoding="utf-8"))
DEPT_HEADER = "id,name,parent_id,head_ids\n"
PEOPLE_HEADER = "id,name,department_id,roles,position,email,identities,active\n"
TABLES = (departments, department_heads, principals, principal_roles, identities)


def run(db: Database, name: str, text: str) -> ImportReport:
    return import_directory(SqlUnitOfWork(db), (name, text))


def tables(db: Database) -> dict[str, int]:
    """Rows per directory table, and the directory's generation."""
    with db.reader() as conn:
        out = {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in TABLES
        }
        out["generation"] = conn.execute(sa.select(directory_version.c.generation)).scalar() or 0
    return out


@contextmanager
def directory(db: Database) -> Iterator[SqlDirectory]:
    """The directory as the engine reads it, with a cache of its own."""
    with db.reader() as conn:
        yield SqlDirectory(conn)


def rejected(report: ImportReport) -> list[tuple[int, str, str, str]]:
    return [(r.line, r.kind, r.id, r.problem) for r in report.rejected]


@pytest.fixture
def company(db: Database) -> Database:
    """The example company (examples/directory.json) already stored."""
    report = import_directory_file(SqlUnitOfWork(db), EXAMPLE)
    assert report.applied, report.rejected
    return db


# ---- JSON and CSV --------------------------------------------------------------------


def test_the_example_directory_imports_from_json(db: Database) -> None:
    report = import_directory_file(SqlUnitOfWork(db), EXAMPLE)
    assert (report.applied, report.departments, report.principals) == (True, 10, 19)
    assert report.rejected == []
    people = EXAMPLE_DATA["principals"]
    assert tables(db) == {
        "departments": 10,
        "department_heads": 10,
        "principals": 19,
        "principal_roles": sum(len(p["roles"]) for p in people),
        "identities": sum(len(p["identities"]) for p in people),
        "generation": 1,
    }
    with directory(db) as found:
        assert found.principal("u-zhangsan") == Principal(
            "u-zhangsan",
            "张三",
            "d-backend",
            frozenset({"staff"}),
            "engineer",
            "zhangsan@acme.example",
            True,
            ("dingtalk:user:zhangsan", "feishu:user:ou_zhangsan", "wecom:user:zhangsan"),
        )
        assert found.principal("u-ghost") is None
        assert found.department("d-rd") == Department("d-rd", "研发中心", "d-acme", ("u-lina",))
        assert found.department("d-acme") == Department(
            "d-acme", "Acme 示例科技", None, ("u-zhouming",)
        )
        assert found.department("d-none") is None
        assert found.with_role("finance") == ["u-sunli", "u-wufang", "u-zhoujing"]
        assert found.with_role("it_admin") == ["u-lisi", "u-zhaolei"]
        assert found.with_role("nobody_has_this") == []
        assert found.with_position("accountant") == ["u-wufang", "u-zhoujing"]
        assert found.with_position("ceo") == ["u-zhouming"]
        assert found.by_identity("feishu:user:ou_zhangsan") == "u-zhangsan"
        assert found.by_identity("wecom:user:lina") == "u-lina"
        assert found.by_identity("wecom:user:nobody") is None
        assert [d.id for d in found.all_departments()] == sorted(
            d["id"] for d in EXAMPLE_DATA["departments"]
        )


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_a_departments_csv_and_a_people_csv_build_a_company(db: Database, tmp_path: Path) -> None:
    """Heads must exist before a department names them, and departments before their people:
    the tree first, then the people, then the tree again with its heads."""
    tree = write(
        tmp_path / "departments.csv",
        DEPT_HEADER + "d-top,Top Co,,\nd-eng,Engineering,d-top,\nd-ops,Ops,d-eng,\n",
    )
    people = write(
        tmp_path / "people.csv",
        PEOPLE_HEADER
        + "u-boss,The Boss,d-top,staff;exec,ceo,boss@top.example,wecom:user:boss,true\n"
        + 'u-lead,"Lee, Ann",d-eng,staff;it_admin,team_lead,,'
        + "wecom:user:lead;dingtalk:user:lead,1\n"
        + "u-dev,Dev,d-ops,staff;it_admin,engineer,,,no\n"
        + "u-ops,Ops,d-ops,staff,engineer,,,\n",
        encoding="utf-8-sig",  # as Excel saves it, with a byte order mark
    )
    heads = write(
        tmp_path / "heads.csv",
        DEPT_HEADER
        + "d-top,Top Co,,u-boss\nd-eng,Engineering,d-top,u-lead;u-boss\nd-ops,Ops,d-eng,\n",
    )
    for path, counts in ((tree, (3, 0)), (people, (0, 4)), (heads, (3, 0))):
        report = import_directory_file(SqlUnitOfWork(db), path)
        assert report.rejected == []
        assert (report.departments, report.principals) == counts
    assert tables(db) == {
        "departments": 3,
        "department_heads": 3,
        "principals": 4,
        "principal_roles": 7,
        "identities": 3,
        "generation": 3,
    }
    with directory(db) as found:
        assert found.principal("u-lead") == Principal(
            "u-lead",
            "Lee, Ann",
            "d-eng",
            frozenset({"staff", "it_admin"}),
            "team_lead",
            None,
            True,
            ("dingtalk:user:lead", "wecom:user:lead"),
        )
        dev = found.principal("u-dev")
        assert dev is not None and not dev.active
        assert found.principal("u-ops") == Principal(
            "u-ops", "Ops", "d-ops", frozenset({"staff"}), "engineer", None, True, ()
        )
        assert found.department("d-eng") == Department(
            "d-eng", "Engineering", "d-top", ("u-lead", "u-boss")
        )
        assert found.department("d-ops") == Department("d-ops", "Ops", "d-eng", ())
        # people who left answer to no role or position
        assert found.with_role("it_admin") == ["u-lead"]
        assert found.with_position("engineer") == ["u-ops"]
        assert found.by_identity("dingtalk:user:lead") == "u-lead"


def test_one_command_imports_a_departments_csv_and_a_people_csv_together(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The departments name their heads and the people name their departments: imported
    in one command (in either order) they describe a complete company and must go in.
    Each file is checked on its own today, so each is rejected for what the other holds."""
    tree = write(
        tmp_path / "departments.csv",
        DEPT_HEADER + "d-top,Top Co,,u-boss\nd-eng,Engineering,d-top,u-lead\n",
    )
    people = write(
        tmp_path / "people.csv",
        PEOPLE_HEADER + "u-boss,Boss,d-top,staff,ceo,,,\nu-lead,Lead,d-eng,staff,team_lead,,,\n",
    )
    status = main(["--database", db.url, "directory", "import", str(tree), str(people)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert tables(db)["principals"] == 2
    with directory(db) as found:
        assert found.department("d-eng") == Department("d-eng", "Engineering", "d-top", ("u-lead",))


# ---- rejected rows -------------------------------------------------------------------


CASES: dict[str, tuple[str, str, list[tuple[int, str, str, str]]]] = {
    "unknown department": (
        "people.csv",
        PEOPLE_HEADER + "u-new,New,d-nowhere,staff,,,,\n",
        [(2, "principal", "u-new", "unknown department d-nowhere")],
    ),
    "unknown parent": (
        "departments.csv",
        DEPT_HEADER + "d-new,New,d-acme,\nd-lost,Lost,d-nowhere,\n",
        [(3, "department", "d-lost", "unknown parent department d-nowhere")],
    ),
    "duplicate department": (
        "departments.csv",
        DEPT_HEADER + "d-new,New,d-acme,\nd-other,Other,d-acme,\nd-new,Again,d-acme,\n",
        [(4, "department", "d-new", "duplicate id in the file")],
    ),
    "duplicate person": (
        "people.csv",
        PEOPLE_HEADER + "u-new,New,d-rd,staff,,,,\nu-new,New Again,d-rd,staff,,,,\n",
        [(3, "principal", "u-new", "duplicate id in the file")],
    ),
    "cycle in the file": (
        "departments.csv",
        DEPT_HEADER + "d-x,X,d-y,\nd-y,Y,d-x,\n",
        [
            (2, "department", "d-x", "cycle in the department tree"),
            (3, "department", "d-y", "cycle in the department tree"),
        ],
    ),
    "department is its own parent": (
        "departments.csv",
        DEPT_HEADER + "d-self,Self,d-self,\n",
        [(2, "department", "d-self", "cycle in the department tree")],
    ),
    "cycle through the root stored": (
        "departments.csv",
        DEPT_HEADER + "d-acme,Acme,d-backend,u-zhouming\n",
        [(2, "department", "d-acme", "cycle in the department tree")],
    ),
    "cycle through a branch stored": (
        "departments.csv",
        DEPT_HEADER + "d-new,New,d-acme,\nd-rd,研发中心,d-frontend,u-lina\n",
        [(3, "department", "d-rd", "cycle in the department tree")],
    ),
    "unknown head": (
        "departments.csv",
        DEPT_HEADER + "d-new,New,d-acme,u-lina;u-ghost\n",
        [(2, "department", "d-new", "unknown head u-ghost")],
    ),
    "bad identity": (
        "people.csv",
        PEOPLE_HEADER + "u-new,New,d-rd,staff,,,wecom:user:new;WeCom-zhang,\n",
        [(2, "principal", "u-new", "identity 'WeCom-zhang' is not platform:type:id")],
    ),
    "identity of someone stored": (
        "people.csv",
        PEOPLE_HEADER + "u-new,New,d-rd,staff,,,wecom:user:zhangsan,\n",
        [(2, "principal", "u-new", "identity wecom:user:zhangsan belongs to u-zhangsan")],
    ),
    "identity claimed twice in the file": (
        "people.csv",
        PEOPLE_HEADER
        + "u-one,One,d-rd,staff,,,wecom:user:new,\nu-two,Two,d-rd,,,,wecom:user:new,\n",
        [(3, "principal", "u-two", "identity wecom:user:new belongs to u-one")],
    ),
    "missing name": (
        "people.csv",
        PEOPLE_HEADER + "u-new,,d-rd,staff,,,,\n",
        [(2, "principal", "u-new", "id and name are required")],
    ),
    "json person": (
        "directory.json",
        json.dumps(
            {
                "principals": [
                    {"id": "u-new", "name": "New", "department_id": "d-rd"},
                    {"id": "u-lost", "name": "Lost", "department_id": "d-nowhere"},
                ]
            }
        ),
        [(2, "principal", "u-lost", "unknown department d-nowhere")],
    ),
    "json department not an object": (
        "directory.json",
        json.dumps({"departments": [{"id": "d-new", "name": "New"}, "d-oops"]}),
        [(2, "department", "", "expected an object")],
    ),
    "not json": (
        "directory.json",
        '{"departments": [',
        [(1, "file", "directory.json", "not JSON: Expecting value")],
    ),
    "csv without ids": (
        "people.csv",
        "name,department_id\nNew,d-rd\n",
        [(1, "file", "people.csv", "the header needs id and name columns")],
    ),
    "csv of neither kind": (
        "other.csv",
        "id,name\nx,X\n",
        [(1, "file", "other.csv", "no parent_id or department_id column")],
    ),
}


@pytest.mark.parametrize(("name", "text", "expected"), CASES.values(), ids=CASES.keys())
def test_a_rejected_row_is_listed_with_its_line_and_nothing_is_written(
    company: Database, name: str, text: str, expected: list[tuple[int, str, str, str]]
) -> None:
    before = tables(company)
    report = run(company, name, text)
    assert not report.applied
    assert rejected(report) == expected
    assert tables(company) == before
    with directory(company) as found:
        assert found.principal("u-new") is None
        assert found.department("d-new") is None
        assert found.department("d-acme") == Department(
            "d-acme", "Acme 示例科技", None, ("u-zhouming",)
        )


def test_every_rejected_row_of_a_file_is_listed_in_line_order(company: Database) -> None:
    text = (
        PEOPLE_HEADER
        + "u-ok,Fine,d-rd,staff,,,wecom:user:ok,\n"  # line 2
        + "u-a,A,d-nowhere,staff,,,,\n"  # 3
        + "u-ok2,Also fine,d-ops,staff,,,,\n"  # 4
        + "u-b,B,d-rd,staff,,,bad identity,\n"  # 5
        + "u-ok2,Fine again,d-ops,staff,,,,\n"  # 6
        + "u-c,C,d-rd,staff,,,wecom:user:lisi,\n"  # 7
    )
    before = tables(company)
    report = run(company, "people.csv", text)
    assert rejected(report) == [
        (3, "principal", "u-a", "unknown department d-nowhere"),
        (5, "principal", "u-b", "identity 'bad identity' is not platform:type:id"),
        (6, "principal", "u-ok2", "duplicate id in the file"),
        (7, "principal", "u-c", "identity wecom:user:lisi belongs to u-lisi"),
    ]
    assert (
        str(report.rejected[0]) == "principal u-a (people.csv row 3): unknown department d-nowhere"
    )
    assert tables(company) == before
    with directory(company) as found:
        assert found.principal("u-ok") is None
        assert found.by_identity("wecom:user:ok") is None


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "people.csv",
            PEOPLE_HEADER + "u-a,A,d-nowhere,staff,,,,\nu-a,A again,d-rd,staff,,,,\n",
            [
                (2, "principal", "u-a", "unknown department d-nowhere"),
                (3, "principal", "u-a", "duplicate id in the file"),
            ],
        ),
        (
            "departments.csv",
            DEPT_HEADER + "d-x,X,d-nowhere,\nd-y,Y,d-acme,\nd-x,X again,d-acme,\n",
            [
                (2, "department", "d-x", "unknown parent department d-nowhere"),
                (4, "department", "d-x", "duplicate id in the file"),
            ],
        ),
    ],
    ids=["person", "department"],
)
def test_a_problem_of_a_row_is_listed_at_its_own_line_when_its_id_comes_again_later(
    company: Database, name: str, text: str, expected: list[tuple[int, str, str, str]]
) -> None:
    """The first row with an id is the one checked; a later duplicate must not move that
    row's problems to the duplicate's line (someone fixing the file would look there)."""
    before = tables(company)
    report = run(company, name, text)
    assert rejected(report) == expected
    assert tables(company) == before


def test_rejected_departments_and_people_of_one_json_file_are_all_listed(db: Database) -> None:
    data: dict[str, Any] = {
        "departments": [
            {"id": "d-top", "name": "Top", "head_ids": ["u-boss"]},
            {"id": "d-a", "name": "A", "parent_id": "d-b"},
            {"id": "d-b", "name": "B", "parent_id": "d-a", "head_ids": ["u-nobody"]},
        ],
        "principals": [
            {"id": "u-boss", "name": "Boss", "department_id": "d-top"},
            {"id": "u-x", "name": "X", "department_id": "d-missing"},
        ],
    }
    report = run(db, "directory.json", json.dumps(data))
    assert rejected(report) == [
        (2, "department", "d-a", "cycle in the department tree"),
        (3, "department", "d-b", "cycle in the department tree"),
        (3, "department", "d-b", "unknown head u-nobody"),
        (2, "principal", "u-x", "unknown department d-missing"),
    ]
    assert tables(db) == dict.fromkeys((*(t.name for t in TABLES), "generation"), 0)


# ---- re-imports ----------------------------------------------------------------------


def test_a_re_import_updates_people_and_departments_in_place(company: Database) -> None:
    original = tables(company)
    with SqlUnitOfWork(company) as uow:  # warm the shared cache of the engine's directory
        cached = uow.directory.principal("u-zhangsan")
        assert cached is not None and cached.name == "张三"
        assert uow.directory.with_role("hr") == ["u-huangli", "u-xuting"]
    changed = {
        "departments": [
            {
                "id": "d-backend",
                "name": "后端平台组",
                "parent_id": "d-platform",
                "head_ids": ["u-zhangsan", "u-chenjie"],
            }
        ],
        "principals": [
            {
                "id": "u-zhangsan",
                "name": "张三丰",
                "department_id": "d-backend",
                "roles": ["staff", "hr"],
                "position": "senior_engineer",
                "email": "zsf@acme.example",
                "identities": ["wecom:user:zhangsan", "wecom:user:zsf"],
            },
            {"id": "u-new", "name": "新人", "department_id": "d-backend", "roles": ["staff"]},
        ],
    }
    report = run(company, "changes.json", json.dumps(changed))
    assert report.applied and (report.departments, report.principals) == (1, 2)
    assert tables(company) == {
        "departments": 10,
        "department_heads": 11,
        "principals": 20,
        "principal_roles": original["principal_roles"] + 2,
        "identities": original["identities"] - 1,
        "generation": 2,
    }
    with SqlUnitOfWork(company) as uow:  # the shared cache saw the generation move
        assert uow.directory.principal("u-zhangsan") == Principal(
            "u-zhangsan",
            "张三丰",
            "d-backend",
            frozenset({"staff", "hr"}),
            "senior_engineer",
            "zsf@acme.example",
            True,
            ("wecom:user:zhangsan", "wecom:user:zsf"),
        )
        assert uow.directory.with_role("hr") == ["u-huangli", "u-xuting", "u-zhangsan"]
    with directory(company) as found:
        assert found.department("d-backend") == Department(
            "d-backend", "后端平台组", "d-platform", ("u-zhangsan", "u-chenjie")
        )
        assert found.with_position("senior_engineer") == ["u-zhangsan"]
        assert found.with_position("engineer") == ["u-lisi", "u-wangwu"]
        assert found.by_identity("feishu:user:ou_zhangsan") is None
        assert found.by_identity("wecom:user:zsf") == "u-zhangsan"
        # people and departments not in the file are kept as they were
        assert found.principal("u-lina") is not None
        assert found.department("d-rd") == Department("d-rd", "研发中心", "d-acme", ("u-lina",))

    # the example file again restores everyone in it, without duplicating a row
    again = import_directory_file(SqlUnitOfWork(company), EXAMPLE)
    assert again.applied
    assert tables(company) == {
        **original,
        "principals": 20,
        "principal_roles": original["principal_roles"] + 1,
        "generation": 3,
    }
    with directory(company) as found:
        zhangsan = found.principal("u-zhangsan")
        assert zhangsan is not None
        assert (zhangsan.name, zhangsan.roles) == ("张三", frozenset({"staff"}))
        assert found.department("d-backend") == Department(
            "d-backend", "后端组", "d-rd", ("u-chenjie",)
        )
        assert found.principal("u-new") is not None


def test_importing_the_same_csv_twice_changes_nothing_but_the_generation(
    company: Database, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "people.csv",
        PEOPLE_HEADER
        + "u-intern,实习生,d-frontend,staff;intern,intern,,wecom:user:intern,\n"
        + "u-wangwu,王五,d-frontend,staff;resource_owner,engineer,,wecom:user:wangwu,\n",
    )
    assert import_directory_file(SqlUnitOfWork(company), path).applied
    once = tables(company)
    assert import_directory_file(SqlUnitOfWork(company), path).applied
    assert tables(company) == {**once, "generation": once["generation"] + 1}
    with directory(company) as found:
        assert found.with_role("intern") == ["u-intern"]
        assert found.with_role("resource_owner") == ["u-lina", "u-liuyang", "u-wangwu"]
        assert found.by_identity("wecom:user:intern") == "u-intern"
