"""TLS to the Dask scheduler: a ``tls://`` executor with the CA, certificate and key of
the settings gives the local inventory; a scheduler whose certificate another CA signed
is refused in one line; a plain address to another machine is refused unless a setting
allows it.

The cluster is a ``LocalCluster`` (two worker processes, one thread each) started with
TLS security: certificates made in the test by distributed's ``Security.temporary()``
(the ``cryptography`` package), written to PEM files as an operator's would be.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine_support import cli, local_cluster, make_book

distributed = pytest.importorskip("distributed")
pytest.importorskip("cryptography")


def _pem_files(folder: Path, sec: Any) -> dict[str, str]:
    """The CA, certificate and key of ``sec`` as files, as the settings' environment."""
    folder.mkdir()
    out = {}
    for name, pem in (("ca", sec.tls_ca_file), ("cert", sec.tls_client_cert),
                      ("key", sec.tls_client_key)):  # fmt: skip
        path = folder / f"{name}.pem"
        path.write_text(pem, "ascii")
        out[f"HANDOVER_EXECUTOR_TLS_{name.upper()}"] = str(path)
    return out


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The ``tls://`` address of a TLS LocalCluster and the settings that reach it."""
    from distributed.security import Security

    sec = Security.temporary()
    env = _pem_files(tmp_path_factory.mktemp("tls") / "good", sec)
    with local_cluster(protocol="tls://", security=sec) as c:
        address = str(c.scheduler_address)
        assert address.startswith("tls://")
        yield address, env


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_book(tmp_path_factory.mktemp("tls-book"), 120)


def test_scan_over_tls_gives_the_local_inventory(
    book: tuple[Path, Path], tls_cluster: tuple[str, dict[str, str]]
) -> None:
    ws, src = book
    address, env = tls_cluster
    opts = ("--full", "--sample", "50", "--json")
    local = json.loads(cli(ws, "scan", str(src), *opts).stdout)
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        remote = json.loads(cli(ws, "scan", str(src), *opts, "--executor", address).stdout)
    assert remote == local


def test_a_scheduler_signed_by_another_ca_is_refused(
    book: tuple[Path, Path], tls_cluster: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    from distributed.security import Security

    ws, src = book
    address, _ = tls_cluster
    other = _pem_files(tmp_path / "other", Security.temporary())
    with pytest.MonkeyPatch.context() as mp:
        for k, v in other.items():
            mp.setenv(k, v)
        res = cli(ws, "scan", str(src), "--executor", address, code=2)
    assert "Traceback" not in res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and address in lines[0] and "refused the TLS connection" in lines[0]


def test_tls_needs_its_settings(book: tuple[Path, Path], tmp_path: Path) -> None:
    ws, src = book
    res = cli(ws, "scan", str(src), "--executor", "tls://10.0.0.10:8786", code=2)
    assert res.stderr.strip().splitlines() == [
        "error: executor tls://10.0.0.10:8786 needs the setting executor_tls_ca "
        "(a PEM file; see docs/scale.md)"
    ]
    with pytest.MonkeyPatch.context() as mp:
        for name in ("CA", "CERT", "KEY"):
            mp.setenv(f"HANDOVER_EXECUTOR_TLS_{name}", str(tmp_path / f"{name}.pem"))
        gone = cli(ws, "scan", str(src), "--executor", "tls://10.0.0.10:8786", code=2)
    assert "executor_tls_ca" in gone.stderr and str(tmp_path / "CA.pem") in gone.stderr


def test_plain_address_to_another_machine_is_refused(
    book: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from handover.engine import executor

    ws, src = book
    for spec in ("dask://10.0.0.10:8786", "tcp://scheduler.example:8786"):
        res = cli(ws, "scan", str(src), "--executor", spec, code=2)
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and spec in lines[0] and "executor_allow_plain" in lines[0]
    # allowed by the setting: the address is tried (TEST-NET-1: nothing answers there)
    monkeypatch.setattr(executor, "CONNECT_SECONDS", 1.0)
    monkeypatch.setenv("HANDOVER_EXECUTOR_ALLOW_PLAIN", "true")
    res = cli(ws, "scan", str(src), "--executor", "dask://192.0.2.1:8786", code=2)
    assert "cannot reach the Dask scheduler dask://192.0.2.1:8786" in res.stderr


def test_parse_address(tmp_path: Path) -> None:
    from handover.engine.executor import parse_address
    from handover.errors import BadInput
    from handover.settings import load_settings

    settings = load_settings(tmp_path)
    for spec in ("dask://127.0.0.1:8786", "tcp://localhost:8786", "dask://[::1]:8786"):
        a = parse_address(spec, settings)
        assert a.tls is None and a.url.startswith("tcp://") and a.given == spec
    for bad in ("dask://", "dask://host", "dask://host:port", "spark://h:1", "tls://h:1/x"):
        with pytest.raises(BadInput):
            parse_address(bad, settings)
