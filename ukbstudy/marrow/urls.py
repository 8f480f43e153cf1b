from django.urls import path

from . import views

app_name = "marrow"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("segmentations/<int:pk>/cause/", views.assign_cause, name="assign-cause"),
    path("train/", views.start_training, name="train"),
    path("segment/", views.start_segmentation, name="segment"),
]
