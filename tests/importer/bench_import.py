"""Benchmark (not a test): import a 10,000-row merchants file (.csv and .xlsx) into a fresh SQLite
database, then re-import it (all updates), and print rows/s.

    .venv/bin/python tests/importer/bench_import.py [--rows 10000] [--database-url URL]
"""
from __future__ import annotations

import argparse
import csv
import random
import tempfile
from datetime import date
from pathlib import Path

from openpyxl import Workbook


def write_files(folder: Path, n: int, seed: int = 7) -> tuple[Path, Path]:
    """A merchants .csv and .xlsx of ``n`` valid rows (PSPs and regions of the demo)."""
    from fieldsvc.demo import geo, names
    from fieldsvc.visits.master.importer import COLUMNS

    rng = random.Random(seed)
    import numpy as np

    points = geo.sample_shop_points(n, np.random.default_rng(seed))
    cols = list(COLUMNS["merchants"])
    rows = []
    for i in range(n):
        lat, lon = points[i]
        rows.append({"psp": rng.choice(("arya", "nikan")), "code": str(30_000_000 + i),
                     "name": names.shop_name(rng, "سوپرمارکت"), "lat": f"{lat:.6f}", "lon": f"{lon:.6f}",
                     "region": geo.region_of(float(lat), float(lon)) if i % 2 else "",
                     "address": names.address(rng), "phone": names.landline(rng), "email": "",
                     "contact_name": names.person_name(rng),
                     "opening_hours": "sat-thu 09:00-13:00,16:30-21:00; fri closed", "closed_dates": "",
                     "language": "fa", "building_key": ""})
    csv_path, xlsx_path = folder / "merchants_10k.csv", folder / "merchants_10k.xlsx"
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    wb = Workbook()  # a normal workbook (shared strings), like one saved by Excel
    ws = wb.active
    ws.append(cols)
    for r in rows:
        ws.append([r[c] for c in cols])
    wb.save(xlsx_path)
    return csv_path, xlsx_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    from fieldsvc.db import db
    from fieldsvc.demo.build import build_demo
    from fieldsvc.visits.master.importer import import_file
    from fieldsvc.web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.sqlite'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        csv_path, xlsx_path = write_files(folder, args.rows)
        with app.app_context():
            for path in (csv_path, xlsx_path):
                db.session.remove()
                build_demo(seed=1, merchants=20, today=date(2026, 11, 22))  # reference data only matters
                for label in ("new rows", "re-import (updates)"):
                    r = import_file("merchants", path, path.name)
                    assert r.ok, r.errors[:5]
                    print(f"{path.suffix:5} {label:20} {r.rows:6d} rows in {r.seconds:6.2f} s = "
                          f"{r.rows_per_second:8,.0f} rows/s (created {r.created}, updated {r.updated})")


if __name__ == "__main__":
    main()
