"""Dates in DCC certificates as member states issue them (issue 10.18).

Several states write a date-time where the schema says `format: date` (BG `1978-01-26T00:00:00`,
SG `2022-01-01T00:00:00.000Z`). The date is read from the date part as written; what is not a
date at all, an impossible date or a time that cannot be is still refused. A date-time field
(the sample time) keeps its time and needs its zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epigrid.testing import certificates
from epigrid.testing.dcc import external_test_result, verify
from epigrid.testing.dcc.dates import NotADate, read_birth_date, read_date, read_date_time
from epigrid.testing.models import TestResult
from tests.testing.conftest import GRID
from tests.testing.dcc_support import hcert_of_test, issue, make_issuer

AT = datetime(2021, 6, 2, tzinfo=UTC)
ISSUER = make_issuer()
PLUS_8 = timezone(timedelta(hours=8))

# --- the readers, table by table ----------------------------------------------------------

DATES = [
    ("2021-05-11", date(2021, 5, 11)),
    ("2024-02-29", date(2024, 2, 29)),
    # BG writes no zone, SG a UTC time with milliseconds
    ("2021-03-09T00:00:00", date(2021, 3, 9)),
    ("2022-01-01T00:00:00.000Z", date(2022, 1, 1)),
    ("2021-05-11T00:00:00Z", date(2021, 5, 11)),
    ("2021-05-11t00:00:00z", date(2021, 5, 11)),
    # the date as written, never moved by the offset: in UTC these are another day
    ("2021-05-11T00:00:00+08:00", date(2021, 5, 11)),
    ("2021-05-11T23:30:00-05:00", date(2021, 5, 11)),
    ("2021-05-11T23:59:59.999999999+0100", date(2021, 5, 11)),
]

NOT_DATES = [
    # not a date at all
    "",
    "yesterday",
    "11.05.2021",
    "2021/05/11",
    "20210511",
    "2021-5-11",
    "2021-05",
    "٢٠٢١-٠٥-١١",  # digits, but not ASCII ones
    "2021-05-11\n",
    " 2021-05-11",
    # a date followed by garbage, or by a time that is not one
    "2021-05-11Tnoon",
    "2021-05-11T",
    "2021-05-11 00:00:00",
    "2021-05-11T00:00",
    "2021-05-11T00:00:00ZZ",
    "2021-05-11T00:00:00+08",
    "2021-05-11T00:00:00.Z",
    "2021-05-11T24:00:00",
    "2021-05-11T23:60:00",
    "2021-05-11T23:59:60",
    "2021-05-11T00:00:00+24:00",
    "2021-05-11T00:00:00+08:60",
    # impossible dates, alone or with a time
    "2021-02-29",
    "2021-02-29T00:00:00",
    "2021-04-31",
    "2021-13-01",
    "2021-00-10",
    "2021-05-00",
    "0000-01-01",
]


@pytest.mark.parametrize(("text", "expected"), DATES)
def test_a_complete_date_is_read_from_a_date_or_the_date_part_of_a_date_time(text, expected):
    assert read_date(text) == expected


@pytest.mark.parametrize("text", NOT_DATES)
def test_what_is_not_a_date_is_refused_with_its_reason(text):
    with pytest.raises(NotADate, match="is not a date"):
        read_date(text)


DATE_TIMES = [
    ("2021-06-01T08:30:00Z", datetime(2021, 6, 1, 8, 30, tzinfo=UTC)),
    ("2021-06-01T08:30:00+02:00", datetime(2021, 6, 1, 6, 30, tzinfo=UTC)),
    ("2021-06-01T08:30:00-0330", datetime(2021, 6, 1, 12, 0, tzinfo=UTC)),
    ("2021-06-07T10:00:00.110Z", datetime(2021, 6, 7, 10, 0, 0, 110_000, tzinfo=UTC)),
    # VA writes microseconds; digits past them are cut
    ("2021-07-05T16:22:42.007179+02:00", datetime(2021, 7, 5, 14, 22, 42, 7179, tzinfo=UTC)),
    ("2021-07-05T16:22:42.0071799Z", datetime(2021, 7, 5, 16, 22, 42, 7179, tzinfo=UTC)),
]


@pytest.mark.parametrize(("text", "instant"), DATE_TIMES)
def test_a_date_time_keeps_its_time_and_zone(text, instant):
    assert read_date_time(text) == instant


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2021-06-01", "no time"),
        ("2021-06-01T10:00:00", "no time zone"),
        ("2021-02-30T10:00:00Z", "day is out of range"),
        ("2021-06-01T10:00:61Z", "no time of day"),
        ("2021-06-01T10:00:00+25:00", "no offset"),
        ("soon", "is not a date-time"),
    ],
)
def test_a_date_time_without_its_time_or_zone_is_refused(text, why):
    with pytest.raises(NotADate, match=why):
        read_date_time(text)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("", ""),
        ("1980", "1980"),
        ("1980-02", "1980-02"),
        ("1980-02-29", "1980-02-29"),
        ("1978-01-26T00:00:00", "1978-01-26"),
        ("1990-01-15T00:00:00+08:00", "1990-01-15"),  # 14 January in UTC, but born on the 15th
        ("1990-01-15T23:00:00-05:00", "1990-01-15"),
        ("2099-12-31", "2099-12-31"),
    ],
)
def test_a_birth_date_is_read_in_the_forms_of_the_specification(text, written):
    assert read_birth_date(text) == written


@pytest.mark.parametrize(
    "text",
    [
        "1899-12-31",
        "2100",
        "1963-00",
        "1963-13",
        "1981-02-29",
        "1980-2-1",
        "1980-02-29T25:00:00",
        "unknown",
        "0",
    ],
)
def test_a_birth_date_that_cannot_be_is_refused(text):
    with pytest.raises(NotADate, match="is not a date of birth"):
        read_birth_date(text)


# --- the readers under Hypothesis ---------------------------------------------------------

_zones = (
    st.none()
    | st.just(UTC)
    | st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes)))
)


def _zone_text(zone, colon: bool, lower: bool) -> str:
    if zone is None:
        return ""
    if zone is UTC:
        return "z" if lower else "Z"
    minutes = int(zone.utcoffset(None).total_seconds() // 60)
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    return f"{sign}{minutes // 60:02d}{':' if colon else ''}{minutes % 60:02d}"


@st.composite
def written_date_times(draw):
    """A date-time as some issuer writes it: any day, any time, with or without a fraction
    of any length, any zone or none, `T` or `t`, offsets with or without a colon."""
    day = draw(st.dates(min_value=date(1, 1, 1)))
    moment = draw(st.times())
    zone = draw(_zones)
    digits = draw(st.integers(0, 9))
    fraction = f"{moment.microsecond:06d}{draw(st.text('0123456789', min_size=3, max_size=3))}"[:digits]
    lower = draw(st.booleans())
    text = (
        f"{day.isoformat()}{'t' if lower else 'T'}{moment.strftime('%H:%M:%S')}"
        + (f".{fraction}" if digits else "")
        + _zone_text(zone, draw(st.booleans()), lower)
    )
    kept = time(moment.hour, moment.minute, moment.second, int(fraction[:6].ljust(6, "0")) if digits else 0)
    return text, day, kept, zone


@given(written_date_times())
def test_the_date_read_is_the_date_written_whatever_the_time_and_zone(case):
    text, day, _, _ = case
    assert read_date(text) == day


@given(written_date_times())
def test_a_date_time_with_a_zone_is_the_instant_written(case):
    text, day, kept, zone = case
    if zone is None:
        with pytest.raises(NotADate, match="no time zone"):
            read_date_time(text)
    else:
        assert read_date_time(text) == datetime.combine(day, kept, tzinfo=zone)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)), written_date_times())
def test_a_birth_date_written_as_a_date_time_is_its_date_part(born, case):
    text, _, _, _ = case
    written = born.isoformat() + text[10:]
    assert read_birth_date(written) == born.isoformat()
    assert read_birth_date(born.isoformat()[:7]) == born.isoformat()[:7]


@given(st.text(max_size=40) | st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt].{0,24})?", fullmatch=True))
def test_any_text_is_a_date_or_refused_never_an_error(text):
    for read in (read_date, read_date_time, read_birth_date):
        try:
            value = read(text)
        except NotADate:
            continue
        # whatever is accepted starts with the date (or partial date) it is read as
        written = value.isoformat() if isinstance(value, date) else value
        assert text.startswith(written[:10]), (read.__name__, text, value)


# --- certificates as states issue them ----------------------------------------------------


def _recovery(**entry) -> dict:
    hcert = hcert_of_test()
    del hcert["t"]
    hcert["r"] = [
        {
            "tg": "840539006",
            "fr": "2021-05-01",
            "co": "SG",
            "is": "Ministry of Health",
            "df": "2021-05-11",
            "du": "2021-10-28",
            "ci": "URN:UVCI:01:SG:ABC",
            **entry,
        }
    ]
    return hcert


def _vaccination(**entry) -> dict:
    hcert = hcert_of_test()
    hcert["t"] = None
    hcert["v"] = [
        {
            "tg": "840539006",
            "vp": "J07BX03",
            "mp": "EU/1/20/1528",
            "ma": "ORG-100030215",
            "dn": 2,
            "sd": 2,
            "dt": "2021-03-09",
            "co": "BG",
            "is": "Ministry of Health",
            "ci": "urn:uvci:01:BG:UFR5PLGKU8WDSZK7#0",
            **entry,
        }
    ]
    return hcert


def _verify(hcert: dict):
    return verify(issue(ISSUER, hcert), ISSUER.trust, AT)


def test_it_accepts_recovery_dates_written_as_date_times():
    hcert = _recovery(fr="2021-05-01T00:00:00.000Z", df="2021-05-11T00:00:00.000Z", du="2021-10-28T00:00:00Z")
    result = _verify(hcert)
    assert (result.valid, result.kind) == (True, "recovery"), result.stage_reasons


def test_it_accepts_a_bulgarian_vaccination_with_date_times_and_null_groups():
    hcert = _vaccination(dt="2021-03-09T00:00:00")
    hcert["dob"] = "1978-01-26T00:00:00"
    hcert["r"] = None
    hcert["ver"] = "1.0.0"
    result = _verify(hcert)
    assert (result.valid, result.kind) == (True, "vaccination"), result.stage_reasons


@pytest.mark.parametrize(
    ("hcert", "where", "why"),
    [
        pytest.param(
            _vaccination(dt="2021-02-29T00:00:00"), "v/0/dt", "day is out of range", id="29 February 2021"
        ),
        pytest.param(
            _vaccination(dt="2021-03-09Tmorning"), "v/0/dt", "is not a date", id="a word for a time"
        ),
        pytest.param(
            _vaccination(dt="2021-03-09T00:00:00+08"), "v/0/dt", "is not a date", id="half an offset"
        ),
        pytest.param(_vaccination(dt="9 March 2021"), "v/0/dt", "is not a date", id="words"),
        pytest.param(_recovery(du="2021-10-28T24:00:00Z"), "r/0/du", "no time of day", id="hour 24"),
        pytest.param(_recovery(df="2021-13-11T00:00:00Z"), "r/0/df", "month must be in 1..12", id="month 13"),
        pytest.param(
            hcert_of_test(sc="2021-06-01T10:00:00"), "t/0/sc", "no time zone", id="sample time, no zone"
        ),
        pytest.param(
            {**hcert_of_test(), "dob": "1978-02-30T00:00:00"}, "dob", "day is out of range", id="30 February"
        ),
        pytest.param(
            {**hcert_of_test(), "dob": "1978-01-26Tnoon"}, "dob", "is not a date of birth", id="birth at noon"
        ),
    ],
)
def test_it_still_refuses_dates_that_are_not_dates(hcert, where, why):
    result = _verify(hcert)
    assert result.failed_stage == "schema"
    assert f"{where}: " in result.reason and why in result.reason, result.reason


ONE_GROUP = "certificate: exactly one of v, t, r must be a group (the others absent or null)"


@pytest.mark.parametrize(
    ("hcert", "why"),
    [
        ({**hcert_of_test(), "v": None, "r": None, "t": None}, ONE_GROUP),
        ({**_vaccination(), "t": hcert_of_test()["t"]}, ONE_GROUP),
        ({**_vaccination(), "r": []}, "r: [] should be non-empty"),
        ({**hcert_of_test(), "v": "none"}, "v: 'none' is not of type 'array', 'null'"),
    ],
    ids=["no group", "two groups", "an empty group", "a group that is text"],
)
def test_it_reads_only_null_as_an_absent_group(hcert, why):
    result = _verify(hcert)
    assert result.failed_stage == "schema"
    assert result.reason.endswith(why), result.reason


def test_it_records_the_birth_date_as_written_and_the_sample_time_to_the_second():
    hcert = hcert_of_test(sc="2021-06-01T23:30:15.250+08:00")
    hcert["dob"] = "1990-01-15T00:00:00+08:00"
    recorded = external_test_result(_verify(hcert))
    # the sample: the instant written, time of day included (23:30 in Beijing is 15:30 UTC)
    assert recorded["sampled_at"] == datetime(2021, 6, 1, 15, 30, 15, 250_000, tzinfo=UTC)
    # the birth: the day written, not the UTC day (14 January)
    assert recorded["date_of_birth"] == "1990-01-15"
    assert certificates.birth_date_of(recorded) == date(1990, 1, 15)


@pytest.mark.django_db
def test_it_matches_the_holder_by_the_birth_date_a_state_wrote_as_a_date_time(
    make_person, persona, system, clock
):
    signer = make_issuer(kinds=("test",), not_before=clock.now - timedelta(days=30))
    certificates.add_trusted_signers(actor=system, data=signer.pem, source="BG.pem")
    person = make_person(GRID, name="张伟", birth=date(1992, 2, 29))
    make_person(GRID, name="张伟", birth=date(1992, 2, 28))  # the day before, as UTC would have it
    sampled = (clock.now - timedelta(days=1)).astimezone(PLUS_8).replace(microsecond=120_000)
    hcert = hcert_of_test(sc=sampled.isoformat(timespec="milliseconds"))
    hcert["dob"] = "1992-02-29T00:00:00+08:00"
    now = clock.now
    qr = issue(signer, hcert, issued=now - timedelta(hours=20), expires=now + timedelta(days=2))
    result, created = certificates.record_certificate(actor=system, user=persona("cdc"), qr_text=qr)
    assert created and result.person == person
    stored = TestResult.objects.get()
    assert stored.sampled_at == sampled
