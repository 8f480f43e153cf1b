from django.apps import AppConfig


class ShowcaseConfig(AppConfig):
    name = "ukbstudy.showcase"
    label = "showcase"
    verbose_name = "Showcase values"
