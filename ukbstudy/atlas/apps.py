from django.apps import AppConfig


class AtlasConfig(AppConfig):
    name = "ukbstudy.atlas"
    verbose_name = "Multi-atlas liver fat"
