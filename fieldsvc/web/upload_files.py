"""Serving stored uploads (photos of calls, comments and held requests) to the people who may see them."""
from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, send_file


def send_upload(relative: str | None) -> Response:
    """The upload at ``relative`` (a path under the upload folder, as stored on its row), or 404
    when the row has none, the file is gone, or the path leads outside the folder."""
    if not relative:
        abort(404)
    root = Path(current_app.config["UPLOAD_DIR"]).resolve()
    path = (root / relative).resolve()
    if root not in path.parents or not path.exists():
        abort(404)
    return send_file(path, max_age=3600)
