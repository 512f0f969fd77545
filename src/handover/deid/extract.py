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

Every shipped table meets k over its quasi-identifiers: they are generalised along their
hierarchies to the least-loss combination that meets k with at most ``max_suppression``
of the records suppressed (:mod:`handover.deid.anonymize`); a table that cannot is
refused and not written. Output: one Parquet file per shipped table, XLSX for tables of
at most ``xlsx_limit`` rows, the k-anonymity report (JSON + zh-CN/en Markdown: levels,
loss, suppressed records, refusals, effect on joins) and ``rules.json`` (what happened
to each column). Built in a hidden folder and renamed into place.
"""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from handover.crypto.files import place_folder
from handover.deid import hierarchy, mask
from handover.deid.anonymize import Anonymisation, Policy, QuasiIdentifier, anonymise
from handover.deid.hierarchy import Hierarchy
from handover.deid.kanon import KReport, ReportContext, k_anonymity, markdown
from handover.deid.tags import tag_text
from handover.errors import BadInput, CheckFailed
from handover.i18n import Msg
from handover.parquet_layout import dictionary_columns
from handover.prefetch import closed, prefetch
from handover.progress import NoProgress, Progress
from handover.results import PerTableRows

if TYPE_CHECKING:
    from handover.db.reflect import TableDef
    from handover.events import EventSink
    from handover.migrate.reader import MigrationSource, SourceBatch
    from handover.workspace import Workspace

ID_DOCS = ("cn_resident_id", "passport", "hk_macau_permit", "taiwan_permit")
TOKENISED = (*ID_DOCS, "bank_card", "account_number")
MASKED = ("cn_mobile", "cn_landline", "email", "ip_address", "licence_plate", "uscc")
PERSON_TYPES = ("person_name", *ID_DOCS)
DEFAULT_QI = ("birth_date", "gender", "address")
#: XLSX (openpyxl, row by row) only for tables of at most this many rows; Parquet always
XLSX_LIMIT = 20_000
#: at most this share of a table's records may be suppressed to reach k (docs/deid.md)
MAX_SUPPRESSION = 0.05
BATCH_ROWS = 65_536
#: tables read and written at once (:func:`write_extract`)
LANES = 2

T = TypeVar("T")
MASKED_SUFFIX = "_masked"
TOKEN_PREFIX = "tk_"


class _Stopped(Exception):
    """A table's finishing work ended early: the extract stopped (its own error is told)."""


#: an anonymised table's report, its summary (None: refused) and its lost keys (if any)
Anonymised = tuple[KReport, dict[str, Any] | None, tuple[str, pa.Array | None] | None]


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
    #: tables not shipped because no generalisation meets k within the cap: name, rows, reason
    refused: list[dict[str, Any]] = field(default_factory=list)
    #: references into tables that lost records (see docs/deid.md, joins)
    joins: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    #: rows (line numbers) each file table lost, as ``--allow-bad-rows`` allowed
    skipped: dict[str, list[int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Machine form: counts, file names, rules and k-anonymity — no values."""
        return {
            "out": str(self.out),
            "source": self.source,
            "token_key": self.token_key,
            "tables": self.tables,
            "rows": self.rows,
            "k_anonymity": [r.to_json() for r in self.kanon],
            "refused": self.refused,
            "joins": self.joins,
            "seconds": round(self.seconds, 3),
            "skipped_rows": self.skipped,
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
    """Apply a table's plan to one batch (vectorised; tokens over distinct values, each
    token column's started where the tokenizer works beside this thread and taken last)."""
    from handover.crypto.tokenize import tokens_later
    from handover.taxonomy import get

    names: list[str] = []
    arrays: list[pa.Array | None] = []
    #: (place in ``arrays``, the distinct values' tokens to come, each row's value's index)
    pending: list[tuple[int, Callable[[], pa.Array], pa.Array]] = []
    for p in plan:
        arr = batch.column(p.name)
        if p.action == "drop":
            continue
        out: pa.Array | None
        if p.action == "keep":
            out = arr
        elif p.action == "token":
            assert p.domain is not None
            values = mask.as_text(arr).dictionary_encode()
            keyed = pc.binary_join_element_wise(p.domain, values.dictionary, ":")
            later = tokens_later(tokenizer, keyed, distinct=True)
            pending.append((len(arrays), later, values.indices))
            out = None
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
    for at, later, indices in pending:
        # The prefix marks a token as one and keeps it from looking like an account number.
        arrays[at] = pc.binary_join_element_wise(TOKEN_PREFIX, later(), "").take(indices)
    return pa.RecordBatch.from_arrays(arrays, names=names)


# --- the extract ---------------------------------------------------------------------------


def token_key(ws: Workspace, events: EventSink) -> str:
    """The transfer's tokenisation key: the newest active ``tokenize`` key, created (and
    reported to ``events``) if none."""
    from handover.crypto import Keys
    from handover.crypto.keys import TOKENIZE

    with Keys(ws, events=events) as keys:
        return keys.newest_or_create(TOKENIZE)


def check_request(
    out: Path,
    *,
    k: int,
    max_suppression: float,
    l_diversity: tuple[str, int] | None,
    xlsx_limit: int,
    quasi_identifiers: tuple[str, ...] = DEFAULT_QI,
) -> None:
    """Refuse (BadInput, naming the option) an extract request that cannot be right."""
    from handover.taxonomy import TAXONOMY

    known = {p.name for p in TAXONOMY}
    for qi in quasi_identifiers:
        if qi not in known:
            raise BadInput.msg("deid.bad_qi", qi=qi, known=", ".join(sorted(known)))
    if k < 2:
        raise BadInput.msg("deid.bad_k", k=k)
    if not 0.0 <= max_suppression <= 1.0:
        raise BadInput.msg("deid.bad_max_suppression", value=f"{max_suppression * 100:g}")
    if l_diversity is not None and (not l_diversity[0] or l_diversity[1] < 2):
        raise BadInput.msg("deid.bad_l_diversity", value=f"{l_diversity[0]}:{l_diversity[1]}")
    if xlsx_limit < 0 or xlsx_limit > 1_048_575:
        raise BadInput.msg("deid.bad_xlsx_limit", limit=xlsx_limit)
    if out.exists():
        raise BadInput.msg("deid.exists", path=out)
    if not out.parent.is_dir():
        raise BadInput.msg("deid.no_folder", path=out.parent)
    if not os.access(out.parent, os.W_OK | os.X_OK):  # a read-only folder or file system
        raise BadInput.msg(
            "deid.folder_unwritable", path=out, folder=out.parent, reason="PermissionError"
        )


def check_l_column(l_diversity: tuple[str, int] | None, defs: list[TableDef]) -> None:
    """Refuse an l-diversity column that no table of the source has."""
    if l_diversity is not None and not any(l_diversity[0] in d.column_names for d in defs):
        raise BadInput.msg("deid.bad_l_column", column=l_diversity[0])


def write_extract(
    reader: MigrationSource,
    defs: list[TableDef],
    plans: dict[str, list[ColumnPlan]],
    out: Path,
    *,
    tokenizer: Callable[[pa.Array], pa.Array],
    key_id: str,
    shown: str,
    k: int,
    max_suppression: float,
    l_diversity: tuple[str, int] | None,
    quasi_identifiers: tuple[str, ...],
    xlsx_limit: int,
    lang: str,
    progress: Progress | None = None,
    transformed: Callable[[TableDef], Iterator[pa.RecordBatch]] | None = None,
) -> tuple[ExtractResult, dict[str, list[dict[str, Any]]]]:
    """Write the de-identified extract of ``defs`` into the new folder ``out``: the result
    and the rule applied to every column.

    Every shipped table meets k (and the optional distinct l-diversity ``(column, l)``)
    over its quasi-identifiers, after the least-loss generalisation and the suppression of
    at most ``max_suppression`` (a fraction) of its records; a table that cannot is refused
    and not written, the reason in the report. Built in a hidden folder renamed into place
    at the end: a failure leaves nothing. Each table is a task of ``progress`` (rows read).
    ``transformed``: where a table's rows come from already transformed (a cluster's
    workers, in key order); default read from ``reader`` and transformed here.
    """
    prog: Progress = progress or NoProgress()
    t0 = time.perf_counter()
    tmp = out.parent / f".{out.name}.partial-{secrets.token_hex(4)}"
    try:
        result = ExtractResult(out, shown, key_id)
        policy = Policy(k, max_suppression, l_diversity[1] if l_diversity else 0)
        ctx = ReportContext(
            k,
            max_suppression,
            list(quasi_identifiers),
            l_diversity[0] if l_diversity else None,
            policy.distinct_l,
        )
        rules: dict[str, list[dict[str, Any]]] = {}
        for sub in ("parquet", "xlsx", "report", "stage"):
            try:
                (tmp / sub).mkdir(parents=True)
            except OSError as exc:  # the folder became unwritable since the request's check
                raise BadInput.msg(
                    "deid.folder_unwritable", path=out, folder=out.parent, reason=type(exc).__name__
                ) from None
        lost: dict[str, tuple[str, pa.Array | None]] = {}
        # Two tables are read, transformed and written (or staged) at once, each on a lane
        # of its own: one SQLite read stream is what bounds a table (a batch of `hkls`
        # every 0.15 s however the rest is arranged). A table's finishing work (an
        # anonymised table's search, generalised write and k check; an XLSX copy) then
        # runs on a thread of its own, one table at a time and in table order, while the
        # next tables are read. The first failure (a lane's or a finishing work's) stops
        # the others at their next step and is the one told; a stop here (an error,
        # Ctrl-C) ends the finishing work at its next step.
        names = file_names(defs)
        stop = threading.Event()
        outcomes: list[tuple[str, str | None, Future[Anonymised | dict[str, Any]]]] = []

        def failed_before() -> None:
            if stop.is_set():
                raise _Stopped
            if outcomes and outcomes[-1][2].done():
                outcomes[-1][2].result()  # raises the table before's failure, if any

        def start(d: TableDef) -> tuple[str | None, Callable[[], Callable[[], Any]]]:
            """Table ``d``'s job: the column of its l-diversity (None: not anonymised) and
            its read-and-write work, which returns its finishing work."""
            plan = plans[d.name]
            rules[d.name] = [p.to_json() for p in plan]
            prog.task(d.name, reader.count(d))
            job = _TableJob(
                d, plan, tokenizer, lang, shown, tmp, xlsx_limit, prog, transformed,
                slug=names[d.name], stop=stop, ahead=failed_before,
            )  # fmt: skip
            qis = quasi_identifier_plans(plan, quasi_identifiers)
            if not qis:
                ctx.plain.append(d.name)
                return None, functools.partial(job.write_plain, reader)
            sensitive = ctx.l_column if ctx.l_column in job.output_names else None
            # l-diversity binds the tables that hold the sensitive column; k binds all.
            table_policy = policy if sensitive else replace(policy, distinct_l=0)
            return sensitive, functools.partial(
                job.write_anonymised, reader, qis, table_policy, sensitive
            )

        # a cluster's shards (``transformed``) arrive one table at a time, on this thread
        width = LANES if transformed is None else 1
        finisher = ThreadPoolExecutor(1, thread_name_prefix="extract-finish")
        written: deque[tuple[str, str | None, Future[Callable[[], Any]]]] = deque()
        # daemon threads, as the job thread of the console that may run this
        lanes: list[threading.Thread] = []
        #: the first failure that is not a stop: the one the extract tells
        failures: list[BaseException] = []
        failures_lock = threading.Lock()

        def guarded(work: Callable[[], T]) -> T:
            """``work()``; its failure stops the other tables at their next step."""
            try:
                return work()
            except BaseException as exc:
                with failures_lock:
                    if not failures and not isinstance(exc, _Stopped):
                        failures.append(exc)
                stop.set()
                raise

        def on_lane(work: Callable[[], Callable[[], Any]]) -> Future[Callable[[], Any]]:
            done: Future[Callable[[], Any]] = Future()

            def run() -> None:
                try:
                    done.set_result(guarded(work))
                except BaseException as exc:  # told by the main thread, in table order
                    done.set_exception(exc)

            if width == 1:
                run()
            else:
                lane = threading.Thread(target=run, name="extract-lane", daemon=True)
                lanes.append(lane)
                lane.start()
            return done

        def finish_next() -> None:
            name, sensitive, work = written.popleft()
            finish = work.result()  # the table's read and write: its failure stops all
            if outcomes:
                outcomes[-1][2].result()  # the table before: its failure stops the extract
            outcomes.append((name, sensitive, finisher.submit(guarded, finish)))

        try:
            for d in defs:
                sensitive, work = start(d)
                written.append((d.name, sensitive, on_lane(work)))
                del work  # its held columns go when its work is done, not a table later
                if len(written) >= width:
                    finish_next()
            while written:
                finish_next()
        except BaseException as exc:
            stop.set()
            with failures_lock:
                first = failures[0] if failures else None
            if isinstance(exc, _Stopped) and first is not None:
                raise first from None  # what stopped this table is the error told
            raise
        finally:
            for lane in lanes:
                lane.join()
            finisher.shutdown(wait=True)
        for name, sensitive, done in outcomes:
            outcome = done.result()
            if isinstance(outcome, dict):
                result.tables.append(outcome)
                continue
            rep, shipped, gone = outcome
            rep.l_column = sensitive
            result.kanon.append(rep)
            if shipped is not None:
                result.tables.append(shipped)
            else:
                result.refused.append(
                    {"name": name, "rows": rep.rows, "reason": rep.to_json()["reason"]}
                )
            if gone is not None:
                lost[name] = gone
        ctx.joins = _orphans(defs, plans, lost, tmp / "parquet", names)
        shutil.rmtree(tmp / "stage")
        _write_reports(tmp / "report", result, rules, ctx)
        place_folder(tmp, out, "deid.exists")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.joins = ctx.joins
    result.seconds = time.perf_counter() - t0
    return result, rules


def parse_l_diversity(text: str) -> tuple[str, int]:
    """``COLUMN:L`` as given to ``--l-diversity`` (L an integer of 2 or more)."""
    column, sep, number = text.strip().rpartition(":")
    if not sep or not column.strip() or not number.strip().isdigit() or int(number) < 2:
        raise BadInput.msg("deid.bad_l_diversity", value=text)
    return column.strip(), int(number)


def quasi_identifier_plans(plan: list[ColumnPlan], types: tuple[str, ...]) -> list[ColumnPlan]:
    """The columns of a table that are quasi-identifiers of the chosen types.

    Tokens (join keys, pseudonyms) and tagged free text are not generalised: a token is
    unique by design and a tagged note has no hierarchy.
    """
    return [p for p in plan if p.pii_type in types and p.action not in ("drop", "token", "tag")]


def check_sensitive(
    column: str, plans: dict[str, list[ColumnPlan]], types: tuple[str, ...]
) -> None:
    """The l-diversity column must be shipped by some table and never be a quasi-identifier."""
    shipped = quasi = False
    for plan in plans.values():
        for p in plan:
            if p.name == column and p.action != "drop":
                shipped = True
                quasi |= p in quasi_identifier_plans(plan, types)
    if not shipped or quasi:
        raise BadInput.msg("deid.bad_l_column", column=column)


def _start_level(p: ColumnPlan, h: Hierarchy) -> int:
    """The level at which the extract's fixed rule leaves a column (the search starts there)."""
    if p.action == "year":
        return h.level("year")
    if p.action == "region":
        return h.level("city")
    return 0


class _TableJob:
    """One table of the extract: transform, and either write as is or anonymise first."""

    def __init__(
        self,
        d: TableDef,
        plan: list[ColumnPlan],
        tokenizer: Callable[[pa.Array], pa.Array],
        lang: str,
        shown: str,
        tmp: Path,
        xlsx_limit: int,
        progress: Progress,
        transformed: Callable[[TableDef], Iterator[pa.RecordBatch]] | None,
        *,
        slug: str,
        stop: threading.Event,
        ahead: Callable[[], None],
    ) -> None:
        self.d, self.plan, self.tokenizer, self.lang = d, plan, tokenizer, lang
        self.transformed = transformed
        self.shown, self.tmp, self.xlsx_limit = shown, tmp, xlsx_limit
        self.progress = progress
        #: the table's file name in the extract (:func:`file_names`)
        self.slug = slug
        #: set when the extract stops: the finishing work ends at its next step
        self.stop = stop
        #: called before each batch is read (raises what must stop the read)
        self.ahead = ahead
        self.empty = transform(_empty_batch(d), plan, tokenizer, lang)
        self.output_names = set(self.empty.schema.names)

    def batches(self, reader: Any) -> Iterator[pa.RecordBatch]:
        """The table's transformed batches; a value the source cannot type stops the extract."""
        if self.transformed is not None:
            for b in self.transformed(self.d):
                self.ahead()
                self.progress.advance(self.d.name, b.num_rows)
                yield b
            return

        def counted() -> Iterator[SourceBatch]:
            for sb in reader.read(self.d, after=None, batch_size=BATCH_ROWS):
                self.ahead()
                if not sb.rejects:
                    self.progress.advance(self.d.name, sb.rows_read)
                yield sb

        # three stages on three threads: the next batches are read while this one is
        # transformed and the one before written (reads, kernels and Parquet writes leave
        # the interpreter lock)
        rows = transformed_rows(
            prefetch(counted(), name="extract-read"),
            self.d,
            self.plan,
            self.tokenizer,
            self.lang,
            self.shown,
        )
        transformed_batches = prefetch(rows, name="extract-transform")
        try:
            for b in transformed_batches:
                self.ahead()  # a stop is seen here too, not only where batches are read
                yield b
        finally:
            closed(transformed_batches)

    def _stopped(self) -> None:
        """Raised into the finishing work at its next step once the extract stops."""
        if self.stop.is_set():
            raise _Stopped

    def _finish(self, rows: int, held: list[pa.RecordBatch] | None) -> dict[str, Any]:
        files = [f"parquet/{self.slug}.parquet"]
        if held is not None:
            self._stopped()
            _write_xlsx(self.tmp / "xlsx" / f"{self.slug}.xlsx", self.d.name, held)
            files.append(f"xlsx/{self.slug}.xlsx")
        return {
            "name": self.d.name,
            "rows": rows,
            "files": files,
            "dropped": [p.name for p in self.plan if p.action == "drop"],
            "tokenised": [p.name for p in self.plan if p.action == "token"],
        }

    def write_plain(self, reader: Any) -> Callable[[], dict[str, Any]]:
        """A table without quasi-identifiers: written as the rules leave it; the returned
        function writes its XLSX copy (if any) and gives its summary."""
        want_xlsx = reader.count(self.d) <= self.xlsx_limit
        held: list[pa.RecordBatch] = []
        rows = _write_parquet(
            self.tmp / "parquet" / f"{self.slug}.parquet",
            self.batches(reader),
            self.empty.schema,
            held if want_xlsx else None,
        )
        return functools.partial(self._finish, rows, (held or [self.empty]) if want_xlsx else None)

    def write_anonymised(
        self,
        reader: Any,
        qis: list[ColumnPlan],
        policy: Policy,
        sensitive: str | None,
    ) -> Callable[[], Anonymised]:
        """Stage the table (read, transform, keep the columns the search needs); the
        returned function searches the least-loss generalisation meeting ``policy``, then
        writes the table (generalised, suppressed records removed) or refuses it.

        That function returns the report, the table summary (None when refused) and, when
        records were lost, the table's single-column key with the lost key values (None:
        every record). It reads only the stage, so it may run while the next table is read.
        """
        # Staged as uncompressed Arrow IPC: written once, memory-mapped back, cheaper than Parquet.
        stage = self.tmp / "stage" / f"{self.slug}.arrow"
        names = [p.name for p in qis]
        keep_cols = [*names, *([sensitive] if sensitive else [])]
        pk = self.d.primary_key[0] if len(self.d.primary_key) == 1 else None
        if pk is not None and pk in self.output_names:
            keep_cols.append(pk)
        parts: list[pa.RecordBatch] = []

        rows = 0
        writer: pa.ipc.RecordBatchFileWriter | None = None
        batches = self.batches(reader)
        try:
            for b in batches:
                if writer is None:
                    writer = pa.ipc.new_file(str(stage), b.schema)
                writer.write_batch(b)
                parts.append(b.select(list(dict.fromkeys(keep_cols))))
                rows += b.num_rows
        finally:
            closed(batches)  # its reading threads end here, not when the error is dropped
            if writer is not None:
                writer.close()
        held_cols = pa.Table.from_batches(
            parts, schema=self.empty.select(list(dict.fromkeys(keep_cols))).schema
        )
        return functools.partial(
            self._anonymise, stage, writer is not None, held_cols, rows, qis, policy, sensitive, pk
        )

    def _anonymise(
        self,
        stage: Path,
        staged_any: bool,
        held_cols: pa.Table,
        rows: int,
        qis: list[ColumnPlan],
        policy: Policy,
        sensitive: str | None,
        pk: str | None,
    ) -> Anonymised:
        """The second half of :meth:`write_anonymised`: search, then write or refuse."""
        import pyarrow.parquet as pq

        self._stopped()
        names = [p.name for p in qis]
        quasi = []
        for p in qis:
            values = held_cols.column(p.name).combine_chunks()
            h = hierarchy.for_column(p.pii_type, values)
            quasi.append(QuasiIdentifier(p.name, values, h, _start_level(p, h)))
        an = anonymise(
            quasi,
            policy,
            sensitive=held_cols.column(sensitive) if sensitive and policy.distinct_l else None,
        )
        rep = KReport(self.d.name, names, rows, policy.k)
        rep.pii_types = [p.pii_type for p in qis]
        rep.levels, rep.start_levels, rep.loss = an.levels, an.start_levels, an.loss
        rep.total_loss, rep.suppressed = an.total_loss, an.suppressed
        rep.max_suppressed = policy.cap(rows)
        rep.nodes, rep.lattice, rep.exhaustive = an.nodes, an.lattice, an.exhaustive
        rep.distinct_l, rep.min_l = (policy.distinct_l, an.min_l) if sensitive else (0, None)
        key_values = held_cols.column(pk) if pk in held_cols.column_names else None
        if not an.feasible:
            rep.shipped = False
            rep.reason = _refusal(rows, an, policy, sensitive)
            stage.unlink(missing_ok=True)
            return rep, None, (pk, None) if pk else None
        want_xlsx = an.shipped <= self.xlsx_limit
        held: list[pa.RecordBatch] = []
        final = self.tmp / "parquet" / f"{self.slug}.parquet"

        def generalised() -> Iterator[pa.RecordBatch]:
            if not staged_any:  # no record at all
                return
            offset = 0
            with pa.memory_map(str(stage)) as source:
                staged = pa.ipc.open_file(source)
                for i in range(staged.num_record_batches):
                    self._stopped()
                    b = staged.get_batch(i)
                    end = offset + b.num_rows
                    yield _generalise(b, an, names, offset, end)
                    offset = end

        shipped = _write_parquet(
            final, generalised(), _generalise(self.empty, an, names, 0, 0).schema,
            held if want_xlsx else None,
        )  # fmt: skip
        stage.unlink(missing_ok=True)
        self._stopped()
        measured = k_anonymity(self.d.name, pq.read_table(final, columns=names), policy.k)
        rep.min_k, rep.classes = measured.min_k, measured.classes
        rep.rows_below_k, rep.classes_below_k = measured.rows_below_k, measured.classes_below_k
        if shipped != an.shipped or (shipped and measured.min_k < policy.k):
            raise CheckFailed.msg(
                "deid.k_check", table=self.d.name, min_k=measured.min_k, k=policy.k
            )
        summary = self._finish(shipped, (held or [self.empty]) if want_xlsx else None)
        summary["suppressed"] = an.suppressed
        gone = None
        if an.suppressed and pk is not None and key_values is not None:
            gone = (pk, key_values.filter(pa.array(~an.keep)))
        return rep, summary, gone


def transformed_rows(
    batches: Iterable[SourceBatch],
    d: TableDef,
    plan: list[ColumnPlan],
    tokenizer: Callable[[pa.Array], pa.Array],
    lang: str,
    shown: str,
) -> Iterator[pa.RecordBatch]:
    """``batches`` of ``d`` transformed by ``plan``; a value the source cannot type stops
    the extract (BadInput naming table, row key and column)."""
    try:
        for sb in batches:
            if sb.rejects:
                r = sb.rejects[0]
                raise BadInput.msg(
                    "deid.source_reject", source=shown, table=d.name, row_key=r.key, column=r.column
                )
            yield transform(sb.data, plan, tokenizer, lang)
    finally:
        closed(batches)  # a read-ahead thread stops before the source can be closed


def _generalise(
    b: pa.RecordBatch, an: Anonymisation, names: list[str], start: int, stop: int
) -> pa.RecordBatch:
    """Records ``start:stop`` of a staged table with their quasi-identifiers at the chosen
    levels and the suppressed records removed."""
    if an.rows == 0:
        return b
    arrays = list(b.columns)
    fields = list(b.schema)
    for j, name in enumerate(names):
        i = b.schema.get_field_index(name)
        arrays[i] = an.generalised(j, start, stop)
        fields[i] = pa.field(name, arrays[i].type)
    out = pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
    return out.filter(pa.array(an.keep[start:stop]))


def _refusal(rows: int, an: Anonymisation, policy: Policy, sensitive: str | None) -> Msg:
    """Why no generalisation meets the policy, in counts only. With every quasi-identifier
    at ``*`` a table is one class, so only too few records or l-diversity can cause it."""
    if rows < policy.k or not sensitive:
        return Msg("deid.refuse.rows", rows=rows, k=policy.k)
    return Msg(
        "deid.refuse.cap_l",
        k=policy.k,
        l=policy.distinct_l,
        column=sensitive,
        needed=an.suppressed,
        rows=rows,
        cap=policy.cap(rows),
    )


def _write_parquet(
    path: Path,
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    held: list[pa.RecordBatch] | None,
) -> int:
    """Stream ``batches`` into one Parquet file (an empty table when none); the row count."""
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for b in batches:
            if writer is None:
                writer = pq.ParquetWriter(path, b.schema, use_dictionary=dictionary_columns(b))
            writer.write_batch(b)
            rows += b.num_rows
            if held is not None:
                held.append(b)
    finally:
        closed(batches)  # its reading threads end here, not when the error is dropped
        if writer is not None:
            writer.close()
    if writer is None:
        pq.write_table(schema.empty_table(), path)
    return rows


def _orphans(
    defs: list[TableDef],
    plans: dict[str, list[ColumnPlan]],
    lost: dict[str, tuple[str, pa.Array | None]],
    folder: Path,
    names: dict[str, str],
) -> list[dict[str, Any]]:
    """Per single-column foreign key into a table that lost records: how many shipped rows
    now reference a record that is not in the extract."""
    import pyarrow.parquet as pq

    out: list[dict[str, Any]] = []
    for d in defs:
        path = folder / f"{names[d.name]}.parquet"
        if not path.exists():
            continue
        shipped = {p.name for p in plans[d.name] if p.action != "drop"}
        for fk in d.foreign_keys:
            if len(fk.columns) != 1 or fk.ref_table not in lost or fk.columns[0] not in shipped:
                continue
            pk, gone = lost[fk.ref_table]
            if fk.ref_columns != (pk,):
                continue
            refs = pq.read_table(path, columns=[fk.columns[0]]).column(0)
            hit = (
                pc.is_valid(refs)
                if gone is None
                else pc.is_in(refs, value_set=gone.cast(refs.type))
            )
            n = int(pc.sum(hit).as_py() or 0)
            if n:
                out.append(
                    {"table": d.name, "column": fk.columns[0], "ref_table": fk.ref_table, "rows": n}
                )
    return out


def _empty_batch(d: TableDef) -> pa.RecordBatch:
    schema = d.arrow_schema
    return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)


def _slug(name: str) -> str:
    slug = re.sub(r"[^\w\-]+", "_", name, flags=re.UNICODE).strip("_")
    return slug[:80] or "table"


def file_names(defs: list[TableDef]) -> dict[str, str]:
    """Each table's file name (without suffix) in the extract: its slug, and where two
    tables' slugs meet (``cust.a`` and ``cust a``; ``Cust`` and ``cust`` on a file system
    that ignores case) the later ones numbered ``-2``, ``-3`` …, so no table's file is
    another's."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for d in defs:
        base = name = _slug(d.name)
        n = 1
        while name.casefold() in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name.casefold())
        out[d.name] = name
    return out


def _write_xlsx(path: Path, title: str, batches: list[pa.RecordBatch]) -> None:
    """One sheet per table (openpyxl write-only); only for tables under the row limit.
    Every text is a text cell holding the value exactly: a formula-like value
    (``=HYPERLINK(…)``) is written by :func:`~handover.reports.tables.xlsx_value`,
    never as a live formula."""
    from openpyxl import Workbook

    from handover.reports.tables import xlsx_row, xlsx_value

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_slug(title)[:31])
    if batches:
        ws.append(xlsx_row(ws, batches[0].schema.names))
    for b in batches:
        safe = [_xlsx_safe(c) for c in b.columns]
        cols = [c.to_pylist() for c in safe]
        for i, arr in enumerate(safe):
            if _formula_like(arr):  # the rare column that needs explicit text cells
                cols[i] = [xlsx_value(ws, v) for v in cols[i]]
        for row in zip(*cols, strict=True):
            ws.append(list(row))
    wb.save(path)


def _formula_like(arr: pa.Array) -> bool:
    """Whether a text column holds a value :func:`~handover.reports.tables.xlsx_text`
    names (vectorised: the other columns are appended as they are)."""
    from openpyxl.cell.cell import ERROR_CODES

    from handover.reports.tables import FORMULA_START

    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary  # a value it holds may be unused: a text cell then costs nothing
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return False
    hit = pc.or_(
        pc.match_substring_regex(arr, FORMULA_START),
        pc.is_in(arr, value_set=pa.array(ERROR_CODES, arr.type)),
    )
    return bool(pc.any(hit).as_py())


#: the control characters an XLSX cell cannot hold (openpyxl refuses them)
_XLSX_ILLEGAL = [c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)]
_XLSX_ILLEGAL_RE = "[" + "".join(f"\\x{c:02x}" for c in _XLSX_ILLEGAL) + "]"


def _xlsx_safe(arr: pa.Array) -> pa.Array:
    """Text with the control characters XLSX cannot hold spelt ``\\x01``, and bytes as
    ``0x`` and their hex digits (a cell holds no bytes; vectorised; the Parquet files keep
    the exact values)."""
    if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
        from handover.db.arrow import bytea_hex

        return bytea_hex(arr, b"0x")
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return arr
    if not pc.any(pc.match_substring_regex(arr, _XLSX_ILLEGAL_RE)).as_py():
        return arr
    for c in _XLSX_ILLEGAL:
        arr = pc.replace_substring(arr, chr(c), f"\\x{c:02x}")
    return arr


def _write_reports(
    folder: Path,
    result: ExtractResult,
    rules: dict[str, list[dict[str, Any]]],
    ctx: ReportContext,
) -> None:
    doc = {
        "k": ctx.k,
        "max_suppression": ctx.max_suppression,
        "quasi_identifier_types": ctx.quasi_identifier_types,
        "l_diversity": {"column": ctx.l_column, "l": ctx.distinct_l} if ctx.distinct_l else None,
        "tables": [r.to_json() for r in result.kanon],
        "refused": [x["name"] for x in result.refused],
        "joins": ctx.joins,
        "without_quasi_identifiers": ctx.plain,
    }
    (folder / "k-anonymity.json").write_text(
        json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    for lang in ("zh-CN", "en"):
        (folder / f"k-anonymity.{lang}.md").write_text(
            markdown(result.kanon, lang, ctx), encoding="utf-8"
        )
    (folder / "rules.json").write_text(
        json.dumps({"token_key": result.token_key, "tables": rules}, ensure_ascii=False, indent=2)
        + "\n",
        encoding="utf-8",
    )
