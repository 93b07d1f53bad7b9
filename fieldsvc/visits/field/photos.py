"""Check-out photos: type checked by content (Pillow), size limited, stored outside the database
under ``UPLOAD_DIR/visits/<visit id>/`` with the path (relative to UPLOAD_DIR) kept in the row."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from fieldsvc.db import db
from fieldsvc.visits import uploads
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.images import MAX_PIXELS, ImageRejected, image_format

MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 8 * 1024 * 1024
#: Pillow format name → (content type, file extension).
ALLOWED_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


class PhotoError(ValueError):
    """A photo that is refused; the message says why and what to do."""


@dataclass(frozen=True)
class StoredPhoto:
    path: str
    content_type: str
    size_bytes: int

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "content_type": self.content_type, "size_bytes": self.size_bytes}


def check_photo(data: bytes, name: str = "photo") -> tuple[str, str]:
    """(content type, extension) of an acceptable photo, else PhotoError.

    The type comes from the bytes, never from the file name or the declared type."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoError(_("%(name)s is %(size)s MB; the limit is 8 MB per photo. "
                           "Take it again at a lower resolution.", name=name, size=f"{len(data) / 1048576:.1f}"))
    if not data:
        raise PhotoError(_("%(name)s is empty.", name=name))
    try:
        fmt = image_format(data)
    except ImageRejected as e:
        if e.reason == "too_many_pixels":
            raise PhotoError(_("%(name)s has too many pixels (at most %(mp)s megapixels); take it again at a "
                               "lower resolution.", name=name, mp=MAX_PIXELS // 1_000_000)) from e
        raise PhotoError(_("%(name)s is not a readable image; send a JPEG, PNG or WebP photo.", name=name)) from e
    if fmt not in ALLOWED_FORMATS:
        raise PhotoError(_("%(name)s is a %(format)s image; send a JPEG, PNG or WebP photo.", name=name, format=fmt))
    return ALLOWED_FORMATS[fmt]


def check_photos(photos: list[tuple[str, bytes]]) -> list[tuple[bytes, str, str]]:
    """Check up to MAX_PHOTOS (name, bytes) pairs; returns (bytes, content type, extension)."""
    if len(photos) > MAX_PHOTOS:
        raise PhotoError(_("%(count)s photos sent; at most %(max)s are allowed.", count=len(photos), max=MAX_PHOTOS))
    return [(data, *check_photo(data, name or f"photo {i}")) for i, (name, data) in enumerate(photos, 1)]


def store_photos(upload_dir: str | Path, visit_id: int,
                 checked: list[tuple[bytes, str, str]]) -> list[StoredPhoto]:
    """Stage checked photos for upload_dir/visits/<visit_id>/ (written when the transaction commits,
    see fieldsvc.visits.uploads) and describe them."""
    stored = []
    for data, content_type, ext in checked:
        rel = Path("visits") / str(visit_id) / f"{uuid.uuid4().hex}.{ext}"
        stored.append(StoredPhoto(uploads.stage(db.session, upload_dir, rel, data), content_type, len(data)))
    return stored


def remove_photos(upload_dir: str | Path, stored: list[StoredPhoto]) -> None:
    """Forget photos staged for a check-out whose transaction will not commit (and delete any file
    of theirs already on disk)."""
    uploads.unstage(db.session, upload_dir, [p.path for p in stored])
    for p in stored:
        (Path(upload_dir) / p.path).unlink(missing_ok=True)
