from django.apps import AppConfig


class LiverfatConfig(AppConfig):
    name = "ukbstudy.liverfat"
    verbose_name = "Liver fat network"
