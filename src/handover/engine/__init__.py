"""Executors that run the data kernels: here (local, the default) or on a Dask cluster.

See docs/scale.md. The flows open one with :func:`open_executor` and hand it to the
engine's step functions (:mod:`handover.engine.scan`, ``seal``, ``verify``, ``extract``),
which run the kernels unchanged, locally or shard by shard on the workers.
"""

from handover.engine.executor import (
    DaskExecutor,
    EngineLost,
    Executor,
    LocalExecutor,
    executor_for,
    open_executor,
)

__all__ = [
    "DaskExecutor",
    "EngineLost",
    "Executor",
    "LocalExecutor",
    "executor_for",
    "open_executor",
]
