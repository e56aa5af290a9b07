"""Work calendars (工作日历): durations counted in working time, for approval timeouts.

The model. A calendar lives in one IANA time zone. A *working day* is a date that is
a make-up working day (调休, `workdays`), or that falls on one of the working
`weekdays` (ISO, Monday = 1) and is not a public holiday (`holidays`). Every working
day has the same working periods (`hours`, local wall-clock times, sorted, not
overlapping, e.g. 09:00-12:00 and 13:00-18:00; a period ends at 23:59 at the latest).

Each period of each working day is one *working interval* [begin, end) of real
instants, and working time is the real time spent inside working intervals; so a
period over a daylight-saving change lasts what the clocks say it lasts (00:00-06:00 is
5 hours on the spring day in Berlin, 7 on the autumn day). A wall time the clocks skip
means the instant they jump; a wall time they pass twice means its first occurrence.

- `add(start, d)` is the earliest instant by which `d` of working time has elapsed
  since `start`: counting begins at the next working period when `start` is outside
  one, and when the last bit of `d` fills a period exactly the result is that period's
  end (18:00, not 09:00 the next morning). `add(start, 0)` is `start` itself, even at
  night, so that `add(s, a + b) == add(add(s, a), b)` always holds.
- Instants in and out may be in any zone (they must be aware); results are in UTC,
  the convention of the engine's `now`.
- The walk goes a day at a time, never a minute at a time. A calendar must have at
  least one working weekday and one period, so working time always comes back; a
  holiday list that blocks ten years in a row is reported rather than walked forever.

JSON: see "Work calendars" in docs/templates.md. Every key is optional (the defaults of
`WorkingCalendar`); `calendar_to_json` writes every key, its lists sorted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from signoff.domain.errors import Invalid, Problem
from signoff.domain.parsing import Obj, type_name

DAY = timedelta(days=1)
ZONE = "Asia/Shanghai"
IDLE_LIMIT = 3660  # consecutive days without working time before a calendar is given up on
CLOCK = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
KEYS = ("timezone", "hours", "weekdays", "holidays", "workdays")

T = TypeVar("T")


class CalendarInvalid(Invalid):
    """A work calendar is malformed or never has working time; `problems` names each path."""

    code = "calendar_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        shown = "; ".join(str(p) for p in problems[:3])
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        super().__init__(f"the calendar has {len(problems)} problem(s): {shown}{more}", problems)


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Working hours, weekdays, holidays and make-up days in one time zone (see the module)."""

    timezone: str = ZONE
    hours: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(18)))
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        problems = _problems(
            (len(self.hours), len(self.weekdays)),
            self.timezone,
            [(f"hours[{i}]", begin, end) for i, (begin, end) in enumerate(self.hours)],
            _indexed("weekdays", sorted(self.weekdays)),
            _indexed("holidays", sorted(self.holidays)),
            _indexed("workdays", sorted(self.workdays)),
        )
        if problems:
            raise CalendarInvalid(problems)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches its instances by key

    @property
    def day_length(self) -> timedelta:
        """The working time of a usual working day (what a timeout's "days" count in)."""
        total = timedelta()
        for begin, end in self.hours:
            total += datetime.combine(date.min, end) - datetime.combine(date.min, begin)
        return total

    def is_working_day(self, day: date) -> bool:
        usual = day.isoweekday() in self.weekdays and day not in self.holidays
        return usual or day in self.workdays

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant by which `duration` of working time has elapsed since `start`."""
        if duration < timedelta():
            raise ValueError(f"a negative duration: {duration}")
        start, left = _utc(start), duration
        if not left:
            return start
        for begin, end in self._intervals(start):
            begin = max(begin, start)
            if end - begin >= left:
                return begin + left
            left -= end - begin
        raise AssertionError("unreachable: _intervals never ends")  # pragma: no cover

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from `a` to `b` (negative when `b` comes first)."""
        a, b = _utc(a), _utc(b)
        if b < a:
            return -self.working_time_between(b, a)
        total = timedelta()
        for begin, end in self._intervals(a):
            if begin >= b:
                break
            total += min(end, b) - max(begin, a)
        return total

    def next_working_instant(self, instant: datetime) -> datetime:
        """`instant` (in UTC) when it is working time, else the beginning of the next period."""
        instant = _utc(instant)
        begin, _ = next(self._intervals(instant))
        return max(begin, instant)

    def is_working(self, instant: datetime) -> bool:
        return self.next_working_instant(instant) == _utc(instant)

    # ---- the walk ---------------------------------------------------------------------

    def _intervals(self, after: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working intervals (UTC, in order, none empty) that end after `after`."""
        zone = self.zone
        day = after.astimezone(zone).date() - DAY  # the day before: its periods may reach here
        idle = 0
        while True:
            if self.is_working_day(day):
                idle = 0
                for begin, end in self.hours:
                    first, last = _instant(zone, day, begin), _instant(zone, day, end)
                    if last > after and first < last:
                        yield first, last
            else:
                idle += 1
                if idle > IDLE_LIMIT:
                    since = f"no working day in the ten years from {day - (idle - 1) * DAY}"
                    raise CalendarInvalid([Problem("holidays", "no_working_day", since)])
            day += DAY


def _utc(instant: datetime) -> datetime:
    if instant.utcoffset() is None:
        raise ValueError(f"a naive datetime: {instant.isoformat()} (give its time zone)")
    return instant.astimezone(UTC)


def _instant(zone: ZoneInfo, day: date, at: time) -> datetime:
    """The first instant showing wall time `at` on `day`; for skipped wall times, the jump."""
    local = datetime.combine(day, at, zone)
    utc = local.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return utc
    # The clocks skip `at`: read with the old offset it is after the jump, with the new before.
    before = local.replace(fold=1).astimezone(UTC)
    while utc - before > timedelta(microseconds=1):
        middle = before + (utc - before) // 2
        if middle.astimezone(zone).utcoffset() == utc.astimezone(zone).utcoffset():
            utc = middle
        else:
            before = middle
    return utc


# ---- checking -------------------------------------------------------------------------


def _indexed(key: str, values: Sequence[T]) -> list[tuple[str, T]]:
    return [(f"{key}[{i}]", value) for i, value in enumerate(values)]


def _problems(
    sizes: tuple[int, int],
    zone: str,
    hours: Sequence[tuple[str, time, time]],
    weekdays: Sequence[tuple[str, object]],
    holidays: Sequence[tuple[str, object]],
    workdays: Sequence[tuple[str, object]],
) -> list[Problem]:
    """The rules a calendar breaks, each at the JSON path of the item (`sizes`: how many
    periods and weekdays the document lists, including the malformed ones)."""
    out: list[Problem] = []
    if not sizes[0]:
        out.append(Problem("hours", "min", "at least one working period"))
    if not sizes[1]:
        out.append(Problem("weekdays", "min", "at least one working weekday"))
    try:
        ZoneInfo(zone)
    except (KeyError, ValueError, OSError):  # not found, not a key, a directory
        out.append(Problem("timezone", "timezone", f"{zone!r} is not an IANA time zone name"))
    previous: time | None = None
    for path, begin, end in hours:
        if any(t.second or t.microsecond or t.tzinfo for t in (begin, end)):
            out.append(Problem(path, "format", "periods are local times in whole minutes"))
        if begin >= end:
            out.append(Problem(path, "order", f"the period must start before it ends ({end})"))
        elif previous is not None and begin < previous:
            out.append(Problem(path, "overlap", f"periods are sorted and apart ({previous})"))
        previous = end if previous is None else max(previous, end)
    for path, weekday in weekdays:
        if not (isinstance(weekday, int) and 1 <= weekday <= 7):
            out.append(Problem(path, "range", "weekdays are 1 (Monday) to 7 (Sunday)"))
    for key, items in (("weekdays", weekdays), ("holidays", holidays), ("workdays", workdays)):
        seen: set[object] = set()
        for path, value in items:
            if value in seen:
                out.append(Problem(path, "duplicate", f"{value} is listed twice in {key}"))
            seen.add(value)
    days_off = {day for _, day in holidays}
    for path, day in workdays:
        if day in days_off:
            out.append(Problem(path, "conflict", f"{day} is also a holiday"))
    return out


# ---- JSON -----------------------------------------------------------------------------


def calendar_from_json(doc: object) -> WorkingCalendar:
    """Read a calendar document; every problem is reported at once (`CalendarInvalid`)."""
    problems: list[Problem] = []
    given = {k: v for k, v in Obj(doc, "", problems, KEYS).data.items() if v is not None}
    obj = Obj(calendar_to_json(WorkingCalendar()) | given, "", problems)
    hours: list[tuple[str, time, time]] = []
    for i, item in enumerate(obj.array("hours")):
        path = f"hours[{i}]"
        if not (isinstance(item, list) and [type(t) for t in item] == [str, str]):
            problems.append(Problem(path, "type", 'expected ["HH:MM", "HH:MM"]'))
        elif not all(CLOCK.fullmatch(str(t)) for t in item):
            problems.append(Problem(path, "format", f"{item} are not both HH:MM (00:00-23:59)"))
        else:
            hours.append((path, time.fromisoformat(item[0]), time.fromisoformat(item[1])))
    weekdays: list[tuple[str, int]] = []
    for i, item in enumerate(obj.array("weekdays")):
        if isinstance(item, int) and not isinstance(item, bool):
            weekdays.append((f"weekdays[{i}]", item))
        else:
            problems.append(
                Problem(f"weekdays[{i}]", "type", f"expected a number, got {type_name(item)}")
            )
    zone = obj.string("timezone", ZONE)
    holidays, workdays = _dates(obj, "holidays"), _dates(obj, "workdays")
    sizes = (_size(obj, "hours"), _size(obj, "weekdays"))
    problems += _problems(sizes, zone, hours, weekdays, holidays, workdays)
    if problems:
        raise CalendarInvalid(problems)
    return WorkingCalendar(
        zone,
        tuple((begin, end) for _, begin, end in hours),
        frozenset(day for _, day in weekdays),
        frozenset(day for _, day in holidays),
        frozenset(day for _, day in workdays),
    )


def _size(obj: Obj, key: str) -> int:
    """How many items `key` has, for the `min` rule (1 when absent or not an array)."""
    value = obj.data.get(key)
    return len(value) if isinstance(value, list) else 1


def _dates(obj: Obj, key: str) -> list[tuple[str, date]]:
    out: list[tuple[str, date]] = []
    for i, item in enumerate(obj.array(key)):
        path = f"{obj.at(key)}[{i}]"
        if not isinstance(item, str):
            obj.problems.append(Problem(path, "type", f"expected a string, got {type_name(item)}"))
            continue
        try:
            day = date.fromisoformat(item) if ISO_DATE.fullmatch(item) else None
        except ValueError:  # 2026-02-30
            day = None
        if day is None:
            obj.problems.append(Problem(path, "format", f"{item!r} is not a date YYYY-MM-DD"))
        else:
            out.append((path, day))
    return out


def calendar_to_json(calendar: WorkingCalendar) -> dict[str, object]:
    """The calendar as a document that `calendar_from_json` reads back equal."""
    return {
        "timezone": calendar.timezone,
        "hours": [[b.strftime("%H:%M"), e.strftime("%H:%M")] for b, e in calendar.hours],
        "weekdays": sorted(calendar.weekdays),
        "holidays": [day.isoformat() for day in sorted(calendar.holidays)],
        "workdays": [day.isoformat() for day in sorted(calendar.workdays)],
    }
