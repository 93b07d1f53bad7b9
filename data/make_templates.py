"""Write the import templates (data/<kind>_template.csv and .xlsx) from fieldsvc.visits.master.importer.COLUMNS.

Run from the repository root: ``.venv/bin/python data/make_templates.py``. The example rows refer
to the demo data (PSPs arya/nikan, region thr-c, contractor alborz), so they import into a demo DB.
"""
from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from fieldsvc.visits.master.importer import COLUMNS

HERE = Path(__file__).resolve().parent

EXAMPLES: dict[str, list[dict[str, str]]] = {
    "merchants": [
        {"psp": "arya", "code": "20000001", "name": "سوپرمارکت نمونه", "lat": "35.6745", "lon": "51.4205",
         "region": "thr-c", "address": "تهران، خیابان خیام، کوچه لاله، پلاک ۱۲", "phone": "021-5560 1234",
         "email": "", "contact_name": "علی رضایی",
         "opening_hours": "sat-thu 09:00-13:00,16:30-21:00; fri closed", "closed_dates": "",
         "language": "fa", "building_key": ""},
        {"psp": "nikan", "code": "20000002", "name": "داروخانه شبانه‌روزی دکتر نمونه", "lat": "35.7570",
         "lon": "51.4100", "region": "", "address": "تهران، خیابان ولیعصر، پلاک ۲۲۰",
         "phone": "0912 123 4567", "email": "pharmacy@example.ir", "contact_name": "مریم احمدی",
         "opening_hours": "daily 24h", "closed_dates": "1405/01/01", "language": "fa", "building_key": ""},
    ],
    "terminals": [
        {"serial": "PX9000000001", "psp": "arya", "model": "PAX S90", "family": "pax", "merchant": "20000001",
         "status": "active", "installed_on": "2025-03-01", "last_pm_on": "2026-09-15"},
        {"serial": "VF9000000002", "psp": "nikan", "model": "Verifone VX520", "family": "",
         "merchant": "20000002", "status": "active", "installed_on": "1404/06/10", "last_pm_on": ""},
        {"serial": "IN9000000003", "psp": "arya", "model": "Ingenico Move5000", "family": "ingenico",
         "merchant": "", "status": "in_stock", "installed_on": "", "last_pm_on": ""},
    ],
    "technicians": [
        {"contractor": "alborz", "code": "T90", "name": "رضا نمونه", "phone": "09351234567", "home_lat": "35.7300",
         "home_lon": "51.3900", "skills": "pax, verifone", "vehicle": "motorbike", "shift_start": "08:00",
         "shift_end": "17:00", "break_start": "12:30", "break_end": "14:30", "break_minutes": "30",
         "max_visits": "14", "days_off": "fri", "active": "yes"},
        {"contractor": "zagros", "code": "T91", "name": "سارا نمونه", "phone": "09901234567", "home_lat": "35.7420",
         "home_lon": "51.5120", "skills": "pax, verifone, ingenico", "vehicle": "car", "shift_start": "12:00",
         "shift_end": "21:00", "break_start": "14:00", "break_end": "16:30", "break_minutes": "60",
         "max_visits": "12", "days_off": "thu, fri", "active": "yes"},
    ],
}


def main() -> None:
    for kind, cols in COLUMNS.items():
        names = list(cols)
        with open(HERE / f"{kind}_template.csv", "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(names)
            for ex in EXAMPLES[kind]:
                w.writerow([ex.get(n, "") for n in names])
        wb = Workbook()
        ws = wb.active
        ws.title = kind
        ws.append(names)
        for ex in EXAMPLES[kind]:
            ws.append([ex.get(n, "") or None for n in names])
        bold, fill = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
        for i, n in enumerate(names, start=1):
            cell = ws.cell(row=1, column=i)
            cell.font = bold
            if cols[n].required:
                cell.fill = fill
            ws.column_dimensions[cell.column_letter].width = max(12, min(45, len(n) + 4))
        ws.freeze_panes = "A2"
        help_ws = wb.create_sheet("columns")
        help_ws.append(["column", "required", "meaning"])
        for n, c in cols.items():
            help_ws.append([n, "yes" if c.required else "", c.help])
        help_ws.column_dimensions["A"].width = 18
        help_ws.column_dimensions["C"].width = 80
        wb.properties.creator = "fieldsvc"
        wb.save(HERE / f"{kind}_template.xlsx")
        print(f"wrote data/{kind}_template.csv and .xlsx")


if __name__ == "__main__":
    main()
