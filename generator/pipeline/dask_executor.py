"""``--executor dask``: the runner's executor seam (generator/pipeline/runner.py) over ``dask.distributed``.

Contract (the same as :class:`~generator.pipeline.runner.ProcessExecutor`): ``map(fn, kwargs)`` returns
the results in input order; it queues every chunk when called, so ``site`` can queue the next stage
behind it. Tasks go to workers in chunks of ``chunksize`` consecutive items, one future per chunk, so
a chunk shares its weight draw through the worker's small input cache. Each chunk is retried
``retries`` times on another try (a lost worker, a transient failure); a task that still fails raises
its own exception in the client, and since the runner -- never the worker -- writes the cache, nothing
of a failed task is cached. ``submit`` (the figures) runs locally: figures render on this machine.

Without an address a ``LocalCluster`` is started (one process per worker, one thread each, no
dashboard port; its workers start without the nanny's thread and malloc variables, see ``_start``);
with ``scheduler`` (``--scheduler`` or ``DASK_SCHEDULER_ADDRESS``) a ``Client``
connects to an existing cluster. On start every worker's environment is compared with the client's:
the code digest of every task module (the code part of the cache keys), the library versions of
:func:`generator.pipeline.store.environment` and the BLAS kernel and thread count the tasks run with.
Any difference is a :class:`ConfigError` (exit 2) naming the worker and the field: a result computed
under another kernel or code would be cached under this machine's key.

``distributed`` is the optional extra ``cluster`` (``pip install -e '.[cluster]'``); without it
:func:`require_distributed` raises a one-line ConfigError saying so.
"""

from __future__ import annotations

import os
from concurrent.futures import Future

from generator.common.errors import ConfigError
from generator.pipeline.runner import TASKS, SerialExecutor, _call_chunk, task_module
from generator.pipeline.store import environment

INSTALL_HINT = "needs the optional 'cluster' extra (dask.distributed): pip install -e '.[cluster]'"
WORKER_WAIT = 60  # seconds an existing scheduler may take to report its first worker
BLAS_THREADS = 1  # one single-threaded BLAS per worker: the cluster's parallelism is its workers
SPAWN_ENV_UNSET = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_")


def require_distributed():
    """Import ``distributed`` or raise the one-line install hint."""
    try:
        import distributed
    except ImportError:
        raise ConfigError("--executor dask", INSTALL_HINT) from None
    return distributed


_BLAS_LIMIT = None  # a worker's BLAS limit, set by its first chunk and kept for the worker's lifetime


def _limit_blas() -> None:
    """Limit this worker process to BLAS_THREADS for good (as ProcessExecutor's workers do): a limit
    entered and left per chunk would race between the threads of an in-process cluster."""
    global _BLAS_LIMIT
    if _BLAS_LIMIT is None:
        from threadpoolctl import threadpool_limits

        _BLAS_LIMIT = threadpool_limits(limits=BLAS_THREADS, user_api="blas")


def blas_threads(worker: bool) -> int:
    """The BLAS threads a task runs with: on a worker after :func:`_limit_blas`; on the client, what
    that limit gives here (the client's own BLAS is left alone)."""
    from threadpoolctl import threadpool_limits

    from generator.pipeline.store import blas_threads as threads

    if worker:
        _limit_blas()
        return threads()
    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        return threads()


def _environment(modules: list[str], worker: bool = False) -> dict:
    """What must match between client and worker: code digests, library versions, BLAS kernel and threads."""
    from generator.pipeline.store import module_code

    env = {f"code:{m}": module_code(m) for m in modules}
    env.update(environment())  # library versions and the BLAS kernel, as in every cache key
    env["blas_threads"] = blas_threads(worker)
    return env


def worker_environment(modules: list[str]) -> dict:
    """:func:`_environment` as a worker sees it (sent to every worker through ``client.run``)."""
    return _environment(modules, worker=True)


def check_workers(client, modules: list[str]) -> None:
    """Raise ConfigError for the first worker (sorted by address) whose environment differs."""
    mine = _environment(modules)
    theirs = client.run(worker_environment, modules)
    for address in sorted(theirs):
        env = theirs[address]
        for name in sorted(set(mine) | set(env)):
            if env.get(name) != mine.get(name):
                raise ConfigError(
                    "--executor dask",
                    f"worker {address} differs from this machine in {name}: "
                    f"{env.get(name)!r} there, {mine.get(name)!r} here",
                )


def _dask_chunk(fn_path: str, kws: list[dict]) -> list:
    _limit_blas()  # the threads check_workers compared
    return _call_chunk(fn_path, kws)


class DaskExecutor:
    """``map`` over a Dask cluster: a new ``LocalCluster`` or an existing scheduler at ``scheduler``."""

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int | None = None,
        chunksize: int = 16,
        retries: int = 2,
        processes: bool = True,
    ):
        self.scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        self.workers = workers or os.cpu_count() or 1
        self.chunksize, self.retries, self.processes = chunksize, retries, processes
        self.blas_threads = BLAS_THREADS  # the runner keys tasks with it; check_workers holds workers to it
        self._client = None
        self._cluster = None
        self._entered = False
        self._open_maps = 0  # maps outside a `with` block still reading; the last one closes the client
        self._local = SerialExecutor()

    def __enter__(self):
        if self._client is None:
            self._start()
        self._entered = True
        return self

    def __exit__(self, *exc):
        self._entered = False
        self.close()
        return False

    def _start(self) -> None:
        distributed = require_distributed()
        if self.scheduler:
            self._client = distributed.Client(self.scheduler)
            try:  # a scheduler without workers would queue the tasks forever
                self._client.wait_for_workers(1, timeout=WORKER_WAIT)
            except TimeoutError:
                self.close()
                raise ConfigError("--scheduler", f"{self.scheduler} has no worker after {WORKER_WAIT} s") from None
        else:
            import dask

            # Start the workers like ProcessExecutor's: BLAS limited to one thread at run time (_limit_blas),
            # not through the nanny's default OMP/MKL/OPENBLAS_NUM_THREADS=1, and without its
            # MALLOC_TRIM_THRESHOLD_ (it fixes glibc's mmap threshold, so every large temporary array is
            # mapped and faulted in afresh: 11 % slower on ten propagation tasks, measured).
            unset = {f"distributed.nanny.pre-spawn-environ.{k}": None for k in SPAWN_ENV_UNSET}
            with dask.config.set(unset):
                self._cluster = distributed.LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=self.processes,
                    dashboard_address=None,
                )
            self._client = distributed.Client(self._cluster)
        try:
            check_workers(self._client, sorted({task_module(k) for k in TASKS}))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        client, cluster, self._client, self._cluster = self._client, self._cluster, None, None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def map(self, fn, kwargs):
        """Queue ``fn`` over ``kwargs`` in chunks; an iterator of the results in input order.

        Outside a ``with`` block the first ``map`` starts the cluster and the last one still reading
        closes it (the experiments stage queues several groups at once)."""
        own = not self._entered
        if self._client is None:
            self._start()
        if own:
            self._open_maps += 1
        fn_path = f"{fn.__module__}:{fn.__name__}"
        items = list(kwargs)
        chunks = [items[i : i + self.chunksize] for i in range(0, len(items), self.chunksize)]
        futures = [
            self._client.submit(_dask_chunk, fn_path, chunk, retries=self.retries, pure=False)  # type: ignore[union-attr]
            for chunk in chunks
        ]
        return self._results(futures, own)

    def _results(self, futures, own: bool):
        try:
            for i, fut in enumerate(futures):
                batch = fut.result()  # the task's own exception, raised here after the retries
                if own and i == len(futures) - 1:
                    # release before the last yield: the runner stops reading there, and a client
                    # closed later by the garbage collector finds its event loop gone
                    own = self._release()
                yield from batch
        finally:
            if self._client is not None:
                for fut in futures:
                    fut.cancel()
            if own:
                self._release()

    def _release(self) -> bool:
        self._open_maps -= 1
        if self._open_maps == 0 and not self._entered:
            self.close()
        return False

    def submit(self, fn, *args) -> Future:
        """Run ``fn(*args)`` here: figures render locally."""
        return self._local.submit(fn, *args)
