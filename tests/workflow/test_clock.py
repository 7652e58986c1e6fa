"""Working-day arithmetic of the reply deadline (SPEC §4): weekends, holidays, 调休 workdays, the portal's day."""
from __future__ import annotations

import datetime as dt

import pytest

from ckanext.sharing import config
from ckanext.sharing.workflow import clock

D = dt.date.fromisoformat

# National Day 2026 as published: 10-01 … 10-07 off, Sunday 09-27 and Saturday 10-10 worked (调休)
HOLIDAYS = {D(f"2026-10-0{i}") for i in range(1, 8)}
EXTRA = {D("2026-09-27"), D("2026-10-10")}


@pytest.mark.parametrize(("start", "days", "due"), [
    ("2026-11-23", 1, "2026-11-24"),   # Monday + 1
    ("2026-11-27", 1, "2026-11-30"),   # Friday + 1 skips the weekend
    ("2026-11-23", 10, "2026-12-07"),  # two working weeks
    ("2026-11-28", 1, "2026-11-30"),   # from a Saturday
    ("2026-09-25", 1, "2026-09-27"),   # Friday + 1 is the 调休 Sunday
    ("2026-09-29", 2, "2026-10-08"),   # Tue + 2: Wed 09-30, then the holiday week, then Thu 10-08
    ("2026-10-08", 2, "2026-10-10"),   # Thu + 2: Fri 10-09, the 调休 Saturday 10-10
    ("2026-11-23", 0, "2026-11-23"),
])
def test_add_workdays(start, days, due):
    """N working days after a date skip weekends and holidays and count 调休 weekend workdays."""
    assert clock.add_workdays(D(start), days, HOLIDAYS, EXTRA) == D(due)


@pytest.mark.ckan_config("ckanext.sharing.holidays", "2026-10-01 2026-10-02,2026-10-03")
@pytest.mark.ckan_config("ckanext.sharing.extra_workdays", ["2026-10-10"])
def test_calendar_config_accepts_lists_and_strings():
    """The holiday and 调休 options are read as date sets from a space/comma string or a list."""
    assert config.holidays() == {D("2026-10-01"), D("2026-10-02"), D("2026-10-03")}
    assert config.extra_workdays() == {D("2026-10-10")}


@pytest.mark.ckan_config("ckanext.sharing.holidays", "2026-13-01")
def test_calendar_config_refuses_a_bad_date():
    """A holiday that is not a real date is an error, not silently ignored."""
    with pytest.raises(ValueError):
        config.holidays()


@pytest.mark.ckan_config("ckan.display_timezone", "Asia/Shanghai")
@pytest.mark.ckan_config("ckanext.sharing.reply_working_days", 1)
def test_due_date_counts_from_the_portals_day():
    """The due date counts from the portal's calendar day, not UTC's."""
    # 23:30 UTC on Thursday is 07:30 on Friday in Beijing: one working day later is Monday, not Friday
    created = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.timezone.utc)
    assert clock.due_date(created) == D("2026-11-30")


@pytest.mark.ckan_config("ckan.display_timezone", "UTC")
@pytest.mark.ckan_config("ckanext.sharing.reply_working_days", 1)
def test_due_date_in_utc():
    """With a UTC portal the due date counts from the UTC day."""
    created = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.timezone.utc)
    assert clock.due_date(created) == D("2026-11-27")
