"""Risk-area pages (R3.1, R10.5): the public list, and for staff the drafts, edits, imports and
history. Publishing a change goes through the what-if preview of the rules app
(`rules:risk_preview`), which this app only links to: it never imports the rules."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core import signing
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from epigrid.accounts.access import public, scoped
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import scope_of
from epigrid.declarations import places
from epigrid.lib.errors import DomainError
from epigrid.regions import risk_scope
from epigrid.regions.models import Division, Level, RiskArea, RiskAreaStatus, RiskLevel
from epigrid.regions.services import queries, risk, risk_import

IMPORT_SALT = "epigrid.regions.risk-import"
IMPORT_MAX_AGE = 3600
PUBLIC_RATE = "60/m"


class RiskAreaForm(forms.Form):
    # chosen with the declarations' division picker (`_place.html`); without JavaScript it is a
    # text field that takes a code or the name of a province, city, county or country
    area = forms.CharField(
        label=gettext_lazy("Area"),
        max_length=64,
        help_text=gettext_lazy(
            "Choose the province, city, county, town or community, or a country; "
            "or type its GB/T 2260 code (420100) or country code (US)."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "place-text"}),
    )
    area_name = forms.CharField(
        label=gettext_lazy("Name (for towns and communities not on record here)"),
        max_length=128,
        required=False,
    )
    level = forms.ChoiceField(label=gettext_lazy("List"), choices=RiskLevel.choices)
    starts_on = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    notice = forms.CharField(label=gettext_lazy("Notice"), max_length=255)

    def clean_area(self) -> str:
        value = self.cleaned_data["area"].strip()
        code = risk.normalise_area(value)
        if not value or code.isdigit() or (code.isascii() and code.isalpha() and len(code) == 2):
            return code
        try:
            return places.national_index().resolve(value)
        except places.PlaceError as exc:
            raise forms.ValidationError(exc.message) from exc

    def input(self) -> risk.RiskAreaInput:
        data = self.cleaned_data
        return risk.RiskAreaInput(
            area=data["area"],
            level=data["level"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            notice=data["notice"],
            area_name=data["area_name"],
        )


def _picker(user) -> dict:
    """Where the area picker starts: a province-wide user picks anywhere and abroad; anyone else
    from the division above their jurisdiction, so their own county (or city, town) is a choice
    and its towns and communities below it."""
    prefixes = sorted(scope_of(user).prefixes, key=len)
    if not prefixes or len(prefixes[0]) <= risk_scope.PROVINCE:
        return {"root": "", "depth": 5, "countries": True}
    own = Division.objects.filter(code=prefixes[0].ljust(6, "0")).first()
    if own is None or own.parent_id is None:
        return {"root": "", "depth": 5, "countries": False}
    return {"root": own.parent_id, "depth": Level.COMMUNITY - own.level + 1, "countries": False}


def _form_page(request, form, title, row=None):
    picker = _picker(request.user)
    if not picker["countries"]:
        form.fields["area"].help_text = _(
            "Choose the county, town or community inside your jurisdiction, or type its GB/T 2260 code."
        )
    language = translation.get_language() or "zh-hans"
    return render(
        request,
        "regions/risk_form.html",
        {
            "form": form,
            "title": title,
            "row": row,
            "picker": picker,
            "countries": places.country_choices(language) if picker["countries"] else [],
        },
    )


def _apply_error(form: forms.Form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _label(rows, language: str) -> list:
    names = queries.area_names(rows)
    for row in rows:
        name = names[row.area]
        row.display_name = name.for_language(language)
        row.name_zh, row.name_en = name.path_zh, name.path_en
        row.division_level = name.level
    return rows


# --- the public page ----------------------------------------------------------------------


def _level_groups(rows, language: str) -> list[dict]:
    _label(rows, language)
    groups = []
    for level in queries.LEVEL_ORDER:
        members = [r for r in rows if r.level == level]
        if not members:
            continue
        by_level: dict[str, list] = {}
        for row in members:
            by_level.setdefault(row.division_level or 0, []).append(row)
        groups.append(
            {
                "level": level,
                "label": RiskLevel(level).label,
                "count": len(members),
                # provinces first, then cities, counties, towns, communities; countries last
                "by_division_level": [
                    (_division_level_label(k or None), by_level[k])
                    for k in sorted(by_level, key=lambda k: k or 99)
                ],
            }
        )
    return groups


def _division_level_label(level) -> str:
    if level is None:
        return str(_("Countries"))
    return str(Level(level).label)


@public
@never_cache
@ratelimit(key="ip", rate=PUBLIC_RATE, block=True)
def public_list(request):
    """The medium/high-risk and key areas in force today, and the changes of the last two weeks,
    with names in Chinese and English; no sign-in (R10.5)."""
    language = request.GET.get("lang")
    if language in ("zh-hans", "en"):
        translation.activate(language)
        request.LANGUAGE_CODE = language
    language = translation.get_language() or "zh-hans"
    now = timezone.now()
    today = timezone.localdate(now)
    current = list(queries.in_force_on(today).order_by("level", "area"))
    upcoming = list(queries.upcoming_on(today).order_by("starts_on", "area"))
    changes = queries.recent_changes(now - timedelta(days=14), now)
    _label(upcoming + [c.row for c in changes], language)
    return render(
        request,
        "regions/risk_public.html",
        {
            "groups": _level_groups(current, language),
            "total": len(current),
            "upcoming": upcoming,
            "changes": changes,
            "today": today,
            "language": language,
        },
    )


# --- staff pages --------------------------------------------------------------------------


def _reachable_row(request, row_id, statuses=None) -> RiskArea:
    """A listing of the user's reach, else 404 (`risk_scope`)."""
    rows = RiskArea.objects.filter(pk=row_id)
    if statuses:
        rows = rows.filter(status__in=statuses)
    row = risk_scope.reachable(request.user, rows).first()
    if row is None:
        raise Http404
    return row


@scoped(Perm.RISK_EDIT)
def manage(request):
    language = request.LANGUAGE_CODE
    drafts = _label(queries.drafts(request.user), language)
    published = _label(queries.published_rows(), language)
    # the published list is public; only listings of one's own jurisdiction are changed here
    listed = RiskArea.objects.filter(status=RiskAreaStatus.PUBLISHED)
    mine = set(risk_scope.reachable(request.user, listed).values_list("pk", flat=True))
    for row in published:
        row.reachable = row.pk in mine
    return render(
        request,
        "regions/risk_manage.html",
        {
            "drafts": drafts,
            "published": published,
            "can_publish": request.user.has_epigrid_perm(Perm.RULES_PUBLISH),
            "can_decide": request.user.has_epigrid_perm(Perm.RISK_PUBLISH),
            "today": timezone.localdate(),
        },
    )


@scoped(Perm.RISK_EDIT)
def new(request):
    form = RiskAreaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            risk.create_draft(actor=Actor.from_request(request), data=form.input())
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("The draft was saved. Preview and publish it from the list."))
            return redirect("regions:risk_manage")
    return _form_page(request, form, _("New listing"))


@scoped(Perm.RISK_EDIT)
def edit(request, row_id):
    row = _reachable_row(request, row_id, (RiskAreaStatus.DRAFT, RiskAreaStatus.PUBLISHED))
    initial = {
        "area": row.area,
        "area_name": row.area_name,
        "level": row.level,
        "starts_on": row.starts_on,
        "ends_on": row.ends_on,
        "notice": row.notice,
    }
    form = RiskAreaForm(request.POST or None, initial=initial)
    if row.status == RiskAreaStatus.PUBLISHED:
        # a change keeps the area and the list; withdrawing is a separate decision
        form.fields["area"].disabled = True
        form.fields["level"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            risk.edit_listing(actor=Actor.from_request(request), row=row, data=form.input())
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("The change was saved as a draft."))
            return redirect("regions:risk_manage")
    title = _("Edit draft") if row.status == RiskAreaStatus.DRAFT else _("Change a published listing")
    _label([row], request.LANGUAGE_CODE)
    return _form_page(request, form, title, row)


@scoped(Perm.RISK_EDIT)
@require_POST
def discard(request, row_id):
    row = _reachable_row(request, row_id)
    try:
        risk.discard_draft(actor=Actor.from_request(request), draft=row)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The draft was discarded."))
    return redirect("regions:risk_manage")


@scoped(Perm.RISK_EDIT)
def history(request, area):
    rows = queries.history_of(area, request.user)
    if not rows:
        raise Http404
    _label(rows, request.LANGUAGE_CODE)
    return render(request, "regions/risk_history.html", {"rows": rows, "area": rows[0]})


@scoped(Perm.RISK_EDIT)
def import_file(request):
    """Two phases: upload → every row checked, errors by row and column, what each row would do;
    confirm → the drafts are created in one transaction."""
    context: dict = {"max_rows": risk_import.MAX_IMPORT_ROWS}
    if request.method == "POST" and request.POST.get("confirm"):
        try:
            rows = signing.loads(request.POST.get("payload", ""), salt=IMPORT_SALT, max_age=IMPORT_MAX_AGE)
        except signing.BadSignature:
            messages.error(request, _("The checked import expired; upload the file again."))
            return redirect("regions:risk_import")
        try:
            created = risk_import.commit_import(actor=Actor.from_request(request), rows=rows)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("regions:risk_import")
        messages.success(request, _("%(n)d draft listings were created.") % {"n": len(created)})
        return redirect("regions:risk_manage")
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = _("Choose a CSV or XLSX file.")
        else:
            try:
                parsed = risk_import.parse_import(
                    upload.name, upload.read(risk_import.MAX_IMPORT_BYTES + 1), user=request.user
                )
            except DomainError as exc:
                context["error"] = exc.message
            else:
                context["parsed"] = parsed
                context["file_name"] = upload.name
                if parsed.ok:
                    context["payload"] = signing.dumps(parsed.payload(), salt=IMPORT_SALT, compress=True)
    return render(request, "regions/risk_import.html", context)
