"""Repeat imaging visits (instance 3) of the synthetic cohort: showcase columns, the true change, its reader.

No images are rendered: the population, the showcase CSV and ground-truth rows are enough.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import cache
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from ml.synthetic import make_population
from ml.synthetic.archive import patient_of
from ml.synthetic.tables import (
    TRUE_VALUE_COLUMNS,
    ground_truth_row,
    read_true_changes,
    write_ground_truth,
    write_showcase,
)
from ml.ukb.fields import load_catalogue
from ml.ukb.headers import RAP, UKBCONV_CSV, UKBCONV_R
from ml.ukb.showcase import parse_showcase

VISIT_KEYS = ("date", "age", "height", "bmi", "centre")


@cache
def population(n: int = 2000, seed: int = 7, repeat_fraction: float = 1.0):
    return make_population(n, seed, repeat_fraction)


def pairs(pop):
    first = {v.subject.eid: v for v in pop.visits if v.instance == 2}
    return [(first[v.subject.eid], v) for v in pop.visits if v.instance == 3]


@pytest.mark.parametrize("style", [UKBCONV_CSV, RAP, UKBCONV_R], ids=lambda s: s.name)
def test_instance_3_columns_are_filled_for_repeat_visits_only(tmp_path, style):
    pop = make_population(60, seed=3, repeat_fraction=0.3)
    repeat = {first.subject.eid: (first, second) for first, second in pairs(pop)}
    write_showcase(tmp_path / "showcase.csv", pop.subjects, style)
    header = (tmp_path / "showcase.csv").read_text().splitlines()[0].split(style.delimiter)
    expected = {UKBCONV_CSV.name: "53-3.0", RAP.name: "participant.p53_i3", UKBCONV_R.name: "f.53.3.0"}
    assert expected[style.name] in header
    rows = parse_showcase(tmp_path / "showcase.csv", load_catalogue()).rows
    assert len(rows) == 60 and 10 < len(repeat) < 30
    for row in rows:
        if row.eid not in repeat:
            assert set(row.visits) == {2} and not any(key.endswith("-3.0") for key in row.reference)
            continue
        first, second = repeat[row.eid]
        assert set(row.visits[3]) == set(VISIT_KEYS)
        assert row.visits[2]["date"] == first.acquired.date() and row.visits[3]["date"] == second.acquired.date()
        assert row.visits[3]["age"] == int(second.age_true) == second.subject.showcase_repeat["age"]
        assert row.visits[3]["bmi"] == pytest.approx(second.bmi_true)
        assert row.visits[3]["height"] == pytest.approx(second.height_cm)
        assert row.visits[3]["centre"] in (11025, 11026, 11027, 11028)
        assert row.visits[2]["age"] == first.subject.age and row.visits[2]["bmi"] == first.subject.bmi
        assert "22402-3.0" not in row.reference and "22436-3.0" not in row.reference  # instance 2 only


def test_age_and_date_at_the_repeat_visit_follow_the_interval():
    for first, second in pairs(population()):
        days = second.days_since_first
        assert first.days_since_first == 0 and 700 <= days < 1100
        assert (second.acquired.date() - first.acquired.date()).days == days
        assert second.age_true - first.age_true == pytest.approx(days / 365.25)
        age2, age3 = first.subject.showcase["age"], second.subject.showcase_repeat["age"]
        assert age2 == math.floor(first.age_true) and age3 == math.floor(second.age_true)
        assert age3 - age2 in (math.floor(days / 365.25), math.floor(days / 365.25) + 1)


def test_true_change_has_the_chosen_spread():
    visit_pairs = pairs(population())
    change = {region: np.array([b.bmff[region] - a.bmff[region] for a, b in visit_pairs])
              for region in visit_pairs[0][0].bmff}
    liver = np.array([b.liver_ff_true - a.liver_ff_true for a, b in visit_pairs])
    bmi = np.array([b.bmi_true - a.bmi_true for a, b in visit_pairs])
    height = np.array([b.height_cm - a.height_cm for a, b in visit_pairs])
    assert 1.5 < liver.std() < 2.6 and abs(liver.mean()) < 0.3 and stats.kurtosis(liver) > 5  # heavy-tailed
    assert all(0.5 <= b.liver_ff_true <= 45 for _, b in visit_pairs)
    assert 0.0 < bmi.mean() < 0.25 and 1.0 < bmi.std() < 1.4
    assert np.corrcoef(liver, bmi)[0, 1] > 0.25 and 0.4 < np.polyfit(bmi, liver, 1)[0] < 1.0  # pp per kg/m2
    assert -0.4 < height.mean() < -0.1 and 0.4 < height.std() < 0.6
    assert 0.3 < np.mean([c.mean() for c in change.values()]) < 0.7 and change["spine"].mean() > 0.55
    assert all(1.3 < c.std() < 1.7 for c in change.values())
    assert np.corrcoef(change["spine"], change["diaphysis"])[0, 1] > 0.2
    same_centre = np.mean([b.subject.showcase_repeat["centre"] == a.subject.showcase["centre"] for a, b in visit_pairs])
    assert 0.85 < same_centre < 0.95


def test_read_true_changes_gives_instance_3_minus_instance_2(tmp_path):
    pop = make_population(80, seed=5, repeat_fraction=0.25)
    rows = [ground_truth_row(visit, "") for visit in pop.visits]
    write_ground_truth(tmp_path / "ground_truth.csv", rows)
    changes = read_true_changes(tmp_path / "ground_truth.csv")
    visit_pairs = pairs(pop)
    assert set(changes) == set(TRUE_VALUE_COLUMNS) and len(changes["liver_ff_true"]) == len(visit_pairs) == 20
    for first, second in visit_pairs:
        eid = first.subject.eid
        assert changes["liver_ff_true"][eid] == pytest.approx(second.liver_ff_true - first.liver_ff_true, abs=1e-3)
        for region in first.bmff:
            assert changes[f"bmff_{region}"][eid] == pytest.approx(second.bmff[region] - first.bmff[region], abs=1e-3)
    by_archive = {row["archive"]: row for row in rows}
    second = visit_pairs[0][1]
    row = by_archive[f"{second.name}.zip"]
    assert (row["days_since_first"], row["age_true"], row["bmi_true"]) == (
        str(second.days_since_first), f"{second.age_true:.3f}", f"{second.bmi_true:.4f}")


def test_read_true_changes_names_file_line_and_column_of_a_bad_value(tmp_path):
    path = tmp_path / "ground_truth.csv"
    head = "eid,instance,liver_ff_true,bmff_spine,bmff_femoral_head,bmff_total_hip,bmff_diaphysis\n"
    path.write_text(head + "1000001,2,3.0,50,90,80,78\n1000001,3,x,50,90,80,78\n")
    with pytest.raises(ValueError, match=r"ground_truth.csv, line 3, column liver_ff_true: not a number: 'x'"):
        read_true_changes(path)
    path.write_text(head + "1000001,2,3.0,50,90,80,78\n1000001,2,3.0,50,90,80,78\n")
    with pytest.raises(ValueError, match=r"line 3: eid 1000001 instance 2 again \(first on line 2\)"):
        read_true_changes(path)
    path.write_text("eid,instance,liver_ff_true\n")
    with pytest.raises(ValueError, match="not a ground truth file"):
        read_true_changes(path)
    path.write_text(head + "1000001,2,3.0,50,90,80,78\n1000002,3,3.5,50,90,80,78\n1000001,3,4.5,51,90,80,79\n")
    assert read_true_changes(path)["liver_ff_true"] == {1000001: 1.5}


def test_the_repeat_archive_gives_the_age_height_and_weight_at_that_visit():
    for first, second in pairs(make_population(40, seed=2, repeat_fraction=0.5)):
        before, after = (patient_of(SimpleNamespace(visit=v), 0) for v in (first, second))
        assert before.age == first.subject.age and after.age == second.subject.showcase_repeat["age"]
        assert before.height_m == pytest.approx(first.subject.showcase["height"] / 100)
        assert after.weight_kg == pytest.approx(second.bmi_true * (second.height_cm / 100) ** 2)


def test_repeat_visits_are_deterministic_per_seed(tmp_path):
    a, b, c = (make_population(50, seed, 0.5) for seed in (4, 4, 5))
    for name, pop in (("a", a), ("b", b), ("c", c)):
        write_showcase(tmp_path / f"{name}.csv", pop.subjects)
        write_ground_truth(tmp_path / f"{name}_truth.csv", [ground_truth_row(v, "") for v in pop.visits])
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a_truth.csv").read_bytes() == (tmp_path / "b_truth.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()


def _version_1_image_ff(true_ff: float) -> float:
    """The image fat fraction of generator versions 1 and 2; version 3 adds per-subject bias (its own stream)."""
    return (true_ff + 0.8) / 0.9 + 0.5 * np.exp(-(((true_ff - 2.5) / 1.3) ** 2))


def _first_visits(pop) -> list:
    """Instance-2 truth, showcase values (but the date, new in version 2) and visit draws, as snapshotted."""
    out = []
    for v in (v for v in pop.visits if v.instance == 2):
        s = v.subject
        out.append([s.eid, s.sex, s.age, f"{s.bmi:.10g}", f"{s.vat_mass_g:.10g}", f"{s.liver_ff_true:.10g}",
                    {k: f"{x:.10g}" for k, x in sorted(s.bmff.items())},
                    {k: None if x is None else f"{x:.10g}" for k, x in sorted(s.showcase.items()) if k != "date"},
                    f"{v.liver_ff_true:.10g}", f"{_version_1_image_ff(v.liver_ff_true):.10g}",
                    {k: f"{x:.10g}" for k, x in sorted(v.bmff.items())},
                    f"{v.table_offset_mm:.10g}", v.acquired.isoformat(), list(v.faults.codes)])
    return out


def test_first_visits_are_those_of_generator_version_1():
    # Digests of _first_visits computed with the generator before repeat visits were modelled (the image fat
    # fraction of the digest is version 1's function of the truth: every other draw is unchanged).
    snapshots = {(60, 3, 0.3): "05ae8a73239d02b8ed4dd6bd49df96371d2193e8503b245b36423ea6de23f4b8",
                 (200, 0, 1.0): "11762f19e8b08227f161f79896b48e3ef81a11130dfbf6bf8ae3f89f68a95f62"}
    for (n, seed, fraction), digest in snapshots.items():
        visits = _first_visits(make_population(n, seed, fraction))
        assert hashlib.sha256(json.dumps(visits).encode()).hexdigest() == digest
    first = _first_visits(make_population(60, 3, 0.3))[0]
    assert first[:4] == [1014739, 1, 70, "26.3696"] and first[12] == "2018-11-03T10:44:52"
    # the repeat visit keeps its date, positioning and start time of version 1, too
    repeat = next(v for v in population().visits if v.instance == 3)
    assert (repeat.subject.eid, repeat.acquired.isoformat()) == (1003036, "2019-08-22T08:24:12")
    assert repeat.table_offset_mm == pytest.approx(-3.118286658050821, abs=1e-12)
