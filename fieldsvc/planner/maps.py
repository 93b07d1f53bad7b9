"""Folium maps of solutions (one colour per technician, unassigned visits in grey)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .problem import Problem
from .solution import Solution

if TYPE_CHECKING:
    import folium

COLOURS = ["red", "blue", "green", "purple", "orange", "darkred", "cadetblue", "darkgreen", "darkblue",
           "pink", "lightblue", "lightgreen", "gray", "black", "beige", "lightred", "darkpurple"]


def _hhmm(t: int) -> str:
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}"


def solution_map(problem: Problem, solution: Solution, zoom_start: int = 11) -> folium.Map:
    """A ``folium.Map`` with each route as a polyline and numbered stop markers."""
    import folium

    pts = [v.location for v in problem.visits if v.location] + \
          [t.start for t in problem.technicians if t.start]
    if not pts:
        raise ValueError("solution_map needs visits or technicians with lat/lon locations")
    centre = (sum(p.lat for p in pts) / len(pts), sum(p.lon for p in pts) / len(pts))
    fmap = folium.Map(location=centre, zoom_start=zoom_start, tiles="OpenStreetMap")
    for i, route in enumerate(solution.routes):
        colour = COLOURS[i % len(COLOURS)]
        line = [(s.lat, s.lon) for s in route.stops if s.lat is not None]
        if len(line) > 1 and route.visit_ids:
            folium.PolyLine(line, color=colour, weight=3, tooltip=str(route.technician_id)).add_to(fmap)
        k = 0
        for s in route.stops:
            if s.lat is None:
                continue
            if s.type == "start":
                folium.Marker((s.lat, s.lon), tooltip=f"{route.technician_id} home",
                              icon=folium.Icon(color=colour, icon="home")).add_to(fmap)
            elif s.type == "job":
                k += 1
                folium.CircleMarker((s.lat, s.lon), radius=6, color=colour, fill=True,
                                    tooltip=f"{route.technician_id} #{k}: {', '.join(map(str, s.visit_ids))} "
                                            f"at {_hhmm(s.start)}").add_to(fmap)
    by_id = {v.id: v for v in problem.visits}
    for u in solution.unassigned:
        v = by_id.get(u.visit_id)
        if v is not None and v.location is not None:
            folium.CircleMarker((v.location.lat, v.location.lon), radius=5, color="gray", fill=True,
                                tooltip=f"{v.id}: unassigned ({u.reason})").add_to(fmap)
    return fmap
