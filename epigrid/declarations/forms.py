"""Forms of the declaration pages (public and staff), the checks on the ground, pushed lists and
tips. Forms read and convert input; the services decide (and name the field in error)."""

from datetime import date, datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from epigrid.declarations import places
from epigrid.declarations.models import CodeColour, Kind, ListSource, Outcome, Purpose, Transport
from epigrid.declarations.services import DeclarationInput, FoundDetails, IdentityInput, StopInput, TipInput
from epigrid.people.models import DocumentType
from epigrid.rules import facts as rf

DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]

SYMPTOM_CHOICES = [
    ("fever", _("fever")),
    ("cough", _("cough")),
    ("sore_throat", _("sore throat")),
    ("dyspnoea", _("shortness of breath")),
    ("fatigue", _("fatigue")),
    ("diarrhoea", _("diarrhoea")),
    ("loss_of_taste_or_smell", _("loss of taste or smell")),
]
assert {c for c, _label in SYMPTOM_CHOICES} == rf.SYMPTOMS


def _datetime_field(label, required=False, help_text=""):
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=DATETIME_INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=help_text,
    )


def _date_field(label, required=False):
    return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}))


def _place_field(label, required=False, help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=64,
        help_text=help_text,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "place-text"}),
    )


def _community_field(label):
    """A community or grid cell typed in (the page's place picker completes it)."""
    return forms.CharField(
        label=label,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "place-text"}),
    )


def _address_field():
    return forms.CharField(label=_("Address (street, building, room)"), max_length=255)


def _resolved_place(form: forms.Form, name: str, text: str | None) -> str:
    """The code of the place typed in field `name`, "" when empty; a place not found is the
    field's error."""
    text = (text or "").strip()
    if not text:
        return ""
    try:
        return places.national_index().resolve(text)
    except places.PlaceError as exc:
        form.add_error(name, exc.message)
        return ""


class IdentityForm(forms.Form):
    """Who the declaration is for, when they are not picked from the registry."""

    name = forms.CharField(label=_("Full name"), max_length=64)
    doc_type = forms.ChoiceField(
        label=_("Document type"), choices=DocumentType.choices, initial=DocumentType.RESIDENT_ID
    )
    id_number = forms.CharField(
        label=_("Document number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=24,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )

    def __init__(self, *args, phone_required=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].required = phone_required

    def to_input(self) -> IdentityInput:
        d = self.cleaned_data
        return IdentityInput(
            doc_type=d["doc_type"], id_number=d["id_number"], name=d["name"], phone=d["phone"]
        )

    def partial_input(self) -> IdentityInput:
        """What could be read of an invalid form, for the service's checks on the rest."""
        d = getattr(self, "cleaned_data", {})
        return IdentityInput(
            doc_type=d.get("doc_type") or "",
            id_number=d.get("id_number") or "",
            name=d.get("name") or "",
            phone=d.get("phone") or "",
        )


class DeclarationForm(forms.Form):
    """One form for arrivals and departures; the page shows the part of the chosen kind."""

    kind = forms.ChoiceField(
        label=_("I am declaring"),
        choices=[(Kind.ARRIVAL, _("an arrival here")), (Kind.DEPARTURE, _("a departure for a trip"))],
        initial=Kind.ARRIVAL,
        widget=forms.RadioSelect,
    )
    # arrival
    arrived_at = _datetime_field(_("Arrival time"), help_text=_("You may declare up to 30 days ahead."))
    transport = forms.ChoiceField(
        label=_("Transport"), required=False, choices=[("", "—")] + Transport.choices
    )
    transport_number = forms.CharField(
        label=_("Flight, train or plate number"), max_length=32, required=False
    )
    origin_abroad = forms.BooleanField(label=_("I came from another country"), required=False)
    origin = _place_field(
        _("Where you came from"),
        help_text=_("Province, city or county. Hong Kong, Macao and Taiwan are among the provinces."),
    )
    origin_country = forms.ChoiceField(label=_("Country you came from"), required=False)
    purpose = forms.ChoiceField(label=_("Purpose"), required=False, choices=[("", "—")] + Purpose.choices)
    declared_stay_days = forms.IntegerField(
        label=_("Days you will stay"), min_value=0, max_value=366, required=False
    )
    host_name = forms.CharField(label=_("Receiving unit, if any"), max_length=128, required=False)
    host_unit_id = forms.ChoiceField(label=_("Host unit"), required=False)
    point_to_point_hosting = forms.BooleanField(
        label=_("The host unit arranges point-to-point transport and reception"), required=False
    )
    from_abroad = forms.BooleanField(
        label=_("I entered China from abroad within the last 14 days"), required=False
    )
    entered_country_at = _datetime_field(_("When you entered China"))
    entry_port = _place_field(_("First entry point (city)"))
    isolated_at_first_entry = forms.ChoiceField(
        label=_("Did you complete centralized isolation at the first entry point?"),
        required=False,
        choices=[("", _("not yet / not applicable")), ("yes", _("yes, completed")), ("no", _("no"))],
    )
    temperature = forms.DecimalField(
        label=_("Body temperature (°C)"),
        required=False,
        max_digits=3,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    symptoms = forms.MultipleChoiceField(
        label=_("Symptoms"), required=False, choices=SYMPTOM_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    health_code_colour = forms.ChoiceField(
        label=_("Health code you hold from another region"),
        required=False,
        choices=[("", _("none"))] + CodeColour.choices,
    )
    health_code_issuer = _place_field(_("Region that issued it"))
    # where
    division_code = _community_field(_("Community or grid cell where you stay"))
    address = _address_field()
    # departure
    departs_at = _datetime_field(_("Departure time"))
    travel_to = _place_field(_("Going to"))
    travel_to_country = forms.ChoiceField(label=_("Country or region"), required=False)
    expected_return_on = _date_field(_("Expected return"))

    def __init__(
        self, *args, language="zh-hans", division_choices=None, host_units=None, public=True, **kwargs
    ):
        super().__init__(*args, **kwargs)
        countries = [("", "—")] + places.country_choices(language)
        self.fields["origin_country"].choices = countries
        self.fields["travel_to_country"].choices = countries
        self.public = public
        if division_choices:
            self.fields["division_code"] = forms.ChoiceField(
                label=self.fields["division_code"].label, choices=division_choices
            )
        if host_units:
            self.fields["host_unit_id"].choices = [("", "—")] + host_units
        else:
            del self.fields["host_unit_id"]
            del self.fields["point_to_point_hosting"]
        if not public:
            self.fields["address"].required = False

    def clean(self):
        d = super().clean()
        kind = d.get("kind") or Kind.ARRIVAL
        if kind == Kind.ARRIVAL:
            if d.get("origin_abroad"):
                d["origin_code"] = d.get("origin_country") or ""
                if not d["origin_code"]:
                    self.add_error("origin_country", _("Choose the country or region."))
            else:
                d["origin_code"] = _resolved_place(self, "origin", d.get("origin"))
                if not d.get("origin") and "origin" not in self.errors:
                    self.add_error("origin", _("Give the place you came from."))
            d["entry_port_code"] = _resolved_place(self, "entry_port", d.get("entry_port"))
            d["issuer_code"] = _resolved_place(self, "health_code_issuer", d.get("health_code_issuer"))
            if not d.get("arrived_at") and "arrived_at" not in self.errors:
                self.add_error("arrived_at", _("Give the arrival time."))
        else:
            d["travel_to_code"] = d.get("travel_to_country") or _resolved_place(
                self, "travel_to", d.get("travel_to")
            )
            if not d["travel_to_code"] and "travel_to" not in self.errors:
                self.add_error("travel_to", _("Say where you are going."))
            if not d.get("departs_at") and "departs_at" not in self.errors:
                self.add_error("departs_at", _("Give the departure time."))
        _resolve_division(self, d, _("Choose your community and grid cell from the lists."))
        return d

    def to_input(self, stops: list[StopInput]) -> DeclarationInput:
        d = self.cleaned_data
        isolated = {"yes": True, "no": False}.get(d.get("isolated_at_first_entry") or "")
        host = d.get("host_unit_id") or None
        if d.get("kind") == Kind.DEPARTURE:
            return DeclarationInput(
                kind=Kind.DEPARTURE,
                division_code=d.get("division_code") or "",
                address=d.get("address") or "",
                departs_at=d.get("departs_at"),
                travel_to=d.get("travel_to_code") or "",
                expected_return_on=d.get("expected_return_on"),
                transport=d.get("transport") or "",
                transport_number=d.get("transport_number") or "",
                purpose=d.get("purpose") or "",
            )
        return DeclarationInput(
            kind=Kind.ARRIVAL,
            division_code=d.get("division_code") or "",
            address=d.get("address") or "",
            arrived_at=d.get("arrived_at"),
            origin=d.get("origin_code") or "",
            transport=d.get("transport") or "",
            transport_number=d.get("transport_number") or "",
            purpose=d.get("purpose") or "",
            declared_stay_days=d.get("declared_stay_days"),
            host_unit_id=host,
            host_name=d.get("host_name") or "",
            point_to_point_hosting=bool(d.get("point_to_point_hosting")),
            from_abroad=bool(d.get("from_abroad") or d.get("origin_abroad")),
            entered_country_at=d.get("entered_country_at"),
            entry_port=d.get("entry_port_code") or "",
            isolated_at_first_entry=isolated,
            temperature=d.get("temperature"),
            symptoms=list(d.get("symptoms") or []),
            health_code_colour=d.get("health_code_colour") or "",
            health_code_issuer=d.get("issuer_code") or "",
            stops=stops,
        )


def _resolve_division(form: forms.Form, d: dict, refusal: str) -> None:
    """A division typed as text (a community's name, an address) read back to its code, or
    `refusal` next to the field when it names none here."""
    division = (d.get("division_code") or "").strip()
    if division and not division.isdigit():
        found = _local_from_text(division)
        if found:
            d["division_code"] = found
        else:
            form.add_error("division_code", refusal)


def _local_from_text(text: str) -> str:
    for area in places.local_areas():
        found = places.local_index(area).match_address(text)
        if found and len(found) >= 12:
            return found
    return ""


def parse_stops(data, *, prefix: str = "stop") -> tuple[list[StopInput], list[str]]:
    """Travel stops from the repeated `stop_area`, `stop_start`, `stop_end` inputs. Returns the
    stops and messages for rows that could not be read (numbered as the person sees them)."""
    areas = data.getlist(f"{prefix}_area")[:25]
    starts = data.getlist(f"{prefix}_start")[:25]
    ends = data.getlist(f"{prefix}_end")[:25]
    stops, errors = [], []
    index = places.national_index()
    for i in range(max(len(areas), len(starts), len(ends))):
        area = (areas[i] if i < len(areas) else "").strip()
        start = (starts[i] if i < len(starts) else "").strip()
        end = (ends[i] if i < len(ends) else "").strip()
        if not (area or start or end):
            continue
        row = i + 1
        try:
            code = index.resolve(area)
        except places.PlaceError as exc:
            errors.append(_("Place %(n)d: %(message)s") % {"n": row, "message": exc.message})
            continue
        try:
            first = date.fromisoformat(start) if start else None
            last = date.fromisoformat(end) if end else None
        except ValueError:
            errors.append(_("Place %(n)d: the dates are not valid.") % {"n": row})
            continue
        if first is None:
            errors.append(_("Place %(n)d: give the first day there.") % {"n": row})
            continue
        stops.append(StopInput(code, first, last))
    return stops, errors


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Why is it withdrawn?"), max_length=200)


class VerificationForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("What did you find?"), choices=Outcome.choices, widget=forms.RadioSelect
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    # when found and the task has no registered person, or the source lacked the arrival
    name = forms.CharField(label=_("Full name"), max_length=64, required=False)
    doc_type = forms.ChoiceField(
        label=_("Document type"),
        choices=DocumentType.choices,
        initial=DocumentType.RESIDENT_ID,
        required=False,
    )
    id_number = forms.CharField(label=_("Document number"), max_length=40, required=False)
    phone = forms.CharField(
        label=_("Mobile phone"), max_length=24, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    arrived_at = _datetime_field(_("Arrival time"))
    origin = _place_field(_("Where the person came from"))

    def clean(self):
        d = super().clean()
        d["origin_code"] = _resolved_place(self, "origin", d.get("origin"))
        return d

    def found_details(self) -> FoundDetails:
        d = self.cleaned_data
        return FoundDetails(
            doc_type=d.get("doc_type") or "",
            id_number=d.get("id_number") or "",
            name=d.get("name") or "",
            phone=d.get("phone") or "",
            arrived_at=d.get("arrived_at"),
            origin=d.get("origin_code") or "",
        )


class RouteForm(forms.Form):
    division_code = forms.ChoiceField(label=_("Pass on to"))

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division_code"].choices = choices


class UploadForm(forms.Form):
    name = forms.CharField(label=_("Name of the list"), max_length=128)
    source = forms.ChoiceField(label=_("Source"), choices=ListSource.choices)
    file = forms.FileField(label=_("File (.xlsx or .csv)"))


class CommitForm(forms.Form):
    skip_invalid = forms.BooleanField(label=_("Leave out the rows with errors"), required=False)
    due_hours = forms.IntegerField(
        label=_("Checks due within (hours)"), min_value=1, max_value=168, initial=24
    )


class TipForm(forms.Form):
    """A neutral form: where, since when, what was seen. No field asks about or labels a region
    or a group of people (JS79-16)."""

    division_code = _community_field(_("Community where the person stays"))
    address = _address_field()
    arrived_on = _date_field(_("Arrived around"))
    origin = _place_field(_("Came from (if known)"), help_text=_("Province, city or county, or a country."))
    subject_name = forms.CharField(label=_("Name of the person (if known)"), max_length=64, required=False)
    subject_phone = forms.CharField(
        label=_("Phone of the person (if known)"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    observed = forms.CharField(
        label=_("What did you observe?"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Facts only: when the person arrived and whether they have declared."),
    )
    reporter_name = forms.CharField(label=_("Your name (optional)"), max_length=64, required=False)
    reporter_phone = forms.CharField(
        label=_("Your phone (optional)"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
        help_text=_("Only used if the command must ask you something. It is never shown to the person."),
    )

    def clean(self):
        d = super().clean()
        d["origin_code"] = _resolved_place(self, "origin", d.get("origin"))
        _resolve_division(self, d, _("Choose the community from the lists."))
        return d

    def to_input(self) -> TipInput:
        d = self.cleaned_data
        return TipInput(
            division_code=d["division_code"],
            address=d["address"],
            observed=d.get("observed") or "",
            subject_name=d.get("subject_name") or "",
            subject_phone=d.get("subject_phone") or "",
            arrived_on=d.get("arrived_on"),
            origin=d.get("origin_code") or "",
            reporter_name=d.get("reporter_name") or "",
            reporter_phone=d.get("reporter_phone") or "",
        )


class DeclarationFilter(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("all"))] + Kind.choices)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("all")),
            ("declared", _("declared")),
            ("unconfirmed", _("awaiting verification")),
            ("confirmed", _("confirmed")),
            ("withdrawn", _("withdrawn")),
        ],
    )
    arrived_since = _date_field(_("Arrived since"))


def now_local_input() -> str:
    return datetime.now(rf.CHINA_TZ).strftime("%Y-%m-%dT%H:%M")
