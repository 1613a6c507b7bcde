"""A measure with no end (isolation in hospital until released) reads "from …" in its label,
never "… → ?" (issue 10.13: no placeholder or code where a person reads words)."""

from datetime import datetime

import pytest

from epigrid.lib.chinatime import CHINA_TZ
from epigrid.rules.engine import Measure, measure_label

START = datetime(2020, 6, 1, 9, 30, tzinfo=CHINA_TZ)


def _quarantine(end):
    return Measure(
        kind="quarantine",
        params={"quarantine": "hospital"},
        start=START,
        end=end,
        counted_from="arrival",
        state="active",
        rule="NA182-3/confirmed-or-suspected",
        requirements=("NA182-3",),
        pack="national-2020-182",
        pack_version=1,
        reason={"zh-hans": "", "en": ""},
    )


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh-hans", "定点医院隔离治疗，至解除，自2020-06-01 09:30起"),
        ("en", "Isolation in a designated hospital, until released, from 2020-06-01 09:30"),
    ],
)
def test_it_names_an_open_ended_measure_from_its_start(lang, expected):
    label = measure_label(_quarantine(None), lang)
    assert label == expected and "?" not in label


def test_a_measure_with_an_end_keeps_its_span():
    end = datetime(2020, 6, 15, 9, 30, tzinfo=CHINA_TZ)
    assert measure_label(_quarantine(end), "zh-hans").endswith("2020-06-01 09:30 → 2020-06-15 09:30")
