"""The national benchmark: a synthetic country day split by contractor and province, then by
territory, solved as tasks; its figures on the command line and in --json."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fieldsvc.planner import national
from fieldsvc.planner.cli import bench

GEO = Path(__file__).resolve().parent.parent / "data" / "geo"


def test_country_day_follows_population_and_keeps_regions_apart():
    regions = national.country_day(3000, 200, seed=1, directory=GEO)
    visits = [v for r in regions for v in r.problem.visits]
    assert len(visits) == 3000 and sum(len(r.problem.technicians) for r in regions) == 200
    assert len({v.id for v in visits}) == 3000  # ids unique across the country
    per_province: dict[str, int] = {}
    for r in regions:
        per_province[r.province] = per_province.get(r.province, 0) + len(r.problem.visits)
    total = sum(national.PROVINCE_POPULATION[p] for p in per_province)
    for province, n in per_province.items():  # visits in proportion to the population
        assert abs(n - 3000 * national.PROVINCE_POPULATION[province] / total) <= 1
    contractors = {}
    for r in regions:
        contractors.setdefault(r.province, set()).add(r.contractor)
    assert all(len(c) >= 2 for c in contractors.values())  # several contractors per province
    kinds = {v.kind for v in visits}
    assert kinds == {"pm", "em"} and all(v.time_windows for v in visits)  # the city day's mix


def test_a_contractor_works_where_its_technicians_are_stationed():
    """A contractor's zone is the towns its technicians live in: (almost) every visit has a home of
    its own contractor within 15 km, as on the city day (cut apart, the visits and the homes fell
    in different towns: a fifth of some contractors' visits were tens of kilometres from them), and
    every contractor has its province's visits per technician."""
    regions = national.country_day(6000, 300, seed=0, directory=GEO)
    far = 0
    per_tech: dict[str, list[float]] = {}
    for r in regions:
        per_tech.setdefault(r.province, []).append(len(r.problem.visits) / len(r.problem.technicians))
        homes = np.array([(t.start.lat, t.start.lon) for t in r.problem.technicians])
        for v in r.problem.visits:
            dlat = (homes[:, 0] - v.location.lat) * 111.32
            dlon = (homes[:, 1] - v.location.lon) * 111.32 * math.cos(math.radians(v.location.lat))
            far += float(np.hypot(dlat, dlon).min()) > 15
    assert far <= 0.01 * 6000  # 102 when the visits were cut apart from the homes
    assert all(max(v) <= 1.25 * min(v) for v in per_tech.values())


def test_too_few_technicians_is_a_clear_error():
    with pytest.raises(ValueError, match=r"--technicians 124"):
        national.country_day(1000, 100, directory=GEO)


def test_missing_geodata_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        national.country_day(100, 124, directory=tmp_path)
    out = CliRunner().invoke(bench, ["national", "--visits", "100", "--technicians", "124"],
                             env={"FIELDSVC_SHARED_DATA": str(tmp_path)})
    assert out.exit_code == 1
    assert f"iran_provinces.osm.min.geojson, iran_cities_2025-01-18.json in {tmp_path / 'geo'}" in out.output
    assert "FIELDSVC_SHARED_DATA" in out.output


@pytest.mark.slow
def test_bench_national_prints_and_writes_the_figures(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDSVC_SHARED_DATA", str(GEO.parent))
    out_json = tmp_path / "national.json"
    out = CliRunner().invoke(bench, ["national", "--visits", "400", "--technicians", "124", "--workers", "2",
                                     "--time-per-visit", "0.01", "--json", str(out_json)])
    assert out.exit_code == 0, out.output
    data = json.loads(out_json.read_text())
    assert {"visits", "served", "priority_served", "travel_seconds_per_served", "wall_seconds", "peak_rss_mb",
            "stages"} <= set(data)
    assert data["visits"] == 400 and 0 < data["served"] <= 400
    assert [s["name"] for s in data["stages"]] == ["generate and split by contractor × province",
                                                  "split by territory", "territories", "regrouping rounds"]
    assert sum(data["unassigned"].values()) == 400 - data["served"]
    assert "| territories |" in out.output and "priority served" in out.output


def test_bench_towns_solves_the_multi_town_contractors_both_ways(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDSVC_SHARED_DATA", str(GEO.parent))
    out_json = tmp_path / "towns.json"
    out = CliRunner().invoke(bench, ["towns", "--visits", "1000", "--technicians", "124", "--runs", "1",
                                     "--time-per-visit", "0.005", "--json", str(out_json)])
    assert out.exit_code == 0, out.output
    rows = json.loads(out_json.read_text())
    assert [r["way"] for r in rows] == ["one model", "town by town"]
    assert rows[0]["days"] == rows[1]["days"] >= 1 and rows[0]["visits"] == rows[1]["visits"]
    assert all(0 < r["served"] <= r["visits"] for r in rows)
    assert "| town by town | 1 |" in out.output


@pytest.mark.slow
def test_matrices_are_built_per_part_never_for_the_country(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from fieldsvc.planner import pm

    sizes: list[int] = []
    build = pm.travel_matrices

    def recording(points, *args, **kwargs):
        sizes.append(len(points))
        return build(points, *args, **kwargs)

    monkeypatch.setattr(pm, "travel_matrices", recording)
    regions = national.country_day(1500, 124, seed=2, directory=GEO)
    biggest = max(len(r.problem.visits) + 2 * len(r.problem.technicians) for r in regions)
    with ThreadPoolExecutor(max_workers=2) as pool:  # tasks in this process: their matrices are seen here
        result = national.solve_country(regions, pool, time_per_visit=0.001)
    assert sizes and max(sizes) <= biggest < 1500 / 2  # one region or territory at a time
    assert result.summary()["visits"] == 1500


def test_a_group_that_or_tools_refuses_keeps_its_routes(monkeypatch):
    """Seen at 20,000 visits under load: one regrouped model answered "invalid"; the day must not be lost."""
    from concurrent.futures import ThreadPoolExecutor

    from fieldsvc.planner import pm
    from fieldsvc.planner.params import SolveParams
    from fieldsvc.planner.partition import improve, merge, split
    from fieldsvc.planner.synth import city_day

    problem = city_day(120, 10, seed=4)
    params = SolveParams(time_limit=5, solution_limit=20)
    sol = merge(problem, [pm.solve(part, params) for part in split(problem, 40)])
    solve = pm.solve

    def refuse_warm_starts(problem, params=None, initial=None):
        if initial:
            raise RuntimeError("OR-Tools rejected the model or the search parameters (see its log)")
        return solve(problem, params, initial)

    monkeypatch.setattr(pm, "solve", refuse_warm_starts)
    with ThreadPoolExecutor(max_workers=1) as one:
        out = improve(problem, sol, params, rounds=1, executor=one, workers=1)
    assert sorted(out.served) == sorted(sol.served)


def test_a_search_stopped_by_its_limit_is_a_plan_not_a_failure():
    """OR-Tools 9.15 numbers its statuses differently from the table we had: a search stopped by a
    limit before its first local optimum (status 2) read as "fail", so a regrouped group's better
    routes were thrown away, and a timeout (4) read as "invalid" (the 20,000-visit run's error)."""
    from ortools.constraint_solver import routing_enums_pb2

    from fieldsvc.planner import pm
    from fieldsvc.planner._ortools import _STATUS
    from fieldsvc.planner.params import SolveParams
    from fieldsvc.planner.synth import city_day

    sol = pm.solve(city_day(60, 5, seed=1),
                   SolveParams(time_limit=5, solution_limit=1, metaheuristic="GUIDED_LOCAL_SEARCH"))
    assert sol.status == "ok" and sol.served
    status = routing_enums_pb2.RoutingSearchStatus
    assert _STATUS[status.ROUTING_FAIL_TIMEOUT] == "fail_timeout"
    assert _STATUS[status.ROUTING_INVALID] == "invalid"


def test_the_terminals_of_one_merchant_are_at_one_place():
    """The synthetic days' second (and third) terminals stand at their merchant's shop: a third
    terminal was put at an unrelated spot under the same merchant, which the planner's merged stop
    served for free while a peer given the locations drove there."""
    from fieldsvc.planner.synth import city_day

    places: dict[str, set] = {}
    for v in city_day(1500, 75, 0).visits:
        places.setdefault(v.merchant, set()).add((float(v.location.lat), float(v.location.lon)))
    assert sum(len(p) > 1 for p in places.values()) == 0
    assert len(places) < 1500  # some merchants have two
