"""Pages: registry (see web/__init__)."""

urlpatterns: list = []
