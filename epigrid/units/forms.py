from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.people.forms import division_choices
from epigrid.units.models import RosterRole, UnitGroup, UnitKind


class UnitForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=UnitKind.choices)
    name = forms.CharField(label=pgettext_lazy("entity", "Name"), max_length=128)
    division_code = forms.ChoiceField(label=_("Division"))
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    uscc = forms.CharField(
        label=_("Unified social credit code"),
        max_length=18,
        required=False,
        help_text=_("Required for enterprises, construction sites and hotels."),
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=64, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=24, required=False)
    staff_count = forms.IntegerField(label=_("Number of people"), min_value=0, required=False, initial=0)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division_code"].choices = division_choices(user)


class UnitFilter(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("any"))] + list(UnitKind.choices)
    )
    q = forms.CharField(label=_("Name contains"), required=False, max_length=64)


class RosterAddForm(forms.Form):
    id_number = forms.CharField(
        label=_("Document number of the person"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=RosterRole.choices)
    group = forms.ChoiceField(label=_("Class or team"), required=False)

    def __init__(self, *args, unit=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", "—")] + [(str(g.pk), g.name) for g in unit.groups.all()]


class GroupForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=UnitGroup.Kind.choices)
    name = forms.CharField(label=pgettext_lazy("entity", "Name"), max_length=64)
    grade = forms.IntegerField(label=_("Grade"), required=False, min_value=0, max_value=20)
