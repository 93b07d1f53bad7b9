"""`fieldsvc admin create --username U`: the first administrator of an empty database."""
from __future__ import annotations

import os

import click
from flask.cli import with_appcontext

from fieldsvc.visits.master.users import UserError, create_user

PASSWORD_ENV = "FIELDSVC_ADMIN_PASSWORD"


@click.group("admin")
def admin() -> None:
    """Administrator logins."""


@admin.command("create")
@click.option("--username", required=True, help="Login name of the new administrator.")
@click.option("--name", default="", help="Full name shown in the audit trail.")
@click.option("--email", default="")
@with_appcontext
def create(username: str, name: str, email: str) -> None:
    """Create an administrator. The password is read from $FIELDSVC_ADMIN_PASSWORD (for scripts)
    or asked twice; it is the admin's own, so it need not be changed at first login."""
    password = os.environ.get(PASSWORD_ENV) or click.prompt("Password", hide_input=True,
                                                            confirmation_prompt=True)
    try:
        user = create_user(None, username=username, password=password, role="admin", name=name, email=email,
                           must_change_password=False)
    except UserError as e:
        raise click.ClickException(f"{e.field}: {e.message}") from None
    click.echo(f"Administrator {user.username!r} created. Sign in at /login and set up payment companies, "
               "contractors, regions and contracts under /admin.")
