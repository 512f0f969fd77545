"""``handover dd-extract``: the buyer's due-diligence view of the loan book (docs/deid.md).

Per column, from the scan inventory (never guessed):

- authentication data (JR/T 0171 C3: passwords, PINs, CVN, tokens) is dropped;
- identity-document and card/account numbers become keyed HMAC tokens (a transfer-scoped
  ``tokenize`` key from the key backend), plus a display-masked companion column;
- customer keys used for joins (the primary key of every table holding names or
  identity documents, and every foreign key pointing at it) become tokens of the same
  domain, so joins between tables still match;
- phones, e-mail, IP, plates, USCC are display-masked; names keep the surname; addresses
  are generalised to province/city; birth dates to the year;
- free text has every PII span replaced by a type tag; amounts and loan terms stay exact.

Output: one Parquet file per table, XLSX for tables of at most ``xlsx_limit`` rows, the
k-anonymity report (JSON + zh-CN/en Markdown) and ``rules.json`` (what happened to each
column). Built in a hidden folder and renamed into place.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

import handover.deid.messages  # noqa: F401  (registers the texts)
from handover.deid import mask
from handover.deid.kanon import KReport, k_anonymity, markdown
from handover.deid.tags import tag_text
from handover.errors import BadInput
from handover.i18n import t
from handover.results import PerTableRows

if TYPE_CHECKING:
    from handover.events import EventSink
    from handover.migrate.schema import TableDef
    from handover.workspace import Workspace

ID_DOCS = ("cn_resident_id", "passport", "hk_macau_permit", "taiwan_permit")
TOKENISED = (*ID_DOCS, "bank_card", "account_number")
MASKED = ("cn_mobile", "cn_landline", "email", "ip_address", "licence_plate", "uscc")
PERSON_TYPES = ("person_name", *ID_DOCS)
DEFAULT_QI = ("birth_date", "gender", "address")
#: XLSX (openpyxl, row by row) only for tables of at most this many rows; Parquet always
XLSX_LIMIT = 20_000
BATCH_ROWS = 65_536
MASKED_SUFFIX = "_masked"
TOKEN_PREFIX = "tk_"


@dataclass
class ColumnPlan:
    """What happens to one column, and why (the rule is named, never a value)."""

    name: str
    action: str  # keep | drop | token | mask | surname | region | year | tag
    pii_type: str | None = None
    domain: str | None = None
    companion: str | None = None

    def to_json(self) -> dict[str, Any]:
        """rules.json form."""
        out: dict[str, Any] = {
            "column": self.name,
            "action": self.action,
            "pii_type": self.pii_type,
        }
        if self.domain:
            out["token_domain"] = self.domain
        if self.companion:
            out["masked_column"] = self.companion
        return out


@dataclass
class ExtractResult(PerTableRows):
    """What the extract holds: tables, rows, files, rules, k-anonymity, the token key id."""

    out: Path
    source: str
    token_key: str
    tables: list[dict[str, Any]] = field(default_factory=list)
    kanon: list[KReport] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Machine form: counts, file names, rules and k-anonymity — no values."""
        return {
            "out": str(self.out),
            "source": self.source,
            "token_key": self.token_key,
            "tables": self.tables,
            "rows": self.rows,
            "k_anonymity": [r.to_json() for r in self.kanon],
            "seconds": round(self.seconds, 3),
        }


# --- planning ------------------------------------------------------------------------------


def plan_tables(
    defs: list[TableDef], inventory: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, list[ColumnPlan]]:
    """The column plan of every table, from the inventory and the foreign keys."""
    person = {
        d.name
        for d in defs
        if any(
            set(inventory.get((d.name, c.name), {}).get("types", [])) & set(PERSON_TYPES)
            and not inventory.get((d.name, c.name), {}).get("free_text")
            for c in d.columns
        )
    }
    join_keys: dict[tuple[str, str], str] = {}
    for d in defs:
        if d.name in person and len(d.primary_key) == 1:
            join_keys[(d.name, d.primary_key[0])] = d.name
    for d in defs:
        for fk in d.foreign_keys:
            if fk.ref_table in person and len(fk.columns) == 1:
                join_keys[(d.name, fk.columns[0])] = fk.ref_table
    plans: dict[str, list[ColumnPlan]] = {}
    for d in defs:
        cols = []
        for c in d.columns:
            inv = inventory.get((d.name, c.name), {})
            cols.append(_column_plan(d.name, c.name, inv, join_keys))
        plans[d.name] = cols
    return plans


def _column_plan(
    table: str, name: str, inv: dict[str, Any], join_keys: dict[tuple[str, str], str]
) -> ColumnPlan:
    from handover.taxonomy import get

    types = [x for x in inv.get("types", []) if _known(x)]
    primary = inv.get("primary") or (types[0] if types else None)
    if inv.get("tier") == "C3" or any(get(x).tier == "C3" for x in types):
        return ColumnPlan(name, "drop", primary)
    if inv.get("free_text"):
        return ColumnPlan(name, "tag", primary)
    if (table, name) in join_keys:
        return ColumnPlan(name, "token", primary, domain=join_keys[(table, name)])
    if primary in TOKENISED:
        domain = "identity" if primary in ID_DOCS else primary
        return ColumnPlan(name, "token", primary, domain=domain, companion=name + MASKED_SUFFIX)
    if primary in MASKED:
        return ColumnPlan(name, "mask", primary)
    if primary == "person_name":
        return ColumnPlan(name, "surname", primary)
    if primary == "address":
        return ColumnPlan(name, "region", primary)
    if primary == "birth_date":
        return ColumnPlan(name, "year", primary)
    return ColumnPlan(name, "keep", primary)


def _known(pii_type: str) -> bool:
    from handover.taxonomy import get

    try:
        get(pii_type)
    except KeyError:
        return False
    return True


# --- the kernels ---------------------------------------------------------------------------


def transform(
    batch: pa.RecordBatch,
    plan: list[ColumnPlan],
    tokenizer: Callable[[pa.Array], pa.Array],
    lang: str,
) -> pa.RecordBatch:
    """Apply a table's plan to one batch (vectorised; tokens over distinct values)."""
    from handover.taxonomy import get

    names: list[str] = []
    arrays: list[pa.Array] = []
    for p in plan:
        arr = batch.column(p.name)
        if p.action == "drop":
            continue
        if p.action == "keep":
            out = arr
        elif p.action == "token":
            assert p.domain is not None
            text = mask.as_text(arr)
            tokens = tokenizer(pc.binary_join_element_wise(p.domain, text, ":"))
            # The prefix marks a token as one and keeps it from looking like an account number.
            out = pc.binary_join_element_wise(TOKEN_PREFIX, tokens, "")
        elif p.action == "tag":
            out = tag_text(mask.as_text(arr), lang)
        elif p.action == "mask":
            assert p.pii_type is not None
            out = mask.apply_rule(get(p.pii_type).mask, arr)
        elif p.action == "surname":
            out = mask.surname(arr)
        elif p.action == "region":
            out = mask.region(arr)
        elif p.action == "year":
            out = mask.year(arr)
        else:
            raise ValueError(f"unknown action {p.action}")
        names.append(p.name)
        arrays.append(out)
        if p.companion:
            assert p.pii_type is not None
            names.append(p.companion)
            arrays.append(mask.apply_rule(get(p.pii_type).mask, arr))
    return pa.RecordBatch.from_arrays(arrays, names=names)


# --- the extract ---------------------------------------------------------------------------


def token_key(ws: Workspace, events: EventSink) -> str:
    """The transfer's tokenisation key: the newest active ``tokenize`` key, created (and
    reported to ``events``) if none."""
    from handover.crypto import Keys
    from handover.crypto.keys import TOKENIZE

    with Keys(ws, events=events) as keys:
        active = [k for k in keys.list() if k.purpose == TOKENIZE and k.state == "active"]
        if active:
            return active[-1].key_id
        return keys.create(TOKENIZE).key_id


def dd_extract(
    ws: Workspace,
    source: str | Path,
    out: str | Path,
    *,
    k: int = 5,
    quasi_identifiers: tuple[str, ...] = DEFAULT_QI,
    xlsx_limit: int = XLSX_LIMIT,
    tables: list[str] | None = None,
    lang: str | None = None,
) -> ExtractResult:
    """Write the de-identified due-diligence extract of ``source`` into the new folder ``out``.

    Authorised first as ``dd.extract`` on the tables (default every tier: C3 is read to
    be dropped, and a missing inventory is scanned), tokenised. Records ``dd.extract``
    in the ledger (key id and counts only).
    """
    import pyarrow.parquet as pq

    from handover.crypto import Keys, suites
    from handover.crypto.tokenize import tokenize_with
    from handover.flows.scan import inventory_for
    from handover.governance import data_resource, require
    from handover.ledger import Recorder
    from handover.package.seal import open_reader
    from handover.sources import mask_spec

    language = lang or ws.settings.lang
    if k < 2:
        raise BadInput.msg("deid.bad_k", k=k)
    if xlsx_limit < 0 or xlsx_limit > 1_048_575:
        raise BadInput.msg("deid.bad_xlsx_limit", limit=xlsx_limit)
    out = Path(out)
    if out.exists():
        raise BadInput(t("deid.exists", language, path=out))
    if not out.parent.is_dir():
        raise BadInput.msg("deid.no_folder", path=out.parent)
    decision = require(ws, "dd.extract", data_resource(tables, "tokenised"))
    t0 = time.perf_counter()
    shown = mask_spec(str(source))
    inventory, scan_id = inventory_for(ws, source, authorized=decision)
    key_id = token_key(ws, Recorder(ws, decision.actor))
    with Keys(ws) as keys:
        info = keys.active(key_id)
        _, secret = keys.secret(key_id)
    algorithm = suites.suite(info.suite).digest

    def tokenizer(values: pa.Array) -> pa.Array:
        return tokenize_with(secret, values, algorithm=algorithm)

    tmp = out.parent / f".{out.name}.partial-{secrets.token_hex(4)}"
    result = ExtractResult(out, shown, key_id)
    rules: dict[str, list[dict[str, Any]]] = {}
    reader = open_reader(source, tables)
    try:
        (tmp / "parquet").mkdir(parents=True)
        (tmp / "xlsx").mkdir()
        (tmp / "report").mkdir()
        defs = reader.schema()
        plans = plan_tables(defs, inventory)
        for d in defs:
            plan = plans[d.name]
            rules[d.name] = [p.to_json() for p in plan]
            qi_cols = [
                p.name for p in plan if p.pii_type in quasi_identifiers and p.action != "drop"
            ]
            slug = _slug(d.name)
            pq_path = tmp / "parquet" / f"{slug}.parquet"
            want_xlsx = reader.count(d) <= xlsx_limit
            held: list[pa.RecordBatch] = []
            qi_parts: list[pa.RecordBatch] = []
            writer: pq.ParquetWriter | None = None
            rows = 0
            try:
                for sb in reader.read(d, after=None, batch_size=BATCH_ROWS):
                    if sb.rejects:
                        r = sb.rejects[0]
                        raise BadInput.msg(
                            "deid.source_reject",
                            source=shown,
                            table=d.name,
                            row_key=r.key,
                            column=r.column,
                        )
                    outb = transform(sb.data, plan, tokenizer, language)
                    if writer is None:
                        writer = pq.ParquetWriter(pq_path, outb.schema)
                    writer.write_batch(outb)
                    rows += outb.num_rows
                    if qi_cols:
                        qi_parts.append(outb.select(qi_cols))
                    if want_xlsx:
                        held.append(outb)
            finally:
                if writer is not None:
                    writer.close()
            if writer is None:
                empty = transform(_empty_batch(d), plan, tokenizer, language)
                pq.write_table(pa.Table.from_batches([empty]), pq_path)
                held = [empty] if want_xlsx else []
            files = [f"parquet/{slug}.parquet"]
            if want_xlsx:
                _write_xlsx(tmp / "xlsx" / f"{slug}.xlsx", d.name, held)
                files.append(f"xlsx/{slug}.xlsx")
            if qi_cols:
                qi_schema = pa.schema(
                    [
                        transform(_empty_batch(d), plan, tokenizer, language).schema.field(c)
                        for c in qi_cols
                    ]
                )
                qi_table = (
                    pa.Table.from_batches(qi_parts, schema=qi_schema)
                    if qi_parts
                    else qi_schema.empty_table()
                )
                result.kanon.append(k_anonymity(d.name, qi_table, k))
            result.tables.append(
                {
                    "name": d.name,
                    "rows": rows,
                    "files": files,
                    "dropped": [p.name for p in plan if p.action == "drop"],
                    "tokenised": [p.name for p in plan if p.action == "token"],
                }
            )
        _write_reports(tmp / "report", result, rules, quasi_identifiers, k)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        reader.close()
    result.seconds = time.perf_counter() - t0
    from handover.ledger import record

    record(
        ws,
        decision.actor,
        "dd.extract",
        str(out),
        "due_diligence",
        {
            "source": shown,
            "out": str(out),
            "hmac_key_id": key_id,
            "scan_id": scan_id,
            "tables": len(result.tables),
            "rows": result.rows,
            "columns": {
                a: sum(1 for cols in rules.values() for c in cols if c["action"] == a)
                for a in ("drop", "token", "mask", "surname", "region", "year", "tag", "keep")
            },
            "k": k,
            "min_k": {r.table: r.min_k for r in result.kanon},
        },
    )
    return result


def _empty_batch(d: TableDef) -> pa.RecordBatch:
    schema = d.arrow_schema
    return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)


def _slug(name: str) -> str:
    slug = re.sub(r"[^\w\-]+", "_", name, flags=re.UNICODE).strip("_")
    return slug[:80] or "table"


def _write_xlsx(path: Path, title: str, batches: list[pa.RecordBatch]) -> None:
    """One sheet per table (openpyxl write-only); only for tables under the row limit."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_slug(title)[:31])
    if batches:
        ws.append(batches[0].schema.names)
    for b in batches:
        cols = [c.to_pylist() for c in b.columns]
        for row in zip(*cols, strict=True):
            ws.append(list(row))
    wb.save(path)


def _write_reports(
    folder: Path,
    result: ExtractResult,
    rules: dict[str, list[dict[str, Any]]],
    qi: tuple[str, ...],
    k: int,
) -> None:
    doc = {
        "k": k,
        "quasi_identifier_types": list(qi),
        "tables": [r.to_json() for r in result.kanon],
    }
    (folder / "k-anonymity.json").write_text(
        json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    for lang in ("zh-CN", "en"):
        (folder / f"k-anonymity.{lang}.md").write_text(
            markdown(result.kanon, lang), encoding="utf-8"
        )
    (folder / "rules.json").write_text(
        json.dumps({"token_key": result.token_key, "tables": rules}, ensure_ascii=False, indent=2)
        + "\n",
        encoding="utf-8",
    )
