"""``handover migrate``: copy a database into SQLite, PostgreSQL or MariaDB, resumably.

Order of work (docs/migrate.md):

1. refuse ``--no-backup`` without a reason; reflect the source; reach the target;
   refuse a target that already holds the tables; take the backup (or record why not);
2. in the target create ``_handover_migrate_state`` first, then the tables (columns and
   primary keys only), parents before children;
3. per table, per batch, in ONE target transaction: the rows, the rows the target
   refused (``_handover_migrate_rejects``) and the checkpoint (last key, counts); then
   mirror the checkpoint to the platform store. A kill -9 at any point leaves the target
   with whole batches whose checkpoint says exactly where to continue;
4. a table is done only when ``source rows == target rows + rejects``; where the
   target builds keys after the rows (PostgreSQL) its primary key is added in the
   transaction that marks it done, and duplicate keys send the table back to be copied
   again with its key in place (each duplicate row then a named reject);
5. unique constraints, indexes, foreign keys (and identity sequences) after the data;
6. write the reject file, drop the state tables, record the outcome in the ledger.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa
import sqlalchemy as sa

from handover.crypto.files import replacing
from handover.db import dialects
from handover.db.dialects import family
from handover.db.reflect import Catalog, ForeignKeyDef, TableDef
from handover.db.url import located, mask
from handover.errors import BadInput, CheckFailed, HandoverError
from handover.i18n import Joined, Msg
from handover.migrate.ahead import ReadProcess
from handover.migrate.fingerprint import Fingerprint
from handover.migrate.reader import (
    DatabaseSource,
    Key,
    MigrationSource,
    Reject,
    SourceBatch,
    decode_key,
    encode_key,
    mask_key,
)
from handover.migrate.results import (
    MAX_SHOWN,
    REJECT_TABLE,
    RUN_ROW,
    STATE_TABLE,
    MigrateOptions,
    MigrateResult,
    TableResult,
    _now,
)
from handover.migrate.runs import OPEN, new_run_id, rejects_message
from handover.migrate.schema import build_table, plan_conflicts, stub_references
from handover.migrate.spelling import target_notes
from handover.migrate.writer import TargetWriter
from handover.prefetch import closed, prefetch
from handover.progress import Progress

if TYPE_CHECKING:
    from handover.events import EventSink
    from handover.workspace import Workspace


# --- one run ---------------------------------------------------------------------------


#: what a lane's work gives for one table
R = TypeVar("R")


class _Stopped(Exception):
    """A lane stopped because another lane failed (that failure is the one raised)."""


class _Lane:
    """One stream of writes into the target: its own connection and, for large tables,
    its own reading process."""

    def __init__(self, engine: sa.Engine, *, own_process: bool) -> None:
        # the dialect's own bulk connection where it has one; while a lane is open the
        # engine may refuse to connect (SQLite), so the copy reads the target through it
        self.writer = TargetWriter(engine, bulk=True, own_process=own_process)
        self.ahead: ReadProcess | None = None

    def close(self) -> None:
        """Roll back what is open, close the connection, stop the reading process (not
        waiting for it to end)."""
        try:
            self.writer.close()
        finally:
            if self.ahead is not None:
                self.ahead.release()
                self.ahead = None


class CopyJob:
    """One migration run: copies ``defs`` from ``src`` into ``engine`` with checkpoints in
    the target (resumable), rejects, and the run's state in the platform store; every
    change of the run's state is reported to ``events``."""

    def __init__(
        self,
        ws: Workspace,
        src: MigrationSource,
        engine: sa.Engine,
        defs: list[TableDef],
        opts: MigrateOptions,
        prog: Progress,
        events: EventSink,
    ) -> None:
        self.ws = ws
        self.events = events
        self.src = src
        self.engine = engine
        self.defs = defs
        self.opts = opts
        self.prog = prog
        self.fam = family(engine.dialect.name)
        self.sql = dialects.get(engine.dialect.name)
        # A run id given for a new run was made by new_run_id (the console records it
        # before the run starts, so a killed console's job still knows what to resume).
        self.run_id = opts.run_id or new_run_id()
        #: each table's rows when the run began (one count; a full scan on most servers),
        #: counted by one thread of its own in table order while the copy goes on
        self._counted: dict[str, Future[int]] = {}
        self._counter: ThreadPoolExecutor | None = None
        self.meta = sa.MetaData()
        my_kw = self.sql.table_options(exact=False)
        self.state = sa.Table(
            STATE_TABLE,
            self.meta,
            sa.Column("run_id", sa.String(40), primary_key=True),
            sa.Column("table_name", sa.String(255), primary_key=True),
            sa.Column("position", sa.BigInteger, nullable=False),
            sa.Column("last_key", sa.Text),
            sa.Column("rows_copied", sa.BigInteger, nullable=False),
            sa.Column("rejects", sa.BigInteger, nullable=False),
            sa.Column("source_rows", sa.BigInteger, nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("updated_at", sa.String(40), nullable=False),
            # rows delivered so far and their hash (a resume checks the source against it)
            sa.Column("fingerprint", sa.String(64)),
            **my_kw,
        )
        self.rejects_t = sa.Table(
            REJECT_TABLE,
            self.meta,
            sa.Column("run_id", sa.String(40), nullable=False),
            sa.Column("table_name", sa.String(255), nullable=False),
            sa.Column("key_text", sa.Text, nullable=False),
            sa.Column("column_name", sa.String(255), nullable=False),
            sa.Column("reason", sa.Text, nullable=False),
            sa.Column("stage", sa.String(8), nullable=False),
            **my_kw,
        )
        self.result = MigrateResult(
            run_id=self.run_id,
            source=src.display,
            target=mask(engine.url.render_as_string(hide_password=False)),
            status="running",
            no_backup_reason=opts.reason if opts.no_backup else None,
        )
        self._last_mirror = 0.0
        #: the target's text codec where it lacks characters ("": Unicode; None: not read)
        self._codec: str | None = None
        #: guards what the lanes share: progress, events, the store's mirror, notes
        self._lock = threading.Lock()
        #: set when a lane failed: the others stop after their current batch
        self._stop = threading.Event()
        #: the target is a SQLite file this run created
        self.new_file = False
        self.result.notes.extend(target_notes(defs, self.fam))

    # --- preflight & start -------------------------------------------------------------------

    def preflight(self) -> None:
        """Refuse, before anything is created: a target busy with another run, tables
        it already holds, and every conflict of the schema plan with the target's rules
        (:func:`handover.migrate.schema.plan_conflicts`), each one named."""
        names = Catalog(self.engine).table_names()
        existing = set(names)
        if STATE_TABLE in existing:
            with self.engine.connect() as conn:
                other = conn.execute(
                    sa.select(self.state.c.run_id).where(self.state.c.table_name == RUN_ROW)
                ).scalar()
            raise BadInput.msg("migrate.target_busy", run=other or "?")
        for d in self.defs:
            if d.name in existing:
                owner = self._creator(d.name)
                if owner is not None:
                    raise BadInput.msg(
                        "migrate.target_has_run_table",
                        table=d.name,
                        run=owner.id,
                        status=owner.status,
                    )
                raise BadInput.msg("migrate.target_has_table", table=d.name)
        conflicts = plan_conflicts(self.engine, self.defs, names)
        if conflicts:
            more = len(conflicts) - MAX_SHOWN
            shown = Joined(
                conflicts[:MAX_SHOWN], tail=Msg("migrate.plan.more", n=more) if more > 0 else None
            )
            raise BadInput.msg(
                "migrate.plan_conflicts",
                target=self.result.target,
                count=len(conflicts),
                conflicts=shown,
            )

    def _creator(self, table: str) -> Any:
        """The newest failed or unfinished run into this target that created ``table``."""
        from handover.migrate.models import MigrateRun

        with self.ws.store.session() as s:
            rows = s.scalars(
                sa.select(MigrateRun)
                .where(MigrateRun.target == self.result.target, MigrateRun.status.in_(OPEN))
                .order_by(MigrateRun.started_at.desc())
            ).all()
            for row in rows:
                if table in (row.options or {}).get("creates", []):
                    s.expunge(row)
                    return row
        return None

    def start(self, backup: dict[str, Any] | None) -> MigrateResult:
        from handover.migrate.models import MigrateRun

        self.result.backup = backup
        opts = {
            "tables": self.opts.tables,
            "batch_size": self.opts.batch_size,
            "allow_rejects": self.opts.allow_rejects,
            "no_backup": self.opts.no_backup,
            "reason": self.opts.reason if self.opts.no_backup else None,
            "backup": backup,
            # what a rollback may drop: the tables this run creates (none existed before),
            # and the SQLite file when connecting created it
            "creates": [d.name for d in self.defs],
            "new_file": self.new_file,
        }
        with self.ws.store.session() as s:
            s.add(
                MigrateRun(
                    id=self.run_id,
                    source=self.result.source,
                    target=self.result.target,
                    status="running",
                    started_at=_now(),
                    finished_at=None,
                    options=opts,
                    summary={},
                )
            )
        self.events(
            "migrate.start",
            self.run_id,
            "migration",
            {
                "source": self.result.source,
                "target": self.result.target,
                "located": located(source=self.result.source, target=self.result.target),
                "tables": len(self.defs),
                "backup": backup,
                "no_backup_reason": self.result.no_backup_reason,
            },
        )
        return self._run(fresh=True)

    def resume(self, row: Any) -> MigrateResult:
        self.run_id = row.id
        self.result.run_id = row.id
        self.result.resumed = True
        self.result.no_backup_reason = row.options.get("reason")
        self.result.backup = row.options.get("backup")
        has_state = STATE_TABLE in Catalog(self.engine).table_names()
        if not has_state:
            if row.status == "finishing":
                # killed while dropping the bookkeeping tables: the reject file is written,
                # the state table is gone; drop what is left, then record the end
                self.rejects_t.drop(self.engine, checkfirst=True)
                return self._finish_store()
            # Killed before the state table existed: nothing of ours is in the target.
            self.preflight()
            return self._run(fresh=True)
        with self.engine.connect() as conn:
            other = conn.execute(
                sa.select(self.state.c.run_id).where(self.state.c.table_name == RUN_ROW)
            ).scalar()
        if other is not None and other != row.id:
            raise BadInput.msg("migrate.target_busy", run=other)
        self.events("migrate.resume", self.run_id, "migration", {"target": self.result.target})
        return self._run(fresh=other is None)

    # --- the run -------------------------------------------------------------------------------

    def _run(self, *, fresh: bool) -> MigrateResult:
        t0 = time.perf_counter()
        try:
            self.prog.phase(Msg("migrate.phase.schema"))
            self._start_counting()
            try:
                self._create_schema(fresh)
                self._copy_tables()
            finally:
                self._stop_counting()
            self.prog.phase(Msg("migrate.phase.constraints"))
            self._post_data()
            self.result.seconds = time.perf_counter() - t0
            return self._finish()
        except HandoverError as exc:
            self.events("migrate.interrupted", self.run_id, "migration", {"error": str(exc)[:300]})
            raise

    def _create_schema(self, fresh: bool) -> None:
        try:
            self.meta.create_all(self.engine, tables=[self.state, self.rejects_t], checkfirst=True)
        except sa.exc.DBAPIError:
            # another run created them between the check and the CREATE (PostgreSQL
            # refuses the second CREATE of a type): theirs now, the claim below decides
            if STATE_TABLE not in Catalog(self.engine).table_names():
                raise
        stamp = _now().isoformat()
        with self.engine.begin() as conn:
            have = {
                r[0]
                for r in conn.execute(
                    sa.select(self.state.c.table_name).where(self.state.c.run_id == self.run_id)
                )
            }
            rows = []
            if RUN_ROW not in have:
                rows.append(self._state_row(RUN_ROW, -1, "copying", stamp, 0))
            for i, d in enumerate(self.defs):
                if d.name not in have:
                    rows.append(self._state_row(d.name, i, "pending", stamp, self._counted_yet(d)))
            if rows:
                conn.execute(sa.insert(self.state), rows)
        if fresh:
            self._claim_target()
        target_meta = sa.MetaData()
        with_fks = not self.sql.alters_constraints  # FKs that cannot be added after the data
        with_key = not self.sql.keys_after_load  # else each key is added after its rows
        tables = [
            build_table(target_meta, d, self.fam, with_fks=with_fks, with_key=with_key)
            for d in self.defs
        ]
        existing = set(Catalog(self.engine).table_names())
        stub_references(target_meta, self.defs, sorted(existing))
        made: list[sa.Table] = []
        for tbl in tables:
            if tbl.name in existing:
                continue
            try:
                tbl.create(self.engine)
            except sa.exc.DBAPIError as exc:
                self._undo_create(made, fresh)
                from handover.migrate.writer import sanitize

                raise BadInput.msg(
                    "migrate.create_failed", table=tbl.name, reason=sanitize(str(exc.orig))
                ) from None
            made.append(tbl)

    def _claim_target(self) -> None:
        """A new run's claim of the target, read after its own run row is committed: when
        another run's row is there too (two runs started at once, both past preflight),
        this one withdraws — its rows removed, its record closed as rolled back with
        nothing to drop, so neither ``--resume`` nor ``--rollback`` ever picks it — and is
        refused, before it creates anything. Of two runs at most one goes on: the later
        reader sees both rows. A table of the plan already there (a run that finished
        meanwhile) is refused too: a new run never writes into tables it did not create."""
        with self.engine.connect() as conn:
            others = (
                conn.execute(
                    sa.select(self.state.c.run_id).where(
                        self.state.c.table_name == RUN_ROW, self.state.c.run_id != self.run_id
                    )
                )
                .scalars()
                .all()
            )
        present = set(Catalog(self.engine).table_names())
        there = [d.name for d in self.defs if d.name in present]
        if not others and not there:
            return
        with self.engine.begin() as conn:
            conn.execute(sa.delete(self.state).where(self.state.c.run_id == self.run_id))
            left = conn.execute(sa.select(sa.func.count()).select_from(self.state)).scalar()
        if not left:  # the last to withdraw: the target as it was found
            self._drop_bookkeeping()
        self._rolled_back(creates=[])
        if others:
            raise BadInput.msg("migrate.target_taken", run=sorted(others)[0])
        raise BadInput.msg("migrate.target_has_table", table=there[0])

    def _undo_create(self, made: list[sa.Table], fresh: bool) -> None:
        """A table the target refused to create: drop what this attempt created (and,
        on a fresh run, the bookkeeping tables), so that the target is as it was found;
        the run is recorded failed."""
        for tbl in reversed(made):
            tbl.drop(self.engine, checkfirst=True)
        if fresh:
            self._drop_bookkeeping()
            self._rolled_back()

    def _drop_bookkeeping(self) -> None:
        self.state.drop(self.engine, checkfirst=True)
        self.rejects_t.drop(self.engine, checkfirst=True)

    def _rolled_back(self, creates: list[str] | None = None) -> None:
        """Record the run rolled back (``creates``: what a rollback may still drop)."""
        from handover.migrate.models import MigrateRun

        with self.ws.store.session() as s:
            row = s.get(MigrateRun, self.run_id)
            if row is not None:
                row.status = "rolled_back"
                row.finished_at = _now()
                if creates is not None:
                    row.options = {**(row.options or {}), "creates": creates}

    def _start_counting(self) -> None:
        """Count every table's rows in a thread of its own, in table order, while the
        target's tables are created and the first tables copied (on a server each count
        is a scan: about 4 s of 22.9 M rows in MariaDB, which the copy no longer waits
        for). Then start the reading processes of the lanes, as many as there are large
        tables (:meth:`_prestart`)."""
        self._counter = ThreadPoolExecutor(1, thread_name_prefix="migrate-count")
        for d in self.defs:
            self._count_of(d)

    def _stop_counting(self) -> None:
        """Cancel the counts not begun; wait for the one under way (it holds a source
        connection)."""
        counter, self._counter = self._counter, None
        if counter is not None:
            counter.shutdown(wait=True, cancel_futures=True)

    def _count_of(self, d: TableDef) -> Future[int]:
        """The count of ``d``: asked of the counting thread once, or made now in this
        thread when none runs."""
        with self._lock:
            got = self._counted.get(d.name)
            if got is None and self._counter is not None:
                got = self._counted[d.name] = self._counter.submit(self.src.count, d)
        if got is None:
            got = Future()
            got.set_result(self.src.count(d))
            with self._lock:
                got = self._counted.setdefault(d.name, got)
        return got

    def _rows_at_start(self, d: TableDef) -> int:
        """The rows of ``d`` as counted once for this run (waiting for the count if it is
        under way): the run's record, which tables get a reading process and the
        progress total. What the copy is reconciled against is counted again after it
        (:meth:`_copy_table`)."""
        return self._count_of(d).result()

    def _counted_yet(self, d: TableDef) -> int:
        """The rows of ``d`` if its count has ended, else 0 (recorded when its copy
        starts)."""
        with self._lock:
            got = self._counted.get(d.name)
        return got.result() if got is not None and got.done() and not got.exception() else 0

    def _state_row(self, name: str, pos: int, status: str, stamp: str, rows: int) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "table_name": name,
            "position": pos,
            "last_key": None,
            "rows_copied": 0,
            "rejects": 0,
            "source_rows": rows,
            "status": status,
            "updated_at": stamp,
            "fingerprint": None,
        }

    def _read_state(self, w: TargetWriter, name: str) -> dict[str, Any]:
        """The state row of table ``name``, read by the lane's writer ``w``."""
        cols = [c.name for c in self.state.columns]
        ((*values,),) = w.execute(
            f"SELECT {', '.join(map(w.q, cols))} FROM {w.q(STATE_TABLE)} "
            f"WHERE {w.q('run_id')} = {w.ph} AND {w.q('table_name')} = {w.ph}",
            (self.run_id, name),
        )
        w.commit()  # a driver that began a transaction for the read ends it
        return dict(zip(cols, values, strict=True))

    def _copy_tables(self) -> None:
        """Copy every table: one after the other on one connection, or — where the
        target takes several bulk streams at once (``Dialect.copy_lanes``) — on that many
        lanes, each its own connection (and reading process), each lane taking the next
        table in order. Each table's batches and checkpoints stay in its own lane's
        transactions, so a crash leaves every table resumable as with one lane. The first
        error (or an interrupt) stops the other lanes after their current batch and is
        raised."""
        self._stop.clear()
        n = max(1, min(self.sql.copy_lanes, len(self.defs)))
        lanes: list[_Lane] = []
        done: dict[str, TableResult] = {}
        try:
            lanes.extend(_Lane(self.engine, own_process=self.opts.own_process) for _ in range(n))
            if self._counter is not None and self._reads_ahead() is not None:
                # after the counts: the lanes' reading processes, started before they are
                # needed, their start-up overlapping the small tables' copy
                self._counter.submit(self._prestart, lanes)
            if n == 1:
                for d in self.defs:
                    done[d.name] = self._copy_table(lanes[0], d)
            else:
                self._copy_in_lanes(lanes, list(self.defs), done)
        finally:
            self._stop.set()
            with self._lock:  # a reading process being started is assigned first
                pass
            for lane in lanes:
                lane.close()
        self.result.tables.extend(done[d.name] for d in self.defs)

    def _reads_ahead(self) -> int | None:
        """The rows from which a table is read by a reading process (None: none is)."""
        limit = self.opts.process_rows
        return limit if isinstance(self.src, DatabaseSource) else None

    def _prestart(self, lanes: list[_Lane]) -> None:
        """Start a reading process for as many lanes as there are tables of
        :meth:`_reads_ahead` rows or more (by the counts, all ended now)."""
        limit = self._reads_ahead()
        assert limit is not None and isinstance(self.src, DatabaseSource)
        big = sum(1 for d in self.defs if self._rows_at_start(d) >= limit)
        with self._lock:
            for lane in [lane for lane in lanes if lane.ahead is None][:big]:
                if self._stop.is_set():
                    return
                lane.ahead = ReadProcess(self.src.url)
                lane.ahead.start()

    def _copy_in_lanes(
        self, lanes: list[_Lane], todo: list[TableDef], done: dict[str, TableResult]
    ) -> None:
        """Copy the tables of ``todo`` in that order, each by the next free lane."""
        from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

        def work(lane: _Lane) -> None:
            while not self._stop.is_set():
                with self._lock:
                    if not todo:
                        return
                    d = todo.pop(0)
                done[d.name] = self._copy_table(lane, d)

        pool = ThreadPoolExecutor(len(lanes), thread_name_prefix="migrate-lane")
        try:
            futures = [pool.submit(work, lane) for lane in lanes]
            wait(futures, return_when=FIRST_EXCEPTION)
            if any(f.done() and f.exception() is not None for f in futures):
                self._stop.set()  # the other lanes end after their current batch
            wait(futures)
        except BaseException:  # an interrupt of this thread: the lanes stop too
            self._stop.set()
            raise
        finally:
            pool.shutdown(wait=True)
        errors = [
            e for f in futures if (e := f.exception()) is not None and not isinstance(e, _Stopped)
        ]
        if errors:
            raise errors[0]

    def _copy_table(self, lane: _Lane, d: TableDef) -> TableResult:
        w = lane.writer
        w.use(d)
        st = self._read_state(w, d.name)
        key = self.src.resume_key(d)
        changed = self._source_changed(d, st, bool(key)) if self.result.resumed else None
        if changed is not None:
            self._start_over(w, d, changed)
            st = self._read_state(w, d.name)
        t0 = time.perf_counter()
        rows, rejects = int(st["rows_copied"]), int(st["rejects"])
        if st["status"] == "done":
            return TableResult(d.name, int(st["source_rows"]), rows, rejects, 0.0)
        total = self._rows_at_start(d)
        if int(st["source_rows"]) != total:  # counted after its state row was written
            w.execute(
                f"UPDATE {w.q(STATE_TABLE)} SET {w.q('source_rows')} = {w.ph} "
                f"WHERE {w.q('run_id')} = {w.ph} AND {w.q('table_name')} = {w.ph}",
                (total, self.run_id, d.name),
            )
            w.commit()
        with self._lock:
            self.prog.task(d.name, total, rows, rejects)
        after: Key | None = decode_key(st["last_key"])
        fp = Fingerprint.decode(st["fingerprint"]) or Fingerprint()
        upd = (
            f"UPDATE {w.q(STATE_TABLE)} SET {w.q('last_key')} = {w.ph}, "
            f"{w.q('rows_copied')} = {w.ph}, {w.q('rejects')} = {w.ph}, "
            f"{w.q('status')} = {w.ph}, {w.q('updated_at')} = {w.ph}, "
            f"{w.q('fingerprint')} = {w.ph} "
            f"WHERE {w.q('run_id')} = {w.ph} AND {w.q('table_name')} = {w.ph}"
        )
        if not key:
            # No unique order to resume from: the whole table is one transaction, so a
            # crash leaves it empty and the next attempt starts it over.
            after = None
            rows, rejects = 0, 0
            fp = Fingerprint()
            w.begin()
            w.execute(f"DELETE FROM {w.q(d.name)}")

        def checkpoint(last: Key | None) -> None:
            values = (encode_key(last), rows, rejects, "copying", _now().isoformat())
            w.execute(upd, (*values, fp.encode(), self.run_id, d.name))

        batches = self._batches(lane, d, after, total)
        try:
            for sb, part in batches:
                if self._stop.is_set():
                    raise _Stopped
                if key:
                    w.begin()
                refused = self._write_batch(w, d, sb, alone=bool(key))
                bad = sb.rejects + refused
                if bad:
                    self._store_rejects(w, bad)
                rows += sb.data.num_rows - len(refused)
                rejects += len(bad)
                fp = fp + part
                if key:
                    checkpoint(sb.last_key)
                    w.commit()
                    self._mirror(d.name, sb.last_key, rows, rejects, "copying", total)
                with self._lock:
                    self.prog.advance(d.name, sb.data.num_rows - len(refused), len(bad))
                if self.opts.batch_pause:
                    time.sleep(self.opts.batch_pause)
            if not key:
                checkpoint(None)
                w.commit()
        except BaseException:
            # the reading thread (or process) stops now, before the source is closed
            closed(batches)
            w.rollback()
            raise
        # Reconcile before the table is called done: every source row is either in the
        # target or in the reject table. Counted again now: a row written to the source
        # during the copy makes the counts differ. The two counts run at once.
        with ThreadPoolExecutor(1, thread_name_prefix="migrate-recount") as recount:
            counted = recount.submit(self.src.count, d)
            target_rows = int(w.execute(f"SELECT count(*) FROM {w.q(d.name)}")[0][0])
            w.commit()
            source_rows = counted.result()
        if source_rows != target_rows + rejects:
            raise CheckFailed.msg(
                "migrate.count_mismatch",
                table=d.name,
                source=source_rows,
                target=target_rows,
                rejects=rejects,
            )
        pending = self._key_pending(d)
        w.begin()
        if pending:
            try:
                w.execute(self._add_key_sql(w, d))
            except Exception as exc:
                w.rollback()
                if not self.sql.is_duplicate_key(exc):
                    raise
                # Rows sharing a key value: copy the table again with its key in place,
                # so that the target refuses them batch by batch and each is named.
                self._empty(w, d, with_key=True)
                with self._lock:
                    self.result.notes.append(Msg("migrate.key_refused", table=d.name))
                    self.events("migrate.key_refused", f"{self.run_id}/{d.name}", "migration", {})
                return self._copy_table(lane, d)
        # the key (if added here) and "done" commit together: a table is never done keyless
        w.execute(
            f"UPDATE {w.q(STATE_TABLE)} SET {w.q('status')} = {w.ph}, "
            f"{w.q('source_rows')} = {w.ph} "
            f"WHERE {w.q('run_id')} = {w.ph} AND {w.q('table_name')} = {w.ph}",
            ("done", source_rows, self.run_id, d.name),
        )
        w.commit()
        self._mirror(d.name, after, rows, rejects, "done", source_rows, force=True)
        seconds = time.perf_counter() - t0
        details: dict[str, Any] = {"rows": rows, "rejects": rejects, "source_rows": source_rows}
        with self._lock:
            self.events("migrate.table", f"{self.run_id}/{d.name}", "migration", details)
            if rejects:
                self.events(
                    "migrate.reject", f"{self.run_id}/{d.name}", "migration", {"rejects": rejects}
                )
        return TableResult(d.name, source_rows, rows, rejects, seconds)

    def _batches(
        self, lane: _Lane, d: TableDef, after: Key | None, total: int
    ) -> Iterator[tuple[SourceBatch, Fingerprint]]:
        """The batches of ``d`` after ``after`` with their fingerprints, read ahead while
        the previous ones are written: by another process for a large database table
        (reading is Python work), else by a thread."""
        limit = self._reads_ahead()
        if limit is not None and total >= limit:
            assert isinstance(self.src, DatabaseSource)
            with self._lock:
                if lane.ahead is None:
                    lane.ahead = ReadProcess(self.src.url)
                ahead = lane.ahead
            return ahead.read(d, after=after, batch_size=self.opts.batch_size)
        batches = self.src.read(d, after=after, batch_size=self.opts.batch_size)
        # the rows' hashes are computed by the reading thread, beside the writes
        return prefetch(((b, Fingerprint().add(b.data)) for b in batches), name="migrate-reader")

    def _source_changed(self, d: TableDef, st: dict[str, Any], keyed: bool) -> str | None:
        """Why the rows this run copied of ``d`` before it was interrupted cannot be
        trusted to be the source's (None: they are): ``migrate.source_changed`` when the
        first rows in key order (every row of a finished table) no longer give the
        fingerprint the checkpoint recorded, ``migrate.fingerprint_version`` when
        another version of handover recorded it with another hash. A table being copied
        without a key is started over anyway."""
        status = st["status"]
        if status == "pending" or (status != "done" and not keyed):
            return None
        want = Fingerprint.decode(st["fingerprint"])
        if want is None:
            nothing = int(st["rows_copied"]) == 0 and int(st["rejects"]) == 0
            return None if nothing else "migrate.source_changed"
        if not want.comparable:
            return "migrate.fingerprint_version"
        got = Fingerprint()
        whole = status == "done"
        it = self.src.read(d, after=None, batch_size=self.opts.batch_size)
        try:
            for sb in it:
                data = sb.data
                if not whole and got.rows + data.num_rows > want.rows:
                    data = data.slice(0, want.rows - got.rows)
                got = got.add(data)
                if not whole and got.rows >= want.rows:
                    break
        finally:
            closed(it)  # a reader stopped early releases its connection now
        return None if got == want else "migrate.source_changed"

    def _start_over(self, w: TargetWriter, d: TableDef, why: str) -> None:
        """Empty ``d`` in the target and copy it again, for the reason ``why`` (the key
        of the note and the ledger event's action). Foreign keys the run already added
        that point at ``d`` are dropped first (the constraint phase adds them again)."""
        if self.sql.alters_constraints:
            have = Catalog(self.engine)
            for other in self.defs:
                names = have.constraint_names(other.name) if other.foreign_keys else set()
                for fk in other.foreign_keys:
                    if fk.ref_table == d.name and fk.name in names:
                        w.begin()
                        w.execute(
                            f"ALTER TABLE {w.q(other.name)} "
                            f"{self.sql.drop_foreign_key_sql(w.q(fk.name))}"
                        )
                        w.commit()
        self._empty(w, d, with_key=False)
        with self._lock:
            self.result.notes.append(Msg(why, table=d.name))
            self.events(why, f"{self.run_id}/{d.name}", "migration", {})

    def _empty(self, w: TargetWriter, d: TableDef, *, with_key: bool) -> None:
        """In one transaction: ``d`` emptied in the target (its key added when
        ``with_key`` and it has none yet), its rejects forgotten, its checkpoint back to
        the start."""
        add_key = with_key and self._key_pending(d)
        w.begin()
        w.execute(f"DELETE FROM {w.q(d.name)}")
        if add_key:
            w.execute(self._add_key_sql(w, d))
        w.execute(
            f"DELETE FROM {w.q(REJECT_TABLE)} WHERE {w.q('run_id')} = {w.ph} "
            f"AND {w.q('table_name')} = {w.ph}",
            (self.run_id, d.name),
        )
        w.execute(
            f"UPDATE {w.q(STATE_TABLE)} SET {w.q('last_key')} = NULL, "
            f"{w.q('rows_copied')} = 0, {w.q('rejects')} = 0, {w.q('fingerprint')} = NULL, "
            f"{w.q('status')} = {w.ph}, {w.q('updated_at')} = {w.ph} "
            f"WHERE {w.q('run_id')} = {w.ph} AND {w.q('table_name')} = {w.ph}",
            ("pending", _now().isoformat(), self.run_id, d.name),
        )
        w.commit()

    def _key_pending(self, d: TableDef) -> bool:
        """Whether ``d``'s primary key is still to be added in the target (created
        without it, ``Dialect.keys_after_load``, and not added yet)."""
        if not d.primary_key or not self.sql.keys_after_load:
            return False
        return not Catalog(self.engine).primary_key(d.name)

    def _add_key_sql(self, w: TargetWriter, d: TableDef) -> str:
        return self.sql.add_primary_key_sql(w.q(d.name), [w.q(c) for c in d.primary_key])

    def _write_batch(
        self, w: TargetWriter, d: TableDef, sb: SourceBatch, *, alone: bool
    ) -> list[Reject]:
        """Insert the batch; on a data error isolate the refused rows by bisection.
        ``alone``: the open transaction holds nothing but this batch, so a refused insert
        rolls the whole transaction back and opens another (no savepoint around a batch
        that goes in: two round trips fewer per batch)."""
        if sb.data.num_rows == 0:
            return []
        unstorable = w.sql.unstorable(d, sb.data)
        if unstorable:
            early = self._refuse(d, sb, unstorable)
            return early + self._write_batch(w, d, _without(sb, unstorable), alone=alone)
        if not alone:
            w.savepoint("ho_batch")
        try:
            w.insert(d, sb.data)
            if not alone:
                w.release("ho_batch")
            return []
        except Exception as exc:
            if not w.is_data_error(exc):
                raise
            if alone:
                w.rollback()
                w.begin()
            else:
                w.rollback_to("ho_batch")
        refused: list[Reject] = []
        self._bisect(w, d, sb, 0, sb.data.num_rows, refused, 0)
        if not alone:
            w.release("ho_batch")
        return refused

    @staticmethod
    def _refuse(d: TableDef, sb: SourceBatch, rows: dict[int, tuple[str, str]]) -> list[Reject]:
        """Write-stage rejects for ``rows`` (index → (column, reason)) refused before writing."""
        return [
            Reject(d.name, _key_of(sb, r), column, reason, "write")
            for r, (column, reason) in sorted(rows.items())
        ]

    def _bisect(
        self,
        w: TargetWriter,
        d: TableDef,
        sb: SourceBatch,
        lo: int,
        hi: int,
        out: list[Reject],
        depth: int,
    ) -> None:
        part = sb.data.slice(lo, hi - lo)
        sp = f"ho_b{depth}"
        w.savepoint(sp)
        try:
            w.insert(d, part)
            w.release(sp)
            return
        except Exception as exc:
            if not w.is_data_error(exc):
                raise
            w.rollback_to(sp)
            w.release(sp)
            if hi - lo == 1:
                column, reason = w.describe(exc, d)
                out.append(Reject(d.name, _key_of(sb, lo), column, reason, "write"))
                return
        mid = (lo + hi) // 2
        self._bisect(w, d, sb, lo, mid, out, depth + 1)
        self._bisect(w, d, sb, mid, hi, out, depth + 1)

    def _store_rejects(self, w: TargetWriter, rejects: list[Reject]) -> None:
        cols = ", ".join(
            w.q(c) for c in ("run_id", "table_name", "key_text", "column_name", "reason", "stage")
        )
        marks = ", ".join([w.ph] * 6)
        if self._codec is None:
            self._codec = w.sql.text_codec(w.execute) or ""
        codec = self._codec

        def held(text: str) -> str:
            # a character the target's encoding lacks (a LATIN1 database: the masked
            # reason's "…", a key in Chinese) as its \u escape, not a failed insert
            return text.encode(codec, "backslashreplace").decode(codec) if codec else text

        w.executemany(
            f"INSERT INTO {w.q(REJECT_TABLE)} ({cols}) VALUES ({marks})",
            [
                (self.run_id, held(r.table), held(r.key), held(r.column), held(r.reason), r.stage)
                for r in rejects
            ],
        )

    def _mirror(
        self,
        name: str,
        last: Key | None,
        rows: int,
        rejects: int,
        status: str,
        source_rows: int,
        *,
        force: bool = False,
    ) -> None:
        """Copy the target's checkpoint into the platform store (at most once a second)."""
        from handover.migrate.models import MigrateCheckpoint

        with self._lock:
            now = time.monotonic()
            if not force and now - self._last_mirror < 1.0:
                return
            self._last_mirror = now
            pos = next((i for i, d in enumerate(self.defs) if d.name == name), -1)
            with self.ws.store.session() as s:
                row = s.get(MigrateCheckpoint, (self.run_id, name))
                if row is None:
                    row = MigrateCheckpoint(run_id=self.run_id, table_name=name, position=pos)
                    s.add(row)
                row.last_key = encode_key(last)
                row.rows_copied = rows
                row.rejects = rejects
                row.source_rows = source_rows
                row.status = status
                row.updated_at = _now()

    # --- after the data --------------------------------------------------------------------------

    def _post_data(self) -> None:
        errors: list[str] = []
        catalog = Catalog(self.engine)
        with self.engine.connect() as conn:
            names: set[str] = set()
            keys: set[str] = set()  # the foreign keys only: an index may bear a key's name
            for d in self.defs:
                names |= catalog.constraint_names(d.name, foreign_keys=self.sql.alters_constraints)
                if self.sql.alters_constraints and d.foreign_keys:
                    keys |= {fk.name for fk in catalog.foreign_keys(d.name)}
            prep = self.engine.dialect.identifier_preparer
            builds: dict[str, list[tuple[str, str]]] = {}
            for d in self.defs:
                for ix in d.uniques + d.indexes:
                    if ix.name in names:
                        continue
                    cols = ", ".join(prep.quote(c) for c in ix.columns)
                    uq = "UNIQUE " if ix.unique else ""
                    sql = f"CREATE {uq}INDEX {prep.quote(ix.name)} ON {prep.quote(d.name)} ({cols})"
                    if ix.unique and self.sql.alters_constraints:
                        sql = (
                            f"ALTER TABLE {prep.quote(d.name)} ADD CONSTRAINT "
                            f"{prep.quote(ix.name)} UNIQUE ({cols})"
                        )
                    builds.setdefault(d.name, []).append((sql, f"{d.name}.{ix.name}"))
                if self.sql.key_builds_index:
                    for fk in d.foreign_keys:
                        if fk.name in names or _indexed(d, fk.columns):
                            continue
                        # the index adding the key would build, one table at a time: built
                        # here beside the others, under the name the engine gives it
                        cols = ", ".join(prep.quote(c) for c in fk.columns)
                        sql = f"CREATE INDEX {prep.quote(fk.name)} ON {prep.quote(d.name)} ({cols})"
                        builds.setdefault(d.name, []).append((sql, f"{d.name}.{fk.name}"))
            errors.extend(self._side_by_side(conn, builds))
            apart = self.sql.validates_apart
            if self.sql.alters_constraints:
                unchecked = self.sql.unchecked_foreign_keys(conn) if apart else nullcontext("")
                with unchecked as tail:
                    for d in self.defs:
                        for fk in d.foreign_keys:
                            if fk.name not in keys:
                                sql = self._add_foreign_key_sql(d.name, fk) + tail
                                self._ddl(conn, sql, f"{d.name}.{fk.name}", errors)
            if apart:
                mine = {d.name for d in self.defs}
                todo = [tn for tn in self.sql.unvalidated(conn) if tn[0] in mine]
                self._validate(conn, todo, errors)
            for d in self.defs:
                for c in d.columns:
                    if c.autoincrement and len(d.primary_key) == 1 and c.name in d.primary_key:
                        tq, cq = prep.quote(d.name), prep.quote(c.name)
                        reset = self.sql.reset_identity_sql(tq, c.name, cq)
                        if reset is not None:
                            self._ddl(conn, reset, f"{d.name}.{c.name} identity", errors)
        self.result.errors.extend(errors)

    def _add_foreign_key_sql(self, table: str, fk: ForeignKeyDef) -> str:
        q = self.engine.dialect.identifier_preparer.quote
        sql = (
            f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(fk.name)} "
            f"FOREIGN KEY ({', '.join(q(c) for c in fk.columns)}) "
            f"REFERENCES {q(fk.ref_table)} ({', '.join(q(c) for c in fk.ref_columns)})"
        )
        if fk.on_delete:
            sql += f" ON DELETE {fk.on_delete}"
        if fk.on_update:
            sql += f" ON UPDATE {fk.on_update}"
        return sql

    def _in_lanes(
        self, conn: sa.Connection, tables: list[str], work: Callable[[str, sa.Connection], R]
    ) -> dict[str, R]:
        """``work(table, connection)`` for each of ``tables``, up to ``Dialect.ddl_lanes``
        tables at once, each on its own connection, the largest first (``conn``, in this
        thread, with one lane). The lanes are daemon threads: an interrupt or a failure
        is raised at once, without waiting for a statement still running in the other
        lane (the server rolls it back when the process ends; ``--resume`` does it
        again). The first failure of a lane is raised."""
        workers = min(self.sql.ddl_lanes, len(tables))
        if workers <= 1:
            return {t: work(t, conn) for t in tables}
        rows = {r.name: r.rows for r in self.result.tables}
        todo = sorted(tables, key=lambda t: -rows.get(t, 0))
        done: dict[str, R] = {}
        failed: list[BaseException] = []
        lock = threading.Lock()
        running = [workers]
        ended = threading.Event()  # a lane failed, or every lane is done

        def lane() -> None:
            try:
                with self._target_connection() as own:
                    while True:
                        with lock:
                            if not todo or failed:
                                break
                            table = todo.pop(0)
                        done[table] = work(table, own)
            except BaseException as exc:
                with lock:
                    failed.append(exc)
                ended.set()
            finally:
                with lock:
                    running[0] -= 1
                    if not running[0]:
                        ended.set()

        for _ in range(workers):
            threading.Thread(target=lane, name="migrate-ddl", daemon=True).start()
        while not ended.wait(0.2):  # a timed wait: an interrupt reaches this thread at once
            pass
        with lock:
            if failed:
                raise failed[0]
            return dict(done)

    @contextmanager
    def _target_connection(self) -> Iterator[sa.Connection]:
        """A new connection to the target; failing to connect is the transient target
        error, not an internal one."""
        try:
            own = self.engine.connect()
        except sa.exc.DBAPIError as exc:
            raise self._unreachable(exc) from None
        with own:
            yield own

    def _unreachable(self, exc: sa.exc.DBAPIError) -> HandoverError:
        """The target failing (a lost connection, a timeout), not refusing the rows."""
        from handover.migrate.writer import sanitize

        return HandoverError.msg(
            "migrate.unreachable",
            role=Msg("migrate.role.target"),
            url=self.result.target,
            reason=sanitize(str(exc.orig)),
            transient=True,
        )

    def _side_by_side(
        self, conn: sa.Connection, per_table: dict[str, list[tuple[str, str]]]
    ) -> list[str]:
        """Run each table's statements ``(sql, what)`` in order, the tables side by side
        (:meth:`_in_lanes`); the errors in the order of the tables' definitions."""

        def run(table: str, own: sa.Connection) -> list[str]:
            found: list[str] = []
            for sql, what in per_table[table]:
                self._ddl(own, sql, what, found)
            return found

        found = self._in_lanes(conn, list(per_table), run)
        return [e for d in self.defs for e in found.get(d.name, [])]

    def _validate(
        self, conn: sa.Connection, todo: list[tuple[str, str]], errors: list[str]
    ) -> None:
        """Check the rows against each foreign key ``(table, name)`` added without that
        check (``Dialect.validates_apart``), on up to ``ddl_lanes`` connections at once:
        validating locks only its own table against other validations, so the tables'
        checks run side by side, the largest first. A key the rows break is named in
        ``errors``, as when adding it had failed, and dropped again on ``conn`` once every
        check has ended (a drop locks the referenced table too, so it must not wait for,
        or deadlock with, a check still running). A drop that fails leaves its key
        unchecked, which ``--resume`` checks again; the run has failed on that key."""
        if not todo:
            return
        prep = self.engine.dialect.identifier_preparer
        by_table: dict[str, list[str]] = {}
        for table, name in todo:
            by_table.setdefault(table, []).append(name)

        def check(table: str, own: sa.Connection) -> list[tuple[str, str]]:
            from handover.migrate.writer import sanitize

            failed: list[tuple[str, str]] = []
            try:
                keys = {k.name: k for k in Catalog(own).foreign_keys(table)}
            except sa.exc.DBAPIError as exc:
                raise self._unreachable(exc) from None
            for name in sorted(by_table[table]):
                key = keys.get(name)
                if key is None:  # listed a moment ago: dropped by someone else meanwhile
                    missing = Msg("db.foreign_key_missing", name=name, table=table)
                    failed.append((name, f"{table}.{name}: {missing}"))
                    continue
                try:
                    problem = self.sql.check_foreign_key(own, table, key)
                except sa.exc.DBAPIError as exc:  # the server failed, not the rows
                    raise self._unreachable(exc) from None
                if problem is not None:
                    failed.append((name, f"{table}.{name}: {sanitize(problem)}"))
            return failed

        results = self._in_lanes(conn, list(by_table), check)
        for table in by_table:  # in the order the engine listed the keys
            for name, err in results[table]:
                errors.append(err)
                drop = f"ALTER TABLE {prep.quote(table)} "
                drop += self.sql.drop_foreign_key_sql(prep.quote(name))
                self._ddl(conn, drop, f"{table}.{name}", [])

    def _ddl(self, conn: sa.Connection, sql: str, what: str, errors: list[str]) -> None:
        from handover.migrate.writer import sanitize

        try:
            conn.exec_driver_sql(sql)
            conn.commit()
        except sa.exc.DBAPIError as exc:
            if exc.connection_invalidated:  # the connection was lost: not this statement
                raise self._unreachable(exc) from None
            conn.rollback()
            errors.append(f"{what}: {sanitize(str(exc.orig))}")

    # --- the end -----------------------------------------------------------------------------

    def _finish(self) -> MigrateResult:
        from handover.migrate.models import MigrateRun

        with self.engine.connect() as conn:
            rej = conn.execute(
                sa.select(self.rejects_t).where(self.rejects_t.c.run_id == self.run_id)
            ).all()
        if rej:
            path = self.ws.settings.reports_dir / f"migrate-{self.run_id}-rejects.jsonl"
            with replacing(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
                for r in rej:
                    rec = Reject(r.table_name, r.key_text, r.column_name, r.reason, r.stage)
                    fh.write(json.dumps(rec.to_json(), ensure_ascii=False) + "\n")
            self.result.reject_file = path
        failed = self.result.rejects > self.opts.allow_rejects or bool(self.result.errors)
        self.result.status = "failed" if failed else "done"
        with self.ws.store.session() as s:
            row = s.get(MigrateRun, self.run_id)
            if row is not None:
                row.status = "finishing"
                row.summary = self.result.to_json()
        self.state.drop(self.engine, checkfirst=True)
        self.rejects_t.drop(self.engine, checkfirst=True)
        return self._finish_store()

    def _finish_store(self) -> MigrateResult:
        from handover.migrate.models import MigrateRun

        with self.ws.store.session() as s:
            row = s.get(MigrateRun, self.run_id)
            summary = dict(row.summary) if row is not None and row.summary else {}
        if summary and not self.result.tables:
            self.result.tables = [
                TableResult(x["table"], x["source_rows"], x["rows"], x["rejects"], x["seconds"])
                for x in summary.get("tables", [])
            ]
            self.result.status = summary.get("status", "done")
            self.result.errors = list(summary.get("errors", []))
            rf = summary.get("reject_file")
            self.result.reject_file = Path(rf) if rf else None
        action = "migrate.done" if self.result.status == "done" else "migrate.failed"
        self.events(
            action,
            self.run_id,
            "migration",
            {
                "tables": len(self.result.tables),
                "rows": self.result.rows,
                "rejects": self.result.rejects,
                "errors": len(self.result.errors),
                "seconds": round(self.result.seconds, 3),
            },
        )
        with self.ws.store.session() as s:
            row = s.get(MigrateRun, self.run_id)
            if row is not None:
                row.status = self.result.status
                row.finished_at = _now()
                row.summary = self.result.to_json()
        if self.result.errors:
            raise CheckFailed.msg(
                "migrate.constraint_failed",
                run=self.run_id,
                count=len(self.result.errors),
                first=self.result.errors[0],
            )
        if self.result.rejects > self.opts.allow_rejects:
            raise CheckFailed.of(
                rejects_message(
                    self.run_id,
                    self.result.rejects,
                    self.opts.allow_rejects,
                    self.result.reject_file,
                )
            )
        return self.result


def _without(sb: SourceBatch, rows: dict[int, Any]) -> SourceBatch:
    """``sb`` without the rows in ``rows`` (their keys too)."""
    keep = [r not in rows for r in range(sb.data.num_rows)]
    keys = [[v for v, ok in zip(k, keep, strict=True) if ok] for k in sb.keys]
    return replace(sb, data=sb.data.filter(pa.array(keep)), keys=keys, rejects=[])


def _indexed(d: TableDef, columns: tuple[str, ...]) -> bool:
    """Whether an index of ``d`` (its key included) starts with ``columns`` in that order."""
    leads = [d.primary_key, *(ix.columns for ix in d.uniques + d.indexes)]
    return any(lead[: len(columns)] == columns for lead in leads)


def _key_of(sb: SourceBatch, row: int) -> str:
    """The masked key of row ``row`` of ``sb`` for a reject (its position if keyless)."""
    return mask_key([k[row] for k in sb.keys]) if sb.keys else f"row {row}"
