from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.i18n import set_language as django_set_language
from django_ratelimit.decorators import ratelimit

from epigrid.accounts.access import public
from epigrid.accounts.scoping import scope_of
from epigrid.people.panels import self_panels_for
from epigrid.people.services import person_for_link
from epigrid.regions.models import Division


@public
def home(request):
    """Staff get their overview; the public gets the pages meant for them (declare an arrival,
    report a tip, risk areas, sampling points) and a way to sign in."""
    if not request.user.is_authenticated:
        return render(request, "web/landing.html")
    scope = scope_of(request.user)
    divisions = {d.prefix: d for d in Division.objects.filter(prefix__in=scope.prefixes)}
    scope_rows = [{"prefix": p, "division": divisions.get(p)} for p in scope.prefixes]
    return render(
        request,
        "web/home.html",
        {"scope_rows": scope_rows, "unit_count": len(scope.unit_ids), "perms": scope.perms},
    )


@public
def set_language(request):
    return django_set_language(request)


@public
@never_cache
def healthz(request):
    """For the load balancer: the process answers and the database answers."""
    _database_answers()
    return JsonResponse({"status": "ok"})


def _database_answers() -> None:
    """One round trip to the database. A raw `SELECT 1`, since the ORM has no query without a
    table: a model query would make the answer depend on one table's rows, locks and
    migrations, while the balancer asks only whether the server answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@public
@never_cache
@ratelimit(key="ip", rate="60/m", block=True)
def my_status(request, token: str):
    """The person's own page, reached by the private link from their declaration: what they
    must do and why, their health code and results (panels from the apps that know them)."""
    person = person_for_link(token)
    if person is None:
        raise Http404
    response = render(
        request,
        "web/my_status.html",
        {"person": person, "token": token, "panels": self_panels_for(request, person)},
    )
    from epigrid.venues.web.door import remember_link

    return remember_link(response, request, token)  # venue codes scanned later need no paste


def ratelimited(request, exception):
    """django-ratelimit's refusal: 429 with a page that says when to try again."""
    response = render(request, "web/ratelimited.html", status=429)
    response["Retry-After"] = "60"
    return response
