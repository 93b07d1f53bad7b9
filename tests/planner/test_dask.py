"""Planning on Dask: territories and regrouping rounds as tasks on a ``distributed`` cluster give
the results of the local process pool for the same seed (a LocalCluster of two worker processes)."""
from __future__ import annotations

import pytest

from fieldsvc.planner.cluster import DaskPool
from fieldsvc.planner.day import solve_day
from fieldsvc.planner.params import SolveParams
from fieldsvc.planner.synth import city_day

#: a search that stops after a number of solutions, not at a time: repeatable to the visit
PARAMS = SolveParams(time_limit=120, solution_limit=40)


def _plan(sol) -> tuple:
    return (tuple((r.technician_id, tuple(r.visit_ids)) for r in sol.routes),
            tuple(sorted((u.visit_id, u.reason) for u in sol.unassigned)))


@pytest.mark.slow
def test_territories_on_dask_match_the_local_pool(dask_cluster):
    problem = city_day(240, 16, seed=3)  # above 150 visits: territories, then regrouping rounds
    local = solve_day(problem, PARAMS, workers=2, rounds=2)
    from distributed import get_task_stream

    with DaskPool(dask_cluster.scheduler_address) as pool, get_task_stream(pool.client) as stream:
        assert pool.workers() == 2
        workers = set(pool.client.nthreads())
        on_dask = pool.solve_day(problem, PARAMS, rounds=2)
    assert local.statistics["parts"] == on_dask.statistics["parts"] > 1
    ran = [t["key"] for t in stream.data]
    assert sum("_solve_part" in str(k) for k in ran) == on_dask.statistics["parts"]  # territories as tasks
    assert any("_solve_group" in str(k) for k in ran)  # regrouped groups as tasks
    assert {t["worker"] for t in stream.data} == workers  # on both worker processes
    assert on_dask.statistics["improve_rounds"] == local.statistics["improve_rounds"] == 2
    assert _plan(on_dask) == _plan(local)


@pytest.mark.slow
def test_small_day_is_one_task_on_dask(dask_cluster):
    problem = city_day(40, 4, seed=1)
    with DaskPool(dask_cluster.scheduler_address) as pool:
        assert _plan(pool.solve_day(problem, PARAMS)) == _plan(solve_day(problem, PARAMS))


def test_no_scheduler_is_a_clear_error():
    with pytest.raises(ConnectionError, match=r"tcp://127\.0\.0\.1:1 .*dask scheduler"):
        DaskPool("tcp://127.0.0.1:1", timeout=1)
