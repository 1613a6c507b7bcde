from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from epigrid.accounts.scoping import visible_to
from epigrid.people.models import DocumentType, Sex
from epigrid.regions.models import Division, Level


def division_choices(
    user, min_level: int = Level.COUNTY, max_level: int = Level.GRID
) -> list[tuple[str, str]]:
    """Divisions a user may file people under, most specific last, labelled with their path in
    the page's language."""
    rows = visible_to(user, Division.objects.filter(level__gte=min_level, level__lte=max_level)).order_by(
        "code"
    )
    rows = rows[:3000]
    language = get_language() or "zh-hans"
    names = {d.code: d.name_for(language) for d in rows}
    choices = []
    for d in rows:
        parent_name = names.get(d.parent_id, "")
        name = names[d.code]
        label = f"{parent_name} {name}".strip() if d.level >= Level.COMMUNITY else name
        choices.append((d.code, f"{label} ({d.code})"))
    return choices


def _phone_field(label, **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        **kwargs,
    )


class _DivisionChoices:
    """A form whose `division_code` offers the divisions of the user's scope."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division_code"].choices = division_choices(user)


class PersonForm(_DivisionChoices, forms.Form):
    doc_type = forms.ChoiceField(
        label=_("Document type"), choices=DocumentType.choices, initial=DocumentType.RESIDENT_ID
    )
    id_number = forms.CharField(
        label=_("Document number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    name = forms.CharField(label=_("Name"), max_length=64)
    sex = forms.ChoiceField(
        label=_("Sex"), choices=[("", _("from the ID number"))] + list(Sex.choices), required=False
    )
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Filled from a resident ID number; needed for other documents."),
    )
    nationality = forms.CharField(label=_("Nationality (ISO code)"), max_length=3, initial="CHN")
    phone = _phone_field(_("Phone"))
    address = forms.CharField(label=_("Residence address"), max_length=255, required=False)
    division_code = forms.ChoiceField(label=_("Community / grid cell"))


class PersonEditForm(_DivisionChoices, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64)
    phone = _phone_field(_("New phone"), help_text=_("Leave empty to keep the stored number."))
    address = forms.CharField(label=_("Residence address"), max_length=255, required=False)
    division_code = forms.ChoiceField(label=_("Community / grid cell"))


class PersonFilter(forms.Form):
    q = forms.CharField(label=_("ID number, phone or name"), required=False, max_length=64)
    division = forms.ChoiceField(label=_("Division"), required=False)
    sex = forms.ChoiceField(label=_("Sex"), required=False, choices=[("", _("any"))] + list(Sex.choices))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # A city has hundreds of grid cells: its filter stops at communities, so the list page
        # stays small; a community-level user still filters by grid cell.
        grids = visible_to(user, Division.objects.filter(level=Level.GRID))
        deepest = Level.GRID if grids[:61].count() <= 60 else Level.COMMUNITY
        self.fields["division"].choices = [("", _("all of my area"))] + division_choices(
            user, max_level=deepest
        )
