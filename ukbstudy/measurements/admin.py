from django.contrib import admin

from ukbstudy.audit.admin import ReadOnlyAdmin

from .models import Measurement, ModelVersion


@admin.register(Measurement)
class MeasurementAdmin(ReadOnlyAdmin):
    list_display = ("subject", "scan", "quantity", "method", "value", "unit", "model_version", "job", "created_at")
    list_filter = ("quantity", "method", "model_version", "subject__withdrawn")
    search_fields = ("=subject__eid",)
    list_select_related = ("subject", "scan__subject", "model_version", "job")


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "task", "name", "version", "is_current", "created_at")
    list_filter = ("task", "is_current")
    search_fields = ("name", "version", "git_revision")
    readonly_fields = ("checkpoint_path", "config", "metrics", "data_fingerprint", "git_revision", "trained_by",
                       "created_at")
