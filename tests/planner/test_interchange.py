"""VROOM-style JSON, the solve/bench CLI and Solomon files."""
import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from fieldsvc.planner import Point, SolveParams, solve, solomon
from fieldsvc.planner.cli import bench, solve as solve_cmd
from fieldsvc.planner.matrix import haversine_matrix, travel_matrices
from fieldsvc.planner.vroom_json import problem_from_dict, problem_to_dict, solution_to_dict

PROBLEM = {
    "vehicles": [{"id": 1, "start": [51.40, 35.70], "end": [51.40, 35.70], "time_window": [28800, 61200],
                  "skills": [1], "max_tasks": 4,
                  "breaks": [{"id": 7, "time_windows": [[43200, 50400]], "service": 1800}]}],
    "jobs": [
        {"id": 10, "location": [51.41, 35.71], "service": 600, "skills": [1], "priority": 5,
         "time_windows": [[32400, 46800], [59400, 75600]]},
        {"id": 11, "location": [51.42, 35.70], "service": 600, "priority": 50, "x_kind": "em",
         "x_sla_deadline": 36000},
        {"id": 12, "location": [51.43, 35.70], "service": 300, "x_merchant": "m1"},
        {"id": 13, "location": [51.43, 35.70], "service": 300, "x_merchant": "m1"},
        {"id": 14, "location": [51.5, 35.8], "skills": [2]},
    ],
}

MATRIX_PROBLEM = {
    "vehicles": [{"id": "v", "start_index": 0, "end_index": 0}],
    "jobs": [{"id": 1, "location_index": 1, "service": 5}, {"id": 2, "location_index": 2, "service": 5}],
    "matrices": {"car": {"durations": [[0, 10, 20], [10, 0, 10], [20, 10, 0]],
                         "distances": [[0, 100, 200], [100, 0, 100], [200, 100, 0]]}},
}


def test_cli_solve_writes_vroom_solution(tmp_path):
    src = tmp_path / "p.json"
    src.write_text(json.dumps(PROBLEM))
    out = tmp_path / "s.json"
    res = CliRunner().invoke(solve_cmd, [str(src), "-o", str(out), "--time-limit", "1"])
    assert res.exit_code == 0, res.output
    sol = json.loads(out.read_text())
    assert sol["code"] == 0
    assert set(sol["summary"]) >= {"cost", "routes", "unassigned", "service", "duration", "waiting_time", "distance"}
    steps = sol["routes"][0]["steps"]
    assert steps[0]["type"] == "start" and steps[-1]["type"] == "end"
    assert {s["type"] for s in steps} >= {"job", "break"}
    assert [s["id"] for s in steps if s["type"] == "job" and s["id"] in (12, 13)] == [12, 13]
    [dropped] = sol["unassigned"]
    assert {k: dropped[k] for k in ("id", "type", "reason", "location")} == {
        "id": 14, "type": "job", "reason": "skills", "location": [51.5, 35.8]}
    assert "skill" in dropped["x_message"].lower()
    for s in steps:
        assert {"arrival", "service", "waiting_time"} <= set(s)


def test_cli_solve_to_stdout_with_matrices(tmp_path):
    src = tmp_path / "p.json"
    src.write_text(json.dumps(MATRIX_PROBLEM))
    res = CliRunner().invoke(solve_cmd, [str(src), "--time-limit", "1"])
    assert res.exit_code == 0, res.output
    sol = json.loads(res.output)
    assert sol["summary"]["cost"] == 40 and sol["summary"]["distance"] == 400
    assert [s.get("location_index") for s in sol["routes"][0]["steps"]][0] == 0


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d["jobs"][0].update(time_windows=[[50, 10]]), "visit 10"),
    (lambda d: d.update(vehicles=[]), "empty fleet"),
    (lambda d: d["jobs"][1].update(service=-1), "visit 11"),
])
def test_cli_solve_bad_input_names_the_field(tmp_path, mutate, words):
    data = json.loads(json.dumps(PROBLEM))
    mutate(data)
    src = tmp_path / "p.json"
    src.write_text(json.dumps(data))
    res = CliRunner().invoke(solve_cmd, [str(src), "--time-limit", "1"])
    assert res.exit_code != 0 and words in res.output


def test_invalid_json_is_a_clear_error(tmp_path):
    src = tmp_path / "p.json"
    src.write_text("{nope")
    res = CliRunner().invoke(solve_cmd, [str(src)])
    assert res.exit_code != 0 and "invalid JSON" in res.output


def test_problem_round_trips_through_json():
    p, _ = problem_from_dict(PROBLEM)
    again, _ = problem_from_dict(json.loads(json.dumps(problem_to_dict(p))))
    assert again == p


def test_solution_dict_has_extension_fields():
    p, _ = problem_from_dict(MATRIX_PROBLEM)
    d = solution_to_dict(solve(p, SolveParams(time_limit=1)), p)
    assert d["summary"]["x_status"] == "ok" and "x_cost" in d["summary"]


#: The one Solomon instance shipped with the tests (tests/data/README.md); the whole set stays outside.
SOLOMON_DIR = Path(__file__).resolve().parents[1] / "data" / "vrptw" / "solomon"


def test_solomon_loads_with_best_known():
    path = solomon.instances(SOLOMON_DIR, names=["C101"])
    inst = solomon.load(path[0])
    assert len(inst.problem.visits) == 100 and len(inst.problem.technicians) == 25
    assert inst.bks_cost == pytest.approx(827.3)
    sol = solve(inst.problem, SolveParams(time_limit=2, allow_drops=False))
    assert not sol.unassigned
    assert solomon.gap(sol.distance_m / solomon.SCALE, inst.bks_cost) < 10


def _table(text: str, first: str) -> dict[str, dict[str, str]]:
    """The rows of the markdown table whose header starts with ``| first |``, by their first cell."""
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith(f"| {first} |"))
    names = [c.strip() for c in lines[head].strip("|").split("|")]
    rows = {}
    for line in lines[head + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(names, cells))
    return rows


def test_bench_solomon_reports_a_real_gap_to_the_best_known(tmp_path):
    md = tmp_path / "s.md"
    res = CliRunner().invoke(bench, ["solomon", "--instances", str(SOLOMON_DIR), "--only", "C101", "--time-limit", "1",
                                     "--markdown", str(md)])
    assert res.exit_code == 0, res.output
    line = next(x for x in md.read_text().splitlines() if x.startswith("| C101 |"))
    dist, vehicles, gap = (float(c) for c in line.strip("|").split("|")[1:4])
    assert 827.3 <= dist < 827.3 * 1.10 and 10 <= vehicles <= 25  # never below the best known (827.3, 10 routes)
    assert gap == pytest.approx(100 * (dist - 827.3) / 827.3, abs=0.01)
    res = CliRunner().invoke(bench, ["solomon", "--instances", str(SOLOMON_DIR), "--only", "C101", "--time-limit", "1",
                                     "--search", "gls"])
    assert res.exit_code == 0, res.output
    summary = _table(res.output, "solver")["fieldsvc (GLS)" if "fieldsvc (GLS)" in res.output else "fieldsvc"]
    assert summary["instances"] == "1" and summary["infeasible"] == "0" and float(summary["mean gap %"]) < 10


def test_bench_solomon_says_where_it_looked(tmp_path):
    res = CliRunner().invoke(bench, ["solomon", "--instances", str(tmp_path), "--time-limit", "1"])
    assert res.exit_code != 0 and str(tmp_path) in res.output and "FIELDSVC_SHARED_DATA" in res.output


@pytest.mark.slow
def test_bench_city_rows_add_up():
    from fieldsvc.planner.synth import city_day

    total_priority = sum(v.priority for v in city_day(25, 3, seed=0).visits)
    res = CliRunner().invoke(bench, ["city", "--visits", "25", "--technicians", "3", "--time-limit", "1",
                                     "--threads", "1", "--vroom-view"])
    assert res.exit_code == 0, res.output
    rows = _table(res.output, "solver")
    assert set(rows) == {"fieldsvc", "fieldsvc, no deadlines"}
    for row in rows.values():
        assert int(row["served"]) + int(row["unassigned"]) == 25
        assert 0 < int(row["priority"]) <= total_priority and float(row["travel_h"]) > 0
    res = CliRunner().invoke(bench, ["city", "--visits", "25", "--technicians", "3", "--time-limit", "1",
                                     "--threads", "1", "--runs", "2"])
    assert res.exit_code == 0, res.output
    assert res.output.count("fieldsvc: {") == 2
    median = _table(res.output, "solver")["fieldsvc, median of 2"]
    served = median["served"].split()[0]
    assert 0 < int(served) <= 25


def test_bench_em_times_every_call():
    res = CliRunner().invoke(bench, ["em", "--technicians", "5", "--stops", "4", "--calls", "3"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert (out["technicians"], out["stops"], out["calls"]) == (5, 20, 3)
    assert 0 <= out["p50_ms"] <= out["p95_ms"] <= out["max_ms"]


def test_haversine_and_osrm_fallback(monkeypatch):
    d = haversine_matrix([Point(35.0, 51.0), Point(36.0, 51.0)])
    assert d[0, 1] == pytest.approx(111_195, rel=1e-3)
    monkeypatch.delenv("FIELDSVC_OSRM_URL", raising=False)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        durs, dist = travel_matrices([Point(35.0, 51.0), Point(35.01, 51.0)], {"car": 10.0}, 1.0, "osrm")
    assert any("falling back to haversine" in str(x.message) for x in w)
    assert durs["car"][0, 1] == pytest.approx(111, abs=1)
    g, _ = travel_matrices([Point(35.0, 51.0), Point(35.01, 51.0)], {"car": 10.0}, 1.0, "geodesic")
    assert g["car"][0, 1] == pytest.approx(111, abs=1)


def test_vroom_view_drops_deadlines_but_lateness_is_still_measured():
    from fieldsvc.planner.bench import em_late_seconds, without_deadlines
    from fieldsvc.planner.problem import Point, Problem, Technician, Visit
    from fieldsvc.planner.solution import Route, Solution, Stop

    em = Visit("E", location=Point(35.7, 51.4), service=600, kind="em", sla_deadline=10 * 3600)
    pm = Visit("P", location=Point(35.7, 51.41), service=600)
    problem = Problem((Technician("T", start=Point(35.7, 51.4)),), (em, pm))
    assert [v.sla_deadline for v in without_deadlines(problem).visits] == [None, None]
    stop = Stop("job", 10 * 3600 + 100, 10 * 3600 + 300, 10 * 3600 + 900, ("E",))
    sol = Solution([Route("T", [stop])], [])
    assert em_late_seconds(problem, sol) == 300


def test_median_run_shows_the_middle_run_and_the_ranges():
    from fieldsvc.planner.bench import median_run

    rows = [{"solver": "us", "served": s, "priority": p, "travel_h": t, "em_late_min": 0, "unassigned": 600 - s,
             "wall_s": 58.5} for s, p, t in ((588, 11807, 71.0), (590, 11817, 72.6), (587, 11784, 70.1))]
    med = median_run(rows)
    assert med == {"solver": "us, median of 3", "served": "588 (587–590)", "priority": "11807 (11784–11817)",
                   "travel_h": "71.0 (70.1–72.6)", "em_late_min": 0, "unassigned": "12 (10–13)", "wall_s": 58.5}
    assert median_run(rows[:1]) == rows[0]
