"""Pages: trace (see web/__init__)."""

urlpatterns: list = []
