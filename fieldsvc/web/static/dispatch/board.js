/* Dispatch board: Leaflet map of the day's routes (data from #board-data), and "Plan this day"
   (POST /api/v1/plans with the CSRF header, then poll GET /api/v1/plans/<id> with a progress bar). */
(function () {
  "use strict";

  var root = document.getElementById("dispatch-board");
  if (!root) { return; }
  var data = JSON.parse(document.getElementById("board-data").textContent);
  var L10N = JSON.parse(document.getElementById("board-labels").textContent);
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function hhmm(iso) {
    if (!iso) { return "—"; }
    var start = new Date(data.day_start).getTime();
    var s = Math.round((new Date(iso).getTime() - start) / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m;
  }

  function popup(stop, extra) {
    var html = "<strong>" + esc(stop.merchant.name) + "</strong><br>" +
      esc(L10N.kind) + ": " + esc(String(stop.kind).toUpperCase()) +
      (stop.tracking_number ? " | " + esc(stop.tracking_number) : "") + "<br>" +
      esc(L10N.terminals) + ": " + esc((stop.terminals || []).join(", "));
    if (stop.eta !== undefined) {
      html += "<br>" + esc(L10N.eta) + ": <span dir=\"ltr\">" + esc(hhmm(stop.eta)) + "</span>";
      if (stop.window) {
        html += " (" + esc(L10N.window) + " <span dir=\"ltr\">" + esc(hhmm(stop.window.start)) + "–" +
          esc(hhmm(stop.window.end)) + "</span>)";
      }
      html += "<br>" + esc(L10N.status) + ": " + esc(stop.status_text || stop.status);
    }
    return html + (extra || "");
  }

  function drawMap() {
    var el = document.getElementById("map");
    if (!el || typeof L === "undefined") { return; }
    var map = L.map(el);
    var status = document.getElementById("map-status");
    function say(text) { status.textContent = text; status.classList.remove("d-none"); }
    var url = el.getAttribute("data-tile-url");
    if (!url) {
      say(L10N.no_tiles);
    } else {
      var failed = 0, loaded = 0;
      var layer = L.tileLayer(url, {maxZoom: 19, attribution: esc(el.getAttribute("data-tile-attribution"))});
      layer.on("tileerror", function () {
        failed += 1;
        if (!loaded && failed === 1) { say(L10N.tiles_failed); }
      });
      layer.on("tileload", function () { loaded += 1; });
      layer.addTo(map);
    }
    var bounds = [];
    data.technicians.forEach(function (t) {
      var home = [t.home.lat, t.home.lon];
      var line = [home];
      L.circleMarker(home, {radius: 5, color: t.colour, fillColor: "#fff", fillOpacity: 1, weight: 3})
        .bindPopup("<strong>" + esc(t.name) + "</strong><br>" + esc(L10N.home)).addTo(map);
      bounds.push(home);
      t.stops.forEach(function (s) {
        var p = [s.merchant.lat, s.merchant.lon];
        line.push(p);
        bounds.push(p);
        L.circleMarker(p, {radius: 6, color: t.colour, fillColor: t.colour, fillOpacity: s.status === "completed" ? 0.3 : 0.85, weight: 2})
          .bindPopup(popup(s, "<br>#" + esc(s.position) + " | " + esc(t.name))).addTo(map);
      });
      if (t.stops.length) {
        line.push(home);
        L.polyline(line, {color: t.colour, weight: 3, opacity: 0.8}).bindTooltip(esc(t.name)).addTo(map);
      }
    });
    data.unassigned.forEach(function (u) {
      var p = [u.merchant.lat, u.merchant.lon];
      bounds.push(p);
      L.circleMarker(p, {radius: 6, color: "#495057", fillColor: "#adb5bd", fillOpacity: 0.9, weight: 2, dashArray: "2 2"})
        .bindPopup(popup(u, "<br><em>" + esc(L10N.unassigned) + "</em>: " + esc(u.reason_text))).addTo(map);
    });
    if (bounds.length) {
      map.fitBounds(bounds, {padding: [20, 20], maxZoom: 15});
    } else if (data.depot) {
      map.setView([data.depot.lat, data.depot.lon], 12);
    } else {
      map.setView([35.6892, 51.389], 11);
    }
    el.setAttribute("data-ready", "1");
  }

  var button = document.getElementById("plan-day");
  var bar = document.getElementById("plan-progress");
  var msg = document.getElementById("plan-message");

  function show(progress, text) {
    bar.classList.remove("d-none");
    var pct = Math.round((progress || 0) * 100);
    bar.setAttribute("aria-valuenow", String(pct));
    bar.firstElementChild.style.width = pct + "%";
    msg.textContent = text;
  }

  function poll(url) {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
      .then(function (res) {
        if (!res.ok) { throw new Error((res.body.error && res.body.error.message) || "HTTP error"); }
        var run = res.body;
        if (run.status === "succeeded") {
          show(1, L10N.succeeded);
          var next = new URL(window.location.href);
          next.searchParams.delete("run");
          next.searchParams.set("date", data.date);
          next.searchParams.set("contractor", data.contractor.code);
          window.location.assign(next.toString());
        } else if (run.status === "failed" || run.status === "cancelled") {
          show(1, run.status === "failed" ? L10N.failed + " " + (run.error || run.message) + " " + L10N.failed_advice : L10N.cancelled);
          bar.firstElementChild.classList.add("bg-danger");
          button.disabled = false;
        } else {
          show(run.progress, (run.status === "queued" ? L10N.queued : L10N.running) + " " + Math.round(run.progress * 100) + "%");
          window.setTimeout(function () { poll(url); }, 1000);
        }
      })
      .catch(function (e) { show(0, L10N.error + " " + e.message); button.disabled = false; });
  }

  function start() {
    button.disabled = true;
    show(0, L10N.queued);
    var base = root.getAttribute("data-plans-url");
    fetch(base, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify({date: data.date, contractor: data.contractor.code})
    })
      .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
      .then(function (res) {
        if (!res.ok) { throw new Error((res.body.error && res.body.error.message) || "HTTP error"); }
        poll(base + "/" + res.body.id);
      })
      .catch(function (e) { show(0, L10N.error + " " + e.message); button.disabled = false; });
  }

  if (button) {
    button.addEventListener("click", start);
    var running = root.getAttribute("data-run-id");
    if (running) {
      button.disabled = true;
      poll(root.getAttribute("data-plans-url") + "/" + running);
    }
  }
  // the page never waits for map tiles: the map is drawn once the page has loaded
  if (document.readyState === "complete") { drawMap(); } else { window.addEventListener("load", drawMap); }
}());
