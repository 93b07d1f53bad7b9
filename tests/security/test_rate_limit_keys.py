"""Every rate limit is keyed on the normalised identity (issue 16, point 1): the same username,
tracking number or visit typed in capitals, with spaces (a trailing `%20`), with Persian or
Arabic-Indic digits, counts against one budget. The limits come from the limiter itself, so a new
identity-keyed limit without a case here fails `test_every_identity_limit_is_covered`."""
from __future__ import annotations

from typing import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_limiter.util import get_qualified_name, get_remote_address

from fieldsvc.db import db
from fieldsvc.web import ratelimits
from fieldsvc.web.extensions import limiter
from tests.conftest import login

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

#: Ways to type one identity; each must land on the same key.
TEXT_VARIANTS: dict[str, Callable[[str], str]] = {
    "as stored": lambda s: s,
    "lower case": str.lower,
    "upper case": str.upper,
    "leading and trailing spaces": lambda s: f" {s} ",
    "tab and trailing %20": lambda s: f"\t{s} ",
    "persian digits": lambda s: s.translate(PERSIAN),
    "arabic digits": lambda s: s.translate(ARABIC),
    "persian digits, lower case, spaces": lambda s: f" {s.lower().translate(PERSIAN)} ",
}
NUMBER_VARIANTS: dict[str, Callable[[str], str]] = {
    "as stored": lambda s: s,
    "leading zero": lambda s: f"0{s}",
    "persian digits": lambda s: s.translate(PERSIAN),
    "arabic digits": lambda s: s.translate(ARABIC),
    "persian digits, leading zero": lambda s: f"0{s}".translate(PERSIAN),
}


def _address_keyed(fn: Callable[[], str]) -> bool:
    return fn in (get_remote_address, ratelimits.address_key)


def _identity_limits(app: Flask) -> dict[str, list]:
    """endpoint → its limits keyed on something typed (not on the client's address)."""
    by_name = {get_qualified_name(f): ep for ep, f in app.view_functions.items()}
    out: dict[str, list] = {}
    for name, limits in limiter.limit_manager._decorated_limits.items():
        for lim in limits:
            if not _address_keyed(lim.key_function):
                out.setdefault(by_name[name], []).append(lim)
    return out


def test_every_limit_key_comes_from_the_one_normaliser(app: Flask) -> None:
    """Each limit is keyed on the client's address or by a key function of fieldsvc.web.ratelimits
    (which spells the identity as its look-up does)."""
    for name, limits in limiter.limit_manager._decorated_limits.items():
        for lim in limits:
            fn = lim.key_function
            assert _address_keyed(fn) or fn.__module__ == ratelimits.__name__, (
                f"{name}: rate limit keyed by {fn.__module__}.{fn.__name__}; build the key with "
                "fieldsvc.web.ratelimits.identity_key so that variants of one identity share it")


def _budget_is_shared(send: Callable[[str, int], int], identity: str, variants: dict[str, Callable[[str], str]],
                      allowed: int) -> None:
    """`allowed` requests spread over the variants pass; then every variant answers 429."""
    names = list(variants)
    for i in range(allowed):
        status = send(variants[names[i % len(names)]](identity), i)
        assert status != 429, f"request {i + 1} of {allowed} ({names[i % len(names)]}) was already limited"
    for j, (name, variant) in enumerate(variants.items()):
        status = send(variant(identity), allowed + j)
        assert status == 429, f"the variant '{name}' ({variant(identity)!r}) got a fresh budget: {status}"


def _client(limited_app: Flask) -> FlaskClient:
    return limited_app.test_client()


def case_login(limited_app: Flask, tenants) -> None:
    c = _client(limited_app)
    _budget_is_shared(lambda name, i: c.post("/login", data={"username": name, "password": "wrong"},
                                             environ_base={"REMOTE_ADDR": f"10.0.1.{i}"}).status_code,
                      "psp-p2", TEXT_VARIANTS, 10)


def case_token(limited_app: Flask, tenants) -> None:
    c = _client(limited_app)
    _budget_is_shared(lambda name, i: c.post("/api/v1/auth/token", json={"username": name, "password": "wrong"},
                                             environ_base={"REMOTE_ADDR": f"10.0.2.{i}"}).status_code,
                      "dispatcher-c2", TEXT_VARIANTS, 10)


#: A real-shaped tracking number (EM-<Jalali year>-<5 characters>) given to tenant A's open call.
TRACKING_NUMBER = "EM-1405-7K3Q9"


def case_verify(limited_app: Flask, tenants) -> None:
    tenants.a.call.tracking_number = TRACKING_NUMBER
    db.session.commit()
    c = _client(limited_app)
    _budget_is_shared(lambda number, i: c.post(f"/track/{number}", data={"digits": "0000"},
                                               environ_base={"REMOTE_ADDR": f"10.0.3.{i}"}).status_code,
                      tenants.a.call.tracking_number, TEXT_VARIANTS, 10)
    # the right digits no longer help either
    right = tenants.a.merchant.phone[-4:]
    assert c.post(f"/track/{tenants.a.call.tracking_number}", data={"digits": right},
                  environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 429


def case_survey(limited_app: Flask, tenants) -> None:
    call = tenants.a.closed_call
    c = _client(limited_app)
    _budget_is_shared(lambda number, i: c.post(f"/track/{number}/survey/{call.survey_token}", data={"score": "x"},
                                               environ_base={"REMOTE_ADDR": f"10.0.4.{i}"}).status_code,
                      call.tracking_number, TEXT_VARIANTS, 20)


def case_survey_verified(limited_app: Flask, tenants) -> None:
    call = tenants.a.closed_call
    c = _client(limited_app)
    _budget_is_shared(lambda number, i: c.post(f"/track/{number}/survey", data={"score": "5"},
                                               environ_base={"REMOTE_ADDR": f"10.0.5.{i}"}).status_code,
                      call.tracking_number, TEXT_VARIANTS, 20)


def case_check_out(limited_app: Flask, tenants) -> None:
    """Wrong confirmation codes at check-out, per visit (the id in the URL, typed any way)."""
    tenants.a.contract.require_confirmation_code = True
    tenants.a.call.confirmation_code = "482916"
    db.session.commit()
    c = _client(limited_app)
    assert login(c, "tech-c1-1").status_code == 302
    visit_id = str(tenants.a.visit.id)

    def send(number: str, i: int) -> int:
        body = {"outcome": "fixed", "notes": "", "at": "2026-11-30T10:00:00+00:00",
                "client_event_id": f"wrong-code-{i:04d}", "confirmation_code": f"{i:06d}"}
        return c.post(f"/api/v1/visits/{number}/check-out", json=body).status_code

    _budget_is_shared(send, visit_id, NUMBER_VARIANTS, 5)
    body = {"outcome": "fixed", "notes": "", "at": "2026-11-30T10:00:00+00:00", "client_event_id": "right-code-0001",
            "confirmation_code": "482916"}
    assert c.post(f"/api/v1/visits/{visit_id}/check-out", json=body).status_code == 429


def _tracking_action(path: str, form: dict[str, str]) -> Callable:
    """A merchant action of the tracking page (issue 21): one budget of 20 per call for all of them."""
    def case(limited_app: Flask, tenants) -> None:
        tenants.a.call.tracking_number = TRACKING_NUMBER
        db.session.commit()
        c = _client(limited_app)
        _budget_is_shared(lambda number, i: c.post(f"/track/{number}/{path}", data=form,
                                                   environ_base={"REMOTE_ADDR": f"10.0.6.{i}"}).status_code,
                          TRACKING_NUMBER, TEXT_VARIANTS, 20)
    return case


CASES: dict[str, Callable] = {
    "auth.login": case_login,
    "auth_api.Token": case_token,
    "track.verify": case_verify,
    "track.survey": case_survey,
    "track.survey_verified": case_survey_verified,
    "visits_api.CheckOut": case_check_out,
    "track_self.comment": _tracking_action("comment", {"comment": "hello"}),
    "track_self.confirm": _tracking_action("confirm", {}),
    "track_self.reopen": _tracking_action("reopen", {"reason": "again"}),
    "track_self.visit_feedback": _tracking_action("visits/1/feedback", {"score": "5"}),
}


def test_every_identity_limit_is_covered(app: Flask) -> None:
    missing = sorted(set(_identity_limits(app)) - set(CASES))
    assert not missing, f"rate limits keyed on typed identities without a variants case here: {missing}"


@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_variants_of_one_identity_share_one_budget(endpoint: str, limited_app: Flask, tenants) -> None:
    CASES[endpoint](limited_app, tenants)


def test_tracking_number_guesses_are_limited_per_address(limited_app: Flask, tenants) -> None:
    """Looking up numbers that do not exist: 20 a minute per address, however they are typed; the
    merchant's own number keeps working meanwhile only until the limit (the guesser's address)."""
    c = _client(limited_app)
    real = tenants.a.call.tracking_number
    for _ in range(25):  # looking up a real number is not a guess
        assert c.get(f"/track/{real}").status_code == 200
    statuses = [c.get(f"/track/EM-1405-{n:05d}").status_code for n in range(10)]
    statuses += [c.get("/track/", query_string={"number": f"em-1405-{n:05d}".translate(PERSIAN)}).status_code
                 for n in range(10, 20)]
    assert statuses == [404] * 10 + [200] * 10
    assert c.get("/track/EM-1405-99999").status_code == 429
    assert c.get("/track/", query_string={"number": "EM-1405-99998"}).status_code == 429
    other = _client(limited_app)
    assert other.get(f"/track/{real}", environ_base={"REMOTE_ADDR": "10.7.7.7"}).status_code == 200
