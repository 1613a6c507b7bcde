"""The words of the testing app: kinds of test and result, outcomes, sources, must-test groups
and the statuses of orders, specimens, pools, imports and sequencing. `testing.models` imports
them for its fields, and callers read them from there."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TestKind(models.TextChoices):
    """What an order asks for. A serology order is answered by an IgM and an IgG result."""

    __test__ = False

    NUCLEIC_ACID = "nucleic_acid", _("Nucleic-acid test")
    SEROLOGY = "serology", _("Serology test (IgM/IgG)")


class Analyte(models.TextChoices):
    """What one result reports; the same names as `rules.facts.TEST_KINDS`."""

    NUCLEIC_ACID = "nucleic_acid", _("nucleic acid")
    SEROLOGY_IGM = "serology_igm", _("IgM antibody")
    SEROLOGY_IGG = "serology_igg", _("IgG antibody")
    RAPID_ANTIGEN = "rapid_antigen", _("rapid antigen")


class Outcome(models.TextChoices):
    NEGATIVE = "negative", _("negative")
    POSITIVE = "positive", _("positive")


class ResultSource(models.TextChoices):
    """The same names as `rules.facts.TEST_SOURCES`."""

    LOCAL = "local", _("our lab")
    OTHER_REGION = "other_region", _("another region")
    FOREIGN_CERTIFICATE = "foreign_certificate", _("foreign certificate (EU DCC)")


class PointKind(models.TextChoices):
    HEALTH_CENTRE = "health_centre", _("Community health service centre")
    TOWNSHIP_HOSPITAL = "township_hospital", _("Township hospital")
    HOSPITAL = "hospital", _("Hospital")
    MOBILE = "mobile", _("Mobile sampling point")


class GroupName(models.TextChoices):
    """应检尽检 groups (JS79-13, NA182-2.5.1, JX57-3.10). The first four come from events other
    apps record (contacts, arrivals, fever clinics, admissions) and reach testing through the
    rules; the unit-based ones can also be screened from rosters here."""

    CLOSE_CONTACT = "close_contact", _("Close contacts")
    INBOUND_TRAVELLER = "inbound_traveller", _("Inbound travellers")
    FEVER_CLINIC = "fever_clinic", _("Fever-clinic patients")
    NEW_INPATIENT = "new_inpatient", _("New inpatients and companions")
    MEDICAL_STAFF = "medical_staff", _("Medical staff")
    PORT_BORDER_STAFF = "port_border_staff", _("Port and border staff")
    PRISON_STAFF = "prison_staff", _("Prison staff")
    CARE_HOME_STAFF = "care_home_staff", _("Welfare and elderly-care staff")
    PUBLIC_SERVICE_STAFF = "public_service_staff", _("Public-place service staff")


class OrderSource(models.TextChoices):
    MEASURE = "measure", _("decision of the rules")
    WALK_IN = "walk_in", _("walk-in")
    SCREENING = "screening", _("group screening")
    RETEST = "retest", _("single-tube retest after a positive pool")


class OrderStatus(models.TextChoices):
    OPEN = "open", _("waiting for sampling")
    SAMPLED = "sampled", _("sampled")
    RECEIVED = "received", _("at the lab")
    RESULTED = "resulted", _("resulted")
    CANCELLED = "cancelled", _("cancelled")


class SpecimenStatus(models.TextChoices):
    TAKEN = "taken", _("taken")
    RECEIVED = "received", _("at the lab")
    POOL_POSITIVE = "pool_positive", _("pool positive: retest needed")
    RESULTED = "resulted", _("resulted")


class SampleType(models.TextChoices):
    SWAB = "swab", _("throat or nasal swab")
    BLOOD = "blood", _("blood")


class PoolStatus(models.TextChoices):
    OPEN = "open", _("filling")
    SEALED = "sealed", _("sealed")
    RECEIVED = "received", _("at the lab")
    NEGATIVE = "negative", _("negative")
    RETESTING = "retesting", _("positive: members being retested")
    RESOLVED = "resolved", _("positive: every member has an individual result")


class ImportStatus(models.TextChoices):
    INVALID = "invalid", _("has errors")
    VALID = "valid", _("checked, ready to commit")
    QUEUED = "queued", _("queued for commit")
    COMMITTING = "committing", _("committing")
    COMMITTED = "committed", _("committed")


class SequencingStatus(models.TextChoices):
    REQUESTED = "requested", _("requested")
    SENT = "sent", _("sent to the lab")
    RECEIVED = "received", _("received by the lab")
    RESULTED = "resulted", _("lineage known")
    FAILED = "failed", _("failed")
