"""Front-end assets served from installed Python packages (never a CDN)."""
from __future__ import annotations

from pathlib import Path

import bootstrap as _bootstrap_pkg
import xstatic.pkg.leaflet as _leaflet_pkg
from flask import Flask, abort, send_from_directory

VENDOR_DIRS: dict[str, Path] = {
    "bootstrap": Path(next(iter(_bootstrap_pkg.__path__))),
    "leaflet": Path(_leaflet_pkg.BASE_DIR),
}


def init_vendor(app: Flask) -> None:
    """Serve /vendor/<package>/<path> from the package's own files."""

    @app.get("/vendor/<name>/<path:filename>")
    def vendor(name: str, filename: str):
        base = VENDOR_DIRS.get(name)
        if base is None:
            abort(404)
        return send_from_directory(base, filename, max_age=86400)
