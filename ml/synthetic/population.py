"""The synthetic participants: showcase values, true fat fractions, reference values and faults.

``make_population`` draws everything that is not an image, vectorised over subjects, so cohort-level
statistics (reference coverage, BMD-BMFF correlation) can be checked on thousands of subjects in
milliseconds. Distributions follow the UK Biobank imaging cohort as the two papers describe it:

- liver PDFF is right-skewed (median ~2.1 %, mean ~3.9 %, ~20 % above 5.5 %), a mixture of a healthy
  and a steatotic log-normal whose weight rises with BMI;
- the body MRI shows a smooth non-linear function of the true PDFF (``liver_ff_image``) that the
  atlas method's linear correction ``ref ~ 0.9 img - 0.8`` roughly inverts;
- field 22402 (~15 % of subjects) has ~1 % spurious outliers, the "wrong reference values" that the
  liver paper's outlier review found; 22436 (~25 %, partly the same people) has none;
- BMFF rises with age, is higher in women at the spine and in men at the femur, and is correlated
  across regions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from ml.synthetic.dxa import dxa_columns, vat_mass
from ml.synthetic.faults import FaultPlan, plan_faults, resolve_rates
from ml.synthetic.seeding import stream
from ml.ukb.fields import FIELDS

REGIONS = ("spine", "femoral_head", "total_hip", "diaphysis")
# BMFF model per region: (mean % at age 64, male minus female, % per year of age, sd %).
BMFF_MODEL = {
    "spine": (55.0, -4.0, 0.3, 6.0),
    "femoral_head": (90.0, 2.0, 0.1, 3.5),
    "total_hip": (82.0, 2.0, 0.2, 6.0),
    "diaphysis": (78.0, 2.0, 0.2, 6.0),
}
BMFF_SHARED = 0.6  # loading of the common marrow factor: regions correlate at about 0.36
IMAGING_CENTRES = (11025, 11026, 11027)  # Cheadle, Reading, Newcastle (field 54 coding 10)
SHOWCASE_KEYS = tuple(spec.key for spec in FIELDS)
_FIRST_VISIT = date(2014, 5, 1)


@dataclass(frozen=True)
class Subject:
    """One participant: showcase row values (None = missing) and latent traits the images need."""

    eid: int
    sex: int  # field 31 coding: 0 female, 1 male
    age: int
    bmi: float
    vat_mass_g: float  # present even where the DXA columns are missing
    liver_ff_true: float  # % at the first imaging visit
    bmff: dict[str, float]
    showcase: dict[str, float | int | None]


@dataclass(frozen=True)
class Visit:
    """One imaging visit (one archive) with the truth it was generated from."""

    subject: Subject
    instance: int  # 2 first imaging visit, 3 repeat
    liver_ff_true: float
    liver_ff_image: float
    bmff: dict[str, float]
    table_offset_mm: float  # positioning jitter; faults may add a large shift
    acquired: datetime
    faults: FaultPlan

    @property
    def name(self) -> str:
        """Stem shared by the archive and the label folder, e.g. ``1234567_20201_2_0``."""
        return f"{self.subject.eid}_20201_{self.instance}_0"


@dataclass(frozen=True)
class Population:
    seed: int
    subjects: list[Subject]
    visits: list[Visit]


def liver_ff_image(true_ff: np.ndarray | float) -> np.ndarray:
    """Fat fraction the body MRI shows in the liver for a true PDFF (both %): smooth and non-linear."""
    true_ff = np.asarray(true_ff, float)
    return (true_ff + 0.8) / 0.9 + 0.5 * np.exp(-(((true_ff - 2.5) / 1.3) ** 2))


def make_population(n_subjects: int, seed: int = 0, repeat_fraction: float = 0.05,
                    fault_rates: Mapping[str, float] | None = None) -> Population:
    """Participants and visits of a cohort, without images (deterministic per seed)."""
    rng = stream(seed, "population")
    eids = np.sort(rng.choice(9_000_000, n_subjects, replace=False) + 1_000_000)
    people = _demographics(rng, n_subjects)
    people["liver"] = _liver_truth(rng, people["bmi"])
    residual = {region: rng.standard_normal(n_subjects) for region in REGIONS}
    shared = rng.standard_normal(n_subjects)
    residual = {r: BMFF_SHARED * shared + np.sqrt(1 - BMFF_SHARED**2) * e for r, e in residual.items()}
    people["bmff"] = _bmff(people, residual)
    people["vat"] = vat_mass(rng, people["sex"], people["bmi"])
    columns = dxa_columns(rng, people["sex"], people["age"], people["bmi"], residual, people["vat"])
    columns.update(_references(stream(seed, "references"), people["liver"]))
    subjects = [_subject(i, int(eid), people, columns) for i, eid in enumerate(eids)]
    return Population(seed, subjects, _visits(seed, subjects, repeat_fraction, resolve_rates(fault_rates)))


def _demographics(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    sex = (rng.random(n) < 0.48).astype(int)
    age = np.clip(np.rint(rng.normal(64, 7.5, n)), 45, 82).astype(int)
    height = np.where(sex == 1, rng.normal(176, 6.8, n), rng.normal(163, 6.2, n))
    log_sd = np.sqrt(np.log(1 + (4.3 / 26.6) ** 2))
    bmi = np.exp(rng.normal(np.log(26.6) - log_sd**2 / 2, log_sd, n)) + 0.5 * (sex - 0.48)
    centre = rng.choice(IMAGING_CENTRES, n, p=[0.5, 0.3, 0.2])
    return {"sex": sex, "age": age, "height": np.round(height, 1), "bmi": np.round(np.clip(bmi, 17, 50), 4),
            "centre": centre}


def _liver_truth(rng: np.random.Generator, bmi: np.ndarray) -> np.ndarray:
    """True liver PDFF (%): healthy or steatotic log-normal, steatosis likelier with BMI."""
    n = len(bmi)
    steatotic = rng.random(n) < 1 / (1 + np.exp(-(np.log(0.21 / 0.79) + 0.15 * (bmi - 26.6))))
    healthy = 1.8 * np.exp(0.45 * rng.standard_normal(n))
    fatty = 8.5 * np.exp(0.6 * rng.standard_normal(n))
    return np.clip(np.where(steatotic, fatty, healthy), 0.5, 40.0)


def _bmff(people: dict[str, np.ndarray], residual: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Marrow fat fraction (%) per region from sex, age, BMI and the correlated residuals."""
    values = {}
    for region, (mean, male_excess, per_year, sd) in BMFF_MODEL.items():
        level = mean + male_excess * (people["sex"] - 0.5) + per_year * (people["age"] - 64)
        if region == "spine":
            level = level + 0.15 * (people["bmi"] - 26.6)  # spinal BMFF tracks visceral adiposity
        values[region] = np.clip(level + sd * residual[region], 15.0, 97.0)
    return values


def _references(rng: np.random.Generator, truth: np.ndarray) -> dict[str, np.ndarray]:
    """Liver PDFF reference fields 22402 and 22436 (NaN where not measured)."""
    n = len(truth)
    has_22402 = rng.random(n) < 0.15
    has_22436 = rng.random(n) < np.where(has_22402, 0.5, (0.25 - 0.15 * 0.5) / 0.85)
    first = np.maximum(truth + rng.normal(0, 0.4, n), 0)
    outlier = rng.random(n) < 0.01
    jump = rng.uniform(8, 25, n)
    downwards = (rng.random(n) < 0.5) & (truth - jump >= 0)
    first = np.where(outlier, truth + np.where(downwards, -jump, jump), first)
    second = np.maximum(truth + rng.normal(0, 0.3, n), 0)
    return {"liver_pdff_22402": np.where(has_22402, np.round(first, 2), np.nan),
            "liver_pdff_22436": np.where(has_22436, np.round(second, 2), np.nan)}


def _subject(i: int, eid: int, people: dict, columns: dict[str, np.ndarray]) -> Subject:
    values = {"sex": int(people["sex"][i]), "age": int(people["age"][i]), "height": float(people["height"][i]),
              "bmi": float(people["bmi"][i]), "centre": int(people["centre"][i])}
    values.update({key: None if np.isnan(column[i]) else float(column[i]) for key, column in columns.items()})
    if values["vat_mass"] is not None:
        values["vat_mass"] = int(values["vat_mass"])
    return Subject(
        eid=eid, sex=values["sex"], age=values["age"], bmi=values["bmi"],
        vat_mass_g=float(people["vat"][i]), liver_ff_true=float(people["liver"][i]),
        bmff={region: float(people["bmff"][region][i]) for region in REGIONS},
        showcase={key: values[key] for key in SHOWCASE_KEYS},
    )


def _repeat_count(n: int, fraction: float) -> int:
    """Subjects with a repeat imaging visit: at least one in cohorts of ten or more."""
    if fraction <= 0:
        return 0
    return max(round(n * fraction), 1 if n >= 10 else 0)


def _visits(seed: int, subjects: list[Subject], repeat_fraction: float, rates: dict[str, float]) -> list[Visit]:
    chosen = stream(seed, "repeats").choice(len(subjects), _repeat_count(len(subjects), repeat_fraction),
                                             replace=False)
    visits = []
    for i, subject in enumerate(subjects):
        first = _first_visit(seed, subject, rates)
        visits.append(first)
        if i in chosen:
            visits.append(_repeat_visit(seed, first, rates))
    return visits


def _first_visit(seed: int, subject: Subject, rates: dict[str, float]) -> Visit:
    rng = stream(seed, "visit", subject.eid, 2)
    day = _FIRST_VISIT + timedelta(days=int(rng.integers(0, 2200)))
    return Visit(subject, 2, subject.liver_ff_true, float(liver_ff_image(subject.liver_ff_true)),
                 dict(subject.bmff), _table_offset(rng), _clock(rng, day),
                 plan_faults(stream(seed, "faults", subject.eid, 2), rates))


def _repeat_visit(seed: int, first: Visit, rates: dict[str, float]) -> Visit:
    """The repeat imaging visit about two to three years later: truth drifts a little."""
    rng = stream(seed, "visit", first.subject.eid, 3)
    day = first.acquired.date() + timedelta(days=int(rng.integers(700, 1100)))
    liver = float(np.clip(first.liver_ff_true * np.exp(rng.normal(0, 0.15)), 0.5, 40.0))
    bmff = {region: float(np.clip(ff + rng.normal(0.5, 1.0), 15.0, 97.0)) for region, ff in first.bmff.items()}
    return Visit(first.subject, 3, liver, float(liver_ff_image(liver)), bmff, _table_offset(rng),
                 _clock(rng, day), plan_faults(stream(seed, "faults", first.subject.eid, 3), rates))


def _table_offset(rng: np.random.Generator) -> float:
    """Everyday positioning jitter of the table landmark, a few millimetres."""
    return float(np.clip(rng.normal(0, 3), -8, 8))


def _clock(rng: np.random.Generator, day: date) -> datetime:
    """Start of the scan: between 08:00 and 17:30 on ``day``."""
    return datetime.combine(day, time(8)) + timedelta(seconds=int(rng.integers(0, 34200)))

