"""Account enumeration and lockout abuse (issue 16, point 7): unknown usernames answer exactly like
real ones (message, and a password hash computed either way); five wrong passwords lock a username
from one address only, so nobody can lock a real user out from elsewhere; an admin lifts locks."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits.master import accounts
from fieldsvc.visits import models
from fieldsvc.visits.models import AuditEvent, LoginLock, User
from tests.conftest import login


def _try(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _error_text(resp) -> str:
    body = resp.get_data(as_text=True)
    start = body.index('role="alert"')
    return body[start:body.index("</div>", start)]


@pytest.mark.parametrize("language", ["en", "fa"])
def test_unknown_and_real_usernames_answer_alike(client, world, language: str) -> None:
    client.post(f"/lang/{language}")
    answers = {}
    for name in ("psp-p1", "no-such-user"):
        seq = [_try(client, name, "wrong") for _ in range(accounts.MAX_FAILURES + 2)]
        answers[name] = [(r.status_code, _error_text(r)) for r in seq]
    assert answers["psp-p1"] == answers["no-such-user"]
    assert answers["psp-p1"][0] != answers["psp-p1"][-1]  # the lock message shows for both


def test_a_password_hash_is_computed_for_unknown_users(world, monkeypatch) -> None:
    """The same work either way (no timing to measure): one hash check made like real ones."""
    checked: list[str] = []
    real_check = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda h, p: checked.append(h) or real_check(h, p))
    real = db.session.scalars(select(User).filter_by(username="psp-p1")).one()
    for name in ("psp-p1", "nobody-at-all"):
        with pytest.raises(accounts.LoginError):
            accounts.authenticate(name, "wrong", "10.0.0.9")
    assert len(checked) == 2
    method = models.generate_password_hash("any").split("$", 1)[0]  # how passwords are hashed now
    assert checked[1] != real.password_hash and checked[1].split("$", 1)[0] == method
    # an inactive user is checked too (it used to short-circuit before hashing)
    real.is_active_user = False
    db.session.commit()
    with pytest.raises(accounts.LoginError):
        accounts.authenticate("psp-p1", "demo", "10.0.0.9")
    assert len(checked) == 3


def test_a_lock_holds_one_address_only(client, world) -> None:
    for _ in range(accounts.MAX_FAILURES):
        assert _try(client, "tech-c1-1", "wrong", "10.6.6.6").status_code == 401
    assert _try(client, "tech-c1-1", "demo", "10.6.6.6").status_code == 401  # locked from there
    assert _try(client, "TECH-C۱-۱ ", "demo", "10.6.6.6").status_code == 401  # however it is typed
    assert _try(client, "tech-c1-1", "demo", "10.1.1.1").status_code == 302  # the real user elsewhere


def test_admin_lifts_the_locks_of_a_user(app, client, world) -> None:
    for _ in range(accounts.MAX_FAILURES):
        _try(client, "tech-c1-2", "wrong", "10.6.6.7")
    assert db.session.scalars(select(LoginLock)).one().locked_until is not None
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get("/admin/locks")
    assert page.status_code == 200 and "tech-c1-2" in page.get_data(as_text=True)
    user = world.users["tech-c1-2"]
    assert admin.post(f"/admin/users/{user.id}/unlock").status_code == 303
    assert db.session.scalars(select(LoginLock)).all() == []
    assert _try(client, "tech-c1-2", "demo", "10.6.6.7").status_code == 302
    assert "login_unlocked" in [e.action for e in db.session.scalars(select(AuditEvent))]


def test_only_admins_lift_locks(app, world) -> None:
    c = app.test_client()
    login(c, "dispatcher-c1")
    assert c.post(f"/admin/users/{world.users['tech-c1-1'].id}/unlock").status_code == 403


def test_behind_a_proxy_the_forwarded_address_counts(app, world) -> None:
    """FIELDSVC_PROXY_HOPS=1: the client's address is the proxy's X-Forwarded-For (login locks and
    rate limits are per real client); without it the header is ignored (it could be forged)."""
    from fieldsvc.web import create_app

    keys = ("SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR", "OUTBOX_DIR", "SECRET_KEY", "RATELIMIT_ENABLED",
            "WTF_CSRF_ENABLED", "TESTING")
    proxied = create_app({**{k: app.config[k] for k in keys}, "PROXY_HOPS": 1})
    for target, expected in ((proxied, "203.0.113.7"), (app, "127.0.0.1")):
        db.session.query(LoginLock).delete()
        db.session.commit()
        target.test_client().post("/login", data={"username": "psp-p1", "password": "wrong"},
                                  headers={"X-Forwarded-For": "203.0.113.7"})
        assert [lock.address for lock in db.session.scalars(select(LoginLock))] == [expected]
    with proxied.app_context():
        db.engine.dispose()


def test_the_user_lifts_a_lock_from_the_mailed_link(app, client, world) -> None:
    """A lock of a real account mails its owner a link (valid 15 minutes) that lifts it."""
    import re

    from fieldsvc.web.mail import read_outbox

    user = world.users["psp-p2"]
    user.email = "psp2@example.com"
    db.session.commit()
    for _ in range(accounts.MAX_FAILURES):
        _try(client, "psp-p2", "wrong", "10.8.8.8")
    for _ in range(accounts.MAX_FAILURES):
        _try(client, "no-such-user", "wrong", "10.8.8.8")  # unknown users: nobody to mail
    mails = [mm for mm in read_outbox(app.config["OUTBOX_DIR"]) if "unlock" in mm.get_body(("plain",)).get_content()]
    assert [mm["To"] for mm in mails] == ["psp2@example.com"]
    text = mails[0].get_body(("plain",)).get_content()
    assert "10.8.8.8" in text
    link = re.search(r"http\S+/login/unlock/\S+", text).group(0).removeprefix("http://127.0.0.1:5000")
    assert _try(client, "psp-p2", "demo", "10.8.8.8").status_code == 401
    assert client.get(link[:-3] + "abc").status_code == 404  # a forged link
    assert client.get(link).status_code == 302
    assert _try(client, "psp-p2", "demo", "10.8.8.8").status_code == 302
