from django.urls import path

from epigrid.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<uuid:token_id>/revoke", views.revoke_token, name="revoke_token"),
    path("audit/", views.audit, name="audit"),
]
