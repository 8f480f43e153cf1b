from django.contrib import admin

from ukbstudy.audit.admin import ReadOnlyAdmin

from .models import CovariateValue, ReferenceValue


class ValueAdmin(ReadOnlyAdmin):
    list_display = ("subject", "field", "value", "unit", "import_batch", "updated_at")
    list_filter = ("field", "subject__withdrawn", "import_batch")
    search_fields = ("=subject__eid", "field")
    list_select_related = ("subject", "import_batch")


admin.site.register(ReferenceValue, ValueAdmin)
admin.site.register(CovariateValue, ValueAdmin)
