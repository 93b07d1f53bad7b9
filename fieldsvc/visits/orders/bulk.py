"""Work orders in bulk from .xlsx / .csv: every row is checked first (the preview, nothing written);
only a file without a single error is created, in one transaction — the same all-or-nothing rule
and file reading as :mod:`fieldsvc.visits.master.importer`.

Columns: ``kind`` (install, removal, relocation, replacement), ``merchant`` (code), and as the kind
needs ``terminal_serial``, ``model``, ``family``, ``target_merchant``; optional ``notes``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.master.importer import CellError, RowError, Source, _blank, _header_name, _text, read_rows
from fieldsvc.visits.orders.service import OrderError, OrderInput, create, validate

COLUMNS = ("kind", "merchant", "terminal_serial", "model", "family", "target_merchant", "notes")
REQUIRED = ("kind", "merchant")
MAX_ROWS = 5000


@dataclass
class Preview:
    """Rows as read (spreadsheet row number, values) and every error; ``ok`` when none."""

    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    created: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    def rows_json(self) -> str:
        return json.dumps([{"row": n, **v} for n, v in self.rows], ensure_ascii=False)


def _read(source: Source, filename: str, preview: Preview) -> None:
    rows = read_rows(source, filename)
    try:
        header_no, header = next(rows)
    except StopIteration:
        preview.errors.append(RowError(1, "-", _("the file is empty: the first row must name the columns")))
        return
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        name = _header_name(h)
        if not name:
            continue
        if name not in COLUMNS:
            preview.errors.append(RowError(header_no, name, _("unknown column; expected: %(cols)s",
                                                              cols=", ".join(COLUMNS))))
        else:
            index[name] = i
    for col in REQUIRED:
        if col not in index:
            preview.errors.append(RowError(header_no, col, _("required column is missing")))
    if preview.errors:
        return
    for n, cells in rows:
        raw = {k: (cells[i] if i < len(cells) else None) for k, i in index.items()}
        if all(_blank(v) for v in raw.values()):
            continue
        preview.rows.append((n, {k: _text(v) for k, v in raw.items()}))
        if len(preview.rows) > MAX_ROWS:
            preview.errors.append(RowError(n, "-", _("at most %(n)s rows in one file", n=MAX_ROWS)))
            return


def _check(preview: Preview, user: m.User) -> list[dict[str, Any]]:
    valid = []
    seen: dict[str, int] = {}
    for n, v in preview.rows:
        try:
            values = validate(OrderInput(**{k: v.get(k, "") for k in COLUMNS}), user)
        except OrderError as e:
            col = e.field if e.field in COLUMNS else "-"
            preview.errors.append(RowError(n, col, e.message.split(": ", 1)[-1]))
            continue
        term = values["terminal"]
        if term is not None:
            if term.serial in seen:
                preview.errors.append(RowError(n, "terminal_serial", _("duplicate: %(serial)s is also on row %(row)s",
                                                                       serial=term.serial, row=seen[term.serial])))
                continue
            seen[term.serial] = n
        valid.append(values)
    return valid


def preview_file(source: Source, filename: str, user: m.User) -> Preview:
    """Read and check every row; nothing is written."""
    preview = Preview()
    try:
        _read(source, filename, preview)
    except CellError as e:
        preview.errors.append(RowError(1, "-", str(e)))
        return preview
    if not preview.errors:
        _check(preview, user)
    if not preview.rows and not preview.errors:
        preview.errors.append(RowError(2, "-", _("no data rows under the header")))
    db.session.rollback()
    return preview


def commit_rows(rows_json: str, user: m.User) -> Preview:
    """Check the previewed rows again and create them all in one transaction, or none."""
    preview = Preview()
    try:
        data = json.loads(rows_json)
        preview.rows = [(int(r.pop("row")), {k: str(r.get(k, "")) for k in COLUMNS}) for r in data]
    except (ValueError, TypeError, KeyError, AttributeError):
        preview.errors.append(RowError(0, "-", _("the preview could not be read; upload the file again")))
        return preview
    valid = _check(preview, user)
    if preview.errors or not valid:
        db.session.rollback()
        return preview
    try:
        for values in valid:
            create(values, user, commit=False)
        record("import", None, actor=user, object_type="work_order", kind="work_orders", rows=len(valid))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    preview.created = len(valid)
    return preview
