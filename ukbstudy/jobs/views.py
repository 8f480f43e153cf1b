"""The jobs page: live progress of imports, preprocessing and later computations; analysts start and cancel."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ukbstudy.subjects.models import Scan
from ukbstudy.subjects.selectors import scans_pending_processing
from ukbstudy.subjects.services.jobs import preprocess_start

from .models import Job
from .selectors import job_summary, jobs_recent
from .services import job_request_cancel


@permission_required("jobs.view_job", raise_exception=True)
def job_list(request):
    pending = scans_pending_processing().count()
    return render(request, "jobs/list.html", {"jobs": jobs_recent(), "pending_scans": pending,
                                              "can_run": request.user.has_perm("jobs.add_job")})


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


@require_POST
@permission_required("jobs.add_job", raise_exception=True)
def preprocess_pending(request):
    job = preprocess_start(scans=Scan.objects.exclude(processing_state=Scan.State.PROCESSED), user=request.user)
    messages.success(request, f"Job {job.pk}: preprocessing {job.progress_total} scan(s).")
    return redirect("jobs:list")
