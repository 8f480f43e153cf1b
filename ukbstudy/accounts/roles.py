"""The study's roles as Django groups and the permissions each grants.

- viewer: sees subjects, scans, QC history, measurements, jobs;
- rater: a viewer who records QC decisions;
- analyst: a rater who also starts and cancels jobs;
- admin: everything, including users and exports (also ``is_staff`` for the admin site).
"""

from __future__ import annotations

VIEW = [
    "subjects.view_subject", "subjects.view_visit", "imaging.view_scan", "showcase.view_referencevalue",
    "showcase.view_covariatevalue",
    "subjects.view_importbatch", "qc.view_qcdecision", "measurements.view_measurement",
    "measurements.view_modelversion", "jobs.view_job",
    "results.view_outlierverdict",
    "marrow.view_manualsegmentation", "marrow.view_segmentation",
    "liverfat.view_foldassignment",
]
RATE = ["qc.add_qcdecision", "results.add_outlierverdict",
        "marrow.change_segmentation"]
ANALYSE = ["jobs.add_job", "jobs.change_job",
           "marrow.add_manualsegmentation",
           "measurements.change_modelversion"]
ROLES: dict[str, list[str]] = {
    "viewer": VIEW,
    "rater": VIEW + RATE,
    "analyst": VIEW + RATE + ANALYSE,
    "admin": ["*"],
}
ROLE_NAMES = tuple(ROLES)


def role_of(user) -> str | None:
    """The highest role a user has (superusers are admins)."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return "admin"
    names = set(user.groups.values_list("name", flat=True))
    return next((role for role in reversed(ROLE_NAMES) if role in names), None)
