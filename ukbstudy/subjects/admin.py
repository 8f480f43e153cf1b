from django.contrib import admin, messages
from django.db.models import Count

from ukbstudy.audit.admin import ReadOnlyAdmin

from .models import ImportBatch, Subject, Visit
from .services.withdrawal import subjects_withdraw


@admin.register(Subject)
class SubjectAdmin(ReadOnlyAdmin):
    list_display = ("eid", "sex", "n_scans", "withdrawn")
    list_filter = ("withdrawn", "sex")
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


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ("subject", "instance", "date", "age", "height_cm", "bmi", "centre")
    list_filter = ("instance", "centre")
    search_fields = ("=subject__eid",)
    list_select_related = ("subject",)


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "kind", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("source", "source_sha256")
