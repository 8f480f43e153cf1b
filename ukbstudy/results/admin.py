from django.contrib import admin

from ukbstudy.audit.admin import ReadOnlyAdmin

from .models import OutlierVerdict


@admin.register(OutlierVerdict)
class OutlierVerdictAdmin(ReadOnlyAdmin):
    """Verdicts are append-only: recorded on the outlier review page, only read here."""

    list_display = ("subject", "quantity", "method_a", "method_b", "verdict", "manual_value", "reviewer", "created_at")
    list_filter = ("verdict", "quantity", "reference_field", "subject__withdrawn")
    search_fields = ("=subject__eid",)
    list_select_related = ("subject", "reviewer")
