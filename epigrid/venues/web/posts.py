"""Pages: "my posts" — where venue and checkpoint staff record (the venues they are staff of,
the checkpoints of their shifts), each with today's figures and the page to record on."""

from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from epigrid.accounts.access import scoped
from epigrid.accounts.roles import Perm
from epigrid.venues.models import Venue
from epigrid.venues.services import capacity
from epigrid.venues.services.checkpoint_stations import shift_at, visible_checkpoints


@scoped(Perm.HEALTHCODE_SCAN)
def my_posts(request):
    now = timezone.now()
    venues = list(Venue.objects.filter(staff__user=request.user).select_related("type").order_by("name"))
    for venue in venues:
        venue.type_label = venue.type.label(request.LANGUAGE_CODE)
        venue.today = capacity.entries_today(venue, now)
        venue.inside = capacity.occupancy(venue, now)
        venue.limit = capacity.limit_of(venue)
    checkpoints = list(visible_checkpoints(request.user).filter(active=True).order_by("name"))
    for checkpoint in checkpoints:
        checkpoint.shift = shift_at(checkpoint, now, request.user)
    return render(request, "venues/posts.html", {"venues": venues, "checkpoints": checkpoints})


urlpatterns = [path("posts/", my_posts, name="posts")]
