"""The admin's base for recorded rows: the admin shows them but never adds, changes or deletes them."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by importers and services: visible and searchable, changed only through them.

    The admin is the one place that also shows withdrawn participants' rows (filter on "withdrawn").
    """

    def get_queryset(self, request):
        manager = getattr(self.model, "all_objects", self.model._default_manager)
        queryset = manager.get_queryset()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
