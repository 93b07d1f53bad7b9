"""The only module that imports OR-Tools: turns a :class:`RoutingModel` into a routing solve.

One ``_add_*`` function per constraint family.  Matrices are registered with
``RegisterTransitMatrix`` (no Python callbacks on the hot path); service time rides on the
outgoing arc of the time dimension.
"""
from __future__ import annotations

import json
import os
import select
import signal
import time as _time
import warnings
from typing import Any, Callable

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2

from ._model import RawResult, RawRoute, RoutingModel

#: our name for OR-Tools' iterated local search with SISR ruin-and-recreate
ILS = "ITERATED_LOCAL_SEARCH"
ILS_MIN_STOPS = 10

#: OR-Tools' search status (``RoutingSearchStatus``, read from the wheel's enum: the numbers moved
#: when 9.x added PARTIAL_SUCCESS as 2, and the old table read a timeout as "invalid" and a
#: solution stopped by the time limit before its first local optimum as "fail")
_ENUM = routing_enums_pb2.RoutingSearchStatus
_STATUS = {
    _ENUM.ROUTING_NOT_SOLVED: "not_solved", _ENUM.ROUTING_SUCCESS: "success",
    # a solution, stopped by the limit before a local optimum: as good a plan as any other
    _ENUM.ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED: "success",
    _ENUM.ROUTING_FAIL: "fail", _ENUM.ROUTING_FAIL_TIMEOUT: "fail_timeout", _ENUM.ROUTING_INVALID: "invalid",
    _ENUM.ROUTING_INFEASIBLE: "infeasible", _ENUM.ROUTING_OPTIMAL: "optimal",
}


def solve_model(m: RoutingModel, time_limit: float, first_solution: str = "PARALLEL_CHEAPEST_INSERTION",
                metaheuristic: str = "GUIDED_LOCAL_SEARCH", solution_limit: int | None = None,
                log_search: bool = False, finalizers: bool = False,
                gls_lambda: float | None = None, extra: dict | None = None,
                ruin: tuple[int, int] = (50, 25), temperatures: tuple[float, float] | None = None,
                stagnation: float | None = None) -> RawResult:
    """Solve ``m`` and return raw routes (node lists with service starts) and dropped nodes.

    ``metaheuristic`` is an OR-Tools ``LocalSearchMetaheuristic`` name or :data:`ILS`
    (ruin-and-recreate: SISR removing about ``ruin[0]`` visits in strings of at most
    ``ruin[1]``, simulated-annealing acceptance cooling from ``temperatures[0]`` to ``[1]``
    cost units, or from temperatures OR-Tools derives from the first solution when None).
    ILS does not take a warm start: with ``m.initial_routes`` GLS is used, and also on small
    models (see :func:`_ils_safe`). With ``stagnation``, the search stops after that many
    seconds without a better solution (``time_limit`` stays the upper bound): a guided local
    search through a search limit; the ILS driver of the 9.15 wheel cannot be stopped from
    Python (it restarts the inner searches a limit ends, ignores ``CancelSearch``, and its time
    limit takes an ``absl::Duration`` the wrapper cannot build), so it runs in a forked copy
    of this process that reports every better solution, and is ended when none came for
    ``stagnation`` seconds (see :func:`_ils_watched`).
    """
    t0 = _time.perf_counter()
    n = len(m.service)
    starts = [v.start for v in m.vehicles]
    ends = [v.end for v in m.vehicles]
    manager = _guard("index manager", m, pywrapcp.RoutingIndexManager, n, len(m.vehicles), starts, ends)
    routing = _guard("routing model", m, pywrapcp.RoutingModel, manager)
    time_dim = _guard("travel time", m, _add_time, routing, manager, m)
    _add_windows(routing, manager, m, time_dim)
    _guard("max tasks", m, _add_counts, routing, m)
    _guard("capacity", m, _add_demand, routing, m)
    _guard("max travel time / max distance", m, _add_limits, routing, m)
    _add_allowed(routing, manager, m)
    _guard("drop (disjunction)", m, _add_disjunctions, routing, manager, m)
    _guard("pickup and delivery", m, _add_pairs, routing, manager, m, time_dim)
    _guard("SLA deadline", m, _add_sla, manager, m, time_dim)
    breaks = _add_breaks(routing, manager, m, time_dim)
    if m.span_cost:
        time_dim.SetSpanCostCoefficientForAllVehicles(int(m.span_cost))
    if any(v.fixed_cost for v in m.vehicles):
        for v, spec in enumerate(m.vehicles):
            routing.SetFixedCostOfVehicle(int(m.fixed_cost + spec.fixed_cost), v)
    elif m.fixed_cost:
        routing.SetFixedCostOfAllVehicles(int(m.fixed_cost))
    for v in range(len(m.vehicles) if finalizers else 0):
        routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(v)))
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(v)))

    use_ils = metaheuristic == ILS and _ils_safe(m)
    if metaheuristic == ILS:
        metaheuristic = "GREEDY_DESCENT" if use_ils else "GUIDED_LOCAL_SEARCH"
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, first_solution)
    params.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, metaheuristic)
    if use_ils:
        _set_ils(params, ruin, temperatures)
    params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    if solution_limit:
        params.solution_limit = int(solution_limit)
    params.log_search = log_search
    if gls_lambda is not None:
        params.guided_local_search_lambda_coefficient = gls_lambda
    for key, val in (extra or {}).items():
        obj = params
        *path, last = key.split(".")
        try:
            for part in path:
                obj = getattr(obj, part)
            setattr(obj, last, val)
        except (AttributeError, TypeError, ValueError) as exc:
            raise ValueError(f"search parameter {key!r}: {exc}") from exc
    _guard("search parameters", m, routing.CloseModelWithParameters, params)
    _add_prefixes(routing, manager, m)
    watch = _add_stagnation(routing, stagnation) if stagnation and not use_ils else None
    watched = None

    sol = None
    warm = None
    if m.initial_routes:
        routes = [[manager.NodeToIndex(x) for x in r] for r in m.initial_routes]
        try:
            initial = routing.ReadAssignmentFromRoutes(routes, True)
        except Exception:  # noqa: BLE001 - OR-Tools raises a bare Exception; an unusable start is not fatal
            initial = None
        warm = "rejected" if initial is None else "used"
        if initial is not None:
            sol = _guard("search (from the initial routes)", m, routing.SolveFromAssignmentWithParameters,
                         initial, params)
    if sol is None and use_ils and stagnation and hasattr(os, "fork"):
        left = max(0.05, time_limit - (_time.perf_counter() - t0))
        sol, watched = _guard("search", m, _ils_watched, routing, params, left, stagnation)
    elif sol is None:
        sol = _guard("search", m, routing.SolveWithIteratedLocalSearch if use_ils else routing.SolveWithParameters,
                     params)
    status = _STATUS.get(routing.status(), str(routing.status()))
    if sol is not None and status == "not_solved":
        status = "success"  # the ILS driver leaves the status unset
    if status == "invalid":
        raise ValueError(f"OR-Tools rejected the model or the search parameters as invalid ({_size(m)})")
    if sol is None:
        primaries = [x for x in m.stop_nodes if m.alt_of.get(x, x) == x]
        return RawResult([], primaries, 0, status, _time.perf_counter() - t0)
    res = _extract(routing, manager, m, sol, time_dim, breaks, status, t0)
    res.warm_start = warm
    res.search = ILS if use_ils else metaheuristic
    res.stagnated = bool(watch and watch.stalled()) or bool(watched and watched.stalled)
    if watched is not None:
        res.trace, res.search_cpu = watched.trace, round(watched.cpu, 2)
    return res


class _Watched:
    """What :func:`_ils_watched` saw: better solutions reported, and whether it ended the search."""

    def __init__(self) -> None:
        self.stalled = False
        self.cost: int | None = None
        #: (CPU seconds of search, objective) of every better solution
        self.trace: list[tuple[float, int]] = []
        self.cpu = 0.0


def _route_indices(routing: pywrapcp.RoutingModel) -> list[list[int]]:
    """The current solution's routes as lists of routing indices (starts and ends left out)."""
    routes = []
    for v in range(routing.vehicles()):
        idx, route = routing.NextVar(routing.Start(v)).Value(), []
        while not routing.IsEnd(idx):
            route.append(idx)
            idx = routing.NextVar(idx).Value()
        routes.append(route)
    return routes


class _ChildClock:
    """Seconds of CPU a child process has used (Linux ``/proc``); wall seconds elsewhere.

    Stagnation is counted in the search's own CPU time, so a machine busy with other work
    stretches the wall time of a search but not the amount of search it gets before it stops."""

    def __init__(self, pid: int) -> None:
        self.path, self.t0 = f"/proc/{pid}/stat", _time.perf_counter()
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def seconds(self) -> float:
        try:
            with open(self.path, "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime
        except (OSError, IndexError, ValueError):
            return _time.perf_counter() - self.t0


def _ils_watched(routing: pywrapcp.RoutingModel, params, budget: float, stagnation: float):
    """Iterated local search that ends ``stagnation`` seconds after its last better solution.

    The search runs in a forked child (a copy of the closed model, copy-on-write) that writes each
    better solution's routes down a pipe; this process ends the child when none came for
    ``stagnation`` seconds of its CPU time, or at ``budget`` (the child's own limit is a little
    shorter, to hand over its last message), and rebuilds the best routes in its own model
    (``ReadAssignmentFromRoutes``, then a descent from them that only keeps or improves them, or
    ``RestoreAssignment`` when no time is left for it). Returns (assignment or None, :class:`_Watched`).
    """
    info = _Watched()
    read_end, write_end = os.pipe()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # "multi-threaded process": the child runs C++ only
            pid = os.fork()
    except OSError:  # no process to spare: search here, to the time limit
        os.close(read_end)
        os.close(write_end)
        params.time_limit.FromMilliseconds(max(1, int(budget * 1000)))
        return routing.SolveWithIteratedLocalSearch(params), info
    if pid == 0:  # the child: search, report, never return into the caller's code
        try:
            os.close(read_end)
            best: list[int] = []

            def report() -> None:
                cost = routing.CostVar().Value()
                if not best or cost < best[0]:
                    best[:] = [cost]
                    data = memoryview((json.dumps([cost, _route_indices(routing)]) + "\n").encode())
                    while data:  # a pipe may take a big message in parts
                        data = data[os.write(write_end, data):]

            routing.AddAtSolutionCallback(report)
            params.time_limit.FromMilliseconds(max(50, int((budget - 0.2) * 1000)))
            routing.SolveWithIteratedLocalSearch(params)
        finally:
            os._exit(0)
    os.close(write_end)
    start = _time.perf_counter()
    clock = _ChildClock(pid)
    end, last, routes, buf = start + max(0.1, budget - 0.1), 0.0, None, b""
    try:
        while True:
            now = _time.perf_counter()
            if now >= end:
                break
            if routes is not None and clock.seconds() - last >= stagnation:
                info.stalled = True
                break
            ready, _, _ = select.select([read_end], [], [], min(0.05, end - now))
            if not ready:
                continue
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break  # the child finished its time limit
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                info.cost, routes = json.loads(line)
                last = clock.seconds()
                info.trace.append((round(last, 2), info.cost))
    finally:
        info.cpu = clock.seconds()
        os.close(read_end)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    if routes is None:
        return None, info
    assignment = routing.ReadAssignmentFromRoutes(routes, True)
    if assignment is None:
        return None, info
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    params.use_iterated_local_search = False
    params.time_limit.FromMilliseconds(int(1000 * min(0.5, max(0.05, budget - (_time.perf_counter() - start)))))
    sol = routing.SolveFromAssignmentWithParameters(assignment, params)
    return (sol if sol is not None else routing.RestoreAssignment(assignment)), info


class _Stagnation:
    """Stops the search ``seconds`` of search (this thread's CPU time) after the last improving solution."""

    def __init__(self, routing: pywrapcp.RoutingModel, seconds: float) -> None:
        self.routing, self.seconds = routing, seconds
        self.best: int | None = None
        self.since = _time.thread_time()

    def solution(self) -> None:
        cost = self.routing.CostVar().Value()
        if self.best is None or cost < self.best:
            self.best, self.since = cost, _time.thread_time()

    def stalled(self) -> bool:
        return self.best is not None and _time.thread_time() - self.since > self.seconds


def _add_stagnation(routing: pywrapcp.RoutingModel, seconds: float) -> _Stagnation:
    watch = _Stagnation(routing, seconds)
    routing.AddAtSolutionCallback(watch.solution)
    routing.AddSearchMonitor(routing.solver().CustomLimit(watch.stalled))
    return watch


def _size(m: RoutingModel) -> str:
    stops = sum(1 for x in m.stop_nodes if m.alt_of.get(x, x) == x)
    return f"model of {stops} stops, {len(m.service)} nodes, {len(m.vehicles)} technicians, horizon {m.horizon} s"


def _guard(family: str, m: RoutingModel, fn: Callable[..., Any], *args: Any) -> Any:
    """Call ``fn``; an OR-Tools exception becomes a ValueError naming the constraint family and the size."""
    try:
        return fn(*args)
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(f"the {family} constraints cannot be built or solved by OR-Tools ({_size(m)}): "
                         f"{exc}") from exc


def _ils_safe(m: RoutingModel) -> bool:
    """Whether OR-Tools' ILS may run: no warm start, and at least two stops per vehicle.

    In the 9.15 wheel, ILS with fewer stops than vehicles (one visit, two technicians at
    different homes) loops forever, past any time limit; small models need no ILS anyway.
    """
    stops = sum(1 for x in m.stop_nodes if m.alt_of.get(x, x) == x)
    return not m.initial_routes and stops >= max(ILS_MIN_STOPS, 2 * len(m.vehicles))


def _set_ils(params, ruin: tuple[int, int], temperatures: tuple[float, float] | None) -> None:
    ils = params.iterated_local_search_parameters
    params.use_iterated_local_search = True
    ils.perturbation_strategy = routing_ils_pb2.PerturbationStrategy.RUIN_AND_RECREATE
    ils.improve_perturbed_solution = True
    rr = ils.ruin_recreate_parameters
    sisr = rr.ruin_strategies.add().sisr
    sisr.avg_num_removed_visits, sisr.max_removed_sequence_size = int(ruin[0]), int(ruin[1])
    sisr.bypass_factor = 0.01
    rr.recreate_strategy.heuristic = routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    sa = ils.reference_solution_acceptance_strategy.simulated_annealing
    sa.cooling_schedule_strategy = routing_ils_pb2.CoolingScheduleStrategy.EXPONENTIAL
    if temperatures is None:
        sa.automatic_temperatures = True
    else:
        sa.initial_temperature, sa.final_temperature = float(temperatures[0]), float(temperatures[1])
    ils.best_solution_acceptance_strategy.greedy_descent.SetInParent()


def _matrix_list(a: np.ndarray) -> list[list[int]]:
    return np.asarray(a, dtype=np.int64).tolist()


def _add_time(routing, manager, m: RoutingModel):
    svc = np.asarray(m.service, dtype=np.int64)[:, None]
    setup = m.setup_matrix()
    extra = svc if setup is None else svc + setup  # setup rides on the arc into a stop from another place
    cost = m.cost or m.durations
    time_cbs = [routing.RegisterTransitMatrix(_matrix_list(d + extra)) for d in m.durations]
    cost_cbs: dict = {}
    for v, spec in enumerate(m.vehicles):
        key = (spec.profile, spec.per_hour, spec.per_km)
        if key not in cost_cbs:
            # arc cost = travel without service; the service part is constant for served nodes
            c = cost[spec.profile]
            if key[1:] != (3600, 0):
                d = m.durations[spec.profile]
                metres = m.distances if m.distances is not None else 0
                c = np.rint(d * (spec.per_hour / 3600) + metres * (spec.per_km / 1000)).astype(np.int64) + (c - d)
            cost_cbs[key] = routing.RegisterTransitMatrix(_matrix_list(c))
        routing.SetArcCostEvaluatorOfVehicle(cost_cbs[key], v)
    routing.AddDimensionWithVehicleTransits(
        [time_cbs[spec.profile] for spec in m.vehicles], int(m.horizon), int(m.horizon), False, "time")
    return routing.GetDimensionOrDie("time")


def _add_windows(routing, manager, m: RoutingModel, time_dim) -> None:
    for node in m.stop_nodes:
        ws = sorted(m.windows[node])
        if not ws:
            continue
        try:
            var = time_dim.CumulVar(manager.NodeToIndex(node))
            var.SetRange(int(ws[0][0]), int(max(w[1] for w in ws)))
            reach = ws[0][1]
            for a, b in ws[1:]:
                if a > reach + 1:
                    var.RemoveInterval(int(reach + 1), int(a - 1))
                reach = max(reach, b)
        except Exception as exc:
            raise ValueError(f"{m.node_name(node)}: time window(s) {ws} do not fit the model's time range "
                             f"0..{m.horizon} s: {exc}") from exc
    for v, spec in enumerate(m.vehicles):
        lo, hi = int(spec.tw[0]), int(spec.tw[1])
        try:
            time_dim.CumulVar(routing.Start(v)).SetRange(lo, hi)
            time_dim.CumulVar(routing.End(v)).SetRange(lo, hi)
        except Exception as exc:
            raise ValueError(f"{spec.name or f'vehicle {v}'}: shift {lo}..{hi} does not fit the model's time "
                             f"range 0..{m.horizon} s: {exc}") from exc


def _add_counts(routing, m: RoutingModel) -> None:
    if all(v.max_visits is None for v in m.vehicles):
        return
    # every visit counts, as VROOM's max_tasks does: a stop merging two visits at one merchant is two
    ones = [0] * len(m.service)
    for node in m.stop_nodes:
        ones[node] = int(m.tasks[node]) if m.tasks is not None else 1
    cb = routing.RegisterUnaryTransitVector(ones)
    caps = [int(v.max_visits) if v.max_visits is not None else len(m.stop_nodes) for v in m.vehicles]
    routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, "count")


def _add_demand(routing, m: RoutingModel) -> None:
    if m.demand is None or all(v.capacity is None for v in m.vehicles):
        return
    cb = routing.RegisterUnaryTransitVector([int(x) for x in m.demand])
    big = int(np.sum(np.abs(m.demand)) + (np.sum(m.delivered) if m.delivered is not None else 0)) + 1
    caps = [int(v.capacity) if v.capacity is not None else big for v in m.vehicles]
    if m.delivered is None:
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, "demand")
        return
    # the vehicle leaves loaded with the deliveries of its route: load at the start = total delivered
    routing.AddDimensionWithVehicleCapacity(cb, 0, caps, False, "demand")
    dcb = routing.RegisterUnaryTransitVector([int(x) for x in m.delivered])
    routing.AddDimensionWithVehicleCapacity(dcb, 0, caps, True, "delivered")
    load, out = routing.GetDimensionOrDie("demand"), routing.GetDimensionOrDie("delivered")
    solver = routing.solver()
    for v in range(len(m.vehicles)):
        solver.Add(load.CumulVar(routing.Start(v)) == out.CumulVar(routing.End(v)))


def _add_limits(routing, m: RoutingModel) -> None:
    """VROOM's max_travel_time and max_distance: per-vehicle caps on dimensions of travel only."""
    if any(v.max_travel is not None for v in m.vehicles):
        cbs = [routing.RegisterTransitMatrix(_matrix_list(d)) for d in m.durations]
        big = int(max(int(d.max(initial=0)) for d in m.durations)) * (len(m.service) + 1) + 1
        caps = [int(v.max_travel) if v.max_travel is not None else big for v in m.vehicles]
        routing.AddDimensionWithVehicleTransitAndCapacity(
            [cbs[v.profile] for v in m.vehicles], 0, caps, True, "travel")
    if any(v.max_distance is not None for v in m.vehicles):
        cb = routing.RegisterTransitMatrix(_matrix_list(m.distances))
        big = int(m.distances.max(initial=0)) * (len(m.service) + 1) + 1
        caps = [int(v.max_distance) if v.max_distance is not None else big for v in m.vehicles]
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, "distance")


def _add_pairs(routing, manager, m: RoutingModel, time_dim) -> None:
    """Shipments: pickup and delivery on one vehicle (or both dropped), pickup first."""
    solver = routing.solver()
    for p, d in m.pairs:
        pi, di = manager.NodeToIndex(p), manager.NodeToIndex(d)
        routing.AddPickupAndDelivery(pi, di)
        solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
        solver.Add(time_dim.CumulVar(pi) <= time_dim.CumulVar(di))


def _add_allowed(routing, manager, m: RoutingModel) -> None:
    for node, allowed in m.allowed.items():
        # SetAllowedVehiclesForIndex fails in the 9.15 wheel; restrict the vehicle var instead
        try:
            routing.VehicleVar(manager.NodeToIndex(node)).SetValues([-1, *[int(v) for v in allowed]])
        except Exception as exc:
            raise ValueError(f"{m.node_name(node)}: cannot be restricted to technicians "
                             f"{[m.vehicles[v].name for v in allowed]}: {exc}") from exc


def _add_disjunctions(routing, manager, m: RoutingModel) -> None:
    for node in m.stop_nodes:
        if node in m.alt_of and m.alt_of[node] != node:
            continue  # handled with its primary
        pen = m.penalty.get(node)
        nodes = m.groups.get(node, [node])
        indices = [manager.NodeToIndex(x) for x in nodes]
        if pen is not None:
            routing.AddDisjunction(indices, int(pen), 1)
        elif len(nodes) > 1:
            routing.AddDisjunction(indices)  # no penalty: exactly one alternative is performed


def _add_sla(manager, m: RoutingModel, time_dim) -> None:
    if not m.soft_sla:
        return
    for node, deadline in m.sla.items():
        time_dim.SetCumulVarSoftUpperBound(manager.NodeToIndex(node), int(deadline), int(m.late_cost))


def _add_breaks(routing, manager, m: RoutingModel, time_dim) -> dict[int, list]:
    out: dict[int, list] = {}
    if not any(v.breaks for v in m.vehicles):
        return out
    solver = routing.solver()
    visit_transit = [0] * routing.Size()
    for index in range(routing.Size()):
        visit_transit[index] = int(m.service[manager.IndexToNode(index)])
    for v, spec in enumerate(m.vehicles):
        if not spec.breaks:
            continue
        try:
            ivs = []
            for k, (a, b, d) in enumerate(spec.breaks):
                starts = spec.break_starts[k] if k < len(spec.break_starts) else []
                if len(starts) > 1:  # several start windows: a start variable with holes
                    var = solver.IntVar(int(starts[0][0]), int(starts[-1][1]), f"break start {v}.{k}")
                    for (_, end), (nxt, _) in zip(starts, starts[1:]):
                        if nxt > end + 1:
                            var.RemoveInterval(int(end + 1), int(nxt - 1))
                    ivs.append(solver.FixedDurationIntervalVar(var, int(d), f"break {v}.{k}"))
                else:
                    lo, hi = starts[0] if starts else (a, max(a, b))
                    ivs.append(solver.FixedDurationIntervalVar(int(lo), int(hi), int(d), False, f"break {v}.{k}"))
            time_dim.SetBreakIntervalsOfVehicle(ivs, v, visit_transit)
        except Exception as exc:
            raise ValueError(f"{spec.name or f'vehicle {v}'}: its breaks {spec.breaks} cannot be set: {exc}") from exc
        out[v] = ivs
    return out


def _add_prefixes(routing, manager, m: RoutingModel) -> None:
    for v, spec in enumerate(m.vehicles):
        if not spec.prefix:
            continue
        prev = routing.Start(v)
        for node in spec.prefix:
            idx = manager.NodeToIndex(node)
            try:
                routing.NextVar(prev).SetValue(idx)
            except Exception as exc:
                raise ValueError(f"{spec.name or f'vehicle {v}'}: frozen prefix stop {m.node_name(node)} cannot "
                                 f"be fixed in order (is it frozen for two technicians?): {exc}") from exc
            prev = idx


def _extract(routing, manager, m: RoutingModel, sol, time_dim, breaks, status: str, t0: float) -> RawResult:
    routes: list[RawRoute] = []
    served: set[int] = set()
    for v in range(len(m.vehicles)):
        idx = routing.Start(v)
        depart = sol.Min(time_dim.CumulVar(idx))
        nodes, starts = [], []
        idx = sol.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            node = manager.IndexToNode(idx)
            nodes.append(node)
            starts.append(sol.Min(time_dim.CumulVar(idx)))
            idx = sol.Value(routing.NextVar(idx))
        arrive_end = sol.Min(time_dim.CumulVar(idx))
        brk = []
        for iv in breaks.get(v, []):
            # a break's start need not be bound in a solution (StartValue would abort the process
            # with a failed CHECK): its earliest start, like the stops' cumuls above
            if sol.PerformedMin(iv):
                brk.append((sol.StartMin(iv), sol.DurationMin(iv)))
        served.update(nodes)
        routes.append(RawRoute(v, nodes, starts, depart, arrive_end, sorted(brk)))
    served_primary = {m.alt_of.get(x, x) for x in served}
    dropped = [x for x in m.stop_nodes if m.alt_of.get(x, x) == x and x not in served_primary]
    return RawResult(routes, dropped, sol.ObjectiveValue(), status, _time.perf_counter() - t0)


def assign_capacitated(cost: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Give each row of ``cost`` (n × k, integers) one column, at most ``capacity[j]`` rows to
    column j, at the least total cost (OR-Tools min-cost flow).  Returns the column per row."""
    from ortools.graph.python import min_cost_flow

    n, k = cost.shape
    if int(np.sum(capacity)) < n:
        raise ValueError(f"assign_capacitated: capacity {int(np.sum(capacity))} for {n} rows")
    flow = min_cost_flow.SimpleMinCostFlow()
    sink = n + k
    flow.add_arcs_with_capacity_and_unit_cost(
        np.repeat(np.arange(n), k), n + np.tile(np.arange(k), n), np.ones(n * k, dtype=np.int64),
        np.asarray(cost, dtype=np.int64).ravel())
    flow.add_arcs_with_capacity_and_unit_cost(
        n + np.arange(k), np.full(k, sink), np.asarray(capacity, dtype=np.int64), np.zeros(k, dtype=np.int64))
    flow.set_nodes_supplies(np.arange(n + k + 1), np.concatenate([np.ones(n), np.zeros(k), [-n]]).astype(np.int64))
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("assign_capacitated: min-cost flow found no assignment")
    used = flow.flows(np.arange(n * k)).reshape(n, k)
    return np.argmax(used, axis=1)
