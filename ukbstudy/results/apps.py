from django.apps import AppConfig


class ResultsConfig(AppConfig):
    name = "ukbstudy.results"
    verbose_name = "Cohort results"
