"""The `signoff` command: help for every command, and `db upgrade`, `directory import`,
`template import/list/show` and `audit verify` against a SQLite file and PostgreSQL,
with exit status 0 on success, 1 when something was refused or found broken, 2 on
usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from signoff import __version__
from signoff.cli import main
from signoff.service.clock import ManualClock
from signoff.service.commands import start
from signoff.store.database import Database
from signoff.store.migrate import head
from signoff.store.schema import audit, principals, templates
from signoff.store.uow import SqlUnitOfWork
from tests.conftest import EXAMPLES

TEMPLATES = sorted((EXAMPLES / "templates").glob("*.json"))
DIRECTORY = EXAMPLES / "directory.json"
LEAVE = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-02"],
    "days": 2,
    "reason": "family visit",
}


def signoff(db: Database, *argv: str | Path) -> int:
    return main(["--database", db.url, *(str(a) for a in argv)])


def count(db: Database, table: sa.Table) -> int:
    with db.reader() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def words(text: str) -> str:
    """Help text with argparse's line wrapping undone."""
    return " ".join(text.split())


# ---- help ----------------------------------------------------------------------------


def test_the_help_names_every_command_and_where_the_database_comes_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = words(capsys.readouterr().out)
    assert out.startswith("usage: signoff")
    assert "Signoff, the approval center." in out
    for command, summary in [
        ("db", "the database schema"),
        ("directory", "departments and people"),
        ("template", "approval templates"),
        ("audit", "the audit trail"),
    ]:
        assert f"{command} {summary}" in out
    assert "--database URL" in out
    assert "$SIGNOFF_DATABASE_URL" in out


HELP = {
    "db": ("upgrade create the schema, or upgrade it to the newest migration",),
    "db upgrade": ("Create the schema on an empty database", "Safe to run on every start."),
    "directory": ("import import departments and people from CSV or JSON files",),
    "directory import": (
        "JSON: {departments: [...], principals: [...]}",
        "departments (id,name,parent_id,head_ids)",
        "imports nothing and lists every rejected row",
    ),
    "template": (
        "import publish templates from JSON files",
        "list published templates and their newest versions",
        "show print a published template as JSON",
    ),
    "template import": ("Every problem is reported with its JSON path.",),
    "template list": ("published templates and their newest versions",),
    "template show": ("print a published template as JSON",),
    "audit": ("verify check the audit hash chains; report changed or deleted rows",),
    "audit verify": (
        "Recompute every audit row's SHA-256 hash and chain.",
        "Exit status 1 when anything is wrong.",
        "--instance ID check one instance only",
    ),
    "user add": ("Set the password of a principal already in the directory",),
    "app add": ("Its API key is printed once; only a hash is stored.",),
    "demo": ("never for production data",),
    "serve": ("Serve Signoff over HTTP",),
}


@pytest.mark.parametrize(("command", "phrases"), HELP.items(), ids=HELP.keys())
def test_every_command_explains_itself_in_its_help(
    command: str, phrases: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command.split(), "--help"])
    assert done.value.code == 0
    out = words(capsys.readouterr().out)
    assert out.startswith(f"usage: signoff {command} [-h]")
    for phrase in phrases:
        assert phrase.lower() in out.lower()


def test_the_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"signoff {__version__}\n"


@pytest.mark.parametrize(
    "argv",
    [[], ["db"], ["nonsense"], ["template", "show"], ["directory", "import"]],
    ids=["nothing", "no action", "unknown command", "no key", "no file"],
)
def test_a_usage_error_exits_2_with_the_usage(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: signoff")
    assert "error:" in err


def test_the_installed_console_script_runs() -> None:
    script = Path(sys.executable).parent / "signoff"
    result = subprocess.run(  # noqa: S603  # our own console script, fixed arguments
        [str(script), "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, f"signoff {__version__}\n", "")


# ---- db upgrade ----------------------------------------------------------------------


def test_db_upgrade_creates_a_new_sqlite_file_and_is_safe_to_repeat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    for _ in range(2):
        assert main(["--database", url, "db", "upgrade"]) == 0
        assert capsys.readouterr().out == f"database at revision {head()}\n"
    assert (tmp_path / "fresh.db").exists()


def test_db_upgrade_on_an_upgraded_database_says_where_it_is(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert signoff(db, "db", "upgrade") == 0
    assert capsys.readouterr().out == f"database at revision {head()}\n"


def test_the_database_comes_from_the_environment_without_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.chdir(tmp_path)
    assert main(["db", "upgrade"]) == 0
    assert main(["directory", "import", str(DIRECTORY)]) == 0
    assert (tmp_path / "env.db").exists()
    assert not (tmp_path / "signoff.db").exists()
    stored = Database(f"sqlite:///{tmp_path / 'env.db'}")
    assert count(stored, principals) == 19
    stored.dispose()
    capsys.readouterr()


# ---- directory import ----------------------------------------------------------------


def test_directory_import_prints_what_it_imported(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert signoff(db, "directory", "import", DIRECTORY) == 0
    assert capsys.readouterr().out == f"{DIRECTORY}: imported 10 departments, 19 people\n"
    assert count(db, principals) == 19


def test_directory_import_of_a_bad_file_exits_1_listing_every_rejected_row(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert signoff(db, "directory", "import", DIRECTORY) == 0
    bad = tmp_path / "people.csv"
    bad.write_text(
        "id,name,department_id,roles,position,email,identities,active\n"
        "u-new,New,d-rd,staff,,,,\n"
        "u-lost,Lost,d-nowhere,staff,,,,\n"
        "u-thief,Thief,d-rd,staff,,,wecom:user:zhangsan,\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert signoff(db, "directory", "import", bad) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{bad}: nothing imported; 2 rejected row(s):",
        "  principal u-lost (people.csv row 3): unknown department d-nowhere",
        "  principal u-thief (people.csv row 4): "
        "identity wecom:user:zhangsan belongs to u-zhangsan",
    ]
    assert count(db, principals) == 19


def test_files_imported_together_go_in_together_or_not_at_all(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Files given to one command are one import: a rejected row in one keeps the others out
    too (they may depend on each other), and every rejected row is listed with its file."""
    bad = tmp_path / "departments.csv"
    bad.write_text("id,name,parent_id,head_ids\nd-x,X,d-y,\nd-y,Y,d-x,\n", encoding="utf-8")
    assert signoff(db, "directory", "import", bad, DIRECTORY) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{bad}, {DIRECTORY}: nothing imported; 2 rejected row(s):",
        "  department d-x (departments.csv row 2): cycle in the department tree",
        "  department d-y (departments.csv row 3): cycle in the department tree",
    ]
    assert count(db, principals) == 0


# ---- templates -----------------------------------------------------------------------


def test_templates_are_imported_listed_and_shown(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert signoff(db, "template", "import", *TEMPLATES) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: published {path.stem} version 1" for path in TEMPLATES
    ]
    leave = EXAMPLES / "templates" / "leave.json"
    assert signoff(db, "template", "import", leave) == 0
    assert capsys.readouterr().out == f"{leave}: published leave version 2\n"

    assert signoff(db, "template", "list") == 0
    listed = [line.split(maxsplit=2) for line in capsys.readouterr().out.splitlines()]
    names = {p.stem: json.loads(p.read_text(encoding="utf-8"))["name"] for p in TEMPLATES}
    assert listed == [[key, "v2" if key == "leave" else "v1", names[key]] for key in sorted(names)]

    example = json.loads(leave.read_text(encoding="utf-8"))
    assert signoff(db, "template", "show", "leave") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["version"] == 2
    assert {**shown, "version": 1} == example
    assert signoff(db, "template", "show", "leave", "--version", "1") == 0
    assert json.loads(capsys.readouterr().out) == example
    assert count(db, templates) == 5


def test_showing_a_template_that_was_never_published_exits_1(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert signoff(db, "template", "show", "nope") == 1
    assert capsys.readouterr().err == "error: [unknown_template] no published template 'nope'\n"
    assert signoff(db, "template", "import", EXAMPLES / "templates" / "leave.json") == 0
    assert signoff(db, "template", "show", "leave", "--version", "7") == 1
    assert "[unknown_template]" in capsys.readouterr().err


def invalid_leave(tmp_path: Path) -> Path:
    """The leave template with an unknown field type and an approver node nobody is on."""
    definition = json.loads((EXAMPLES / "templates" / "leave.json").read_text(encoding="utf-8"))
    definition["form"]["fields"][0]["type"] = "slider"
    del definition["flow"]["nodes"][0]["assignees"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(definition, ensure_ascii=False), encoding="utf-8")
    return bad


def test_an_invalid_template_exits_1_listing_each_problem_with_its_path(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert signoff(db, "template", "import", invalid_leave(tmp_path)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.splitlines()
    assert err[0].startswith("error: [template_invalid] the template has ")
    problems = [line.strip() for line in err[1:]]
    assert all(line.startswith("  ") for line in err[1:])
    assert any(
        p.startswith("form.fields[0].type: unknown_type — expected one of") for p in problems
    )
    assert "flow.nodes[0].assignees: required — 'assignees' is required" in problems
    assert count(db, templates) == 0
    assert signoff(db, "template", "list") == 0
    assert capsys.readouterr().out == ""


def test_an_invalid_template_lists_only_what_is_wrong_with_it(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One bad field must not make the title's placeholder {form.days} (a field that is
    there and fine) look unknown too."""
    assert signoff(db, "template", "import", invalid_leave(tmp_path)) == 1
    problems = [line.strip() for line in capsys.readouterr().err.splitlines()[1:]]
    assert [p.split(":")[0] for p in problems] == [
        "form.fields[0].type",
        "flow.nodes[0].assignees",
    ]


@pytest.mark.parametrize(
    ("argv", "content"),
    [
        (["template", "import"], "{ this is not JSON"),
        (["template", "import"], None),
        (["directory", "import"], None),
    ],
    ids=["template not json", "template missing", "directory file missing"],
)
def test_a_file_that_cannot_be_read_exits_1_with_a_message_not_a_traceback(
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    content: str | None,
) -> None:
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert signoff(db, *argv, path) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:")
    assert str(path) in err or path.name in err


# ---- audit verify --------------------------------------------------------------------


def test_audit_verify_passes_a_clean_trail_and_fails_a_tampered_one(
    db: Database, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert signoff(db, "directory", "import", DIRECTORY) == 0
    assert signoff(db, "template", "import", EXAMPLES / "templates" / "leave.json") == 0
    outcome = start(
        lambda: SqlUnitOfWork(db), clock, actor="u-zhangsan", template_key="leave", form=LEAVE
    )
    capsys.readouterr()
    rows = count(db, audit)
    assert signoff(db, "audit", "verify") == 0
    assert capsys.readouterr().out == f"{rows} audit rows checked, 0 problem(s)\n"

    with db.engine.begin() as conn:
        first = conn.execute(
            sa.select(audit.c.id).where(
                audit.c.instance_id == outcome.instance_id, audit.c.seq == 0
            )
        ).scalar_one()
        conn.execute(sa.update(audit).where(audit.c.id == first).values(actor="u-zhouming"))
    assert signoff(db, "audit", "verify", "--instance", outcome.instance_id) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"instance {outcome.instance_id} seq 0 (row {first}): the row was changed (hash mismatch)",
        f"{rows} audit rows checked, 1 problem(s)",
    ]
    assert signoff(db, "audit", "verify", "--instance", "i-other") == 1
    assert capsys.readouterr().err == (
        "error: [unknown_instance] no instance 'i-other' with an audit trail\n"
    )
