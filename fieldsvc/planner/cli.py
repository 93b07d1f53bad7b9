"""Click commands ``solve`` and ``bench`` (registered in the top-level ``fieldsvc`` group)."""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import click

from .params import SolveParams


@click.command("solve")
@click.argument("problem_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the solution here (default: stdout).")
@click.option("--time-limit", type=float, default=10.0, show_default=True, help="Solver time limit in seconds.")
@click.option("--max-part-visits", type=int, default=150, show_default=True, help="Split bigger days into territories.")
@click.option("--check", is_flag=True,
              help="Do not optimise: evaluate the vehicles' given steps (VROOM's plan mode). "
                   "Exit status 0 if the plan is feasible, 1 if it violates a constraint.")
def solve(problem_file: Path, output: Path | None, time_limit: float, max_part_visits: int, check: bool) -> None:
    """Solve a VROOM-style PROBLEM_FILE and write a VROOM-style solution.

    Bad input, or a model OR-Tools cannot build, prints the reason and exits with status 2.
    """
    from .day import solve_day
    from .plan_check import check_plan, check_to_dict
    from .vroom_json import params_with_options, read_problem, solution_to_dict

    try:
        problem, options = read_problem(problem_file)
        params = params_with_options(replace(SolveParams(), time_limit=time_limit), options)
        if check:
            result = check_plan(problem, params)
        else:
            sol = solve_day(problem, params, max_part_visits=max_part_visits)
    except ValueError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    if check:
        text = json.dumps(check_to_dict(result), indent=1, default=str)
        if output:
            output.write_text(text)
        else:
            click.echo(text)
        verdict = "feasible" if result.feasible else f"infeasible ({', '.join(result.violations)})"
        click.echo(f"plan {verdict}, cost {result.cost}", err=True)
        sys.exit(0 if result.feasible else 1)
    text = json.dumps(solution_to_dict(sol, problem), indent=1, default=str)
    if output:
        output.write_text(text)
        click.echo(f"{len(sol.served)} visits served, {len(sol.unassigned)} unassigned -> {output}", err=True)
    else:
        click.echo(text)


@click.group("bench")
def bench() -> None:
    """Planner benchmarks side by side with peers (PyVRP, pyvroom)."""


def _compare(value: str) -> tuple[str, ...]:
    out = tuple(x.strip() for x in value.split(",") if x.strip())
    for x in out:
        if x not in ("pyvrp", "vroom"):
            raise click.BadParameter(f"unknown peer {x!r} (pyvrp, vroom)", param_hint="--compare")
    return out


SEARCHES = {"ils": "ITERATED_LOCAL_SEARCH", "gls": "GUIDED_LOCAL_SEARCH"}
search_option = click.option("--search", type=click.Choice(sorted(SEARCHES)), default="ils", show_default=True,
                             help="Our metaheuristic: iterated local search (ruin and recreate) or guided local search.")


@bench.command("solomon")
@click.option("--instances", "directory", default=None,
              help="Folder of .vrp/.sol files (default: $FIELDSVC_SHARED_DATA/vrptw/solomon, "
                   "FIELDSVC_SHARED_DATA defaulting to ../shared/data).")
@click.option("--time-limit", type=float, default=10.0, show_default=True)
@click.option("--compare", default="", help="Comma list of peers: pyvrp,vroom")
@click.option("--only", default="", help="Comma list of instance names (default: all).")
@click.option("--markdown", "md_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write a markdown table.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write raw rows as JSON.")
@search_option
def bench_solomon_cmd(directory: str | None, time_limit: float, compare: str, only: str, md_out: Path | None,
                      json_out: Path | None, search: str) -> None:
    """Solomon VRPTW: distance, vehicles and gap to the best known, per solver."""
    from . import bench as b
    from . import solomon

    names = [x for x in only.split(",") if x] or None
    paths = solomon.instances(directory, names)
    if not paths:
        where = Path(directory).resolve() if directory else solomon.DEFAULT_DIR
        raise click.ClickException(
            f"no .vrp instances{' named ' + only if only else ''} in {where}: point --instances at a folder of "
            "Solomon/VRPLIB files, or set FIELDSVC_SHARED_DATA to the folder holding vrptw/solomon/")
    peers = _compare(compare)
    def step(row: dict) -> None:
        bar.update(1)
        if json_out:  # rows so far, so a long run can be watched and survives an interruption
            with json_out.with_suffix(".partial.jsonl").open("a") as fh:
                fh.write(json.dumps(row.__dict__) + "\n")

    with click.progressbar(length=len(paths) * (1 + len(peers)), label="solomon", file=sys.stderr) as bar:
        rows = b.bench_solomon(directory, time_limit, peers, names, progress=step,
                               params=SolveParams(metaheuristic=SEARCHES[search]))
    md = b.markdown_solomon(rows)
    click.echo(md)
    if md_out:
        md_out.write_text(md + "\n")
    if json_out:
        json_out.write_text(json.dumps([r.__dict__ for r in rows], indent=1))


@bench.command("city")
@click.option("--visits", type=int, default=600, show_default=True)
@click.option("--technicians", type=int, default=40, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--time-limit", type=float, default=60.0, show_default=True)
@click.option("--compare", default="", help="vroom")
@click.option("--exploration", type=int, default=5, show_default=True, help="VROOM exploration level.")
@click.option("--threads", type=int, default=2, show_default=True, help="Worker processes / VROOM threads.")
@click.option("--max-part-visits", type=int, default=150, show_default=True)
@click.option("--plain", is_flag=True, help="Also run one OR-Tools model of the whole day (the baseline).")
@click.option("--vroom-view", is_flag=True,
              help="Also solve the day as VROOM sees it (no SLA deadlines): the identical problem.")
@click.option("--runs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Solve our rows this many times; the table shows the median run and the ranges.")
@click.option("--matrix-only", is_flag=True,
              help="Give every solver the day as duration/distance matrices with location_index only.")
@click.option("--seeds", default=None, metavar="0-9",
              help="Sweep these seeds (a range and/or a comma list) in both views (see --views): one "
                   "table line per seed and view, median and min–max of --runs runs, VROOM beside it.")
@click.option("--views", default="coords,matrix", show_default=True,
              help="With --seeds: coords (coordinates), matrix (matrices with location_index only), or both.")
@click.option("--markdown", "md_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="With --seeds: every run as JSON (also appended to FILE.partial.jsonl as it goes).")
@search_option
def bench_city_cmd(visits: int, technicians: int, seed: int, time_limit: float, compare: str, exploration: int,
                   threads: int, max_part_visits: int, plain: bool, vroom_view: bool, runs: int, matrix_only: bool,
                   seeds: str | None, views: str, md_out: Path | None, json_out: Path | None, search: str) -> None:
    """A synthetic Tehran day: served visits, served priority, travel and wall time per solver."""
    from . import bench as b
    from .synth import city_day

    if seeds is not None:
        _city_sweep(visits, technicians, seeds, "matrix" if matrix_only else views, time_limit, compare, exploration,
                    threads, max_part_visits, runs, md_out, json_out, search)
        return
    problem = city_day(visits, technicians, seed)
    if matrix_only:
        problem = b.matrix_only(problem)
    rows = []
    if plain:
        rows.append(b.city_plain(problem, time_limit))
        click.echo(f"plain: {rows[-1]}", err=True)
    params = SolveParams(metaheuristic=SEARCHES[search])
    views = [("fieldsvc", True)] + ([("fieldsvc, no deadlines", False)] if vroom_view else [])
    for label, deadlines in views:
        ours = []
        for _ in range(runs):
            ours.append(b.city_ours(problem, time_limit, params, label, deadlines=deadlines,
                                    workers=threads, max_part_visits=max_part_visits))
            click.echo(f"{label}: {ours[-1]}", err=True)
        rows.append(b.median_run(ours))
    if "vroom" in _compare(compare):
        rows.append(b.city_vroom(problem, exploration, threads))
        click.echo(f"vroom: {rows[-1]}", err=True)
    view = ", matrix only" if matrix_only else ""
    md = b.markdown_city(rows, f"{visits} visits / {technicians} technicians, seed {seed}{view}, limit {time_limit:g} s")
    click.echo(md)
    if md_out:
        md_out.write_text(md + "\n")


def _city_sweep(visits: int, technicians: int, seeds: str, views: str, time_limit: float, compare: str,
                exploration: int, threads: int, max_part_visits: int, runs: int, md_out: Path | None,
                json_out: Path | None, search: str) -> None:
    """``bench city --seeds``: every seed in every view, ``runs`` runs each, VROOM once per seed."""
    import time

    from . import bench as b
    from .synth import city_day

    try:
        seed_list = b.parse_seeds(seeds)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--seeds") from None
    view_list = [v.strip() for v in views.split(",") if v.strip()]
    bad = [v for v in view_list if v not in ("coords", "matrix")]
    if bad or not view_list:
        raise click.BadParameter(f"{', '.join(bad) or 'nothing'}: views are coords and matrix", param_hint="--views")
    params = SolveParams(metaheuristic=SEARCHES[search])
    with_vroom = "vroom" in _compare(compare)
    partial = json_out.with_suffix(".partial.jsonl") if json_out else None
    rows, raw = [], []
    t0 = time.perf_counter()

    def keep(record: dict) -> None:
        raw.append(record)
        click.echo(json.dumps(record), err=True)
        if partial:
            with partial.open("a") as fh:
                fh.write(json.dumps(record) + "\n")

    for s in seed_list:
        day = city_day(visits, technicians, s)
        vroom = None
        if with_vroom:
            vroom = b.city_vroom(day, exploration, threads)
            keep({"seed": s, "view": "coords", **vroom})
        for view in view_list:
            problem = b.matrix_only(day) if view == "matrix" else day
            ours = []
            for _ in range(runs):
                ours.append(b.city_ours(problem, time_limit, params, "fieldsvc", workers=threads,
                                        max_part_visits=max_part_visits))
                keep({"seed": s, "view": view, **ours[-1]})
            rows.append(b.sweep_row(s, view, ours, vroom))
    vroom_note = f", VROOM x{exploration} (one run per seed, on the coordinates' identical matrices)" if with_vroom else ""
    md = b.markdown_sweep(rows, f"{visits} visits / {technicians} technicians, seeds {seeds}, {runs} run(s) per "
                                f"seed and view, limit {time_limit:g} s{vroom_note}; sweep took "
                                f"{round(time.perf_counter() - t0)} s")
    click.echo(md)
    if md_out:
        md_out.write_text(md + "\n")
    if json_out:
        json_out.write_text(json.dumps({"rows": rows, "runs": raw}, indent=1))


@bench.command("small-days")
@click.option("--days", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--smallest", type=click.IntRange(min=1), default=10, show_default=True, help="Visits of the smallest day.")
@click.option("--largest", type=click.IntRange(min=1), default=50, show_default=True, help="Visits of the largest day.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the first day (the next ones count up).")
@click.option("--time-limit", type=float, default=30.0, show_default=True,
              help="The upper bound of the quick solve and the search time of the reference solve.")
@click.option("--stagnation", type=click.FloatRange(min=0.01), default=None,
              help="Seconds of search without a better solution that end a small day (default: SolveParams').")
@click.option("--markdown", "md_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path))
def bench_small_days_cmd(days: int, smallest: int, largest: int, seed: int, time_limit: float,
                         stagnation: float | None, md_out: Path | None, json_out: Path | None) -> None:
    """Small days (10–50 visits, like the city day): the default solve, which stops when it stops
    improving, against the search running the whole time limit; per day served, priority, travel,
    time, and how many match."""
    from . import bench as b

    if largest < smallest:
        raise click.BadParameter(f"{largest} is below --smallest {smallest}", param_hint="--largest")
    params = SolveParams(time_limit=time_limit)
    if stagnation is not None:
        params = replace(params, small_day_stagnation=stagnation)
    rows = b.bench_small_days(b.small_days(days, smallest, largest, seed), time_limit, params,
                              progress=lambda row: click.echo(json.dumps(row), err=True))
    stag = params.small_day_stagnation
    md = b.markdown_small_days(rows, f"{days} small days ({smallest}–{largest} visits, seeds {seed}–{seed + days - 1}): "
                                     f"default (stagnation {stag:g} s of search, limit {time_limit:g} s) against "
                                     f"{time_limit:g} s of search")
    click.echo(md)
    if md_out:
        md_out.write_text(md + "\n")
    if json_out:
        json_out.write_text(json.dumps(rows, indent=1))


@bench.command("national")
@click.option("--visits", type=click.IntRange(min=1), default=20000, show_default=True)
@click.option("--technicians", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS",
              help="Dask scheduler (tcp://host:8786), or 'local' for a LocalCluster of --workers processes "
                   "(default: a local process pool).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Processes of the local pool or of the local Dask cluster.")
@click.option("--time-per-visit", type=click.FloatRange(min=0.001), default=0.08, show_default=True,
              help="Worker-seconds of search per visit (the 1,500-visit city day at 120 s on 2 workers has 0.16).")
@click.option("--shared-cities", is_flag=True,
              help="Contractors each work across the whole of their cities, overlapping one another "
                   "(default: each covers a zone of its province).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--markdown", "md_out", type=click.Path(dir_okay=False, path_type=Path))
def bench_national_cmd(visits: int, technicians: int, seed: int, dask_address: str | None, workers: int,
                       time_per_visit: float, shared_cities: bool, json_out: Path | None,
                       md_out: Path | None) -> None:
    """A synthetic country day: provinces by population, contractors per province, territories as
    tasks (on Dask with --dask); served visits and priority, travel per visit, wall time and the
    driver's memory per stage."""
    import time
    from concurrent.futures import ProcessPoolExecutor

    from . import national as nat

    stages: list[nat.Stage] = []
    tick = time.perf_counter()
    try:
        regions = nat.country_day(visits, technicians, seed, shared_cities=shared_cities)
    except (FileNotFoundError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    stages.append(nat.Stage("generate and split by contractor × province", round(time.perf_counter() - tick, 2),
                            nat.peak_rss_mb(), len(regions)))
    cluster = pool = None
    if dask_address:
        from .cluster import DaskPool

        if dask_address == "local":
            from distributed import LocalCluster

            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            dask_address = cluster.scheduler_address
        try:
            pool = DaskPool(dask_address)
        except ConnectionError as e:
            raise click.ClickException(str(e)) from None
        executor, where = pool.executor(), f"Dask {dask_address} ({pool.workers()} worker threads)"
    else:
        executor, where = ProcessPoolExecutor(max_workers=workers), f"local pool of {workers} processes"
    click.echo(f"{len(regions)} regions, {visits} visits, {technicians} technicians on {where}", err=True)
    with click.progressbar(length=100, label="national", file=sys.stderr) as bar:
        def progress(stage: str, done: int, total: int) -> None:
            bar.label = f"{stage} {done}/{total}"
            bar.update(0)
        try:
            result = nat.solve_country(regions, executor, time_per_visit, progress=progress, stages=stages)
        finally:
            if pool is not None:
                pool.close()
            else:
                executor.shutdown()
            if cluster is not None:
                cluster.close()
    summary = result.summary()
    summary.update({"executor": where, "workers": workers, "time_per_visit": time_per_visit, "seed": seed,
                    "contractors": "shared cities" if shared_cities else "zones"})
    md = nat.markdown(summary, f"{visits} visits / {technicians} technicians, seed {seed}, {where}, "
                               f"{time_per_visit:g} worker-s per visit, contractors in {summary['contractors']}")
    click.echo(md)
    if md_out:
        md_out.write_text(md + "\n")
    if json_out:
        json_out.write_text(json.dumps(summary, indent=1))


@bench.command("city-shared")
@click.option("--visits", type=click.IntRange(min=1), default=1500, show_default=True)
@click.option("--technicians", type=click.IntRange(min=1), default=75, show_default=True)
@click.option("--contractors", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--time-per-visit", type=click.FloatRange(min=0.001), default=0.08, show_default=True,
              help="Worker-seconds of search per visit (as bench national).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path))
def bench_city_shared_cmd(visits: int, technicians: int, contractors: int, seed: int, workers: int,
                          time_per_visit: float, json_out: Path | None) -> None:
    """The synthetic city day shared by several contractors who each cover the whole city (as in
    a national day's big cities), each contractor's day solved on its own."""
    from . import national as nat
    from .synth import city_day

    try:
        out = nat.solve_shared(city_day(visits, technicians, seed), contractors, time_per_visit, workers, seed)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{visits} visits / {technicians} technicians shared by {contractors} contractors: served "
               f"{out['served']} ({out['served'] / visits:.1%}; the caps allow {out['servable_by_visit_caps']}), "
               f"priority {out['priority_served']} of {out['priority_total']}, "
               f"{out['travel_seconds_per_served']:.0f} s travel per served visit, {out['wall_seconds']:.0f} s")
    if json_out:
        json_out.write_text(json.dumps(out, indent=1))


@bench.command("towns")
@click.option("--visits", type=click.IntRange(min=1), default=20000, show_default=True)
@click.option("--technicians", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--time-per-visit", type=click.FloatRange(min=0.001), default=0.08, show_default=True,
              help="Seconds of search per visit (as bench national).")
@click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path))
def bench_towns_cmd(visits: int, technicians: int, seed: int, time_per_visit: float, runs: int,
                    json_out: Path | None) -> None:
    """The national day's contractors of at most 150 visits whose technicians live in several
    towns: each solved as one model and town by town, one after the other."""
    from . import bench as b
    from . import national as nat

    try:
        regions = nat.country_day(visits, technicians, seed)
    except (FileNotFoundError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    days = b.multi_town([r.problem for r in regions])
    if not days:
        raise click.ClickException(f"no contractor of this day ({len(regions)}) has technicians in several towns")
    click.echo(f"{len(days)} of {len(regions)} contractors span towns: "
               + ", ".join(f"{p.name} ({len(p.visits)} visits)" for p in days), err=True)
    rows = b.bench_towns(days, time_per_visit, runs, progress=lambda row: click.echo(json.dumps(row), err=True))
    click.echo(b.markdown_towns(rows, f"{len(days)} multi-town contractors of the national day {visits} / "
                                      f"{technicians}, seed {seed}, {time_per_visit:g} s per visit, {runs} runs"))
    if json_out:
        json_out.write_text(json.dumps(rows, indent=1))


@bench.command("em")
@click.option("--technicians", type=int, default=40, show_default=True)
@click.option("--stops", type=int, default=15, show_default=True, help="Stops per technician.")
@click.option("--calls", type=int, default=50, show_default=True)
def bench_em_cmd(technicians: int, stops: int, calls: int) -> None:
    """EM slotting latency on a synthetic live day (p50/p95/max milliseconds)."""
    from . import bench as b

    click.echo(json.dumps(b.em_timing(technicians, stops, calls)))
