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
    #: per break: the allowed start intervals inside (start_min, start_max); empty = all of it
    break_starts: list[list[tuple[int, int]]] = field(default_factory=list)
    prefix: list[int] = field(default_factory=list)  # nodes that must come first, in order
    max_travel: int | None = None  # seconds of travel per route
    max_distance: int | None = None  # metres per route
    fixed_cost: int = 0
    per_hour: int = 3600  # arc cost = travel s × per_hour / 3600 + metres × per_km / 1000
    per_km: int = 0
    name: str = ""  # "technician 'x'" for error messages


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
    demand: np.ndarray | None = None  # load change at each node (deliveries alone: the amount delivered)
    #: with job deliveries mixed with pickups or shipments: each node's delivered amount, which the
    #: vehicle carries from its start (``demand`` is then pickup − delivery)
    delivered: np.ndarray | None = None
    cost: list[np.ndarray] | None = None
    late_cost: int = 100
    fixed_cost: int = 0
    horizon: int = 24 * 3600
    initial_routes: list[list[int]] | None = None
    span_cost: int = 0
    soft_sla: bool = True  # False: deadlines are reported only (tiers model the cost)
    groups: dict[int, list[int]] = field(default_factory=dict)  # primary node -> alternative nodes
    alt_of: dict[int, int] = field(default_factory=dict)  # any node of a group -> primary
    setup: np.ndarray | None = None  # per node: seconds before service when arriving from another place
    place: np.ndarray | None = None  # per node: location id (setup is skipped between equal ones)
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (pickup node, delivery node)
    names: list[str] = field(default_factory=list)  # per node: "visit 'x'" for error messages
    #: per node: the visits (VROOM's tasks) it serves, counted against ``max_visits`` (merged stops count each)
    tasks: np.ndarray | None = None

    def setup_matrix(self) -> np.ndarray | None:
        """``[i, j]`` = setup of j when i is at another place, else 0 (None without setups)."""
        if self.setup is None or not self.setup.any():
            return None
        differ = self.place[:, None] != self.place[None, :]
        return np.where(differ, self.setup[None, :], 0).astype(np.int64)

    def node_name(self, node: int) -> str:
        return self.names[node] if node < len(self.names) else f"node {node}"


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
    stagnated: bool = False  # the search stopped because it stopped improving
    #: (CPU seconds, objective) of each better solution of a watched search (see _ortools._ils_watched)
    trace: list = field(default_factory=list)
    search_cpu: float | None = None  # CPU seconds of a watched search
