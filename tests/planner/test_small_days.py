"""Small days stop when they stop improving (issue 19, point 5), and the city seed sweep (point 4)."""
from dataclasses import replace

import pytest
from click.testing import CliRunner

from fieldsvc.planner import SolveParams, solve_day
from fieldsvc.planner import bench as b
from fieldsvc.planner.cli import bench
from fieldsvc.planner.day import small_day_params
from fieldsvc.planner.synth import city_day


def test_a_small_day_ends_when_its_search_stops_improving():
    day = city_day(24, 2, seed=5)
    sol = solve_day(day, SolveParams(time_limit=120))
    assert sol.statistics["stopped"] == "stagnation"  # without the rule ILS searches all 120 s
    assert sol.statistics["search"] == "ITERATED_LOCAL_SEARCH"
    trace = sol.statistics["improvements"]
    assert trace and all(a[1] > b_[1] for a, b_ in zip(trace, trace[1:]))  # each report is better
    # the plan handed back is the best the search reported (or better, after the final descent)
    assert sol.statistics["objective"] <= trace[-1][1]
    assert len(sol.served) + len(sol.unassigned) == 24
    assert {v for r in sol.routes for v in r.visit_ids} == set(sol.served)


def test_without_the_rule_the_search_runs_to_the_time_limit():
    day = city_day(24, 2, seed=5)
    sol = solve_day(day, SolveParams(time_limit=2, small_day_stagnation=None))
    assert "stopped" not in sol.statistics and "improvements" not in sol.statistics


def test_the_rule_is_for_small_single_model_days_unless_asked_for():
    params = SolveParams()
    assert small_day_params(city_day(50, 4, seed=1), params).stagnation == params.small_day_stagnation
    assert small_day_params(city_day(51, 4, seed=1), params).stagnation is None
    assert small_day_params(city_day(20, 2, seed=1), replace(params, stagnation=3.0)).stagnation == 3.0
    assert small_day_params(city_day(20, 2, seed=1), replace(params, small_day_stagnation=None)).stagnation is None
    # a search bounded by a number of solutions stays repeatable
    assert small_day_params(city_day(20, 2, seed=1), replace(params, solution_limit=40)).stagnation is None


@pytest.mark.parametrize("name", ["stagnation", "small_day_stagnation"])
def test_a_stagnation_of_no_time_is_refused_naming_the_field(name):
    with pytest.raises(ValueError, match=name):
        SolveParams(**{name: 0})


def test_seeds_are_ranges_and_lists():
    assert b.parse_seeds("0-9") == list(range(10))
    assert b.parse_seeds("0-2,7, 2") == [0, 1, 2, 7]
    for bad in ("x", "3-1", ""):
        with pytest.raises(ValueError, match="seeds"):
            b.parse_seeds(bad)


def test_a_sweep_line_gives_median_range_and_the_runs_meeting_vroom():
    runs = [{"served": s, "priority": p, "travel_h": t, "em_late_min": 0, "wall_s": 60.0}
            for s, p, t in ((590, 11810, 70.0), (588, 11800, 71.0), (591, 11820, 75.0))]
    vroom = {"served": 588, "priority": 11807, "travel_h": 74.3, "wall_s": 109.5}
    row = b.sweep_row(3, "matrix", runs, vroom)
    assert row["served"] == "590 (588–591)" and row["priority"] == "11810 (11800–11820)"
    assert row["travel_h"] == "71.0 (70.0–75.0)" and row["em_late_min"] == "0"
    assert row["meets"] == "1/3"  # one short of VROOM's priority, one with more travel
    md = b.markdown_sweep([row, b.sweep_row(4, "coords", runs[:1], None)])
    assert "| 3 | matrix | 3 | 590 (588–591) |" in md and md.splitlines()[-1].endswith("| – | – | – | – | – |")


def test_bench_city_sweep_refuses_bad_seeds_and_views():
    res = CliRunner().invoke(bench, ["city", "--seeds", "5-1"])
    assert res.exit_code != 0 and "--seeds" in res.output
    res = CliRunner().invoke(bench, ["city", "--seeds", "0", "--views", "coords,map"])
    assert res.exit_code != 0 and "map" in res.output


@pytest.mark.slow
def test_bench_city_sweep_runs_every_seed_in_both_views(tmp_path):
    out = tmp_path / "sweep.json"
    res = CliRunner().invoke(bench, ["city", "--visits", "12", "--technicians", "2", "--time-limit", "1",
                                     "--threads", "1", "--seeds", "0-1", "--json", str(out)])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.output.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [tuple(c.strip() for c in line.strip("|").split("|")[:2]) for line in lines] == [
        ("0", "coords"), ("0", "matrix"), ("1", "coords"), ("1", "matrix")]
    assert out.exists() and out.with_suffix(".partial.jsonl").read_text().count("\n") == 4


@pytest.mark.slow
def test_bench_small_days_prints_both_results_and_the_count_that_match():
    res = CliRunner().invoke(bench, ["small-days", "--days", "2", "--smallest", "12", "--largest", "20",
                                     "--time-limit", "2"])
    assert res.exit_code == 0, res.output
    rows = [line for line in res.output.splitlines() if line.startswith("| tehran-")]
    assert len(rows) == 2 and rows[0].startswith("| tehran-12-1-s0 | 12 | 1 |")
    assert "of 2 days give the same result" in res.output


def test_without_a_process_to_spare_the_search_runs_here(monkeypatch):
    import os

    def no_fork():
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    day = city_day(24, 2, seed=5)
    sol = solve_day(day, SolveParams(time_limit=1.5))
    assert "stopped" not in sol.statistics and len(sol.served) + len(sol.unassigned) == 24
