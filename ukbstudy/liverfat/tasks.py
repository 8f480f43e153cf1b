"""Celery tasks of the liver fat network: each takes a job id and runs one service body through the job."""

from celery import shared_task

from ukbstudy.jobs.services import run_job

from .services.runs import cross_validation_run, inference_run, training_run


@shared_task(name="liverfat.cross_validate")
def liverfat_cross_validate(job_id: int) -> None:
    run_job(job_id=job_id, body=cross_validation_run)


@shared_task(name="liverfat.train")
def liverfat_train(job_id: int) -> None:
    run_job(job_id=job_id, body=training_run)


@shared_task(name="liverfat.infer")
def liverfat_infer(job_id: int) -> None:
    run_job(job_id=job_id, body=inference_run)
