from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The project-wide demo (``manage.py demo``) and the synthetic cohort generator's command; no models."""

    name = "ukbstudy.demo"
    label = "demo"
    verbose_name = "Demo"
