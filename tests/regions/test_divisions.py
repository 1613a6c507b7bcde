"""Divisions (R1.2): the GB/T 2260 table as python-stdnum ships it, and the demo city below."""

import pytest

from epigrid.lib.names import english_division_name
from epigrid.regions.english import OFFICIAL, english_name
from epigrid.regions.gbt2260 import read_table
from epigrid.regions.models import Division, Level
from epigrid.regions.services.queries import ancestors


def test_the_table_covers_the_country_to_county_level():
    records = {r.code: r for r in read_table()}
    assert len([r for r in records.values() if r.level == 1]) == 34
    assert records["320583"].name == "昆山市" and records["320583"].valid_from == 1989
    assert records["320583"].parent == "320500"
    assert records["420100"].name == "武汉市" and records["420100"].level == 2
    # a code that changed name keeps its history
    assert records["320211"].former_names == [{"name": "郊区", "from": 1983, "to": 1999}]
    # retired counties stay, so old ID numbers still resolve
    assert records["320523"].valid_to == 1989


def test_loaded_divisions_have_names_in_three_forms(world):
    kunshan = Division.objects.get(code="320583")
    assert (kunshan.name_zh, kunshan.name_pinyin, kunshan.name_en) == ("昆山市", "kunshanshi", "Kunshan City")
    assert kunshan.prefix == "320583"
    assert Division.objects.get(code="320000").prefix == "32"
    assert Division.objects.get(code="320500").prefix == "3205"


def test_the_demo_city_has_towns_communities_grids_and_grid_workers(world):
    from epigrid.accounts.models import ScopeGrant

    below = Division.objects.filter(code__startswith="320583")
    assert below.filter(level=Level.TOWN).count() >= 6
    assert below.filter(level=Level.COMMUNITY).count() >= 60
    grids = list(below.filter(level=Level.GRID).values_list("code", flat=True))
    assert len(grids) >= 300
    covered = set(
        ScopeGrant.objects.filter(user__role="grid_worker").values_list("division_prefix", flat=True)
    )
    assert set(grids) <= covered
    for code in grids[:20]:
        assert len(code) == 15 and Division.objects.get(code=code).parent.parent.parent_id == "320583"


def test_ancestors_of_a_grid_cell():
    assert ancestors("320583001001001") == ["320000", "320500", "320583", "320583001", "320583001001"]
    assert ancestors("110105") == ["110000", "110100"]


def test_the_tree_page_opens_at_the_users_area(persona, client_for):
    client = client_for(persona("grid_worker", prefixes=["320583001001001"]))
    page = client.get("/regions/").content.decode()
    # the path down to the worker's grid cell, and the cell itself is the focus
    assert "江苏省" in page and "昆山市" in page and "320583001001" in page
    country = client.get("/regions/", {"at": ""}).content.decode()
    assert "110000" in country and "320000" in country
    assert client.get("/regions/", {"at": "999999"}).status_code == 404
    children = client.get("/regions/320583001/children").content.decode()
    assert "320583001001" in children


def test_the_division_api_is_public_and_searchable(client, world):
    kids = client.get("/api/v1/divisions", {"parent": "320500"}).json()
    assert "320583" in {d["code"] for d in kids}
    assert all(d["current"] for d in kids)
    with_retired = client.get("/api/v1/divisions", {"parent": "320500", "include_retired": True}).json()
    assert "320523" in {d["code"] for d in with_retired}
    found = client.get("/api/v1/divisions", {"q": "kunshan"}).json()
    assert found[0]["code"] == "320583"
    assert client.get("/api/v1/divisions/320583").json()["name_en"] == "Kunshan City"


# --- names (issue 10 item 15) ---------------------------------------------------------------

# Official English names of provincial-level and prefecture-level divisions, where romanising
# the Chinese name would be wrong (R1.2: divisions are shown by name in both languages).
OFFICIAL_ENGLISH = [
    ("110000", "Beijing Municipality"),
    ("140000", "Shanxi Province"),
    ("610000", "Shaanxi Province"),
    ("150000", "Inner Mongolia Autonomous Region"),
    ("450000", "Guangxi Zhuang Autonomous Region"),
    ("540000", "Xizang Autonomous Region"),
    ("640000", "Ningxia Hui Autonomous Region"),
    ("650000", "Xinjiang Uygur Autonomous Region"),
    ("710000", "Taiwan Province"),
    ("810000", "Hong Kong SAR"),
    ("820000", "Macao SAR"),
    ("150100", "Hohhot City"),
    ("150200", "Baotou City"),
    ("150300", "Wuhai City"),
    ("150400", "Chifeng City"),
    ("150500", "Tongliao City"),
    ("150600", "Ordos City"),
    ("150700", "Hulunbuir City"),
    ("150800", "Bayannur City"),
    ("150900", "Ulanqab City"),
    ("152200", "Hinggan League"),
    ("152500", "Xilingol League"),
    ("152900", "Alxa League"),
    ("540100", "Lhasa City"),
    ("540200", "Xigaze City"),
    ("540300", "Qamdo City"),
    ("540400", "Nyingchi City"),
    ("540600", "Nagqu City"),
    ("542500", "Ngari Prefecture"),
    ("650100", "Urumqi City"),
    ("650200", "Karamay City"),
    ("650400", "Turpan City"),
    ("650500", "Hami City"),
    ("652300", "Changji Hui Autonomous Prefecture"),
    ("652700", "Bortala Mongol Autonomous Prefecture"),
    ("652800", "Bayingolin Mongol Autonomous Prefecture"),
    ("652900", "Aksu Prefecture"),
    ("653000", "Kizilsu Kirgiz Autonomous Prefecture"),
    ("653100", "Kashgar Prefecture"),
    ("653200", "Hotan Prefecture"),
    ("654000", "Ili Kazak Autonomous Prefecture"),
    ("654200", "Tacheng Prefecture"),
    ("654300", "Altay Prefecture"),
    ("222400", "Yanbian Korean Autonomous Prefecture"),
    ("513200", "Aba Tibetan and Qiang Autonomous Prefecture"),
    ("513300", "Garze Tibetan Autonomous Prefecture"),
    ("513400", "Liangshan Yi Autonomous Prefecture"),
    ("632600", "Golog Tibetan Autonomous Prefecture"),
    ("632800", "Haixi Mongol and Tibetan Autonomous Prefecture"),
    ("522600", "Qiandongnan Miao and Dong Autonomous Prefecture"),
    ("532500", "Honghe Hani and Yi Autonomous Prefecture"),
    ("533100", "Dehong Dai and Jingpo Autonomous Prefecture"),
    ("433100", "Xiangxi Tujia and Miao Autonomous Prefecture"),
    ("230100", "Harbin City"),
    ("230200", "Qiqihar City"),
    ("140400", "Changzhi City"),
    ("141100", "Lüliang City"),
    ("211300", "Chaoyang City"),
    ("411100", "Luohe City"),
    ("610100", "Xi'an City"),
    ("360800", "Ji'an City"),
    ("530800", "Pu'er City"),
    ("320583", "Kunshan City"),
]


@pytest.mark.parametrize(("code", "english"), OFFICIAL_ENGLISH)
def test_it_gives_divisions_their_official_english_names(code, english):
    record = {r.code: r for r in read_table()}[code]
    assert english_name(code, record.name) == english


def test_it_stores_the_official_english_names(world):
    codes = [code for code, _english in OFFICIAL_ENGLISH]
    stored = dict(Division.objects.filter(code__in=codes).values_list("code", "name_en"))
    assert stored == dict(OFFICIAL_ENGLISH)


def test_it_keeps_every_official_name_to_the_division_it_was_written_for():
    records = {r.code: r for r in read_table()}
    for code, (name_zh, _english) in OFFICIAL.items():
        assert code in records and records[code].name == name_zh, code


def test_it_writes_the_names_of_the_table_in_simplified_characters():
    # GB 2312 is the simplified set; these few simplified characters of place names lie outside it
    rare = set("沚埇瀍浉硚猇埗鄠")
    for record in read_table():
        for name in [record.name, *(f["name"] for f in record.former_names)]:
            odd = {ch for ch in name if ch not in rare and not _gb2312(ch)}
            assert not odd, (record.code, name)


def _gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize(
    ("name_zh", "english"),
    [
        ("西安市", "Xi'an City"),
        ("延边朝鲜族自治州", "Yanbian Korean Autonomous Prefecture"),
        ("金平苗族瑶族傣族自治县", "Jinping Miao, Yao and Dai Autonomous County"),
        ("鄂伦春自治旗", "Oroqen Autonomous Banner"),
        ("瀍河回族区", "Chanhe Hui District"),
        ("长阳土家族自治县", "Changyang Tujia Autonomous County"),
        ("长子县", "Zhangzi County"),
        ("省直辖县级行政单位", "County-level divisions under the province"),
        ("市辖区", "Municipal Districts"),
        ("亭林街道", "Tinglin Subdistrict"),
    ],
)
def test_it_romanises_other_names_by_the_rules_of_pinyin_for_places(name_zh, english):
    assert english_division_name(name_zh) == english
