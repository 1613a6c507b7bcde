"""China Standard Time, the clock every document counts in ("14 days", "within 12 hours",
"the day of arrival"), and the two conversions the rules, imports and pages share."""

from datetime import date, datetime, timedelta, timezone

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact for every
# date the rules deal with and needs no tz database on the machine.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """The calendar day in China of an aware moment."""
    return moment.astimezone(CHINA_TZ).date()


def start_of_day(day: date) -> datetime:
    """00:00 China time of a calendar day."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ)
