from django.apps import AppConfig


class QcConfig(AppConfig):
    name = "ukbstudy.qc"
    label = "qc"
    verbose_name = "Visual quality control"
