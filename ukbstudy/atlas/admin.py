from django.contrib import admin

from .models import AtlasReadout, AtlasTemplate


@admin.register(AtlasTemplate)
class AtlasTemplateAdmin(admin.ModelAdmin):
    list_display = ("pk", "scan", "voxels", "active", "created_by", "created_at")
    list_filter = ("active",)
    search_fields = ("scan__subject__eid",)
    raw_id_fields = ("scan",)
    readonly_fields = ("mask_path", "mask_sha256", "voxels", "created_by", "created_at")


@admin.register(AtlasReadout)
class AtlasReadoutAdmin(admin.ModelAdmin):
    list_display = ("scan", "template_set", "raw", "job", "created_at")
    search_fields = ("scan__subject__eid", "template_set")
    raw_id_fields = ("scan", "job")
