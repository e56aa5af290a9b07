"""The `signoff` command.

    signoff db upgrade                     create or upgrade the schema
    signoff directory import FILE...       import departments and people (CSV or JSON)
    signoff template import FILE...        publish templates (a new version each)
    signoff template list                  published templates, newest versions
    signoff template show KEY [--version N]
    signoff audit verify [--instance ID]   check every audit hash chain
    signoff user add ID [--admin]          give a person of the directory a password
    signoff app add NAME [--template KEY] [--acts-as ID]  an app; prints its API key once
    signoff app wecom APP --corp-id ID [--token T --aes-key K] --template WECOM_ID=KEY ...
                                           link an app to WeCom (docs/integrations.md)
    signoff demo                           load the demo company, templates and passwords
    signoff serve [--host H] [--port P]    serve the web app, the API and /ws
    signoff worker                         only deliver events and fire timers

The database is `--database URL`, else `SIGNOFF_DATABASE_URL`, else `sqlite:///signoff.db`.
Exit status: 0 on success, 1 when something was refused or found broken, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from signoff import __version__
from signoff.domain.errors import Invalid, SignoffError, UnknownInstance
from signoff.service.auth import create_app, set_password
from signoff.service.clock import SystemClock
from signoff.service.directory_import import import_directory_file
from signoff.settings import ConfigError, load_settings
from signoff.store.audit import verify
from signoff.store.database import Database
from signoff.store.migrate import upgrade
from signoff.store.uow import SqlUnitOfWork

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DEMO_ADMINS = frozenset({"u-huangli"})


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
    dir_import.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="files checked and imported together (a departments CSV and a people CSV, say)",
    )

    template = commands.add_parser("template", help="approval templates")
    tpl_commands = template.add_subparsers(dest="action", required=True, metavar="ACTION")
    tpl_import = tpl_commands.add_parser(
        "import",
        help="publish templates from JSON files (each becomes a new version)",
        description="Validate each template JSON file (docs/templates.md) and publish it as "
        "the next version of its key. Every problem is reported with its JSON path.",
    )
    tpl_import.add_argument("files", nargs="+", type=Path, metavar="FILE")
    tpl_commands.add_parser(
        "list",
        help="published templates and their newest versions",
        description="The published templates and their newest versions: key, version, name.",
    )
    tpl_show = tpl_commands.add_parser(
        "show",
        help="print a published template as JSON",
        description="Print a published template as JSON, exactly as it was published.",
    )
    tpl_show.add_argument("key", help="the template's key, e.g. leave")
    tpl_show.add_argument(
        "--version", type=int, dest="template_version", help="a version (default: the newest)"
    )

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

    user = commands.add_parser("user", help="people's passwords")
    user_commands = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    user_add = user_commands.add_parser(
        "add",
        help="give a person of the directory a password (asked, or --password-file)",
        description="Set the password of a principal already in the directory, so that they "
        "can sign in. The password is read from --password-file, else from "
        "$SIGNOFF_PASSWORD, else asked on the terminal.",
    )
    user_add.add_argument("principal_id")
    user_add.add_argument("--admin", action="store_true", help="an administrator")
    user_add.add_argument("--password-file", type=Path, help="read the password from a file")

    app = commands.add_parser("app", help="business systems and their API keys")
    app_commands = app.add_subparsers(dest="action", required=True, metavar="ACTION")
    app_add = app_commands.add_parser(
        "add",
        help="create an app and print its API key (shown once)",
        description="Create an app (a business system). Its API key is printed once; only "
        "a hash is stored. --template gives it the instances of a template.",
    )
    app_add.add_argument("name")
    app_add.add_argument("--template", action="append", default=[], metavar="KEY")
    app_add.add_argument(
        "--acts-as", metavar="PRINCIPAL", help="a principal whose tasks the app may act on"
    )
    _wecom_parser(app_commands)

    demo = commands.add_parser(
        "demo",
        help="load the demo company, the example templates and fresh passwords",
        description="Upgrade the database, import examples/directory.json, publish the "
        "example templates that are not there yet, and give every demo person a fresh "
        "password, printed here. For trying Signoff out, never for production data.",
    )
    demo.add_argument("--examples", type=Path, default=EXAMPLES, help="examples directory")

    serve = commands.add_parser(
        "serve",
        help="serve the HTTP API",
        description="Serve Signoff over HTTP (API docs at /docs). Settings come from "
        "SIGNOFF_* variables and SIGNOFF_CONFIG (a TOML file).",
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")

    commands.add_parser(
        "worker",
        help="deliver events and fire timers (no HTTP)",
        description="Relay the outbox, deliver webhooks, NATS messages and e-mail, fire "
        "approval timeouts and make the documents of approved requests, until stopped "
        "(SIGTERM or Ctrl-C). `signoff serve` does this too unless SIGNOFF_WORKER=false; run "
        "several workers on PostgreSQL to share the work (docs/events.md).",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "worker":
        return _worker(args)
    try:
        db = Database(args.database or load_settings().database_url)
    except (ConfigError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        return _run(args, db)
    except (OSError, ValueError) as error:  # unreadable files, JSON that is not JSON
        print(f"error: {error}", file=sys.stderr)
        return 1
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
        report = import_directory_file(SqlUnitOfWork(db), *args.files)
        names = ", ".join(str(p) for p in args.files)
        if report.applied:
            print(f"{names}: imported {report.departments} departments, {report.principals} people")
            return 0
        print(f"{names}: nothing imported; {len(report.rejected)} rejected row(s):")
        for rejected in report.rejected:
            print(f"  {rejected}")
        return 1
    if args.command == "template":
        return _template(args, db)
    if args.command == "user":
        password = _password(args)
        set_password(
            SqlUnitOfWork(db), SystemClock(), args.principal_id, password, is_admin=args.admin
        )
        print(f"{args.principal_id} can sign in now{' (administrator)' if args.admin else ''}")
        return 0
    if args.command == "app" and args.action == "wecom":
        return _wecom(args, db)
    if args.command == "app":
        created, key = create_app(
            SqlUnitOfWork(db), SystemClock(), args.name, tuple(args.template), args.acts_as
        )
        print(f"app {created.id} ({created.name})")
        print(f"API key (shown once, store it now): {key}")
        return 0
    if args.command == "demo":
        return _demo(db, args.examples)
    checked, problems = _verify(db, args.instance)
    for problem in problems:
        print(problem)
    print(f"{checked} audit rows checked, {len(problems)} problem(s)")
    return 1 if problems else 0


def _wecom_parser(app_commands: Any) -> None:
    wecom = app_commands.add_parser(
        "wecom",
        help="link an app to WeCom: callback credentials and template mapping",
        description="Save an app's WeCom settings (docs/integrations.md). The Token, "
        "EncodingAESKey and Secret may come from SIGNOFF_WECOM_TOKEN, SIGNOFF_WECOM_AES_KEY "
        "and SIGNOFF_WECOM_SECRET instead of the command line; left out, the saved ones are "
        "kept. Prints the settings without secrets and the callback URL to give WeCom.",
    )
    wecom.add_argument("app_id", metavar="APP")
    wecom.add_argument("--corp-id", required=True, help="the corp id (企业ID)")
    wecom.add_argument("--token", help="the callback Token")
    wecom.add_argument("--aes-key", help="the 43-character EncodingAESKey")
    wecom.add_argument("--secret", help="the approval app's Secret (to read form values)")
    wecom.add_argument("--users", choices=["identity", "id"], default="identity")
    wecom.add_argument(
        "--template",
        action="append",
        default=[],
        metavar="WECOM_ID=KEY[:NODE,...]",
        help="mirror a WeCom template into a Signoff template (its approval nodes on NODEs)",
    )
    wecom.add_argument(
        "--mapping",
        type=Path,
        help="a JSON file {WECOM_ID: {template_key, nodes, fields}} (fields: control id -> "
        "field id or table.column)",
    )


def _wecom(args: argparse.Namespace, db: Database) -> int:
    from signoff.integrations.wecom.config import TemplateMapping, UserMapping, put_config

    templates: dict[str, TemplateMapping] = {}
    if args.mapping:
        document = json.loads(args.mapping.read_text(encoding="utf-8"))
        for wecom_id, m in document.items():
            templates[wecom_id] = TemplateMapping(
                m["template_key"], tuple(m.get("nodes", ())), dict(m.get("fields", {}))
            )
    for entry in args.template:
        wecom_id, sep, target = entry.partition("=")
        key, _, nodes = target.partition(":")
        if not sep or not wecom_id or not key:
            raise Invalid(f"--template {entry!r}: write WECOM_ID=KEY or WECOM_ID=KEY:NODE,NODE")
        templates[wecom_id] = TemplateMapping(key, tuple(n for n in nodes.split(",") if n))
    config = put_config(
        SqlUnitOfWork(db),
        SystemClock(),
        args.app_id,
        corp_id=args.corp_id,
        token=args.token or os.environ.get("SIGNOFF_WECOM_TOKEN"),
        aes_key=args.aes_key or os.environ.get("SIGNOFF_WECOM_AES_KEY"),
        secret=args.secret or os.environ.get("SIGNOFF_WECOM_SECRET"),
        users=UserMapping(args.users),
        templates=templates,
        by=None,
    )
    print(json.dumps(config.public(), ensure_ascii=False, indent=2, default=str))
    return 0


def _password(args: argparse.Namespace) -> str:
    if args.password_file:
        return str(args.password_file.read_text(encoding="utf-8").strip())
    from_env = os.environ.get("SIGNOFF_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise Invalid("no terminal to ask a password on: use --password-file or SIGNOFF_PASSWORD")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise Invalid("the two passwords differ")
    return first


def _demo(db: Database, examples: Path) -> int:
    upgrade(db)
    clock = SystemClock()
    report = import_directory_file(SqlUnitOfWork(db), examples / "directory.json")
    if not report.applied:
        for rejected in report.rejected:
            print(f"  {rejected}")
        return 1
    with SqlUnitOfWork(db) as uow:
        existing = {s.key for s in uow.templates.summaries()}
        for path in sorted((examples / "templates").glob("*.json")):
            definition = json.loads(path.read_text(encoding="utf-8"))
            if definition.get("key") not in existing:
                uow.templates.publish(definition, None, clock.now())
        uow.commit()
    people = json.loads((examples / "directory.json").read_text(encoding="utf-8"))["principals"]
    print("Demo company loaded. Sign in as any of these (passwords are new on every run):")
    print(f"  {'id':<14} {'name':<6} {'position':<14} password")
    for person in people:
        password = "demo-" + secrets.token_hex(3)
        admin = person["id"] in DEMO_ADMINS
        set_password(SqlUnitOfWork(db), clock, person["id"], password, is_admin=admin)
        note = "  (administrator)" if admin else ""
        print(
            f"  {person['id']:<14} {person['name']:<6} {person.get('position') or '':<14} "
            f"{password}{note}"
        )
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from signoff.api.app import create_app

    overrides: dict[str, Any] = {}
    if args.database:
        overrides["database_url"] = args.database
    if args.host:
        overrides["host"] = args.host
    if args.port:
        overrides["port"] = args.port
    try:
        settings = load_settings(**overrides)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    app = create_app(settings)
    if app.state.services.ephemeral_secret:
        print(
            "note: SIGNOFF_SECRET_KEY is not set; access tokens signed now stop working when "
            "this process stops (refresh tokens, kept in the database, still work)",
            file=sys.stderr,
        )
    print(f"Signoff on http://{settings.host}:{settings.port}  (API docs: /docs)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0


def _worker(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from signoff.events.dispatcher import Dispatcher

    try:
        settings = load_settings(**({"database_url": args.database} if args.database else {}))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from signoff.documents.generator import generate_documents_once

    db, clock = Database(settings.database_url), SystemClock()
    steps = [lambda: generate_documents_once(db, clock)]
    dispatcher = Dispatcher(db, clock, settings, steps=steps)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stop.set)
        await dispatcher.start(work=True)
        print(f"Signoff worker {dispatcher.node} running; stop with Ctrl-C", flush=True)
        await stop.wait()
        await dispatcher.stop()

    asyncio.run(run())
    return 0


def _verify(db: Database, instance: str | None) -> tuple[int, list[object]]:
    with db.reader() as conn:
        checked, problems = verify(conn, instance)
    if instance is not None and checked == 0 and not problems:
        raise UnknownInstance(f"no instance {instance!r} with an audit trail", instance_id=instance)
    return checked, list(problems)


def _template(args: argparse.Namespace, db: Database) -> int:
    if args.action == "import":
        clock = SystemClock()
        for path in args.files:
            try:
                definition = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as error:
                raise ValueError(f"{path}: not a JSON document: {error}") from error
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
