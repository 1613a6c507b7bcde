"""Resident ID numbers (GB 11643) and phones: what a counter clerk types, and what we refuse."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epigrid.lib import identity

GOOD = "11010519491231002X"  # the standard's own example: Beijing Chaoyang, 1949-12-31, female


def with_check(body: str) -> str:
    return body + identity.check_digit(body)


def test_it_accepts_a_valid_number_and_reads_birth_date_sex_and_division():
    parsed = identity.parse_resident_id(GOOD)
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "F"
    assert parsed.division_code == "110105"


def test_it_accepts_lower_case_x_and_spaces():
    assert identity.parse_resident_id(" 110105 19491231 002x ").number == GOOD


@pytest.mark.parametrize(
    "number, code",
    [
        pytest.param("11010519491231002", "id_length", id="17 characters"),
        pytest.param("1101051949123100X2", "id_format", id="X not last"),
        pytest.param("110105194912310021", "id_checksum", id="wrong check digit"),
        pytest.param(with_check("11010519491331002"), "id_birth_date", id="month 13"),
        pytest.param(with_check("11010519490230002"), "id_birth_date", id="30 February"),
        pytest.param(with_check("11010520991231002"), "id_birth_date", id="born in the future"),
        pytest.param(with_check("99010519491231002"), "id_division", id="unknown division"),
        pytest.param(
            with_check("32058319800101002"), "id_division", id="Kunshan code before it existed (1989)"
        ),
    ],
)
def test_it_refuses_bad_numbers_with_a_reason(number, code):
    with pytest.raises(identity.InvalidIdentity) as err:
        identity.parse_resident_id(number)
    assert err.value.code == code


def test_it_accepts_a_retired_division_code_for_someone_born_while_it_existed():
    # 320523 昆山县 existed 1983–1989: people born then keep that code for life
    assert identity.parse_resident_id(with_check("32052319850101002")).division_code == "320523"


divisions = st.sampled_from(["110105", "320583", "420102", "440305", "510104"])
births = st.dates(min_value=date(1990, 1, 1), max_value=date(2019, 12, 31))


@given(divisions, births, st.integers(0, 999))
def test_it_accepts_every_well_formed_number(division, birth, seq):
    body = f"{division}{birth:%Y%m%d}{seq:03d}"
    parsed = identity.parse_resident_id(with_check(body))
    assert parsed.birth_date == birth
    assert parsed.sex == ("M" if seq % 2 else "F")


@given(divisions, births, st.integers(0, 999), st.integers(0, 16), st.integers(1, 9))
def test_it_catches_every_single_digit_typo(division, birth, seq, position, delta):
    number = with_check(f"{division}{birth:%Y%m%d}{seq:03d}")
    digits = list(number)
    digits[position] = str((int(digits[position]) + delta) % 10)
    typo = "".join(digits)
    with pytest.raises(identity.InvalidIdentity):
        identity.parse_resident_id(typo)


@given(st.text(max_size=30))
def test_it_never_crashes_on_garbage(text):
    try:
        identity.parse_resident_id(text)
    except identity.InvalidIdentity as exc:
        assert exc.code.startswith("id_")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("0512-57501234", "051257501234"),
        ("+49 30 1234567", "+49301234567"),
        ("0049301234567", "+49301234567"),
    ],
)
def test_it_normalises_phones(raw, expected):
    assert identity.normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "23812345678", "1381234567", "phone", "+0123456"])
def test_it_refuses_bad_phones(raw):
    with pytest.raises(identity.InvalidIdentity):
        identity.normalise_phone(raw)


@given(st.text(max_size=40))
def test_phone_validation_never_crashes(text):
    try:
        value = identity.normalise_phone(text)
    except identity.InvalidIdentity:
        return
    assert value.startswith(("+", "0", "1"))


def test_it_masks_identifiers():
    assert identity.mask_document(GOOD) == "1101**********002X"
    assert identity.mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize(
    "doc_type, number, ok",
    [
        ("passport", "E12345678", True),
        ("passport", "E1", False),
        ("hk_macao_permit", "H1234567890", True),
        ("taiwan_permit", "12345678", True),
        ("taiwan_permit", "12", False),
        ("nonsense", "E12345678", False),
    ],
)
def test_it_validates_other_documents(doc_type, number, ok):
    if ok:
        assert identity.normalise_document(doc_type, number) == number
    else:
        with pytest.raises(identity.InvalidIdentity):
            identity.normalise_document(doc_type, number)
