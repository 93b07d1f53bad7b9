"""Bulk imports over the API: `POST /api/v1/imports/<kind>` with an .xlsx or .csv file (form field
`file`); `?dry_run=1` validates and previews without writing. All or nothing, one audit event.
Administrators only for now (the files name PSPs and contractors by code)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import request
from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from fieldsvc.visits.master.importer import KINDS, import_file
from fieldsvc.visits.scope import require_role
from fieldsvc.web.errors import ApiError

blp = Blueprint("imports_api", __name__, url_prefix="/api/v1/imports",
                description="Bulk imports of merchants, terminals and technicians (.xlsx / .csv)")


class ImportArgs(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "1: validate and preview, write nothing"})


class RowErrorSchema(Schema):
    row = fields.Integer(metadata={"description": "spreadsheet row (1 = header)"})
    column = fields.String()
    message = fields.String(metadata={"description": "row N, column X: what is wrong"})


class ImportOut(Schema):
    kind = fields.String()
    filename = fields.String()
    dry_run = fields.Boolean()
    ok = fields.Boolean()
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    errors = fields.List(fields.Nested(RowErrorSchema))
    preview = fields.List(fields.Dict(), metadata={"description": "the first rows as they would be written"})


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


@blp.route("/<kind>")
class Import(MethodView):
    @login_required
    @blp.arguments(ImportArgs, location="query")
    @blp.response(200, ImportOut)
    @blp.alt_response(422, schema=ImportOut, description="errors found: nothing was written")
    def post(self, args, kind):
        """Import a file of `kind` (merchants, terminals, technicians: .xlsx/.csv, see data/IMPORT.md; regions: GeoJSON)."""
        require_role(current_user, "admin")
        if kind == "regions":
            return self._regions(args["dry_run"])
        if kind not in KINDS:
            raise ApiError(404, "not_found", f"kind: use one of {', '.join((*KINDS, 'regions'))}", "kind")
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ApiError(422, "invalid", "file: attach the .xlsx or .csv file as the form field 'file'", "file")
        result = import_file(kind, upload.stream, upload.filename, actor=current_user, dry_run=args["dry_run"])
        body = {"kind": kind, "filename": result.filename, "dry_run": result.dry_run, "ok": result.ok,
                "rows": result.rows, "created": result.created, "updated": result.updated,
                "errors": [{"row": e.row, "column": e.column, "message": str(e)} for e in result.errors],
                "preview": [{k: _plain(v) for k, v in r.items()} for r in result.preview]}
        return body, (200 if result.ok else 422)

    @staticmethod
    def _regions(dry_run: bool) -> tuple[dict[str, Any], int]:
        """Regions from a GeoJSON FeatureCollection (properties code, name, name_fa)."""
        from fieldsvc.visits.master.records import import_regions
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ApiError(422, "invalid", "file: attach the .geojson file as the form field 'file'", "file")
        errors, rows = import_regions(upload.read(), current_user, dry_run=dry_run)
        body = {"kind": "regions", "filename": upload.filename, "dry_run": dry_run, "ok": not errors,
                "rows": len(rows), "created": 0, "updated": 0,
                "errors": [{"row": int(e.split(",")[0].split()[-1]), "column": e.split("column ", 1)[1].split(":")[0],
                            "message": e} for e in errors],
                "preview": [{k: v for k, v in r.items() if k != "geometry"} for r in rows[:10]]}
        return body, (200 if not errors else 422)
