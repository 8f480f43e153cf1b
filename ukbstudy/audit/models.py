"""No models: the audit app guards the append-only tables of other apps (``triggers``) and sets up the app's
database role (``db_app_role``); this module lets it receive ``post_migrate``."""
