"""Pages of road checkpoints (R5.2, R5.3): the list and a checkpoint's day (vehicles, people,
refused, fevers), its shifts, and the record page a checkpoint's staff use on a phone in a
queue of cars: plate, origin, route, then each person (health code scanned, or the ID number
typed), the documents shown as big toggles and the temperature. The answer shows per person a
colour, a masked name, admitted or refused and what the rules ask, with the clause in words:
never an ID number."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epigrid.accounts.access import scoped
from epigrid.accounts.audit import Actor
from epigrid.accounts.models import User
from epigrid.accounts.roles import Perm
from epigrid.lib.chinatime import start_of_day
from epigrid.lib.errors import DomainError, each_error
from epigrid.venues import gate
from epigrid.venues.models import Checkpoint, CheckpointKind, Document, Occupant, SeenColour, VehiclePass
from epigrid.venues.services import checkpoints as service

# the threshold every shipped pack uses, for the day's counts
FEVER = Decimal("37.3")
OCCUPANT_KEY = re.compile(r"^occ-(\d{1,2})-")
RECENT = 30


def _perms(request) -> frozenset:
    return request.user.permissions


def _may_manage(request) -> bool:
    return Perm.CHECKPOINTS_MANAGE in _perms(request)


def _checkpoints_for(request):
    return service.visible_checkpoints(request.user)


def _checkpoint_or_404(request, checkpoint_id) -> Checkpoint:
    checkpoint = _checkpoints_for(request).filter(pk=checkpoint_id).first()
    if checkpoint is None:
        raise Http404
    return checkpoint


def _today_counts(checkpoint_ids) -> dict:
    since = start_of_day(timezone.localdate())
    counts = {pk: {"vehicles": 0, "people": 0, "refused": 0, "fevers": 0} for pk in checkpoint_ids}
    for row in (
        VehiclePass.objects.filter(checkpoint_id__in=checkpoint_ids, passed_at__gte=since)
        .values("checkpoint_id")
        .annotate(n=Count("id"))
    ):
        counts[row["checkpoint_id"]]["vehicles"] = row["n"]
    for row in (
        Occupant.objects.filter(vehicle__checkpoint_id__in=checkpoint_ids, passed_at__gte=since)
        .values("vehicle__checkpoint_id")
        .annotate(
            n=Count("id"),
            refused=Count("id", filter=Q(admitted=False)),
            fevers=Count("id", filter=Q(temperature__gte=FEVER)),
        )
    ):
        counts[row["vehicle__checkpoint_id"]].update(
            people=row["n"], refused=row["refused"], fevers=row["fevers"]
        )
    return counts


def _require_checkpoint_role(request) -> None:
    if not _perms(request) & {Perm.CHECKPOINTS_MANAGE, Perm.CHECKPOINT_RECORD}:
        raise PermissionDenied


@scoped()
def checkpoint_list(request):
    _require_checkpoint_role(request)
    checkpoints = list(_checkpoints_for(request).order_by("division_code", "name")[:200])
    counts = _today_counts([c.pk for c in checkpoints])
    for checkpoint in checkpoints:
        checkpoint.today = counts[checkpoint.pk]
    return render(
        request,
        "venues/checkpoints.html",
        {
            "checkpoints": checkpoints,
            "may_manage": _may_manage(request),
            "kinds": CheckpointKind.choices,
            "divisions": _checkpoint_divisions(request.user) if _may_manage(request) else [],
            "form": request.session.pop("checkpoint_form", {}),
        },
    )


def _checkpoint_divisions(user) -> list[tuple[str, str]]:
    from epigrid.regions.models import Level
    from epigrid.venues.web.registry import division_choices

    return division_choices(user, levels=[Level.TOWN, Level.COMMUNITY])


@scoped(Perm.CHECKPOINTS_MANAGE)
@require_POST
def checkpoint_create(request):
    data = service.CheckpointInput(
        name=request.POST.get("name", ""),
        kind=request.POST.get("kind", ""),
        division_code=request.POST.get("division_code", "").strip(),
        road=request.POST.get("road", ""),
        direction=request.POST.get("direction", ""),
    )
    try:
        checkpoint = service.create_checkpoint(actor=Actor.from_request(request), data=data)
    except DomainError as exc:
        for error in each_error(exc):
            messages.error(request, error.message)
        return redirect("venues:checkpoints")
    return redirect("venues:checkpoint", checkpoint_id=checkpoint.pk)


def _shifts(checkpoint, now):
    shifts = list(
        checkpoint.shifts.filter(ends_at__gte=now - timedelta(hours=12))
        .prefetch_related("staff")
        .order_by("starts_at")[:20]
    )
    for shift in shifts:
        shift.on_duty = shift.starts_at <= now < shift.ends_at
    return shifts


@scoped()
def checkpoint_detail(request, checkpoint_id):
    _require_checkpoint_role(request)
    checkpoint = _checkpoint_or_404(request, checkpoint_id)
    now = timezone.now()
    return render(
        request,
        "venues/checkpoint_detail.html",
        {
            "checkpoint": checkpoint,
            "today": _today_counts([checkpoint.pk])[checkpoint.pk],
            "shifts": _shifts(checkpoint, now),
            "may_manage": _may_manage(request),
            "passes": _recent(checkpoint, service.shift_at(checkpoint, now, request.user)),
            "default_start": timezone.localtime(now).strftime("%Y-%m-%dT%H:00"),
            "default_end": timezone.localtime(now + timedelta(hours=8)).strftime("%Y-%m-%dT%H:00"),
        },
    )


def _local_time(text: str) -> datetime | None:
    try:
        return timezone.make_aware(datetime.fromisoformat(text))
    except (ValueError, TypeError):
        return None


@scoped(Perm.CHECKPOINTS_MANAGE)
@require_POST
def shift_open(request, checkpoint_id):
    checkpoint = _checkpoint_or_404(request, checkpoint_id)
    names = [n for n in re.split(r"[\s,，、]+", request.POST.get("staff", "")) if n]
    staff = list(User.objects.filter(username__in=names, is_active=True))
    starts, ends = (
        _local_time(request.POST.get("starts_at", "")),
        _local_time(request.POST.get("ends_at", "")),
    )
    if len(staff) != len(set(names)):
        messages.error(request, _("Some of these accounts do not exist."))
    elif starts is None or ends is None:
        messages.error(request, _("Give the shift's start and end."))
    else:
        try:
            service.open_shift(
                actor=Actor.from_request(request),
                checkpoint=checkpoint,
                starts_at=starts,
                ends_at=ends,
                staff=staff,
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("The shift is open."))
        except DomainError as exc:
            for error in each_error(exc):
                messages.error(request, error.message)
    return redirect("venues:checkpoint", checkpoint_id=checkpoint.pk)


def _recent(checkpoint, shift):
    """The latest vehicles of the shift on duty (of the day when none is): counts, no names."""
    qs = VehiclePass.objects.filter(checkpoint=checkpoint)
    if shift is not None:
        qs = qs.filter(shift=shift)
    else:
        qs = qs.filter(passed_at__gte=start_of_day(timezone.localdate()))
    passes = list(qs.order_by("-passed_at").prefetch_related("occupants")[:RECENT])
    for vehicle in passes:
        people = list(vehicle.occupants.all())
        vehicle.people = len(people)
        vehicle.refused = sum(1 for o in people if not o.admitted)
        vehicle.fevers = sum(1 for o in people if o.temperature is not None and o.temperature >= FEVER)
        statuses = {_status(o.admitted, [a for s in o.actions for a in s["actions"]]) for o in people}
        vehicle.status = next((s for s in ("refused", "held") if s in statuses), "admitted")
    return passes


# --- the record page ----------------------------------------------------------------------


def _origins(checkpoint, language: str) -> list[tuple[str, str]]:
    """Where a vehicle may come from and where a person may live: provinces and prefectures,
    then the county around the checkpoint with its towns and communities, as (code, full
    name): the page offers the names and the server maps them back, so no code shows."""
    from epigrid.regions.models import Division

    county = checkpoint.division_code[:6]
    rows = list(
        Division.objects.filter(Q(level__lte=2) | Q(code__startswith=county, level__in=[3, 4, 5]))
        .order_by("code")
        .only("code", "name_zh", "name_en", "level")[:2000]
    )
    names = {d.code: d.name_for(language) for d in rows}
    separator = "" if language.startswith("zh") else ", "
    out = []
    for d in rows:
        parents = [d.code[:2] + "0000", d.code[:4] + "00", d.code[:6], d.code[:9], d.code[:12]]
        chain = [
            names[p] for p in dict.fromkeys(parents) if p in names and p != d.code and len(p) <= len(d.code)
        ]
        parts = chain + [names[d.code]]
        if not language.startswith("zh"):
            parts.reverse()
        out.append((d.code, separator.join(dict.fromkeys(parts))))
    return out


def _division_code(text: str, known: dict[str, str]) -> tuple[str, str]:
    """A datalist answer: a full name from the list (or a code, from a script); else the
    text as typed, kept as free text. Returns (code, free text)."""
    text = (text or "").strip()
    if not text:
        return "", ""
    if text in known:
        return text, ""
    by_name = {name: code for code, name in known.items()}
    if text in by_name:
        return by_name[text], ""
    return "", text[:128]


def _occupant_forms(post) -> list[dict]:
    indexes = sorted({int(m.group(1)) for key in post for m in [OCCUPANT_KEY.match(key)] if m})
    forms = []
    for n in indexes:

        def value(name, n=n):
            return post.get(f"occ-{n}-{name}", "").strip()

        form = {
            "n": n,
            "token": value("token"),
            "document_number": value("document_number"),
            "name": value("name"),
            "residence": value("residence"),
            "temperature": value("temperature"),
            "documents": [d for d in post.getlist(f"occ-{n}-documents") if d in Document.values],
            "is_driver": bool(value("is_driver")),
            "errors": [],
        }
        if any(form[k] for k in ("token", "document_number", "name", "temperature")):
            forms.append(form)
    return forms


def _status(admitted: bool, actions) -> str:
    """refused, held (waiting for the transfer or the ambulance) or admitted."""
    if not admitted:
        return "refused"
    return "held" if gate.HOLD_ACTIONS & set(actions) else "admitted"


def _answer_rows(result, language: str) -> list[dict]:
    from epigrid.rules.clause_words import clauses_text

    rows = []
    for occupant in result.occupants:
        rows.append(
            {
                "colour": occupant.colour,
                "colour_label": SeenColour(occupant.colour).label
                if occupant.colour in SeenColour.values
                else "",
                "holder": occupant.holder,
                "registered": occupant.registered,
                "admitted": occupant.admitted,
                "status": _status(occupant.admitted, occupant.actions),
                "fever": occupant.fever,
                "hubei": occupant.hubei_related,
                "actions": [gate.action_label(a, language) for a in occupant.actions],
                "steps": [
                    {
                        "reason": step["zh-hans"] if language.startswith("zh") else step["en"],
                        "clauses": clauses_text(step["requirements"], language),
                    }
                    for step in occupant.steps
                ],
            }
        )
    return rows


@scoped()
def record(request, checkpoint_id):
    _require_checkpoint_role(request)
    checkpoint = _checkpoint_or_404(request, checkpoint_id)
    language = "zh-hans" if request.LANGUAGE_CODE.startswith("zh") else "en"
    origins = _origins(checkpoint, language)
    known = dict(origins)
    context = {
        "checkpoint": checkpoint,
        "origins": origins,
        "documents": Document.choices,
        "form": {"plate": "", "origin": "", "route": ""},
        "occupants": [{"n": 0, "documents": [], "is_driver": True, "errors": []}],
        "errors": [],
        "answer": None,
        "trust_url": reverse("healthcode:trust"),
        "passes": _recent(checkpoint, service.shift_at(checkpoint, timezone.now(), request.user)),
        "camera_available": _scanner_library_installed(),
    }
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip() for k in ("plate", "origin", "route")}
        forms = _occupant_forms(request.POST)
        origin_code, origin_text = _division_code(form["origin"], known)
        item = service.VehicleInput(
            checkpoint_id=checkpoint.pk,
            passed_at=timezone.now(),
            plate=form["plate"],
            origin_code=origin_code,
            origin_text=origin_text,
            route=form["route"],
            occupants=[
                service.OccupantInput(
                    temperature=f["temperature"] or None,
                    documents=tuple(f["documents"]),
                    token=f["token"],
                    document_number=f["document_number"],
                    name=f["name"],
                    residence_code=_division_code(f["residence"], known)[0],
                    is_driver=f["is_driver"],
                )
                for f in forms
            ],
        )
        try:
            result = service.record_vehicle(actor=Actor.from_request(request), item=item)
        except DomainError as exc:
            for error in each_error(exc):
                match = re.match(r"^occupants\[(\d+)\]\.", error.field or "")
                if match and int(match.group(1)) < len(forms):
                    forms[int(match.group(1))]["errors"].append(error.message)
                else:
                    context["errors"].append(error.message)
            context.update(form=form, occupants=forms or context["occupants"])
            return render(request, "venues/checkpoint_record.html", context, status=400)
        rows = _answer_rows(result, language)
        statuses = {r["status"] for r in rows}
        context["passes"] = _recent(checkpoint, service.shift_at(checkpoint, timezone.now(), request.user))
        context["answer"] = {
            "plate": result.plate,
            "status": next(s for s in ("refused", "held", "admitted") if s in statuses),
            "rows": rows,
        }
    return render(request, "venues/checkpoint_record.html", context)


def _scanner_library_installed() -> bool:
    from django.contrib.staticfiles import finders

    return finders.find("healthcode/vendor/jsQR.js") is not None


app_urls = [
    path("checkpoints/", checkpoint_list, name="checkpoints"),
    path("checkpoints/new", checkpoint_create, name="checkpoint_create"),
    path("checkpoints/<uuid:checkpoint_id>/", checkpoint_detail, name="checkpoint"),
    path("checkpoints/<uuid:checkpoint_id>/shifts", shift_open, name="checkpoint_shift"),
    path("checkpoints/<uuid:checkpoint_id>/record", record, name="checkpoint_record"),
]
urlpatterns: list = app_urls
