"""Solomon / VRPLIB VRPTW instances (read with ``vrplib``) as planner Problems.

Distances follow the DIMACS convention of the ``.sol`` files: Euclidean distance truncated to
one decimal.  Everything is scaled by :data:`SCALE` (=10) to integers, so the solver objective
divided by 10 is directly comparable with the best-known cost in the ``.sol`` file.
"""
from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .problem import Matrices, Problem, Technician, TimeWindow, Visit

SCALE = 10
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The whole Solomon set: ``$FIELDSVC_SHARED_DATA/vrptw/solomon`` (default ``../shared/data``).
DEFAULT_DIR = Path(os.environ.get("FIELDSVC_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve() / "vrptw" / "solomon"


@dataclass(frozen=True)
class Instance:
    name: str
    problem: Problem
    bks_cost: float | None
    bks_vehicles: int | None
    path: Path


def dimacs_matrix(coords: np.ndarray) -> np.ndarray:
    """Euclidean distances truncated to one decimal, times 10, as int64."""
    diff = coords[:, None, :] - coords[None, :, :]
    d = np.sqrt((diff ** 2).sum(-1))
    return np.floor(d * SCALE + 1e-9).astype(np.int64)


def load(path: str | Path) -> Instance:
    """Load a ``.vrp`` file (and its ``.sol`` sibling when present)."""
    import vrplib

    path = Path(path)
    inst = vrplib.read_instance(str(path))
    coords = np.asarray(inst["node_coord"], dtype=float)
    n = len(coords)
    depot = int(np.asarray(inst.get("depot", [0]))[0])
    svc = inst.get("service_time", 0)
    svc = np.full(n, svc) if np.isscalar(svc) else np.asarray(svc)
    tw = np.asarray(inst["time_window"], dtype=float)
    demand = np.asarray(inst.get("demand", np.zeros(n)), dtype=int)
    mat = dimacs_matrix(coords)
    rows = tuple(tuple(r) for r in mat.tolist())
    matrices = Matrices(durations={"car": rows}, distances={"car": rows})
    nveh = int(inst.get("vehicles", n - 1))
    cap = int(inst.get("capacity", 0)) or None
    techs = tuple(Technician(id=k + 1, start_index=depot, end_index=depot,
                             shift=TimeWindow(int(tw[depot, 0] * SCALE), int(tw[depot, 1] * SCALE)),
                             capacity=cap) for k in range(nveh))
    visits = tuple(Visit(id=i, location_index=i, service=int(round(svc[i] * SCALE)),
                         time_windows=(TimeWindow(int(tw[i, 0] * SCALE), int(tw[i, 1] * SCALE)),),
                         demand=int(demand[i]), mandatory=True)
                   for i in range(n) if i != depot)
    bks_cost = bks_veh = None
    sol_path = path.with_suffix(".sol")
    if sol_path.exists():
        sol = vrplib.read_solution(str(sol_path))
        bks_cost = float(sol.get("cost")) if sol.get("cost") is not None else None
        bks_veh = len(sol.get("routes", [])) or None
    return Instance(path.stem, Problem(techs, visits, matrices, name=path.stem), bks_cost, bks_veh, path)


def bks_table(directory: str | Path) -> dict[str, dict[str, str]]:
    """Rows of ``bks.csv`` by instance name (empty when missing)."""
    p = Path(directory) / "bks.csv"
    if not p.exists():
        return {}
    with p.open() as fh:
        return {r["instance"]: r for r in csv.DictReader(fh)}


def instances(directory: str | Path | None = None, names: list[str] | None = None) -> list[Path]:
    """Sorted ``.vrp`` paths in ``directory`` (default :data:`DEFAULT_DIR`)."""
    d = Path(directory) if directory else DEFAULT_DIR
    if not d.is_absolute() and not d.exists():
        d = (REPO_ROOT / d).resolve()
    paths = sorted(d.glob("*.vrp"))
    if names:
        want = {x.upper() for x in names}
        paths = [p for p in paths if p.stem.upper() in want]
    return paths


def gap(cost: float, bks: float | None) -> float:
    """Percentage gap of ``cost`` to ``bks`` (NaN when unknown)."""
    return math.nan if not bks else 100.0 * (cost - bks) / bks
