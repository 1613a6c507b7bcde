"""Who may do what (personas per role) and where: sampling staff at the desk, labs at theirs,
the CDC and grid workers reading; anything outside the scope is a 404, never a 403."""

from datetime import date, timedelta

import pytest
from django.core.cache import cache

from epigrid.testing.models import OrderStatus, PointKind, Pool, SamplingPoint, Specimen, TestOrder
from epigrid.testing.services.collection import open_pool, take_specimen
from epigrid.testing.services.orders import walk_in_order
from epigrid.testing.services.points import PointInput, save_point
from epigrid.testing.services.queries import group_config
from tests.testing.conftest import GRID, KUNSHAN, TAICANG

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


def test_the_public_sees_open_points_by_town_and_nearest_without_signing_in(client, point, system):
    save_point(
        actor=system,
        data=PointInput(
            kind=PointKind.MOBILE,
            name="已撤除的流动采样点",
            address="某广场",
            division_code="320583001",
            active_from=date(2020, 1, 1),
            active_to=date(2020, 2, 1),
            latitude=31.386,
            longitude=120.981,
        ),
    )
    page = client.get("/testing/public/points/")
    body = page.content.decode()
    assert page.status_code == 200
    assert point.name in body and point.address in body and point.phone in body
    assert "已撤除" not in body  # closed points are not published
    near = client.get("/testing/public/points/", {"where": "31.3851, 120.9801"}).content.decode()
    assert "nearest-points" in near and point.name in near and "km" in near
    geo = client.get("/testing/public/points/", {"lat": "31.39", "lon": "120.99"}).content.decode()
    assert point.name in geo
    by_town = client.get("/testing/public/points/", {"town": "320583001"}).content.decode()
    assert point.name in by_town
    bad = client.get("/testing/public/points/", {"where": "nowhere"}).content.decode()
    assert "field-error" in bad
    api = client.get("/api/v1/testing/points", {"lat": 31.385, "lon": 120.98}).json()
    assert [p["name"] for p in api] == [point.name] and api[0]["distance_km"] < 0.1
    assert api[0]["waiting_place"] == "采样点东侧候检区"
    assert client.get("/api/v1/testing/points", {"division": "320585"}).json() == []
    assert client.get("/api/v1/testing/points", {"lat": 31.0}).status_code == 400


def test_the_public_page_is_rate_limited(client, point, ratelimit_clock):
    statuses = [client.get("/testing/public/points/").status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429


def test_sampling_staff_take_a_specimen_into_a_pool_at_the_desk(client_for, sampler, point, arrived):
    person = arrived(name="钱多多")
    client = client_for(sampler)
    desk = client.get("/testing/sample/", {"point": point.pk, "q": "钱多多"}).content.decode()
    assert "钱多多" in desk and ("free of charge" in desk or "免费" in desk)
    client.post("/testing/sample/pool/", {"point": point.pk, "barcode": "POOL-7001", "size": 10})
    pool = Pool.objects.get(barcode="POOL-7001")
    response = client.post(
        "/testing/sample/specimen/",
        {
            "point": point.pk,
            "person_id": person.pk,
            "barcode": "SWAB-7001",
            "test": "nucleic_acid",
            "pool": "POOL-7001",
        },
        follow=True,
    )
    body = response.content.decode()
    assert "SWAB-7001" in body and point.waiting_place in body
    specimen = Specimen.objects.get(barcode="SWAB-7001")
    assert specimen.pool == pool and specimen.taken_by == sampler
    order = TestOrder.objects.get(person=person, test="nucleic_acid")
    assert (order.status, order.specimen, order.sampling_point) == (OrderStatus.SAMPLED, specimen, point)
    client.post(f"/testing/sample/pool/{pool.pk}/seal/")
    pool.refresh_from_db()
    assert pool.status == "sealed"


def test_a_walk_in_without_a_reason_is_refused(client_for, sampler, point, make_person):
    person = make_person(GRID, name="孙无单")
    client = client_for(sampler)
    response = client.post(
        "/testing/sample/specimen/",
        {"point": point.pk, "person_id": person.pk, "barcode": "SWAB-8001", "test": "nucleic_acid"},
        follow=True,
    )
    assert not Specimen.objects.filter(barcode="SWAB-8001").exists()
    assert "must-test group" in response.content.decode() or "应检" in response.content.decode()
    client.post(
        "/testing/sample/specimen/",
        {
            "point": point.pk,
            "person_id": person.pk,
            "barcode": "SWAB-8001",
            "test": "nucleic_acid",
            "group": "willing",
        },
    )
    order = TestOrder.objects.get(person=person)
    assert (order.group, order.free, order.status) == ("willing", False, OrderStatus.SAMPLED)


def test_out_of_scope_people_points_and_pools_are_404(client_for, persona, point, make_person, system):
    stranger = persona("sampling", prefixes=[TAICANG])
    client = client_for(stranger)
    person = make_person(GRID)
    pool = open_pool(actor=system, point=point, barcode="POOL-9001", size=5)
    response = client.post(
        "/testing/sample/specimen/",
        {
            "point": point.pk,
            "person_id": person.pk,
            "barcode": "SWAB-9001",
            "test": "nucleic_acid",
            "group": "willing",
        },
    )
    assert response.status_code == 404
    assert client.post(f"/testing/sample/pool/{pool.pk}/seal/").status_code == 404
    desk = client.get("/testing/sample/", {"point": point.pk, "q": person.name}).content.decode()
    assert "person-row" not in desk and person.id_number_masked not in desk
    cdc = persona("cdc", prefixes=[TAICANG])
    assert client_for(cdc).get(f"/testing/points/{point.pk}/edit/").status_code == 404
    assert client_for(cdc).get(f"/testing/people/{person.pk}/external/").status_code == 404
    # and through the API
    from epigrid.accounts.services import create_token

    _, secret = create_token(actor=system, user=stranger, name="desk")
    api = client_for(stranger).post(
        "/api/v1/testing/specimens",
        {"person_id": str(person.pk), "point_id": str(point.pk), "barcode": "SWAB-9002", "group": "willing"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert api.status_code == 404 and api.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("sampling", {"/testing/", "/testing/sample/", "/testing/points/", "/testing/overdue/"}),
        (
            "lab",
            {"/testing/", "/testing/lab/", "/testing/points/", "/testing/overdue/", "/testing/sequencing/"},
        ),
        (
            "cdc",
            {
                "/testing/",
                "/testing/points/",
                "/testing/overdue/",
                "/testing/sequencing/",
                "/testing/groups/",
                "/testing/dcc/",
                "/testing/points/new/",
                "/testing/dcc/trust/",
            },
        ),
        ("grid_worker", {"/testing/", "/testing/points/", "/testing/overdue/"}),
        ("unit_manager", set()),
    ],
)
def test_each_role_reaches_only_its_pages(role, allowed, persona, client_for, lab):
    client = client_for(persona(role))
    pages = [
        "/testing/",
        "/testing/sample/",
        "/testing/lab/",
        "/testing/points/",
        "/testing/points/new/",
        "/testing/overdue/",
        "/testing/sequencing/",
        "/testing/groups/",
        "/testing/dcc/",
        "/testing/dcc/trust/",
    ]
    reached = {url for url in pages if client.get(url).status_code == 200}
    assert reached == allowed
    for url in set(pages) - allowed:
        assert client.get(url).status_code == 403


def test_a_grid_worker_sees_the_tests_of_their_grid_on_the_person_page(
    client_for, persona, arrived, point, system, clock
):
    person = arrived(name="周在格")
    take_specimen(actor=system, person=person, point=point, barcode="SWAB-6001", at=clock.now)
    mine = client_for(persona("grid_worker", prefixes=[GRID]))
    body = mine.get(f"/people/{person.pk}/").content.decode()
    assert "testing-panel" in body and "SWAB-6001" in body and "JS79-13" in body
    other = client_for(persona("grid_worker", prefixes=["320583001001002"]))
    assert other.get(f"/people/{person.pk}/").status_code == 404
    api = mine.get("/api/v1/testing/orders", {"person_id": str(person.pk)}).json()
    assert {o["test"] for o in api["items"]} == {"nucleic_acid", "serology"}
    assert other.get("/api/v1/testing/orders", {"person_id": str(person.pk)}).json()["items"] == []


def test_a_lab_user_sees_barcodes_not_names(client_for, lab_user, point, system, make_person, clock):
    person = make_person(GRID, name="郑保密")
    order = walk_in_order(
        actor=system, person=person, test="nucleic_acid", at=clock.now - timedelta(hours=20)
    )
    take_specimen(
        actor=system, person=person, point=point, barcode="SWAB-5001", at=clock.now - timedelta(hours=19)
    )
    order.refresh_from_db()
    body = client_for(lab_user).get("/testing/overdue/").content.decode()
    assert "SWAB-5001" in body and "郑保密" not in body


def test_cdc_manages_points_and_groups(client_for, persona, lab):
    cdc = client_for(persona("cdc"))
    response = cdc.post(
        "/testing/points/new/",
        {
            "kind": "township_hospital",
            "name": "周市镇卫生院采样点",
            "address": "周市镇青阳北路1号",
            "division_code": "320583002",
            "latitude": "31.42",
            "longitude": "120.97",
            "phone": "0512-57123456",
            "opening_hours": "8:00-17:00",
            "active_from": "2020-06-01",
            "waiting_place": "大厅北侧",
            "lab_id": str(lab.pk),
        },
    )
    assert response.status_code == 302
    created = SamplingPoint.objects.get(name="周市镇卫生院采样点")
    assert created.lab == lab and created.latitude == 31.42
    refused = cdc.post(
        "/testing/points/new/",
        {
            "kind": "mobile",
            "name": "外地点",
            "address": "某地",
            "division_code": "320585001",
            "active_from": "2020-06-01",
        },
    )
    assert refused.status_code == 200 and not SamplingPoint.objects.filter(name="外地点").exists()
    cdc.post(
        "/testing/groups/",
        {
            "division_code": KUNSHAN,
            "group": "medical_staff",
            "test": "nucleic_acid",
            "free": "on",
            "interval_days": 7,
            "due_hours": 12,
        },
    )
    assert group_config(GRID, "medical_staff").interval_days == 7
