"""The one check that uploaded bytes are an image Pillow can read without harm: its format from the
content (never the name), refusing files that decode to more pixels than :data:`MAX_PIXELS` (a
'decompression bomb': a small PNG of 20000×20000 pixels would take gigabytes to open)."""
from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

#: 40 megapixels: far above any phone camera (a 108 MP sensor saves 12 MP photos by default).
MAX_PIXELS = 40_000_000


class ImageRejected(ValueError):
    """`reason` is "unreadable" or "too_many_pixels"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def image_format(data: bytes) -> str:
    """Pillow's format name of `data` ("JPEG", "PNG", "WEBP", …); ImageRejected otherwise."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise ImageRejected("too_many_pixels")
                fmt = img.format or ""
                img.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        if isinstance(e, ImageRejected):
            raise
        raise ImageRejected("unreadable") from None
    return fmt
