"""Whose facts a declaration may change (R2.1, R2.5, issue 10.3).

A declaration names its person by a document number, and the number finds the registry's record.
But a number can be mistyped or someone else's: so what was said with it is a claim about that
record, and it counts at once only when it cannot be a claim about a stranger.

- On the public page the declarer speaks for themselves: the claim counts when the name and the
  phone agree with the record; otherwise the community where the arrival stays checks it.
- Staff speak for others. Their claim counts at once only for a person in their own scope
  (`visible_to`: their divisions, their units' rosters) whose record agrees with what they
  typed. A mismatch inside their scope is checked where the arrival stays, as on the public
  page. A person outside their scope is never changed by them alone: the claim waits for the
  person's own community, which knows them, and nothing of the record is shown to the staff
  member who made it.
"""

from epigrid.accounts.scoping import visible_to
from epigrid.lib import identity
from epigrid.people import services as people
from epigrid.people.models import Person


def same_name(a: str, b: str) -> bool:
    """Names compare without spaces and case (`Li Na` = `LI NA`, `李 娜` = `李娜`)."""
    return "".join((a or "").split()).upper() == "".join((b or "").split()).upper()


def identity_matches(person: Person, name: str, phone: str = "") -> bool:
    """What was given with a document number agrees with the registry's record of it: the same
    name, and the same phone when both the record and the declaration have one. A phone that is
    no phone number agrees with nothing."""
    if not same_name(person.name, name):
        return False
    if not phone or not person.phone_bidx:
        return True
    try:
        normalised = identity.normalise_phone(phone)
    except identity.InvalidIdentity:
        return False
    return person.phone_bidx == people.phone_index(normalised)


def reaches(user, person: Person) -> bool:
    """The user may see (and so change) this person."""
    return user is not None and visible_to(user, Person.objects.filter(pk=person.pk)).exists()


def checked_in(user, person: Person, *, name: str, phone: str, destination: str) -> str | None:
    """Where a staff member's claim about `person` must be checked before it counts: None when it
    counts at once, the person's own division when the person is outside the user's scope, the
    destination when the details given disagree with the record."""
    if not reaches(user, person):
        return person.division_code
    if not identity_matches(person, name, phone):
        return destination
    return None


def visible_person_ids(user, person_ids) -> set:
    """Of these persons, the ones the user may see, in one query: pages and API responses name a
    declaration's person only to those."""
    ids = {pid for pid in person_ids if pid}
    if not ids or user is None:
        return set()
    return set(visible_to(user, Person.objects.filter(pk__in=ids)).values_list("pk", flat=True))
