"""``handover scan --full`` against Microsoft Presidio and a bare read of the same data.

Data: the synthetic loan book (1,000,000 customers; ``--quick``: 100,000) in SQLite.

- handover: ``scan_source(db, full=True)`` — sample stage + every row of the PII columns.
- bare read: every row of every column of every table into Arrow (sqlite3 cursor →
  ``pa.array``, the source's own fast path, no detection) — the floor for any scanner.
- Presidio (presidio-analyzer): ``AnalyzerEngine`` on a spaCy ``blank("zh")`` pipeline
  (no model can be downloaded here) with PatternRecognizers for the Chinese types it
  lacks (resident ID with GB 11643 in ``validate_result``, mobile, UnionPay card with
  Luhn, e-mail), lookarounds instead of ``\\b``, fed through
  ``BatchAnalyzerEngine.analyze_dict`` on a sample of rows of every table (NULLs
  skipped), extrapolated to every non-null cell. Its result is checked: the resident
  IDs it finds in the ID columns are compared with handover's count on the same cells.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

PRESIDIO_ROWS = 300  # rows per table fed to Presidio (extrapolated)


def _book(customers: int) -> Path:
    from handover.synth import synthesize

    out = Path("bench-out") / "scan"
    out.mkdir(parents=True, exist_ok=True)
    db = out / f"book-{customers}.db"
    if not db.exists() or not Path(str(db).removesuffix(".db") + ".truth.json").exists():
        db.unlink(missing_ok=True)
        synthesize(str(db), customers=customers, seed=2026)
    return db


def _bare_read(db: Path) -> tuple[float, int, int]:
    from handover.sources import open_source

    t0 = time.perf_counter()
    rows = cells = 0
    with open_source(db) as src:
        for info in src.tables():
            for batch in src.batches(info.name):
                rows += batch.num_rows
                cells += sum(len(c) - c.null_count for c in batch.columns)
    return time.perf_counter() - t0, rows, cells


def _presidio() -> Any:
    import spacy
    from presidio_analyzer import (
        AnalyzerEngine,
        BatchAnalyzerEngine,
        Pattern,
        PatternRecognizer,
        RecognizerRegistry,
    )
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    from handover.detect.checksums import is_valid_luhn, is_valid_resident_id

    class BlankChinese(SpacyNlpEngine):  # type: ignore[misc]
        """spaCy's blank zh pipeline: tokens only, no model download."""

        def __init__(self) -> None:
            super().__init__(models=[{"lang_code": "zh", "model_name": "blank-zh"}])

        def load(self) -> None:
            self.nlp = {"zh": spacy.blank("zh")}

    class ResidentId(PatternRecognizer):  # type: ignore[misc]
        def validate_result(self, pattern_text: str) -> bool:
            return is_valid_resident_id(pattern_text.upper())

    class UnionPay(PatternRecognizer):  # type: ignore[misc]
        def validate_result(self, pattern_text: str) -> bool:
            return is_valid_luhn(pattern_text)

    nlp = BlankChinese()
    nlp.load()
    reg = RecognizerRegistry(supported_languages=["zh"])
    reg.add_recognizer(
        ResidentId(
            supported_entity="CN_RESIDENT_ID",
            supported_language="zh",
            patterns=[Pattern("id18", r"(?<!\d)[1-9]\d{16}[\dXx](?!\d)", 0.5)],
            context=["身份证", "证件"],
        )
    )
    reg.add_recognizer(
        PatternRecognizer(
            supported_entity="CN_MOBILE",
            supported_language="zh",
            patterns=[Pattern("mobile", r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)", 0.6)],
            context=["手机", "电话"],
        )
    )
    reg.add_recognizer(
        UnionPay(
            supported_entity="CN_BANK_CARD",
            supported_language="zh",
            patterns=[Pattern("unionpay", r"(?<!\d)62\d{14,17}(?!\d)", 0.5)],
            context=["卡号"],
        )
    )
    reg.add_recognizer(
        PatternRecognizer(
            supported_entity="EMAIL_ADDRESS",
            supported_language="zh",
            patterns=[
                Pattern(
                    "email",
                    r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
                    0.6,
                )
            ],
        )
    )
    engine = AnalyzerEngine(nlp_engine=nlp, registry=reg, supported_languages=["zh"])
    return BatchAnalyzerEngine(engine)


def _presidio_run(db: Path) -> tuple[float, int, int, int]:
    """(seconds, cells analysed, resident IDs Presidio found, IDs handover finds there)."""
    import numpy as np

    from handover.detect import validate
    from handover.sources import open_source

    batch = _presidio()
    seconds = 0.0
    cells = found = expected = 0
    with open_source(db) as src:
        for info in src.tables():
            data = src.sample(info.name, PRESIDIO_ROWS, seed=7)
            columns = {}
            for name in data.column_names:
                col = (
                    data.column(name).cast("string")
                    if not str(data.column(name).type).startswith("string")
                    else data.column(name)
                )
                values = [v for v in col.to_pylist() if v is not None]
                if values:
                    columns[name] = values
            cells += sum(len(v) for v in columns.values())
            t0 = time.perf_counter()
            results = list(batch.analyze_dict(columns, language="zh"))
            seconds += time.perf_counter() - t0
            for res in results:
                n_ids = sum(
                    1
                    for cell in res.recognizer_results
                    for r in cell
                    if r.entity_type == "CN_RESIDENT_ID"
                )
                if res.key in ("sfzh", "zjhm", "sqr_zjhm", "身份证号"):
                    found += n_ids
                    expected += int(np.sum(validate("cn_resident_id_18", columns[res.key])))
    return seconds, cells, found, expected


def run(quick: bool) -> str:
    """Scan the loan book three ways; a markdown section with ratios."""
    from handover.detect.scan import scan_source

    customers = 100_000 if quick else 1_000_000
    db = _book(customers)
    truth = json.loads(Path(str(db).removesuffix(".db") + ".truth.json").read_text("utf-8"))

    bare_s, rows, cells = _bare_read(db)
    t0 = time.perf_counter()
    inv = scan_source(db, full=True)
    full_s = time.perf_counter() - t0
    p_s, p_cells, p_found, p_expected = _presidio_run(db)
    p_rate = p_cells / p_s
    p_total = cells / p_rate

    # Check both results, not only that they ran.
    wrong = 0
    pairs = 0
    for t in inv.tables:
        for c in t.columns:
            want = truth[t.name][c.name]
            got = {p.type for p in c.pii}
            if isinstance(want, dict) and "free_text" in want:
                wrong += got != set(want["free_text"])
            else:
                w = set(want["mixed"]) if isinstance(want, dict) else ({want} if want else set())
                wrong += w != got
            pairs += 1
    ids = next(
        c for t in inv.tables if t.name == "cust_info" for c in t.columns if c.name == "zjhm"
    )
    share = {p.type: p.share for p in ids.pii}["cn_resident_id"]
    lines = [
        f"## scan — `handover scan --full` vs Presidio vs bare read{' (quick)' if quick else ''}",
        "",
        f"`.venv/bin/python -m bench --only scan{' --quick' if quick else ''}` — synthetic loan book, "
        f"{customers:,} customers, {rows:,} rows, {cells:,} non-null cells in {len(inv.tables)} "
        "tables (SQLite).",
        "",
        "| what | seconds | cells/s | ratio |",
        "|---|---:|---:|---:|",
        f"| bare read: every column of every row into Arrow (sqlite3 → pyarrow) | {bare_s:.1f} "
        f"| {cells / bare_s:,.0f} | floor |",
        f"| handover scan --full (sample stage + every row of PII columns, free text) | {full_s:.1f} "
        f"| {cells / full_s:,.0f} | {full_s / bare_s:.2f}× the bare read |",
        f"| Presidio {PRESIDIO_ROWS} rows/table ({p_cells:,} cells in {p_s:.1f} s), extrapolated "
        f"| {p_total:,.0f} | {p_rate:,.0f} | handover {p_total / full_s:,.0f}× faster |",
        "",
        f"Checks: handover's columns against truth.json: {pairs - wrong}/{pairs} exact "
        f"(cust_info.zjhm resident-ID share {share:.1%}). Presidio found {p_found} resident IDs in "
        f"the sampled ID columns where handover's validator counts {p_expected} valid 18-digit IDs.",
    ]
    return "\n".join(lines)
