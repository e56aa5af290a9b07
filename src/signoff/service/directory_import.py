"""Importing the directory from CSV or JSON files (`signoff directory import FILE`).

Formats:
- JSON: `{"departments": [...], "principals": [...]}` as in examples/directory.json;
- CSV with a header row; a file with a `parent_id` column holds departments
  (`id,name,parent_id,head_ids`), one with a `department_id` column holds people
  (`id,name,department_id,roles,position,email,identities,active`). Lists inside a cell
  are separated by `;`.

Every row is checked against the file and the directory already stored: duplicate
ids, unknown departments and heads, cycles in the department tree, malformed or
already-owned identities. If any row is rejected nothing is written, and the report
lists every rejected row with its line and the reason; otherwise every row is upserted
in one transaction.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from signoff.domain.directory import IDENTITY, Department, Principal
from signoff.domain.errors import Invalid, Problem
from signoff.service.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int  # 1-based line of a CSV file, or index + 1 in a JSON list
    kind: str  # department / principal
    id: str
    problem: str
    file: str = ""

    def __str__(self) -> str:
        where = f"{self.file} row {self.line}" if self.file else f"row {self.line}"
        return f"{self.kind} {self.id or '?'} ({where}): {self.problem}"


class ImportRejected(Invalid):
    """A directory file with rejected rows: nothing was imported; `problems` lists each row."""

    code = "import_rejected"


@dataclass
class ImportReport:
    departments: int = 0
    principals: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return not self.rejected

    def error(self) -> ImportRejected:
        return ImportRejected(
            f"nothing imported: {len(self.rejected)} rejected row(s)",
            [Problem(f"{r.kind}[{r.line}]", "rejected", str(r)) for r in self.rejected],
        )


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    data: dict[str, Any]
    file: str = ""

    def reject(self, kind: str, ident: str, problem: str) -> Rejected:
        return Rejected(self.line, kind, ident, problem, self.file)


def _split(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(p.strip() for p in str(value).split(";") if p.strip())


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "n", "inactive")


def read_rows(name: str, text: str) -> tuple[list[_Row], list[_Row], list[Rejected]]:
    """Department rows, principal rows, and rows rejected for their shape alone."""
    rejected: list[Rejected] = []
    if name.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            return [], [], [Rejected(error.lineno, "file", name, f"not JSON: {error.msg}", name)]
        if not isinstance(data, dict):
            return (
                [],
                [],
                [Rejected(1, "file", name, "expected an object with departments/principals", name)],
            )
        out: list[list[_Row]] = [[], []]
        for slot, key in enumerate(("departments", "principals")):
            for i, item in enumerate(data.get(key) or []):
                if isinstance(item, dict):
                    out[slot].append(_Row(i + 1, item, name))
                else:
                    rejected.append(Rejected(i + 1, key[:-1], "", "expected an object", name))
        return out[0], out[1], rejected
    reader = csv.DictReader(io.StringIO(text))
    header = set(reader.fieldnames or ())
    if "id" not in header or "name" not in header:
        return [], [], [Rejected(1, "file", name, "the header needs id and name columns", name)]
    rows = [_Row(reader.line_num, dict(r), name) for r in reader]
    if "department_id" in header:
        return [], rows, rejected
    if "parent_id" in header:
        return rows, [], rejected
    return [], [], [Rejected(1, "file", name, "no parent_id or department_id column", name)]


def check(
    dept_rows: list[_Row],
    people_rows: list[_Row],
    stored_departments: Iterable[Department],
    stored_people: set[str],
    stored_identities: dict[str, str],
) -> tuple[list[Department], list[Principal], list[Rejected]]:
    rejected: list[Rejected] = []
    depts: list[Department] = []
    seen: set[str] = set()
    rows_of: dict[tuple[str, str], _Row] = {}  # the row each accepted record came from
    for row in dept_rows:
        ident = str(row.data.get("id") or "").strip()
        name = str(row.data.get("name") or "").strip()
        if not ident or not name:
            rejected.append(row.reject("department", ident, "id and name are required"))
        elif ident in seen:
            rejected.append(row.reject("department", ident, "duplicate id in the file"))
        else:
            seen.add(ident)
            parent = str(row.data.get("parent_id") or "").strip() or None
            heads = _split(row.data.get("head_ids"))
            depts.append(Department(ident, name, parent, heads))
            rows_of[("department", ident)] = row
    people: list[Principal] = []
    people_seen: set[str] = set()
    for row in people_rows:
        ident = str(row.data.get("id") or "").strip()
        name = str(row.data.get("name") or "").strip()
        if not ident or not name:
            rejected.append(row.reject("principal", ident, "id and name are required"))
            continue
        if ident in people_seen:
            rejected.append(row.reject("principal", ident, "duplicate id in the file"))
            continue
        people_seen.add(ident)
        rows_of[("principal", ident)] = row
        people.append(
            Principal(
                ident,
                name,
                str(row.data.get("department_id") or "").strip() or None,
                frozenset(_split(row.data.get("roles"))),
                str(row.data.get("position") or "").strip() or None,
                str(row.data.get("email") or "").strip() or None,
                _flag(row.data.get("active", True)),
                _split(row.data.get("identities")),
            )
        )
    tree = {d.id: d.parent_id for d in stored_departments}
    tree.update({d.id: d.parent_id for d in depts})
    everyone = stored_people | {p.id for p in people}
    owners = dict(stored_identities)
    for dept in depts:
        row = rows_of[("department", dept.id)]
        if dept.parent_id is not None and dept.parent_id not in tree:
            rejected.append(
                row.reject("department", dept.id, f"unknown parent department {dept.parent_id}")
            )
        elif _in_cycle(dept.id, tree):
            rejected.append(row.reject("department", dept.id, "cycle in the department tree"))
        rejected.extend(
            row.reject("department", dept.id, f"unknown head {head}")
            for head in dept.head_ids
            if head not in everyone
        )
    for person in people:
        row = rows_of[("principal", person.id)]
        if person.department_id is not None and person.department_id not in tree:
            rejected.append(
                row.reject("principal", person.id, f"unknown department {person.department_id}")
            )
        for identity in person.identities:
            if not IDENTITY.match(identity):
                problem = f"identity {identity!r} is not platform:type:id"
                rejected.append(row.reject("principal", person.id, problem))
            elif owners.get(identity, person.id) != person.id:
                problem = f"identity {identity} belongs to {owners[identity]}"
                rejected.append(row.reject("principal", person.id, problem))
            else:
                owners[identity] = person.id
    return depts, people, sorted(rejected, key=lambda r: (r.file, r.kind, r.line))


def _in_cycle(start: str, tree: dict[str, str | None]) -> bool:
    seen = {start}
    current = tree.get(start)
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = tree.get(current)
    return False


def import_directory(uow: UnitOfWork, *files: tuple[str, str]) -> ImportReport:
    """Check every file, each a (name, text), together; write everything, or nothing when
    a row is rejected. Files given together may refer to each other (a departments CSV
    and a people CSV)."""
    dept_rows: list[_Row] = []
    people_rows: list[_Row] = []
    rejected: list[Rejected] = []
    for name, text in files:
        depts_in, people_in, rejected_in = read_rows(name, text)
        dept_rows += depts_in
        people_rows += people_in
        rejected += rejected_in
    with uow:
        depts, people, problems = check(
            dept_rows,
            people_rows,
            uow.directory.all_departments(),
            uow.directory.principal_ids(),
            uow.directory.identity_owners(),
        )
        report = ImportReport(len(depts), len(people), rejected + problems)
        if report.applied:
            uow.directory.upsert(depts, people)
            uow.commit()
        return report


def import_directory_file(uow: UnitOfWork, *paths: Path) -> ImportReport:
    return import_directory(
        uow, *((path.name, path.read_text(encoding="utf-8-sig")) for path in paths)
    )
