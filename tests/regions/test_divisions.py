"""Divisions (R1.2): the GB/T 2260 table as python-stdnum ships it, and the demo city below."""

from epigrid.regions.gbt2260 import read_table
from epigrid.regions.models import Division, Level
from epigrid.regions.services import ancestors


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
