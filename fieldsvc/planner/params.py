"""Solver parameters and cost weights."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SolveParams:
    """How to solve.

    Cost units are travel seconds (or the matrix's own unit).  Dropping a visit costs
    ``drop_base + priority * drop_per_priority`` (+ ``pm_overdue_per_day`` per overdue day for
    PM), far above any detour.  One priority point outweighs ten visits' ``drop_base``, so the
    solver serves the most priority first, then the most visits, then the least travel, as
    VROOM does: it drops two priority-5 visits rather than one of priority 11.
    ``em_late_per_second`` is the cost per second past an EM visit's SLA deadline.
    """

    time_limit: float = 10.0
    solution_limit: int | None = None
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    #: an OR-Tools LocalSearchMetaheuristic name, or "ITERATED_LOCAL_SEARCH": ruin (SISR: about
    #: ``ruin_visits`` visits in strings of at most ``ruin_string``) and recreate, accepted by
    #: simulated annealing cooling from ``temperatures[0]`` to ``[1]`` cost units (None: derived
    #: by OR-Tools from the first solution)
    metaheuristic: str = "ITERATED_LOCAL_SEARCH"
    ruin_visits: int = 50
    ruin_string: int = 25
    temperatures: tuple | None = None
    drop_base: int = 100_000
    drop_per_priority: int = 1_000_000
    pm_overdue_per_day: int = 5_000
    mandatory_drop: int = 1_000_000_000_000
    em_late_per_second: int = 20
    #: "tiers": each EM stop becomes alternatives (on time / up to 1 h late / later) with fixed
    #: lateness costs – fast;  "soft": an exact per-second soft upper bound (slow LP-based checks)
    sla_model: str = "tiers"
    sla_tiers: tuple = ((0, 0), (3600, 1800), (None, 3600))  # (max late s, charged late s)
    vehicle_fixed_cost: int = 0
    merge_radius_m: float = 0.0
    allow_drops: bool = True
    log_search: bool = False
    # travel model for Point locations
    detour_factor: float = 1.35
    speeds_mps: dict = field(default_factory=lambda: {"car": 6.5, "motorbike": 8.0, "walk": 1.3})
    metric: str = "haversine"  # or "geodesic" or "osrm"

    def __hash__(self) -> int:
        return hash((self.time_limit, self.first_solution, self.metaheuristic))
