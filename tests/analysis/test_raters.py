import math

from sklearn.metrics import cohen_kappa_score

from analysis.raters import rater_agreement


def test_kappa_per_pair_on_the_items_both_rated():
    ratings = {(1, "a"): "pass", (2, "a"): "fail", (3, "a"): "pass", (4, "a"): "questionable",
               (1, "b"): "pass", (2, "b"): "pass", (3, "b"): "pass", (4, "b"): "questionable", (9, "b"): "fail",
               (5, "c"): "pass"}
    pairs = rater_agreement(ratings)
    assert [(p.rater_a, p.rater_b, p.n, p.disagreements) for p in pairs] == [("a", "b", 4, 1)]
    expected = cohen_kappa_score(["pass", "fail", "pass", "questionable"], ["pass", "pass", "pass", "questionable"])
    assert pairs[0].kappa == expected


def test_kappa_is_nan_when_undefined():
    pairs = rater_agreement({(1, "a"): "pass", (1, "b"): "pass", (2, "a"): "pass", (2, "b"): "pass"})
    assert math.isnan(pairs[0].kappa) and pairs[0].agreements == 2
