from django.urls import path

from epigrid.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    path("me/<str:token>/", views.my_status, name="my_status"),
]
