"""Fixtures of the scorecard tests: the hand-built month of tests/scorecard/dataset.py."""
from __future__ import annotations

import pytest

from tests.scorecard import dataset


@pytest.fixture
def month(world):
    """The world plus May 2026's calls and visits (see dataset.EXPECTED_C1)."""
    return dataset.build(world)
