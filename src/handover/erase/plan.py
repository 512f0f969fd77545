"""The destruction plan: every item, its method, and what is kept under which rule.

``make_plan`` reads, never writes: it lists the source tables (dropped), tables with
retained rows (other rows deleted), tables kept whole, packages and backups, due
diligence extracts and exports, temporary files, extra paths, and the keys to erase.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.crypto.files import tree_size
from handover.db.url import sqlite_path
from handover.erase.database import Database, open_database
from handover.erase.methods import METHODS, method_for_dialect
from handover.erase.retention import RetentionRule, RetentionRules, load_bases, load_rules
from handover.errors import BadInput
from handover.i18n import Msg

if TYPE_CHECKING:
    from handover.workspace import Workspace

MEDIA = (
    "source",
    "packages",
    "copies",
    "letters",
    "extracts",
    "exports",
    "temp",
    "paths",
    "keys",
)
#: what one item of a plan (and of a certificate) is
ITEM_MEDIA = (
    "table",
    "rows",
    "package",
    "copy",
    "letter",
    "extract",
    "export",
    "temp",
    "file",
    "key",
    "store",
)
#: key purposes whose keys protect transfer data (the signing key is never erased here)
DATA_KEY_PURPOSES = ("package", "tokenize")
_TEMP_PATTERNS = (".*.partial-*", "*.tmp", ".*.tmp", "*.partial")


@dataclass(frozen=True)
class Scope:
    """What a shred run covers: the source and which of its tables, the target it was
    verified against, the media, extra paths, and the retention rules file."""

    source: str | None = None
    tables: list[str] | None = None
    target: str | None = None
    media: list[str] | None = None
    paths: list[Path] | None = None
    retention: Path | None = None


@dataclass
class PlanItem:
    """One thing the run destroys or keeps."""

    medium: (
        str  # table | rows | package | copy | letter | extract | export | temp | file | key | store
    )
    subject: str
    action: str  # destroy | retain | unreached (a copy handover made that this run cannot reach)
    method: str
    rows: int | None = None
    bytes: int | None = None
    files: int | None = None
    rule: RetentionRule | None = None
    path: Path | None = None
    table: str | None = None
    keep: str | None = None  # row filter of the rows kept (medium rows)
    kept_rows: int | None = None
    key_id: str | None = None
    #: why it is kept or how it goes, shown in the user's language; ``note`` is its English
    #: (plan and certificate JSON)
    note_text: Msg | None = field(default=None, repr=False)
    note: str = ""

    def __post_init__(self) -> None:
        if self.note_text is not None and not self.note:
            self.note = str(self.note_text)

    def to_json(self) -> dict[str, Any]:
        """Plan / certificate form (no value of any row)."""
        out: dict[str, Any] = {
            "medium": self.medium,
            "subject": self.subject,
            "action": self.action,
            "method": self.method,
        }
        for k in ("rows", "bytes", "files", "kept_rows", "key_id", "table"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v
        if self.keep is not None:
            out["kept_where"] = self.keep
        if self.rule is not None:
            out["rule"] = self.rule.to_json()
        if self.note:
            out["note"] = self.note
        if self.note_text is not None:  # a reader in another language renders it from these
            out["note_key"] = self.note_text.key
            out["note_params"] = self.note_text.params()
        return out


@dataclass
class Plan:
    """What ``handover shred`` will do, before it does it."""

    source: str | None
    dialect: str | None
    items: list[PlanItem] = field(default_factory=list)
    rules: RetentionRules = field(default_factory=RetentionRules)
    spec: str | None = field(default=None, repr=False)

    @property
    def destroy(self) -> list[PlanItem]:
        return [i for i in self.items if i.action == "destroy"]

    @property
    def retain(self) -> list[PlanItem]:
        return [i for i in self.items if i.action == "retain"]

    @property
    def unreached(self) -> list[PlanItem]:
        """Copies the ledger says handover made that this run cannot destroy (listed on
        the certificate as not destroyed, with why)."""
        return [i for i in self.items if i.action == "unreached"]

    def source_items(self) -> list[PlanItem]:
        """Destroyed tables and row deletions of the source."""
        return [i for i in self.destroy if i.medium in ("table", "rows")]

    def to_json(self) -> dict[str, Any]:
        """``--plan --json`` form."""
        used = sorted({i.method for i in self.items})
        return {
            "source": self.source,
            "dialect": self.dialect,
            "destroy": [i.to_json() for i in self.destroy],
            "retain": [i.to_json() for i in self.retain],
            "unreached": [i.to_json() for i in self.unreached],
            "methods": {k: METHODS[k].to_json() for k in used if k in METHODS},
            "rules": [r.to_json() for r in self.rules.rules],
        }


def _source_items(db: Database, plan: Plan, tables: list[str] | None) -> None:
    present = db.tables()
    by_lower = {t.lower(): t for t in present}
    if tables:
        missing = [t for t in tables if t.lower() not in by_lower]
        if missing:
            raise BadInput.msg("erase.no_table", table=missing[0], db=db.display)
        chosen = [by_lower[t.lower()] for t in tables]
    else:
        chosen = present
    for rule in plan.rules.rules:
        for t in rule.tables:
            if t.lower() not in by_lower:
                raise BadInput.msg(
                    "erase.rule_no_table", origin=rule.origin, rule=rule.id, table=t, db=db.display
                )
    every = set(chosen) == set(present) and not any(plan.rules.for_table(n) for n in present)
    method = method_for_dialect(db.dialect, whole=every).key
    for name in chosen:
        rules = plan.rules.for_table(name)
        whole = next((r for r in rules if r.where is None), None)
        subject = f"{db.display}#{name}"
        if whole is not None:
            plan.items.append(
                PlanItem(
                    "table",
                    subject,
                    "retain",
                    "retain.freeze",
                    rows=db.count(name),
                    rule=whole,
                    table=name,
                )
            )
        elif rules:
            keep = " OR ".join(f"({r.where})" for r in rules)
            kept = db.count(name, keep, kept=True)
            gone = db.count(name, keep, kept=False)
            plan.items.append(
                PlanItem(
                    "rows",
                    subject,
                    "destroy",
                    method,
                    rows=gone,
                    table=name,
                    keep=keep,
                    kept_rows=kept,
                    rule=rules[0],
                )
            )
            plan.items.append(
                PlanItem(
                    "rows",
                    subject,
                    "retain",
                    "retain.freeze",
                    rows=kept,
                    table=name,
                    keep=keep,
                    rule=rules[0],
                )
            )
        else:
            plan.items.append(
                PlanItem("table", subject, "destroy", method, rows=db.count(name), table=name)
            )
    for name in present:
        if name not in chosen:
            plan.items.append(
                PlanItem(
                    "table",
                    f"{db.display}#{name}",
                    "retain",
                    "out_of_scope",
                    rows=db.count(name),
                    table=name,
                    note_text=Msg("erase.note.not_selected"),
                )
            )


def _file_item(medium: str, path: Path) -> PlanItem:
    files, size = tree_size(path)
    return PlanItem(
        medium, str(path), "destroy", "file.overwrite", bytes=size, files=files, path=path
    )


def _package_keys(path: Path) -> list[str]:
    manifest = path / "manifest.json"
    if not manifest.is_file():
        return []
    try:
        crypto = json.loads(manifest.read_text(encoding="utf-8")).get("crypto", {})
    except (OSError, ValueError):
        return []
    ids = {str(v) for v in dict(crypto.get("column_keys", {})).values()}
    if crypto.get("footer_key"):
        ids.add(str(crypto["footer_key"]))
    return sorted(ids)


def _extract_paths(ws: Workspace) -> list[Path]:
    """Outputs of due-diligence extracts named in the ledger (``dd.*`` events) that exist
    (an absolute path; a relative one is reported unreached by :func:`_recorded_copies`)."""
    from handover.ledger import entries

    out: list[Path] = []
    for e in entries(ws, action="dd"):
        for key in ("out", "output", "path", "folder", "file"):
            v = e.details.get(key)
            found = isinstance(v, str) and v and Path(v).is_absolute() and Path(v).exists()
            if found and Path(str(v)) not in out:
                out.append(Path(str(v)))
    return out


#: ledger events that say handover wrote a copy of the data, and the detail naming where
_COPY_EVENTS = (
    ("package.seal", "package", "package"),
    ("dd.extract", "out", "extract"),
    ("package.unseal", "target", "copy"),
    ("package.restore", "target", "copy"),
)


def _recorded_copies(ws: Workspace, plan: Plan, scope: Scope, chosen: set[str]) -> None:
    """Every copy the ledger says handover wrote — packages sealed anywhere (``seal
    --out``), extracts, the databases ``unseal``/``restore`` wrote — and the temporary
    folders left beside them: destroyed when reachable, else listed as unreached with
    the reason. The verified destination of the transfer (``--target``, else every
    target a ``verify.run`` names) is the buyer's copy: kept."""
    from handover.erase.control import norm_spec, recorded_place
    from handover.ledger import entries

    have = {_key(i.path) for i in plan.items if i.path is not None}
    # what an earlier run destroyed (and certified) is not looked for again
    for e in entries(ws, action="erase.file"):
        have |= {e.subject, _key(Path(e.subject))}
    if scope.target:
        destinations = {norm_spec(scope.target)}
    else:
        destinations = {
            at
            for e in entries(ws, action="verify.run")
            if (at := recorded_place(e.details, "target")) is not None
        }
    medium_wanted = {"package": "packages", "extract": "extracts", "copy": "copies"}
    for action, detail, medium in _COPY_EVENTS:
        if medium_wanted[medium] not in chosen:
            continue
        for e in entries(ws, action=action):
            where = e.details.get(detail)
            if not isinstance(where, str) or not where:
                continue
            if medium == "copy":
                item = _database_copy(
                    ws,
                    where,
                    recorded_place(e.details, "target"),
                    str(e.details.get("migrate_run") or ""),
                    destinations,
                )
            else:
                item = _folder_copy(medium, where)
            if item is None:
                continue
            key = _key(item.path) if item.path is not None else item.subject
            if key in have:
                continue
            have.add(key)
            plan.items.append(item)
            if item.path is not None and item.action == "destroy" and medium == "copy":
                for suffix in ("-wal", "-shm", "-journal"):  # SQLite's files beside it
                    side = item.path.with_name(item.path.name + suffix)
                    if side.exists() and _key(side) not in have:
                        have.add(_key(side))
                        plan.items.append(_file_item("copy", side))
            if item.path is not None and item.action == "destroy" and "temp" in chosen:
                for p in sorted(item.path.parent.glob(f".{item.path.name}.partial-*")):
                    if _key(p) not in have:
                        have.add(_key(p))
                        plan.items.append(_file_item("temp", p))


def _letter_items(ws: Workspace) -> list[PlanItem]:
    """The printed-letter PDFs of every notice campaign (a customer's name and postal
    address in clear, for the printing staff): one item per campaign folder holding any.
    The ledger keeps each campaign's outcome; the PDFs are copies to destroy once mailed."""
    notices = ws.path / "notices"
    if not notices.is_dir():
        return []
    return [
        _file_item("letter", folder)
        for folder in sorted(notices.glob("campaign-*/letters"))
        if folder.is_dir() and any(folder.iterdir())
    ]


def _key(path: Path) -> str:
    return str(path.resolve())


def _unreached(medium: str, subject: str, why: str, **values: Any) -> PlanItem:
    return PlanItem(medium, subject, "unreached", "none", note_text=Msg(why, **values))


def _folder_copy(medium: str, where: str) -> PlanItem | None:
    """A package or extract folder the ledger recorded at ``where``."""
    path = Path(where)
    if not path.is_absolute():
        # recorded by an older handover relative to a folder nobody knows now: never guess
        return _unreached(medium, where, "erase.unreached.relative")
    if not path.exists():
        return _unreached(medium, where, "erase.unreached.gone")
    return _file_item(medium, path)


def _database_copy(
    ws: Workspace, target: str, at: str | None, run_id: str, destinations: set[str]
) -> PlanItem | None:
    """The database ``unseal``/``restore`` wrote (masked URL ``target``, recorded place
    ``at``, migration run ``run_id``): a SQLite file holding nothing but what the run wrote is destroyed whole
    (with its journal files); the transfer's destination is kept; anything else is
    listed unreached (a server database, a file holding other tables too)."""
    from handover.ledger import entries

    if at in destinations:
        return PlanItem(
            "copy",
            target,
            "retain",
            "retain.destination",
            note_text=Msg("erase.note.destination"),
        )
    path = sqlite_path(target)
    if path is None:
        return _unreached("copy", target, "erase.unreached.server")
    path = Path(at) if at else path
    if not path.exists():
        return _unreached("copy", str(path), "erase.unreached.gone")
    written = {
        e.subject.split("/", 1)[1]
        for e in entries(ws, action="migrate.table")
        if run_id and e.subject.startswith(f"{run_id}/")
    }
    db = open_database(str(path))
    try:
        present = set(db.tables())
    finally:
        db.close()
    other = sorted(present - written)
    if other or not written:
        return _unreached("copy", str(path), "erase.unreached.shared", tables=", ".join(other[:5]))
    item = _file_item("copy", path)
    item.note_text = Msg("erase.note.unsealed", tables=len(written))
    item.note = str(item.note_text)
    return item


def make_plan(ws: Workspace, scope: Scope, *, db: Database | None = None) -> Plan:
    """List what a shred run destroys and keeps; reads only. BadInput for unknown media/tables."""
    source, tables, media, paths = scope.source, scope.tables, scope.media, scope.paths
    retention = scope.retention
    chosen = set(media or MEDIA)
    unknown = chosen - set(MEDIA)
    if unknown:
        raise BadInput.msg("erase.media", medium=sorted(unknown)[0], media=", ".join(MEDIA))
    rules = load_rules(ws, retention)
    plan = Plan(source=None, dialect=None, rules=rules, spec=source)
    if source and "source" in chosen:
        own = db is None
        database = db or open_database(source)
        try:
            plan.source, plan.dialect = database.display, database.dialect
            _source_items(database, plan, tables)
        finally:
            if own:
                database.close()
    package_keys: list[str] = []
    if "packages" in chosen and ws.settings.packages_dir.is_dir():
        for p in sorted(ws.settings.packages_dir.iterdir()):
            if p.name.startswith(".") or p.name in ("",):
                continue
            item = _file_item("package", p)
            package_keys += _package_keys(p)
            plan.items.append(item)
    extracts = _extract_paths(ws) if "extracts" in chosen else []
    exports_dir = ws.path / "exports"
    if exports_dir.is_dir() and ({"extracts", "exports"} & chosen):
        for p in sorted(exports_dir.iterdir()):
            is_dd = p.name.lower().startswith("dd") or p in extracts
            if p in extracts:
                extracts.remove(p)
            medium = "extract" if is_dd else "export"
            if (medium == "extract" and "extracts" in chosen) or (
                medium == "export" and "exports" in chosen
            ):
                plan.items.append(_file_item(medium, p))
    plan.items += [_file_item("extract", p) for p in extracts]
    if "letters" in chosen:
        plan.items += _letter_items(ws)
    _recorded_copies(ws, plan, scope, chosen)
    if "temp" in chosen:
        seen: set[Path] = set()
        for folder in (ws.path, ws.settings.packages_dir, ws.settings.reports_dir, exports_dir):
            if not folder.is_dir():
                continue
            for pattern in _TEMP_PATTERNS:
                for p in sorted(folder.glob(pattern)):
                    if p not in seen and p.name != "handover.db":
                        seen.add(p)
                        plan.items.append(_file_item("temp", p))
    if "paths" in chosen:
        for p in paths or []:
            if not p.exists():
                raise BadInput.msg("erase.path_missing", path=p)
            plan.items.append(_file_item("file", p))
    if "keys" in chosen:
        _key_items(ws, plan, set(package_keys))
    bases = load_bases()
    store_file = sqlite_path(ws.settings.store_url)
    plan.items.append(
        PlanItem(
            "store",
            str(store_file) if store_file is not None else "platform store",
            "retain",
            "retain.freeze",
            rule=RetentionRule("evidence", ("ledger",), bases["pia"]),
            note_text=Msg("erase.note.store"),
        )
    )
    return plan


def _key_items(ws: Workspace, plan: Plan, package_keys: set[str]) -> None:
    from handover.crypto import Keys

    with Keys(ws) as keys:
        signing = keys.signing_key_id()
        for info in keys.list():
            if info.state != "active":
                continue
            if info.key_id == signing:
                plan.items.append(
                    PlanItem(
                        "key",
                        info.key_id,
                        "retain",
                        "retain.signing",
                        key_id=info.key_id,
                        note_text=Msg("erase.note.signing_key"),
                    )
                )
            elif info.purpose in DATA_KEY_PURPOSES or info.key_id in package_keys:
                plan.items.append(
                    PlanItem(
                        "key",
                        info.key_id,
                        "destroy",
                        "key.crypto_erase",
                        key_id=info.key_id,
                        note_text=Msg(
                            "erase.note.data_key", purpose=info.purpose, backend=info.backend
                        ),
                    )
                )
