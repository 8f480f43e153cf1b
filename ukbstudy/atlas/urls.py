from django.urls import path

from . import views

app_name = "atlas"

urlpatterns: list = [
    path("", views.overview, name="overview"),
    path("three-way/", views.three_way, name="three-way"),
    path("three-way.csv", views.three_way_csv, name="three-way-csv"),
]
