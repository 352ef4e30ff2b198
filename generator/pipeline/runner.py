"""Run a list of tasks through a pluggable executor, with the input-hash cache in front.

The seam: a *task* is ``(kind, params)`` where ``params`` is a JSON-able dict and ``TASKS[kind]`` names
a module-level function ``fn(**params) -> dict[str, DataFrame]``. The code part of a task's cache key
is the import closure of that function's module (generator/common/imports.py), so no list of modules
is kept by hand: editing any module the task can run recomputes it, editing anything else does not. An *executor* is anything with
``map(fn, iterable_of_kwargs) -> iterator of results in input order`` — :class:`SerialExecutor`,
:class:`ProcessExecutor`, or :class:`~generator.pipeline.dask_executor.DaskExecutor` (``--executor dask``) for the
cluster sweeps. The runner, not the worker, writes the cache, so a sidecar exists only for results that
came back whole, whichever executor computed them.

Overlap: :func:`submit_tasks` hands the cache misses to the executor and returns at once;
:meth:`PendingTasks.collect` waits for them. An executor that queues work as soon as ``map`` is called
(:class:`ProcessExecutor`, Dask) therefore lets a caller queue the next stage's tasks behind this one's
and do its own serial work (assembling tables, writing files) while the workers compute: ``site`` runs
the whole build through one pool this way (generator/pipeline/stages.py). Executors used as context managers
keep their workers between calls; ``submit(fn, *args) -> Future`` runs one plain call (the figures).

BLAS threads: a GEMM split over more threads sums in another order, so a result's last bits depend on
the thread count it ran with, and that count is part of every task's key (:func:`task_environment`).
It is the executor's ``blas_threads`` (serial: this process's current count; process pool: the limit
each worker sets; Dask: one), unless the task kind pins its own count (``register_task(...,
blas_threads=n)``, e.g. the training runs, which always run single-threaded): a serial run and a
one-thread pool share entries only where their thread counts are equal.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from generator.pipeline.signals import kill_pool
from generator.pipeline.store import Cache, Frames, cache_key, environment, module_code
from generator.pipeline.store import blas_threads as current_blas_threads

# kind -> dotted function path; the function's module is the entry of the key's import closure
TASKS: dict[str, str] = {
    "propagation": "generator.experiments.propagation:run_propagation",
    "symmetry": "generator.experiments.symmetry:run_symmetry",
    "seed_code": "generator.experiments.seed_code:seed_code_task",
}


# kind -> the BLAS thread count its function sets for itself, whatever the executor gives it
TASK_THREADS: dict[str, int] = {}


def register_task(kind: str, function: str, blas_threads: int | None = None) -> None:
    """Declare a task kind: ``function`` as ``"pkg.module:name"``; ``blas_threads`` only when the function
    limits its own BLAS threads to that count (then its keys do not depend on the executor)."""
    TASKS[kind] = function
    if blas_threads is None:
        TASK_THREADS.pop(kind, None)
    else:
        TASK_THREADS[kind] = blas_threads


def task_module(kind: str) -> str:
    return TASKS[kind].split(":")[0]


def task_code(kind: str) -> str:
    """The code part of ``kind``'s keys: digest of its function module's import closure."""
    return module_code(task_module(kind))


def resolve_function(kind: str) -> Callable[..., Frames]:
    mod, name = TASKS[kind].split(":")
    return getattr(importlib.import_module(mod), name)


class Executor(Protocol):
    blas_threads: int  # the BLAS threads a task runs with on this executor (part of every task key)

    def map(self, fn: Callable, kwargs: Iterable[dict]) -> Iterator: ...


def task_threads(kind: str, executor: Executor | None = None) -> int:
    """The BLAS threads a ``kind`` task runs with on ``executor`` (None: :class:`SerialExecutor`)."""
    if kind in TASK_THREADS:
        return TASK_THREADS[kind]
    return (executor if executor is not None else SerialExecutor()).blas_threads


def task_environment(kind: str, executor: Executor | None = None) -> dict:
    """The environment part of a ``kind`` task's key on ``executor``: library versions, BLAS kernel, and
    the BLAS thread count the task runs with."""
    return {**environment(), "blas_threads": task_threads(kind, executor)}


class SerialExecutor:
    """In-process, one task at a time (BLAS may still use every core inside a task)."""

    @property
    def blas_threads(self) -> int:
        """This process's BLAS threads, read when asked: the tasks run here, under its current limit."""
        return current_blas_threads()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, fn, kwargs):
        from generator.pipeline.alloc import keep_freed_memory

        keep_freed_memory()  # as in ProcessExecutor's workers (generator/pipeline/alloc.py)
        for kw in kwargs:
            yield fn(**kw)

    def submit(self, fn, *args) -> Future:
        """Run ``fn(*args)`` now; a finished Future holds its result or exception."""
        fut: Future = Future()
        try:
            fut.set_result(fn(*args))
        except BaseException as e:  # any exception is handed to the caller through the Future
            fut.set_exception(e)
        return fut


def _call(fn_path: str, kw: dict) -> Frames:
    mod, name = fn_path.split(":")
    return getattr(importlib.import_module(mod), name)(**kw)


def _init_worker(threads: int, parent_pid: int) -> None:
    from threadpoolctl import threadpool_limits

    from generator.pipeline.alloc import keep_freed_memory
    from generator.pipeline.signals import worker_setup

    worker_setup(parent_pid)  # ignore Ctrl-C (the parent stops the pool), die with the parent

    # Kept for the worker's lifetime: each process gets its share of cores, no oversubscription.
    global _BLAS_LIMIT
    _BLAS_LIMIT = threadpool_limits(limits=threads)
    keep_freed_memory()  # large temporaries reuse freed memory instead of faulting in fresh pages


def _call_chunk(fn_path: str, kws: list[dict]) -> list:
    return [_call(fn_path, kw) for kw in kws]


class ProcessExecutor:
    """A process pool with ``workers`` processes and ``cores // workers`` BLAS threads each.

    Tasks go to workers in chunks of ``chunksize`` consecutive items, so tasks that share inputs
    (the propagation grid is ordered seed, init outermost: one weight draw serves 16 tasks) hit the
    worker's small input cache instead of redrawing.

    ``map`` queues every chunk when it is called (first in, first out) and yields results in input
    order. Used as a context manager the pool (and each worker's imports and caches) lives until the
    ``with`` block ends, and several ``map``/``submit`` calls share it; otherwise each ``map`` call
    starts and shuts down its own pool.
    """

    def __init__(self, workers: int | None = None, chunksize: int = 16):
        self.workers = workers or os.cpu_count() or 1
        self.blas_threads = max(1, (os.cpu_count() or 1) // self.workers)
        self.chunksize = chunksize
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, initializer=_init_worker, initargs=(self.blas_threads, os.getpid()))

    def __enter__(self):
        if self._pool is None:
            self._pool = self._new_pool()
        return self

    def __exit__(self, exc_type, *exc):
        pool, self._pool = self._pool, None
        if pool is not None:
            if exc_type is not None:
                # on an error or interrupt, running work is killed and queued work dropped: waiting
                # for a running chunk could take minutes
                kill_pool(pool)
            pool.shutdown(wait=True, cancel_futures=exc_type is not None)
        return False

    def map(self, fn, kwargs):
        fn_path = f"{fn.__module__}:{fn.__name__}"
        items = list(kwargs)
        chunks = [items[i : i + self.chunksize] for i in range(0, len(items), self.chunksize)]
        own = self._pool is None
        pool = self._new_pool() if own else self._pool
        futures = [pool.submit(_call_chunk, fn_path, chunk) for chunk in chunks]
        return self._results(futures, pool if own else None)

    @staticmethod
    def _results(futures, own_pool):
        finished = False
        try:
            for fut in futures:
                yield from fut.result()
            finished = True
        finally:
            if own_pool is not None:
                if not finished:  # an error, an interrupt, or the caller stopped reading
                    kill_pool(own_pool)
                own_pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, fn, *args) -> Future:
        """Queue ``fn(*args)`` (a picklable module-level function) on the open pool."""
        if self._pool is None:
            raise RuntimeError("ProcessExecutor.submit needs an open pool: use `with ProcessExecutor() as ex:`")
        return self._pool.submit(fn, *args)


@dataclass
class RunStats:
    kind: str
    total: int = 0
    hits: int = 0
    computed: int = 0
    corrupt: int = 0
    seconds: float = 0.0
    computed_params: list = field(default_factory=list)


class Progress:
    """A tqdm bar on a terminal, plain lines elsewhere (CI logs), nothing when quiet."""

    def __init__(self, label: str, total: int, quiet: bool = False):
        self.label, self.total, self.quiet, self.done = label, total, quiet, 0
        self.bar = None
        self.last_line = -1
        if not quiet and total and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit="task", leave=False)

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif not self.quiet and self.total:
            tenth = (10 * self.done) // self.total
            if tenth != self.last_line:
                self.last_line = tenth
                print(f"{self.label}: {self.done}/{self.total}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@dataclass
class PendingTasks:
    """Tasks handed to an executor by :func:`submit_tasks`; :meth:`collect` waits for them."""

    kind: str
    params_list: list[dict]
    cache: Cache
    keys: list
    results: list
    misses: list[int]
    outputs: Iterator | None
    stats: RunStats
    start: float

    def collect(self, quiet: bool = False) -> tuple[list[Frames], RunStats]:
        """Return one result per params (in order), writing each computed one to the cache."""
        stats, results = self.stats, self.results
        progress = Progress(self.kind, len(self.misses), quiet)
        try:
            if self.outputs is not None:
                for i, frames in zip(self.misses, self.outputs):
                    if isinstance(frames, pd.DataFrame):  # single-frame tasks
                        frames = {"result": frames}
                    results[i] = frames
                    self.cache.put(self.kind, self.keys[i][0], self.keys[i][1], frames)
                    stats.computed += 1
                    stats.computed_params.append(self.params_list[i])
                    progress.update()
        finally:
            progress.close()
        stats.seconds = time.perf_counter() - self.start
        return results, stats  # type: ignore[return-value]


def submit_tasks(kind: str, params_list: list[dict], cache: Cache, executor: Executor | None = None) -> PendingTasks:
    """Look every task up in ``cache`` and hand the misses to ``executor`` (default: serial), returning
    without waiting: with a queueing executor the work starts now, with :class:`SerialExecutor` it runs
    inside :meth:`PendingTasks.collect`."""
    start = time.perf_counter()
    fn = resolve_function(kind)
    code = task_code(kind)
    executor = executor or SerialExecutor()
    env = task_environment(kind, executor)
    stats = RunStats(kind=kind, total=len(params_list))
    results: list[Frames | None] = [None] * len(params_list)
    keys = []
    misses: list[int] = []
    n_corrupt_before = len(cache.corrupt)
    for i, params in enumerate(params_list):
        key, inputs = cache_key(kind, params, code, env)
        keys.append((key, inputs))
        hit = cache.get(kind, key)
        if hit is None:
            misses.append(i)
        else:
            results[i] = hit
    stats.hits = len(params_list) - len(misses)
    stats.corrupt = len(cache.corrupt) - n_corrupt_before
    outputs = None
    if misses:
        outputs = iter(executor.map(fn, [params_list[i] for i in misses]))
    return PendingTasks(kind, params_list, cache, keys, results, misses, outputs, stats, start)


def run_tasks(
    kind: str,
    params_list: list[dict],
    cache: Cache,
    executor: Executor | None = None,
    quiet: bool = False,
) -> tuple[list[Frames], RunStats]:
    """Return one result per params (in order), computing only the cache misses."""
    return submit_tasks(kind, params_list, cache, executor).collect(quiet)
