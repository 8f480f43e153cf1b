"""The engine's public functions are documented (that it imports no Django: tests/test_boundaries.py)."""

from __future__ import annotations


def test_every_public_function_is_documented() -> None:
    import inspect

    import analysis

    for name in analysis.__all__:
        assert inspect.getdoc(getattr(analysis, name)), name
