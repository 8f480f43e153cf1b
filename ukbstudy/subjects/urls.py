from django.urls import path

from . import views

app_name = "subjects"
urlpatterns = [
    path("scans/<int:pk>/images/<str:name>.png", views.scan_image, name="scan-image"),
]
