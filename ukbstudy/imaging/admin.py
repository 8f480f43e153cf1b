from django.contrib import admin
from django.utils.html import format_html, format_html_join

from ml.ukb import protocol
from ukbstudy.audit.admin import ReadOnlyAdmin

from .models import Scan
from .views import scan_image_urls


def inventory_table(inventory: dict) -> str:
    """Station by series type: series number, description, matrix, slices and z range."""
    rows = []
    for number, by_type in sorted(inventory.get("stations", {}).items(), key=lambda item: int(item[0])):
        for kind in protocol.SERIES_TYPES:
            series = by_type.get(kind)
            if series:
                rows.append((number, kind, series["series_number"], series["description"],
                             f"{series['columns']} x {series['rows']}", series["slices"],
                             f"{series['z_top']:.1f} to {series['z_bottom']:.1f}"))
    header = format_html("<tr>{}</tr>", format_html_join("", "<th>{}</th>", (
        (h,) for h in ("station", "type", "series", "description", "matrix", "slices", "z (mm)"))))
    body = format_html_join("", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in row)),)
                                               for row in rows))
    return format_html("<table>{}{}</table><p>manifest: {}</p>", header, body, inventory.get("manifest") or "none")


@admin.register(Scan)
class ScanAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "instance", "study_date", "n_series", "n_deviations", "processing_state", "hint_rank",
                    "created_at")
    list_filter = ("instance", "processing_state", "hint_rank", "n_deviations", "archive_in_place",
                   "subject__withdrawn", "import_batch")
    search_fields = ("=subject__eid", "archive_sha256", "archive_name")
    list_select_related = ("subject",)
    readonly_fields = ("qc_images", "hints_pretty", "inventory_pretty", "deviations_pretty")
    exclude = ("inventory", "deviations", "qc_hints")

    @admin.display(description="QC images")
    def qc_images(self, obj):
        images = scan_image_urls(obj)
        if not images:
            return "not preprocessed yet"
        return format_html_join("", "<img src='{}' alt='{}' title='{}'>", (
            (url, name, name) for name, url in images))

    @admin.display(description="QC hints")
    def hints_pretty(self, obj):
        if not obj.qc_hints:
            return "none"
        return format_html("<ul>{}</ul>", format_html_join("", "<li><b>{}</b> <code>{}</code> {}</li>", (
            (h["severity"], h["code"], h["message"]) for h in obj.qc_hints)))

    @admin.display(description="inventory")
    def inventory_pretty(self, obj):
        return inventory_table(obj.inventory)

    @admin.display(description="deviations")
    def deviations_pretty(self, obj):
        if not obj.deviations:
            return "none"
        return format_html("<ul>{}</ul>", format_html_join("", "<li><code>{}</code> {}</li>", (
            (d["code"], d["message"]) for d in obj.deviations)))
