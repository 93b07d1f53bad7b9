"""Solver parameters and cost weights.

Settings that are choices are enums checked when the parameters are made: a misspelt
metaheuristic, first-solution strategy, SLA model or travel metric is a ``ValueError`` naming the
field and the allowed values, never a silent fallback. Plain strings of the right value are
accepted and turned into the enum.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum


class Metaheuristic(StrEnum):
    """The search after the first solution (OR-Tools' names, and our iterated local search)."""

    ITERATED_LOCAL_SEARCH = "ITERATED_LOCAL_SEARCH"
    GUIDED_LOCAL_SEARCH = "GUIDED_LOCAL_SEARCH"
    SIMULATED_ANNEALING = "SIMULATED_ANNEALING"
    TABU_SEARCH = "TABU_SEARCH"
    GENERIC_TABU_SEARCH = "GENERIC_TABU_SEARCH"
    GREEDY_DESCENT = "GREEDY_DESCENT"


class FirstSolution(StrEnum):
    """OR-Tools' first-solution strategies that suit optional visits with time windows."""

    PARALLEL_CHEAPEST_INSERTION = "PARALLEL_CHEAPEST_INSERTION"
    LOCAL_CHEAPEST_INSERTION = "LOCAL_CHEAPEST_INSERTION"
    SEQUENTIAL_CHEAPEST_INSERTION = "SEQUENTIAL_CHEAPEST_INSERTION"
    PATH_CHEAPEST_ARC = "PATH_CHEAPEST_ARC"
    SAVINGS = "SAVINGS"
    CHRISTOFIDES = "CHRISTOFIDES"
    AUTOMATIC = "AUTOMATIC"


class SlaModel(StrEnum):
    """How EM lateness is modelled: fixed-cost lateness tiers (fast) or an exact soft bound."""

    TIERS = "tiers"
    SOFT = "soft"


class Metric(StrEnum):
    """Travel between coordinates: haversine × detour, geodesic (geopy) or an OSRM server."""

    HAVERSINE = "haversine"
    GEODESIC = "geodesic"
    OSRM = "osrm"


#: the fields that are choices, with their enum
CHOICES = {"metaheuristic": Metaheuristic, "first_solution": FirstSolution, "sla_model": SlaModel, "metric": Metric}


def _frozen(value: object) -> object:
    """A hashable stand-in for a field value (dicts and lists become sorted tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


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
    #: the search stops this many seconds after its last better solution (a guided local search:
    #: wall seconds; the iterated local search: its own CPU seconds, see ``_ortools._ils_watched``);
    #: None: until ``time_limit``, except on small days (below)
    stagnation: float | None = None
    #: a day of at most ``small_day_visits`` visits solved as one model (:func:`solve_day`) stops
    #: after ``small_day_stagnation`` seconds without a better solution when ``stagnation`` is
    #: None (None here: small days search until ``time_limit`` too)
    small_day_visits: int = 50
    small_day_stagnation: float | None = 1.0
    solution_limit: int | None = None
    first_solution: FirstSolution = FirstSolution.PARALLEL_CHEAPEST_INSERTION
    #: an OR-Tools LocalSearchMetaheuristic name, or "ITERATED_LOCAL_SEARCH": ruin (SISR: about
    #: ``ruin_visits`` visits in strings of at most ``ruin_string``) and recreate, accepted by
    #: simulated annealing cooling from ``temperatures[0]`` to ``[1]`` cost units (None: derived
    #: by OR-Tools from the first solution)
    metaheuristic: Metaheuristic = Metaheuristic.ITERATED_LOCAL_SEARCH
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
    sla_model: SlaModel = SlaModel.TIERS
    sla_tiers: tuple = ((0, 0), (3600, 1800), (None, 3600))  # (max late s, charged late s)
    vehicle_fixed_cost: int = 0
    merge_radius_m: float = 0.0
    allow_drops: bool = True
    log_search: bool = False
    # travel model for Point locations
    detour_factor: float = 1.35
    speeds_mps: dict = field(default_factory=lambda: {"car": 6.5, "motorbike": 8.0, "walk": 1.3})
    metric: Metric = Metric.HAVERSINE

    def __post_init__(self) -> None:
        for name, kind in CHOICES.items():
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, kind(value))
            except ValueError:
                allowed = ", ".join(repr(str(k)) for k in kind)
                raise ValueError(f"{name}: {value!r} is not one of {allowed}") from None
        if not self.time_limit > 0:
            raise ValueError(f"time_limit: {self.time_limit!r} must be more than 0 seconds")
        for name in ("stagnation", "small_day_stagnation"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name}: {value!r} must be more than 0 seconds, or None")

    def __hash__(self) -> int:
        return hash(tuple(_frozen(getattr(self, f.name)) for f in fields(self)))
