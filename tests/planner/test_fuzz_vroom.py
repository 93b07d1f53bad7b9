"""Random VROOM-style problems: each one solves to a plan an independent checker accepts, or is
refused with a ValueError — never an exception from inside OR-Tools.

The checker below reads only the VROOM JSON in and out (no planner code): it re-drives every route
on the input matrix and checks windows, shifts, breaks, skills, capacity, max tasks, shipments
and that each job is placed exactly once (in a route or unassigned).
"""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from fieldsvc.planner import SolveParams, solve_day
from fieldsvc.planner.vroom_json import problem_from_dict, solution_to_dict

FAST = SolveParams(time_limit=0.3)
BASES = (0, 86_400, 1_600_416_000, 2**32 - 200_000)


@st.composite
def vroom_problems(draw) -> dict:
    base = draw(st.sampled_from(BASES))
    n_loc = draw(st.integers(2, 5))
    big = draw(st.sampled_from([100, 5_000, 2**31]))
    matrix = [[0 if i == j else draw(st.integers(0, big)) for j in range(n_loc)] for i in range(n_loc)]
    string_ids = draw(st.booleans())
    counter = iter(range(1, 1000))

    def new_id():  # unique, string or integer; now and then a duplicate
        k = draw(st.integers(1, 3)) if draw(st.integers(0, 12)) == 0 else next(counter)
        return f"id-{k}" if string_ids else k

    ids = st.builds(new_id)

    def times():
        return draw(st.integers(-3_000, 30_000)) + base

    def windows(k_max: int):  # in any order; now and then one that ends before it starts
        return [sorted([times(), times()]) if draw(st.integers(0, 12)) else [times(), times()]
                for _ in range(draw(st.integers(0, k_max)))]

    def place(loc: dict, key: str = "location_index") -> dict:
        loc[key] = draw(st.integers(0, n_loc - 1)) if draw(st.integers(0, 20)) else n_loc  # sometimes out of range
        return loc

    def duration():
        return draw(st.sampled_from([0, 0, 10, 300, 2_000, 2**31]))

    vehicles = []
    for _ in range(draw(st.integers(0, 3)) if draw(st.integers(0, 8)) == 0 else draw(st.integers(1, 3))):
        v = place({"id": draw(ids)}, "start_index")
        if draw(st.booleans()):
            v["end_index"] = draw(st.integers(0, n_loc - 1))
        if draw(st.booleans()):
            v["time_window"] = sorted([times(), times()]) if draw(st.integers(0, 12)) else [times(), times()]
        if draw(st.booleans()):
            v["skills"] = draw(st.lists(st.sampled_from([1, 2, 3]), max_size=2, unique=True))
        if draw(st.booleans()):
            v["capacity"] = [draw(st.integers(0, 3))]
        if draw(st.booleans()):
            v["max_tasks"] = draw(st.integers(0, 3))
        if draw(st.integers(0, 3)) == 0:
            v["breaks"] = [{"id": 1, "time_windows": windows(2), "service": draw(st.sampled_from([0, 60, 3_600]))}]
        if draw(st.integers(0, 3)) == 0:
            v["speed_factor"] = draw(st.sampled_from([0.5, 1.0, 2.0]))
        if draw(st.integers(0, 3)) == 0:
            v["max_travel_time"] = draw(st.integers(0, 20_000))
        if draw(st.integers(0, 3)) == 0:
            v["costs"] = {"fixed": draw(st.integers(0, 1_000)), "per_hour": draw(st.sampled_from([3600, 7200]))}
        vehicles.append(v)
    jobs = []
    for _ in range(draw(st.integers(0, 6))):
        j = place({"id": draw(ids), "service": duration()})
        if draw(st.booleans()):
            j["time_windows"] = windows(2)
        if draw(st.booleans()):
            j["setup"] = duration()
        if draw(st.integers(0, 2)) == 0:
            j["skills"] = draw(st.lists(st.sampled_from([1, 2, 3]), max_size=2, unique=True))
        j["priority"] = draw(st.integers(0, 100))
        if draw(st.integers(0, 3)) == 0:
            j[draw(st.sampled_from(["delivery", "pickup"]))] = [draw(st.integers(0, 2))]
        jobs.append(j)
    shipments = []
    for _ in range(draw(st.integers(0, 2))):
        sh = {"amount": [draw(st.integers(0, 2))],
              "pickup": place({"id": draw(ids), "service": duration()}),
              "delivery": place({"id": draw(ids), "service": duration()})}
        if draw(st.booleans()):
            sh["delivery"]["time_windows"] = windows(1)
        if draw(st.booleans()):
            sh["skills"] = draw(st.lists(st.sampled_from([1, 2]), max_size=1))
        shipments.append(sh)
    data = {"vehicles": vehicles, "jobs": jobs, "matrices": {"car": {"durations": matrix, "distances": matrix}}}
    if shipments:
        data["shipments"] = shipments
    return data


def check_solution(problem: dict, solution: dict) -> None:
    """Independent check of a VROOM-style solution against its VROOM-style problem."""
    matrix = problem["matrices"]["car"]["durations"]
    vehicles = {v["id"]: v for v in problem["vehicles"]}
    tasks = {}  # (type, id) -> (task dict, shipment or None)
    for j in problem["jobs"]:
        tasks[("job", j["id"])] = (j, None)
    for sh in problem.get("shipments", []):
        tasks[("pickup", sh["pickup"]["id"])] = (sh["pickup"], sh)
        tasks[("delivery", sh["delivery"]["id"])] = (sh["delivery"], sh)
    placed = [(s["type"], s["id"]) for r in solution["routes"] for s in r["steps"]
              if s["type"] in ("job", "pickup", "delivery")]
    placed += [(u["type"], u["id"]) for u in solution["unassigned"]]
    assert sorted(placed, key=str) == sorted(tasks, key=str), "each task is served or unassigned exactly once"
    used = [r["vehicle"] for r in solution["routes"]]
    assert len(used) == len(set(used)) and set(used) <= set(vehicles)
    for route in solution["routes"]:
        v = vehicles[route["vehicle"]]
        _check_route(v, route["steps"], tasks, matrix)


def _check_route(v: dict, steps: list[dict], tasks: dict, matrix) -> None:
    sf = v.get("speed_factor", 1.0)
    tw = v.get("time_window", [-(2**62), 2**62])
    skills = set(v.get("skills", []))
    kinds = [s["type"] for s in steps]
    assert kinds[0] == "start" and kinds[-1] == "end"
    jobs = [s for s in steps if s["type"] in ("job", "pickup", "delivery")]
    if "max_tasks" in v:
        assert len(jobs) <= v["max_tasks"]
    breaks = [s for s in steps if s["type"] == "break"]
    assert sorted(b["id"] for b in breaks) == sorted(b["id"] for b in v.get("breaks", [])), "every break taken once"
    load = sum((tasks[("job", s["id"])][0].get("delivery") or [0])[0] for s in jobs if s["type"] == "job")
    cap = (v.get("capacity") or [None])[0]
    seen = set()
    here = v["start_index"]
    dep = steps[0]["arrival"]
    assert tw[0] <= dep <= tw[1]
    pending, last_break_end, travel_total = 0, dep, 0
    for s in steps[1:]:
        if s["type"] == "break":
            brk = next(b for b in v["breaks"] if b["id"] == s["id"])
            start = s["arrival"]
            assert any(a <= start <= b for a, b in brk["time_windows"] or [[start, start]]), "break window"
            assert start >= max(dep, last_break_end), "break does not overlap a service or another break"
            pending += s["service"]
            last_break_end = start + s["service"]
            continue
        if s["type"] == "end":
            to = v.get("end_index")
            travel = 0 if to is None else round(matrix[here][to] / sf)
            assert s["arrival"] >= dep + travel + pending and s["arrival"] <= tw[1]
            assert last_break_end <= tw[1]
            travel_total += travel
            break
        task, sh = tasks[(s["type"], s["id"])]
        loc = task["location_index"]
        travel = round(matrix[here][loc] / sf)
        setup = task.get("setup", 0) if loc != here else 0
        assert s["setup"] == setup and s["waiting_time"] >= 0
        task_start = s["arrival"] + s["waiting_time"]  # VROOM: windows bound the task start, setup follows
        start = task_start + setup
        assert start >= dep + travel + setup + pending, "travel, setup and breaks fit before service"
        if not pending:
            assert s["arrival"] == dep + travel, "arrival = departure + travel"
        assert start - setup >= last_break_end
        wins = task.get("time_windows") or [[-(2**62), 2**62]]
        assert any(a <= task_start <= b for a, b in wins), f"{s['id']!r} starts inside a window"
        assert s["service"] == task.get("service", 0)
        need = set((sh or task).get("skills", []))
        assert need <= skills, "skills"
        if s["type"] == "job":
            load += -(task.get("delivery") or [0])[0] + (task.get("pickup") or [0])[0]
        elif s["type"] == "pickup":
            load += sh["amount"][0]
        else:
            assert ("pickup", sh["pickup"]["id"]) in seen, "pickup before its delivery, same route"
            load -= sh["amount"][0]
        if cap is not None:
            assert 0 <= load <= cap, "capacity"
        seen.add((s["type"], s["id"]))
        travel_total += travel
        dep, here, pending = start + s["service"], loc, 0
    for typ, sid in seen:
        if typ == "pickup":
            sh = tasks[(typ, sid)][1]
            assert ("delivery", sh["delivery"]["id"]) in seen, "a pickup's delivery on the same route"
    if "max_travel_time" in v:
        assert travel_total <= v["max_travel_time"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(vroom_problems())
def test_random_problems_solve_correctly_or_are_refused(data):
    data = json.loads(json.dumps(data))  # as read from a file
    try:
        problem, _ = problem_from_dict(data)
        sol = solve_day(problem, FAST)
    except ValueError:
        return
    check_solution(data, json.loads(json.dumps(solution_to_dict(sol, problem), default=str)))


def test_checker_catches_a_broken_plan():
    """The checker is not vacuous: a plan with a job outside its window is rejected."""
    data = {"vehicles": [{"id": 1, "start_index": 0, "end_index": 0}],
            "jobs": [{"id": 1, "location_index": 1, "service": 10, "time_windows": [[100, 200]]}],
            "matrices": {"car": {"durations": [[0, 5], [5, 0]], "distances": [[0, 5], [5, 0]]}}}
    problem, _ = problem_from_dict(data)
    out = json.loads(json.dumps(solution_to_dict(solve_day(problem, FAST), problem)))
    check_solution(data, out)
    out["routes"][0]["steps"][1]["waiting_time"] += 500
    try:
        check_solution(data, out)
    except AssertionError:
        return
    raise AssertionError("the checker accepted a job served after its window")


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                         max_size=3), max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["jobs", "vehicles", "shipments", "matrices"]), st.integers(0, 1),
       st.sampled_from(["id", "location", "location_index", "service", "time_windows", "skills", "breaks",
                        "time_window", "capacity", "speed_factor", "steps", "max_tasks", "pickup", "delivery",
                        "costs", "start_index", "durations"]), JSON_VALUES)
def test_malformed_fields_are_value_errors(section, k, key, value):
    """Any JSON value in any field parses, or is refused with a ValueError (never TypeError/KeyError)."""
    data = {"vehicles": [{"id": 1, "start_index": 0}, {"id": 2, "start_index": 1}],
            "jobs": [{"id": 1, "location_index": 1}, {"id": 2, "location_index": 0}],
            "shipments": [{"pickup": {"id": 3, "location_index": 0}, "delivery": {"id": 4, "location_index": 1}},
                          {"pickup": {"id": 5, "location_index": 1}, "delivery": {"id": 6, "location_index": 0}}],
            "matrices": {"car": {"durations": [[0, 5], [5, 0]]}}}
    target = data[section]["car"] if section == "matrices" else data[section][k]
    target = dict(target)
    target[key] = value
    if section == "matrices":
        data["matrices"] = {"car": target}
    else:
        data[section] = list(data[section])
        data[section][k] = target
    try:
        problem, _ = problem_from_dict(data)
        solve_day(problem, FAST)
    except ValueError:
        pass
