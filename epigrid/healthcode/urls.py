from django.urls import path

from epigrid.healthcode import feed, views

app_name = "healthcode"
urlpatterns = [
    # public: the person's code by their private link, and the key lists verifiers download
    path("me/<str:token>/", views.my_code, name="my_code"),
    path("me/<str:token>/correction/", views.my_correction, name="my_correction"),
    path("keys.json", views.key_list, name="keys"),
    path("trust.json", views.trust_list, name="trust"),
    # staff
    path("scan/", views.scan, name="scan"),
    # staff who scan: the signed feed of codes whose colour changed (offline scanners)
    path("changes.json", feed.colour_changes, name="changes"),
    path("persons/<uuid:person_id>/", views.person_code, name="person_code"),
    path("corrections/", views.corrections, name="corrections"),
    path("corrections/<uuid:request_id>/", views.correction_detail, name="correction_detail"),
    path("corrections/<uuid:request_id>/contact/", views.correction_contact, name="correction_contact"),
    path("keys/", views.key_admin, name="key_admin"),
]
