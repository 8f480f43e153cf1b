from django.apps import AppConfig


class MarrowConfig(AppConfig):
    name = "ukbstudy.marrow"
    verbose_name = "Bone marrow segmentation"
