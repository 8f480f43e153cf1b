"""Named random streams, so that every random choice of the generator is reproducible on its own.

Each purpose (population, faults, anatomy of one subject, noise of one acquisition, ...) draws from its
own stream derived from the cohort seed and a few keys. Changing one choice, for instance forcing a
fault, therefore leaves every other draw untouched: a clean and a faulty cohort made with the same seed
differ only where the fault acts, which is what the tests compare.
"""

from __future__ import annotations

import zlib

import numpy as np

Key = int | str


def _entropy(key: Key) -> int:
    """A stable non-negative integer for a key (``hash`` of a string changes between interpreters)."""
    return key if isinstance(key, int) and key >= 0 else zlib.crc32(str(key).encode())


def stream(seed: int, *keys: Key) -> np.random.Generator:
    """The random generator for one purpose; SFC64 because noise needs ~10^8 fast normal draws."""
    sequence = np.random.SeedSequence([_entropy(seed), *map(_entropy, keys)])
    return np.random.Generator(np.random.SFC64(sequence))
