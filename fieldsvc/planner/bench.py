"""Benchmarks: Solomon VRPTW against best-known solutions, and synthetic Tehran days,
side by side with PyVRP and pyvroom (the ``bench`` extra) on the same machine.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from . import solomon
from .params import SolveParams
from .problem import Problem
from .solution import Solution


@dataclass
class Row:
    instance: str
    solver: str
    cost: float | None
    vehicles: int | None
    gap: float | None
    feasible: bool
    seconds: float
    extra: dict = field(default_factory=dict)


def _ours_solomon(inst: solomon.Instance, time_limit: float, params: SolveParams | None = None) -> Row:
    """Our row: :func:`solve_day`, so that 400- and 1,000-customer instances are decomposed
    (territories, then regrouping rounds) exactly as a big working day is."""
    from .day import solve_day

    p = replace(params or SolveParams(), time_limit=time_limit, allow_drops=False)
    t0 = time.perf_counter()
    sol = solve_day(inst.problem, p)
    wall = time.perf_counter() - t0
    ok = sol.status == "ok" and not sol.unassigned
    cost = sol.distance_m / solomon.SCALE if ok else None
    return Row(inst.name, "fieldsvc", cost, sum(1 for r in sol.routes if r.visit_ids) if ok else None,
               solomon.gap(cost, inst.bks_cost) if ok else None, ok, wall)


def _pyvrp_solomon(inst: solomon.Instance, time_limit: float) -> Row:
    import pyvrp
    from pyvrp.stop import MaxRuntime

    data = pyvrp.read(str(inst.path), round_func="dimacs")
    t0 = time.perf_counter()
    res = pyvrp.solve(data, stop=MaxRuntime(time_limit), seed=0, display=False)
    wall = time.perf_counter() - t0
    ok = res.is_feasible()
    cost = res.cost() / solomon.SCALE if ok else None
    return Row(inst.name, "pyvrp", cost, res.best.num_routes() if ok else None,
               solomon.gap(cost, inst.bks_cost) if ok else None, ok, wall)


def vroom_solve(problem: Problem, exploration: int = 5, threads: int = 1,
                params: SolveParams | None = None) -> tuple[dict, dict]:
    """Solve ``problem`` with pyvroom; returns (VROOM solution dict, our-id by vroom job id)."""
    import vroom

    from .vroom_json import to_vroom_input

    data = to_vroom_input(problem, params)
    job_ids = {}
    for k, j in enumerate(data["jobs"]):
        job_ids[k + 1] = j["id"]
        j["id"] = k + 1
    for k, v in enumerate(data["vehicles"]):
        v["id"] = k + 1
        for b in v.get("breaks", []):
            b["id"] = 1
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(data, fh)
        name = fh.name
    try:
        inp = vroom.Input.from_json(name)
    finally:
        os.unlink(name)
    sol = inp.solve(exploration_level=exploration, nb_threads=threads)
    return sol.to_dict(), job_ids


def _vroom_solomon(inst: solomon.Instance, time_limit: float) -> Row:
    t0 = time.perf_counter()
    out, _ = vroom_solve(inst.problem, exploration=5, threads=1)
    wall = time.perf_counter() - t0
    ok = not out["unassigned"]
    cost = out["summary"]["cost"] / solomon.SCALE if ok else None
    return Row(inst.name, "vroom", cost, len(out["routes"]) if ok else None,
               solomon.gap(cost, inst.bks_cost) if ok else None, ok, wall)


SOLOMON_SOLVERS: dict[str, Callable[[solomon.Instance, float], Row]] = {
    "fieldsvc": _ours_solomon, "pyvrp": _pyvrp_solomon, "vroom": _vroom_solomon}


def bench_solomon(directory: str | Path | None = None, time_limit: float = 10.0, compare: tuple[str, ...] = (),
                  names: list[str] | None = None, progress: Callable[[Row], None] | None = None,
                  params: SolveParams | None = None) -> list[Row]:
    """Run ours (with ``params``) and ``compare`` peers on every instance, one solver at a time."""
    rows = []
    for path in solomon.instances(directory, names):
        inst = solomon.load(path)
        for solver in ("fieldsvc", *compare):
            row = _ours_solomon(inst, time_limit, params) if solver == "fieldsvc" else \
                SOLOMON_SOLVERS[solver](inst, time_limit)
            rows.append(row)
            if progress:
                progress(row)
    return rows


def summarize(rows: list[Row]) -> list[dict]:
    """Per solver: instances, infeasible count, mean/max gap, mean seconds."""
    out = []
    for solver in dict.fromkeys(r.solver for r in rows):
        rs = [r for r in rows if r.solver == solver]
        gaps = [r.gap for r in rs if r.gap is not None and not math.isnan(r.gap)]
        out.append({"solver": solver, "instances": len(rs), "infeasible": sum(not r.feasible for r in rs),
                    "mean_gap": round(sum(gaps) / len(gaps), 2) if gaps else None,
                    "max_gap": round(max(gaps), 2) if gaps else None,
                    "mean_seconds": round(sum(r.seconds for r in rs) / len(rs), 1) if rs else None})
    return out


def markdown_solomon(rows: list[Row]) -> str:
    """A markdown table: one line per instance, columns per solver."""
    solvers = list(dict.fromkeys(r.solver for r in rows))
    head = "| instance | " + " | ".join(f"{s} dist | veh | gap % " for s in solvers) + "|"
    sep = "|---|" + "---|---|---|" * len(solvers)
    lines = [head, sep]
    for name in dict.fromkeys(r.instance for r in rows):
        cells = []
        for s in solvers:
            r = next((x for x in rows if x.instance == name and x.solver == s), None)
            if r is None or not r.feasible:
                cells.append("infeasible | – | –")
            else:
                cells.append(f"{r.cost:.1f} | {r.vehicles} | {r.gap:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("| solver | instances | infeasible | mean gap % | max gap % | mean s |")
    lines.append("|---|---|---|---|---|---|")
    for s in summarize(rows):
        lines.append(f"| {s['solver']} | {s['instances']} | {s['infeasible']} | {s['mean_gap']} | {s['max_gap']} | {s['mean_seconds']} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- city day
def em_late_seconds(problem: Problem, sol: Solution) -> int:
    """Seconds EM visits of ``problem`` start after their SLA deadline in ``sol``."""
    sla = {v.id: v.sla_deadline for v in problem.visits if v.sla_deadline is not None}
    return sum(max(0, s.start - sla[v]) for r in sol.routes for s in r.stops for v in s.visit_ids if v in sla)


def without_deadlines(problem: Problem) -> Problem:
    """``problem`` as VROOM sees it: the same visits without SLA deadlines."""
    return replace(problem, visits=tuple(replace(v, sla_deadline=None) for v in problem.visits))


def matrix_only(problem: Problem, params: SolveParams | None = None) -> Problem:
    """``problem`` as users of road matrices send it: a duration and a distance matrix per
    profile (the planner's own travel model) and ``location_index`` only, no coordinates."""
    from .matrix import travel_matrices
    from .problem import Matrices

    params = params or SolveParams()
    points: list = []
    index: dict = {}

    def at(p: object) -> int | None:
        if p is None:
            return None
        key = (p.lat, p.lon)
        if key not in index:
            index[key] = len(points)
            points.append(p)
        return index[key]

    techs = tuple(replace(t, start=None, end=None, start_index=at(t.start), end_index=at(t.end))
                  for t in problem.technicians)
    visits = tuple(replace(v, location=None, location_index=at(v.location)) for v in problem.visits)
    profiles = {t.profile: params.speeds_mps[t.profile] for t in problem.technicians}
    durs, dist = travel_matrices(points, profiles, params.detour_factor, params.metric)
    rows = {name: tuple(tuple(int(x) for x in row) for row in m.tolist()) for name, m in durs.items()}
    dist_rows = tuple(tuple(int(x) for x in row) for row in dist.tolist())
    matrices = Matrices(durations=rows, distances={name: dist_rows for name in rows})
    return replace(problem, technicians=techs, visits=visits, matrices=matrices, name=f"{problem.name} (matrix)")


def city_ours(problem: Problem, time_limit: float, params: SolveParams | None = None, label: str = "fieldsvc",
              deadlines: bool = True, **kw: Any) -> dict:
    """Our row of the city table; ``deadlines=False`` solves VROOM's view (lateness still measured)."""
    from .day import solve_day

    p = replace(params or SolveParams(), time_limit=time_limit)
    t0 = time.perf_counter()
    sol = solve_day(problem if deadlines else without_deadlines(problem), p, **kw)
    return _city_row(label, problem, sol, time.perf_counter() - t0)


def _city_row(label: str, problem: Problem, sol: Solution, wall: float) -> dict:
    """One row of the city table for ``sol`` (EM lateness against ``problem``'s deadlines)."""
    return {"solver": label, "served": len(sol.served), "priority": sol.served_priority(problem),
            "travel_h": round(sol.travel_seconds / 3600, 1), "em_late_min": round(em_late_seconds(problem, sol) / 60),
            "unassigned": len(sol.unassigned), "wall_s": round(wall, 1)}


def median_run(rows: list[dict]) -> dict:
    """One table row for repeated runs of one solver: the median run by priority, with the
    min–max range of every figure that varied (time-limited search is not repeatable)."""
    if len(rows) == 1:
        return rows[0]
    med = dict(sorted(rows, key=lambda r: (r["priority"], -r["travel_h"]))[len(rows) // 2])
    for key in ("served", "priority", "travel_h", "em_late_min", "unassigned", "wall_s"):
        lo, hi = min(r[key] for r in rows), max(r[key] for r in rows)
        if lo != hi:
            med[key] = f"{med[key]} ({lo}–{hi})"
    med["solver"] = f"{med['solver']}, median of {len(rows)}"
    return med


def city_plain(problem: Problem, time_limit: float) -> dict:
    """The 'plain' baseline: one OR-Tools model of the whole day, exact soft SLA bounds."""
    from .pm import solve

    t0 = time.perf_counter()
    sol = solve(problem, SolveParams(time_limit=time_limit, sla_model="soft"))
    return _city_row("fieldsvc single model", problem, sol, time.perf_counter() - t0)


def city_vroom(problem: Problem, exploration: int = 5, threads: int = 2, params: SolveParams | None = None) -> dict:
    t0 = time.perf_counter()
    out, ids = vroom_solve(problem, exploration, threads, params)
    wall = time.perf_counter() - t0
    served = [ids[s["id"]] for r in out["routes"] for s in r["steps"] if s["type"] == "job"]
    pri = {v.id: v.priority for v in problem.visits}
    sla = {v.id: v.sla_deadline for v in problem.visits if v.sla_deadline is not None}
    late = sum(max(0, s["arrival"] + s["waiting_time"] - sla[ids[s["id"]]]) for r in out["routes"]
               for s in r["steps"] if s["type"] == "job" and ids[s["id"]] in sla)
    return {"solver": f"vroom x{exploration}", "served": len(served), "priority": sum(pri[v] for v in served),
            "travel_h": round(out["summary"]["duration"] / 3600, 1), "em_late_min": round(late / 60),
            "unassigned": len(out["unassigned"]), "wall_s": round(wall, 1)}


def markdown_city(rows: list[dict], title: str = "") -> str:
    keys = ["solver", "served", "priority", "travel_h", "em_late_min", "unassigned", "wall_s"]
    lines = ([f"**{title}**", ""] if title else []) + ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- EM slotting
def em_timing(technicians: int = 40, stops: int = 15, calls: int = 50, seed: int = 0) -> dict:
    """Time :func:`slot_options` on a synthetic live day (``technicians`` × ``stops``)."""
    import numpy as np

    from .em import LiveRoute, LiveStop, slot_options
    from .problem import TimeWindow, Visit
    from .synth import FAMILIES, sample_points

    rng = np.random.default_rng(seed)
    homes = sample_points(technicians, rng)
    shops = sample_points(technicians * stops + calls, rng)
    h = 3600
    routes = []
    for t, home in enumerate(homes):
        # each technician's stops: its nearest shops, in angular order around home
        mine = shops[t * stops:(t + 1) * stops]
        mine = sorted(mine, key=lambda p: math.atan2(p.lat - home.lat, p.lon - home.lon))
        routes.append(LiveRoute(f"T{t}", home, 9 * h, tuple(
            LiveStop(f"V{t}-{k}", p, 1200, (TimeWindow(9 * h, 13 * h), TimeWindow(16 * h, 21 * h)))
            for k, p in enumerate(mine)), frozen=1, end=home, shift_end=20 * h,
            skills=frozenset(FAMILIES[:2] if t % 2 else FAMILIES[1:])))
    times = []
    for c in range(calls):
        v = Visit(f"EM{c}", location=shops[technicians * stops + c], service=1800, kind="em",
                  sla_deadline=13 * h, skills=frozenset({FAMILIES[1]}))
        t0 = time.perf_counter()
        slot_options(routes, v)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"technicians": technicians, "stops": technicians * stops, "calls": calls,
            "p50_ms": round(1000 * times[len(times) // 2], 1),
            "p95_ms": round(1000 * times[min(len(times) - 1, int(0.95 * len(times)))], 1),
            "max_ms": round(1000 * times[-1], 1)}


# ---------------------------------------------------------------- city seed sweep
def parse_seeds(text: str) -> list[int]:
    """Seeds from ``"0-9"``, ``"0,3,5"`` or ``"0-2,7"``; a ValueError names the bad part."""
    out: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            a, b = (int(lo), int(hi)) if sep else (int(part), int(part))
        except ValueError:
            raise ValueError(f"seeds: {part!r} is not a seed or a range such as 0-9") from None
        if b < a:
            raise ValueError(f"seeds: {part!r} is an empty range")
        out.extend(s for s in range(a, b + 1) if s not in out)
    if not out:
        raise ValueError("seeds: no seed given")
    return out


def _spread(values: list) -> str:
    """``median (min–max)`` of ``values`` (the middle one for an odd count, the upper middle else)."""
    vs = sorted(values)
    med = vs[len(vs) // 2]
    return f"{med}" if vs[0] == vs[-1] else f"{med} ({vs[0]}–{vs[-1]})"


def meets_vroom(ours: dict, vroom: dict) -> bool:
    """Issue 19's city target for one run: at least VROOM's served priority with no more travel."""
    return ours["priority"] >= vroom["priority"] and ours["travel_h"] <= vroom["travel_h"]


def sweep_row(seed: int, view: str, runs: list[dict], vroom: dict | None) -> dict:
    """One line of the seed sweep: our runs of ``view`` on ``seed`` (median and min–max of each
    figure) beside VROOM's run of the same day, and how many of our runs meet the target."""
    row = {"seed": seed, "view": view, "runs": len(runs)}
    for key in ("served", "priority", "travel_h", "em_late_min", "wall_s"):
        row[key] = _spread([r[key] for r in runs])
    if vroom is not None:
        row.update({"vroom_served": vroom["served"], "vroom_priority": vroom["priority"],
                    "vroom_travel_h": vroom["travel_h"], "vroom_wall_s": vroom["wall_s"],
                    "meets": f"{sum(meets_vroom(r, vroom) for r in runs)}/{len(runs)}"})
    return row


SWEEP_KEYS = ("seed", "view", "runs", "served", "priority", "travel_h", "em_late_min", "wall_s",
              "vroom_served", "vroom_priority", "vroom_travel_h", "vroom_wall_s", "meets")


def markdown_sweep(rows: list[dict], title: str = "") -> str:
    """The seed sweep as a markdown table (VROOM's columns empty when it was not run)."""
    lines = ([f"**{title}**", ""] if title else []) + ["| " + " | ".join(SWEEP_KEYS) + " |",
                                                        "|" + "---|" * len(SWEEP_KEYS)]
    lines += ["| " + " | ".join(str(r.get(k, "–")) for k in SWEEP_KEYS) + " |" for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- small days
def small_days(count: int = 20, smallest: int = 10, largest: int = 50, seed: int = 0) -> list[Problem]:
    """``count`` synthetic small days generated like the city day (:func:`synth.city_day`), from
    ``smallest`` to ``largest`` visits evenly, one technician per 12 visits, seeds from ``seed``."""
    from .synth import city_day

    out = []
    for i in range(count):
        n = smallest + round((largest - smallest) * i / max(1, count - 1))
        out.append(city_day(n, max(1, round(n / 12)), seed + i))
    return out


def _small_row(problem: Problem, sol: Solution, wall: float) -> dict:
    return {"served": len(sol.served), "priority": sol.served_priority(problem), "travel_s": sol.travel_seconds,
            "wall_s": round(wall, 2), "cpu_s": sol.statistics.get("search_cpu_seconds"),
            "stopped": sol.statistics.get("stopped", "time limit"),
            "last_better_cpu_s": (sol.statistics.get("improvements") or [[None]])[-1][0]}


def same_result(quick: dict, reference: dict, travel_tolerance: float = 0.0) -> bool:
    """Whether ``quick`` serves what ``reference`` serves (visits and priority) with at most
    ``travel_tolerance`` (a fraction) more travel."""
    return (quick["served"] >= reference["served"] and quick["priority"] >= reference["priority"]
            and quick["travel_s"] <= reference["travel_s"] * (1 + travel_tolerance))


def bench_small_days(days: list[Problem], reference_limit: float = 30.0, params: SolveParams | None = None,
                     progress: Callable[[dict], None] | None = None) -> list[dict]:
    """Each day solved by :func:`solve_day` with ``params`` (default: the small-day stagnation
    rule, ``time_limit`` 30 s as the upper bound), then with the iterated local search running the
    whole ``reference_limit`` (no stagnation rule); one row per day with both results."""
    from .day import solve_day

    params = params or SolveParams(time_limit=reference_limit)
    # the reference searches the whole limit; a stagnation of more seconds than that never ends it
    # and lets the search report each better solution (the "improvements" trace)
    reference = replace(params, time_limit=reference_limit, stagnation=1e6, small_day_stagnation=None)
    rows = []
    for problem in days:
        row: dict = {"day": problem.name, "visits": len(problem.visits), "technicians": len(problem.technicians)}
        for label, p in (("quick", params), ("ref", reference)):
            t0 = time.perf_counter()
            sol = solve_day(problem, p)
            row[label] = _small_row(problem, sol, time.perf_counter() - t0)
        row["same"] = same_result(row["quick"], row["ref"])
        row["same_1pct"] = same_result(row["quick"], row["ref"], 0.01)
        rows.append(row)
        if progress:
            progress(row)
    return rows


def _dash(x: object) -> str:
    return "–" if x is None else str(x)


def markdown_small_days(rows: list[dict], title: str = "") -> str:
    """The small-day table: per day the quick and the reference result, and the counts that match."""
    head = ("| day | visits | techs | served | priority | travel min | wall s | CPU s | stopped "
            "| ref served | ref priority | ref travel min | ref wall s | ref CPU s | ref last better at CPU s | same |")
    lines = ([f"**{title}**", ""] if title else []) + [head, "|" + "---|" * 16]
    for r in rows:
        q, f = r["quick"], r["ref"]
        same = "yes" if r["same"] else ("≤ 1 % travel" if r["same_1pct"] else "no")
        lines.append(f"| {r['day']} | {r['visits']} | {r['technicians']} | {q['served']} | {q['priority']} | "
                     f"{round(q['travel_s'] / 60)} | {q['wall_s']} | {_dash(q['cpu_s'])} | "
                     f"{q['stopped']} | {f['served']} | {f['priority']} | {round(f['travel_s'] / 60)} | {f['wall_s']} | "
                     f"{_dash(f['cpu_s'])} | {_dash(f['last_better_cpu_s'])} | {same} |")
    walls = sorted(r["quick"]["wall_s"] for r in rows)
    if walls:
        lines += ["", f"{sum(r['same'] for r in rows)} of {len(rows)} days give the same result (served, priority, "
                      f"travel no more than the reference); {sum(r['same_1pct'] for r in rows)} within 1 % of its "
                      f"travel. Quick wall time: median {walls[len(walls) // 2]} s, max {walls[-1]} s; "
                      f"{sum(w <= 3 for w in walls)} of {len(walls)} within 3 s."]
    return "\n".join(lines)


def multi_town(problems: list[Problem], max_visits: int = 150) -> list[Problem]:
    """The days of at most ``max_visits`` visits whose technicians live in more than one town
    (:func:`fieldsvc.planner.partition.towns`): the days solved one model each before."""
    from .partition import towns

    return [p for p in problems if len(p.visits) <= max_visits and len(towns(p)) > 1]


def bench_towns(problems: list[Problem], time_per_visit: float = 0.08, runs: int = 3,
                progress: Callable[[dict], None] | None = None) -> list[dict]:
    """Each day solved as one model and town by town, ``runs`` times, one after the other: a part
    gets ``time_per_visit`` seconds per visit (at least 1 s), as the national benchmark's tasks.
    One row per run and way: served, priority, travel hours and seconds per served visit."""
    from .partition import merge, towns
    from .pm import solve

    rows = []
    for run in range(1, runs + 1):
        for way in ("one model", "town by town"):
            served = priority = travel = 0
            tick = time.perf_counter()
            for p in problems:
                parts = [p] if way == "one model" else towns(p)
                sol = merge(p, [solve(part, SolveParams(time_limit=max(1.0, time_per_visit * len(part.visits))))
                                for part in parts])
                served, priority, travel = served + len(sol.served), priority + sol.served_priority(p), travel + sol.travel_seconds
            row = {"run": run, "way": way, "days": len(problems), "visits": sum(len(p.visits) for p in problems),
                   "served": served, "priority_served": priority, "travel_hours": round(travel / 3600, 1),
                   "travel_seconds_per_served": round(travel / max(1, served)),
                   "wall_seconds": round(time.perf_counter() - tick, 1)}
            rows.append(row)
            if progress:
                progress(row)
    return rows


def markdown_towns(rows: list[dict], title: str = "") -> str:
    """Median (min–max) of every figure, one line per way of solving."""
    lines = [f"**{title}**", ""] if title else []
    lines += ["| way | runs | served | priority | travel h | travel s / served visit | wall s |", "|---|---|---|---|---|---|---|"]
    for way in dict.fromkeys(r["way"] for r in rows):
        mine = [r for r in rows if r["way"] == way]
        cells = [_spread([r[k] for r in mine]) for k in ("served", "priority_served", "travel_hours",
                                                          "travel_seconds_per_served", "wall_seconds")]
        lines.append(f"| {way} | {len(mine)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
