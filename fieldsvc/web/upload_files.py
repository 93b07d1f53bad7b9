"""Serving stored uploads (photos of calls, comments and held requests) to the people who may see them."""
from __future__ import annotations

from flask import Response, abort, current_app, send_file

from fieldsvc.visits import uploads


def send_upload(relative: str | None) -> Response:
    """The upload at ``relative`` (a path under the upload folder, as stored on its row), or 404
    when the row has none, the file is gone, or the path leads outside the folder."""
    path = uploads.inside(current_app.config["UPLOAD_DIR"], relative) if relative else None
    if path is None or not path.exists():
        abort(404)
    return send_file(path, max_age=3600)
