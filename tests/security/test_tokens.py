"""API tokens (issue 8, point 1): issued for a password, stored hashed, expiring, revocable; the API
answers 401 in JSON (never a login page) without a valid one."""
from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select

from fieldsvc.db import db, utcnow
from fieldsvc.visits.models import ApiToken, AuditEvent
from tests.conftest import login


def _issue(client, username: str = "tech-c1-1", password: str = "demo"):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password, "name": "phone"})


def _me(client, token: str):
    """A call that needs a logged-in user: the technician's route."""
    return client.get("/api/v1/tech/route", headers={"Authorization": f"Bearer {token}"})


def test_token_is_issued_hashed_and_works(client, world) -> None:
    r = _issue(client)
    assert r.status_code == 200
    body = r.get_json()
    token = body["token"]
    assert len(token) >= 40 and dt.datetime.fromisoformat(body["expires_at"]) > utcnow()
    row = db.session.scalars(select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash
    assert _me(client, token).status_code == 200
    assert [e.action for e in db.session.scalars(select(AuditEvent))][-2:] == ["login", "token_issued"]


def test_wrong_password_gives_no_token(client, world) -> None:
    r = _issue(client, password="nope")
    assert r.status_code == 401
    assert r.get_json()["error"] == {"code": "bad_credentials", "message": r.get_json()["error"]["message"],
                                     "field": "password"}
    assert db.session.scalars(select(ApiToken)).all() == []


def test_missing_field_is_a_clear_422(client, world) -> None:
    r = client.post("/api/v1/auth/token", json={"username": "admin"})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "password"


def test_revoked_and_expired_tokens_are_refused(client, world) -> None:
    token = _issue(client).get_json()["token"]
    assert client.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    r = _me(client, token)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    token2 = _issue(client).get_json()["token"]
    row = db.session.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None))).one()
    row.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    assert _me(client, token2).status_code == 401


def test_garbage_token_is_not_rescued_by_a_session(client, world) -> None:
    login(client, "tech-c1-1")
    assert client.get("/api/v1/tech/route").status_code == 200
    assert _me(client, "not-a-token").status_code == 401


def test_anonymous_api_call_answers_json_401(client, world) -> None:
    r = client.get("/api/v1/tech/route")
    assert r.status_code == 401 and r.is_json
    page = client.get("/account")
    assert page.status_code == 302 and "/login?next=/account" in page.headers["Location"]


def test_account_page_lists_creates_and_revokes_tokens(client, world) -> None:
    login(client, "dispatcher-c1")
    r = client.post("/account", data={"action": "token", "t-name": "ERP"}, headers={"Accept-Language": "en"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    row = db.session.scalars(select(ApiToken)).one()
    assert "ERP" in html and 'id="new-token"' in html
    r = client.post(f"/account/tokens/{row.id}/revoke")
    assert r.status_code == 302
    db.session.refresh(row)
    assert row.revoked_at is not None
    html = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Revoked" in html and 'id="new-token"' not in html
    # another user cannot revoke (or learn of) this user's tokens
    other = client.application.test_client()
    login(other, "dispatcher-c2")
    assert other.post(f"/account/tokens/{row.id}/revoke").status_code == 404


def test_account_settings_language_and_toman(client, world) -> None:
    login(client, "psp-p1")
    r = client.post("/account", data={"action": "settings", "s-language": "en", "s-show_toman": "y"})
    assert r.status_code == 302
    user = world.users["psp-p1"]
    db.session.refresh(user)
    assert user.language == "en" and user.show_toman is True
    html = client.get("/account", headers={"Accept-Language": "fa"}).get_data(as_text=True)
    assert 'lang="en"' in html.split(">", 2)[1]  # the user's setting wins over the browser's


def test_account_password_change(client, world) -> None:
    login(client, "tech-c1-2")
    r = client.post("/account", data={"action": "password", "p-current": "bad", "p-new": "longenough1",
                                      "p-repeat": "longenough1"})
    assert r.status_code == 422
    r = client.post("/account", data={"action": "password", "p-current": "demo", "p-new": "short",
                                      "p-repeat": "short"})
    assert r.status_code == 422
    r = client.post("/account", data={"action": "password", "p-current": "demo", "p-new": "longenough1",
                                      "p-repeat": "longenough1"})
    assert r.status_code == 302
    c2 = client.application.test_client()
    assert login(c2, "tech-c1-2", "demo").status_code == 401
    assert login(c2, "tech-c1-2", "longenough1").status_code == 302


def test_nul_characters_are_refused_clearly(client, world) -> None:
    """PostgreSQL cannot store U+0000: it is refused with 400 wherever it is typed."""
    r = client.post("/api/v1/auth/token", json={"username": "\x00", "password": ""})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "nul_character"
    assert client.post("/login", data={"username": "ad\x00min", "password": "demo"}).status_code == 400
    assert client.get("/track/", query_string={"number": "EM\x00"}).status_code == 400
