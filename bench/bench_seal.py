"""Sealing speed: ``handover seal`` against plain Parquet and against raw AEAD (the limit).

Two views, for each suite (``aes``: AES-256-GCM; ``sm``: SM4-GCM key wrapping and SM3
file digests — Parquet pages are AES-GCM either way, the format defines nothing else):

1. end to end from the seller's SQLite file: ``seal`` versus writing the same tables as
   plain Parquet through the same reader, versus plain Parquet plus raw AEAD over the
   written bytes (what any "encrypt the export" pipeline would cost at best);
2. encoding only, tables already in memory as Arrow: encrypted Parquet + row digests
   (what seal does after reading), encrypted Parquet alone, plain Parquet, and raw AEAD
   over the plain Parquet bytes.

MB are Arrow in-memory bytes of the tables (the same for every peer).
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from pathlib import Path
from typing import Any

TABLE_HEAD = (
    "| suite | path | seconds | MB/s | rows/s | × plain Parquet |\n|---|---|---|---|---|---|"
)


def _load(src: str) -> dict[str, Any]:
    import pyarrow as pa

    from handover.package.seal import open_reader

    reader = open_reader(src)
    try:
        out = {}
        for d in reader.schema():
            batches = [sb.data for sb in reader.read(d, after=None, batch_size=65_536)]
            out[d.name] = pa.Table.from_batches(batches, schema=d.arrow_schema)
        return out
    finally:
        reader.close()


def _plain_from_source(src: str, folder: Path) -> float:
    import pyarrow.parquet as pq

    from handover.package.seal import open_reader

    t0 = time.perf_counter()
    reader = open_reader(src)
    try:
        for i, d in enumerate(reader.schema()):
            with pq.ParquetWriter(folder / f"{i}.parquet", d.arrow_schema) as w:
                for sb in reader.read(d, after=None, batch_size=65_536):
                    w.write_batch(sb.data)
    finally:
        reader.close()
    return time.perf_counter() - t0


def _aead_files(folder: Path, suite: str) -> float:
    from handover.crypto import seal as aead

    key = os.urandom(32 if suite == "aes" else 16)
    t0 = time.perf_counter()
    for p in sorted(folder.iterdir()):
        aead(p.read_bytes(), p.name.encode(), key, suite=suite)
    return time.perf_counter() - t0


def _aead_bytes(blobs: list[bytes], suite: str) -> float:
    from handover.crypto import seal as aead

    key = os.urandom(32 if suite == "aes" else 16)
    t0 = time.perf_counter()
    for b in blobs:
        aead(b, b"", key, suite=suite)
    return time.perf_counter() - t0


def _workspace(path: Path, suite: str) -> Any:
    from handover.flows.workspace import init_workspace
    from handover.workspace import open_workspace

    old = os.environ.get("HANDOVER_CRYPTO_SUITE")
    os.environ["HANDOVER_CRYPTO_SUITE"] = suite
    try:
        init_workspace(path, demo=True).close()
        return open_workspace(path)
    finally:
        if old is None:
            os.environ.pop("HANDOVER_CRYPTO_SUITE", None)
        else:
            os.environ["HANDOVER_CRYPTO_SUITE"] = old


def _in_memory(ws: Any, tables: dict[str, Any], repeat: int) -> dict[str, float]:
    """Best of ``repeat`` for each path, interleaved so that load hits every path alike."""
    import pyarrow.parquet as pq

    from handover.crypto import Keys
    from handover.crypto.parquet import encryption_properties
    from handover.package.seal import BATCH_ROWS, write_digested

    def encrypted(props_for: Any, digest: bool) -> float:
        t0 = time.perf_counter()
        for t in tables.values():
            props = props_for(t)
            sink = io.BytesIO()
            with pq.ParquetWriter(sink, t.schema, encryption_properties=props) as w:
                batches = t.to_batches(max_chunksize=BATCH_ROWS)
                if digest:  # exactly seal's path: writer + digest worker
                    write_digested(w, batches, t.schema).root()
                else:
                    for b in batches:
                        w.write_batch(b)
        return time.perf_counter() - t0

    times: dict[str, float] = {}
    blobs: list[bytes] = []
    from handover.ledger import Recorder

    with Keys(ws, events=Recorder(ws, "bench:1")) as keys:
        kid = keys.create("bench", "C2").key_id

        def props_for(t: Any) -> Any:
            return encryption_properties(keys, {kid: t.column_names}, kid)

        for _ in range(repeat):
            for label, digest in (("enc+digest", True), ("enc", False)):
                secs = encrypted(props_for, digest)
                times[label] = min(times.get(label, secs), secs)
            blobs = []
            t0 = time.perf_counter()
            for t in tables.values():
                buf = io.BytesIO()
                pq.write_table(t, buf)
                blobs.append(buf.getvalue())
            secs = time.perf_counter() - t0
            times["plain"] = min(times.get("plain", secs), secs)
        keys.destroy(kid, "benchmark key")
    times["aead"] = _aead_bytes(blobs, ws.settings.crypto_suite)
    return times


def run(quick: bool) -> str:
    """Markdown section: seal vs plain Parquet vs raw AEAD, both suites."""
    from handover.flows.scan import run_scan
    from handover.flows.seal import seal
    from handover.synth import synthesize

    customers = 3_000 if quick else 50_000
    lines = [
        "## Sealing (`handover seal`)",
        "",
        f"`python -m bench --only seal` — synthetic loan book of {customers:,} customers in "
        "SQLite; best of 2 runs end to end and of 3 in memory, the paths interleaved. "
        "Ratios are throughput relative to plain Parquet (higher is better; the goal is "
        "≥ 0.8). In memory, plain Parquet is `pyarrow.parquet.write_table` with its "
        "defaults; seal's path writes 65,536-row row groups and digests them in a worker "
        "thread (`handover.package.seal.write_digested`).",
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        src = str(base / "seller.db")
        synthesize(src, customers=customers, seed=2026)
        tables = _load(src)
        rows = sum(t.num_rows for t in tables.values())
        mb = sum(t.nbytes for t in tables.values()) / 1e6
        lines += [f"{rows:,} rows, {mb:,.1f} MB of Arrow data in {len(tables)} tables.", ""]
        end_to_end = [TABLE_HEAD]
        memory = [TABLE_HEAD]
        for suite in ("aes", "sm"):
            ws = _workspace(base / f"ws-{suite}", suite)
            try:
                run_scan(ws, src)  # the inventory exists beforehand, as in a real transfer
                # best of two, plain and seal interleaved
                t_plain = t_seal = float("inf")
                for i in range(2):
                    plain_dir = base / f"plain-{suite}-{i}"
                    plain_dir.mkdir()
                    t_plain = min(t_plain, _plain_from_source(src, plain_dir))
                    t0 = time.perf_counter()
                    seal(ws, src, base / f"pkg-{suite}-{i}")
                    t_seal = min(t_seal, time.perf_counter() - t0)
                t_aead = _aead_files(plain_dir, suite)
                aead_name = "AES-256-GCM" if suite == "aes" else "SM4-GCM"
                for label, secs in (
                    ("handover seal (encrypted Parquet + digests + signed manifest)", t_seal),
                    ("plain Parquet, same reader", t_plain),
                    (
                        f"plain Parquet + raw {aead_name} over its bytes (the limit)",
                        t_plain + t_aead,
                    ),
                ):
                    end_to_end.append(_row(suite, label, secs, mb, rows, t_plain))
                m = _in_memory(ws, tables, 3)
                for label, secs in (
                    (
                        "encrypted Parquet + row digests (seal's work after reading)",
                        m["enc+digest"],
                    ),
                    ("encrypted Parquet only (Parquet Modular Encryption)", m["enc"]),
                    ("plain Parquet", m["plain"]),
                    (f"plain Parquet + raw {aead_name} (the limit)", m["plain"] + m["aead"]),
                    (f"raw {aead_name} alone over the Parquet bytes", m["aead"]),
                ):
                    memory.append(_row(suite, label, secs, mb, rows, m["plain"]))
            finally:
                ws.close()
        lines += ["### End to end from SQLite", "", *end_to_end, ""]
        lines += ["### Encoding only (tables in memory)", "", *memory]
    return "\n".join(lines)


def _row(suite: str, label: str, secs: float, mb: float, rows: int, plain: float) -> str:
    return (
        f"| {suite} | {label} | {secs:.2f} | {mb / secs:,.1f} | {rows / secs:,.0f} | "
        f"{plain / secs:.2f} |"
    )
