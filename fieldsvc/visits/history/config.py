"""A terminal's configuration: firmware version, connection type, SIM number, and the merchant ID
and terminal ID at the switch. Every change is a row (who, when, old, new); the current value of a
field is its latest change. PSP staff and admins change it; the change is audited."""
from __future__ import annotations

import re
from typing import Any, Mapping

from sqlalchemy import select

from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_digits, normalize_phone, normalize_text
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.lifecycle_models import TerminalConfigChange
from fieldsvc.visits.scope import require_role

CONNECTIONS = ("gprs", "4g", "lan", "wifi", "dialup")
FIELDS = ("firmware_version", "connection_type", "sim_number", "switch_merchant_id", "switch_terminal_id")


class ConfigError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message, self.field, self.status, self.code = message, field, 422, "invalid"


def _clean(field: str, value: Any) -> str:
    text = normalize_text(str(value if value is not None else ""))
    if not text:
        raise ConfigError(_("%(field)s: give a value", field=field), field)
    if field == "connection_type":
        if text.lower() not in CONNECTIONS:
            raise ConfigError(_("connection_type: use one of %(c)s", c=", ".join(CONNECTIONS)), field)
        return text.lower()
    if field == "sim_number":
        try:
            return normalize_phone(text, mobile_only=True)
        except ValueError as e:
            raise ConfigError(f"sim_number: {e}", field) from None
    if field in ("switch_merchant_id", "switch_terminal_id"):
        digits = normalize_digits(text).replace(" ", "")
        if not re.fullmatch(r"\d{4,20}", digits):
            raise ConfigError(_("%(field)s: digits only (4 to 20)", field=field), field)
        return digits
    text = normalize_digits(text)
    if len(text) > 64:
        raise ConfigError(_("%(field)s: at most 64 characters", field=field), field)
    return text


def current_config(terminal: m.Terminal) -> dict[str, str | None]:
    """The latest value of every configuration field (None: never set)."""
    out: dict[str, str | None] = {f: None for f in FIELDS}
    for ch in db.session.scalars(select(TerminalConfigChange).where(TerminalConfigChange.terminal_id == terminal.id)
                                 .order_by(TerminalConfigChange.at, TerminalConfigChange.id)):
        out[ch.field] = ch.new_value
    return out


def change_config(user: m.User, terminal: m.Terminal, values: Mapping[str, Any]) -> list[TerminalConfigChange]:
    """Record the fields that change (all checked first: nothing is written if one is wrong)."""
    require_role(user, m.Role.PSP, m.Role.ADMIN)
    unknown = [k for k in values if k not in FIELDS]
    if unknown:
        raise ConfigError(_("%(field)s: not a configuration field; use %(fields)s", field=unknown[0],
                            fields=", ".join(FIELDS)), unknown[0])
    clean = {k: _clean(k, v) for k, v in values.items()}
    now = utcnow()
    current = current_config(terminal)
    made = []
    for field, value in clean.items():
        if current[field] == value:
            continue
        ch = TerminalConfigChange(terminal_id=terminal.id, at=now, field=field, old_value=current[field],
                                  new_value=value, actor_id=user.id, actor=user.username)
        db.session.add(ch)
        made.append(ch)
    if made:
        record("config_changed", terminal, actor=user, changes={c.field: [c.old_value, c.new_value] for c in made})
    db.session.commit()
    return made
