"""The content-type move that the imaging and showcase apps' first migrations run when models leave the
subjects app (a helper module: the migration loader skips names that start with ``_``).

Kept as it is for those migrations: change it only in a way that both still run unchanged.
"""


def content_types_mover(app: str, models: list[str]):
    """(forwards, backwards) for ``RunPython``: the models' content types go from ``subjects`` to ``app``
    and back, so that permissions, and the groups and users holding them, follow the models."""

    def forwards(apps, schema_editor):
        _move(apps, models, "subjects", app)

    def backwards(apps, schema_editor):
        _move(apps, models, app, "subjects")

    return forwards, backwards


def _move(apps, models: list[str], source: str, target: str) -> None:
    """Where ``target`` has the content type already (a migrate in between created it, with fresh
    permissions), its permissions' grants join the moving ones' and it is removed, so that one content
    type per model is left and no grant is lost."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in models:
        moving = ContentType.objects.filter(app_label=source, model=model).first()
        if moving is None:
            continue
        there = ContentType.objects.filter(app_label=target, model=model).first()
        if there is not None:
            for permission in Permission.objects.filter(content_type=there):
                kept = Permission.objects.filter(content_type=moving, codename=permission.codename).first()
                if kept is not None:
                    kept.group_set.add(*permission.group_set.all())
                    kept.user_set.add(*permission.user_set.all())
            there.delete()
        moving.app_label = target
        moving.save(update_fields=["app_label"])
