"""The place pickers of the declaration forms (issue 10 item 15, R2.1): a residence is a
division, a place of travel may be a country; Taiwan, Hong Kong and Macao are listed once,
among the provinces (GB/T 2260 codes 71, 81, 82), named in simplified characters; the list of
countries is named and sorted in the page's language."""

import re

import pytest
from django.utils import translation

from epigrid.declarations import places
from epigrid.lib.names import pinyin

pytestmark = pytest.mark.django_db


def _pickers(html: str) -> dict[str, str]:
    """The opening tag of each place picker, by the name of the field inside it."""
    found = {}
    tag = r'(<div class="place-picker"[^>]*>)\s*(?:<label[^>]*>[^<]*</label>\s*)?<input[^>]*name="(\w+)"'
    for match in re.finditer(tag, html):
        found.setdefault(match.group(2), match.group(1))
    return found


def test_it_offers_countries_only_where_a_place_abroad_is_meant(client, world):
    html = client.get("/declarations/public/declare/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    pickers = _pickers(html)
    # the residence (where you stay or live) is a community and grid cell here: never a country
    assert "data-countries" not in pickers["division_code"]
    # places in China: where an arrival came from (a country is chosen apart), the first entry
    # point and the region that issued a health code
    for name in ("origin", "entry_port", "health_code_issuer"):
        assert "data-countries" not in pickers[name], name
    # places of travel may be abroad
    assert 'data-countries="1"' in pickers["travel_to"]
    assert 'data-countries="1"' in pickers["stop_area"]


def test_it_offers_no_country_in_the_tip_form_residence(client, world):
    html = client.get("/declarations/public/tip/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "data-countries" not in _pickers(html)["division_code"]


def test_it_lists_taiwan_hong_kong_and_macao_once_among_the_provinces(client, world):
    provinces = client.get("/api/v1/divisions").json()
    names = {d["code"]: d["name_zh"] for d in provinces}
    assert len(provinces) == 34
    assert names["710000"] == "台湾省"
    assert names["810000"] == "香港特别行政区"
    assert names["820000"] == "澳门特别行政区"
    english = {d["code"]: d["name_en"] for d in provinces}
    assert english["810000"] == "Hong Kong SAR" and english["820000"] == "Macao SAR"
    for language in ("zh-hans", "en"):
        codes = [code for code, _name in places.country_choices(language)]
        assert not {"HK", "MO", "TW", "CN"} & set(codes), language
        assert len(codes) == len(set(codes))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("香港特别行政区", "HK"),
        ("香港", "HK"),
        ("810000", "HK"),
        ("澳门特别行政区", "MO"),
        ("台湾省", "TW"),
        ("丹麦", "DK"),
        ("冰岛", "IS"),  # any country by its Chinese name, not only the commonly written ones
        ("South Korea", "KR"),
        # official English names, as a list written in English has them
        ("Urumqi", "650100"),
        ("Hohhot", "150100"),
        ("Inner Mongolia", "150000"),
        ("Shaanxi Province", "610000"),
        ("Xigaze City", "540200"),
    ],
)
def test_it_reads_these_places_back(world, text, code):
    assert places.national_index().resolve(text) == code


def test_it_names_hong_kong_and_macao_by_their_province_names(world):
    assert places.place_label("HK", "zh-hans") == "香港特别行政区"
    assert places.place_label("MO", "zh-hans") == "澳门特别行政区"
    assert places.place_label("HK", "en") == "Hong Kong SAR"
    assert places.place_label("TW", "en") == "Taiwan Province"


def test_it_names_and_sorts_the_countries_in_chinese_by_pinyin():
    choices = places.country_choices("zh-hans")
    names = [name for _code, name in choices]
    assert all(re.search(r"[\u4e00-\u9fff]", name) for name in names), [n for n in names if n.isascii()]
    assert names == sorted(names, key=lambda n: (pinyin(n), n))
    assert dict(choices)["DK"] == "丹麦"


def test_it_names_and_sorts_the_countries_in_english_alphabetically():
    choices = places.country_choices("en")
    names = [name for _code, name in choices]
    assert all(not re.search(r"[\u4e00-\u9fff]", name) for name in names)
    assert names[0] == "Afghanistan" and names.index("Åland Islands") < names.index("Albania")
    assert dict(choices)["KR"] == "South Korea" and dict(choices)["US"] == "United States"


def test_it_shows_the_form_country_list_in_the_page_language(client, world):
    zh = client.get("/declarations/public/declare/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    select = re.search(r'<select name="origin_country".*?</select>', zh, re.S).group(0)
    labels = re.findall(r'<option value="[A-Z]{2}">([^<]+)</option>', select)
    assert labels and all(re.search(r"[\u4e00-\u9fff]", label) for label in labels)
    with translation.override("en"):
        en = client.get("/declarations/public/declare/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    select = re.search(r'<select name="origin_country".*?</select>', en, re.S).group(0)
    labels = re.findall(r'<option value="[A-Z]{2}">([^<]+)</option>', select)
    assert labels and all(label.isascii() or not re.search(r"[\u4e00-\u9fff]", label) for label in labels)
