"""Links for the demo: one green, one yellow and one red person's code page, and the scanner.

`epigrid demo` calls `demo_links(base_url)` after building the city. People who already have
each colour (from declarations, test results or cases the demo loaded) are used first. While
no fact producer in the demo gives anyone a yellow or red colour, one person is given a demo
situation for each: a cough and a sore throat without fever at the latest health check (yellow,
`colour/fever-or-respiratory-symptoms`; a fever would be red, since NA182-3 isolates a fever not
yet excluded) and a close contact's exposure three days ago (red, `colour/close-contact`). Those
facts come from a facts source that lives only in the process that called `demo_links`; they
go through `rules.services.reassess` like any fact, so the colours, reasons, measures and
tasks are the real ones. A later reassessment of those two people in another process (the
scheduled review) no longer sees the demo facts and turns them green, as it would for anyone
whose facts ended.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.healthcode.models import HealthCode

DEMO_SOURCE = "healthcode-demo"
_SCENARIOS: dict[str, dict] = {}


def _demo_facts(persons: list, at) -> dict:
    return {str(p.pk): _SCENARIOS[str(p.pk)] for p in persons if str(p.pk) in _SCENARIOS}


def _register() -> None:
    from epigrid.rules.registry import register_facts_source

    register_facts_source(DEMO_SOURCE, _demo_facts)


def _scenario(colour: str, now) -> dict:
    from epigrid.rules.facts import ContactStatus, HealthCheck

    if colour == "yellow":
        return {
            "health_check": HealthCheck(
                checked_at=now - timedelta(hours=2),
                temperature=36.8,
                symptoms=frozenset({"cough", "sore_throat"}),
            )
        }
    return {
        "contact": ContactStatus(
            kind="close",
            last_exposure=now - timedelta(days=3),
            identified_at=now - timedelta(days=1),
            under_observation=True,
        )
    }


def _person_with(colour: str, prefix: str):
    code = (
        HealthCode.objects.filter(colour=colour, division_code__startswith=prefix, revoked_at__isnull=True)
        .select_related("person")
        .order_by("created_at")
        .first()
    )
    return code.person if code else None


def demo_links(base_url: str, *, actor: Actor | None = None, prefix: str | None = None) -> dict:
    """{"green": url, "yellow": url, "red": url, "scanner": url} for the demo city."""
    from epigrid.healthcode import keys
    from epigrid.healthcode.services import ensure_code
    from epigrid.people.models import Person, Status
    from epigrid.people.services import create_private_link
    from epigrid.rules.services import reassess

    actor = actor or Actor.system("demo")
    # the first signing key, so the scanner has a published key before anyone opens a code
    keys.signer(actor=actor)
    prefix = prefix or getattr(settings, "EPIGRID_DEMO_CITY", "320583")
    base = base_url.rstrip("/")
    now = timezone.now()
    chosen: dict[str, object] = {}
    candidates = Person.objects.filter(status=Status.ACTIVE, division_code__startswith=prefix).order_by(
        "registered_at", "id"
    )
    for colour in ("green", "yellow", "red"):
        person = _person_with(colour, prefix)
        if person is None:
            taken = {p.pk for p in chosen.values()}
            person = next(p for p in candidates[:50] if p.pk not in taken)
            if colour != "green":
                _register()
                _SCENARIOS[str(person.pk)] = _scenario(colour, now)
                reassess(person, actor=actor, at=now, cause="demo")
            code = ensure_code(person, actor=actor)
            if code.colour != colour:
                raise RuntimeError(f"the demo person for {colour} came out {code.colour}")
        chosen[colour] = person
    links = {}
    for colour, person in chosen.items():
        token = create_private_link(actor=actor, person=person)
        links[colour] = base + reverse("healthcode:my_code", args=[token])
    links["scanner"] = base + reverse("healthcode:scan")
    return links
