"""The map tile source (issue 17.9): a setting, so that a deployment uses its own or a national
tile server (international links are often cut in Iran) and a closed network uses none.

``FIELDSVC_TILE_URL`` is a Leaflet URL template (``{s}``, ``{z}``, ``{x}``, ``{y}``); empty or
``none`` draws the routes on a blank background. ``FIELDSVC_TILE_ATTRIBUTION`` is the text the
tile server's licence asks for. The Content-Security-Policy allows images from that origin only.
"""
from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = "© OpenStreetMap contributors"


def tile_url(value: str | None) -> str:
    """The configured template, or "" for no tiles (``none`` / empty)."""
    text = (value or "").strip()
    if text.lower() in ("", "none", "off"):
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or "{z}" not in text:
        raise ValueError(f"FIELDSVC_TILE_URL: give an http(s) URL template with {{z}}/{{x}}/{{y}}, "
                         f"e.g. {DEFAULT_TILE_URL}, or 'none' (got {text!r})")
    return text


def tile_origin(url: str) -> str:
    """The CSP source of the tile server: scheme and host, ``{s}`` subdomains as a wildcard."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"
