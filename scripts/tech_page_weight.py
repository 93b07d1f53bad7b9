"""Weight and load time of the technician's route page in headless Chromium.

Usage: DATABASE_URL=sqlite:////tmp/techdemo.sqlite python scripts/tech_page_weight.py [--user U] [--date D]

Without --user, the technician with the longest route of the date (default: the latest routed day)
is used. Prints bytes over the wire (HTML, JS, CSS, other) and load times, cold (empty cache, no
service worker) and warm (second visit, served through the service worker)."""
from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import threading
from collections import defaultdict

from sqlalchemy import func, select
from werkzeug.serving import make_server

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.web import create_app


def pick(user: str | None, day: str | None) -> tuple[str, str, int]:
    q = (select(m.User.username, m.Route.date, func.count(m.Visit.id))
         .join(m.Route, m.Route.technician_id == m.User.technician_id)
         .join(m.Visit, m.Visit.route_id == m.Route.id).group_by(m.User.username, m.Route.date))
    if user:
        q = q.where(m.User.username == user)
    if day:
        q = q.where(m.Route.date == day)
    row = db.session.execute(q.order_by(m.Route.date.desc(), func.count(m.Visit.id).desc())).first()
    if row is None:
        raise SystemExit("no route found: build the demo first (fieldsvc demo --no-serve)")
    return row[0], row[1].isoformat(), row[2]


def load(page, url: str) -> tuple[dict[str, int], float, float]:
    """Open `url`; bytes received per resource type (headers + body) and navigation timings."""
    sizes: dict[str, int] = defaultdict(int)

    def done(req) -> None:
        s = req.sizes()
        sizes[req.resource_type] += s["responseBodySize"] + s["responseHeadersSize"]
        resp = req.response()
        if resp is not None and s["responseBodySize"]:
            sizes["gzip:" + req.resource_type] += len(gzip.compress(resp.body()))

    page.on("requestfinished", done)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    n = json.loads(page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])"))
    return dict(sizes), n["domContentLoadedEventEnd"], n["loadEventEnd"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--user")
    ap.add_argument("--date")
    ap.add_argument("--password", default="demo")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        user, day, stops = pick(args.user, args.date)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    url = f"{base}/tech/?date={day}"
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("FIELDSVC_CHROMIUM", "/usr/bin/chromium"),
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        login_ctx = browser.new_context()
        page = login_ctx.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", args.password)
        page.locator("main button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        state = login_ctx.storage_state()
        login_ctx.close()
        cold, warm = [], []
        for _ in range(args.runs):
            # a logged-in context with an empty HTTP cache and no service worker yet
            ctx = browser.new_context(viewport={"width": 360, "height": 740}, storage_state=state)
            cold.append(load(ctx.new_page(), url))
            ctx.pages[0].wait_for_function("navigator.serviceWorker.controller !== null")
            warm.append(load(ctx.new_page(), url))
            ctx.close()
        browser.close()
    server.shutdown()
    sizes = cold[0][0]
    html, js, css = sizes.get("document", 0), sizes.get("script", 0), sizes.get("stylesheet", 0)
    print(f"technician {user}, route of {day}: {stops} stops")
    print(f"cold load bytes over the wire: HTML {html:,} + JS {js:,} + CSS {css:,} = {html + js + css:,} "
          f"(other: {sum(v for k, v in sizes.items() if k not in ('document', 'script', 'stylesheet') and not k.startswith('gzip:')):,})")
    gz = sum(v for k, v in sizes.items() if k in ("gzip:document", "gzip:script", "gzip:stylesheet"))
    print(f"the same bodies gzip-compressed (as behind a compressing proxy): {gz:,} bytes "
          f"(HTML {sizes.get('gzip:document', 0):,})")
    for name, runs in (("cold (empty cache)", cold), ("warm (service worker)", warm)):
        dcl = statistics.median(r[1] for r in runs)
        ld = statistics.median(r[2] for r in runs)
        print(f"{name}: DOMContentLoaded {dcl:.0f} ms, load {ld:.0f} ms (median of {len(runs)})")


if __name__ == "__main__":
    main()
