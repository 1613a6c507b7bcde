"""Navigation for the base layout, built from the role table so a menu never offers a page
the user would be refused."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from epigrid.accounts.roles import Perm, permissions_of

# Groups of (url name, label, permission or None for every signed-in user). A group whose items
# the user may not open is not shown; a group with one item is a plain link.
MENU = [
    (
        _("Work"),
        [
            ("web:home", _("Overview"), None),
            ("tasks:mine", _("My tasks"), Perm.TASKS_DO),
            ("declarations:verify_list", _("Checks on the ground"), Perm.TASKS_VIEW),
            ("tasks:command", _("Open tasks by area"), Perm.TASKS_VIEW),
        ],
    ),
    (
        _("People"),
        [
            ("people:list", _("People"), Perm.PEOPLE_VIEW),
            ("people:duplicates", _("Duplicates"), Perm.PEOPLE_MERGE),
            ("units:list", _("Units"), Perm.UNITS_VIEW),
            ("regions:tree", _("Divisions"), Perm.REGIONS_VIEW),
        ],
    ),
    (
        _("Arrivals"),
        [
            ("declarations:list", _("Declarations"), Perm.DECLARATIONS_VIEW),
            ("declarations:lists", _("Pushed lists"), Perm.PUSHED_LISTS),
            ("declarations:tips", _("Tips"), Perm.TIPS_VIEW),
        ],
    ),
    (
        _("Rules"),
        [
            ("regions:risk_manage", _("Risk areas"), Perm.RISK_EDIT),
            ("rules:index", _("Rules and bulk runs"), Perm.RULES_PUBLISH),
        ],
    ),
    (
        _("Testing"),
        [
            ("testing:overview", _("Turnaround"), Perm.TESTING_VIEW),
            ("testing:sample", _("Sampling desk"), Perm.SAMPLING_DO),
            ("testing:lab", _("Lab desk"), Perm.LAB_RESULTS),
            ("testing:points", _("Sampling points"), Perm.TESTING_VIEW),
            ("testing:sequencing", _("Sequencing"), Perm.SEQUENCING),
            ("testing:dcc", _("EU certificates"), Perm.TESTING_MANAGE),
        ],
    ),
    (
        _("Health code"),
        [
            ("healthcode:scan", _("Scan a health code"), Perm.HEALTHCODE_SCAN),
            ("healthcode:corrections", _("Correction requests"), Perm.HEALTHCODE_REVIEW),
            ("healthcode:key_admin", _("Health code keys"), Perm.HEALTHCODE_KEYS),
        ],
    ),
    (
        _("Venues"),
        [
            ("venues:list", _("Venues"), Perm.VENUES_VIEW),
        ],
    ),
    (
        _("System"),
        [
            ("accounts:audit", _("Audit log"), Perm.AUDIT_VIEW),
            ("accounts:tokens", _("API tokens"), Perm.TOKENS_OWN),
        ],
    ),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_groups": [], "nav_items": []}
    perms = permissions_of(user.role)
    path = request.path
    groups, items = [], []
    for label, entries in MENU:
        visible = [
            {"url": reverse(name), "label": item_label, "current": False}
            for name, item_label, perm in entries
            if perm is None or perm in perms
        ]
        if visible:
            groups.append({"label": label, "items": visible, "current": False})
            items += visible
    # the longest matching prefix is the current page: /people/duplicates/ is Duplicates, not People
    matching = [i for i in items if (path == i["url"] if i["url"] == "/" else path.startswith(i["url"]))]
    if matching:
        max(matching, key=lambda i: len(i["url"]))["current"] = True
    for group in groups:
        group["current"] = any(i["current"] for i in group["items"])
    return {"nav_groups": groups, "nav_items": items}
