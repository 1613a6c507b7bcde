"""Pages: 查轨迹 and co-location (R4.3, R5.5, JX57-3.5, NA182-2.5.3).

- the co-location search of an epidemiologist for an index person they may see, with the
  candidates to mark "to investigate" or dismissed and the marked list as a workbook;
- a person's trajectory (entries and checkpoint passes), as a page and as a panel of the
  staff person page, every view audited; and on the person's own status page, their own;
- triage at a medical institution: a health code scanned or pasted gives the holder's last
  14 days with venue names and cities, the name masked; audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from epigrid.accounts.access import scoped
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, visible_to
from epigrid.lib.errors import DomainError
from epigrid.lib.identity import mask_name
from epigrid.venues.colocation import DEFAULT_WINDOW
from epigrid.venues.models import CandidateStatus, ContactCandidate, EntryMethod, SeenColour
from epigrid.venues.services import candidates as candidate_service
from epigrid.venues.services import trace as trace_service

PANEL_STOPS = 8
SELF_DAYS = 14


def _language(request) -> str:
    return getattr(request, "LANGUAGE_CODE", "") or "zh-hans"


def _parse_local(value: str) -> datetime | None:
    """A `datetime-local` input's value, read as China time."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return timezone.make_aware(moment) if moment.tzinfo is None else moment


def _local_input(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _person(request, person_id):
    from epigrid.people.models import Person

    return get_visible_or_404(request.user, Person.objects.all(), pk=person_id)


def _stop_rows(stops, language: str) -> list[dict]:
    places = trace_service.place_names({s.division_code for s in stops}, language)
    colours = dict(SeenColour.choices)
    return [
        {
            "stop": s,
            "city": places.get(s.division_code, ""),
            "colour_label": colours.get(s.colour, "") if s.colour else "",
        }
        for s in stops
    ]


# --- co-location ----------------------------------------------------------------------------


def _search_params(data, now: datetime) -> dict:
    start = _parse_local(data.get("start", "")) or now - timedelta(days=SELF_DAYS)
    end = _parse_local(data.get("end", "")) or now
    window = data.get("window_minutes", "")
    return {"start": start, "end": end, "window_minutes": window}


@scoped(Perm.COLOCATION)
def colocation(request, person_id):
    """Search, results with checkboxes, and marking (POST re-runs the search, then marks)."""
    person = _person(request, person_id)
    now = timezone.now()
    data = request.POST if request.method == "POST" else request.GET
    params = _search_params(data, now)
    error = None
    result = None
    notice = ""
    searched = request.method == "POST" or "start" in request.GET
    if searched:
        try:
            result = trace_service.colocation_search(
                actor=Actor.from_request(request), person=person, at=now, **params
            )
            if request.method == "POST":
                marked = candidate_service.mark_candidates(
                    actor=Actor.from_request(request),
                    index_person=person,
                    result=result,
                    entry_ids=request.POST.getlist("entry"),
                    status=request.POST.get("status", ""),
                    at=now,
                )
                n = marked.created + marked.updated
                notice = ngettext("%(n)s candidate marked.", "%(n)s candidates marked.", n) % {"n": n}
        except DomainError as exc:
            error = exc
    rows = _candidate_rows(request, result, person) if result else []
    marked = list(candidate_service.candidates_of(person)[:500])
    visible = _visible_ids(request, [m.person_id for m in marked])
    return render(
        request,
        "venues/colocation.html",
        {
            "person": person,
            "start": _local_input(params["start"]),
            "end": _local_input(params["end"]),
            "window_minutes": params["window_minutes"],
            "default_window": int(DEFAULT_WINDOW.total_seconds() // 60),
            "error": error,
            "notice": notice,
            "searched": searched and error is None,
            "result": result,
            "rows": rows,
            "marked": [
                {"row": m, "name": m.person.name if m.person_id in visible else mask_name(m.person.name)}
                for m in marked
            ],
            "statuses": CandidateStatus.choices,
            "export_url": reverse("venues:colocation_export", args=[person.pk]),
            "trajectory_url": reverse("venues:trajectory", args=[person.pk]),
        },
    )


def _visible_ids(request, person_ids) -> set:
    """Of these people, those inside the user's scope: their names are shown in full, the
    others' masked (an epidemiologist of Kunshan finds visitors from everywhere)."""
    from epigrid.people.models import Person

    ids = list(set(person_ids))
    if not ids:
        return set()
    return set(visible_to(request.user, Person.objects.filter(pk__in=ids)).values_list("pk", flat=True))


def _candidate_rows(request, result, index_person) -> list[dict]:
    visible = _visible_ids(request, [c.person_id for c in result.candidates])
    marks = {
        (m.person_id, m.venue_id, m.entered_at): m.get_status_display()
        for m in ContactCandidate.objects.filter(index_person=index_person)
    }
    methods = dict(EntryMethod.choices)
    language = _language(request)
    rows = []
    for rank, candidate in enumerate(result.candidates, start=1):
        person = result.people.get(candidate.person_id)
        name = person.name if person else ""
        rows.append(
            {
                "rank": rank,
                "name": name if candidate.person_id in visible else mask_name(name),
                "in_scope": candidate.person_id in visible,
                "person_id": candidate.person_id,
                "total": candidate.overlap_minutes,
                "meetings": [
                    {
                        "m": m,
                        "venue": result.venues[m.venue_id].name,
                        "venue_type": result.venues[m.venue_id].type.label(language),
                        "method": methods.get(m.method, m.method),
                        "window": int(m.window.total_seconds() // 60),
                        "mark": marks.get((candidate.person_id, m.venue_id, m.entered_at), ""),
                    }
                    for m in candidate.meetings
                ],
            }
        )
    return rows


@scoped(Perm.COLOCATION)
def colocation_export(request, person_id):
    person = _person(request, person_id)
    marked = candidate_service.candidates_of(person).values_list("person_id", flat=True)
    content = candidate_service.export_candidates(
        actor=Actor.from_request(request),
        index_person=person,
        visible_ids=_visible_ids(request, list(marked)),
        language=_language(request),
    )
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="contact-candidates-{stamp}.xlsx"'
    return response


# --- trajectory -----------------------------------------------------------------------------


@scoped(Perm.TRAJECTORY)
def trajectory(request, person_id):
    person = _person(request, person_id)
    stops = trace_service.view_trajectory(
        actor=Actor.from_request(request), person=person, purpose="page", language=_language(request)
    )
    return render(
        request,
        "venues/trace_trajectory.html",
        {
            "person": person,
            "rows": _stop_rows(stops, _language(request)),
            "days": trace_service.retention_days(),
            "can_colocate": request.user.has_epigrid_perm(Perm.COLOCATION),
        },
    )


def person_panel(request, person):
    """The staff person page's 查轨迹 panel: the latest stops, audited like the page."""
    if not request.user.has_epigrid_perm(Perm.TRAJECTORY):
        return None
    stops = trace_service.view_trajectory(
        actor=Actor.from_request(request), person=person, purpose="person page", language=_language(request)
    )
    return (
        "venues/trace_panel.html",
        {
            "rows": _stop_rows(stops[:PANEL_STOPS], _language(request)),
            "total": len(stops),
            "url": reverse("venues:trajectory", args=[person.pk]),
            "colocation_url": (
                reverse("venues:colocation", args=[person.pk])
                if request.user.has_epigrid_perm(Perm.COLOCATION)
                else ""
            ),
        },
    )


def self_panel(request, person):
    """On the person's own status page: where they were recorded in the last 14 days (their
    own, nobody else's), so they can tell a wrong record when they see one."""
    now = timezone.now()
    stops = trace_service.trajectory(
        person.pk, now - timedelta(days=SELF_DAYS), now + timedelta(minutes=5), language=_language(request)
    )
    if not stops:
        return None
    return ("venues/trace_self_panel.html", {"rows": _stop_rows(stops[:50], _language(request))})


# --- triage ---------------------------------------------------------------------------------


def _holder_of(token: str, now: datetime):
    """The person whose health code this is, when the code verifies and is ours; else a
    DomainError whose message the nurse reads."""
    from epigrid.healthcode import tokens
    from epigrid.healthcode.keys import cached_trust_list, issuer
    from epigrid.healthcode.labels import REASONS, lang
    from epigrid.healthcode.models import HealthCode

    checked = tokens.verify(token.strip(), cached_trust_list(), now)
    if not checked.valid:
        raise DomainError("code_" + checked.reason.value, REASONS[checked.reason.value][lang()], "token")
    if checked.issuer != issuer():
        raise DomainError(
            "code_foreign", _("This code was issued elsewhere: its trajectory is not kept here."), "token"
        )
    import uuid

    code = (
        HealthCode.objects.filter(code_id=uuid.UUID(bytes=checked.code_id)).select_related("person").first()
    )
    if code is None:
        raise DomainError("code_unknown", _("No person holds this code here."), "token")
    return code.person, checked


@scoped(Perm.TRAJECTORY)
def triage(request):
    """预检分诊: the nurse scans or pastes the code; the holder's last 14 days come back."""
    error = None
    holder = None
    rows = []
    if request.method == "POST":
        now = timezone.now()
        try:
            person, checked = _holder_of(request.POST.get("token", ""), now)
            stops = trace_service.view_trajectory(
                actor=Actor.from_request(request),
                person=person,
                since=now - timedelta(days=trace_service.TRIAGE_DAYS),
                purpose="triage",
                language=_language(request),
                at=now,
            )
            holder = {"name": mask_name(person.name), "colour": checked.colour}
            rows = _stop_rows(stops, _language(request))
        except DomainError as exc:
            error = exc
    return render(
        request,
        "venues/trace_triage.html",
        {
            "error": error,
            "holder": holder,
            "colour_label": dict(SeenColour.choices).get(holder["colour"], "") if holder else "",
            "rows": rows,
            "days": trace_service.TRIAGE_DAYS,
        },
    )


urlpatterns = [
    path("trace/colocation/<uuid:person_id>/", colocation, name="colocation"),
    path("trace/colocation/<uuid:person_id>/export.xlsx", colocation_export, name="colocation_export"),
    path("trace/trajectory/<uuid:person_id>/", trajectory, name="trajectory"),
    path("trace/triage/", triage, name="triage"),
]
