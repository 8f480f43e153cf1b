from django.urls import path

from . import views

app_name = "measurements"
urlpatterns = [path("exports/measurements.csv", views.measurements_csv, name="export")]
