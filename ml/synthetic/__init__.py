"""Deterministic synthetic UK Biobank cohorts: field 20201 Dixon archives, showcase CSV and ground truth.

``make_cohort`` writes a whole delivery (see ``cohort``); ``make_population`` draws the participants,
their true fat fractions, reference values, DXA covariates and planted faults without rendering images.
Pure Python and NumPy: no Django here.
"""

from ml.synthetic.cohort import CohortSummary, make_cohort
from ml.synthetic.faults import DEFAULT_FAULT_RATES, FAULT_CODES
from ml.synthetic.population import Population, Subject, Visit, liver_ff_image, make_population

__all__ = ["DEFAULT_FAULT_RATES", "FAULT_CODES", "CohortSummary", "Population", "Subject", "Visit",
           "liver_ff_image", "make_cohort", "make_population"]
