"""Benchmark (not a test): import a merchants or terminals file (.csv and .xlsx) into a fresh
database and print rows/s.

    .venv/bin/python tests/importer/bench_import.py --kind merchants [--rows 10000]
        10,000 merchants onto the demo's reference data, then the same file again (all updates)
    .venv/bin/python tests/importer/bench_import.py --kind terminals [--rows 50000]
        50,000 terminals onto the 3,000-merchant demo (target: under 60 s)

``--database-url URL`` imports into that database instead of a temporary SQLite file.
"""
from __future__ import annotations

import argparse
import csv
import random
import tempfile
from datetime import date
from pathlib import Path

from openpyxl import Workbook

TERMINAL_COLUMNS = ["serial", "psp", "model", "family", "merchant", "status", "installed_on", "last_pm_on"]
MODELS = [("PAX S90", "pax"), ("Verifone VX520", "verifone"), ("Ingenico iWL250", "ingenico")]
DEFAULT_ROWS = {"merchants": 10_000, "terminals": 50_000}


def _write(folder: Path, stem: str, columns: list[str], rows: list[list[str]]) -> tuple[Path, Path]:
    """The rows as a UTF-8 .csv and as a normal workbook (shared strings, as Excel saves it)."""
    csv_path, xlsx_path = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        w.writerows(rows)
    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    for r in rows:
        ws.append(r)
    wb.save(xlsx_path)
    return csv_path, xlsx_path


def merchant_rows(n: int, seed: int = 7) -> tuple[list[str], list[list[str]]]:
    """``n`` valid merchant rows in the demo's PSPs and regions."""
    import numpy as np

    from fieldsvc.demo import geo, names
    from fieldsvc.visits.master.importer import COLUMNS

    rng = random.Random(seed)
    points = geo.sample_shop_points(n, np.random.default_rng(seed))
    cols = list(COLUMNS["merchants"])
    rows = []
    for i in range(n):
        lat, lon = points[i]
        row = {"psp": rng.choice(("arya", "nikan")), "code": str(30_000_000 + i),
               "name": names.shop_name(rng, "سوپرمارکت"), "lat": f"{lat:.6f}", "lon": f"{lon:.6f}",
               "region": geo.region_of(float(lat), float(lon)) if i % 2 else "",
               "address": names.address(rng), "phone": names.landline(rng), "email": "",
               "contact_name": names.person_name(rng),
               "opening_hours": "sat-thu 09:00-13:00,16:30-21:00; fri closed", "closed_dates": "",
               "language": "fa", "building_key": ""}
        rows.append([row[c] for c in cols])
    return cols, rows


def terminal_rows(n: int, merchants: list[tuple[str, str]], seed: int = 7) -> tuple[list[str], list[list[str]]]:
    """``n`` valid terminal rows spread over the given (psp code, merchant code) pairs."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        psp, merchant = merchants[i % len(merchants)]
        model, family = rng.choice(MODELS)
        rows.append([f"BX{i:010d}", psp, model, family, merchant, "active", "2025-03-01", "2026-09-15"])
    return TERMINAL_COLUMNS, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=sorted(DEFAULT_ROWS), default="merchants")
    ap.add_argument("--rows", type=int, default=None, help="rows in the file (10,000 merchants / 50,000 terminals)")
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    rows_wanted = args.rows or DEFAULT_ROWS[args.kind]
    from sqlalchemy import select

    from fieldsvc.db import db
    from fieldsvc.demo.build import build_demo
    from fieldsvc.visits import models as m
    from fieldsvc.visits.master.importer import import_file
    from fieldsvc.web import create_app

    # merchants need only the demo's reference data; terminals need merchants to stand at
    demo_merchants = 20 if args.kind == "merchants" else 3000
    passes = ("new rows", "re-import (updates)") if args.kind == "merchants" else ("new rows",)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.sqlite'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            for suffix in (".csv", ".xlsx"):
                db.session.remove()
                build_demo(seed=1, merchants=demo_merchants, today=date(2026, 11, 22))
                if args.kind == "merchants":
                    columns, rows = merchant_rows(rows_wanted)
                else:
                    pairs = [(p, c) for p, c in db.session.execute(
                        select(m.Psp.code, m.Merchant.code).join(m.Psp, m.Psp.id == m.Merchant.psp_id))]
                    columns, rows = terminal_rows(rows_wanted, pairs)
                csv_path, xlsx_path = _write(folder, f"{args.kind}_{rows_wanted}", columns, rows)
                path = csv_path if suffix == ".csv" else xlsx_path
                for label in passes:
                    r = import_file(args.kind, path, path.name)
                    assert r.ok, r.errors[:5]
                    print(f"{path.suffix:5} {label:20} {r.rows:6d} rows in {r.seconds:6.2f} s = "
                          f"{r.rows_per_second:8,.0f} rows/s (created {r.created}, updated {r.updated})")


if __name__ == "__main__":
    main()
