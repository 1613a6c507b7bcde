from django.urls import path

from epigrid.units import views

app_name = "units"
urlpatterns = [
    path("", views.unit_list, name="list"),
    path("new/", views.unit_new, name="new"),
    path("<uuid:unit_id>/", views.unit_detail, name="detail"),
    path("<uuid:unit_id>/roster/add", views.roster_add, name="roster_add"),
    path("<uuid:unit_id>/roster/<uuid:entry_id>/end", views.roster_end, name="roster_end"),
    path("<uuid:unit_id>/groups/add", views.group_add, name="group_add"),
]
