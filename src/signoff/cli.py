"""The `signoff` command.

    signoff db upgrade                     create or upgrade the schema
    signoff directory import FILE...       import departments and people (CSV or JSON)
    signoff template import FILE...        publish templates (a new version each)
    signoff template list                  published templates, newest versions
    signoff template show KEY [--version N]
    signoff audit verify [--instance ID]   check every audit hash chain

The database is `--database URL`, else `SIGNOFF_DATABASE_URL`, else `sqlite:///signoff.db`.
Exit status: 0 on success, 1 when something was refused or found broken, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from signoff import __version__
from signoff.domain.errors import SignoffError
from signoff.service.clock import SystemClock
from signoff.service.directory_import import import_directory_file
from signoff.store.audit import verify
from signoff.store.database import Database
from signoff.store.migrate import upgrade
from signoff.store.uow import SqlUnitOfWork


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signoff",
        description="Signoff, the approval center.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="The database is --database URL, else $SIGNOFF_DATABASE_URL, "
        "else sqlite:///signoff.db in the working directory.",
    )
    parser.add_argument("--version", action="version", version=f"signoff {__version__}")
    parser.add_argument("--database", metavar="URL", help="sqlite:///file.db or postgresql://...")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="the database schema")
    db_commands = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    db_commands.add_parser(
        "upgrade",
        help="create the schema, or upgrade it to the newest migration",
        description="Create the schema on an empty database, or run the migrations it lacks. "
        "Safe to run on every start.",
    )

    directory = commands.add_parser("directory", help="departments and people")
    dir_commands = directory.add_subparsers(dest="action", required=True, metavar="ACTION")
    dir_import = dir_commands.add_parser(
        "import",
        help="import departments and people from CSV or JSON files",
        description="Upsert departments and people. JSON: {departments: [...], principals: "
        "[...]}. CSV: departments (id,name,parent_id,head_ids) or people (id,name,"
        "department_id,roles,position,email,identities,active); lists separated by ';'. "
        "A file with any rejected row (unknown department, duplicate id, cycle in the tree, "
        "...) imports nothing and lists every rejected row.",
    )
    dir_import.add_argument("files", nargs="+", type=Path, metavar="FILE")

    template = commands.add_parser("template", help="approval templates")
    tpl_commands = template.add_subparsers(dest="action", required=True, metavar="ACTION")
    tpl_import = tpl_commands.add_parser(
        "import",
        help="publish templates from JSON files (each becomes a new version)",
        description="Validate each template JSON file (docs/templates.md) and publish it as "
        "the next version of its key. Every problem is reported with its JSON path.",
    )
    tpl_import.add_argument("files", nargs="+", type=Path, metavar="FILE")
    tpl_commands.add_parser("list", help="published templates and their newest versions")
    tpl_show = tpl_commands.add_parser("show", help="print a published template as JSON")
    tpl_show.add_argument("key")
    tpl_show.add_argument("--version", type=int, dest="template_version")

    audit = commands.add_parser("audit", help="the audit trail")
    audit_commands = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    audit_verify = audit_commands.add_parser(
        "verify",
        help="check the audit hash chains; report changed or deleted rows",
        description="Recompute every audit row's SHA-256 hash and chain. Reports each row "
        "that was changed, each gap where rows were deleted, and chains whose newest rows "
        "are gone. Exit status 1 when anything is wrong.",
    )
    audit_verify.add_argument("--instance", metavar="ID", help="check one instance only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    db = Database(args.database)
    try:
        return _run(args, db)
    except SignoffError as error:
        print(f"error: {error}", file=sys.stderr)
        for problem in getattr(error, "problems", []):
            print(f"  {problem}", file=sys.stderr)
        return 1
    finally:
        db.dispose()


def _run(args: argparse.Namespace, db: Database) -> int:
    if args.command == "db":
        revision = upgrade(db)
        print(f"database at revision {revision}")
        return 0
    if args.command == "directory":
        status = 0
        for path in args.files:
            report = import_directory_file(SqlUnitOfWork(db), path)
            if report.applied:
                print(
                    f"{path}: imported {report.departments} departments, {report.principals} people"
                )
            else:
                status = 1
                print(f"{path}: nothing imported; {len(report.rejected)} rejected row(s):")
                for rejected in report.rejected:
                    print(f"  {rejected}")
        return status
    if args.command == "template":
        return _template(args, db)
    checked, problems = _verify(db, args.instance)
    for problem in problems:
        print(problem)
    print(f"{checked} audit rows checked, {len(problems)} problem(s)")
    return 1 if problems else 0


def _verify(db: Database, instance: str | None) -> tuple[int, list[object]]:
    with db.reader() as conn:
        checked, problems = verify(conn, instance)
    return checked, list(problems)


def _template(args: argparse.Namespace, db: Database) -> int:
    if args.action == "import":
        clock = SystemClock()
        for path in args.files:
            definition = json.loads(path.read_text(encoding="utf-8"))
            with SqlUnitOfWork(db) as uow:
                template = uow.templates.publish(definition, None, clock.now())
                uow.commit()
            print(f"{path}: published {template.key} version {template.version}")
        return 0
    with SqlUnitOfWork(db) as uow:
        if args.action == "list":
            for summary in uow.templates.summaries():
                print(f"{summary.key:<24} v{summary.version:<4} {summary.name}")
            return 0
        template = uow.templates.get(args.key, args.template_version)
        print(json.dumps(template.raw, ensure_ascii=False, indent=2))
        return 0


if __name__ == "__main__":
    sys.exit(main())
