from django.contrib import admin

from ukbstudy.audit.admin import ReadOnlyAdmin

from .models import Job
from .services import job_request_cancel


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "status", "progress", "created_by", "created_at", "duration")
    list_filter = ("kind", "status")
    search_fields = ("=id", "error", "celery_task_id")
    actions = ("cancel",)

    @admin.display(description="progress")
    def progress(self, obj):
        return f"{obj.progress_done} / {obj.progress_total}" if obj.progress_total else "-"

    @admin.display(description="duration (s)")
    def duration(self, obj):
        seconds = obj.duration_seconds
        return f"{seconds:.1f}" if seconds is not None else "-"

    @admin.action(description="Cancel selected jobs")
    def cancel(self, request, queryset):
        for job in queryset:
            job_request_cancel(job=job)
