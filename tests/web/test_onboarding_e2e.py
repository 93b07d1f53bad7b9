"""A real customer starts from an empty database (issue 18, point 7): the first admin from the command
line, then everything in the browser pages: PSP, contractor, region, a contract from the 7×24 preset,
a technician, logins; merchants and terminals imported through the web; the dispatcher plans
tomorrow; the PSP opens an emergency call with the new contract's deadlines; the contract is amended
and the earlier call's deadlines do not change."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from sqlalchemy import select

from fieldsvc.cli import main
from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.contracts.versions import today_local, version_in_force
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.plans import planning
from fieldsvc.visits.plans.due import refresh_due_visits
from tests.conftest import login

TEHRAN_BOX = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
    "type": "Polygon", "coordinates": [[[51.30, 35.65], [51.50, 35.65], [51.50, 35.80], [51.30, 35.80],
                                        [51.30, 35.65]]]}}]}
MERCHANTS = ("psp,code,name,lat,lon,address\n"
             "saman,1001,Shop One,35.700,51.400,Street 1\n"
             "saman,1002,Shop Two,35.710,51.420,Street 2\n"
             "saman,1003,Shop Three,35.690,51.380,Street 3\n")
TERMINALS = ("serial,psp,model,family,merchant,status,installed_on,last_pm_on\n"
             "SA0001,saman,PAX S90,pax,1001,active,2024-01-01,2025-01-01\n"
             "SA0002,saman,PAX S90,pax,1002,active,2024-01-01,2025-01-01\n"
             "SA0003,saman,PAX S90,pax,1003,active,2024-01-01,2025-01-01\n")


def _one(model, **where):
    return db.session.scalars(select(model).filter_by(**where)).one()


def _ok(r, what: str) -> None:
    body = r.get_data(as_text=True).split("<main", 1)[-1][:6000]
    assert r.status_code in (302, 303), f"{what}: {r.status_code} {body}"


def _upload(client, kind: str, text: str, name: str) -> None:
    r = client.post("/setup/imports", data={"kind": kind, "file": (io.BytesIO(text.encode()), name)},
                    content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="import-preview"' in page, page[:3000]
    token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
    _ok(client.post("/setup/imports/confirm", data={"kind": kind, "token": token}), f"import {kind}")


def _first_sign_in(app, username: str, first: str, own: str):
    c = app.test_client()
    assert login(c, username, first).status_code == 302
    _ok(c.post("/account", data={"action": "password", "p-current": first, "p-new": own, "p-repeat": own}),
        f"password of {username}")
    return c


@pytest.mark.slow
def test_a_customer_starts_from_an_empty_database(app, client):
    assert db.session.scalar(select(m.User.id)) is None
    result = app.test_cli_runner().invoke(main, ["admin", "create", "--username", "root"],
                                          env={"FIELDSVC_ADMIN_PASSWORD": "root-password"})
    assert result.exit_code == 0, result.output
    assert login(client, "root", "root-password").status_code == 302

    # master data and the contract, in the set-up pages
    _ok(client.post("/setup/psps/new", data={"code": "saman", "name": "Saman Pay", "name_fa": "سامان"}), "psp")
    _ok(client.post("/setup/contractors/new", data={"code": "fixit", "name": "Fixit", "phone": "021 8888 0000",
                                                    "depot_lat": "35.70", "depot_lon": "51.40"}), "contractor")
    _ok(client.post("/setup/regions/new", data={"code": "thr", "name": "Tehran", "geometry_file": (
        io.BytesIO(json.dumps(TEHRAN_BOX).encode()), "tehran.geojson")}, content_type="multipart/form-data"), "region")
    psp, contractor, region = _one(m.Psp, code="SAMAN"), _one(m.Contractor, code="FIXIT"), _one(m.Region, code="THR")
    r = client.post("/setup/contracts/new", data={
        "code": "saman-fixit", "psp_id": psp.id, "contractor_id": contractor.id, "kind": "uc",
        "valid_from": "2026-01-01", "region_ids": [region.id], "preset": "24x7"})
    _ok(r, "contract")
    contract = _one(m.Contract, code="SAMAN-FIXIT")
    assert version_in_force(contract, today_local()).calendar["mode"] == "24x7"
    _ok(client.post("/setup/technicians/new", data={
        "contractor_id": contractor.id, "code": "t1", "name": "Reza Technician", "phone": "0912 000 1111",
        "home_lat": "35.70", "home_lon": "51.40", "shift_start": "07:00", "shift_end": "21:00", "skills": "pax",
        "vehicle": "motorbike", "max_visits": "16", "days_off": ""}), "technician")
    tech = _one(m.Technician, code="T1")
    for username, role, scope in (("saman-desk", "psp", {"psp_id": psp.id}),
                                  ("fixit-dispatch", "dispatcher", {"contractor_id": contractor.id}),
                                  ("reza", "technician", {"technician_id": tech.id})):
        _ok(client.post("/setup/users/new", data={"username": username, "name": username, "role": role,
                                                  "language": "fa", "password": "first-pass-1", **scope}), username)

    # merchants and terminals through the web import (preview, then confirm)
    _upload(client, "merchants", MERCHANTS, "merchants.csv")
    _upload(client, "terminals", TERMINALS, "terminals.csv")
    assert {mer.region_id for mer in db.session.scalars(select(m.Merchant))} == {region.id}

    # the people sign in, choose their own passwords
    psp_desk = _first_sign_in(app, "saman-desk", "first-pass-1", "saman-own-pass")
    dispatcher = _first_sign_in(app, "fixit-dispatch", "first-pass-1", "fixit-own-pass")
    assert dispatcher.get("/setup/technicians").status_code == 200

    # the dispatcher plans tomorrow
    today = today_local()
    counts = refresh_due_visits(today)
    assert counts["created"] == 3
    run = planning.plan_contractor_day(contractor.id, today + dt.timedelta(days=1), time_limit=2,
                                       actor=_one(m.User, username="fixit-dispatch"))
    assert run.status == m.PlanStatus.SUCCEEDED, run.error
    assert run.summary["served"] == 3

    # the PSP opens an emergency call and sees the new contract's deadlines (7×24: 2 h on site, 4 h fix)
    r = psp_desk.post("/api/v1/service-calls", json={"terminal_serial": "SA0002", "priority": "critical",
                                                     "symptom": "no_power", "channel": "phone"})
    assert r.status_code == 201, r.json
    call = r.json
    reported = dt.datetime.fromisoformat(call["reported_at"])
    assert dt.datetime.fromisoformat(call["response_by"]) - reported == dt.timedelta(hours=2)
    assert dt.datetime.fromisoformat(call["resolution_by"]) - reported == dt.timedelta(hours=4)

    # the contract is amended from tomorrow: tighter targets
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    r = client.post(f"/setup/contracts/{contract.id}", data={
        "effective_from": tomorrow, "note": "tighter", "critical__first_response_minutes": "15",
        "critical__response_minutes": "30", "critical__resolution_minutes": "60"})
    _ok(r, "amendment")
    assert [v.number for v in db.session.scalars(select(m.ContractVersion).where(
        m.ContractVersion.contract_id == contract.id))] == [1, 2]
    # the earlier call keeps its deadlines, even when its clocks are recomputed
    again = psp_desk.get(f"/api/v1/service-calls/{call['id']}").json
    assert (again["response_by"], again["resolution_by"]) == (call["response_by"], call["resolution_by"])
    stored = db.session.get(m.ServiceCall, call["id"])
    svc.recompute_deadlines(stored)
    assert stored.response_by.isoformat() == call["response_by"]
    assert stored.resolution_by.isoformat() == call["resolution_by"]
