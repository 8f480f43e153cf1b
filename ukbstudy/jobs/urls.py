from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("status.json", views.job_status, name="status"),
    path("<int:pk>/cancel/", views.job_cancel, name="cancel"),
]
