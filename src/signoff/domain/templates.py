"""Templates: a form schema + a flow tree + settings, versioned.

`parse_template` validates a whole template JSON document and reports every
problem with its path (raising `TemplateInvalid`); `template_to_json` gives the
document back exactly. A published template is immutable: instances keep a
reference to the version they started on.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from signoff.domain.directory import Directory, Principal, department_chain
from signoff.domain.errors import Problem, TemplateInvalid
from signoff.domain.flow import Flow, parse_flow
from signoff.domain.forms import FormSchema, parse_form
from signoff.domain.parsing import Obj

KEY = re.compile(r"[a-z][a-z0-9_-]{0,63}")
TITLE_PLACEHOLDER = re.compile(r"\{([a-z]+)(?:\.([A-Za-z0-9_]+))?\}")
DATE_FORMAT = re.compile(r"(?:%[Ymd]|[^%])*")


class Resubmit(StrEnum):
    RESTART = "restart"
    BACK_TO_RETURNER = "back_to_returner"


class Dedup(StrEnum):
    OFF = "off"
    CONSECUTIVE = "consecutive"
    ANY = "any"


@dataclass(frozen=True, slots=True)
class SerialRule:
    prefix: str
    date: str
    digits: int

    def period(self, now: datetime) -> str:
        """The counter's bucket: serial numbers restart for each new period."""
        return f"{self.prefix}-{now.strftime(self.date)}" if self.date else self.prefix

    def format(self, now: datetime, counter: int) -> str:
        return f"{self.period(now)}-{counter:0{self.digits}d}"


@dataclass(frozen=True, slots=True)
class Initiators:
    users: frozenset[str]
    departments: frozenset[str]
    roles: frozenset[str]

    def allow(self, person: Principal, directory: Directory) -> bool:
        if not (self.users or self.departments or self.roles):
            return True
        if person.id in self.users or person.roles & self.roles:
            return True
        return any(
            d.id in self.departments for d in department_chain(directory, person.department_id)
        )


class HookPolicy(StrEnum):
    REFUSE = "refuse"  # the hook did not answer: refuse the action
    PROCEED = "proceed"  # the hook did not answer: go on, and record that it failed


@dataclass(frozen=True, slots=True)
class ValidationHook:
    """An app URL asked before submit and before the final approval; it may refuse with a
    message the person sees (docs/templates.md)."""

    url: str
    on_submit: bool
    on_final_approval: bool
    timeout_seconds: float
    on_error: HookPolicy


@dataclass(frozen=True, slots=True)
class Settings:
    initiators: Initiators
    admins: tuple[str, ...]
    serial: SerialRule
    title: str
    summary_fields: tuple[str, ...]
    resubmit: Resubmit
    dedup: Dedup
    allow_withdraw: bool
    allow_take_back: bool
    validation: ValidationHook | None = None


@dataclass(frozen=True, slots=True)
class Template:
    key: str
    name: str
    version: int
    settings: Settings
    form: FormSchema
    flow: Flow
    raw: dict[str, object]

    @property
    def ref(self) -> str:
        return f"{self.key}@{self.version}"

    def title_for(
        self,
        applicant: Principal,
        department_name: str,
        form: Mapping[str, object],
        serial: str,
        now: datetime,
    ) -> str:
        """Fill the title pattern. Only the documented placeholders are replaced."""

        def fill(match: re.Match[str]) -> str:
            scope, name = match[1], match[2]
            if scope == "applicant" and name == "name":
                return applicant.name
            if scope == "applicant" and name == "department":
                return department_name
            if scope == "template" and name == "name":
                return self.name
            if scope == "serial" and name is None:
                return serial
            if scope == "date" and name is None:
                return now.date().isoformat()
            if scope == "form" and name is not None:
                value = form.get(name)
                if isinstance(value, list):
                    return ", ".join(str(v) for v in value if not isinstance(v, dict))
                return "" if value is None else str(value)
            return match[0]

        return TITLE_PLACEHOLDER.sub(fill, self.settings.title)[:200]


_TOP_KEYS = ("key", "name", "version", "description", "category", "settings", "form", "flow", "ui")
_SETTINGS_KEYS = (
    "initiators",
    "admins",
    "serial",
    "title",
    "summary_fields",
    "resubmit",
    "dedup",
    "allow_withdraw",
    "allow_take_back",
    "validation",
)


def _settings(obj: Obj | None, key: str, form: FormSchema | None) -> Settings:
    s = obj if obj is not None else Obj({}, "settings", [])
    who = s.obj("initiators", ("users", "departments", "roles"))
    initiators = Initiators(
        frozenset(who.strings("users")) if who else frozenset(),
        frozenset(who.strings("departments")) if who else frozenset(),
        frozenset(who.strings("roles")) if who else frozenset(),
    )
    serial_obj = s.obj("serial", ("prefix", "date", "digits"))
    prefix, date, digits = key.upper(), "%Y%m%d", 4
    if serial_obj is not None:
        prefix = serial_obj.string("prefix", prefix)
        date = serial_obj.string("date", date)
        digits = serial_obj.integer("digits", 4, minimum=1)
        if digits > 12:
            serial_obj.problem("digits", "max", "at most 12 digits")
        if not DATE_FORMAT.fullmatch(date):
            serial_obj.problem("date", "format", "only %Y, %m and %d may be used")
    title = s.string("title", "{applicant.name}的{template.name}")
    for match in TITLE_PLACEHOLDER.finditer(title):
        scope, name = match[1], match[2]
        known = (
            (scope == "applicant" and name in ("name", "department"))
            or (scope == "template" and name == "name")
            or (scope in ("serial", "date") and name is None)
            or (scope == "form" and name is not None and (form is None or form.get(name)))
        )
        if not known:
            s.problem("title", "placeholder", f"unknown placeholder {match[0]}")
    summary = s.strings("summary_fields")
    for i, field_id in enumerate(summary):
        if form is not None and form.get(field_id) is None:
            s.problem(
                f"summary_fields[{i}]", "unknown_field", f"no top-level form field {field_id!r}"
            )
    return Settings(
        initiators=initiators,
        admins=s.strings("admins"),
        serial=SerialRule(prefix, date, digits),
        title=title,
        summary_fields=summary,
        resubmit=s.choice("resubmit", Resubmit, Resubmit.RESTART),
        dedup=s.choice("dedup", Dedup, Dedup.OFF),
        allow_withdraw=s.boolean("allow_withdraw", True),
        allow_take_back=s.boolean("allow_take_back", True),
        validation=_validation(s),
    )


def _validation(s: Obj) -> ValidationHook | None:
    hook = s.obj("validation", ("url", "on", "timeout_seconds", "on_error"))
    if hook is None:
        return None
    url = hook.string("url", "")
    if not url.startswith(("http://", "https://")):
        hook.problem("url", "format", "an http:// or https:// URL")
    moments = hook.strings("on") or ("submit", "final_approval")
    for i, moment in enumerate(moments):
        if moment not in ("submit", "final_approval"):
            hook.problem(f"on[{i}]", "enum", "submit or final_approval")
    seconds = hook.integer("timeout_seconds", 5, minimum=1)
    if seconds > 30:
        hook.problem("timeout_seconds", "max", "at most 30 seconds")
    return ValidationHook(
        url,
        "submit" in moments,
        "final_approval" in moments,
        float(seconds),
        hook.choice("on_error", HookPolicy, HookPolicy.REFUSE),
    )


def parse_template(data: object, *, version: int | None = None) -> Template:
    """Validate a template document; raise `TemplateInvalid` listing every problem.

    `version` overrides the document's version (publishing assigns it). A draft
    without a version gets version 0.
    """
    problems: list[Problem] = []
    obj = Obj(data, "", problems, _TOP_KEYS)
    key = obj.string("key", required=True)
    if key and not KEY.fullmatch(key):
        obj.problem("key", "format", f"{key!r} is not a valid key ([a-z][a-z0-9_-]*)")
    name = obj.string("name", required=True)
    given_version = obj.integer("version", 0, minimum=1)
    obj.opt_str("description")
    obj.opt_str("category")
    form = parse_form(obj.data.get("form", {"fields": []}), "form", problems)
    settings = _settings(obj.obj("settings", _SETTINGS_KEYS), key or "t", form)
    flow = parse_flow(obj.data.get("flow", {"nodes": []}), "flow", form, problems)
    if problems or form is None:
        raise TemplateInvalid(problems)
    raw = copy.deepcopy(dict(obj.data))
    final_version = version if version is not None else given_version
    if version is not None:
        raw["version"] = version
    return Template(key, name, final_version, settings, form, flow, raw)


def template_to_json(template: Template) -> dict[str, object]:
    return copy.deepcopy(template.raw)
