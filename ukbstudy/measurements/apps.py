from django.apps import AppConfig


class MeasurementsConfig(AppConfig):
    name = "ukbstudy.measurements"
    label = "measurements"
    verbose_name = "Measurements and models"
