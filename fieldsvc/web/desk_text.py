"""Words of the support desk shown to people: notifications and alerts in the reader's language."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk.tiers import TIER_LABELS


def alert_text(kind: str, level: int) -> str:
    """What an alert says: the escalation level reached, or the clock about to breach."""
    if kind == "escalation":
        return _("Escalated: %(level)s", level=str(svc.ESCALATION_LABELS.get(level, level)))
    return {1: _("First response about to breach"), 2: _("On-site deadline about to breach"),
            3: _("Fix deadline about to breach")}.get(level, _("Deadline about to breach"))


def notification_text(kind: str, data: dict[str, Any]) -> str:
    """One line saying what a notification is about."""
    number = data.get("tracking_number", "")
    by = data.get("by", "")
    if kind == "mention":
        return _("%(user)s mentioned you on call %(number)s", user=by, number=number)
    if kind == "handover":
        return _("%(user)s handed call %(number)s to you (%(tier)s)", user=by, number=number,
                 tier=str(TIER_LABELS.get(data.get("tier", ""), data.get("tier", ""))))
    if kind == "dispatched":
        return _("%(user)s sent call %(number)s to the field", user=by, number=number)
    if kind in ("escalation", "breach_soon"):
        return _("Call %(number)s: %(what)s", number=number, what=alert_text(kind, int(data.get("level", 0))))
    return number
