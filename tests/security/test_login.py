"""Login, lockout, rate limits, logout, session cookie flags, audit of logins (issue 8, points 1 and 5)."""
from __future__ import annotations

from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits.master.accounts import MAX_FAILURES
from fieldsvc.visits.models import AuditEvent, LoginLock, User
from tests.conftest import login


def _actions(username: str | None = None) -> list[str]:
    q = select(AuditEvent).order_by(AuditEvent.id)
    return [e.action for e in db.session.scalars(q)
            if username is None or e.actor == username or (e.data or {}).get("username") == username]


def test_login_and_logout_are_audited(client, world) -> None:
    r = login(client, "dispatcher-c1")
    assert r.status_code == 302
    assert client.get("/account").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/account").status_code == 302
    assert _actions("dispatcher-c1") == ["login", "logout"]


def test_wrong_password_is_refused_and_audited(client, world) -> None:
    r = login(client, "psp-p1", "wrong")
    assert r.status_code == 401
    assert "Wrong username or password" in r.get_data(as_text=True) or "نادرست" in r.get_data(as_text=True)
    ev = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).one()
    assert ev.actor == "system" and ev.data["username"] == "psp-p1"
    # an unknown user is audited the same way and answers the same
    assert login(client, "nobody", "x").status_code == 401
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()[-1] \
        .data["username"] == "nobody"


def test_username_typed_with_persian_digits_and_capitals(client, world) -> None:
    r = client.post("/login", data={"username": "TECH-C۱-۱", "password": "demo"})
    assert r.status_code == 302


def test_account_locks_after_repeated_failures(client, world) -> None:
    for _ in range(MAX_FAILURES):
        assert login(client, "tech-c1-1", "wrong").status_code == 401
    lock = db.session.get(LoginLock, ("tech-c1-1", "127.0.0.1"))
    assert lock is not None and lock.locked_until is not None
    r = login(client, "tech-c1-1", "demo")  # the right password does not help while locked
    assert r.status_code == 401
    assert client.get("/account").status_code == 302
    assert _actions("tech-c1-1").count("login_failed") == MAX_FAILURES
    assert "login_locked" in _actions("tech-c1-1")
    # the token endpoint honours the same lock
    r = client.post("/api/v1/auth/token", json={"username": "tech-c1-1", "password": "demo"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "bad_credentials"


def test_login_rate_limit_per_account(limited_app, world) -> None:
    """Flask-Limiter: more than 10 attempts a minute for one account answer 429, whatever the address."""
    username = "psp-p2"
    c = limited_app.test_client()
    statuses = [c.post("/login", data={"username": username, "password": "wrong"},
                       environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code for i in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    r = c.post("/login", data={"username": username, "password": "wrong"}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert r.status_code == 429
    assert "Too many attempts" in r.get_data(as_text=True) or "تلاش" in r.get_data(as_text=True)


def test_login_rate_limit_per_address(limited_app, world) -> None:
    c = limited_app.test_client()
    statuses = [c.post("/login", data={"username": f"guess{i}", "password": "x"},
                       environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code for i in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429


def test_session_cookie_flags(app, world) -> None:
    c = app.test_client()
    r = login(c, "admin")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    app.config["SESSION_COOKIE_SECURE"] = True  # FIELDSVC_HTTPS=1
    r = login(app.test_client(), "admin")
    assert "Secure" in r.headers["Set-Cookie"]
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_open_redirect_after_login_is_refused(client, world) -> None:
    r = client.post("/login?next=//evil.example/x", data={"username": "admin", "password": "demo"})
    assert r.status_code == 302 and "evil.example" not in r.headers["Location"]
    c2 = client.application.test_client()
    r = c2.post("/login?next=/account", data={"username": "admin", "password": "demo"})
    assert r.headers["Location"].endswith("/account")


def test_passwords_are_hashed(world) -> None:
    user = db.session.scalars(select(User).filter_by(username="admin")).one()
    assert "demo" not in user.password_hash and user.check_password("demo")


def test_token_endpoint_shares_the_login_limits(limited_app, world) -> None:
    c = limited_app.test_client()
    username = "dispatcher-c2"
    for i in range(6):
        c.post("/login", data={"username": username, "password": "wrong"}, environ_base={"REMOTE_ADDR": f"10.2.0.{i}"})
    statuses = [c.post("/api/v1/auth/token", json={"username": username, "password": "wrong"},
                       environ_base={"REMOTE_ADDR": f"10.3.0.{i}"}).status_code for i in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    assert c.post("/api/v1/auth/token", json={"username": username, "password": "x"}).get_json()["error"]["code"] \
        == "too_many_requests"
