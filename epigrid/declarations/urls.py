from django.urls import path

from epigrid.declarations import public, views

app_name = "declarations"
urlpatterns = [
    path("", views.declaration_list, name="list"),
    path("new/", views.declaration_new, name="new"),
    path("<uuid:declaration_id>/", views.declaration_detail, name="detail"),
    path("<uuid:declaration_id>/withdraw/", views.withdraw, name="withdraw"),
    path("verify/", views.verification_list, name="verify_list"),
    path("verify/<uuid:task_id>/", views.verification_detail, name="verify"),
    path("verify/<uuid:task_id>/route/", views.verification_route, name="verify_route"),
    path("lists/", views.list_index, name="lists"),
    path("lists/template.xlsx", views.list_template, name="list_template"),
    path("lists/<uuid:list_id>/", views.list_detail, name="list_detail"),
    path("lists/<uuid:list_id>/progress/", views.list_progress, name="list_progress"),
    path("lists/<uuid:list_id>/commit/", views.list_commit, name="list_commit"),
    path("lists/<uuid:list_id>/resume/", views.list_resume, name="list_resume"),
    path("lists/<uuid:list_id>/feedback.xlsx", views.list_feedback, name="list_feedback"),
    path("tips/", views.tip_list, name="tips"),
    path("tips/<uuid:tip_id>/", views.tip_detail, name="tip"),
    path("tips/<uuid:tip_id>/reporter/", views.tip_reporter, name="tip_reporter"),
    # public pages: no sign-in, rate-limited (R2.1, R2.5)
    path("public/declare/", public.declare, name="public_declare"),
    path("public/declared/", public.declared, name="public_declared"),
    path("public/tip/", public.tip, name="public_tip"),
    path("public/tip/sent/", public.tip_sent, name="public_tip_sent"),
]
