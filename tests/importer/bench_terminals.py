"""Benchmark (not a test): import 50,000 terminals (.csv and .xlsx) into a fresh SQLite database
holding the demo's merchants, and print the time (target: under 60 s).

    .venv/bin/python tests/importer/bench_terminals.py [--rows 50000] [--database-url URL]
"""
from __future__ import annotations

import argparse
import csv
import random
import tempfile
from datetime import date
from pathlib import Path

from openpyxl import Workbook

COLUMNS = ["serial", "psp", "model", "family", "merchant", "status", "installed_on", "last_pm_on"]
MODELS = [("PAX S90", "pax"), ("Verifone VX520", "verifone"), ("Ingenico iWL250", "ingenico")]


def write_files(folder: Path, merchants: list[tuple[str, str]], n: int, seed: int = 7) -> tuple[Path, Path]:
    """A terminals .csv and .xlsx of ``n`` valid rows at the given (psp code, merchant code)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        psp, merchant = merchants[i % len(merchants)]
        model, family = rng.choice(MODELS)
        rows.append([f"BX{i:010d}", psp, model, family, merchant, "active", "2025-03-01", "2026-09-15"])
    csv_path, xlsx_path = folder / f"terminals_{n}.csv", folder / f"terminals_{n}.xlsx"
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows(rows)
    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    for r in rows:
        ws.append(r)
    wb.save(xlsx_path)
    return csv_path, xlsx_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    from sqlalchemy import select

    from fieldsvc.db import db
    from fieldsvc.demo.build import build_demo
    from fieldsvc.visits import models as m
    from fieldsvc.visits.master.importer import import_file
    from fieldsvc.web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.sqlite'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            for suffix in (".csv", ".xlsx"):
                db.session.remove()
                build_demo(seed=1, merchants=3000, today=date(2026, 11, 22))
                merchants = [(p, c) for p, c in db.session.execute(
                    select(m.Psp.code, m.Merchant.code).join(m.Psp, m.Psp.id == m.Merchant.psp_id))]
                paths = write_files(folder, merchants, args.rows)
                path = paths[0] if suffix == ".csv" else paths[1]
                r = import_file("terminals", path, path.name)
                assert r.ok, r.errors[:5]
                print(f"{path.suffix:5} {r.rows:6d} terminals in {r.seconds:6.2f} s = "
                      f"{r.rows_per_second:8,.0f} rows/s (created {r.created}, updated {r.updated})")


if __name__ == "__main__":
    main()
