from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs) -> None:
    """After every migrate (and flush): the role groups and their permissions, kept in step with code.
    Django sends post_migrate once per app with models (this app has none), so this listens to all."""
    from .services import roles_sync

    roles_sync()


class AccountsConfig(AppConfig):
    name = "ukbstudy.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .lockout import clear_own_failures

        post_migrate.connect(_sync_roles, dispatch_uid="ukbstudy.accounts.sync_roles")
        user_logged_in.connect(clear_own_failures, dispatch_uid="ukbstudy.accounts.clear_own_failures")
