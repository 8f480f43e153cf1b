from django.urls import path

from . import views

app_name = "results"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("compare/", views.compare, name="compare"),
    path("outliers/", views.outliers, name="outliers"),
    path("outliers/scans/<int:scan_id>/", views.outlier_scan, name="outlier-scan"),
    path("longitudinal/", views.longitudinal_page, name="longitudinal"),
    path("participants/<int:eid>/", views.participant, name="participant"),
    path("regression/", views.regression, name="regression"),
    path("paper/", views.paper, name="paper"),
]
