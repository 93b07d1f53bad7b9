"""fieldsvc.planner — a pure routing library (no Flask, no SQLAlchemy, no fieldsvc.visits).

Frozen dataclasses in (:class:`Problem` of :class:`Technician` and :class:`Visit`), plain
dataclasses out (:class:`Solution`).  Only :mod:`fieldsvc.planner._ortools` imports OR-Tools.

Main entry points::

    solve_day(problem, params)                 # a day's routes (territories above 150 visits)
    replan_day(problem, progress, pins, ...)   # re-plan a day under way (locks, frozen prefixes)
    slot_options(live_routes, visit)           # ranked EM insertion options, milliseconds
"""
from .day import LockedDay, Progress, lock_day, locked_day, replan_day, solve_day
from .day_over import DAY_OVER_REASONS, DayOver
from .em import LiveRoute, LiveStop, SlotOption, slot_options
from .params import SolveParams
from .pm import solve
from .problem import Break, Matrices, Point, Problem, Shipment, Technician, TimeWindow, Visit, validate
from .solution import REASONS, Cost, Route, Solution, Stop, Unassigned

__all__ = [
    "DAY_OVER_REASONS", "Break", "Cost", "DayOver", "LiveRoute", "LockedDay", "LiveStop", "Matrices", "Point",
    "Problem", "Progress", "REASONS", "Route", "Shipment",
    "SlotOption", "Solution", "SolveParams", "Stop", "Technician", "TimeWindow", "Unassigned", "Visit",
    "lock_day", "locked_day", "replan_day", "slot_options", "solve", "solve_day", "validate",
]
