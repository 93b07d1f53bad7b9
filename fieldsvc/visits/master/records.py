"""Master data one record at a time: PSPs, contractors, regions, merchants, terminals, technicians.

Lists (search, sort, paging), create, update and deactivate, in the caller's scope (reads through
:mod:`fieldsvc.visits.scope`; writes: admins everything, PSP staff their merchants and terminals,
dispatchers their technicians). Nothing is ever deleted: history points to these rows.
Bad input raises :class:`RecordError` naming the field; nothing is written then.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from sqlalchemy import String, cast, func, or_, select, update

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.master.importer import KNOWN_FAMILIES
from fieldsvc.visits.scope import NotFound, get_scoped, scope_clause

PAGE_MAX = 200


class RecordError(ValueError):
    """Bad master data; ``field`` names the input, ``status`` the HTTP status."""

    def __init__(self, field: Optional[str], message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field, self.message, self.status = field, message, status


@dataclass(frozen=True)
class Kind:
    """One kind of master record: its model, who may write it, how it is searched and sorted."""

    name: str
    model: type
    writers: tuple[str, ...]
    search: tuple[str, ...]
    sort: tuple[str, ...]
    #: The tenant column a PSP user's / dispatcher's writes are pinned to.
    pin: dict[str, str]


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("psps", m.Psp, ("admin",), ("code", "name", "name_fa"), ("code", "name", "id"), {}),
    Kind("contractors", m.Contractor, ("admin",), ("code", "name", "name_fa", "email", "phone"),
         ("code", "name", "id"), {}),
    Kind("regions", m.Region, ("admin",), ("code", "name", "name_fa"), ("code", "name", "id"), {}),
    Kind("merchants", m.Merchant, ("admin", "psp"), ("code", "name", "address", "phone"),
         ("code", "name", "id", "region_id"), {"psp": "psp_id"}),
    Kind("terminals", m.Terminal, ("admin", "psp"), ("serial", "model", "family"),
         ("serial", "family", "id", "status"), {"psp": "psp_id"}),
    Kind("technicians", m.Technician, ("admin", "dispatcher"), ("code", "name", "phone"),
         ("code", "name", "id"), {"dispatcher": "contractor_id"}),
)}


def active_column(model: type) -> Any:
    """The column that says whether a record is in use."""
    if model is m.Terminal:
        return m.Terminal.status != m.TerminalStatus.REMOVED
    return model.active  # type: ignore[attr-defined]


def list_records(kind: Kind, user: m.User, *, q: str = "", sort: str = "code", page: int = 1,
                 per_page: int = 50, active: Optional[bool] = None) -> tuple[list[Any], int]:
    """One page of the records ``user`` may see, and the total; ``sort`` may start with '-'."""
    model = kind.model
    stmt = select(model).where(scope_clause(model, user))
    if q:
        needle = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(*[func.lower(cast(getattr(model, c), String)).like(needle) for c in kind.search]))
    if active is not None:
        col = active_column(model)
        stmt = stmt.where(col if active else ~col)
    key = sort.lstrip("-")
    if key not in kind.sort:
        raise RecordError("sort", f"sort by one of {', '.join(kind.sort)} (prefix '-' to reverse)")
    order = getattr(model, key)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    per_page = max(1, min(PAGE_MAX, per_page))
    rows = db.session.scalars(stmt.order_by(order.desc() if sort.startswith("-") else order, model.id)
                              .offset((max(1, page) - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def get_record(kind: Kind, ident: int, user: m.User) -> Any:
    return get_scoped(kind.model, ident, user)


# --------------------------------------------------------------------------- checks


def same_text(column: Any, value: str) -> Any:
    """``column`` equals ``value``, ignoring case (exactly equal too: SQLite's lower() folds ASCII only)."""
    return or_(column == value, func.lower(column) == value.lower())


def _unique(model: type, field: str, value: Any, exclude_id: Optional[int], **same: Any) -> None:
    stmt = select(model.id).where(same_text(getattr(model, field), str(value)))
    for k, v in same.items():
        stmt = stmt.where(getattr(model, k) == v)
    found = db.session.scalar(stmt)
    if found is not None and found != exclude_id:
        raise RecordError(field, _("%(value)s is already used; choose another.", value=value), 409)


def _ref(model: type, ident: Any, field: str, user: m.User) -> Any:
    if ident is None:
        raise RecordError(field, _("Required."))
    try:
        return get_scoped(model, ident, user)
    except NotFound:
        raise RecordError(field, _("Choose one from the list (number %(id)s is not one you may use).", id=ident)) from None


def check_polygon(geometry: Any) -> dict[str, Any]:
    """A GeoJSON Polygon / MultiPolygon (or a Feature / FeatureCollection of one) as a geometry
    dict; RecordError naming ``geometry`` when it is not valid GeoJSON or crosses itself."""
    from shapely.geometry import mapping, shape
    from shapely.validation import explain_validity

    if isinstance(geometry, (str, bytes)):
        try:
            geometry = json.loads(geometry)
        except ValueError:
            raise RecordError("geometry", _("This is not GeoJSON (not valid JSON).")) from None
    if isinstance(geometry, Mapping) and geometry.get("type") == "FeatureCollection":
        feats = geometry.get("features") or []
        if len(feats) != 1:
            raise RecordError("geometry", _("Give one area; the collection holds %(count)s features.", count=len(feats)))
        geometry = feats[0]
    if isinstance(geometry, Mapping) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, Mapping) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise RecordError("geometry", _("Give a GeoJSON Polygon or MultiPolygon (longitude, latitude)."))
    try:
        shp = shape(geometry)
    except Exception as e:  # noqa: BLE001 - shapely raises assorted errors for malformed coordinates
        raise RecordError("geometry", _("The coordinates cannot be read: %(error)s", error=e)) from None
    if shp.is_empty:
        raise RecordError("geometry", _("The polygon is empty."))
    if not shp.is_valid:
        raise RecordError("geometry", _("The polygon is not valid (%(reason)s): a border may not cross itself.",
                                        reason=explain_validity(shp)))
    minx, miny, maxx, maxy = shp.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise RecordError("geometry", _("Coordinates must be longitude, latitude in degrees."))
    return dict(json.loads(json.dumps(mapping(shp))))


def region_for_point(lat: float, lon: float) -> Optional[int]:
    """The id of the active region whose polygon contains the point (the smallest, if nested)."""
    from shapely.geometry import Point, shape

    best: tuple[float, int] | None = None
    for rid, geometry in db.session.execute(select(m.Region.id, m.Region.geometry)
                                            .where(m.Region.active.is_(True), m.Region.geometry.isnot(None))):
        try:
            area = shape(geometry)
        except Exception:  # noqa: BLE001 - a stored shape that cannot be read matches nothing
            continue
        if area.covers(Point(lon, lat)) and (best is None or area.area < best[0]):
            best = (area.area, rid)
    return best[1] if best else None


def assign_merchants(region: m.Region) -> int:
    """Put the active merchants without a region whose position lies in ``region``'s polygon into
    it (point in polygon); returns how many. The caller commits."""
    from shapely import contains_xy
    from shapely.geometry import shape

    area = shape(region.geometry)
    minx, miny, maxx, maxy = area.bounds
    rows = db.session.execute(select(m.Merchant.id, m.Merchant.lat, m.Merchant.lon).where(
        m.Merchant.region_id.is_(None), m.Merchant.active.is_(True), m.Merchant.lon.between(minx, maxx),
        m.Merchant.lat.between(miny, maxy))).all()
    inside = [mid for mid, lat, lon in rows if contains_xy(area, lon, lat)]
    for i in range(0, len(inside), 900):
        db.session.execute(update(m.Merchant).where(m.Merchant.id.in_(inside[i:i + 900]))
                           .values(region_id=region.id).execution_options(synchronize_session=False))
    return len(inside)


def known_families() -> set[str]:
    return set(KNOWN_FAMILIES) | {f for (f,) in db.session.execute(select(m.Terminal.family).distinct())}


# --------------------------------------------------------------------------- per kind


def _psp(data: dict[str, Any], obj: Optional[m.Psp], user: m.User) -> dict[str, Any]:
    if "code" in data:
        _unique(m.Psp, "code", data["code"], obj.id if obj else None)
    return data


def _contractor(data: dict[str, Any], obj: Optional[m.Contractor], user: m.User) -> dict[str, Any]:
    if "code" in data:
        _unique(m.Contractor, "code", data["code"], obj.id if obj else None)
    return data


def _region(data: dict[str, Any], obj: Optional[m.Region], user: m.User) -> dict[str, Any]:
    if "code" in data:
        _unique(m.Region, "code", data["code"], obj.id if obj else None)
    if data.get("geometry") is not None:
        from shapely.geometry import shape
        data["geometry"] = check_polygon(data["geometry"])
        c = shape(data["geometry"]).representative_point()
        data.setdefault("center_lat", round(c.y, 6))
        data.setdefault("center_lon", round(c.x, 6))
    return data


def _merchant(data: dict[str, Any], obj: Optional[m.Merchant], user: m.User) -> dict[str, Any]:
    psp_id = data.get("psp_id", obj.psp_id if obj else None)
    _ref(m.Psp, psp_id, "psp_id", user)
    if "code" in data or "psp_id" in data:
        _unique(m.Merchant, "code", data.get("code", obj.code if obj else ""), obj.id if obj else None,
                psp_id=psp_id)
    if data.get("region_id") is not None:
        _ref(m.Region, data["region_id"], "region_id", user)
    elif ("lat" in data or "lon" in data) and "region_id" not in data:
        lat, lon = data.get("lat", obj.lat if obj else None), data.get("lon", obj.lon if obj else None)
        if lat is not None and lon is not None:
            data["region_id"] = region_for_point(lat, lon) or (obj.region_id if obj else None)
    return data


def _terminal(data: dict[str, Any], obj: Optional[m.Terminal], user: m.User) -> dict[str, Any]:
    psp_id = data.get("psp_id", obj.psp_id if obj else None)
    _ref(m.Psp, psp_id, "psp_id", user)
    if "serial" in data:
        other = db.session.scalars(select(m.Terminal).where(same_text(m.Terminal.serial, data["serial"]))).first()
        if other is not None and (obj is None or other.id != obj.id):
            if other.psp_id == psp_id:
                raise RecordError("serial", _("The serial %(serial)s already exists at this PSP.",
                                              serial=data["serial"]), 409)
            raise RecordError("serial", _("The serial %(serial)s already exists under another PSP.",
                                          serial=data["serial"]), 409)
    if "family" in data:
        data["family"] = data["family"].strip().lower()
    if data.get("merchant_id") is not None:
        merchant = _ref(m.Merchant, data["merchant_id"], "merchant_id", user)
        if merchant.psp_id != psp_id:
            raise RecordError("merchant_id", _("The merchant belongs to another PSP than the terminal."))
    return data


def _technician(data: dict[str, Any], obj: Optional[m.Technician], user: m.User) -> dict[str, Any]:
    contractor_id = data.get("contractor_id", obj.contractor_id if obj else None)
    _ref(m.Contractor, contractor_id, "contractor_id", user)
    if "code" in data or "contractor_id" in data:
        _unique(m.Technician, "code", data.get("code", obj.code if obj else ""), obj.id if obj else None,
                contractor_id=contractor_id)
    if "skills" in data:
        skills = sorted({str(s).strip().lower() for s in data["skills"] if str(s).strip()})
        unknown = sorted(set(skills) - known_families())
        if unknown:
            raise RecordError("skills", _("No terminal family is called %(names)s; known: %(known)s.",
                                          names=", ".join(unknown), known=", ".join(sorted(known_families()))))
        data["skills"] = skills
    start = data.get("shift_start", obj.shift_start if obj else "08:00")
    end = data.get("shift_end", obj.shift_end if obj else "17:00")
    if start >= end:
        raise RecordError("shift_end", _("The shift must end after it starts."))
    return data


CHECKS: dict[str, Callable[[dict[str, Any], Any, m.User], dict[str, Any]]] = {
    "psps": _psp, "contractors": _contractor, "regions": _region, "merchants": _merchant,
    "terminals": _terminal, "technicians": _technician,
}


def _flush() -> None:
    """Flush; a unique constraint the checks above missed becomes a 409 naming no field."""
    from sqlalchemy.exc import IntegrityError
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise RecordError(None, _("This clashes with an existing record (a code or serial already used)."),
                          409) from None


def _may_write(kind: Kind, user: m.User) -> None:
    from fieldsvc.visits.scope import Forbidden
    if user.role not in kind.writers:
        raise Forbidden(f"{user.role} may not change {kind.name}")


def _pin(kind: Kind, data: dict[str, Any], user: m.User) -> dict[str, Any]:
    column = kind.pin.get(user.role)
    if column:
        data[column] = getattr(user, column)
    return data


def create_record(kind: Kind, user: m.User, data: Mapping[str, Any], commit: bool = True) -> Any:
    """A new record of ``kind`` from validated ``data`` (API schema fields); audited."""
    _may_write(kind, user)
    values = CHECKS[kind.name](_pin(kind, dict(data), user), None, user)
    obj = kind.model(**values)
    db.session.add(obj)
    _flush()
    if kind.model is m.Region and obj.geometry:
        assign_merchants(obj)
    record("created", obj, actor=user)
    if commit:
        db.session.commit()
    return obj


def update_record(kind: Kind, obj: Any, user: m.User, data: Mapping[str, Any], commit: bool = True) -> Any:
    """Change ``obj`` (already fetched in the user's scope); audited."""
    _may_write(kind, user)
    values = CHECKS[kind.name](_pin(kind, dict(data), user), obj, user)
    for key, value in values.items():
        setattr(obj, key, value)
    _flush()
    if kind.model is m.Region and values.get("geometry"):
        assign_merchants(obj)
    record("updated", obj, actor=user, fields=sorted(values))
    if commit:
        db.session.commit()
    return obj


def deactivate_record(kind: Kind, obj: Any, user: m.User, commit: bool = True) -> Any:
    """Take ``obj`` out of use (terminals become ``removed``); history keeps pointing at it."""
    _may_write(kind, user)
    if kind.model is m.Terminal:
        obj.status = m.TerminalStatus.REMOVED
    else:
        obj.active = False
    record("deactivated", obj, actor=user)
    if commit:
        db.session.commit()
    return obj


def import_regions(data: bytes, actor: Optional[m.User], *, dry_run: bool = False) -> tuple[list[str], list[dict]]:
    """Regions from a GeoJSON FeatureCollection whose features carry ``code`` and ``name`` (and
    ``name_fa``) properties: created or, by code, updated. All or nothing; one audit event.
    Returns (errors as "feature N, column X: …", rows as understood)."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return ["feature 0, column -: the file is not GeoJSON (not valid JSON)"], []
    features = doc.get("features") if isinstance(doc, Mapping) and doc.get("type") == "FeatureCollection" else None
    if not isinstance(features, list) or not features:
        return ["feature 0, column -: give a GeoJSON FeatureCollection with one feature per region"], []
    errors: list[str] = []
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, feature in enumerate(features, start=1):
        props = (feature or {}).get("properties") or {} if isinstance(feature, Mapping) else {}
        code = str(props.get("code") or "").strip()
        name = str(props.get("name") or "").strip()
        if not code or len(code) > 32:
            errors.append(f"feature {n}, column code: give a code of at most 32 characters")
        elif code.lower() in seen:
            errors.append(f"feature {n}, column code: {code!r} appears twice in the file")
        seen.add(code.lower())
        if not name:
            errors.append(f"feature {n}, column name: give the region's name")
        try:
            geometry = check_polygon(feature)
        except RecordError as e:
            errors.append(f"feature {n}, column geometry: {e.message}")
            continue
        rows.append({"code": code, "name": name[:200], "name_fa": str(props.get("name_fa") or "")[:200],
                     "geometry": geometry})
    if errors or dry_run:
        return errors, rows
    from shapely.geometry import shape
    existing = {r.code.lower(): r for r in db.session.scalars(select(m.Region))}
    for row in rows:
        c = shape(row["geometry"]).representative_point()
        row.update(center_lat=round(c.y, 6), center_lon=round(c.x, 6))
        region = existing.get(row["code"].lower())
        if region is None:
            db.session.add(m.Region(**row))
        else:
            for k, v in row.items():
                setattr(region, k, v)
    record("import", None, actor=actor, object_type="region", kind="regions", rows=len(rows))
    db.session.commit()
    return [], rows
