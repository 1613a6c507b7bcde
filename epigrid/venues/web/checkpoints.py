"""Pages: checkpoints (see web/__init__)."""

urlpatterns: list = []
