from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from epigrid.rules.templatetags.rules_words import clause_basis
from epigrid.testing.models import POOL_SIZES, WILLING, Analyte, GroupName, Outcome, PointKind, TestKind
from epigrid.testing.parsing import BARCODE

barcode_field = forms.RegexField(
    regex=BARCODE,
    max_length=40,
    label=_("Barcode"),
    error_messages={"invalid": _("A barcode is 4 to 40 letters, digits or -_.")},
    widget=forms.TextInput(
        attrs={"autocomplete": "off", "autocapitalize": "characters", "inputmode": "text"}
    ),
)


class PointForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=PointKind.choices)
    name = forms.CharField(label=pgettext_lazy("entity", "Name"), max_length=128)
    unit_id = forms.ChoiceField(label=_("Unit"), required=False)
    address = forms.CharField(label=_("Address"), max_length=255)
    division_code = forms.CharField(label=_("Division code"), max_length=15)
    latitude = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180)
    contact_name = forms.CharField(label=_("Contact person"), max_length=64, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=24, required=False)
    opening_hours = forms.CharField(label=_("Opening hours"), max_length=128, required=False)
    active_from = forms.DateField(label=_("Open from"), widget=forms.DateInput(attrs={"type": "date"}))
    active_to = forms.DateField(
        label=_("Open until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    waiting_place = forms.CharField(
        label=_("Where people wait for their result"),
        max_length=255,
        required=False,
    )
    lab_id = forms.ChoiceField(label=_("Lab its specimens go to"), required=False)

    def __init__(self, *args, units=(), labs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit_id"].choices = [("", "—")] + [(str(u.pk), u.name) for u in units]
        self.fields["lab_id"].choices = [("", "—")] + [(str(u.pk), u.name) for u in labs]
        self.fields["waiting_place"].help_text = format_html(
            gettext("Shown on each person's status page ({basis})."), basis=clause_basis("JS79-14")
        )


class NearestForm(forms.Form):
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    where = forms.CharField(
        label=_("Coordinates (latitude, longitude)"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": "31.38, 120.98", "inputmode": "decimal"}),
    )
    town = forms.ChoiceField(label=_("Or choose a town or street"), required=False)

    def __init__(self, *args, towns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["town"].choices = [("", "—")] + list(towns)


GROUP_CHOICES = [(WILLING, _("Willing to test (own request)"))] + list(GroupName.choices)


class SpecimenForm(forms.Form):
    person_id = forms.UUIDField(widget=forms.HiddenInput)
    barcode = barcode_field
    test = forms.ChoiceField(label=_("Test"), choices=TestKind.choices, initial=TestKind.NUCLEIC_ACID)
    pool = forms.ChoiceField(label=_("Pool"), required=False)
    group = forms.ChoiceField(
        label=_("If no test is ordered: why test"),
        choices=[("", "—")] + GROUP_CHOICES,
        required=False,
    )

    def __init__(self, *args, pools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].choices = [("", _("single tube"))] + [
            (p.barcode, f"{p.barcode} ({p.members}/{p.size})") for p in pools
        ]


class PoolForm(forms.Form):
    barcode = barcode_field
    size = forms.TypedChoiceField(
        label=_("Swabs per tube"), choices=[(n, f"{n}") for n in POOL_SIZES], coerce=int, initial=10
    )


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Results file (.csv or .xlsx)"))


class ReceiveForm(forms.Form):
    barcodes = forms.CharField(
        label=_("Barcodes scanned at reception, one per line"), widget=forms.Textarea(attrs={"rows": 4})
    )


class ExternalForm(forms.Form):
    analyte = forms.ChoiceField(label=_("Test"), choices=Analyte.choices)
    result = forms.ChoiceField(label=_("Result"), choices=Outcome.choices)
    sampled_at = forms.DateTimeField(
        label=_("Sampled"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reported_at = forms.DateTimeField(
        label=_("Reported"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    issuer = forms.CharField(label=_("Issued by (region, lab)"), max_length=128)
    reference = forms.CharField(label=_("Report number"), max_length=128, required=False)


class DccForm(forms.Form):
    qr = forms.CharField(
        label=_("Certificate QR text (HC1:…)"),
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
    )
    file = forms.FileField(label=_("Or upload a text file holding it"), required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > 16_000:
                raise forms.ValidationError(_("This file is larger than any certificate."))
            data["qr"] = upload.read().decode("utf-8", "replace").strip()
        if not data.get("qr"):
            raise forms.ValidationError(_("Paste the certificate text or upload a file."))
        return data


class TrustForm(forms.Form):
    file = forms.FileField(label=_("Signer certificates (PEM, DER or base64)"))


class GroupForm(forms.Form):
    division_code = forms.CharField(label=_("Jurisdiction (division code prefix)"), max_length=15)
    group = forms.ChoiceField(label=_("Group"), choices=GroupName.choices)
    test = forms.ChoiceField(label=_("Test"), choices=TestKind.choices)
    free = forms.BooleanField(label=_("Free of charge"), required=False, initial=True)
    interval_days = forms.IntegerField(label=_("Screen every (days, 0 = never)"), min_value=0, max_value=365)
    due_hours = forms.IntegerField(
        label=_("Result due within (hours)"), min_value=1, max_value=168, initial=12
    )


class SequencingForm(forms.Form):
    specimen_barcode = barcode_field
    lab_id = forms.ChoiceField(label=_("Sequencing lab"))
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, labs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lab_id"].choices = [(str(u.pk), u.name) for u in labs]


class SequencingUpdateForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            ("sent", _("sent to the lab")),
            ("received", _("received by the lab")),
            ("resulted", _("lineage known")),
            ("failed", _("failed")),
        ],
    )
    lineage = forms.CharField(label=_("Lineage"), max_length=64, required=False)
    clade = forms.CharField(label=_("Clade"), max_length=32, required=False)
