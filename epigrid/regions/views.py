from django.http import Http404
from django.shortcuts import render

from epigrid.accounts.access import scoped
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import scope_of
from epigrid.regions.models import Division
from epigrid.regions.services.queries import path_of


@scoped(Perm.REGIONS_VIEW)
def tree(request):
    """The division tree: the country down to county from GB/T 2260, and below county the
    towns, communities and grid cells of the cities that run epigrid. Opens at the user's area."""
    show_retired = request.GET.get("retired") == "1"
    scope = scope_of(request.user)
    home = Division.objects.filter(prefix__in=scope.prefixes).order_by("level").first()
    at_code = request.GET.get("at")
    if at_code is None:
        focus = home
    elif at_code == "":
        focus = None
    else:
        focus = Division.objects.filter(code=at_code).first()
        if focus is None:
            raise Http404
    nodes = focus.children.all() if focus else Division.objects.filter(parent__isnull=True)
    if not show_retired:
        nodes = nodes.filter(valid_to__isnull=True)
    return render(
        request,
        "regions/tree.html",
        {
            "focus": focus,
            "nodes": nodes.order_by("code"),
            "focus_path": path_of(focus.code) if focus else [],
            "home": home,
            "show_retired": show_retired,
        },
    )


@scoped(Perm.REGIONS_VIEW)
def children(request, code: str):
    parent = Division.objects.filter(code=code).first()
    if parent is None:
        raise Http404
    rows = parent.children.all()
    if request.GET.get("retired") != "1":
        rows = rows.filter(valid_to__isnull=True)
    return render(
        request,
        "regions/_children.html",
        {"parent": parent, "nodes": rows.order_by("code"), "show_retired": request.GET.get("retired") == "1"},
    )
