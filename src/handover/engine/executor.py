"""Executors: where the data kernels run.

:class:`LocalExecutor` runs them here, streaming, exactly as handover always has;
:class:`DaskExecutor` hands one task per shard to a ``dask.distributed`` cluster
(``Client.submit``), gathers exactly one result per shard and turns a lost scheduler
into one line naming the run to resume (docs/scale.md).
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from handover.errors import BadInput, CheckFailed, HandoverError

if TYPE_CHECKING:
    from types import TracebackType

    from handover.settings import Settings

LOCAL = "local"
SCHEME = "dask://"
#: seconds a new client waits for the scheduler before the address is called unreachable
CONNECT_SECONDS = 10.0


class EngineLost(CheckFailed):
    """The cluster went away during a run (scheduler lost, or a shard killed every worker
    it ran on): retrying can help, the shards already done are kept for ``--resume``."""

    transient = True


class Executor(abc.ABC):
    """Runs a function over a list of shards and gives back one result per shard."""

    #: ``local`` or the scheduler address as given (``dask://host:8786``)
    name: str = LOCAL
    #: True when tables are split into shards run elsewhere (the flows' sharded paths)
    sharded: bool = False
    #: rows per shard of a table split by key ranges
    shard_rows: int = 1_048_576

    @abc.abstractmethod
    def run(
        self, fn: Callable[[Any], Any], items: Sequence[Any], keys: Sequence[str]
    ) -> Iterator[tuple[int, Any]]:
        """``(index, fn(items[index]))`` for every item, in the order they finish, exactly
        once each; ``keys`` name the tasks (never a secret: schedulers show them)."""

    def close(self) -> None:  # noqa: B027 - the local executor holds nothing
        """Release the connection to the cluster."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class LocalExecutor(Executor):
    """Everything on this machine, one shard after the other (the default)."""

    def __init__(self, shard_rows: int = 1_048_576) -> None:
        self.shard_rows = shard_rows

    def run(
        self, fn: Callable[[Any], Any], items: Sequence[Any], keys: Sequence[str]
    ) -> Iterator[tuple[int, Any]]:
        for i, item in enumerate(items):
            yield i, fn(item)


class DaskExecutor(Executor):
    """A ``dask.distributed`` cluster reached through its scheduler.

    A task whose worker dies is run again on another worker by the scheduler (up to
    ``distributed.scheduler.allowed-failures`` times); a task that raises is not retried.
    """

    sharded = True

    def __init__(
        self,
        address: str,
        *,
        shard_rows: int = 1_048_576,
        connect_seconds: float | None = None,
    ) -> None:
        import logging

        from distributed import Client

        # A lost cluster is reported as one line (EngineLost); the client's own log of
        # it (reconnection tracebacks on stderr) is kept for debugging only.
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        self.name = address
        self.shard_rows = shard_rows
        self.address = "tcp://" + address.removeprefix(SCHEME)
        try:
            self.client = Client(
                self.address,
                timeout=CONNECT_SECONDS if connect_seconds is None else connect_seconds,
                set_as_default=False,
            )
        except (OSError, TimeoutError):
            raise BadInput.msg("engine.unreachable", address=address) from None

    def run(
        self, fn: Callable[[Any], Any], items: Sequence[Any], keys: Sequence[str]
    ) -> Iterator[tuple[int, Any]]:
        """Submits every task now (the cluster starts at once, a caller may start the next
        batch of tasks before it reads this one's results) and gives their results as
        they finish."""
        try:
            futures = [
                self.client.submit(fn, item, key=key, pure=False, retries=0)
                for item, key in zip(items, keys, strict=True)
            ]
        except (OSError, TimeoutError, RuntimeError):
            raise EngineLost.msg("engine.lost", address=self.name) from None
        return self._gathered(futures)

    def _gathered(self, futures: list[Any]) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        if not futures:
            return
        where = {f.key: i for i, f in enumerate(futures)}
        seen: set[int] = set()
        try:
            for fut in as_completed(futures, loop=self.client.loop):
                i = where[fut.key]
                if i in seen:  # the coordinator accepts exactly one result per shard
                    continue
                try:
                    result = fut.result()
                except HandoverError:
                    raise
                except Exception as exc:
                    raise _lost(exc, self.name) from None
                seen.add(i)
                # forgotten by the scheduler: a worker lost later is not asked again for it
                with contextlib.suppress(Exception):
                    fut.release()
                yield i, result
            if len(seen) < len(futures):
                raise EngineLost.msg("engine.lost", address=self.name)
        finally:
            pending = [f for f in futures if where[f.key] not in seen]
            if pending:
                with contextlib.suppress(Exception):  # the cluster may be gone already
                    self.client.cancel(pending)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a client whose scheduler is gone
            self.client.close(timeout=5)


def _lost(exc: Exception, address: str) -> Exception:
    """A failure of the cluster itself as :class:`EngineLost`; a kernel's own error as it is."""
    from asyncio import CancelledError as AsyncCancelled
    from concurrent.futures import CancelledError

    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    if isinstance(exc, KilledWorker):
        return EngineLost.msg("engine.killed", address=address)
    if isinstance(exc, CancelledError | AsyncCancelled | CommClosedError | OSError | TimeoutError):
        return EngineLost.msg("engine.lost", address=address)
    return exc


def task_keys(kind: str, n: int) -> list[str]:
    """Names of ``n`` tasks of one run: ``handover-KIND-RUN-i`` (no secret, no value)."""
    import secrets

    run = secrets.token_hex(4)
    return [f"handover-{kind}-{run}-{i}" for i in range(n)]


def open_executor(spec: str | None, settings: Settings) -> Executor:
    """The executor named by ``spec`` (a command's ``--executor``), else by the settings
    (``HANDOVER_EXECUTOR`` / ``executor`` in handover.toml): ``local`` or ``dask://host:port``."""
    chosen = (spec or settings.executor or LOCAL).strip()
    if chosen == LOCAL:
        return LocalExecutor(settings.shard_rows)
    if chosen.startswith(SCHEME) and len(chosen) > len(SCHEME):
        return DaskExecutor(chosen, shard_rows=settings.shard_rows)
    raise BadInput.msg("engine.bad_executor", executor=chosen)


@contextmanager
def executor_for(given: str | Executor | None, settings: Settings) -> Iterator[Executor]:
    """``given`` itself when it is an executor (the caller closes it), else the one it
    names (see :func:`open_executor`), closed at the end."""
    if isinstance(given, Executor):
        yield given
        return
    ex = open_executor(given, settings)
    try:
        yield ex
    finally:
        ex.close()
