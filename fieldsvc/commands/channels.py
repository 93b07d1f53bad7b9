"""`fieldsvc channels …`: the intake channels from the command line — a PSP's phone-system token,
one poll of the support mailbox, a test SMS."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits.models import Psp


@click.group("channels")
def channels() -> None:
    """Intake channels: phone-system token, support mailbox, SMS."""


@channels.command("telephony-token")
@click.option("--psp", "psp_code", required=True, help="Code of the PSP whose phone system calls the webhook.")
@with_appcontext
def telephony_token(psp_code: str) -> None:
    """Make a new webhook token for the PSP's phone system (the old one stops working); shown once."""
    from fieldsvc.visits.desk.telephony import set_token

    psp = db.session.scalars(select(Psp).where(Psp.code == psp_code)).first()
    if psp is None:
        raise click.ClickException(f"--psp: no PSP with code {psp_code!r}")
    token = set_token(psp)
    click.echo(f"Telephony token of {psp.code} (keep it secret; send it as the X-Telephony-Token header):")
    click.echo(token)


@channels.command("poll-mail")
@with_appcontext
def poll_mail() -> None:
    """Poll the support mailbox once (FIELDSVC_IMAP_*) and process what is stored."""
    from fieldsvc.web.intake_mail import poll_support_mailbox

    if not current_app.config.get("IMAP_HOST"):
        click.echo("FIELDSVC_IMAP_HOST is not set: only messages already stored are processed")
    out = poll_support_mailbox()
    click.echo(f"fetched {out['fetched']} message(s), sent {out['replies']} reply(ies)")


@channels.command("send-sms")
@click.option("--to", required=True, help="Mobile number, e.g. 09121234567.")
@click.option("--text", required=True)
@with_appcontext
def send_sms(to: str, text: str) -> None:
    """Send one SMS through the configured gateway (FIELDSVC_SMS_GATEWAY), to check the set-up."""
    from fieldsvc.text import normalize_phone
    from fieldsvc.visits.desk import sms

    try:
        number = normalize_phone(to, mobile_only=True)
    except ValueError as e:
        raise click.ClickException(f"--to: {e}") from None
    size = sms.sms_size(text)
    ident = sms.gateway_from(current_app.config).send(number, text, "test")
    click.echo(f"sent {size.parts} part(s) ({size.encoding}) to {number}: {ident}")
