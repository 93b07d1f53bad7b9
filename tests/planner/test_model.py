"""Each model feature on a tiny instance whose answer is obvious."""
from dataclasses import replace

import pytest

from fieldsvc.planner import Break, Point, Problem, SolveParams, Technician, TimeWindow, Visit, solve

from .helpers import FAST, problem, tech, visit


def job_stops(route):
    return [s for s in route.stops if s.type == "job"]


def test_simple_route_order_and_times():
    p = problem([tech()], [visit("b", 2, service=5), visit("a", 1, service=5)], [0, 10, 20])
    sol = solve(p, FAST)
    r = sol.routes[0]
    assert sorted(r.visit_ids) == ["a", "b"]
    first, second = job_stops(r)
    assert second.arrival == first.end + 10 and second.start == second.arrival
    assert r.travel_seconds == 40 and r.distance_m == 40
    assert r.stops[0].type == "start" and r.stops[-1].type == "end"
    assert sol.unassigned == [] and sol.status == "ok"


def test_skills_route_to_the_right_technician_and_report_missing():
    techs = [tech("t1", 0, skills=frozenset({"pax"})), tech("t2", 0, skills=frozenset({"ingenico"}))]
    visits = [visit("x", 1, skills=frozenset({"ingenico"})), visit("y", 1, skills=frozenset({"verifone"}))]
    sol = solve(problem(techs, visits, [0, 10]), FAST)
    assert sol.route_of("t2").visit_ids == ["x"]
    assert [(u.visit_id, u.reason) for u in sol.unassigned] == [("y", "skills")]


def test_two_time_windows_wait_for_the_afternoon():
    t = tech(shift=TimeWindow(500, 10_000))
    v = visit("v", 1, service=10, time_windows=(TimeWindow(0, 100), TimeWindow(1000, 2000)))
    stop = job_stops(solve(problem([t], [v], [0, 10]), FAST).routes[0])[0]
    assert 1000 <= stop.start <= 2000


def test_outside_every_window_or_shift_is_explained():
    t = tech(shift=TimeWindow(0, 100))
    late = visit("late", 1, time_windows=(TimeWindow(500, 600),))
    far = visit("far", 2)
    sol = solve(problem([t], [late, far], [0, 10, 80]), FAST)
    assert {(u.visit_id, u.reason) for u in sol.unassigned} == {("late", "time_window"), ("far", "time_window")}


def test_max_visits_drops_lowest_priority_as_capacity():
    t = tech(max_visits=2)
    vs = [visit("lo", 1, priority=1), visit("hi", 2, priority=90), visit("mid", 3, priority=50)]
    sol = solve(problem([t], vs, [0, 1, 2, 3]), FAST)
    assert sorted(sol.served) == ["hi", "mid"]
    assert [(u.visit_id, u.reason) for u in sol.unassigned] == [("lo", "capacity")]


def test_break_inside_its_window_and_not_over_a_job():
    t = tech(breaks=(Break(TimeWindow(100, 200), 50, "lunch"),), shift=TimeWindow(0, 1000))
    vs = [visit(f"v{i}", i + 1, service=40) for i in range(4)]
    r = solve(problem([t], vs, [0, 1, 2, 3, 4]), FAST).routes[0]
    brk = [s for s in r.stops if s.type == "break"]
    assert len(brk) == 1 and brk[0].id == "lunch"
    assert 100 <= brk[0].start <= 150 and brk[0].end - brk[0].start == 50
    for s in job_stops(r):
        assert s.end <= brk[0].start or s.start >= brk[0].end


def test_em_deadline_beats_a_shorter_detour():
    # either order costs the same travel here; the EM on the left is due at t=45
    vs = [visit("pm", 1, service=10), visit("em", 2, service=10, kind="em", sla_deadline=45, priority=90)]
    r = solve(problem([tech()], vs, [0, 10, -40]), FAST).routes[0]
    assert r.visit_ids[0] == "em"
    assert job_stops(r)[0].late_seconds == 0


def test_em_late_is_reported_when_unavoidable():
    vs = [visit("em", 1, kind="em", sla_deadline=5)]
    r = solve(problem([tech()], vs, [0, 100]), FAST).routes[0]
    st = job_stops(r)[0]
    assert st.late_seconds == 95


def test_overdue_pm_is_kept_when_only_one_fits():
    t = tech(max_visits=1)
    vs = [visit("fresh", 1), visit("overdue", 2, overdue_days=20)]
    sol = solve(problem([t], vs, [0, 1, 2]), FAST)
    assert sol.served == ["overdue"]


def test_most_priority_first_then_most_visits():
    # the shift holds the two priority-5 visits on one side or the priority-11 one on the other:
    # VROOM's objective serves 11 priority points with one visit rather than 10 with two
    t = tech(idx=1, shift=TimeWindow(0, 100))
    vs = [visit("a", 0, priority=5, service=30), visit("b", 0, priority=5, service=30),
          visit("c", 2, priority=11, service=60)]
    sol = solve(problem([t], vs, [0, 10, 20]), FAST)
    assert sol.served == ["c"]
    # at equal priority, more visits win
    vs[2] = replace(vs[2], priority=10)
    assert sorted(solve(problem([t], vs, [0, 10, 20]), FAST).served) == ["a", "b"]


def test_mandatory_is_served_before_high_priority():
    t = tech(max_visits=1)
    vs = [visit("vip", 1, priority=100), visit("must", 2, mandatory=True)]
    assert solve(problem([t], vs, [0, 1, 50]), FAST).served == ["must"]


def test_not_worth_the_detour():
    params = SolveParams(time_limit=1, drop_base=5, drop_per_priority=0)
    vs = [visit("near", 1), visit("far", 2)]
    sol = solve(problem([tech()], vs, [0, 1, 1000]), params)
    assert sol.served == ["near"]
    assert [(u.visit_id, u.reason) for u in sol.unassigned] == [("far", "cost")]


def test_pinned_visit_goes_to_its_technician():
    techs = [tech("near", 0), tech("far", 2)]
    vs = [visit("v", 1, pinned_to="far")]
    sol = solve(problem(techs, vs, [0, 1, 100]), FAST)
    assert sol.route_of("far").visit_ids == ["v"]


def test_frozen_prefix_comes_first_in_order():
    t = tech(frozen_prefix=("c", "a"))
    vs = [visit("a", 1), visit("b", 2), visit("c", 3)]
    r = solve(problem([t], vs, [0, 1, 2, 3]), FAST).routes[0]
    assert r.visit_ids[:2] == ["c", "a"] and sorted(r.visit_ids) == ["a", "b", "c"]


def test_visits_at_one_merchant_become_one_stop():
    vs = [visit("t1", 1, service=300, merchant="m"), visit("t2", 1, service=200, merchant="m"), visit("o", 2)]
    sol = solve(problem([tech()], vs, [0, 5, 9]), FAST)
    stops = job_stops(sol.routes[0])
    merged = next(s for s in stops if "t1" in s.visit_ids)
    assert merged.visit_ids == ("t1", "t2") and merged.end - merged.start == 500
    assert sol.statistics["stops"] == 2


def test_visits_within_a_few_metres_merge_by_radius():
    a = Visit("a", location=Point(35.7000, 51.4000), service=60)
    b = Visit("b", location=Point(35.70002, 51.40002), service=60)
    t = Technician("t", start=Point(35.71, 51.41), shift=TimeWindow(0, 20_000))
    sol = solve(Problem((t,), (a, b)), SolveParams(time_limit=1, merge_radius_m=10))
    assert sol.statistics["stops"] == 1 and sorted(sol.served) == ["a", "b"]


def test_asymmetric_matrix_is_respected():
    # 1 -> 2 is cheap, 2 -> 1 is expensive: the route must go 1 then 2 (or 2 first if cheaper)
    p = problem([tech()], [visit("a", 1), visit("b", 2)], [0, 10, 20], asym={(2, 1): 500, (0, 2): 5})
    r = solve(p, FAST).routes[0]
    assert r.visit_ids == ["a", "b"] and r.travel_seconds == 10 + 10 + 20


def test_vehicle_profile_speed_from_coordinates():
    home, shop = Point(35.70, 51.40), Point(35.70, 51.45)
    bike = Technician("bike", start=home, profile="motorbike")
    car = Technician("car", start=home, profile="car")
    v = Visit("v", location=shop)
    params = SolveParams(time_limit=1, speeds_mps={"car": 5.0, "motorbike": 10.0})
    sol_car = solve(Problem((car,), (v,)), params)
    sol_bike = solve(Problem((bike,), (v,)), params)
    assert sol_car.routes[0].distance_m == sol_bike.routes[0].distance_m
    assert sol_car.travel_seconds == pytest.approx(2 * sol_bike.travel_seconds, abs=2)


@pytest.mark.parametrize("bad, words", [
    (lambda p: replace(p, technicians=()), "empty fleet"),
    (lambda p: replace(p, visits=(visit("w", 1, time_windows=(TimeWindow(50, 10),)),)), "visit 'w'"),
    (lambda p: replace(p, visits=(visit("n", 1, service=-5),)), "negative service"),
    (lambda p: replace(p, visits=(visit("i", 99),)), "location_index 99"),
    (lambda p: replace(p, visits=(visit("p", 1, pinned_to="ghost"),)), "unknown technician"),
    (lambda p: replace(p, technicians=(tech(shift=TimeWindow(10, 0)),)), "technician 't1'"),
    (lambda p: replace(p, technicians=(tech(frozen_prefix=("zz",)),)), "unknown visit 'zz'"),
])
def test_bad_input_is_a_value_error_naming_the_culprit(bad, words):
    base = problem([tech()], [visit("ok", 1)], [0, 1])
    with pytest.raises(ValueError, match=words):
        solve(bad(base), FAST)


def test_unknown_skill_is_an_error_when_skills_are_declared():
    from fieldsvc.planner import validate

    p = problem([tech(skills=frozenset({"pax"}))], [visit("v", 1, skills=frozenset({"pqx"}))], [0, 1])
    with pytest.raises(ValueError, match="visit 'v': unknown skill"):
        validate(p, known_skills=frozenset({"pax"}))


def test_warm_start_routes_are_the_search_start():
    # a deliberately poor plan (one technician per visit: 6 s of travel where one route of both
    # takes 4 s); stopping at the first solution returns exactly that plan, so a warm start that
    # was ignored fails here
    p = problem([tech("t1", 0), tech("t2", 0)], [visit("a", 1), visit("b", 2)], [0, 1, 2])
    cold = solve(p, SolveParams(time_limit=5, solution_limit=1, metaheuristic="GUIDED_LOCAL_SEARCH"))
    warm = solve(p, SolveParams(time_limit=5, solution_limit=1, metaheuristic="GUIDED_LOCAL_SEARCH"),
                 initial={"t1": ["a"], "t2": ["b"]})
    assert warm.statistics["warm_start"] == "used"
    assert {r.technician_id: r.visit_ids for r in warm.routes if r.visit_ids} == {"t1": ["a"], "t2": ["b"]}
    assert warm.cost.travel == 6 and cold.cost.travel == 4
    full = solve(p, SolveParams(time_limit=1), initial={"t1": ["a"], "t2": ["b"]})
    assert sorted(full.served) == ["a", "b"] and full.cost.travel < warm.cost.travel


def test_open_end_route_stops_at_the_last_visit():
    t = Technician("t", start_index=0, open_end=True, shift=TimeWindow(0, 1000))
    sol = solve(problem([t], [visit("a", 1)], [0, 10]), FAST)
    assert sol.routes[0].travel_seconds == 10


def test_soft_sla_model_charges_per_second_lateness():
    vs = [visit("em", 1, kind="em", sla_deadline=5)]
    params = SolveParams(time_limit=1, sla_model="soft")
    sol = solve(problem([tech()], vs, [0, 100]), params)
    st = job_stops(sol.routes[0])[0]
    assert st.late_seconds == 95 and sol.cost.lateness == 95 * params.em_late_per_second


def test_em_tiers_prefer_on_time_over_a_shorter_route():
    # both orders travel 40 s; serving pm first would make the EM 45 s late
    vs = [visit("pm", 1, service=50), visit("em", 2, kind="em", sla_deadline=15)]
    r = solve(problem([tech()], vs, [0, 10, -10]), FAST).routes[0]
    assert r.visit_ids[0] == "em" and job_stops(r)[0].late_seconds == 0


def test_warm_start_picks_the_window_the_route_reaches():
    # after a (served 0–50) the technician reaches b at 52: too late for b's morning window
    t = tech()
    a = visit("a", 1, service=50, time_windows=(TimeWindow(0, 100),))
    b = visit("b", 2, service=10, time_windows=(TimeWindow(0, 40), TimeWindow(500, 600)))
    sol = solve(problem([t], [a, b], [0, 1, 2]), FAST, initial={"t1": ["a", "b"]})
    assert sol.statistics["warm_start"] == "used"
    assert sorted(sol.served) == ["a", "b"]
    assert 500 <= next(s for s in job_stops(sol.routes[0]) if "b" in s.visit_ids).start <= 600


def test_iterated_local_search_runs_on_real_sized_days_only():
    # 30 visits on a line, 2 technicians: ILS; 1 visit for 2 technicians at different homes: GLS
    # (OR-Tools' ILS never returns when there are fewer stops than vehicles)
    xs = [0, 5] + list(range(10, 40))
    vs = [visit(f"v{i}", 2 + i, service=5) for i in range(30)]
    big = solve(problem([tech("t1", 0), tech("t2", 1)], vs, xs), FAST)
    assert big.statistics["search"] == "ITERATED_LOCAL_SEARCH" and len(big.served) == 30
    small = solve(problem([tech("t1", 0), tech("t2", 1)], vs[:1], xs[:3]), FAST)
    assert small.statistics["search"] == "GUIDED_LOCAL_SEARCH" and small.served == ["v0"]


@pytest.mark.parametrize("field, value", [("metaheuristic", "GUIDED_LOCAL_SEARC"), ("first_solution", "cheapest"),
                                          ("sla_model", "tier"), ("metric", "osmr")])
def test_a_mistyped_choice_is_an_error_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"^{field}: '{value}' is not one of"):
        SolveParams(**{field: value})


def test_choices_accept_their_plain_strings_and_params_hash_every_field():
    from fieldsvc.planner.params import Metaheuristic, SlaModel

    params = SolveParams(metaheuristic="GUIDED_LOCAL_SEARCH", sla_model="soft")
    assert params.metaheuristic is Metaheuristic.GUIDED_LOCAL_SEARCH and params.sla_model is SlaModel.SOFT
    assert hash(params) != hash(SolveParams(metaheuristic="GUIDED_LOCAL_SEARCH", sla_model="tiers"))
    assert hash(params) == hash(SolveParams(metaheuristic="GUIDED_LOCAL_SEARCH", sla_model="soft"))
    with pytest.raises(ValueError, match="^time_limit:"):
        SolveParams(time_limit=0)


def test_max_visits_counts_visits_not_merged_stops():
    # two visits at one merchant are one stop but two of VROOM's tasks: a technician allowed one
    # visit serves one merchant's pair only if allowed two
    vs = [visit("a", 1, merchant="m"), visit("b", 1, merchant="m"), visit("c", 2)]
    one = solve(problem([tech(max_visits=1)], vs, [0, 1, 2]), FAST)
    assert one.served == ["c"]
    assert {(u.visit_id, u.reason) for u in one.unassigned} == {("a", "capacity"), ("b", "capacity")}
    two = solve(problem([tech(max_visits=2)], vs, [0, 1, 2]), FAST)
    assert sorted(two.served) == ["a", "b"]  # two visits beat one
    three = solve(problem([tech(max_visits=3)], vs, [0, 1, 2]), FAST)
    assert sorted(three.served) == ["a", "b", "c"]


def test_a_warm_started_search_stops_when_it_stops_improving():
    # a re-plan starts from the previous routes with guided local search: on a day this small it
    # finds nothing better within a second, so it ends there instead of at the 60 s limit
    p = problem([tech("t1", 0), tech("t2", 0)], [visit("a", 1), visit("b", 2)], [0, 1, 2])
    sol = solve(p, SolveParams(time_limit=60, stagnation=0.5), initial={"t1": ["a"], "t2": ["b"]})
    assert sol.statistics["warm_start"] == "used" and sol.statistics["stopped"] == "stagnation"
    assert sorted(sol.served) == ["a", "b"] and sol.cost.travel == 4
