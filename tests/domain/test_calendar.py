"""Work calendars: durations counted in working hours, skipping nights, lunch, weekends and
holidays, counting make-up days (调休), in real time across daylight-saving changes; the
calendar document read and written back, every problem reported with its path and rule."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signoff.domain.calendar import (
    CalendarInvalid,
    WorkingCalendar,
    calendar_from_json,
    calendar_to_json,
)
from signoff.domain.commands import Submit
from signoff.domain.directory import InMemoryDirectory
from signoff.domain.errors import Invalid
from signoff.domain.instance import Instance
from signoff.domain.navigation import Env, WorkCalendar

from .test_commands import APPLICANT, FORM, approver, tpl

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
TICK = timedelta(microseconds=1)

OFFICE = WorkingCalendar()  # Asia/Shanghai, 09:00-12:00 and 13:00-18:00, Monday to Friday
GUOQING = WorkingCalendar(
    holidays=frozenset(date(2026, 10, day) for day in range(1, 8)),  # Thursday to Wednesday
    workdays=frozenset({date(2026, 10, 10)}),  # a Saturday
)
BERLIN_OFFICE = WorkingCalendar("Europe/Berlin", ((time(9), time(17)),))
EVERY_DAY = frozenset(range(1, 8))


def sh(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall time in Shanghai in 2026 (2026-11-23 is a Monday, 2026-11-27 a Friday)."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def be(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall time in Berlin in 2026 (clocks go forward on 03-29, back on 10-25)."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# ---- adding working time ---------------------------------------------------------------


def test_two_hours_from_friday_at_five_end_on_monday_at_ten() -> None:
    assert OFFICE.add(sh(11, 27, 17), 2 * H) == sh(11, 30, 10)


def test_the_lunch_break_is_not_counted() -> None:
    assert OFFICE.add(sh(11, 23, 11), 2 * H) == sh(11, 23, 14)


def test_a_start_in_the_lunch_break_counts_from_one_oclock() -> None:
    assert OFFICE.add(sh(11, 23, 12, 30), 30 * MIN) == sh(11, 23, 13, 30)


@pytest.mark.parametrize("start", [sh(11, 24, 22), sh(11, 25, 3), sh(11, 25, 8, 59)])
def test_a_start_at_night_counts_from_the_next_morning(start: datetime) -> None:
    assert OFFICE.add(start, H) == sh(11, 25, 10)


def test_a_week_of_national_day_holidays_is_skipped() -> None:
    assert GUOQING.add(sh(9, 30, 17), 2 * H) == sh(10, 8, 10)


def test_a_start_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert GUOQING.add(sh(10, 3, 10), H) == sh(10, 8, 10)


def test_a_make_up_saturday_counts_as_a_working_day() -> None:
    assert GUOQING.add(sh(10, 9, 17), 2 * H) == sh(10, 10, 10)
    assert OFFICE.add(sh(10, 9, 17), 2 * H) == sh(10, 12, 10)


def test_working_time_that_fills_a_period_exactly_ends_at_its_end() -> None:
    assert OFFICE.add(sh(11, 23, 9), 3 * H) == sh(11, 23, 12)
    assert OFFICE.add(sh(11, 23, 9), 8 * H) == sh(11, 23, 18)
    assert OFFICE.add(sh(11, 23, 18), H) == sh(11, 24, 10)


def test_no_working_time_is_the_start_itself_even_at_night() -> None:
    assert OFFICE.add(sh(11, 28, 23), timedelta()) == sh(11, 28, 23)


def test_the_result_is_in_utc_whatever_zone_the_start_is_in() -> None:
    result = OFFICE.add(sh(11, 27, 17).astimezone(BERLIN), 2 * H)
    assert result.tzinfo is UTC
    assert result == utc(11, 30, 2)


def test_weeks_and_a_year_of_working_time_are_counted_exactly() -> None:
    # ten weeks of 40 hours from a Monday morning end on the tenth Friday evening
    assert OFFICE.add(sh(1, 5, 9), 400 * H) == sh(3, 13, 18)
    start = sh(1, 1, 0)
    a_year = OFFICE.add(start, timedelta(days=365))  # 1095 working days of 8 hours
    assert OFFICE.working_time_between(start, a_year) == timedelta(days=365)


def test_a_negative_duration_or_a_naive_start_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        OFFICE.add(sh(11, 23, 9), -H)
    with pytest.raises(ValueError, match="naive"):
        OFFICE.add(datetime(2026, 11, 23, 9), H)


def test_a_working_time_timeout_is_due_after_the_weekend(directory: InMemoryDirectory) -> None:
    calendar: WorkCalendar = OFFICE  # what the engine's Env takes
    timeout = {"after": {"hours": 2}, "action": "remind", "working_time": True}
    instance = Instance.new("i-1", tpl([approver("a", "u-chenjie", timeout=timeout)]), APPLICANT)
    friday_five = sh(11, 27, 17).astimezone(UTC)
    submit = Submit(actor=APPLICANT, form=FORM, serial="T-1")
    instance.execute(submit, Env(friday_five, directory, calendar))
    assert instance.pending_tasks()[0].due_at == sh(11, 30, 10)


# ---- measuring and asking --------------------------------------------------------------


def test_working_time_between_two_instants_counts_only_the_periods() -> None:
    assert OFFICE.working_time_between(sh(11, 23, 8), sh(11, 23, 20)) == 8 * H
    assert OFFICE.working_time_between(sh(11, 27, 17), sh(11, 30, 10)) == 2 * H
    assert OFFICE.working_time_between(sh(11, 30, 10), sh(11, 27, 17)) == -2 * H
    assert GUOQING.working_time_between(sh(10, 1, 0), sh(10, 8, 0)) == timedelta()


@pytest.mark.parametrize(
    ("calendar", "instant", "working"),
    [
        (OFFICE, sh(11, 23, 9), True),
        (OFFICE, sh(11, 23, 11, 59), True),
        (OFFICE, sh(11, 23, 12), False),  # periods end before their end time
        (OFFICE, sh(11, 23, 12, 30), False),
        (OFFICE, sh(11, 23, 18), False),
        (OFFICE, sh(11, 28, 10), False),  # a Saturday
        (GUOQING, sh(10, 5, 10), False),  # a holiday on a Monday
        (GUOQING, sh(10, 10, 10), True),  # a make-up Saturday
    ],
)
def test_an_instant_is_working_time_inside_a_period_of_a_working_day(
    calendar: WorkingCalendar, instant: datetime, working: bool
) -> None:
    assert calendar.is_working(instant) is working


@pytest.mark.parametrize(
    ("calendar", "instant", "expected"),
    [
        (OFFICE, sh(11, 23, 10), sh(11, 23, 10)),
        (OFFICE, sh(11, 23, 12), sh(11, 23, 13)),
        (OFFICE, sh(11, 27, 18), sh(11, 30, 9)),
        (GUOQING, sh(9, 30, 18), sh(10, 8, 9)),
    ],
)
def test_the_next_working_instant_is_the_instant_itself_or_the_next_period_start(
    calendar: WorkingCalendar, instant: datetime, expected: datetime
) -> None:
    assert calendar.next_working_instant(instant) == expected


def test_a_calendar_whose_holidays_block_ten_years_is_reported_not_walked_forever() -> None:
    mondays = frozenset(date(2026, 1, 5) + timedelta(weeks=n) for n in range(600))
    calendar = WorkingCalendar(weekdays=frozenset({1}), holidays=mondays)
    with pytest.raises(CalendarInvalid) as caught:
        calendar.add(sh(1, 5, 9), H)
    assert [(p.path, p.rule) for p in caught.value.problems] == [("holidays", "no_working_day")]


# ---- daylight saving -------------------------------------------------------------------


def test_working_hours_across_the_march_change_in_berlin_count_in_local_time() -> None:
    assert BERLIN_OFFICE.add(be(3, 27, 16), 2 * H) == be(3, 30, 10)
    assert BERLIN_OFFICE.add(be(3, 27, 16), 2 * H) == utc(3, 30, 8)  # CET before, CEST after
    assert BERLIN_OFFICE.working_time_between(be(3, 27, 9), be(3, 30, 17)) == 16 * H


def test_a_night_period_over_a_change_lasts_what_the_clocks_say() -> None:
    nights = WorkingCalendar("Europe/Berlin", ((time(0), time(6)),), EVERY_DAY)
    assert nights.working_time_between(be(3, 28, 0), be(3, 28, 12)) == 6 * H
    assert nights.working_time_between(be(3, 29, 0), be(3, 29, 12)) == 5 * H
    assert nights.working_time_between(be(10, 25, 0), be(10, 25, 12)) == 7 * H
    assert nights.add(be(3, 29, 0), 5 * H) == be(3, 29, 6)


def test_a_period_starting_at_a_skipped_wall_time_starts_when_the_clocks_jump() -> None:
    early = WorkingCalendar("Europe/Berlin", ((time(2, 30), time(4)),), EVERY_DAY)
    assert early.next_working_instant(utc(3, 29, 0)) == utc(3, 29, 1) == be(3, 29, 3)
    assert early.working_time_between(be(3, 29, 0), be(3, 29, 12)) == H


def test_a_wall_time_the_clocks_pass_twice_means_its_first_occurrence() -> None:
    early = WorkingCalendar("Europe/Berlin", ((time(2), time(2, 30)),), EVERY_DAY)
    assert early.is_working(utc(10, 25, 0, 15))  # 02:15 summer time
    assert not early.is_working(utc(10, 25, 1, 15))  # 02:15 again, winter time
    assert early.working_time_between(be(10, 25, 0), be(10, 25, 12)) == 30 * MIN


# ---- properties ------------------------------------------------------------------------

# Zones and the days their clocks change in 2026 (Lord Howe changes by half an hour).
ZONES: dict[str, tuple[date, ...]] = {
    "Asia/Shanghai": (),
    "UTC": (),
    "Europe/Berlin": (date(2026, 3, 29), date(2026, 10, 25)),
    "America/New_York": (date(2026, 3, 8), date(2026, 11, 1)),
    "Australia/Lord_Howe": (date(2026, 4, 5), date(2026, 10, 4)),
}
SHOWN_IN = [ZoneInfo("UTC"), SHANGHAI, BERLIN, ZoneInfo("America/New_York")]


def quarter(n: int) -> time:
    return time(n // 4, n % 4 * 15)


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    """Random valid calendars: up to three periods on quarter hours (often around 02:00,
    where clocks change), working weekdays (often all), holidays and make-up days."""
    quarters = st.integers(0, 95) | st.integers(7, 12)  # 01:45-03:00 half of the time
    marks = sorted(draw(st.lists(quarters, min_size=2, max_size=6, unique=True)))
    marks = marks[: len(marks) // 2 * 2]
    days = st.dates(date(2026, 1, 1), date(2027, 12, 31))
    holidays = draw(st.frozensets(days, max_size=40))
    return WorkingCalendar(
        draw(st.sampled_from(sorted(ZONES))),
        tuple((quarter(b), quarter(e)) for b, e in zip(marks[::2], marks[1::2], strict=True)),
        draw(st.just(EVERY_DAY) | st.frozensets(st.integers(1, 7), min_size=1)),
        holidays,
        draw(st.frozensets(days, max_size=10)) - holidays,
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[WorkingCalendar, datetime]:
    """A calendar and an instant in 2026-2027, half of the time near a day its clocks change;
    the instant is shown in one of several zones."""
    calendar = draw(calendars())
    moment = st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31))
    changes, near = ZONES[calendar.timezone], draw(st.booleans())
    if changes and near:
        midnight = datetime.combine(draw(st.sampled_from(changes)), time())
        moment = st.datetimes(midnight - timedelta(days=2), midnight + timedelta(days=2))
    instant = draw(moment).replace(tzinfo=UTC)
    return calendar, instant.astimezone(draw(st.sampled_from(SHOWN_IN)))


durations = st.timedeltas(timedelta(), timedelta(days=3))
Scenario = tuple[WorkingCalendar, datetime]


@settings(max_examples=300, deadline=None)
@given(scenarios(), durations, durations)
def test_adding_in_two_steps_is_adding_the_sum(
    scenario: Scenario, a: timedelta, b: timedelta
) -> None:
    calendar, start = scenario
    assert calendar.add(start, a + b) == calendar.add(calendar.add(start, a), b)


@settings(max_examples=300, deadline=None)
@given(scenarios(), durations, durations)
def test_more_working_time_never_ends_earlier(
    scenario: Scenario, a: timedelta, b: timedelta
) -> None:
    calendar, start = scenario
    assert calendar.add(start, min(a, b)) <= calendar.add(start, max(a, b))


@settings(max_examples=300, deadline=None)
@given(scenarios(), durations)
def test_the_working_time_from_the_start_to_the_result_is_the_duration(
    scenario: Scenario, duration: timedelta
) -> None:
    calendar, start = scenario
    assert calendar.working_time_between(start, calendar.add(start, duration)) == duration


@settings(max_examples=300, deadline=None)
@given(scenarios(), durations.filter(bool))
def test_a_result_is_in_a_period_or_at_its_end(scenario: Scenario, duration: timedelta) -> None:
    """The microsecond before the result is working time: the result is inside a working
    period or is the end of one, never a start moved on to the next morning."""
    calendar, start = scenario
    result = calendar.add(start, duration)
    assert result > start
    assert calendar.is_working(result - TICK)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_an_instant_is_working_when_its_wall_time_is_in_a_period_of_a_working_day(
    scenario: Scenario,
) -> None:
    """Checked where the wall time names one instant (not where the clocks go back)."""
    calendar, instant = scenario
    local = instant.astimezone(calendar.zone)
    if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
        return
    in_period = any(begin <= local.time() < end for begin, end in calendar.hours)
    assert calendar.is_working(instant) is (calendar.is_working_day(local.date()) and in_period)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_the_next_working_instant_is_working_and_nothing_before_it_is(
    scenario: Scenario,
) -> None:
    calendar, instant = scenario
    following = calendar.next_working_instant(instant)
    assert following >= instant
    assert calendar.is_working(following)
    assert calendar.working_time_between(instant, following) == timedelta()


@settings(max_examples=300, deadline=None)
@given(scenarios(), durations, durations)
def test_working_time_between_adds_up_and_never_exceeds_the_real_time(
    scenario: Scenario, a: timedelta, b: timedelta
) -> None:
    calendar, start = scenario
    middle, end = start + a, start + a + b
    between = calendar.working_time_between
    assert between(start, middle) + between(middle, end) == between(start, end)
    assert timedelta() <= between(start, end) <= end - start


# ---- the calendar document -------------------------------------------------------------

DOC: dict[str, Any] = {
    "timezone": "Asia/Shanghai",
    "hours": [["09:00", "12:00"], ["13:00", "18:00"]],
    "weekdays": [1, 2, 3, 4, 5],
    "holidays": [f"2026-10-0{day}" for day in range(1, 8)],
    "workdays": ["2026-10-10"],
}


def test_a_calendar_document_reads_and_writes_back_unchanged() -> None:
    calendar = calendar_from_json(DOC)
    assert calendar == GUOQING
    assert calendar_to_json(calendar) == DOC


@pytest.mark.parametrize("doc", [{}, dict.fromkeys(DOC)])
def test_a_key_left_out_or_null_takes_the_default(doc: dict[str, Any]) -> None:
    assert calendar_from_json(doc) == OFFICE


def test_lists_may_come_in_any_order_and_are_written_sorted() -> None:
    doc = {"weekdays": [5, 1, 3], "holidays": ["2026-10-02", "2026-10-01"]}
    written = calendar_to_json(calendar_from_json(doc))
    assert written["weekdays"] == [1, 3, 5]
    assert written["holidays"] == ["2026-10-01", "2026-10-02"]


@settings(max_examples=200, deadline=None)
@given(calendars())
def test_every_calendar_reads_back_from_its_json(calendar: WorkingCalendar) -> None:
    assert calendar_from_json(json.loads(json.dumps(calendar_to_json(calendar)))) == calendar


def problems(doc: object) -> list[tuple[str, str]]:
    """The (path, rule) of every problem calendar_from_json reports, in order."""
    with pytest.raises(CalendarInvalid) as caught:
        calendar_from_json(doc)
    return [(p.path, p.rule) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ([], [("", "type")]),
        ({"holiday": []}, [("holiday", "unknown_key")]),
        ({"timezone": 8}, [("timezone", "type")]),
        ({"timezone": "Mars/Olympus"}, [("timezone", "timezone")]),
        ({"timezone": "Asia"}, [("timezone", "timezone")]),
        ({"timezone": ""}, [("timezone", "timezone")]),
        ({"hours": "09:00-18:00"}, [("hours", "type")]),
        ({"hours": []}, [("hours", "min")]),
        ({"hours": [["09:00"]]}, [("hours[0]", "type")]),
        ({"hours": [[9, 12]]}, [("hours[0]", "type")]),
        ({"hours": [["9:00", "12:00"]]}, [("hours[0]", "format")]),
        ({"hours": [["09:00", "24:00"]]}, [("hours[0]", "format")]),
        ({"hours": [["12:00", "09:00"]]}, [("hours[0]", "order")]),
        ({"hours": [["09:00", "09:00"]]}, [("hours[0]", "order")]),
        ({"hours": [["09:00", "12:00"], ["11:00", "13:00"]]}, [("hours[1]", "overlap")]),
        ({"hours": [["13:00", "18:00"], ["09:00", "12:00"]]}, [("hours[1]", "overlap")]),
        ({"weekdays": []}, [("weekdays", "min")]),
        ({"weekdays": [0, 8]}, [("weekdays[0]", "range"), ("weekdays[1]", "range")]),
        ({"weekdays": ["mon", True]}, [("weekdays[0]", "type"), ("weekdays[1]", "type")]),
        ({"weekdays": [1, 2, 1]}, [("weekdays[2]", "duplicate")]),
        ({"holidays": "2026-10-01"}, [("holidays", "type")]),
        ({"holidays": [20261001]}, [("holidays[0]", "type")]),
        ({"holidays": ["2026/10/01"]}, [("holidays[0]", "format")]),
        ({"holidays": ["2026-02-30"]}, [("holidays[0]", "format")]),
        ({"holidays": ["20261001"]}, [("holidays[0]", "format")]),
        ({"holidays": ["2026-10-01", "2026-10-01"]}, [("holidays[1]", "duplicate")]),
        ({"workdays": ["2026-10-10", "x"]}, [("workdays[1]", "format")]),
        (
            {"holidays": ["2026-10-01", "2026-10-10"], "workdays": ["2026-10-10"]},
            [("workdays[0]", "conflict")],
        ),
    ],
)
def test_a_bad_document_is_refused_naming_the_path_and_the_rule(
    doc: object, expected: list[tuple[str, str]]
) -> None:
    assert problems(doc) == expected


def test_every_problem_of_a_document_is_reported_at_once() -> None:
    doc = {
        "timezone": "Nowhere/City",
        "hours": [["18:00", "09:00"], ["x", "y"]],
        "weekdays": [9],
        "holidays": ["2026-10-10"],
        "workdays": ["2026-10-10"],
        "color": "red",
    }
    assert sorted(problems(doc)) == [
        ("color", "unknown_key"),
        ("hours[0]", "order"),
        ("hours[1]", "format"),
        ("timezone", "timezone"),
        ("weekdays[0]", "range"),
        ("workdays[0]", "conflict"),
    ]


def test_a_calendar_is_an_invalid_input_with_a_stable_code() -> None:
    with pytest.raises(Invalid) as caught:
        calendar_from_json({"weekdays": []})
    assert caught.value.code == "calendar_invalid"
    assert "weekdays: min" in caught.value.message


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"hours": ()}, [("hours", "min")]),
        ({"hours": ((time(9, 0, 30), time(12)),)}, [("hours[0]", "format")]),
        ({"weekdays": frozenset()}, [("weekdays", "min")]),
        ({"timezone": "Nowhere/City"}, [("timezone", "timezone")]),
        (
            {"holidays": frozenset({date(2026, 10, 10)}), "workdays": GUOQING.workdays},
            [("workdays[0]", "conflict")],
        ),
    ],
)
def test_a_calendar_built_in_code_is_checked_like_a_document(
    fields: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(CalendarInvalid) as caught:
        WorkingCalendar(**fields)
    assert [(p.path, p.rule) for p in caught.value.problems] == expected
