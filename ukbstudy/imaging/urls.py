from django.urls import path

from . import views

app_name = "imaging"
urlpatterns = [
    path("scans/<int:pk>/images/<str:name>.png", views.scan_image, name="scan-image"),
    path("scans/<int:pk>/slices/<str:kind>/<int:index>.png", views.scan_slice, name="scan-slice"),
    path("scans/preprocess-pending/", views.preprocess_pending, name="preprocess-pending"),
]
