from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "ukbstudy.jobs"
    label = "jobs"
    verbose_name = "Jobs"
