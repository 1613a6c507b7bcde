from django.urls import include, path

from epigrid.api import api_urls

# the API first: a checkpoint's verification is the most frequent request of all, and Django
# tries the patterns in order
urlpatterns = [
    path("api/v1/", api_urls()),
    path("", include("epigrid.web.urls")),
    path("accounts/", include("epigrid.accounts.urls")),
    path("regions/", include("epigrid.regions.urls")),
    path("people/", include("epigrid.people.urls")),
    path("units/", include("epigrid.units.urls")),
    path("tasks/", include("epigrid.tasks.urls")),
    path("rules/", include("epigrid.rules.urls")),
    path("declarations/", include("epigrid.declarations.urls")),
    path("testing/", include("epigrid.testing.urls")),
    path("healthcode/", include("epigrid.healthcode.urls")),
    path("venues/", include("epigrid.venues.urls")),
]
