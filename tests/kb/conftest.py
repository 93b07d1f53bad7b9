"""Helpers for the knowledge-base, self-service and daily-evaluation tests."""
from __future__ import annotations

import pytest

from fieldsvc.visits.desk import kb
from tests.calls.conftest import T0


@pytest.fixture
def fixed_now(monkeypatch):
    """Freeze the services' clock at T0 (calls, slotting, knowledge base, self-service); returns a
    setter for another instant (like tests.calls.conftest.fixed_now)."""
    import fieldsvc.visits.desk.calls as calls_mod
    import fieldsvc.visits.desk.kb as kb_mod
    import fieldsvc.visits.desk.self_service as self_mod
    import fieldsvc.visits.desk.slotting as slot_mod
    state = {"now": T0}

    def now():
        return state["now"]

    for mod in (calls_mod, slot_mod, kb_mod, self_mod):
        monkeypatch.setattr(mod, "utcnow", now)

    def set_now(value) -> None:
        state["now"] = value
    return set_now


def article(world, user: str = "psp-p1", **kw):
    """A saved article (PSP p1's unless another writer is given)."""
    data = {"title_fa": "چاپگر چاپ نمی‌کند", "steps_fa": "درِ کاغذ را باز کنید\nرول کاغذ را برگردانید",
            "title_en": "", "steps_en": "", "symptom_codes": ["printer"], "terminal_models": ["PAX S90"]}
    data.update(kw)
    return kb.save_article(world.users[user], data)
