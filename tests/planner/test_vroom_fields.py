"""What VROOM users send: absolute times, shipments, steps (warm start and --check), and the
vehicle/job fields read or refused by name; OR-Tools failures become ValueErrors."""
import json

import pytest
from click.testing import CliRunner

from fieldsvc.planner import Problem, Technician, TimeWindow, Visit, solve, solve_day
from fieldsvc.planner.cli import solve as solve_cmd
from fieldsvc.planner.pm import compile_problem
from fieldsvc.planner.problem import Break, Shipment
from fieldsvc.planner.vroom_json import problem_from_dict, problem_to_dict, solution_to_dict

from .helpers import FAST, line_matrix

T0 = 1_600_416_000  # 2020-09-18 08:00 UTC, as in VROOM's documentation
M4 = [[0, 100, 600, 700], [100, 0, 500, 600], [600, 500, 0, 100], [700, 600, 100, 0]]


def unix_problem(base: int) -> dict:
    return {"vehicles": [{"id": "van-1", "start": [51.40, 35.70], "end": [51.40, 35.70],
                          "time_window": [base, base + 10_800],
                          "breaks": [{"id": "tea", "time_windows": [[base + 3_600, base + 4_000]], "service": 600}]}],
            "jobs": [{"id": "shop-a", "location": [51.41, 35.71], "service": 600,
                      "time_windows": [[base + 1_000, base + 3_000]]},
                     {"id": "shop-b", "location": [51.42, 35.70], "service": 300,
                      "time_windows": [[base + 5_000, base + 9_000]]}]}


def test_unix_times_solve_and_come_back_in_unix_time():
    p, _ = problem_from_dict(unix_problem(T0))
    out = solution_to_dict(solve_day(p, FAST), p)
    assert out["code"] == 0 and out["unassigned"] == []
    steps = {s.get("id", s["type"]): s for s in out["routes"][0]["steps"]}
    a, b, tea = steps["shop-a"], steps["shop-b"], steps["tea"]
    assert T0 + 1_000 <= a["arrival"] + a["waiting_time"] <= T0 + 3_000
    assert T0 + 5_000 <= b["arrival"] + b["waiting_time"] <= T0 + 9_000
    assert T0 + 3_600 <= tea["arrival"] <= T0 + 4_000
    assert T0 <= steps["start"]["arrival"] and steps["end"]["arrival"] <= T0 + 10_800
    # the same problem written from 0 gives the same plan, T0 earlier
    p0, _ = problem_from_dict(unix_problem(0))
    out0 = solution_to_dict(solve_day(p0, FAST), p0)
    assert [s["arrival"] + T0 for s in out0["routes"][0]["steps"]] == [s["arrival"] for s in out["routes"][0]["steps"]]
    assert out0["summary"]["waiting_time"] == out["summary"]["waiting_time"]


def test_unix_times_without_vehicle_window_and_string_ids(tmp_path):
    data = unix_problem(T0)
    del data["vehicles"][0]["time_window"]
    src = tmp_path / "p.json"
    src.write_text(json.dumps(data))
    res = CliRunner().invoke(solve_cmd, [str(src), "--time-limit", "1"])
    assert res.exit_code == 0, res.output
    sol = json.loads(res.output)
    assert sorted(s["id"] for s in sol["routes"][0]["steps"] if s["type"] == "job") == ["shop-a", "shop-b"]


def test_ortools_failure_names_the_visit():
    """A window OR-Tools cannot set (here: the model's horizon forced too short) is a ValueError naming the visit."""
    from fieldsvc.planner._ortools import solve_model

    p = Problem((Technician("t", start_index=0),), (Visit("late-shop", location_index=1,
                                                          time_windows=(TimeWindow(500, 600),)),),
                line_matrix([0, 10]))
    m = compile_problem(p, FAST).model
    m.horizon = 100
    with pytest.raises(ValueError, match="visit 'late-shop': time window"):
        solve_model(m, 0.5)


def test_ortools_failure_without_a_culprit_names_the_family(monkeypatch):
    from fieldsvc.planner import _ortools

    def boom(*_args):
        raise Exception("CP Solver fail")  # what OR-Tools raises

    monkeypatch.setattr(_ortools, "_add_counts", boom)
    p = Problem((Technician("t", start_index=0),), (Visit("v", location_index=1),), line_matrix([0, 10]))
    with pytest.raises(ValueError, match=r"max tasks constraints .*model of 1 stops.*1 technicians"):
        solve(p, FAST)


def test_cli_exits_2_without_traceback_on_bad_input(tmp_path):
    data = unix_problem(T0)
    data["jobs"][0]["time_windows"] = [[T0 + 3_000, T0 + 1_000]]
    src = tmp_path / "p.json"
    src.write_text(json.dumps(data))
    res = CliRunner().invoke(solve_cmd, [str(src)])
    assert res.exit_code == 2
    assert "shop-a" in res.output and "Traceback" not in res.output


SHIPMENT_PROBLEM = {
    # 0 = contractor's warehouse, 1 = technician's home, 2 = merchant, 3 = next door
    "vehicles": [{"id": "moto", "start_index": 1, "end_index": 1, "capacity": [0]},
                 {"id": "car", "start_index": 1, "end_index": 1, "capacity": [1]}],
    "jobs": [{"id": "pm-1", "location_index": 3, "service": 600}],
    "shipments": [{"amount": [1], "skills": [],
                   "pickup": {"id": "terminal@warehouse", "location_index": 0, "service": 300},
                   "delivery": {"id": "terminal@merchant", "location_index": 2, "service": 900}}],
    "matrices": {"car": {"durations": M4, "distances": M4}},
}


def test_shipment_pickup_first_same_technician_within_capacity():
    p, _ = problem_from_dict(SHIPMENT_PROBLEM)
    out = solution_to_dict(solve_day(p, FAST), p)
    assert out["unassigned"] == []
    car = next(r for r in out["routes"] if r["vehicle"] == "car")
    kinds = [(s["type"], s.get("id")) for s in car["steps"] if s["type"] in ("pickup", "delivery")]
    assert kinds == [("pickup", "terminal@warehouse"), ("delivery", "terminal@merchant")]
    # the motorbike (capacity 0) cannot carry the terminal
    assert not any(s["type"] in ("pickup", "delivery") for r in out["routes"] if r["vehicle"] == "moto"
                   for s in r["steps"])


def test_shipment_over_capacity_is_unassigned_with_a_reason():
    data = json.loads(json.dumps(SHIPMENT_PROBLEM))
    data["shipments"][0]["amount"] = [2]
    p, _ = problem_from_dict(data)
    out = solution_to_dict(solve_day(p, FAST), p)
    assert {(u["id"], u["type"], u["reason"]) for u in out["unassigned"]} == {
        ("terminal@warehouse", "pickup", "capacity"), ("terminal@merchant", "delivery", "capacity")}


def test_shipment_from_dataclasses_and_round_trip():
    pick = Visit("wh", location_index=0, service=300)
    drop = Visit("shop", location_index=2, service=900, time_windows=(TimeWindow(0, 5_000),))
    p = Problem((Technician("t", start_index=1, end_index=1, capacity=1),), (), line_matrix([0, 100, 600]),
                shipments=(Shipment(pick, drop, amount=1),))
    sol = solve(p, FAST)
    assert sol.routes[0].visit_ids == ["wh", "shop"]
    again, _ = problem_from_dict(json.loads(json.dumps(problem_to_dict(p))))
    assert again == p


PLAN = {
    "vehicles": [{"id": 1, "start_index": 0, "end_index": 0, "time_window": [0, 5_000], "skills": [1],
                  "steps": [{"type": "start"}, {"type": "job", "id": 20}, {"type": "job", "id": 10},
                            {"type": "end"}]}],
    "jobs": [{"id": 10, "location_index": 1, "service": 100, "time_windows": [[0, 400]]},
             {"id": 20, "location_index": 3, "service": 100, "skills": [1]}],
    "matrices": {"car": {"durations": M4, "distances": M4}},
}


def test_steps_warm_start_the_solver():
    p, _ = problem_from_dict(PLAN)
    sol = solve_day(p, FAST)
    assert sol.statistics["warm_start"] in ("used", "rejected")
    feasible = json.loads(json.dumps(PLAN))
    feasible["vehicles"][0]["steps"] = [{"type": "job", "id": 10}, {"type": "job", "id": 20}]
    p, _ = problem_from_dict(feasible)
    sol = solve_day(p, FAST)
    assert sol.statistics["warm_start"] == "used" and sorted(sol.served) == [10, 20]


def test_check_reports_lateness_per_step_and_exit_status(tmp_path):
    src = tmp_path / "plan.json"
    src.write_text(json.dumps(PLAN))
    res = CliRunner().invoke(solve_cmd, [str(src), "--check"])
    assert res.exit_code == 1, res.output
    out = json.loads(res.stdout)
    steps = {s.get("id"): s for s in out["routes"][0]["steps"]}
    # 0 -> 3 (700) + 100 service -> 1 (600) = 1400, window closed at 400
    assert steps[10]["arrival"] == 1_400 and steps[10]["violations"] == [{"cause": "delay", "duration": 1_000}]
    assert steps[20]["violations"] == []
    assert out["summary"]["cost"] == 700 + 600 + 100 and out["summary"]["x_feasible"] is False
    assert "delay" in res.stderr
    good = json.loads(json.dumps(PLAN))
    good["vehicles"][0]["steps"] = [{"type": "job", "id": 10}, {"type": "job", "id": 20}]
    src.write_text(json.dumps(good))
    res = CliRunner().invoke(solve_cmd, [str(src), "--check"])
    assert res.exit_code == 0 and json.loads(res.stdout)["summary"]["x_feasible"] is True


def test_check_names_skills_precedence_load_and_missing_break(tmp_path):
    data = json.loads(json.dumps(SHIPMENT_PROBLEM))
    data["vehicles"][0]["breaks"] = [{"id": "lunch", "time_windows": [[0, 9_000]], "service": 600}]
    data["vehicles"][0]["steps"] = [{"type": "delivery", "id": "terminal@merchant"},
                                    {"type": "pickup", "id": "terminal@warehouse"}]
    data["jobs"][0]["skills"] = [7]
    data["vehicles"][1]["steps"] = [{"type": "job", "id": "pm-1"}]
    src = tmp_path / "plan.json"
    src.write_text(json.dumps(data))
    res = CliRunner().invoke(solve_cmd, [str(src), "--check"])
    assert res.exit_code == 1
    causes = {v["cause"] for v in json.loads(res.stdout)["summary"]["violations"]}
    assert causes == {"precedence", "load", "missing_break", "skills"}


def test_speed_factor_setup_costs_and_description():
    data = {"vehicles": [{"id": "v", "start_index": 0, "end_index": 0, "speed_factor": 2.0,
                          "costs": {"fixed": 1_000, "per_hour": 7_200}, "description": "Ali's car"}],
            "jobs": [{"id": 1, "location_index": 2, "service": 60, "setup": 120, "description": "Shop 1"}],
            "matrices": {"car": {"durations": M4, "distances": M4}}}
    p, _ = problem_from_dict(data)
    out = solution_to_dict(solve(p, FAST), p)
    route = out["routes"][0]
    job = next(s for s in route["steps"] if s["type"] == "job")
    assert job["arrival"] - route["steps"][0]["arrival"] == 300  # 600 s of matrix at speed factor 2
    assert job["setup"] == 120 and job["description"] == "Shop 1" and route["description"] == "Ali's car"
    assert route["steps"][-1]["arrival"] == route["steps"][0]["arrival"] + 300 + 120 + 60 + 300
    assert route["cost"] == 1_000 + 600 * 2  # fixed + 600 s of travel at 7,200 per hour


def test_max_travel_time_and_max_distance_limit_a_route():
    base = {"jobs": [{"id": 1, "location_index": 1}, {"id": 2, "location_index": 3}],
            "matrices": {"car": {"durations": M4, "distances": M4}}}
    for field, limit in (("max_travel_time", 300), ("max_distance", 300)):
        data = {**base, "vehicles": [{"id": "v", "start_index": 0, "end_index": 0, field: limit}]}
        p, _ = problem_from_dict(data)
        sol = solve(p, FAST)
        assert sol.served == [1] and [u.visit_id for u in sol.unassigned] == [2], field


def test_job_pickup_amounts_count_against_capacity():
    data = {"vehicles": [{"id": "v", "start_index": 0, "end_index": 0, "capacity": [1]}],
            "jobs": [{"id": 1, "location_index": 1, "pickup": [1], "priority": 5},
                     {"id": 2, "location_index": 2, "pickup": [1]}],
            "matrices": {"car": {"durations": M4, "distances": M4}}}
    p, _ = problem_from_dict(data)
    sol = solve(p, FAST)
    assert sol.served == [1] and [(u.visit_id, u.reason) for u in sol.unassigned] == [(2, "capacity")]


def test_job_deliveries_ride_from_the_start_with_pickups():
    """VROOM's load: deliveries are on board from the start, pickups from where they are taken."""
    m = [[0, 10, 20, 100], [10, 0, 10, 20], [20, 10, 0, 10], [30, 20, 10, 0]]
    served = {}
    for cap in (2, 4):
        data = {"vehicles": [{"id": "v", "start_index": 0, "end_index": 0, "capacity": [cap]}],
                "jobs": [{"id": "p", "location_index": 1, "pickup": [2]},
                         {"id": "d", "location_index": 3, "delivery": [2]}],
                "matrices": {"car": {"durations": m, "distances": m}}}
        p, _ = problem_from_dict(data)
        served[cap] = solve(p, FAST).routes[0].visit_ids
    assert served == {4: ["p", "d"], 2: ["d", "p"]}  # with room for 2 only, deliver first though it is longer


@pytest.mark.parametrize("where, value, words", [
    ("vehicle", {"steps": [{"type": "job", "id": 1, "service_at": 5}]}, "service_at"),
    ("vehicle", {"costs": {"per_task_hour": 10}}, "per_task_hour"),
    ("vehicle", {"capacity": [1, 2]}, "capacity"),
    ("vehicle", {"colour": "red"}, "colour"),
    ("job", {"delivery": [1, 1]}, "delivery"),
    ("top", {"matrices": {"car": {"durations": M4, "costs": M4}}}, "matrices.car.costs"),
    ("vehicle", {"max_distance": 100, "start": [51.4, 35.7]}, "max_distance needs distances"),
])
def test_unsupported_fields_are_refused_by_name(where, value, words):
    data = {"vehicles": [{"id": "v", "start_index": 0}], "jobs": [{"id": 1, "location_index": 1}],
            "matrices": {"car": {"durations": M4}}}
    target = {"vehicle": data["vehicles"][0], "job": data["jobs"][0], "top": data}[where]
    target.update(value)
    with pytest.raises(ValueError, match=words):
        problem, _ = problem_from_dict(data)
        solve(problem, FAST)


def test_break_outside_the_shift_is_refused_by_name():
    t = Technician("t", start_index=0, shift=TimeWindow(0, 1_000), breaks=(Break(TimeWindow(2_000, 3_000), 60, "x"),))
    with pytest.raises(ValueError, match="technician 't': break 'x'"):
        solve(Problem((t,), (Visit("v", location_index=1),), line_matrix([0, 10])), FAST)


def test_break_with_several_windows_starts_inside_one():
    """VROOM's break windows bound its start; between two windows it may not start."""
    data = {"vehicles": [{"id": "v", "start_index": 0, "end_index": 0, "time_window": [0, 1_000],
                          "breaks": [{"id": "lunch", "time_windows": [[0, 10], [300, 310]], "service": 50}]}],
            "jobs": [{"id": 1, "location_index": 0, "service": 280, "time_windows": [[5, 5]]}],
            "matrices": {"car": {"durations": [[0]], "distances": [[0]]}}}
    p, _ = problem_from_dict(data)
    out = solution_to_dict(solve(p, FAST), p)
    brk = next(s for s in out["routes"][0]["steps"] if s["type"] == "break")
    assert 300 <= brk["arrival"] <= 310  # the job holds 5..285; the first moment free, 285, is between windows
    assert problem_from_dict(json.loads(json.dumps(problem_to_dict(p))))[0] == p


def test_setup_follows_the_window_as_in_vroom():
    """VROOM (checked with pyvroom): the window bounds the task start; setup comes after it."""
    data = {"vehicles": [{"id": 1, "start_index": 0, "end_index": 0}],
            "jobs": [{"id": 1, "location_index": 1, "setup": 100, "service": 5, "time_windows": [[0, 50]]}],
            "matrices": {"car": {"durations": [[0, 10], [10, 0]]}}}
    p, _ = problem_from_dict(data)
    out = solution_to_dict(solve(p, FAST), p)
    job = next(s for s in out["routes"][0]["steps"] if s["type"] == "job")
    assert (job["arrival"], job["waiting_time"], job["setup"]) == (10, 0, 100)
    assert out["routes"][0]["steps"][-1]["arrival"] == 125  # as VROOM: 10 + 100 + 5 + 10
    data["jobs"][0]["time_windows"] = [[40, 50]]
    p, _ = problem_from_dict(data)
    job = next(s for s in solution_to_dict(solve(p, FAST), p)["routes"][0]["steps"] if s["type"] == "job")
    assert 40 <= job["arrival"] + job["waiting_time"] <= 50 and job["setup"] == 100
