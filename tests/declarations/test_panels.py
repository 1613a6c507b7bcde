"""What the app adds to the person page (for staff who may read declarations) and to the
person's own status page (only what they declared themselves)."""

from datetime import timedelta

from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.declarations import services
from epigrid.declarations.services import pushed_commit, pushed_upload

from .conftest import GRID, arrival, identity
from .lists import xlsx


def _number(person):
    from epigrid.lib.crypto import cipher
    from epigrid.people.services import ID_FIELD

    return cipher().decrypt(ID_FIELD, person.id_number_enc, row=person.pk)


def test_staff_see_declarations_travel_lists_and_checks_on_the_person_page(
    world, persona, client_for, make_person, id_numbers, clock
):
    person = make_person(GRID, name="岳飞", phone="13700001111", number=id_numbers(division="320583"))
    worker = persona("grid_worker", prefixes=[GRID])
    services.declare(actor=Actor(user=worker, via="test"), person=person, data=arrival(origin="420500"))
    team = Actor(user=persona("data_team"), via="test")
    arrived = timezone.localtime(clock.now - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    listed = pushed_upload.upload(
        actor=team,
        name="铁路推送第1批",
        source="transport",
        file_name="l.xlsx",
        data=xlsx([[_number(person), "岳飞", "", "武汉", arrived, "", GRID, "火车", "K81"]]),
    )
    pushed_commit.request_commit(actor=team, pushed=listed, enqueue=False)
    pushed_commit.run_commit(list_id=listed.pk, actor=team)
    page = client_for(worker).get(f"/people/{person.pk}/").content.decode()
    panel = page[page.index('id="declarations-panel"') :]
    assert "湖北省 宜昌市" in panel  # the declared origin
    assert "铁路推送第1批" in panel and "湖北省 武汉市" in panel  # the pushed list entry
    assert "/declarations/verify/" in panel  # its open check
    assert "JS79-13" in page  # the measures of both arrivals, with their clause


def test_roles_that_may_not_read_declarations_do_not_get_the_panel(world, persona, client_for, make_person):
    person = make_person(GRID)
    sampling = client_for(persona("sampling"))
    page = sampling.get(f"/people/{person.pk}/").content.decode()
    assert 'id="declarations-panel"' not in page


def test_the_person_sees_only_what_they_declared(world, client, id_numbers):
    result = services.declare_public(
        actor=Actor(user=None, via="public"),
        person_data=identity(id_numbers(), name="花木兰"),
        data=arrival(origin="420100", temperature="36.8"),
    )
    page = client.get(f"/me/{result.token}/").content.decode()
    mine = page[page.index('id="my-declarations"') :]
    assert "湖北省 武汉市" in mine and "36.8" in mine and "G1234" in mine
    for hidden in ("declarations-panel", "verify", "推送", "pushed list"):
        assert hidden not in mine
