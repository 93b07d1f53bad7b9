"""Solving days on a Dask cluster (``dask.distributed``) instead of the local process pool.

A :class:`DaskPool` connects to a running scheduler (``tcp://host:8786``, started with
``dask scheduler``; workers with ``dask worker tcp://host:8786``, each with fieldsvc installed).
Territories and regrouping rounds of a big day become Dask tasks through the client's
``concurrent.futures`` executor (:mod:`fieldsvc.planner.partition` takes any ``Executor``); a
day small enough for one model is one task. Problems and solutions are plain picklable
dataclasses, so the results are those of the local pool for the same seed.
"""
from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

from .day import solve_day
from .params import SolveParams
from .problem import Problem
from .solution import Solution


class DaskPool:
    """A client of the Dask scheduler at ``address`` (or an existing ``distributed.Client``)."""

    def __init__(self, address: str | Any, timeout: float = 10) -> None:
        from distributed import Client

        if isinstance(address, Client):
            self.client, self._own = address, False
        else:
            try:
                self.client = Client(address, timeout=timeout)
            except OSError as e:
                raise ConnectionError(f"no Dask scheduler answers at {address} ({e}); start one with "
                                      f"`dask scheduler` and workers with `dask worker {address}`") from e
            self._own = True

    def workers(self) -> int:
        """Task slots of the cluster (threads over every worker), at least 1."""
        return max(1, sum(self.client.nthreads().values()))

    def executor(self) -> Executor:
        """A ``concurrent.futures`` executor whose tasks run on the cluster."""
        return self.client.get_executor(pure=False)

    def solve_day(self, problem: Problem, params: SolveParams | None = None, max_part_visits: int = 150,
                  **kwargs: Any) -> Solution:
        """:func:`fieldsvc.planner.day.solve_day` with its territories and regrouping rounds on the
        cluster (a day of one model is one task)."""
        if len(problem.visits) <= max_part_visits or kwargs.get("initial"):
            return self.client.submit(solve_day, problem, params, max_part_visits=max_part_visits, pure=False,
                                      **kwargs).result()
        return solve_day(problem, params, executor=self.executor(), max_part_visits=max_part_visits,
                         workers=kwargs.pop("workers", None) or self.workers(), **kwargs)

    def close(self) -> None:
        if self._own:
            self.client.close()

    def __enter__(self) -> DaskPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
