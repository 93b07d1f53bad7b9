"""EM slotting: ranked cheapest feasible insertions into a live day."""
import numpy as np

from fieldsvc.planner import LiveRoute, LiveStop, Point, SolveParams, TimeWindow, Visit, slot_options
from fieldsvc.planner.synth import sample_points

# 1 degree of longitude at the equator ~ 111 km; speed chosen so 0.001 deg ~ 111 s
P = SolveParams(detour_factor=1.0, speeds_mps={"car": 1.0})


def pt(x: float) -> Point:
    return Point(0.0, x)


def test_cheapest_insertion_first_and_positions_after_the_frozen_prefix():
    stops = (LiveStop("a", pt(0.001), 0), LiveStop("b", pt(0.003), 0))
    r = LiveRoute("t1", pt(0.0), 0, stops, frozen=1, end=pt(0.003))
    new = Visit("em", location=pt(0.002), service=0)
    opts = slot_options([r], new, P, limit=None)
    assert [o.position for o in opts][0] == 1  # between a and b: no detour
    assert min(o.position for o in opts) >= 1  # never before the frozen stop
    assert opts[0].added_travel_seconds == 0
    assert abs(opts[0].eta - 222) <= 1


def test_sla_met_ranks_before_cheaper_late_options():
    far = LiveRoute("far", pt(0.010), 0, (), end=pt(0.010))
    near_busy = LiveRoute("busy", pt(0.0), 0, (LiveStop("x", pt(0.0005), 5000),), frozen=1, end=pt(0.0))
    new = Visit("em", location=pt(0.001), sla_deadline=2000)
    opts = slot_options([far, near_busy], new, P, limit=None)
    assert opts[0].technician_id == "far" and opts[0].sla_met
    late = [o for o in opts if o.technician_id == "busy"]
    assert late and not late[0].sla_met and late[0].late_seconds > 0


def test_displaced_visits_are_reported_and_ranked_last():
    stops = (LiveStop("tight", pt(0.001), 0, (TimeWindow(0, 120),)),)
    r = LiveRoute("t", pt(0.0), 0, stops, end=pt(0.0))
    new = Visit("em", location=pt(0.0), service=500)
    opts = slot_options([r], new, P, limit=None)
    assert opts[0].position == 1 and opts[0].displaced_visits == ()
    first = next(o for o in opts if o.position == 0)
    assert first.displaced_visits == ("tight",)
    assert slot_options([r], new, P, limit=None, allow_displacement=False)[0].position == 1


def test_skills_pin_shift_and_capacity_filter_technicians():
    a = LiveRoute("a", pt(0.0), 0, (), skills=frozenset({"pax"}), end=pt(0.0))
    b = LiveRoute("b", pt(0.0), 0, (), skills=frozenset(), end=pt(0.0))
    c = LiveRoute("c", pt(0.0), 0, (), skills=frozenset({"pax"}), end=pt(0.0), shift_end=100)
    d = LiveRoute("d", pt(0.0), 0, (LiveStop("z", pt(0.0), 0),), skills=frozenset({"pax"}), max_visits=1)
    new = Visit("em", location=pt(0.001), skills=frozenset({"pax"}))
    assert {o.technician_id for o in slot_options([a, b, c, d], new, P, limit=None)} == {"a"}
    pinned = Visit("em", location=pt(0.001), pinned_to="b")
    assert {o.technician_id for o in slot_options([a, b], pinned, P)} == {"b"}


def test_new_visit_windows_wait_and_options_serialise():
    r = LiveRoute("t", pt(0.0), 0, (), end=pt(0.0))
    new = Visit("em", location=pt(0.001), time_windows=(TimeWindow(1000, 2000),))
    o = slot_options([r], new, P)[0]
    assert o.eta == 1000 and o.arrival < 1000
    d = o.as_dict()
    assert set(d) >= {"technician_id", "position", "eta", "added_travel_seconds", "sla_met", "displaced_visits"}


def test_a_full_city_day_gives_options():
    rng = np.random.default_rng(3)
    homes = sample_points(40, rng)
    routes = []
    for t, h in enumerate(homes):
        stops = tuple(LiveStop(f"v{t}-{k}", Point(h.lat + 0.002 * k, h.lon + 0.001 * k), 1200,
                               (TimeWindow(9 * 3600, 13 * 3600), TimeWindow(16 * 3600, 21 * 3600))) for k in range(15))
        routes.append(LiveRoute(f"T{t}", h, 9 * 3600, stops, frozen=2, end=h, shift_end=21 * 3600))
    new = Visit("em", location=homes[7], service=1800, sla_deadline=12 * 3600)
    opts = slot_options(routes, new)
    assert 0 < len(opts) <= 10 and opts[0].sla_met
    assert all(o.position >= 2 for o in opts)
