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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.errors import BadInput, CheckFailed, HandoverError

if TYPE_CHECKING:
    from types import TracebackType

    from handover.settings import Settings

LOCAL = "local"
SCHEME = "dask://"
TLS = "tls://"
#: the addresses of a Dask scheduler an executor may name (dask:// is tcp://)
SCHEMES = (SCHEME, "tcp://", TLS)
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


@dataclass(frozen=True)
class Address:
    """A Dask scheduler as an executor names it: ``dask://`` or ``tcp://`` (plain) or
    ``tls://`` (encrypted, with the CA, certificate and key of the settings)."""

    given: str
    url: str
    tls: tuple[Path, Path, Path] | None = None


def parse_address(spec: str, settings: Settings) -> Address:
    """The scheduler ``spec`` names, checked without connecting: its form, the TLS files
    a ``tls://`` address needs, and that a plain address is this machine's unless
    ``executor_allow_plain`` says otherwise (BadInput naming the address, else)."""
    scheme = next((s for s in SCHEMES if spec.startswith(s)), None)
    rest = spec[len(scheme) :] if scheme else ""
    host, sep, port = rest.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if scheme is None or not sep or not host or not port.isdigit() or "/" in rest:
        raise BadInput.msg("engine.bad_executor", executor=spec)
    if scheme == TLS:
        files = (settings.executor_tls_ca, settings.executor_tls_cert, settings.executor_tls_key)
        names = ("executor_tls_ca", "executor_tls_cert", "executor_tls_key")
        for name, path in zip(names, files, strict=True):
            if path is None:
                raise BadInput.msg("engine.tls_setting", address=spec, setting=name)
            if not path.is_file():
                raise BadInput.msg("engine.tls_file", setting=name, path=path)
        ca, cert, key = (p for p in files if p is not None)
        return Address(spec, spec, (ca, cert, key))
    if not _loopback(host) and not settings.executor_allow_plain:
        raise BadInput.msg("engine.plain_refused", address=spec)
    return Address(spec, "tcp://" + rest)


def _loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DaskExecutor(Executor):
    """A ``dask.distributed`` cluster reached through its scheduler.

    A task whose worker dies is run again on another worker by the scheduler (up to
    ``distributed.scheduler.allowed-failures`` times); a task that raises is not retried.
    """

    sharded = True

    def __init__(
        self,
        address: str | Address,
        *,
        shard_rows: int = 1_048_576,
        connect_seconds: float | None = None,
    ) -> None:
        import logging

        from distributed import Client
        from distributed.comm.core import FatalCommClosedError

        # A lost cluster is reported as one line (EngineLost); the client's own log of
        # it (reconnection tracebacks on stderr) is kept for debugging only.
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        if isinstance(address, str):  # a plain address, as the tests give one
            address = Address(address, "tcp://" + address.removeprefix(SCHEME))
        self.name = address.given
        self.shard_rows = shard_rows
        self.address = address.url
        security = None
        if address.tls is not None:
            from distributed.security import Security

            ca, cert, key = address.tls
            security = Security(
                tls_ca_file=str(ca),
                tls_client_cert=str(cert),
                tls_client_key=str(key),
                require_encryption=True,
            )
        try:
            self.client = Client(
                self.address,
                timeout=CONNECT_SECONDS if connect_seconds is None else connect_seconds,
                set_as_default=False,
                security=security,
            )
        except FatalCommClosedError:  # the TLS handshake failed: certificates not accepted
            raise BadInput.msg("engine.tls_refused", address=self.name) from None
        except (OSError, TimeoutError):
            raise BadInput.msg("engine.unreachable", address=self.name) from None

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
    (``HANDOVER_EXECUTOR`` / ``executor`` in handover.toml): ``local``, ``dask://host:port``
    (plain, this machine unless ``executor_allow_plain``) or ``tls://host:port``."""
    chosen = (spec or settings.executor or LOCAL).strip()
    if chosen == LOCAL:
        return LocalExecutor(settings.shard_rows)
    return DaskExecutor(parse_address(chosen, settings), shard_rows=settings.shard_rows)


def configured(settings: Settings) -> list[str]:
    """The executors a console job may run on: local, the ``executor`` setting and the
    ``executors`` list, each once."""
    named = [LOCAL, settings.executor or LOCAL, *settings.executors]
    return list(dict.fromkeys(x.strip() for x in named if x.strip()))


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
