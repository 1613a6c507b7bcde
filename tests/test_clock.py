"""The one clock the tests control (`clock` in tests/conftest.py, issue 11.7)."""

from datetime import timedelta

from django.utils import timezone


def test_it_holds_time_still_until_shifted(clock):
    began = clock.now
    assert timezone.now() == began == clock.now
    assert clock.shift(hours=13) == began + timedelta(hours=13) == timezone.now()
    clock.shift(timedelta(minutes=5))
    assert timezone.now() == began + timedelta(hours=13, minutes=5)


def test_it_starts_at_the_present(clock):
    import time

    assert abs(clock.now.timestamp() - time.time()) < 1


def test_today_is_the_date_in_china_time_and_moves_with_the_clock(clock):
    from epigrid.lib.chinatime import CHINA_TZ

    assert clock.today == clock.now.astimezone(CHINA_TZ).date()
    assert clock.shift(days=1).astimezone(CHINA_TZ).date() == clock.today
