from django.urls import path

from epigrid.testing import desk, lab_upload, views

app_name = "testing"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("public/points/", views.public_points, name="public_points"),
    path("points/", views.point_list, name="points"),
    path("points/new/", views.point_edit, name="point_new"),
    path("points/<uuid:point_id>/edit/", views.point_edit, name="point_edit"),
    path("groups/", views.groups, name="groups"),
    path("groups/<uuid:config_id>/screen/", views.group_screen, name="group_screen"),
    path("sample/", desk.sample_desk, name="sample"),
    path("sample/specimen/", desk.take_specimen, name="take_specimen"),
    path("sample/pool/", desk.open_pool, name="open_pool"),
    path("sample/pool/<uuid:pool_id>/seal/", desk.seal_pool, name="seal_pool"),
    path("lab/", views.lab_desk, name="lab"),
    path("lab/template.<str:kind>", lab_upload.lab_template, name="lab_template"),
    path("lab/imports/<uuid:import_id>/", views.import_detail, name="import"),
    path("lab/imports/<uuid:import_id>/resume/", views.import_resume, name="import_resume"),
    path("overdue/", views.overdue, name="overdue"),
    path("sequencing/", views.sequencing, name="sequencing"),
    path("sequencing/<uuid:request_id>/", views.sequencing_update, name="sequencing_update"),
    path("people/<uuid:person_id>/external/", views.external_result, name="external"),
    path("dcc/", views.dcc, name="dcc"),
    path("dcc/trust/", views.dcc_trust, name="dcc_trust"),
]
