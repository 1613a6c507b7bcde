"""One answer to "is this place code a country abroad?" (issue 11.5: there were two, with
opposite answers for CN)."""

import pytest

from epigrid.lib.countries import is_country


@pytest.mark.parametrize(
    "code, abroad",
    [
        ("DK", True),
        ("US", True),
        ("HK", True),  # outside the mainland, as the rules and forms treat it
        ("MO", True),
        ("TW", True),
        ("CN", False),  # China is not abroad
        ("ZZ", False),  # no such country
        ("dk", False),
        ("420100", False),
        ("", False),
    ],
)
def test_it_says_whether_a_code_is_a_country_abroad(code, abroad):
    assert is_country(code) is abroad
