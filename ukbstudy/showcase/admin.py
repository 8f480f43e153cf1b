from django.contrib import admin

from ukbstudy.audit.admin import ReadOnlyAdmin

from .models import CovariateValue, ReferenceValue


class ValueAdmin(ReadOnlyAdmin):
    list_display = ("subject", "field_id", "value", "unit", "import_batch", "updated_at")
    list_filter = ("field_id", "subject__withdrawn", "import_batch")
    search_fields = ("=subject__eid", "field_id")
    list_select_related = ("subject", "import_batch")


admin.site.register(ReferenceValue, ValueAdmin)
admin.site.register(CovariateValue, ValueAdmin)
