"""The technician's day of tests/tech, plus a PAX checklist of PSP p1: a pass/fail item opening a
follow-up call, a battery reading (3.6–4.2 V) opening a replacement order, and a photo item."""
from __future__ import annotations

import pytest

from fieldsvc.visits.field import checklists as svc
from tests.tech.conftest import _device_times_just_before_the_day, day  # noqa: F401 (fixtures)


@pytest.fixture
def checklist(day, world):  # noqa: F811 (the imported fixture)
    psp_user = world.users["psp-p1"]
    return svc.create_checklist(psp_user, family="pax", name="PAX PM", items=[
        svc.ItemInput(label="Printer prints clearly", label_fa="چاپگر تمیز چاپ می‌کند", on_fail="call"),
        svc.ItemInput(label="Battery voltage", kind="reading", min_value=3.6, max_value=4.2, unit="V",
                      on_fail="order"),
        svc.ItemInput(label="Photo of the label", kind="photo", required=False),
    ])
