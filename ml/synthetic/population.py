"""The synthetic participants: showcase values, true fat fractions, reference values and faults.

``make_population`` draws everything that is not an image, vectorised over subjects, so cohort-level
statistics (reference coverage, BMD-BMFF correlation) can be checked on thousands of subjects in
milliseconds. Distributions follow the UK Biobank imaging cohort as the two papers describe it:

- liver PDFF is right-skewed (median ~2.1 %, mean ~3.9 %, ~20 % above 5.5 %), a mixture of a healthy
  and a steatotic log-normal whose weight rises with BMI;
- the body MRI's liver is generated with a fat fraction above the true PDFF (``liver_ff_image``: the T1
  bias of magnitude Dixon) plus each subject's and visit's own bias (T2*, iron, shim); the rendered images add
  the magnitude noise floor at low fat, and the atlas method's linear correction ``ref ~ 0.9 img - 0.8``
  roughly inverts the sum;
- field 22402 (~15 % of subjects) has ~1 % spurious outliers, the "wrong reference values" that the
  liver paper's outlier review found; 22436 (~25 %, partly the same people) has none;
- BMFF rises with age, is higher in women at the spine and in men at the femur, and is correlated
  across regions;
- a share of participants comes back for a repeat imaging visit (instance 3) 700-1100 days later, older by
  the interval, with a drifted BMI and height and a true change of liver PDFF and BMFF (see
  ``_repeat_visit``); its showcase columns (``53-3.0``, ``21003-3.0``, ``50-3.0``, ``21001-3.0``,
  ``54-3.0``: the visit fields the showcase schema holds at instance 3) are in ``Subject.showcase_repeat``.

Every draw comes from a named stream (``seeding.stream``). The repeat visit's values come from streams of
their own, so the first visit (its showcase values, truth and images) is the same as in generator
version 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
REFERENCE_22402_SHARE = 0.15  # of the participants at the first imaging visit with a dedicated liver MRI

# The repeat imaging visit (instance 3), 700-1100 days after the first; changes are given for 2.5 years and
# scaled with the interval (means linearly, standard deviations with its square root, as for a random walk).
# UK Biobank's re-imaged participants (3,088, ~2 years apart) showed no significant mean change of BMI, weight
# or liver fat "despite some large individual changes" (Whitcher et al., Sci Rep 2022,
# doi:10.1038/s41598-022-07556-y); likewise for BMI and liver fat in 2,325 re-imaged participants 2.2 years
# apart (Diabetes 2024;73(Suppl 1):1410-P).
CHANGE_YEARS = 2.5
DAYS_PER_YEAR = 365.25
BMI_CHANGE = (0.1, 1.2)  # kg/m2 over 2.5 years, mean and SD. Assumed: middle-aged cohorts gain ~0-0.2 kg/m2
                         # in 2-3 years with an SD of 1.0-1.5 kg/m2; no significant mean change in UK Biobank
HEIGHT_LOSS_PER_YEAR = 0.1  # cm; assumed, the order of the loss of stature at 60-70 (Sorkin et al., Am J
                            # Epidemiol 1999, Baltimore Longitudinal Study of Aging)
HEIGHT_REMEASURE_SD = 0.5  # cm; stadiometer remeasurement error (assumed)
# Liver PDFF changes multiplicatively: log(PDFF3 / PDFF2) = LIVER_PER_BMI * dBMI + residual. A >= 5 % fall of
# BMI (~1.6 kg/m2) lowered MRI-PDFF by 25.5 % relative (18.3 -> 13.6 %) in Patel et al., Clin Gastroenterol
# Hepatol 2015 (escholarship.org/uc/item/7fh0w6tn): ln(0.745) / -1.6 ~ 0.18 per kg/m2, about +0.7 pp PDFF
# per kg/m2 of BMI gain at this cohort's mean PDFF (~0.4 pp at the median, ~2 pp at 10 % PDFF).
LIVER_PER_BMI = 0.18
# Residual of the log change: normal with SD 0.20, one in ten participants 2.5 times that (heavier tails:
# diet, drugs, alcohol, illness). Assumed, so that the SD of the true change is ~2 pp in a UK Biobank-like
# cohort (~0.8 pp below 5.5 % PDFF, ~4 pp above), within the 1.5-3 pp of 2-3-year changes in population
# cohorts; the means are corrected so that the distribution of PDFF stays as it was (no mean change but for
# the BMI gain), as UK Biobank's re-imaging found.
LIVER_RESIDUAL = (0.20, 0.10, 2.5)  # SD of log change over 2.5 years, share of wide changes, their SD factor
LIVER_RANGE = (0.5, 45.0)  # % at the repeat visit
# BMFF: mean change = the region's cross-sectional slope with age (BMFF_MODEL) x interval, i.e. +0.75 pp at
# the spine and +0.25-0.5 pp at the femur in 2.5 years (the BMFF paper: spinal BMFF rises with age, femoral
# BMFF shows no age relation at 60-69), plus the spine's BMI slope x dBMI; SD 1.5 pp over 2.5 years
# (assumed), correlated across regions through a shared factor (loading BMFF_SHARED).
BMFF_CHANGE_SD = 1.5
CENTRE_CHANGE = 0.1  # share of repeat visits at another imaging centre than the first (assumed)
REPEAT_CENTRES = (*IMAGING_CENTRES, 11028)  # a moved repeat visit may also go to Bristol (imaging)


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
    showcase: dict[str, float | int | date | None]  # the showcase at the first imaging visit (instance 2)
    # The showcase columns of the repeat imaging visit (instance 3): date, age, height, bmi, centre; empty
    # without a repeat visit.
    showcase_repeat: dict[str, float | int | date | None] = field(default_factory=dict)


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
    days_since_first: int  # 0 at the first imaging visit
    age_true: float  # exact age at the scan (years); the showcase and DICOM give it truncated
    bmi_true: float  # BMI at the scan (kg/m2), as the visit's showcase column gives it
    height_cm: float  # standing height as measured at the visit

    @property
    def name(self) -> str:
        """Stem shared by the archive and the label folder, e.g. ``1234567_20201_2_0``."""
        return f"{self.subject.eid}_20201_{self.instance}_0"


@dataclass(frozen=True)
class Population:
    seed: int
    subjects: list[Subject]
    visits: list[Visit]


T1_GAIN = 1 / 0.9  # magnitude Dixon at a short TR over-weights fat (short T1), net of the fat spectrum's loss
IMAGE_OFFSET_PP = 0.75  # what the T2* decay between the echoes adds on average; the noise floor adds the rest
LIVER_BIAS_SD = (0.5, 0.3)  # pp, per subject (iron, T2*) and per visit (shim, breath-hold)


def liver_ff_image(true_ff: np.ndarray | float) -> np.ndarray:
    """The mean fat fraction the body MRI's liver parenchyma is generated with for a true PDFF (both %), before
    a subject's and a visit's own bias (``_liver_bias``) and the magnitude noise floor that the rendered images
    add at low fat. Together they follow the liver fat paper's fit of the reference on the body MRI,
    ref = 0.9 x - 0.8 (``realism`` measures how closely)."""
    true_ff = np.asarray(true_ff, float)
    return T1_GAIN * true_ff + IMAGE_OFFSET_PP


def _liver_bias(seed: int, eid: int, instance: int) -> float:
    """A subject's own departure of image FF from PDFF (the same at both visits) plus a visit's."""
    subject = stream(seed, "liver bias", eid).normal(0, LIVER_BIAS_SD[0])
    return float(subject + stream(seed, "liver bias", eid, instance).normal(0, LIVER_BIAS_SD[1]))


def _image_ff(seed: int, eid: int, instance: int, true_ff: float) -> float:
    return max(float(liver_ff_image(true_ff)) + _liver_bias(seed, eid, instance), 0.0)


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
    visits = _visits(seed, subjects, repeat_fraction, resolve_rates(fault_rates))
    return _with_visit_columns(seed, subjects, visits)


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
    has_22402 = rng.random(n) < REFERENCE_22402_SHARE
    has_22436 = rng.random(n) < np.where(has_22402, 0.5, (0.25 - 0.15 * 0.5) / 0.85)
    first = _pdff_22402(rng, truth)
    second = np.maximum(truth + rng.normal(0, 0.3, n), 0)
    return {"liver_pdff_22402": np.where(has_22402, first, np.nan),
            "liver_pdff_22436": np.where(has_22436, np.round(second, 2), np.nan)}


def _pdff_22402(rng: np.random.Generator, truth: np.ndarray) -> np.ndarray:
    """Field 22402 for true PDFFs: noise of 0.4 pp and ~1 % spurious outliers 8-25 pp off, rounded to 0.01."""
    n = len(truth)
    value = np.maximum(truth + rng.normal(0, 0.4, n), 0)
    outlier = rng.random(n) < 0.01
    jump = rng.uniform(8, 25, n)
    downwards = (rng.random(n) < 0.5) & (truth - jump >= 0)
    return np.round(np.where(outlier, truth + np.where(downwards, -jump, jump), value), 2)


def _subject(i: int, eid: int, people: dict, columns: dict[str, np.ndarray]) -> Subject:
    values = {"sex": int(people["sex"][i]), "age": int(people["age"][i]), "height": float(people["height"][i]),
              "bmi": float(people["bmi"][i]), "centre": int(people["centre"][i]),
              "date": None}  # the first visit's date, filled in by _with_visit_columns
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
    return Visit(subject, 2, subject.liver_ff_true, _image_ff(seed, subject.eid, 2, subject.liver_ff_true),
                 dict(subject.bmff), _table_offset(rng), _clock(rng, day),
                 plan_faults(stream(seed, "faults", subject.eid, 2), rates),
                 days_since_first=0, age_true=_exact_age(seed, subject), bmi_true=subject.bmi,
                 height_cm=float(subject.showcase["height"]))


def _exact_age(seed: int, subject: Subject) -> float:
    """Exact age at the first imaging visit: the showcase's whole years (field 21003 is truncated) plus the
    time since the last birthday."""
    return subject.age + float(stream(seed, "birthday", subject.eid).random())


def _repeat_visit(seed: int, first: Visit, rates: dict[str, float]) -> Visit:
    """The repeat imaging visit about two to three years later: the participant is older by the interval, BMI
    and height drift, and liver PDFF and BMFF change by a known amount (the constants above)."""
    subject = first.subject
    rng = stream(seed, "visit", subject.eid, 3)
    days = int(rng.integers(700, 1100))
    rng.standard_normal(5)  # generator version 1 drew the drift here: kept, so positioning and clock stay
    years = days / DAYS_PER_YEAR
    change = stream(seed, "repeat change", subject.eid)
    mean_scale, sd_scale = years / CHANGE_YEARS, np.sqrt(years / CHANGE_YEARS)
    bmi_change = change.normal(BMI_CHANGE[0] * mean_scale, BMI_CHANGE[1] * sd_scale)
    bmi = round(float(np.clip(first.bmi_true + bmi_change, 15.0, 60.0)), 4)
    height = round(first.height_cm - HEIGHT_LOSS_PER_YEAR * years + change.normal(0, HEIGHT_REMEASURE_SD), 1)
    liver = _liver_change(change, first.liver_ff_true, bmi_change, sd_scale, BMI_CHANGE[1] * sd_scale)
    shared = change.standard_normal()
    bmff = {}
    for region, ff in first.bmff.items():
        per_year = BMFF_MODEL[region][2]
        residual = BMFF_SHARED * shared + np.sqrt(1 - BMFF_SHARED**2) * change.standard_normal()
        drift = per_year * years + (0.15 * bmi_change if region == "spine" else 0.0)  # as in _bmff
        bmff[region] = float(np.clip(ff + drift + BMFF_CHANGE_SD * sd_scale * residual, 15.0, 97.0))
    return Visit(subject, 3, liver, _image_ff(seed, subject.eid, 3, liver), bmff, _table_offset(rng),
                 _clock(rng, first.acquired.date() + timedelta(days=days)),
                 plan_faults(stream(seed, "faults", subject.eid, 3), rates),
                 days_since_first=days, age_true=first.age_true + years, bmi_true=bmi, height_cm=height)


def _liver_change(rng: np.random.Generator, liver: float, bmi_change: float, sd_scale: float,
                  bmi_sd: float) -> float:
    """True PDFF at the repeat visit: log change = LIVER_PER_BMI x BMI change + a heavy-tailed residual, less
    the mean of exp() of the zero-mean parts, so that PDFF changes on average only by the BMI gain."""
    sd, wide_share, wide = LIVER_RESIDUAL
    sd = sd * sd_scale
    residual = sd * (wide if rng.random() < wide_share else 1.0) * rng.standard_normal()
    log_mean = (LIVER_PER_BMI * bmi_sd) ** 2 / 2 + np.log((1 - wide_share) * np.exp(sd**2 / 2)
                                                          + wide_share * np.exp((wide * sd) ** 2 / 2))
    factor = np.exp(LIVER_PER_BMI * bmi_change + residual - log_mean)
    return float(np.clip(liver * factor, *LIVER_RANGE))


def _with_visit_columns(seed: int, subjects: list[Subject], visits: list[Visit]) -> Population:
    """Fill in the showcase columns that come from the visits (the first visit's date; the repeat visit's
    date, age, height, BMI and centre) and point the visits at the completed subjects."""
    by_eid: dict[int, dict[int, Visit]] = {}
    for visit in visits:
        by_eid.setdefault(visit.subject.eid, {})[visit.instance] = visit
    completed = {}
    for subject in subjects:
        first, repeat = by_eid[subject.eid][2], by_eid[subject.eid].get(3)
        showcase = {**subject.showcase, "date": first.acquired.date()}
        columns = _repeat_columns(seed, repeat) if repeat is not None else {}
        completed[subject.eid] = replace(subject, showcase=showcase, showcase_repeat=columns)
    visits = [replace(visit, subject=completed[visit.subject.eid]) for visit in visits]
    return Population(seed, [completed[subject.eid] for subject in subjects], visits)


def _repeat_columns(seed: int, visit: Visit) -> dict[str, float | int | date | None]:
    """The repeat visit's showcase columns: what was measured at it and the centre (usually the first one).
    No liver PDFF reference: the showcase holds fields 22402 and 22436 at instance 2 only (its schema's
    ``instance_max``)."""
    subject = visit.subject
    rng = stream(seed, "repeat showcase", subject.eid)
    centre = int(subject.showcase["centre"])
    if rng.random() < CENTRE_CHANGE:
        centre = int(rng.choice([c for c in REPEAT_CENTRES if c != centre]))
    return {"date": visit.acquired.date(), "age": int(visit.age_true), "height": visit.height_cm,
            "bmi": visit.bmi_true, "centre": centre}


def _table_offset(rng: np.random.Generator) -> float:
    """Everyday positioning jitter of the table landmark, a few millimetres."""
    return float(np.clip(rng.normal(0, 3), -8, 8))


def _clock(rng: np.random.Generator, day: date) -> datetime:
    """Start of the scan: between 08:00 and 17:30 on ``day``."""
    return datetime.combine(day, time(8)) + timedelta(seconds=int(rng.integers(0, 34200)))

