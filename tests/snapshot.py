"""A comparable picture of every study table, to show that a rejected import wrote nothing."""

from django.apps import apps

STUDY_APPS = ("subjects", "imaging", "showcase", "qc", "measurements", "jobs")


def database_snapshot() -> dict[str, list[dict]]:
    """Every column of every row (timestamps included) of every study model."""
    snapshot = {}
    for app in STUDY_APPS:
        for model in apps.get_app_config(app).get_models():
            manager = getattr(model, "all_objects", model._default_manager)
            columns = [f.attname for f in model._meta.concrete_fields]
            snapshot[model._meta.label] = list(manager.order_by("pk").values_list(*columns))
    return snapshot
