from django.urls import path

from . import views

app_name = "marrow"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("scans/<int:scan_pk>/<str:region>/overlay.png", views.overlay, name="overlay"),
    path("segmentations/<int:pk>/cause/", views.assign_cause, name="assign-cause"),
    path("train/", views.start_training, name="train"),
    path("segment/", views.start_segmentation, name="segment"),
]
