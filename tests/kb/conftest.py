"""Helpers for the knowledge-base, self-service and daily-evaluation tests."""
from __future__ import annotations

from fieldsvc.visits.desk import kb
from tests.calls.conftest import fixed_now  # noqa: F401  (the services' clock, shared with the call tests)


def article(world, user: str = "psp-p1", **kw):
    """A saved article (PSP p1's unless another writer is given)."""
    data = {"title_fa": "چاپگر چاپ نمی‌کند", "steps_fa": "درِ کاغذ را باز کنید\nرول کاغذ را برگردانید",
            "title_en": "", "steps_en": "", "symptom_codes": ["printer"], "terminal_models": ["PAX S90"]}
    data.update(kw)
    return kb.save_article(world.users[user], data)
