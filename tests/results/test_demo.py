"""The demo's results step prints the cohort summary, Table 1 and the outlier ranking the pages show."""

import io
from pathlib import Path

import pytest

from tests.factories import make_scan
from tests.results.cohort import build_cohort
from ukbstudy.results.demo import demo_step

pytestmark = pytest.mark.django_db


def test_the_demo_step_prints_what_the_pages_show(rater):
    build_cohort(rater, n=20, with_reference=15)
    out = io.StringIO()
    demo_step(stdout=out, cohort_dir=Path("var/demo/cohort"))
    text = out.getvalue()
    assert "20 subjects; processed scans by QC status: 1 fail, 19 pass" in text
    assert "liver_ff reference 22402-2.0 15, network 20, atlas 20" in text
    assert "dashboard: 8 of 8 panels drawn" in text
    # dataset A's network values are cross-validation's out-of-fold ones: the demo compares those with the reference
    assert "Reference 22402-2.0 vs Network, cross-validation out-of-fold" in text and "Largest disagreements" in text
    assert "over 15 complete pairs" in text
    assert "/results/compare/?a=reference&b=network_oof&quantity=liver_ff&dataset=A" in text
    assert "/results/outliers/?a=reference&b=network_oof&quantity=liver_ff&dataset=A" in text


def test_without_measurements_the_demo_step_says_what_is_missing():
    make_scan(processing_state="processed")
    out = io.StringIO()
    demo_step(stdout=out, cohort_dir=Path("cohort"))
    assert "no two methods have values for the same subjects yet" in out.getvalue()
