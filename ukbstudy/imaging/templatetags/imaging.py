"""The jobs page's preprocessing button, rendered by the imaging app so that jobs need not know scans."""

from django import template

from ..selectors import scans_pending_processing

register = template.Library()


@register.inclusion_tag("imaging/preprocess_pending.html", takes_context=True)
def preprocess_pending_form(context):
    """The "preprocess the N scans not processed yet" form, for users who may start jobs."""
    request = context["request"]
    can_run = request.user.has_perm("jobs.add_job")
    return {"can_run": can_run, "pending_scans": scans_pending_processing().count() if can_run else 0,
            "csrf_token": context.get("csrf_token")}
