"""Inter-rater agreement for visual QC: Cohen's kappa for every pair of raters on the scans both rated."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass
from itertools import combinations

from sklearn.metrics import cohen_kappa_score


@dataclass(frozen=True)
class RaterPair:
    rater_a: Hashable
    rater_b: Hashable
    n: int  # items both rated
    agreements: int
    disagreements: int
    kappa: float  # NaN when undefined (fewer than 2 items, or one category used by both throughout)

    def as_dict(self) -> dict:
        return asdict(self)


def rater_agreement(ratings: Mapping[tuple[Hashable, Hashable], str]) -> list[RaterPair]:
    """``ratings`` maps (item, rater) to a category; kappa by sklearn.metrics.cohen_kappa_score over the
    items each pair of raters both rated. Pairs with no item in common are left out."""
    by_rater: dict[Hashable, dict[Hashable, str]] = {}
    for (item, rater), category in ratings.items():
        by_rater.setdefault(rater, {})[item] = category
    pairs = []
    for a, b in combinations(sorted(by_rater, key=str), 2):
        common = sorted(set(by_rater[a]) & set(by_rater[b]), key=str)
        if not common:
            continue
        first = [by_rater[a][item] for item in common]
        second = [by_rater[b][item] for item in common]
        agreements = sum(x == y for x, y in zip(first, second, strict=True))
        pairs.append(RaterPair(a, b, len(common), agreements, len(common) - agreements, _kappa(first, second)))
    return pairs


def _kappa(first: list[str], second: list[str]) -> float:
    if len(first) < 2 or len(set(first) | set(second)) < 2:
        return float("nan")
    return float(cohen_kappa_score(first, second))
