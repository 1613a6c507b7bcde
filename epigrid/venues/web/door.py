"""Pages: door (see web/__init__)."""

urlpatterns: list = []
