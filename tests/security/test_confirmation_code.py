"""The merchant's confirmation code proves the merchant was there (issue 16, point 2): the technician
knows the shop's phone and the tracking number (GET /api/v1/visits/<id>), and with them gets no
code — from the tracking page, the API or the call page; the PSP sees it (for shops without
e-mail); wrong codes at check-out are limited per visit (tests/security/test_rate_limit_keys.py)."""
from __future__ import annotations

from fieldsvc.db import db


def _require_code(tenants) -> str:
    tenants.a.contract.require_confirmation_code = True
    tenants.a.call.confirmation_code = "739251"
    db.session.commit()
    return "739251"


def test_a_technician_cannot_get_the_code_alone(app, tenants, clients) -> None:
    code = _require_code(tenants)
    tech = clients["technician"]
    visit = tech.get(f"/api/v1/visits/{tenants.a.visit.id}").get_json()
    assert code not in str(visit)
    phone, number = visit["merchant"]["phone"], visit["service_call"]["tracking_number"]
    for c in (tech, app.test_client()):  # logged in or not
        r = c.post(f"/track/{number}", data={"digits": phone[-4:]})
        assert r.status_code == 303
        page = c.get(f"/track/{number}").get_data(as_text=True)
        assert 'id="history"' in page and code not in page
        assert code not in c.get(f"/track/{number}", query_string={"key": "0" * 32},
                                 follow_redirects=True).get_data(as_text=True)
    for path in (f"/api/v1/service-calls/{tenants.a.call.id}", "/api/v1/tech/route",
                 f"/psp/calls/{tenants.a.call.id}"):
        assert code not in tech.get(path).get_data(as_text=True), path
    assert code not in clients["dispatcher"].get(f"/psp/calls/{tenants.a.call.id}").get_data(as_text=True)


def test_the_psp_sees_the_code_for_shops_without_mail(tenants, clients) -> None:
    code = _require_code(tenants)
    page = clients["psp"].get(f"/psp/calls/{tenants.a.call.id}").get_data(as_text=True)
    assert f'id="confirmation-code">{code}<' in page
