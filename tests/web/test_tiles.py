"""Issue 17.9: the map tile source is a setting (URL template and attribution), allowed by the CSP,
refused at start-up when mistyped, and 'none' draws the board without tiles, saying so."""
from __future__ import annotations

import pytest

from fieldsvc.web import create_app
from fieldsvc.web.tiles import DEFAULT_TILE_URL, tile_origin, tile_url
from tests.conftest import login


def test_tile_setting_is_checked_and_gives_the_csp_origin():
    assert tile_url("none") == "" and tile_url("") == ""
    assert tile_url(DEFAULT_TILE_URL) == DEFAULT_TILE_URL
    assert tile_origin("https://{s}.tiles.example.ir/osm/{z}/{x}/{y}.png") == "https://*.tiles.example.ir"
    for typo in ("tiles.example.ir/{z}/{x}/{y}.png", "https://tiles.example.ir/osm.png", "ftp://x/{z}/{x}/{y}"):
        with pytest.raises(ValueError, match="FIELDSVC_TILE_URL"):
            tile_url(typo)


def test_a_mistyped_tile_url_stops_the_app_at_start_up(tmp_path):
    with pytest.raises(ValueError, match="FIELDSVC_TILE_URL"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                    "SECRET_KEY": "x", "TILE_URL": "tiles.example.ir"})


def test_board_uses_the_configured_tile_server(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "TILE_URL", "https://tiles.example.ir/{z}/{x}/{y}.png")
    monkeypatch.setitem(app.config, "TILE_ATTRIBUTION", "© Example tiles")
    login(client, "dispatcher-c1")
    r = client.get("/dispatch/")
    html = r.get_data(as_text=True)
    assert 'data-tile-url="https://tiles.example.ir/{z}/{x}/{y}.png"' in html and "© Example tiles" in html
    assert "img-src 'self' data: blob: https://tiles.example.ir;" in r.headers["Content-Security-Policy"]
    assert "openstreetmap" not in r.headers["Content-Security-Policy"]
    monkeypatch.setitem(app.config, "TILE_URL", "")
    r = client.get("/dispatch/")
    assert 'data-tile-url=""' in r.get_data(as_text=True)
    assert "img-src 'self' data: blob:;" in r.headers["Content-Security-Policy"]
