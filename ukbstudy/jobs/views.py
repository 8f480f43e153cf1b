"""The jobs page: live progress of imports, preprocessing and later computations; analysts cancel (each app's
pages and commands start its jobs)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .models import Job
from .selectors import job_summary, jobs_recent
from .services import job_request_cancel


@permission_required("jobs.view_job", raise_exception=True)
def job_list(request):
    return render(request, "jobs/list.html", {"jobs": jobs_recent(), "can_run": request.user.has_perm("jobs.add_job")})


@permission_required("jobs.view_job", raise_exception=True)
def job_status(request):
    """Progress of the recent jobs, polled by the page to move its progress bars."""
    return JsonResponse({"jobs": [job_summary(job) for job in jobs_recent()]})


@require_POST
@permission_required("jobs.change_job", raise_exception=True)
def job_cancel(request, pk: int):
    job = get_object_or_404(Job, pk=pk)
    job_request_cancel(job=job)
    messages.info(request, f"Cancel requested for job {job.pk}; it stops at its next progress report.")
    return redirect("jobs:list")
