from django.urls import path

from . import views

app_name = "measurements"
urlpatterns = [
    path("exports/", views.export_page, name="export_page"),
    path("exports/measurements.csv", views.measurements_csv, name="export"),
]
