from django.urls import path

from epigrid.tasks import views

app_name = "tasks"
urlpatterns = [
    path("", views.my_tasks, name="mine"),
    path("command/", views.command, name="command"),
    path("<uuid:task_id>/", views.task_detail, name="detail"),
    path("<uuid:task_id>/complete", views.complete, name="complete"),
]
