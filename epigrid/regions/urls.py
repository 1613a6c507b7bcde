from django.urls import path

from epigrid.regions import risk_views, views

app_name = "regions"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("risk-areas/", risk_views.public_list, name="risk_public"),
    path("risk-areas/manage/", risk_views.manage, name="risk_manage"),
    path("risk-areas/new/", risk_views.new, name="risk_new"),
    path("risk-areas/import/", risk_views.import_file, name="risk_import"),
    path("risk-areas/<uuid:row_id>/edit/", risk_views.edit, name="risk_edit"),
    path("risk-areas/<uuid:row_id>/discard/", risk_views.discard, name="risk_discard"),
    path("risk-areas/history/<str:area>/", risk_views.history, name="risk_history"),
    path("<str:code>/children", views.children, name="children"),
]
