from django.contrib import admin

from ukbstudy.audit.admin import ReadOnlyAdmin

from .models import QCDecision


@admin.register(QCDecision)
class QCDecisionAdmin(ReadOnlyAdmin):
    """QC history is append-only: the admin lists it; decisions are recorded through the QC service."""

    list_display = ("scan", "verdict", "reason", "rater", "decided_at", "previous_verdict", "confidence",
                    "seconds_spent")
    list_filter = ("verdict", "reason", "rater", "scan__subject__withdrawn")
    search_fields = ("=scan__subject__eid", "note")
    list_select_related = ("scan__subject", "rater")
    date_hierarchy = "decided_at"
