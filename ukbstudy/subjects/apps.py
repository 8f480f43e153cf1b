from django.apps import AppConfig


class SubjectsConfig(AppConfig):
    name = "ukbstudy.subjects"
    label = "subjects"
    verbose_name = "Participants"
