"""When a campaign email may go out: inside the send window, in the lead's time zone, on business
days that are not public holidays in the lead's country."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import zoneinfo

import holidays

from crm.models import Campaign, Lead

DEFAULT_WEEKDAYS = (1, 2, 3, 4, 5)
MAX_DAYS_AHEAD = 60


def lead_zone(lead: Lead, campaign: Campaign, agency_zone: str = "UTC") -> zoneinfo.ZoneInfo:
    name = lead.time_zone if campaign.timezone_policy == Campaign.TimezonePolicy.LEAD else ""
    try:
        return zoneinfo.ZoneInfo(name or agency_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(agency_zone)


@functools.lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> holidays.HolidayBase | None:
    try:
        return holidays.country_holidays(country.upper(), years=year)
    except NotImplementedError:
        return None  # a country the library does not know: business days only


def is_business_day(day: dt.date, *, weekdays: tuple[int, ...], country: str) -> bool:
    if day.isoweekday() not in weekdays:
        return False
    table = _holidays(country, day.year) if country else None
    return table is None or day not in table


def add_business_days(
    start: dt.datetime, days: int, *, zone: zoneinfo.ZoneInfo, weekdays: tuple[int, ...], country: str
) -> dt.datetime:
    """``start`` moved ``days`` business days later (same local time)."""
    local = start.astimezone(zone)
    day, left = local.date(), days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_business_day(day, weekdays=weekdays, country=country):
            left -= 1
    return dt.datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone).astimezone(dt.UTC)


def spread(key: str, minutes: int) -> dt.timedelta:
    """A stable offset into the window, so a campaign's sends do not all leave at its first minute."""
    if minutes <= 0:
        return dt.timedelta(0)
    return dt.timedelta(minutes=int(hashlib.sha256(key.encode()).hexdigest(), 16) % minutes)


def in_window(at: dt.datetime, *, campaign: Campaign, zone: zoneinfo.ZoneInfo, country: str) -> bool:
    local = at.astimezone(zone)
    weekdays = tuple(campaign.send_weekdays or DEFAULT_WEEKDAYS)
    return (
        is_business_day(local.date(), weekdays=weekdays, country=country)
        and campaign.send_window_start <= local.time() < campaign.send_window_end
    )


def next_slot(
    after: dt.datetime, *, campaign: Campaign, zone: zoneinfo.ZoneInfo, country: str, key: str = ""
) -> dt.datetime:
    """The first moment at or after ``after`` inside the window (UTC). When ``after`` is before a
    day's window, the send lands at a stable offset into its first half (``key``); inside the
    window, at once."""
    weekdays = tuple(campaign.send_weekdays or DEFAULT_WEEKDAYS)
    local = after.astimezone(zone)
    start, end = campaign.send_window_start, campaign.send_window_end
    day = local.date()
    for _ in range(MAX_DAYS_AHEAD):
        if is_business_day(day, weekdays=weekdays, country=country):
            opens = dt.datetime.combine(day, start, tzinfo=zone)
            closes = dt.datetime.combine(day, end, tzinfo=zone)
            if local < opens:
                half = int((closes - opens).total_seconds() // 120)
                return (opens + spread(key, half)).astimezone(dt.UTC)
            if local < closes:
                return local.astimezone(dt.UTC)
        day += dt.timedelta(days=1)
        local = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    raise ValueError(f"campaign {campaign.pk} has no send day in the next {MAX_DAYS_AHEAD} days")
