"""`fieldsvc admin create`: the first administrator of an empty database can sign in."""
from __future__ import annotations

from sqlalchemy import select

from fieldsvc.cli import main
from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.conftest import login


def test_admin_create_reads_the_password_from_the_environment(app, client):
    result = app.test_cli_runner().invoke(main, ["admin", "create", "--username", "Boss"],
                                          env={"FIELDSVC_ADMIN_PASSWORD": "first-admin-pw"})
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(m.User).where(m.User.username == "boss")).one()
    assert user.role == "admin" and not user.must_change_password
    r = login(client, "boss", "first-admin-pw")
    assert r.status_code in (302, 303)
    assert db.session.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "user_created")).first()


def test_admin_create_asks_twice_and_refuses_short_or_taken(app):
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["admin", "create", "--username", "ops"], input="longenough\nlongenough\n")
    assert result.exit_code == 0, result.output
    again = runner.invoke(main, ["admin", "create", "--username", "OPS"], input="longenough\nlongenough\n")
    assert again.exit_code != 0 and "username" in again.output and "taken" in again.output
    short = runner.invoke(main, ["admin", "create", "--username", "x"], env={"FIELDSVC_ADMIN_PASSWORD": "short"})
    assert short.exit_code != 0 and "password: Use at least 8 characters." in short.output
    assert db.session.scalars(select(m.User).where(m.User.username == "x")).first() is None
