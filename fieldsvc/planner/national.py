"""A synthetic national day (a country's PSP: many contractors per province) and its staged solve.

The country: visits fall in the 31 provinces of ``geo/iran_provinces.osm.min.geojson`` in
proportion to their population (2016 census, :data:`PROVINCE_POPULATION`), around the cities of
the gazetteer ``geo/iran_cities_2025-01-18.json`` (the province capital takes
:data:`CAPITAL_SHARE` of its province, the county seats share the rest, each city spread over the
area its population needs, :data:`KM2_PER_PERSON`), both under ``$FIELDSVC_SHARED_DATA``. Each
province has two to five contractors, each covering a zone of it; the technicians are shared out by
visits (every region has the country's visits per technician), homes in the same cities, and
every city's team covers the terminal families. Visits and technicians are the
city day's mix (:func:`fieldsvc.planner.synth.visits_at`, :func:`~fieldsvc.planner.synth.technicians_at`).

The solve, stage by stage: every (province, contractor) region is a day of its own; a region
above ``max_part_visits`` is split into territories (:func:`fieldsvc.planner.partition.split`),
every territory is one task on the executor (a local process pool or a Dask cluster), then each
split region's regrouping rounds are one task. Matrices are built inside the tasks, per
territory or group: the driver never holds more than a region's positions. The search budget is
``time_per_visit`` worker-seconds per visit (shared between territories and regrouping as in
:func:`~fieldsvc.planner.partition.solve_partitioned`), so the work is fixed and the wall time
falls with the number of workers.
"""
from __future__ import annotations

import json
import math
import os
import resource
import time
from collections import Counter
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .params import SolveParams
from .partition import IMPROVE_SHARE, ROUNDS, _recost, improve, merge, split, towns
from .problem import Point, Problem, Technician
from .solution import Solution
from .synth import FAMILIES, REPO_ROOT, technicians_at, visits_at



def geo_dir() -> Path:
    """``$FIELDSVC_SHARED_DATA/geo`` (default ``../shared/data/geo`` beside the repository)."""
    return Path(os.environ.get("FIELDSVC_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve() / "geo"


PROVINCES_FILE = "iran_provinces.osm.min.geojson"
CITIES_FILE = "iran_cities_2025-01-18.json"

#: Province populations of the 2016 (1395) national census of the Statistical Centre of Iran,
#: keyed by the ``name:en`` of the provinces file. The shared geodata carry no population
#: (``geo/iran_provinces_2025-01-18.json`` has names, phone codes and centres only), so these are
#: the census figures as tabulated in Wikipedia's "Provinces of Iran" (population column, source
#: SCI 2016); checked on 2026-11-30 against that table (Alborz to Kerman) and two other
#: published copies of the census table (the rest; where those copies disagree, Wikipedia's).
PROVINCE_POPULATION = {
    "Tehran": 13_267_637, "Razavi Khorasan": 6_434_501, "Isfahan": 5_120_850, "Fars": 4_851_274,
    "Khuzestan": 4_710_509, "East Azerbaijan": 3_909_652, "Mazandaran": 3_283_582,
    "West Azerbaijan": 3_265_219, "Kerman": 3_164_718, "Sistan and Baluchestan": 2_775_014,
    "Alborz": 2_712_400, "Gilan": 2_530_696, "Kermanshah": 1_952_434, "Golestan": 1_868_819,
    "Hormozgan": 1_776_415, "Lorestan": 1_760_649, "Hamadan": 1_738_234, "Kurdistan": 1_603_011,
    "Markazi": 1_429_475, "Qom": 1_292_283, "Qazvin": 1_273_761, "Ardabil": 1_270_420,
    "Bushehr": 1_163_400, "Yazd": 1_138_533, "Zanjan": 1_057_461, "Chaharmahal and Bakhtiyari": 947_763,
    "North Khorasan": 863_092, "South Khorasan": 768_898, "Kohgiluye and Buyer Ahmad": 713_052,
    "Semnan": 702_360, "Ilam": 580_158,
}
#: Province capitals as the gazetteer spells them (first match inside the province wins).
CAPITALS = {
    "Tehran": ("Tehran",), "Razavi Khorasan": ("Mashhad",), "Isfahan": ("Isfahan",), "Fars": ("Shiraz",),
    "Khuzestan": ("Ahvaz", "Ahwaz"), "East Azerbaijan": ("Tabriz",), "Mazandaran": ("Sari",),
    "West Azerbaijan": ("Urmia",), "Kerman": ("Kerman",), "Sistan and Baluchestan": ("Zahedan",),
    "Alborz": ("Karaj",), "Gilan": ("Rasht",), "Kermanshah": ("Kermanshah",), "Golestan": ("Gorgan",),
    "Hormozgan": ("Bandar Abbas",), "Lorestan": ("Khorramabad",), "Hamadan": ("Hamadan", "Hamedan"),
    "Kurdistan": ("Sanandaj",), "Markazi": ("Arak",), "Qom": ("Qom",), "Qazvin": ("Qazvin",),
    "Ardabil": ("Ardabil",), "Bushehr": ("Bushehr",), "Yazd": ("Yazd",), "Zanjan": ("Zanjan",),
    "Chaharmahal and Bakhtiyari": ("Shahr-e Kord", "Shahrekord", "Shahr-e Kurd"),
    "North Khorasan": ("Bojnord", "Bojnurd"), "South Khorasan": ("Birjand",),
    "Kohgiluye and Buyer Ahmad": ("Yasuj",), "Semnan": ("Semnan",), "Ilam": ("Ilam",),
}
#: Share of a province's visits around its capital.
CAPITAL_SHARE = 0.45
#: Built-up area per inhabitant, km²: Tehran County (the city day's polygon, 1,283 km²) for its
#: 8,737,510 inhabitants (2016 census). A city's visits spread over the area its population
#: needs (a two-standard-deviation disc), so a county seat is a small town and every city has
#: the city day's terminals per km² when the country has its visits per inhabitant.
KM2_PER_PERSON = 1283.0 / 8_737_510


@dataclass(frozen=True)
class City:
    name: str
    lat: float
    lon: float
    kind: str  # capital, county, town


@dataclass(frozen=True)
class Province:
    name: str
    population: int
    cities: tuple[City, ...]


@dataclass(frozen=True)
class Region:
    """One contractor's day in one province: the unit the national day is split into."""

    province: str
    contractor: str
    problem: Problem


def load_provinces(directory: str | Path | None = None) -> list[Province]:
    """The provinces with their gazetteer cities (cities with no coordinates, or outside every
    province polygon, are left out). FileNotFoundError names the folder and the files it needs."""
    import shapely
    from shapely.geometry import shape

    geo = Path(directory) if directory else geo_dir()
    missing = [f for f in (PROVINCES_FILE, CITIES_FILE) if not (geo / f).exists()]
    if missing:
        raise FileNotFoundError(
            f"the national benchmark needs {', '.join(missing)} in {geo}: set FIELDSVC_SHARED_DATA to the "
            "folder that holds geo/ (the provinces of OpenStreetMap and the gazetteer's cities)")
    features = json.loads((geo / PROVINCES_FILE).read_text())["features"]
    names = [f["properties"].get("name:en", "") for f in features]
    unknown = sorted(set(names) - set(PROVINCE_POPULATION))
    if unknown:
        raise ValueError(f"{geo / PROVINCES_FILE}: no population for province(s) {', '.join(unknown)}")
    polygons = [shape(f["geometry"]) for f in features]
    cities: dict[str, list[City]] = {n: [] for n in names}
    raw = json.loads((geo / CITIES_FILE).read_text())
    rows = []
    for row in raw.values():
        try:
            rows.append((float(row["lat"]), float(row["lon"]), row.get("en_name") or row.get("name") or "",
                         bool(row.get("is_county"))))
        except (TypeError, ValueError):
            continue  # no coordinates
    lat = np.array([r[0] for r in rows])
    lon = np.array([r[1] for r in rows])
    for name, poly in zip(names, polygons):
        inside = shapely.contains_xy(poly, lon, lat)
        caps = {c.lower() for c in CAPITALS.get(name, ())}
        capital_found = False
        for i in np.flatnonzero(inside):
            la, lo, city, county = rows[i]
            kind = "county" if county else "town"
            if not capital_found and city.lower() in caps:
                kind, capital_found = "capital", True
            cities[name].append(City(city, la, lo, kind))
    return [Province(n, PROVINCE_POPULATION[n], tuple(cities[n])) for n in names if cities[n]]


def _shares(weights: np.ndarray, total: int) -> np.ndarray:
    """``total`` shared out in proportion to ``weights`` (largest remainders)."""
    exact = weights / weights.sum() * total
    out = np.floor(exact).astype(int)
    out[np.argsort(out - exact)[: total - out.sum()]] += 1
    return out


def _shares_at_least(weights: np.ndarray, total: int, floor: int) -> np.ndarray:
    """``total`` shared out in proportion to ``weights`` with at least ``floor`` each: the parts
    the proportion would leave below ``floor`` get ``floor``, the others share the rest in
    proportion (so the load per unit of weight is as even as the floor allows)."""
    weights = np.asarray(weights, dtype=float)
    fixed = np.zeros(len(weights), dtype=bool)
    while True:
        out = np.full(len(weights), floor, dtype=int)
        rest = total - floor * int(fixed.sum())
        free = ~fixed
        if not free.any():
            return out
        w = weights[free] if weights[free].sum() > 0 else np.ones(int(free.sum()))
        out[free] = _shares(w, rest)
        low = free & (out < floor)
        if not low.any():
            return out
        fixed |= low


def _city_weights(province: Province) -> np.ndarray:
    """The capital takes CAPITAL_SHARE, the other county seats share the rest (small towns get
    no terminals of their own in this model: their shops are served from the county seat)."""
    cities = province.cities
    seats = np.array([1.0 if c.kind == "county" else 0.0 for c in cities])
    has_capital = any(c.kind == "capital" for c in cities)
    if seats.sum() == 0 and not has_capital:
        seats[:] = 1.0  # a province known only by its towns
    weights = seats / max(1.0, seats.sum()) * ((1 - CAPITAL_SHARE) if has_capital and seats.sum() else 1.0)
    for i, c in enumerate(cities):
        if c.kind == "capital":
            weights[i] = CAPITAL_SHARE if seats.sum() else 1.0
    return weights


def spread_km(population: float) -> float:
    """Standard deviation (km) of the positions around a city of ``population`` inhabitants: the
    disc of two standard deviations has the area :data:`KM2_PER_PERSON` gives them."""
    return math.sqrt(max(population, 1.0) * KM2_PER_PERSON / (4 * math.pi))


def _around(city: City, n: int, rng: np.random.Generator, sigma_km: float) -> list[Point]:
    out = []
    for _ in range(n):
        dy, dx = rng.normal(0, sigma_km, 2)
        out.append(Point(city.lat + dy / 111.32, city.lon + dx / (111.32 * math.cos(math.radians(city.lat)))))
    return out


def _contractor_points(province: Province, n_visits: int, n_techs: int, rng: np.random.Generator
                       ) -> tuple[list[Point], list[int], list[Point], list[int]]:
    """Technician homes, the city of each home, visit positions and the city of each: technicians
    stationed in pairs in the cities (drawn by city weight), visits in those cities in proportion
    to their technicians (technicians live where the work is)."""
    weights = _city_weights(province)
    pairs = max(1, n_techs // 2)
    per_city = np.bincount(rng.choice(len(weights), size=pairs, p=weights / weights.sum()),
                           minlength=len(weights)) * 2
    per_city[np.argmax(per_city)] += n_techs - per_city.sum()  # an odd technician
    staffed = np.flatnonzero(per_city > 0)
    visits_per_city = _shares(per_city[staffed].astype(float), n_visits)
    homes: list[Point] = []
    city_of: list[int] = []
    spots: list[Point] = []
    spot_city: list[int] = []
    for i, nv in zip(staffed, visits_per_city):
        sigma = spread_km(province.population * weights[i] / weights.sum())
        homes += _around(province.cities[i], int(per_city[i]), rng, sigma)
        city_of += [int(i)] * int(per_city[i])
        spots += _around(province.cities[i], int(nv), rng, sigma)
        spot_city += [int(i)] * int(nv)
    order = rng.permutation(len(spots))  # visit ids do not follow the cities
    return homes, city_of, [spots[k] for k in order], [spot_city[k] for k in order]


def _cover_families(techs: list[Technician], city_of: list[int]) -> list[Technician]:
    """Every city's team can service every terminal family: where the drawn skills of a city's
    technicians leave a family out, its first technician gets all families (a contractor does
    not station a team that must call a colleague from another city for a third of its shops)."""
    out = list(techs)
    for city in dict.fromkeys(city_of):
        team = [k for k, c in enumerate(city_of) if c == city]
        if frozenset().union(*(out[k].skills for k in team)) != frozenset(FAMILIES):
            out[team[0]] = replace(out[team[0]], skills=frozenset(FAMILIES))
    return out


def country_day(n_visits: int, n_technicians: int, seed: int = 0, em_share: float = 0.08,
                directory: str | Path | None = None, shared_cities: bool = False) -> list[Region]:
    """A national day of ``n_visits`` visits and ``n_technicians`` technicians, as regions
    (at least four technicians per province: two contractors of two).

    Technicians follow the visits: provinces and contractors get technicians in proportion to
    their visits (above those floors), so every region has the country's visits per technician
    and the day is as servable as a city day with the same ratio.  The contractors of a province
    cover zones of it, as a contract names the regions it covers (:func:`_zones`: a big city is
    shared by sectors); with ``shared_cities`` each contractor instead works across the whole of
    every city it is stationed in, overlapping the others (the earlier generator)."""
    rng = np.random.default_rng(seed)
    provinces = load_provinces(directory)
    if n_visits < 1 or n_technicians < 4 * len(provinces):
        raise ValueError(f"a national day needs visits and at least four technicians per province "
                         f"(--technicians {4 * len(provinces)} or more)")
    pops = np.array([p.population for p in provinces], dtype=float)
    visits_per = _shares(pops, n_visits)
    techs_per = _shares_at_least(visits_per, n_technicians, 4)
    regions = []
    for k, (p, nv, nt) in enumerate(zip(provinces, visits_per, techs_per), 1):
        contractors = int(min(np.clip(round(nv / 300), 2, 5), nt // 2))
        weights = rng.uniform(0.6, 1.4, contractors)
        cv = _shares(weights, int(nv))
        ct = _shares_at_least(cv, int(nt), 2)
        code = f"P{k:02d}"
        zones = None if shared_cities else _zones(*_contractor_points(p, int(nv), int(nt), rng), cv, ct, seed)
        for j in range(contractors):
            if not (len(zones[j][2]) if zones else cv[j]):
                continue  # a contractor without visits this day
            prefix = f"{code}{j + 1}-"
            homes, city_of, spots = zones[j] if zones else _contractor_points(p, int(cv[j]), int(ct[j]), rng)[:3]
            techs = _cover_families(technicians_at(homes, rng, prefix=prefix + "T"), city_of)
            visits = visits_at(spots, rng, em_share, prefix=prefix + "V", merchant_prefix=prefix + "M")
            regions.append(Region(p.name, f"{code}{j + 1}",
                                  Problem(tuple(techs), tuple(visits), name=f"{p.name}/{code}{j + 1}")))
    return regions


def _zones(homes: list[Point], city_of: list[int], spots: list[Point], spot_city: list[int], visits: np.ndarray,
           techs: np.ndarray, seed: int) -> list[tuple[list[Point], list[int], list[Point]]]:
    """A province's homes and visit positions cut into one zone per contractor: zone ``j`` gets
    ``techs[j]`` technicians (k-means centres of the visits in ``visits`` shares, then
    least-distance assignments of the homes within those sizes, as territories are cut; a big
    city is shared by sectors), and each city's visits are shared among the zones stationed in it
    in proportion to their technicians there, each visit to the zone with a home nearest it: a
    contractor works in the towns its technicians live in, with the country's visits per
    technician. Per zone: its homes, their cities and its visit positions."""
    from ._ortools import assign_capacitated
    from .partition import _distances, kmeans

    lat0 = float(np.mean([p.lat for p in spots])) if spots else 0.0

    def km(points: list[Point]) -> np.ndarray:
        return np.array([(p.lat * 111.32, p.lon * 111.32 * math.cos(math.radians(lat0))) for p in points])

    k = len(visits)
    vxy, hxy = km(spots), km(homes)
    _, cent = kmeans(vxy, k, seed)
    vzone = assign_capacitated(_distances(vxy * 1000, cent * 1000), np.asarray(visits))
    cent = np.array([vxy[vzone == j].mean(0) if np.any(vzone == j) else cent[j] for j in range(k)])
    hzone = assign_capacitated(_distances(hxy * 1000, cent * 1000), np.asarray(techs))
    homes_city, spots_city = np.asarray(city_of), np.asarray(spot_city)
    for c in np.unique(spots_city):
        at, here = np.flatnonzero(spots_city == c), homes_city == c
        share = _shares(np.bincount(hzone[here], minlength=k).astype(float), len(at))
        near = np.stack([_distances(vxy[at] * 1000, hxy[here & (hzone == j)] * 1000).min(axis=1)
                         if share[j] else np.zeros(len(at), dtype=np.int64) for j in range(k)], axis=1)
        vzone[at] = assign_capacitated(near, share)
    return [([h for h, z in zip(homes, hzone) if z == j], [c for c, z in zip(city_of, hzone) if z == j],
             [v for v, z in zip(spots, vzone) if z == j]) for j in range(k)]


# --------------------------------------------------------------------------- the staged solve


@dataclass
class Stage:
    name: str
    wall_seconds: float
    peak_rss_mb: float
    tasks: int = 0
    served: int | None = None
    travel_seconds_per_served: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class NationalResult:
    regions: list[Region]
    solutions: list[Solution]
    stages: list[Stage] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The figures of the benchmark (the keys of ``--json``)."""
        by_id = {v.id: v for r in self.regions for v in r.problem.visits}
        served = [v for s in self.solutions for v in s.served]
        travel = sum(s.travel_seconds for s in self.solutions)
        reasons = Counter(u.reason for s in self.solutions for u in s.unassigned)
        return {
            "visits": len(by_id), "technicians": sum(len(r.problem.technicians) for r in self.regions),
            "regions": len(self.regions), "served": len(served),
            "servable_by_visit_caps": servable_by_caps(self.regions),
            "priority_served": sum(by_id[v].priority for v in served),
            "priority_total": sum(v.priority for v in by_id.values()),
            "travel_seconds_per_served": round(travel / max(1, len(served)), 1),
            "unassigned": dict(sorted(reasons.items())),
            "wall_seconds": round(sum(st.wall_seconds for st in self.stages), 2),
            "peak_rss_mb": max((st.peak_rss_mb for st in self.stages), default=peak_rss_mb()),
            "stages": [st.as_dict() for st in self.stages],
        }


def servable_by_caps(regions: list[Region]) -> int:
    """How many visits the technicians' daily visit caps allow at most (region by region): with
    20 visits a technician and a cap of 16, no plan serves more than 80 %."""
    out = 0
    for r in regions:
        caps = [t.max_visits for t in r.problem.technicians]
        out += len(r.problem.visits) if None in caps else min(len(r.problem.visits), sum(caps))
    return out


def peak_rss_mb() -> float:
    """Peak resident memory of this process (the driver; workers not counted), MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _solve_task(args: tuple[Problem, SolveParams]) -> Solution:
    from .pm import solve

    problem, params = args
    return solve(problem, params)


def _regroup_task(args: tuple[Problem, Solution, SolveParams, int]) -> Solution:
    problem, sol, params, rounds = args
    with ThreadPoolExecutor(max_workers=1) as one:  # one core per task: groups one after another
        return improve(problem, sol, params, rounds, executor=one, workers=1)


def _quality(sols: list[Solution]) -> tuple[int, float]:
    served = sum(len(s.served) for s in sols)
    return served, round(sum(s.travel_seconds for s in sols) / max(1, served), 1)


def solve_country(regions: list[Region], executor: Executor, time_per_visit: float = 0.08,
                  params: SolveParams | None = None, max_part_visits: int = 150, part_visits: int = 50,
                  rounds: int = ROUNDS, progress: Callable[[str, int, int], None] | None = None,
                  stages: list[Stage] | None = None) -> NationalResult:
    """Solve every region: territories as tasks on ``executor``, then each split region's
    regrouping rounds as one task; ``time_per_visit`` worker-seconds of search per visit."""
    params = params or SolveParams()
    stages = stages if stages is not None else []
    tick = time.perf_counter()
    parts: list[list[Problem]] = []
    regrouped: set[int] = set()  # the regions cut into territories, whose regrouping rounds follow
    for i, r in enumerate(regions):
        if len(r.problem.visits) > max_part_visits:
            parts.append(split(r.problem, part_visits))
            if len(parts[-1]) > 1:
                regrouped.add(i)
        else:  # a small region over several towns: town by town, no rounds between them
            parts.append(towns(r.problem))
    stages.append(Stage("split by territory", round(time.perf_counter() - tick, 2), peak_rss_mb(),
                        sum(len(p) for p in parts)))

    tick = time.perf_counter()
    jobs = []
    for i, ps in enumerate(parts):
        share = 1 - IMPROVE_SHARE if i in regrouped else 1.0
        for j, part in enumerate(ps):
            limit = max(1.0, share * time_per_visit * len(part.visits))
            jobs.append((i, j, part, replace(params, time_limit=limit)))
    jobs.sort(key=lambda job: -job[3].time_limit)  # longest first: the last wave stays short
    futures = {executor.submit(_solve_task, (part, p)): (i, j) for i, j, part, p in jobs}
    found: dict[tuple[int, int], Solution] = {}
    for n, f in enumerate(as_completed(futures), 1):
        found[futures[f]] = f.result()
        if progress:
            progress("territories", n, len(futures))
    sols = []
    for i, (r, ps) in enumerate(zip(regions, parts)):
        sol = merge(r.problem, [found[(i, j)] for j in range(len(ps))])
        _recost(sol, r.problem, params)
        sols.append(sol)
    stages.append(Stage("territories", round(time.perf_counter() - tick, 2), peak_rss_mb(), len(futures),
                        *_quality(sols)))

    tick = time.perf_counter()
    futures = {}
    for i in sorted(regrouped, key=lambda i: -len(regions[i].problem.visits)):
        problem = regions[i].problem
        p = replace(params, time_limit=max(1.0, IMPROVE_SHARE * time_per_visit * len(problem.visits)))
        futures[executor.submit(_regroup_task, (problem, sols[i], p, rounds))] = i
    for n, f in enumerate(as_completed(futures), 1):
        sols[futures[f]] = f.result()
        if progress:
            progress("regrouping", n, len(futures))
    stages.append(Stage("regrouping rounds", round(time.perf_counter() - tick, 2), peak_rss_mb(), len(futures),
                        *_quality(sols)))
    return NationalResult(regions, sols, stages)


def markdown(summary: dict[str, Any], title: str = "") -> str:
    """The stage table and the totals of a national run."""
    lines = [f"**{title}**", ""] if title else []
    lines += ["| stage | tasks | wall_s | driver peak MB | served | travel s / served visit |",
              "|---|---|---|---|---|---|"]
    for st in summary["stages"]:
        served = "" if st["served"] is None else f"{st['served']} ({st['served'] / summary['visits']:.1%})"
        travel = "" if st["travel_seconds_per_served"] is None else f"{st['travel_seconds_per_served']:.0f}"
        lines.append(f"| {st['name']} | {st['tasks'] or ''} | {st['wall_seconds']:.1f} | {st['peak_rss_mb']:.0f} | "
                     f"{served} | {travel} |")
    lines.append(f"| **total** | | {summary['wall_seconds']:.1f} | {summary['peak_rss_mb']:.0f} | "
                 f"{summary['served']} / {summary['visits']} ({summary['served'] / summary['visits']:.1%}) | "
                 f"{summary['travel_seconds_per_served']:.0f} |")
    lines += ["", f"priority served {summary['priority_served']} of {summary['priority_total']} "
                  f"({summary['priority_served'] / max(1, summary['priority_total']):.2%}); "
                  f"the visit caps allow at most {summary['servable_by_visit_caps']} "
                  f"({summary['servable_by_visit_caps'] / summary['visits']:.1%}); "
                  f"unassigned by reason: {summary['unassigned'] or 'none'}; {summary['regions']} regions "
                  f"(contractor × province), {summary['technicians']} technicians"]
    return "\n".join(lines)


def share_among_contractors(problem: Problem, contractors: int, seed: int = 0) -> list[Problem]:
    """``problem`` dealt at random to ``contractors`` contractors who each cover all of its area
    (as several contractors share a province's big city): technicians in turn, visits at random,
    a merchant's visits to one contractor."""
    if contractors < 1 or contractors > len(problem.technicians):
        raise ValueError(f"contractors: {contractors} must be between 1 and the {len(problem.technicians)} technicians")
    rng = np.random.default_rng(seed)
    of: dict = {}
    deal = [of.setdefault(v.merchant if v.merchant is not None else ("visit", v.id), int(rng.integers(contractors)))
            for v in problem.visits]
    return [replace(problem, name=f"{problem.name}/c{c + 1}",
                    technicians=tuple(t for i, t in enumerate(problem.technicians) if i % contractors == c),
                    visits=tuple(v for v, d in zip(problem.visits, deal) if d == c)) for c in range(contractors)]


def solve_shared(problem: Problem, contractors: int, time_per_visit: float, workers: int = 2,
                 seed: int = 0) -> dict[str, Any]:
    """Each contractor's share of ``problem`` solved on its own (``time_per_visit`` worker-seconds
    per visit, on ``workers`` processes): served visits, priority and travel per served visit,
    the figures of :meth:`NationalResult.summary` for one shared city."""
    from .day import solve_day

    t0 = time.perf_counter()
    sols = []
    parts = share_among_contractors(problem, contractors, seed)
    for part in parts:
        limit = max(1.0, time_per_visit * len(part.visits) / workers)
        sols.append(solve_day(part, replace(SolveParams(), time_limit=limit), workers=workers))
    served = [v for s in sols for v in s.served]
    by_id = {v.id: v for v in problem.visits}
    return {"visits": len(problem.visits), "technicians": len(problem.technicians), "contractors": contractors,
            "served": len(served), "priority_served": sum(by_id[v].priority for v in served),
            "priority_total": sum(v.priority for v in problem.visits),
            "servable_by_visit_caps": servable_by_caps([Region("", "", p) for p in parts]),
            "travel_seconds_per_served": round(sum(s.travel_seconds for s in sols) / max(1, len(served)), 1),
            "wall_seconds": round(time.perf_counter() - t0, 1)}
