"""Mirroring a request of another system (WeCom, ...): one report, one transaction.

    outcome = mirror_external(uow_factory, clock, command, template_key="purchase_contract")

The first report of a request makes a new instance of `template_key`'s newest version (with
a serial number from the template's counter) and links it to the request's id there; every
later report is a `MirrorExternal` command on that instance, under its row lock, like any
other command. A report that brings nothing new records nothing (`Outcome.events` is empty
and the version stays). Two first reports racing each other: the link's primary key lets
one win; the other runs again and finds the instance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from signoff.domain.instance import Instance
from signoff.domain.mirror import MirrorExternal
from signoff.domain.navigation import Env
from signoff.service.commands import Outcome
from signoff.service.ids import new_id
from signoff.service.ports import Clock, UnitOfWork


def mirror_external(
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    command: MirrorExternal,
    *,
    template_key: str,
    app_id: str | None = None,
) -> Outcome:
    """Record a report of another system on the instance that mirrors its request."""
    try:
        return _mirror(uow_factory(), clock, command, template_key, app_id)
    except Exception as error:
        if type(error).__name__ != "IntegrityError":  # not a lost race for the link
            raise
        return _mirror(uow_factory(), clock, command, template_key, app_id)


def _mirror(
    uow: UnitOfWork, clock: Clock, command: MirrorExternal, template_key: str, app_id: str | None
) -> Outcome:
    with uow:
        now = clock.now()
        env = Env(now, uow.directory, uow.calendar.get())
        instance_id = uow.external_links.get(command.source, command.external_id)
        if instance_id is None:
            template = uow.templates.get(template_key)
            instance = Instance.new(new_id(), template, command.applicant)
            rule = template.settings.serial
            serial = rule.format(now, uow.serials.next(rule.period(now)))
            events = instance.execute(dataclasses.replace(command, serial=serial), env)
            uow.instances.add(instance, events)
            uow.external_links.add(command.source, command.external_id, instance.id, app_id, now)
        else:
            instance = uow.instances.get(instance_id, lock=True)
            events = instance.execute(command, env)
            if events:
                uow.instances.save(instance, events)
        uow.commit()
        return Outcome.of(instance, events)
