from django.urls import path

from . import views

app_name = "results"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("compare/", views.compare, name="compare"),
    path("outliers/", views.outliers, name="outliers"),
    path("outliers/<int:eid>/", views.outlier_subject, name="outlier-subject"),
    path("regression/", views.regression, name="regression"),
    path("paper/", views.paper, name="paper"),
]
