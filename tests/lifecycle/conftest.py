"""Terminal lifecycle tests check visits in at the real time of day: their shops are open around
the clock, so the check-in rules (issue 17: outside opening hours needs a reason) stay out of it."""
from __future__ import annotations

import pytest

from fieldsvc.db import db
from tests.tech.conftest import ALL_DAY


@pytest.fixture(autouse=True)
def _shops_open_all_day(request: pytest.FixtureRequest) -> None:
    if "world" not in request.fixturenames:
        return
    for merchant in request.getfixturevalue("world").merchants:
        merchant.opening_hours = ALL_DAY
    db.session.commit()
