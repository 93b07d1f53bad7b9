"""`fieldsvc import merchants|terminals|technicians FILE` — all-or-nothing bulk import."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from fieldsvc.visits.master.importer import KINDS, import_file


@click.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--max-errors", type=click.IntRange(0), default=0,
              help="List at most this many errors (0 = all).")
@with_appcontext
def import_(kind: str, file: Path, max_errors: int) -> None:
    """Import KIND rows from FILE (.xlsx or .csv, UTF-8). Every row is validated first; if any
    row is wrong nothing is written and every error is listed as "row N, column X: problem".
    Rows matching existing data by natural key are updated (re-importing never duplicates).
    Columns: data/IMPORT.md; templates: data/<kind>_template.csv / .xlsx."""
    result = import_file(kind, file, file.name)
    if not result.ok:
        shown = result.errors if not max_errors else result.errors[:max_errors]
        for err in shown:
            click.echo(str(err), err=True)
        if len(shown) < len(result.errors):
            click.echo(f"… and {len(result.errors) - len(shown)} more errors", err=True)
        click.echo(f"{file.name}: {len(result.errors)} error(s) in {result.rows} row(s); nothing was imported.",
                   err=True)
        raise SystemExit(1)
    click.echo(f"{file.name}: imported {result.rows} {kind} ({result.created} created, {result.updated} updated) "
               f"in {result.seconds:.2f} s ({result.rows_per_second:,.0f} rows/s)")
