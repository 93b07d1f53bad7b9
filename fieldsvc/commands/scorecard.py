"""`fieldsvc scorecard`: the contractor scorecards workbook of a period."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import with_appcontext


def _date(ctx: click.Context, param: click.Parameter, value: str) -> dt.date:
    from fieldsvc.dates import parse_date_input
    try:
        return parse_date_input(value, "fa")  # ISO, or Jalali when the year is below 1700
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected a date like 2026-05-01 (or Jalali 1405/02/11)") from None


@click.command("scorecard")
@click.option("--from", "start", required=True, callback=_date, help="First day (YYYY-MM-DD or Jalali YYYY/MM/DD).")
@click.option("--to", "end", required=True, callback=_date, help="Last day, inclusive.")
@click.option("--psp", "psp_code", default=None, help="Only this PSP's contracts (code).")
@click.option("--contractor", "contractor_code", default=None, help="Only this contractor (code).")
@click.option("--lang", type=click.Choice(["fa", "en"]), default="fa", show_default=True,
              help="Language of headers and sheet names.")
@click.option("--recompute-penalties", is_flag=True,
              help="Bring the penalty ledger of the period up to date first (idempotent).")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .xlsx file to write.")
@with_appcontext
def scorecard(start: dt.date, end: dt.date, psp_code: str | None, contractor_code: str | None,
              lang: str, recompute_penalties: bool, output: Path) -> None:
    """Write the contractor scorecards workbook of a period (Summary, one sheet per contractor,
    Penalties, Definitions)."""
    from fieldsvc.visits.scorecards.workbook import export_scorecard
    from fieldsvc.visits.scorecards.ledger import recompute_period
    from fieldsvc.visits.scope import NotFound

    from fieldsvc.visits.scorecards.kpis import MAX_DATE, MIN_DATE
    if end < start:
        raise click.BadParameter("--to must not be before --from", param_hint="--to")
    if not (MIN_DATE <= start <= MAX_DATE and MIN_DATE <= end <= MAX_DATE):
        raise click.BadParameter(f"dates must lie between {MIN_DATE} and {MAX_DATE}", param_hint="--from")
    try:
        if recompute_penalties:
            res = recompute_period(start, end, user=None, psp_code=psp_code, contractor_code=contractor_code)
            click.echo(f"penalty ledger: {res.created} new, {res.updated} updated, "
                       f"{res.corrections} corrections, {res.deleted} removed, {res.unchanged} unchanged")
        card, data = export_scorecard(start, end, user=None, psp_code=psp_code,
                                      contractor_code=contractor_code, lang=lang)
    except NotFound as e:
        raise click.BadParameter(str(e)) from None
    output.write_bytes(data)
    click.echo(f"{output}: {len(card.rows)} contractors, {start} to {end}")
