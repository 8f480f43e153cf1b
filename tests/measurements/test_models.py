"""Measurements: one value per scan, quantity, method and model version."""

import pytest
from django.db import IntegrityError, transaction

from tests.factories import make_scan
from ukbstudy.imaging.models import Scan
from ukbstudy.jobs.models import Job
from ukbstudy.measurements.models import Measurement, ModelVersion
from ukbstudy.measurements.services import measurement_record
from ukbstudy.qc.models import QCDecision
from ukbstudy.subjects.models import Subject

pytestmark = pytest.mark.django_db


def measure(scan, model_version=None, method="network", value=4.2, **extra):
    return measurement_record(scan=scan, quantity="liver_ff", method=method, value=value,
                              model_version=model_version, **extra)


def test_a_second_value_for_the_same_model_version_is_refused():
    scan = make_scan()
    version = ModelVersion.objects.create(task="liver_ff_regression", name="resnet50", version="1")
    measure(scan, version)
    with pytest.raises(IntegrityError), transaction.atomic():
        measure(scan, version, value=5.0)
    measure(scan, ModelVersion.objects.create(task="liver_ff_regression", name="resnet50", version="2"))
    assert Measurement.objects.count() == 2


def test_values_without_a_model_version_are_unique_too():
    scan = make_scan()
    measure(scan, method="manual")
    with pytest.raises(IntegrityError), transaction.atomic():
        measure(scan, method="manual", value=9.9)


def test_a_measurement_keeps_its_provenance():
    scan = make_scan()
    job = Job.objects.create(kind=Job.Kind.INFER)
    version = ModelVersion.objects.create(task="liver_ff_regression", name="resnet50", version="1", trained_by=job)
    value = measure(scan, version, job=job, details={"fold": 3})
    value.refresh_from_db()
    assert (value.model_version.trained_by, value.job, value.details) == (job, job, {"fold": 3})


def test_only_one_model_version_per_task_is_current():
    ModelVersion.objects.create(task="liver_ff_regression", name="resnet50", version="1", is_current=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.create(task="liver_ff_regression", name="resnet50", version="2", is_current=True)
    ModelVersion.objects.create(task="liver_ff_atlas", name="templates", version="1", is_current=True)


def test_a_measurement_takes_its_subject_from_its_scan():
    scan = make_scan()
    assert measure(scan).subject == scan.subject


def test_a_measurement_on_a_withdrawn_subjects_scan_is_hidden_even_if_mislabelled():
    scan = make_scan()
    mislabelled = Measurement.objects.create(subject=make_scan().subject, scan=scan, quantity="liver_ff",
                                             method="manual", value=1.0)
    scan.subject.withdrawn = True
    scan.subject.save()
    assert not Measurement.objects.filter(pk=mislabelled.pk).exists()


def test_querysets_can_be_pickled_for_caches_and_tasks():
    import pickle

    measure(make_scan())
    for queryset in (Measurement.objects.all(), Scan.objects.all(), QCDecision.objects.all(), Subject.objects.all()):
        assert list(pickle.loads(pickle.dumps(queryset))) == list(queryset)
