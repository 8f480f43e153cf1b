"""ukbstudy: study management for UK Biobank fat-fraction imaging research."""

from .celery import app as celery_app

__all__ = ("celery_app",)
