from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "ukbstudy.api"
    label = "api"
    verbose_name = "REST API"
