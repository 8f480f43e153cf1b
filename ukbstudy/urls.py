"""URL configuration.

Media (archives, derived images) is never served as static files: it holds participant data and is
only ever handed out by views that check permissions.
"""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "ukbstudy administration"
admin.site.site_title = "ukbstudy"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("", include("ukbstudy.subjects.urls")),
]
