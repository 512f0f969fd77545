"""``handover dd-extract``: authorise, take the scan inventory, tokenise with the transfer's
key, write the de-identified extract (:func:`handover.deid.extract.write_extract`),
record ``dd.extract`` (key id and counts only)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from handover.claims import Claim, claiming, uses
from handover.crypto.tokenize import TokenMemo, Tokens, tokenizer, tokenizer_process
from handover.db.url import located, mask
from handover.deid.extract import (
    DEFAULT_QI,
    MAX_SUPPRESSION,
    XLSX_LIMIT,
    ColumnPlan,
    ExtractResult,
    check_l_column,
    check_request,
    check_sensitive,
    plan_tables,
    token_key,
    write_extract,
)
from handover.engine import Executor, executor_for
from handover.errors import BadInput
from handover.flows.scan import inventory_for
from handover.governance import Decision, data_resource, require
from handover.ledger import Recorder
from handover.package.seal import open_reader, skipped_rows
from handover.progress import Progress
from handover.sources import PLAIN, FileReading
from handover.workspace import Workspace

if TYPE_CHECKING:
    from handover.db.reflect import TableDef


def authorize_extract(
    ws: Workspace,
    tables: list[str] | None = None,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
    authorized: Decision | None = None,
) -> Decision:
    """The decision an extract needs: ``dd.extract`` on the tables, tokenised."""
    return require(
        ws,
        "dd.extract",
        data_resource(tables, "tokenised"),
        actor=actor,
        now=now,
        authorized=authorized,
    )


def _join_domains(plans: dict[str, list[ColumnPlan]]) -> tuple[bytes, ...]:
    """The message prefixes of the join-key token domains that foreign keys use (a domain
    named after a table, tokenised in more than one column): their values recur in every
    referencing table, so their tokens are worth remembering for the run."""
    columns = Counter(
        p.domain for plan in plans.values() for p in plan if p.action == "token" and p.domain
    )
    return tuple(f"{d}:".encode() for d in sorted(columns) if d in plans and columns[d] > 1)


def extract_claims(source: str | Path, out: str | Path, **_: object) -> tuple[Claim, ...]:
    """What extracting ``source`` into ``out`` holds while it runs."""
    return uses((source,), (out,))


@claiming("dd-extract", extract_claims)
def dd_extract(
    ws: Workspace,
    source: str | Path,
    out: str | Path,
    *,
    k: int = 5,
    quasi_identifiers: tuple[str, ...] = DEFAULT_QI,
    max_suppression: float = MAX_SUPPRESSION,
    l_diversity: tuple[str, int] | None = None,
    xlsx_limit: int = XLSX_LIMIT,
    tables: list[str] | None = None,
    lang: str | None = None,
    reading: FileReading = PLAIN,
    progress: Progress | None = None,
    executor: str | Executor | None = None,
    resume: str | None = None,
    authorized: Decision | None = None,
) -> ExtractResult:
    """Write the de-identified due-diligence extract of ``source`` into the new folder ``out``
    (see :func:`handover.deid.extract.write_extract` for what every shipped table meets).

    Authorised first as ``dd.extract`` on the tables (C3 is read to be dropped, a missing
    inventory is scanned), tokenised (``authorized``: a decision taken already, e.g. by
    the console before starting the job). ``reading``: how file tables are read
    (:class:`FileReading`: unreadable rows a table may lose, listed in the result and the
    ledger event; a CSV without header). Records ``dd.extract`` in the
    ledger. ``executor``: where the row kernels run (a cluster: shard by shard on its
    workers, k-anonymity over the merged tables here; each shard's rows kept in a hidden
    folder beside ``out`` and recorded in the store until the extract is written, so that
    ``resume``, the id of a run whose scheduler was lost, computes only the others).
    """
    from handover.engine.extract import shard_folder, transformed
    from handover.engine.runs import recorded
    from handover.engine.worker import source_ref

    language = lang or ws.settings.lang
    out = Path(out)
    check_request(
        out,
        k=k,
        max_suppression=max_suppression,
        l_diversity=l_diversity,
        xlsx_limit=xlsx_limit,
        quasi_identifiers=quasi_identifiers,
    )
    decision = authorize_extract(ws, tables, authorized=authorized)
    events = Recorder(ws, decision.actor)
    shown = mask(str(source))
    with executor_for(executor, ws.settings) as ex:
        if resume is not None and not ex.sharded:
            raise BadInput.msg("engine.resume_local", run=resume)
        # The extract reads SQLite's dates as their stored text, whatever spelling they
        # share: the spelling (a full scan of each table) only matters to a writer.
        reader = open_reader(source, tables, reading=reading, spellings=False)
        try:
            defs = reader.schema()
            check_l_column(l_diversity, defs)
            inventory, scan_id = inventory_for(
                ws, source, authorized=decision, reading=reading, executor=ex, defs=defs
            )
            plans = plan_tables(defs, inventory)
            if l_diversity is not None:
                check_sensitive(l_diversity[0], plans, quasi_identifiers)
            # The key is created (first extract) only once the request is known to be good.
            key_id = token_key(ws, events)
            memo = TokenMemo(_join_domains(plans))

            def write(
                rows: Callable[[TableDef], Iterator[pa.RecordBatch]] | None,
                tokens: Tokens,
            ) -> tuple[ExtractResult, dict[str, list[dict[str, Any]]]]:
                return write_extract(
                    reader,
                    defs,
                    plans,
                    out,
                    tokenizer=tokens,
                    key_id=key_id,
                    shown=shown,
                    k=k,
                    max_suppression=max_suppression,
                    l_diversity=l_diversity,
                    quasi_identifiers=quasi_identifiers,
                    xlsx_limit=xlsx_limit,
                    lang=language,
                    progress=progress,
                    transformed=rows,
                )

            if not ex.sharded:
                # the HMACs in a process of their own, off the interpreter lock the
                # tables' reads, transforms and writes share
                with tokenizer_process(ws, key_id, memo=memo) as tokens:
                    result, rules = write(None, tokens)
            else:
                args = {
                    "source": shown,
                    "out": str(out.resolve()),
                    "k": k,
                    "quasi_identifiers": list(quasi_identifiers),
                    "max_suppression": max_suppression,
                    "l_diversity": list(l_diversity) if l_diversity else None,
                    "xlsx_limit": xlsx_limit,
                    "tables": tables or None,
                    "lang": language,
                    **reading.to_options(),
                    "key_id": key_id,
                }
                with (
                    recorded(
                        ws,
                        "dd-extract",
                        ex,
                        resume=resume,
                        source=shown,
                        target=str(out),
                        args=args,
                    ) as run,
                    shard_folder(run, out) as folder,
                ):
                    result, rules = write(
                        transformed(
                            ex,
                            reader,
                            defs,
                            plans,
                            ref=source_ref(ws, str(source), shown, events),
                            key_id=key_id,
                            lang=language,
                            shown=shown,
                            reading=reading,
                            run=run,
                            folder=folder,
                        ),
                        tokenizer(ws, key_id, memo=memo),
                    )
            result.skipped = skipped_rows(reader)
        finally:
            reader.close()
        where = mask(ex.name)
    events(
        "dd.extract",
        str(out),
        "due_diligence",
        {
            "source": shown,
            "located": located(source=shown),
            # absolute: shred finds every extract from the ledger
            "out": str(out.resolve()),
            "hmac_key_id": key_id,
            "scan_id": scan_id,
            "tables": len(result.tables),
            "rows": result.rows,
            "columns": {
                a: sum(1 for cols in rules.values() for c in cols if c["action"] == a)
                for a in ("drop", "token", "mask", "surname", "region", "year", "tag", "keep")
            },
            "k": k,
            "max_suppression": max_suppression,
            "l_diversity": list(l_diversity) if l_diversity else None,
            "min_k": {r.table: r.min_k for r in result.kanon if r.shipped},
            "suppressed": {r.table: r.suppressed for r in result.kanon if r.shipped},
            "refused": [x["name"] for x in result.refused],
            "skipped_rows": result.skipped,
            **({"executor": where} if where != "local" else {}),
        },
    )
    return result
