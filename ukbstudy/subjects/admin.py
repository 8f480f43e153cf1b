import json

from django.contrib import admin, messages
from django.db.models import Count
from django.utils.html import format_html

from .models import CovariateValue, ImportBatch, ReferenceValue, Scan, Subject
from .services.withdrawal import subjects_withdraw


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


def pretty_json(value) -> str:
    return format_html("<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


@admin.register(Subject)
class SubjectAdmin(ReadOnlyAdmin):
    list_display = ("eid", "sex", "age", "height_cm", "bmi", "centre", "n_scans", "withdrawn")
    list_filter = ("withdrawn", "sex", "centre")
    search_fields = ("=eid",)
    actions = ("withdraw",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(scan_count=Count("scans"))

    @admin.display(description="scans", ordering="scan_count")
    def n_scans(self, obj):
        return obj.scan_count

    @admin.action(description="Withdraw selected participants (hide them everywhere)", permissions=["withdraw"])
    def withdraw(self, request, queryset):
        outcome = subjects_withdraw(eids=queryset.values_list("eid", flat=True))
        self.message_user(request, f"{len(outcome['withdrawn'])} participant(s) withdrawn.", messages.SUCCESS)

    def has_withdraw_permission(self, request):
        return request.user.is_superuser


@admin.register(Scan)
class ScanAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "instance", "study_date", "n_series", "n_deviations", "processing_state", "created_at")
    list_filter = ("instance", "processing_state", "n_deviations", "subject__withdrawn", "import_batch")
    search_fields = ("=subject__eid", "archive_sha256", "archive_name")
    list_select_related = ("subject",)
    readonly_fields = ("inventory_pretty", "deviations_pretty")
    exclude = ("inventory", "deviations")

    @admin.display(description="inventory")
    def inventory_pretty(self, obj):
        return pretty_json(obj.inventory)

    @admin.display(description="deviations")
    def deviations_pretty(self, obj):
        return pretty_json(obj.deviations)


class ValueAdmin(ReadOnlyAdmin):
    list_display = ("subject", "field_id", "value", "unit", "import_batch", "updated_at")
    list_filter = ("field_id", "subject__withdrawn", "import_batch")
    search_fields = ("=subject__eid", "field_id")
    list_select_related = ("subject", "import_batch")


admin.site.register(ReferenceValue, ValueAdmin)
admin.site.register(CovariateValue, ValueAdmin)


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "kind", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("source", "source_sha256")
