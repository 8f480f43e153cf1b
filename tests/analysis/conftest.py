"""Synthetic data for the statistics engine tests (no database needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240)


@pytest.fixture
def liver(rng: np.random.Generator) -> pd.DataFrame:
    """Reference liver FF, a network close to it and a raw atlas on the scale 0.9x - 0.8 would correct."""
    n = 400
    reference = rng.gamma(1.6, 3.2, n)
    shared = rng.normal(0.0, 0.8, n)  # error the network and the atlas have in common
    network = reference + shared + rng.normal(0.0, 0.6, n)
    atlas_raw = (reference + shared + 0.8) / 0.9 + rng.normal(0.0, 0.6, n)
    return pd.DataFrame({"eid": np.arange(1_000_000, 1_000_000 + n), "reference": reference,
                         "network": network, "atlas_raw": atlas_raw})


@pytest.fixture
def bone(rng: np.random.Generator) -> pd.DataFrame:
    """A BMFF-like cohort: sex as 'F'/'M', BMFF at two sites with a sex-dependent slope, BMD and adiposity."""
    n = 600
    male = rng.random(n) < 0.45
    spine = rng.normal(55.0, 8.0, n) - 3.0 * male
    head = 80.0 + np.where(male, 0.05, 0.35) * spine + rng.normal(0.0, 3.0, n)
    bmi = rng.normal(23.0, 1.5, n)
    legs = np.where(male, 21.0, 36.0) + rng.normal(0.0, 4.0, n)
    bmd = 1.1 - 0.005 * spine + 0.06 * male + 0.02 * bmi - 0.006 * legs + rng.normal(0.0, 0.12, n)
    return pd.DataFrame({"sex": np.where(male, "M", "F"), "bmff_spine": spine, "bmff_head": head, "bmi": bmi,
                         "legs_fat": legs, "age": rng.uniform(60.0, 70.0, n), "bmd_spine": bmd})
