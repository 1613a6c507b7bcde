from epigrid.venues.web import checkpoints, door, posts, registry, scanner, trace

app_name = "venues"
urlpatterns = [
    *registry.urlpatterns,
    *door.urlpatterns,
    *checkpoints.urlpatterns,
    *trace.urlpatterns,
    *scanner.urlpatterns,
    *posts.urlpatterns,
]
