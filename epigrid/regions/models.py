import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from epigrid.accounts.scoping import ScopeSpec


class Level(models.IntegerChoices):
    PROVINCE = 1, _("province")
    PREFECTURE = 2, _("prefecture")
    COUNTY = 3, _("county")
    TOWN = 4, _("town / street")
    COMMUNITY = 5, _("community / village")
    GRID = 6, _("grid cell")


# Code length per level below county; above it codes are 6 digits padded with zeros.
CODE_LENGTH = {
    Level.PROVINCE: 6,
    Level.PREFECTURE: 6,
    Level.COUNTY: 6,
    Level.TOWN: 9,
    Level.COMMUNITY: 12,
    Level.GRID: 15,
}


def scope_prefix(code: str, level: int) -> str:
    """The significant prefix of a code: `320000` → `32`, `320500` → `3205`."""
    if level == Level.PROVINCE:
        return code[:2]
    if level == Level.PREFECTURE:
        return code[:4]
    return code


class Division(models.Model):
    """A GB/T 2260 division (province to county, country-wide) or, below county, a town or
    street, community or village, or grid cell (网格) of a city that runs epigrid.

    `code` is digits only; a child's code starts with its parent's scope prefix, so the whole
    subtree of any division is one range of codes (see `accounts.scoping`)."""

    code = models.CharField(_("code"), max_length=15, primary_key=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", db_constraint=True
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices, db_index=True)
    prefix = models.CharField(_("scope prefix"), max_length=15, db_index=True)
    name_zh = models.CharField(_("Chinese name"), max_length=64)
    name_pinyin = models.CharField(_("pinyin"), max_length=128, blank=True)
    name_en = models.CharField(_("English name"), max_length=128, blank=True)
    valid_from = models.PositiveSmallIntegerField(_("valid from (year)"), null=True, blank=True)
    valid_to = models.PositiveSmallIntegerField(_("valid until (year)"), null=True, blank=True)
    former_names = models.JSONField(_("former names"), default=list, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    scope = ScopeSpec(division_field="code")

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "code"], name="division_parent_code")]

    def __str__(self) -> str:
        return self.name_zh

    def name_for(self, language: str) -> str:
        return self.name_zh if (language or "zh").startswith("zh") else (self.name_en or self.name_zh)

    @property
    def division_code(self) -> str:
        return self.code


class GridCellManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(level=Level.GRID)


class GridCell(Division):
    """网格: the smallest unit of community management; its workers are users whose scope is
    the cell's code (R10.1, KS10-13)."""

    objects = GridCellManager()

    class Meta:
        proxy = True


class RiskLevel(models.TextChoices):
    MEDIUM = "medium", _("medium risk")
    HIGH = "high", _("high risk")
    KEY = "key", _("key area")
    LOCAL_CASES = "local_cases", _("area with local cases")
    LAND_BORDER = "land_border", _("land border area")


class RiskAreaStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    SUPERSEDED = "superseded", _("superseded")
    WITHDRAWN = "withdrawn", _("withdrawn")


class RiskArea(models.Model):
    """中高风险地区 (R3.1): a division at any level, or a country, listed at a level for a period,
    from a notice. Edits never overwrite: a change is a new draft that supersedes the published
    row when it is published, so the list's history stays readable."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    area = models.CharField(_("area"), max_length=15, db_index=True)  # division code or ISO alpha-2
    area_name = models.CharField(_("area name"), max_length=128, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=RiskLevel.choices)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    notice = models.CharField(_("notice"), max_length=255)
    status = models.CharField(
        _("status"), max_length=12, choices=RiskAreaStatus.choices, default=RiskAreaStatus.DRAFT
    )
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    # the jurisdiction whose list this is (`risk_scope`): the division prefix of the command
    # that listed it; its drafts and changes are out of reach of everyone else
    division_code = models.CharField(_("jurisdiction"), max_length=15, blank=True, default="")
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")

    scope = ScopeSpec(division_field="division_code")

    class Meta:
        indexes = [models.Index(fields=["status", "area"], name="riskarea_status_area")]

    def __str__(self) -> str:
        return f"{self.area} {self.level}"
