from django.contrib import admin

from .models import ManualSegmentation, Segmentation


@admin.register(ManualSegmentation)
class ManualSegmentationAdmin(admin.ModelAdmin):
    list_display = ("scan", "region", "voxels", "source", "imported_by", "created_at")
    list_filter = ("region",)
    search_fields = ("scan__subject__eid",)
    readonly_fields = ("scan", "path", "voxels", "sha256", "source", "imported_by", "created_at")


@admin.register(Segmentation)
class SegmentationAdmin(admin.ModelAdmin):
    list_display = ("scan", "region", "model_version", "status", "volume_voxels", "bmff", "failure_cause")
    list_filter = ("region", "status", "failure_cause", "model_version")
    search_fields = ("scan__subject__eid",)
    readonly_fields = ("scan", "region", "model_version", "job", "status", "flags", "hints", "volume_voxels",
                       "volume_ml", "centre", "centre_sd_distance", "removed_voxels", "joined_pieces", "bmff",
                       "mask_path", "created_at")
