"""The compiled, solver-neutral routing model (node arrays) built by :mod:`.pm`."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class VehicleSpec:
    start: int  # node
    end: int  # node
    tw: tuple[int, int]
    profile: int  # index into RoutingModel.durations
    max_visits: int | None = None
    capacity: int | None = None
    breaks: list[tuple[int, int, int]] = field(default_factory=list)  # (start_min, start_max, duration)
    prefix: list[int] = field(default_factory=list)  # nodes that must come first, in order


@dataclass
class RoutingModel:
    """Nodes 0..n-1; stops are the nodes listed in ``stop_nodes``.

    ``durations[p]`` is the travel-time matrix of profile ``p`` (no service),
    ``cost[p]`` the arc-cost matrix (defaults to durations).
    """

    durations: list[np.ndarray]
    distances: np.ndarray | None
    service: np.ndarray
    windows: list[list[tuple[int, int]]]  # per node; empty = any
    vehicles: list[VehicleSpec]
    stop_nodes: list[int]
    allowed: dict[int, list[int]]  # node -> allowed vehicles (missing = all)
    penalty: dict[int, int | None]  # node -> drop cost (None = no disjunction)
    sla: dict[int, int]  # node -> deadline
    demand: np.ndarray | None = None
    cost: list[np.ndarray] | None = None
    late_cost: int = 100
    fixed_cost: int = 0
    horizon: int = 24 * 3600
    initial_routes: list[list[int]] | None = None
    span_cost: int = 0
    soft_sla: bool = True  # False: deadlines are reported only (tiers model the cost)
    groups: dict[int, list[int]] = field(default_factory=dict)  # primary node -> alternative nodes
    alt_of: dict[int, int] = field(default_factory=dict)  # any node of a group -> primary


@dataclass
class RawRoute:
    vehicle: int
    nodes: list[int]  # stops only, in order
    starts: list[int]  # service start per stop node
    depart: int
    arrive_end: int
    breaks: list[tuple[int, int]]  # (start, duration)


@dataclass
class RawResult:
    routes: list[RawRoute]
    dropped: list[int]
    objective: int
    status: str
    wall: float
    warm_start: str | None = None  # "used" / "rejected" when initial routes were given
    search: str = ""  # the metaheuristic that ran
