"""Uploaded files are written only after the transaction that references them commits, and never if
it rolls back (issue 16, point 9): one mechanism, fieldsvc.visits.uploads, used by the intake photo
and the check-out photos; a source check keeps every other writer out of the upload folder."""
from __future__ import annotations

from datetime import timedelta

import ast
import io
from pathlib import Path

import pytest
from PIL import Image

from fieldsvc.db import utcnow, db
from fieldsvc.visits import uploads
from fieldsvc.visits.field import checkin
from fieldsvc.visits import models as m

ROOT = Path(__file__).resolve().parents[2] / "fieldsvc"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (12, 9), "blue").save(buf, "PNG")
    return buf.getvalue()


def _files(app) -> set[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_staged_files_appear_only_on_commit(app, world) -> None:
    target = Path(app.config["UPLOAD_DIR"]) / "calls" / "a.png"
    uploads.stage(db.session, app.config["UPLOAD_DIR"], "calls/a.png", b"one")
    db.session.get(m.Psp, world.psps[0].id).name = "renamed"
    db.session.flush()
    assert not target.exists()
    db.session.commit()
    assert target.read_bytes() == b"one" and not list(target.parent.glob("*.part"))


def test_staged_files_are_dropped_on_rollback_and_close(app, world) -> None:
    root = app.config["UPLOAD_DIR"]
    uploads.stage(db.session, root, "calls/rolled-back.png", b"x")
    db.session.get(m.Psp, world.psps[0].id).name = "renamed"
    db.session.rollback()
    db.session.commit()
    uploads.stage(db.session, root, "calls/closed.png", b"y")
    db.session.get(m.Psp, world.psps[0].id)
    db.session.close()
    db.session.get(m.Psp, world.psps[0].id).name = "later"
    db.session.commit()
    assert _files(app) == set()


def test_a_savepoint_rollback_keeps_the_outer_transactions_files(app, world) -> None:
    uploads.stage(db.session, app.config["UPLOAD_DIR"], "calls/kept.png", b"k")
    db.session.get(m.Psp, world.psps[0].id).name = "renamed"
    nested = db.session.begin_nested()
    nested.rollback()
    db.session.commit()
    assert (Path(app.config["UPLOAD_DIR"]) / "calls" / "kept.png").exists()


def test_paths_stay_inside_the_upload_folder(app) -> None:
    for bad in ("../escape.png", "/etc/x.png", "calls/../../x.png"):
        with pytest.raises(ValueError):
            uploads.stage(db.session, app.config["UPLOAD_DIR"], bad, b"x")


@pytest.mark.parametrize("why", ["duplicate", "unknown serial", "bad symptom"])
def test_a_refused_intake_leaves_no_photo(app, tenants, clients, why: str) -> None:
    before = _files(app)
    serial = {"duplicate": tenants.a.terminal.serial, "unknown serial": "NOPE999"}.get(why, tenants.a.terminal.serial)
    symptom = {"duplicate": tenants.a.call.symptom_code}.get(why, "printer")
    form = {"terminal_serial": serial, "channel": "phone", "priority": "urgent", "symptom": symptom,
            "photo": (io.BytesIO(_png()), "shop.png", "image/png")}
    if why == "bad symptom":
        form["symptom"] = "not-a-symptom"
    r = clients["psp"].post("/psp/calls/new", data=form, content_type="multipart/form-data")
    assert r.status_code == 422
    assert _files(app) == before


def test_an_accepted_intake_writes_its_photo(app, tenants, clients) -> None:
    before = _files(app)
    r = clients["psp"].post("/psp/calls/new", data={
        "terminal_serial": tenants.a.merchant.terminals[-1].serial, "channel": "phone", "priority": "urgent",
        "symptom": "printer", "photo": (io.BytesIO(_png()), "shop.png", "image/png")},
        content_type="multipart/form-data")
    assert r.status_code == 302
    call = db.session.scalars(db.select(m.ServiceCall).order_by(m.ServiceCall.id.desc())).first()
    assert _files(app) - before == {Path(app.config["UPLOAD_DIR"]) / call.photo_path}


def _check_out(clients, visit: m.Visit, **extra):
    import base64
    body = {"outcome": "pm_done" if visit.kind == "pm" else "fixed", "notes": "", "at": utcnow().isoformat(),
            "client_event_id": f"photo-test-{visit.id}-{len(extra)}", "reason": "any hour: photos are tested",
            **extra,
            "photos": [{"filename": "a.png", "data": base64.b64encode(_png()).decode()}]}
    return clients["technician"].post(f"/api/v1/visits/{visit.id}/check-out", json=body)


def test_a_check_out_that_fails_after_its_photos_were_taken_in_writes_none(app, tenants, clients,
                                                                           monkeypatch) -> None:
    merchant = tenants.a.pm_visit.merchant
    r = clients["technician"].post(f"/api/v1/visits/{tenants.a.pm_visit.id}/check-in", json={
        "lat": merchant.lat, "lon": merchant.lon, "accuracy_m": 5,
        "at": (utcnow() - timedelta(minutes=10)).isoformat(), "client_event_id": "photo-test-checkin",
        "reason": "whatever the hour: this test is about the photos"})
    assert r.status_code == 200
    before = _files(app)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")
    monkeypatch.setattr(checkin, "_apply_check_out", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert _check_out(clients, tenants.a.pm_visit).status_code == 500
    assert _files(app) == before
    monkeypatch.undo()
    assert _check_out(clients, tenants.a.pm_visit, notes="again").status_code == 200
    visit = db.session.get(m.Visit, tenants.a.pm_visit.id)
    assert {Path(app.config["UPLOAD_DIR"]) / p.path for p in visit.photos} == _files(app) - before


def test_a_check_out_refused_for_its_code_writes_no_photo(app, tenants, clients) -> None:
    tenants.a.contract.require_confirmation_code = True
    tenants.a.call.confirmation_code = "123456"
    db.session.commit()
    before = _files(app)
    r = _check_out(clients, tenants.a.visit, confirmation_code="654321")
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "confirmation_code"
    assert _files(app) == before


def test_only_the_upload_module_writes_files_of_uploads() -> None:
    """Services and views write no file themselves; the e-mail and SMS outboxes, the translation
    catalogues and the workbook (written to a target the caller gives) are not uploads."""
    # ...nor is an import file kept between its preview and its confirmation (nothing refers to it)
    allowed = {"visits/uploads.py", "web/mail.py", "web/i18n.py", "visits/scorecards/workbook.py",
               "visits/desk/sms.py",  # the SMS file outbox, like the e-mail outbox
               "web/setup/imports.py"}
    writers = []
    for path in list((ROOT / "visits").rglob("*.py")) + list((ROOT / "web").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                    "write_bytes", "write_text", "save") and rel not in allowed:
                writers.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    assert not writers, "write uploads through fieldsvc.visits.uploads.stage:\n" + "\n".join(writers)
