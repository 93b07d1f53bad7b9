"""Helpers for the knowledge-base, self-service and daily-evaluation tests."""
from __future__ import annotations

import pytest

from fieldsvc.visits.desk import kb
from tests.calls.conftest import fixed_now as _calls_fixed_now  # noqa: F401  (the call tests' clock)


@pytest.fixture
def fixed_now(_calls_fixed_now, monkeypatch):
    """The call services' clock frozen at T0, shared by the knowledge base, self-service and reviews."""
    import fieldsvc.visits.desk.calls as calls_mod
    import fieldsvc.visits.desk.kb as kb_mod
    import fieldsvc.visits.desk.self_service as self_mod
    now = calls_mod.utcnow
    for mod in (kb_mod, self_mod):
        monkeypatch.setattr(mod, "utcnow", now)
    return _calls_fixed_now


def article(world, user: str = "psp-p1", **kw):
    """A saved article (PSP p1's unless another writer is given)."""
    data = {"title_fa": "چاپگر چاپ نمی‌کند", "steps_fa": "درِ کاغذ را باز کنید\nرول کاغذ را برگردانید",
            "title_en": "", "steps_en": "", "symptom_codes": ["printer"], "terminal_models": ["PAX S90"]}
    data.update(kw)
    return kb.save_article(world.users[user], data)
