from django.apps import AppConfig


class ImagingConfig(AppConfig):
    name = "ukbstudy.imaging"
    label = "imaging"
    verbose_name = "Scans and preprocessing"
