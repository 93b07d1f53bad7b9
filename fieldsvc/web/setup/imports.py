"""File imports in the browser (/setup/imports): upload, preview (the first rows as understood and
every error as "row N, column X: …", nothing written), then confirm (all or nothing, one audit
event). Merchants, terminals and technicians (.xlsx / .csv, see data/IMPORT.md; technicians may get
logins with first passwords) and regions (GeoJSON). Administrators only."""
from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.master import records as rec
from fieldsvc.visits.master.importer import import_file
from fieldsvc.visits.master.users import create_user
from fieldsvc.visits.scope import require_role
from fieldsvc.web.setup import bp

KINDS = ("merchants", "terminals", "technicians", "regions")
SUFFIXES = {"merchants": (".xlsx", ".csv"), "terminals": (".xlsx", ".csv"), "technicians": (".xlsx", ".csv"),
            "regions": (".geojson", ".json")}
PREVIEW_ROWS = 10


def _folder() -> Path:
    folder = Path(current_app.config["UPLOAD_DIR"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _stored(token: str, kind: str) -> Path | None:
    if not token.isalnum() or kind not in KINDS:
        return None
    matches = sorted(_folder().glob(f"{kind}-{token}.*"))
    return matches[0] if matches else None


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if k in ("geometry", "created_at", "updated_at"):
            continue
        out[k] = v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v
    return out


def _run(kind: str, path: Path, *, dry_run: bool) -> tuple[list[str], list[dict[str, Any]], int]:
    """(errors, preview rows, number of rows) of importing the stored file."""
    if kind == "regions":
        errors, rows = rec.import_regions(path.read_bytes(), current_user, dry_run=dry_run)
        return errors, [_plain(r) for r in rows[:PREVIEW_ROWS]], len(rows)
    with open(path, "rb") as fh:
        result = import_file(kind, fh, path.name, actor=current_user, dry_run=dry_run, preview_rows=PREVIEW_ROWS)
    return [str(e) for e in result.errors], [_plain(r) for r in result.preview], result.rows


def _technician_logins(path: Path) -> list[tuple[str, str]]:
    """Logins (username, first password) for the file's technicians that have none yet; committed."""
    from fieldsvc.visits.master.importer import read_rows
    with open(path, "rb") as fh:
        rows = list(read_rows(fh, path.name))
    header = [str(c or "").strip().lower() for c in rows[0][1]] if rows else []
    if "contractor" not in header or "code" not in header:
        return []
    ci, ki = header.index("contractor"), header.index("code")
    out = []
    for _n, cells in rows[1:]:
        contractor_code, code = str(cells[ci] or "").strip().lower(), str(cells[ki] or "").strip()
        tech = db.session.scalars(select(m.Technician).join(m.Contractor).where(
            m.Contractor.code == contractor_code, m.Technician.code == code)).first()
        if tech is None or db.session.scalars(select(m.User).where(m.User.technician_id == tech.id)).first():
            continue
        username = f"tech-{contractor_code}-{code}".lower()
        password = secrets.token_urlsafe(9)
        create_user(current_user, username=username, password=password, role="technician", name=tech.name,
                    technician_id=tech.id, contractor_id=tech.contractor_id, commit=False)
        out.append((username, password))
    db.session.commit()
    return out


@bp.route("/imports", methods=["GET", "POST"])
@login_required
def imports():
    """Upload a file and see what it would do; nothing is written until it is confirmed."""
    require_role(current_user, "admin")
    kind = request.values.get("kind", "merchants")
    if kind not in KINDS:
        kind = "merchants"
    if request.method == "GET":
        return render_template("setup/imports.html", kinds=KINDS, kind=kind, errors=None, preview=None)
    upload = request.files.get("file")
    suffix = Path(upload.filename or "").suffix.lower() if upload is not None else ""
    if upload is None or not upload.filename or suffix not in SUFFIXES[kind]:
        flash(_("Choose a %(types)s file to import.", types=" / ".join(SUFFIXES[kind])), "danger")
        return render_template("setup/imports.html", kinds=KINDS, kind=kind, errors=None, preview=None), 422
    token = secrets.token_hex(12)
    path = _folder() / f"{kind}-{token}{suffix}"
    upload.save(path)
    errors, preview, count = _run(kind, path, dry_run=True)
    if errors:
        path.unlink(missing_ok=True)
    return render_template("setup/imports.html", kinds=KINDS, kind=kind, errors=errors, preview=preview,
                           count=count, token=None if errors else token, filename=upload.filename,
                           logins=request.form.get("logins") == "1"), (422 if errors else 200)


@bp.post("/imports/confirm")
@login_required
def imports_confirm():
    """Write the previewed file: all rows or none, one audit event."""
    require_role(current_user, "admin")
    kind = request.form.get("kind", "")
    path = _stored(request.form.get("token", ""), kind)
    if path is None:
        flash(_("This preview has expired; upload the file again."), "danger")
        return redirect(url_for("setup.imports"))
    try:
        errors, _preview, count = _run(kind, path, dry_run=False)
        logins = _technician_logins(path) if not errors and kind == "technicians" and \
            request.form.get("logins") == "1" else []
    finally:
        path.unlink(missing_ok=True)
    if errors:
        return render_template("setup/imports.html", kinds=KINDS, kind=kind, errors=errors, preview=None), 422
    flash(_("%(count)s rows imported.", count=count), "success")
    if logins:
        return render_template("setup/import_logins.html", logins=logins)
    return redirect(url_for("setup.imports", kind=kind))
