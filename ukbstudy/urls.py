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
    path("", RedirectView.as_view(pattern_name="qc:queue", permanent=False)),
    path("", include("ukbstudy.accounts.urls")),
    path("qc/", include("ukbstudy.qc.urls")),
    path("", include("ukbstudy.measurements.urls")),
    path("jobs/", include("ukbstudy.jobs.urls")),
    path("liverfat/", include("ukbstudy.liverfat.urls")),
    path("marrow/", include("ukbstudy.marrow.urls")),
    path("atlas/", include("ukbstudy.atlas.urls")),
    path("results/", include("ukbstudy.results.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("ukbstudy.api.urls")),
    path("", include("ukbstudy.imaging.urls")),
]
