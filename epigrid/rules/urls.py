from django.urls import path

from epigrid.rules import views

app_name = "rules"
urlpatterns = [
    path("", views.index, name="index"),
    path("risk-change/preview", views.preview_risk_change, name="risk_preview"),
    path("reassess/preview", views.preview_reassessment, name="reassess_preview"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run"),
    path("runs/<uuid:run_id>/progress", views.run_progress, name="run_progress"),
    path("runs/<uuid:run_id>/publish", views.publish, name="run_publish"),
    path("runs/<uuid:run_id>/resume", views.resume, name="run_resume"),
]
