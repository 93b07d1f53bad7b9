"""Sessions end on the server (issue 16, point 4): a session cookie saved before logout, a password
change or a deactivation no longer works afterwards, on any device; a new password and a
deactivation also revoke every API token."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits.models import ApiToken, User
from tests.conftest import login


def _logged_in(app: Flask, username: str) -> FlaskClient:
    c = app.test_client()
    assert login(c, username).status_code == 302
    return c


def _replay(app: Flask, cookie: str) -> FlaskClient:
    """Another browser holding a copy of a session cookie."""
    c = app.test_client()
    c.set_cookie("session", cookie)
    return c


def _token(c: FlaskClient, username: str) -> str:
    return c.post("/api/v1/auth/token", json={"username": username, "password": "demo"}).get_json()["token"]


def _bearer(app: Flask, token: str) -> int:
    return app.test_client().get("/api/v1/routes", query_string={"date": "2026-11-30"},
                                 headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_cookie_saved_before_logout_no_longer_works(app: Flask, world) -> None:
    c = _logged_in(app, "dispatcher-c1")
    saved = c.get_cookie("session").value
    assert _replay(app, saved).get("/account").status_code == 200
    assert c.post("/logout").status_code == 302
    copy = _replay(app, saved)
    assert copy.get("/account").status_code == 302  # to the login page
    assert copy.get("/api/v1/routes", query_string={"date": "2026-11-30"}).status_code == 401


def test_logout_ends_the_users_sessions_on_every_device(app: Flask, world) -> None:
    phone, laptop = _logged_in(app, "tech-c1-1"), _logged_in(app, "tech-c1-1")
    colleague = _logged_in(app, "tech-c1-2")
    assert phone.post("/logout").status_code == 302
    assert laptop.get("/account").status_code == 302
    assert colleague.get("/account").status_code == 200  # other users are not touched
    again = _logged_in(app, "tech-c1-1")  # logging in again works
    assert again.get("/account").status_code == 200


def test_new_password_ends_other_sessions_and_every_token(app: Flask, world) -> None:
    here, elsewhere = _logged_in(app, "psp-p1"), _logged_in(app, "psp-p1")
    token = _token(app.test_client(), "psp-p1")
    assert _bearer(app, token) == 200
    r = here.post("/account", data={"action": "password", "p-current": "demo", "p-new": "new-password-1",
                                    "p-repeat": "new-password-1"})
    assert r.status_code == 302
    assert here.get("/account").status_code == 200  # the session that changed it goes on
    assert elsewhere.get("/account").status_code == 302
    assert _bearer(app, token) == 401
    assert all(t.revoked_at is not None for t in db.session.scalars(select(ApiToken)))


def test_deactivation_ends_sessions_and_tokens_for_good(app: Flask, world) -> None:
    c = _logged_in(app, "dispatcher-c2")
    token = _token(app.test_client(), "dispatcher-c2")
    user = db.session.scalars(select(User).filter_by(username="dispatcher-c2")).one()
    user.is_active_user = False
    db.session.commit()
    assert c.get("/account").status_code == 302 and _bearer(app, token) == 401
    user.is_active_user = True  # reactivated: the old session and token stay dead
    db.session.commit()
    assert c.get("/account").status_code == 302 and _bearer(app, token) == 401
    assert _logged_in(app, "dispatcher-c2").get("/account").status_code == 200


def test_token_name_length_is_checked(client, world) -> None:
    """The column holds 100 characters: longer names are a clear 422 naming the field (point 10)."""
    r = client.post("/api/v1/auth/token", json={"username": "admin", "password": "demo", "name": "x" * 300_000})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "name"
    assert db.session.scalars(select(ApiToken)).all() == []
    r = client.post("/api/v1/auth/token", json={"username": "admin", "password": "demo", "name": "x" * 100})
    assert r.status_code == 200
    login(client, "admin")
    r = client.post("/account", data={"action": "token", "t-name": "y" * 101})
    assert r.status_code == 422 and len(db.session.scalars(select(ApiToken)).all()) == 1
