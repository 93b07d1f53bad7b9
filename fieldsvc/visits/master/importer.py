"""Bulk import of merchants, terminals and technicians from .xlsx or .csv — all or nothing.

Every row is validated first (required fields, numbers, coordinates inside Iran, phones, opening
hours, references to PSPs / regions / merchants / contractors / terminal families, duplicates in the
file); only when no row has an error are the rows written, in one transaction, followed by one
AuditEvent (action ``import``). Persian/Arabic digits and letter variants are normalised.

Rows are matched to existing data by their natural key and updated in place, so importing the
same file twice creates nothing the second time: merchants by (psp, code), terminals by serial,
technicians by (contractor, code). Blank optional cells leave an existing value unchanged.

Errors read ``row N, column X: what is wrong``; N is the spreadsheet row (the header is row 1).
Column documentation: ``data/IMPORT.md``.
"""
from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Optional, Union

from sqlalchemy import insert, select, update

from fieldsvc.dates import parse_date_input
from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_code, normalize_digits, normalize_phone, normalize_text, parse_int
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record
from fieldsvc.visits.master.opening_hours import WEEK, OpeningHoursError, parse_opening_hours

KINDS = ("merchants", "terminals", "technicians")
#: Terminal families accepted besides those already in the database (they are technician skills).
KNOWN_FAMILIES = ("pax", "verifone", "ingenico", "castles", "newland", "sunmi", "nexgo", "centerm",
                  "spectra", "hypercom")
#: Latitude/longitude box of Iran (with a small margin).
IRAN_LAT = (24.8, 40.0)
IRAN_LON = (43.9, 63.5)
_BATCH = 2000
Source = Union[str, Path, IO[bytes]]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class RowError:
    """One problem: spreadsheet row (1 = header), column name and what is wrong."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass
class ImportResult:
    """Outcome of an import: ``ok`` only when every row was valid and written."""

    kind: str
    filename: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0
    #: A dry run writes nothing; ``preview`` holds the first rows as they would be written.
    dry_run: bool = False
    preview: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


class CellError(ValueError):
    """A cell's value is invalid; the message says what is expected."""


# --------------------------------------------------------------------------- cell parsers


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip(" \t\r\n\u200c\u200f\u200e\ufeff"))


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return normalize_text(str(v))


def parse_text(v: Any, max_len: int = 200) -> str:
    s = _text(v)
    if len(s) > max_len:
        raise CellError(f"longer than {max_len} characters")
    return s


def parse_key(v: Any) -> str:
    """A code (merchant code, technician code): digits normalised, no spaces, case kept."""
    s = re.sub(r"\s", "", normalize_digits(_text(v)))
    if len(s) > 32:
        raise CellError("longer than 32 characters")
    return s


def parse_serial(v: Any) -> str:
    s = normalize_code(_text(v))
    if len(s) > 64:
        raise CellError("longer than 64 characters")
    if not re.fullmatch(r"[A-Z0-9\-_/.]+", s):
        raise CellError(f"{s!r} is not a serial number (letters A-Z, digits, - _ / . only)")
    return s


def parse_float(v: Any) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    s = normalize_digits(_text(v)).replace("\u066b", ".").replace(",", ".").replace(" ", "")
    try:
        return float(s)
    except ValueError:
        raise CellError(f"{_text(v)!r} is not a number") from None


def parse_lat(v: Any) -> float:
    x = parse_float(v)
    if not IRAN_LAT[0] <= x <= IRAN_LAT[1]:
        raise CellError(f"latitude {x} is outside Iran ({IRAN_LAT[0]} to {IRAN_LAT[1]}); "
                        "check that latitude and longitude are not swapped")
    return round(x, 7)


def parse_lon(v: Any) -> float:
    x = parse_float(v)
    if not IRAN_LON[0] <= x <= IRAN_LON[1]:
        raise CellError(f"longitude {x} is outside Iran ({IRAN_LON[0]} to {IRAN_LON[1]}); "
                        "check that latitude and longitude are not swapped")
    return round(x, 7)


def parse_whole(v: Any, lo: int, hi: int) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    try:
        n = parse_int(v if isinstance(v, int) else _text(v))
    except ValueError:
        raise CellError(f"{_text(v)!r} is not a whole number") from None
    if not lo <= n <= hi:
        raise CellError(f"{n} is out of range ({lo} to {hi})")
    return n


def parse_phone(v: Any, mobile_only: bool = False) -> str:
    text = _text(v)
    if isinstance(v, (int, float)) and not text.startswith("0"):
        text = "0" + text  # a spreadsheet dropped the leading zero
    try:
        return normalize_phone(text, mobile_only=mobile_only)
    except ValueError as e:
        raise CellError(str(e)) from None


def parse_email(v: Any) -> str:
    s = _text(v).lower()
    if s and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", s):
        raise CellError(f"{s!r} is not an e-mail address")
    return s


def parse_date(v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return parse_date_input(_text(v), "fa")
    except ValueError as e:
        raise CellError(f"{e}") from None


def parse_dates(v: Any) -> list[str]:
    if isinstance(v, (date, datetime)):
        return [parse_date(v).isoformat()]
    parts = [p for p in re.split(r"[,\s،]+", _text(v)) if p]
    return sorted({parse_date(p).isoformat() for p in parts})


def parse_hhmm(v: Any) -> str:
    if isinstance(v, (dtime, datetime)):
        return f"{v.hour:02d}:{v.minute:02d}"
    s = normalize_digits(_text(v))
    mt = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", s)
    if not mt:
        raise CellError(f"{s!r} is not a time: use HH:MM, e.g. 08:30")
    return f"{int(mt.group(1)):02d}:{mt.group(2)}"


def parse_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = _text(v).lower()
    if s in ("1", "yes", "y", "true", "بله", "آری", "فعال"):
        return True
    if s in ("0", "no", "n", "false", "خیر", "نه", "غیرفعال"):
        return False
    raise CellError(f"{s!r}: use yes or no")


@lru_cache(maxsize=4096)
def _hours_json(text: str) -> str:
    return json.dumps(parse_opening_hours(text))


def parse_hours(v: Any) -> dict:
    try:
        return json.loads(_hours_json(str(v)))
    except OpeningHoursError as e:
        raise CellError(f"{e} (format: 'sat-thu 09:00-13:00,16:30-21:00; fri closed')") from None


def parse_choice(v: Any, choices: dict[str, str]) -> str:
    s = _text(v).lower()
    if s not in choices:
        raise CellError(f"{_text(v)!r}: use one of {', '.join(sorted(set(choices.values())))}")
    return choices[s]


def parse_list(v: Any) -> list[str]:
    return [p.lower() for p in re.split(r"[,;\s،؛]+", _text(v)) if p]


VEHICLES = {"motorbike": "motorbike", "motorcycle": "motorbike", "موتور": "motorbike",
            "موتورسیکلت": "motorbike", "car": "car", "خودرو": "car", "ماشین": "car"}
LANGUAGES = {"fa": "fa", "en": "en", "فارسی": "fa", "english": "en", "persian": "fa"}
STATUSES = {s.value: s.value for s in m.TerminalStatus}


# --------------------------------------------------------------------------- column specs


@dataclass(frozen=True)
class Column:
    """One import column: name, required or not, parser, and the help text of data/IMPORT.md."""

    name: str
    required: bool
    parse: Callable[[Any], Any]
    help: str


def _spec(*cols: Column) -> dict[str, Column]:
    return {c.name: c for c in cols}


COLUMNS: dict[str, dict[str, Column]] = {
    "merchants": _spec(
        Column("psp", True, parse_key, "PSP code (e.g. arya)"),
        Column("code", True, parse_key, "merchant code, unique within the PSP (the natural key with psp)"),
        Column("name", True, lambda v: parse_text(v, 200), "shop name"),
        Column("lat", True, parse_lat, "latitude, decimal degrees (inside Iran)"),
        Column("lon", True, parse_lon, "longitude, decimal degrees (inside Iran)"),
        Column("region", False, parse_key, "region code; blank = the region whose area holds the location"),
        Column("address", False, lambda v: parse_text(v, 400), "postal address"),
        Column("phone", False, parse_phone, "Iranian phone, landline with area code or mobile"),
        Column("email", False, parse_email, "e-mail address"),
        Column("contact_name", False, lambda v: parse_text(v, 200), "contact person"),
        Column("opening_hours", False, parse_hours,
               "e.g. 'sat-thu 09:00-13:00,16:30-21:00; fri closed' (blank = unknown)"),
        Column("closed_dates", False, parse_dates, "extra closed dates, comma separated (2026-03-21 or 1405/01/01)"),
        Column("language", False, lambda v: parse_choice(v, LANGUAGES), "fa or en (messages to the merchant)"),
        Column("building_key", False, parse_key, "same value for shops in one building (one stop)"),
    ),
    "terminals": _spec(
        Column("serial", True, parse_serial, "serial number, unique (the natural key)"),
        Column("psp", True, parse_key, "PSP code that owns the terminal"),
        Column("model", True, lambda v: parse_text(v, 64), "model, e.g. PAX S90"),
        Column("family", False, lambda v: parse_key(v).lower(),
               "model family = technician skill (pax, verifone, ingenico, …); blank = first word of model"),
        Column("merchant", False, parse_key, "merchant code (of the same PSP); blank = in stock"),
        Column("status", False, lambda v: parse_choice(v, STATUSES), "active, faulty, removed or in_stock"),
        Column("installed_on", False, parse_date, "installation date"),
        Column("last_pm_on", False, parse_date, "date of the last preventive visit"),
    ),
    "technicians": _spec(
        Column("contractor", True, parse_key, "contractor code"),
        Column("code", True, parse_key, "technician code, unique within the contractor (natural key)"),
        Column("name", True, lambda v: parse_text(v, 200), "full name"),
        Column("phone", True, lambda v: parse_phone(v, mobile_only=True), "mobile number (09…)"),
        Column("home_lat", True, parse_lat, "latitude of the home base"),
        Column("home_lon", True, parse_lon, "longitude of the home base"),
        Column("skills", True, parse_list, "terminal families, comma separated (pax, verifone, …)"),
        Column("vehicle", False, lambda v: parse_choice(v, VEHICLES), "motorbike (default) or car"),
        Column("shift_start", False, parse_hhmm, "HH:MM, default 08:00"),
        Column("shift_end", False, parse_hhmm, "HH:MM, default 17:00"),
        Column("break_start", False, parse_hhmm, "earliest break start, default 12:30"),
        Column("break_end", False, parse_hhmm, "latest break end, default 14:30"),
        Column("break_minutes", False, lambda v: parse_whole(v, 0, 180), "break length in minutes, default 30"),
        Column("max_visits", False, lambda v: parse_whole(v, 1, 40), "visits a day at most, default 16"),
        Column("days_off", False, parse_list, "weekdays off, comma separated (default fri)"),
        Column("active", False, parse_bool, "yes (default) or no"),
        Column("on_call", False, parse_bool, "yes or no (default): takes EM calls of 7x24 contracts outside the shift"),
    ),
}


# --------------------------------------------------------------------------- reading files


def _header_name(v: Any) -> str:
    return re.sub(r"[\s\-]+", "_", _text(v).strip().strip("*").strip().lower())


def read_rows(source: Source, filename: str) -> Iterator[tuple[int, list[Any]]]:
    """``(spreadsheet row number, cell values)`` of the first sheet / the CSV, header included.

    .xlsx is read with openpyxl in read-only mode; .csv as UTF-8 (a BOM is fine), with the
    delimiter (comma, semicolon or tab) detected."""
    data: bytes | None = None
    if isinstance(source, (str, Path)):
        with open(source, "rb") as fh:
            data = fh.read()
    else:
        data = source.read()
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx" or (suffix not in (".csv", ".txt") and data[:2] == b"PK"):
        yield from _read_xlsx(data)
    elif suffix in (".csv", ".txt", ""):
        yield from _read_csv(data)
    else:
        raise CellError(f"unsupported file type {suffix!r}: use .xlsx or .csv")


def _read_xlsx(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds
        raise CellError(f"not a readable .xlsx workbook ({e.__class__.__name__})") from None
    try:
        ws = wb.worksheets[0]
        for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield n, list(row)
    finally:
        wb.close()


def _read_csv(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CellError("the file is not UTF-8: save it as 'CSV UTF-8' (Excel) or export as UTF-8") from None
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    for n, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
        yield n, row


# --------------------------------------------------------------------------- validation


@dataclass
class _Refs:
    psps: dict[str, int]
    regions: dict[str, int]
    region_shapes: list[tuple[int, Any]]
    contractors: dict[str, int]
    families: set[str]


def _load_refs() -> _Refs:
    from shapely.geometry import shape

    shapes = []
    for rid, geom in db.session.execute(select(m.Region.id, m.Region.geometry).order_by(m.Region.id)):
        if geom:
            try:
                shapes.append((rid, shape(geom)))
            except (ValueError, TypeError, KeyError, AttributeError):
                continue
    families = set(KNOWN_FAMILIES) | {f for (f,) in db.session.execute(select(m.Terminal.family).distinct())}
    return _Refs(
        psps={c.lower(): i for i, c in db.session.execute(select(m.Psp.id, m.Psp.code))},
        regions={c.lower(): i for i, c in db.session.execute(select(m.Region.id, m.Region.code))},
        region_shapes=shapes,
        contractors={c.lower(): i for i, c in db.session.execute(select(m.Contractor.id, m.Contractor.code))},
        families=families)


def _region_at(refs: _Refs, lat: float, lon: float) -> Optional[int]:
    from shapely import contains_xy

    for rid, geom in refs.region_shapes:
        if contains_xy(geom, lon, lat):
            return rid
    return None


def _parse_rows(kind: str, rows: Iterator[tuple[int, list[Any]]],
                errors: list[RowError]) -> list[tuple[int, dict[str, Any]]]:
    """Header check and cell parsing; returns (row number, parsed non-blank values)."""
    spec = COLUMNS[kind]
    try:
        header_no, header = next(rows)
    except StopIteration:
        errors.append(RowError(1, "-", "the file is empty: the first row must name the columns"))
        return []
    names = [_header_name(h) for h in header]
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        if not name:
            continue
        if name not in spec:
            errors.append(RowError(header_no, name, f"unknown column; expected: {', '.join(spec)}"))
        elif name in index:
            errors.append(RowError(header_no, name, "column appears twice"))
        else:
            index[name] = i
    for col in spec.values():
        if col.required and col.name not in index:
            errors.append(RowError(header_no, col.name, "required column is missing"))
    if errors:
        return []
    out: list[tuple[int, dict[str, Any]]] = []
    for n, cells in rows:
        raw = {name: (cells[i] if i < len(cells) else None) for name, i in index.items()}
        if all(_blank(v) for v in raw.values()):
            continue
        values: dict[str, Any] = {}
        for name, v in raw.items():
            col = spec[name]
            if _blank(v):
                if col.required:
                    errors.append(RowError(n, name, "required value is missing"))
                continue
            try:
                values[name] = col.parse(v)
            except CellError as e:
                errors.append(RowError(n, name, str(e)))
            except (ValueError, TypeError) as e:
                errors.append(RowError(n, name, str(e)))
        out.append((n, values))
    return out


# --------------------------------------------------------------------------- per kind


def _now_stamps(values: dict[str, Any], creating: bool) -> dict[str, Any]:
    now = utcnow()
    values["updated_at"] = now
    if creating:
        values["created_at"] = now
    return values


def _merchants(rows: list[tuple[int, dict[str, Any]]], refs: _Refs, errors: list[RowError]):
    existing = {(p, c): i for i, p, c in db.session.execute(select(m.Merchant.id, m.Merchant.psp_id, m.Merchant.code))}
    seen: dict[tuple[int, str], int] = {}
    new, upd = [], []
    for n, v in rows:
        psp_id = refs.psps.get(v.get("psp", "").lower()) if "psp" in v else None
        if "psp" in v and psp_id is None:
            errors.append(RowError(n, "psp", f"unknown PSP {v['psp']!r}; known: {', '.join(sorted(refs.psps))}"))
        region_id = None
        if "region" in v:
            region_id = refs.regions.get(v["region"].lower())
            if region_id is None:
                errors.append(RowError(n, "region", f"unknown region {v['region']!r}; known: "
                                                    f"{', '.join(sorted(refs.regions))}"))
        if psp_id is None or "code" not in v:
            continue
        key = (psp_id, v["code"])
        if key in seen:
            errors.append(RowError(n, "code", f"duplicate: merchant {v['code']} of {v['psp']} is also on row {seen[key]}"))
            continue
        seen[key] = n
        if "lat" not in v or "lon" not in v:
            continue
        if region_id is None and "region" not in v:
            region_id = _region_at(refs, v["lat"], v["lon"])
            if region_id is None and key not in existing:
                errors.append(RowError(n, "region", "blank, and the location lies in no region's area: "
                                                    "give a region code"))
                continue
        row = {k: v[k] for k in ("name", "lat", "lon", "address", "phone", "email", "contact_name",
                                 "opening_hours", "closed_dates", "language", "building_key") if k in v}
        if region_id is not None:
            row["region_id"] = region_id
        if key in existing:
            upd.append(_now_stamps({"id": existing[key], **row}, False))
        else:
            base = {"address": "", "phone": "", "email": "", "contact_name": "", "opening_hours": {},
                    "closed_dates": [], "language": "fa", "building_key": None}
            new.append(_now_stamps({**base, **row, "psp_id": psp_id, "code": v["code"]}, True))
    return m.Merchant, new, upd


def _terminals(rows: list[tuple[int, dict[str, Any]]], refs: _Refs, errors: list[RowError]):
    existing = {s: (i, p) for i, s, p in db.session.execute(select(m.Terminal.id, m.Terminal.serial, m.Terminal.psp_id))}
    merchants = {(p, c): i for i, p, c in db.session.execute(select(m.Merchant.id, m.Merchant.psp_id, m.Merchant.code))}
    seen: dict[str, int] = {}
    new, upd = [], []
    for n, v in rows:
        psp_id = refs.psps.get(v["psp"].lower()) if "psp" in v else None
        if "psp" in v and psp_id is None:
            errors.append(RowError(n, "psp", f"unknown PSP {v['psp']!r}; known: {', '.join(sorted(refs.psps))}"))
        family = v.get("family")
        if family is None and "model" in v:
            family = (v["model"].split() or [""])[0].lower()
            if family not in refs.families:
                errors.append(RowError(n, "family", f"blank, and the model {v['model']!r} names no known family; "
                                                    f"give one of {', '.join(sorted(refs.families))}"))
                family = None
        elif family is not None and family not in refs.families:
            errors.append(RowError(n, "family", f"unknown family {family!r}; known: {', '.join(sorted(refs.families))}"))
            family = None
        merchant_id = None
        if "merchant" in v and psp_id is not None:
            merchant_id = merchants.get((psp_id, v["merchant"]))
            if merchant_id is None:
                errors.append(RowError(n, "merchant", f"unknown merchant {v['merchant']!r} of PSP {v['psp']} "
                                                      "(import the merchants first)"))
                continue
        if "serial" not in v:
            continue
        serial = v["serial"]
        if serial in seen:
            errors.append(RowError(n, "serial", f"duplicate: serial {serial} is also on row {seen[serial]}"))
            continue
        seen[serial] = n
        if psp_id is None or family is None or "model" not in v:
            continue
        row: dict[str, Any] = {"model": v["model"], "family": family, "psp_id": psp_id}
        for k in ("status", "installed_on", "last_pm_on"):
            if k in v:
                row[k] = v[k]
        if "merchant" in v:
            row["merchant_id"] = merchant_id
        if serial in existing:
            tid, old_psp = existing[serial]
            if old_psp != psp_id:
                errors.append(RowError(n, "psp", f"terminal {serial} belongs to another PSP; "
                                                 "a terminal cannot change PSP by import"))
                continue
            upd.append(_now_stamps({"id": tid, **row}, False))
        else:
            row.setdefault("merchant_id", None)
            row.setdefault("status", "active" if row["merchant_id"] else "in_stock")
            row.setdefault("installed_on", None)
            row.setdefault("last_pm_on", None)
            new.append(_now_stamps({**row, "serial": serial}, True))
    return m.Terminal, new, upd


def _technicians(rows: list[tuple[int, dict[str, Any]]], refs: _Refs, errors: list[RowError]):
    existing = {(c, k): (i, s0, s1) for i, c, k, s0, s1 in db.session.execute(
        select(m.Technician.id, m.Technician.contractor_id, m.Technician.code, m.Technician.shift_start,
               m.Technician.shift_end))}
    seen: dict[tuple[int, str], int] = {}
    new, upd = [], []
    for n, v in rows:
        cid = refs.contractors.get(v["contractor"].lower()) if "contractor" in v else None
        if "contractor" in v and cid is None:
            errors.append(RowError(n, "contractor", f"unknown contractor {v['contractor']!r}; known: "
                                                    f"{', '.join(sorted(refs.contractors))}"))
        bad = [s for s in v.get("skills", []) if s not in refs.families]
        if bad:
            errors.append(RowError(n, "skills", f"unknown famil{'ies' if len(bad) > 1 else 'y'} {', '.join(bad)}; "
                                                f"known: {', '.join(sorted(refs.families))}"))
        days = [_day_name(d) for d in v.get("days_off", [])]
        if any(d is None for d in days):
            errors.append(RowError(n, "days_off", "use weekday names: sat, sun, mon, tue, wed, thu, fri"))
        if cid is None or "code" not in v:
            continue
        key = (cid, v["code"])
        if key in seen:
            errors.append(RowError(n, "code", f"duplicate: technician {v['code']} of {v['contractor']} is also on "
                                              f"row {seen[key]}"))
            continue
        seen[key] = n
        if bad or any(d is None for d in days):
            continue
        old = existing.get(key)
        start = v.get("shift_start", old[1] if old else "08:00")
        end = v.get("shift_end", old[2] if old else "17:00")
        if end <= start:
            errors.append(RowError(n, "shift_end", f"{end} must be after shift_start {start}"))
            continue
        if "break_start" in v and "break_end" in v and v["break_end"] <= v["break_start"]:
            errors.append(RowError(n, "break_end", f"{v['break_end']} must be after break_start {v['break_start']}"))
            continue
        row = {k: v[k] for k in ("name", "phone", "home_lat", "home_lon", "skills", "vehicle", "shift_start",
                                 "shift_end", "break_start", "break_end", "break_minutes", "max_visits", "active",
                                 "on_call")
               if k in v}
        if "days_off" in v:
            row["days_off"] = days
        if old:
            upd.append(_now_stamps({"id": old[0], **row}, False))
        else:
            base = {"vehicle": "motorbike", "shift_start": "08:00", "shift_end": "17:00", "break_start": "12:30",
                    "break_end": "14:30", "break_minutes": 30, "max_visits": 16, "days_off": ["fri"],
                    "active": True, "on_call": False}
            new.append(_now_stamps({**base, **row, "contractor_id": cid, "code": v["code"]}, True))
    return m.Technician, new, upd


def _day_name(d: str) -> Optional[str]:
    full = {"saturday": "sat", "sunday": "sun", "monday": "mon", "tuesday": "tue", "wednesday": "wed",
            "thursday": "thu", "friday": "fri"}
    d = full.get(d, d)
    return d if d in WEEK else None


_BUILDERS = {"merchants": _merchants, "terminals": _terminals, "technicians": _technicians}


# --------------------------------------------------------------------------- entry point


def import_file(kind: str, source: Source, filename: str | None = None,
                actor: Optional[m.User] = None, *, dry_run: bool = False, preview_rows: int = 10) -> ImportResult:
    """Validate and import a file of ``kind`` (merchants, terminals, technicians); all or nothing.

    ``source`` is a path or a binary stream (e.g. an uploaded file); ``filename`` decides the
    format (.xlsx or .csv) and is recorded in the audit trail. Commits on success; on any error
    nothing is written and ``result.errors`` lists every problem."""
    t0 = time.perf_counter()
    if filename is None:
        filename = Path(source).name if isinstance(source, (str, Path)) else getattr(source, "name", "upload")
    result = ImportResult(kind=kind, filename=str(filename), dry_run=dry_run)
    if kind not in KINDS:
        result.errors.append(RowError(0, "-", f"unknown kind {kind!r}: use {', '.join(KINDS)}"))
        return result
    try:
        rows = _parse_rows(kind, read_rows(source, str(filename)), result.errors)
    except CellError as e:
        result.errors.append(RowError(1, "-", str(e)))
        return result
    except OSError as e:
        result.errors.append(RowError(0, "-", f"cannot read the file: {e.strerror or e}"))
        return result
    result.rows = len(rows)
    if not rows:
        if not result.errors:
            result.errors.append(RowError(2, "-", "no data rows under the header"))
        result.seconds = time.perf_counter() - t0
        return result
    refs = _load_refs()
    model, new, upd = _BUILDERS[kind](rows, refs, result.errors)
    if result.errors:
        result.errors.sort(key=lambda e: (e.row, e.column))
        db.session.rollback()
        result.seconds = time.perf_counter() - t0
        return result
    if dry_run:  # validated as for real; nothing is written
        db.session.rollback()
        result.preview = [{k: v for k, v in r.items() if k not in ("created_at", "updated_at")}
                          for r in (new + upd)[:preview_rows]]
        result.created, result.updated = len(new), len(upd)
        result.seconds = time.perf_counter() - t0
        return result
    try:
        for i in range(0, len(new), _BATCH):
            db.session.execute(insert(model), new[i:i + _BATCH])
        for i in range(0, len(upd), _BATCH):
            db.session.execute(update(model), upd[i:i + _BATCH])
        record("import", None, actor=actor, object_type=model.__tablename__, kind=kind, rows=len(rows),
               file=str(filename), created=len(new), updated=len(upd))
        db.session.commit()
    except Exception as e:  # noqa: BLE001 - any database refusal undoes the whole import
        db.session.rollback()
        result.errors.append(RowError(0, "-", f"the database refused the import, nothing was written: "
                                              f"{e.__class__.__name__}: {str(e).splitlines()[0]}"))
        result.seconds = time.perf_counter() - t0
        return result
    result.created, result.updated = len(new), len(upd)
    result.seconds = time.perf_counter() - t0
    return result
