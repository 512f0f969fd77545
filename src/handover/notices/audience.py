"""The audience of a notice campaign, derived from the scanned seller database.

The stored scan inventory says which columns hold a person's name, resident ID, mobile,
e-mail and address. A table is a *people table* when it holds a name and at least one
identifier or electronic contact (resident ID, mobile, e-mail): borrowers, guarantors,
co-borrowers, emergency contacts, credit-authorisation signers, staff. An address alone
names a place (a collateral property, a company seat), not where a person gets mail, so
it never makes a table a people table.

Every row of a people table ends as exactly one of: part of a recipient (one recipient
per person) or an unreachable row with its reason. Persons are told apart by a keyed
token of

1. the resident ID (GB 11643, 18 or 15 digits, checksum valid) or another identity
   document number (passport, permit) when that is what the column holds;
2. else the mobile (network prefix in use), else the e-mail (RFC 5322 shape);
3. else the name and the address (a person reachable by letter only).

A row keyed by its mobile or e-mail joins the person whose resident-ID row carries the
same mobile or e-mail (a guarantor listed without ID number who is also a borrower).
Everything is computed over whole Arrow columns; the HMAC runs once per distinct key of
each batch read, beside the reading (the tokens' worker process of ``notices send``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handover.crypto.digest import sha256_hex
from handover.crypto.tokenize import Later, Tokens, tokens_later
from handover.errors import BadInput

if TYPE_CHECKING:
    import pyarrow as pa

    from handover.sources.base import Source

#: PII types (handover.taxonomy) of the columns an audience is built from.
ROLES: dict[str, tuple[str, ...]] = {
    "name": ("person_name",),
    "resident_id": ("cn_resident_id",),
    "mobile": ("cn_mobile",),
    "email": ("email",),
    "address": ("address",),
}
#: what makes a table a people table besides a name column
IDENTIFYING = ("resident_id", "mobile", "email")
#: reasons a row cannot be reached (catalogue keys ``notices.reason.<code>``)
REASONS = ("no_contact", "invalid_contact")
#: recipient channels an audience knows how to address
CHANNELS = ("email", "sms", "letter")
MIN_ADDRESS = 6
#: rows read and normalised at a time: a quarter of a source's default batch, so that
#: the driver's Python rows of one batch stay small next to the columns kept
READ_BATCH = 16_384

Tokenizer = Tokens
Inventory = dict[tuple[str, str], dict[str, Any]]


@dataclass(frozen=True)
class PeopleTable:
    """One people table and the columns that play each role (None when absent)."""

    table: str
    key: tuple[str, ...]
    name: str
    resident_id: str | None = None
    mobile: str | None = None
    email: str | None = None
    address: str | None = None
    #: the PII type of each column of the table that has one (from the scan inventory);
    #: how the key parts of an unreachable row are masked
    types: dict[str, str] = field(default_factory=dict, compare=False)

    def columns(self) -> list[str]:
        """Every column to read, key first, without duplicates."""
        wanted = [*self.key, self.name, self.resident_id, self.mobile, self.email, self.address]
        return list(dict.fromkeys(c for c in wanted if c is not None))

    def contact_items(self) -> list[str]:
        """``table.column`` of every column read in clear to send (governance scope)."""
        cols = (self.name, self.resident_id, self.mobile, self.email, self.address)
        return [f"{self.table}.{c}" for c in cols if c is not None]

    def key_types(self) -> list[str | None]:
        """Per primary-key column, the PII type it is masked by in the unreachable list:
        its scanned type, else that of the role it plays, else None (shown as it is)."""
        roles = {getattr(self, r): ROLES[r][0] for r in ROLES if getattr(self, r) is not None}
        return [self.types.get(k) or roles.get(k) for k in self.key]

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "table": self.table,
            "key": list(self.key),
            "name": self.name,
            "resident_id": self.resident_id,
            "mobile": self.mobile,
            "email": self.email,
            "address": self.address,
            "types": dict(self.types),
        }


def people_tables(
    inventory: Inventory,
    keys: dict[str, list[str]],
    *,
    only: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> list[PeopleTable]:
    """The people tables of a scanned source, from its inventory
    (``{(table, column): {"primary": type, ...}}``, in column order) and each table's
    primary key (``keys``); the first column of each role is taken.

    ``only`` limits to those tables, ``exclude`` drops some; a name in either that is no
    people table is refused (BadInput naming it).
    """
    by_table: dict[str, dict[str, str]] = {}
    typed: dict[str, dict[str, str]] = {}
    for (table, column), info in inventory.items():
        primary = info.get("primary")
        if primary:
            typed.setdefault(table, {})[column] = str(primary)
        roles = by_table.setdefault(table, {})
        for role, types in ROLES.items():
            if primary in types and role not in roles:
                roles[role] = column
    found: list[PeopleTable] = []
    for table, roles in by_table.items():
        if "name" not in roles or not any(r in roles for r in IDENTIFYING):
            continue
        found.append(
            PeopleTable(
                table=table,
                key=tuple(keys.get(table) or ()),
                name=roles["name"],
                resident_id=roles.get("resident_id"),
                mobile=roles.get("mobile"),
                email=roles.get("email"),
                address=roles.get("address"),
                types=typed.get(table, {}),
            )
        )
    names = {p.table for p in found}
    for t in (*only, *exclude):
        if t not in names:
            raise BadInput.msg("notices.not_people_table", table=t, tables=", ".join(sorted(names)))
    if only:
        found = [p for p in found if p.table in only]
    found = [p for p in found if p.table not in exclude]
    if not found:
        raise BadInput.msg("notices.no_people")
    return sorted(found, key=lambda p: p.table)


@dataclass
class TableCount:
    """How the rows of one people table were accounted for."""

    table: str
    rows: int = 0
    reached: int = 0
    unreachable: int = 0

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "table": self.table,
            "rows": self.rows,
            "reached": self.reached,
            "unreachable": self.unreachable,
        }


@dataclass
class Audience:
    """Recipients (one per person) and the rows that cannot be reached.

    ``recipients`` columns: ``recipient`` (keyed token), ``name``, ``mobile``, ``email``,
    ``address`` (clear, valid or null; held in memory only), ``rows`` (source rows merged)
    and ``tables`` (where the person appears, ``;``-joined). ``unreachable`` columns:
    ``table``, ``row_key`` (the primary key's values ``|``-joined, each masked by its
    column's PII type; ``#n``, the row number, in a table without a key),
    ``name_masked``, ``reason``.
    """

    recipients: pa.Table
    unreachable: pa.Table
    counts: list[TableCount] = field(default_factory=list)
    fingerprint: str = ""
    #: the restriction it was derived under, and per leaked identifier column how many
    #: distinct values it held and how many of them name someone in the people tables
    restriction: Restriction | None = None
    linked: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Source rows read."""
        return sum(c.rows for c in self.counts)

    def reconciles(self) -> bool:
        """Every row read is a recipient's row or an unreachable row."""
        merged = int(self.recipients.column("rows").to_numpy().sum()) if len(self) else 0
        return all(c.rows == c.reached + c.unreachable for c in self.counts) and (
            merged + self.unreachable.num_rows == self.rows
        )

    def __len__(self) -> int:
        return int(self.recipients.num_rows)

    def reach(self) -> dict[str, int]:
        """Recipients addressable per channel (a person may have several)."""
        import pyarrow.compute as pc

        r = self.recipients
        return {
            "email": r.num_rows - r.column("email").null_count,
            "sms": r.num_rows - r.column("mobile").null_count,
            "letter": int(
                pc.sum(
                    pc.and_(
                        pc.is_valid(r.column("address")),
                        pc.and_(pc.is_null(r.column("email")), pc.is_null(r.column("mobile"))),
                    )
                ).as_py()
                or 0
            ),
        }

    def summary(self) -> dict[str, Any]:
        """Counts only (safe for the ledger and ``--json``)."""
        return {
            "rows": self.rows,
            "recipients": len(self),
            "unreachable": self.unreachable.num_rows,
            "reach": self.reach(),
            "addressable": {
                ch: self.recipients.num_rows - self.recipients.column(col).null_count
                for ch, col in (("email", "email"), ("sms", "mobile"), ("letter", "address"))
            },
            "tables": [c.to_json() for c in self.counts],
            "fingerprint": self.fingerprint,
            "reconciles": self.reconciles(),
            **(
                {"restriction": self.restriction.to_json(), "linked": self.linked}
                if self.restriction is not None
                else {}
            ),
        }


#: the roles a leaked column of a table that is no people table can name a person by
LINK_ROLES: dict[str, str] = {
    "cn_resident_id": "resident_id",
    "cn_mobile": "mobile",
    "email": "email",
}


@dataclass(frozen=True)
class Restriction:
    """The people a campaign is limited to (PIPL Art. 57: those whose information an
    incident concerns): everyone with a row in one of ``tables`` (people tables that
    leaked), and everyone whose resident ID, mobile or e-mail appears in one of the
    leaked ``columns`` ``(table, column, role)`` of tables that are no people tables.
    Contacts still come from every people table the campaign reads."""

    tables: tuple[str, ...] = ()
    columns: tuple[tuple[str, str, str], ...] = ()
    #: leaked tables that name nobody a notice can find (no people table, no identifier)
    unlinked: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Machine form (stored with the campaign)."""
        return {
            "tables": list(self.tables),
            "columns": [list(c) for c in self.columns],
            "unlinked": list(self.unlinked),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Restriction:
        """From :meth:`to_json`."""
        return cls(
            tuple(data.get("tables") or ()),
            tuple((str(t), str(c), str(r)) for t, c, r in data.get("columns") or ()),
            tuple(data.get("unlinked") or ()),
        )


def restriction_for(
    inventory: Inventory,
    people: Sequence[PeopleTable],
    leaked: Sequence[tuple[str, Sequence[str]]],
) -> Restriction:
    """The restriction to the people of ``leaked`` (``(table, personal-information
    columns)`` pairs): a leaked people table counts whole; in any other table its
    resident-ID, mobile and e-mail columns name the people (by value); a leaked table
    with neither is listed as ``unlinked`` (its people can only be told by announcement).
    BadInput when nothing leaked names anyone."""
    names = {p.table for p in people}
    tables: list[str] = []
    columns: list[tuple[str, str, str]] = []
    unlinked: list[str] = []
    for table, cols in leaked:
        if table in names:
            tables.append(table)
            continue
        found = [
            (table, c, LINK_ROLES[str(inventory.get((table, c), {}).get("primary"))])
            for c in cols
            if str(inventory.get((table, c), {}).get("primary")) in LINK_ROLES
        ]
        if found:
            columns += found
        else:
            unlinked.append(table)
    if not tables and not columns:
        raise BadInput.msg(
            "notices.restriction_empty", tables=", ".join(t for t, _ in leaked) or "-"
        )
    return Restriction(tuple(tables), tuple(columns), tuple(unlinked))


def _leaked_values(source: Source, table: str, column: str, role: str) -> pa.Array:
    """The distinct valid values of a leaked identifier column, normalised as the
    people tables' values are (so that they compare equal)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts: list[pa.Array] = []
    for batch in source.batches(table, [column]):
        cleaned, _ = _clean_column(batch.column(column), role)
        parts.append(pc.unique(cleaned.drop_null()))
    if not parts:
        return pa.array([], pa.string())
    return pc.unique(pa.concat_arrays([p.cast(pa.string()) for p in parts]))


def _restrict(
    source: Source, rows: pa.Table, restriction: Restriction
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """The rows of the people ``restriction`` names (all their rows, wherever they are,
    so that their contacts are found), and the linking statistics per leaked column."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    named = pa.array(restriction.tables, pa.string())
    hit = np.asarray(pc.fill_null(pc.is_in(rows.column("table"), value_set=named), False))
    linked: list[dict[str, Any]] = []
    for table, column, role in restriction.columns:
        values = _leaked_values(source, table, column, role)
        mine = rows.column(role).combine_chunks()
        hit |= np.asarray(pc.fill_null(pc.is_in(mine, value_set=values), False))
        matched = int(pc.sum(pc.is_in(values, value_set=mine.drop_null())).as_py() or 0)
        linked.append(
            {
                "table": table,
                "column": column,
                "role": role,
                "values": len(values),
                "matched": matched,
            }
        )
    recipient = rows.column("recipient").combine_chunks()
    who = pc.unique(recipient.filter(pa.array(hit)).drop_null())
    keep = np.asarray(pc.fill_null(pc.is_in(recipient, value_set=who), False))
    keep |= hit & np.asarray(pc.is_null(recipient))
    return rows.filter(pa.array(keep)), linked


def _valid(mask: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    return pa.array(np.asarray(mask, dtype=np.bool_))


def _clean_column(arr: pa.Array, role: str) -> tuple[pa.Array, pa.Array]:
    """(normalised value or null when not valid, was-present-but-invalid flag)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from handover.detect.normalize import as_strings, placeholder_mask, to_compact, to_text
    from handover.detect.recognizers import for_type

    text = to_text(as_strings(arr))
    absent = placeholder_mask(text)
    present = ~absent
    if role == "address" or role == "name":
        ok = present & np.asarray(
            pc.fill_null(
                pc.greater_equal(pc.utf8_length(text), 2 if role == "name" else MIN_ADDRESS), False
            )
        )
        value = text
    else:
        value = to_compact(text) if role in ("resident_id", "mobile") else pc.utf8_lower(text)
        ok = np.zeros(len(arr), dtype=np.bool_)
        idx = np.flatnonzero(present)
        if len(idx):
            sub = value.take(pa.array(idx))
            hit = np.zeros(len(idx), dtype=np.bool_)
            for rec in for_type(ROLES[role][0]):
                hit |= rec.match(sub)
            if role == "resident_id":
                # Other identity documents (passports, permits) in the same column still tell
                # persons apart: a letters-and-digits number of 6 to 20 characters.
                other = pc.fill_null(pc.match_substring_regex(sub, r"^[A-Z0-9]{6,20}$"), False)
                hit |= np.asarray(other)
            ok[idx] = hit
    cleaned = pc.if_else(_valid(ok), value, pa.scalar(None, pa.string()))
    return cleaned, _valid(present & ~ok)


#: an unreachable row of a table without a primary key is named ``#n``, its row number
ROW_NUMBER = "#"


def _row_keys(batch: pa.RecordBatch, key: tuple[str, ...], start: int) -> pa.Array:
    """Per row the parts of its key (a list: each part masked by its own column's type
    when the row turns out unreachable); ``#n``, the row's number in the table as read
    (1-based, the batch beginning after row ``start``), when the table has no key."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from handover.detect.normalize import as_strings

    n = batch.num_rows
    if key:
        parts = [pc.fill_null(as_strings(batch.column(k)), "") for k in key]
    else:
        numbers = pa.array(np.arange(start + 1, start + n + 1, dtype=np.int64)).cast(pa.string())
        parts = [pc.binary_join_element_wise(ROW_NUMBER, numbers, "")]
    width = len(parts)
    values = parts[0] if width == 1 else pa.concat_arrays(parts)
    if width > 1:  # row after row: part 1, part 2, … of each row
        at = (np.arange(n)[:, None] + np.arange(width)[None, :] * n).reshape(-1)
        values = values.take(pa.array(at))
    offsets = pa.array(np.arange(0, n * width + 1, width, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, values)


#: the columns :func:`_read` gives per row of a people table
_ROW_COLUMNS = ("row_key", "name", "resident_id", "mobile", "email", "address", "bad", "key")


def _read(
    source: Source, people: Sequence[PeopleTable], batch_size: int = READ_BATCH
) -> Iterator[tuple[int, pa.Table]]:
    """Per batch of each people table (by its index in ``people``; a table without rows
    gives one empty batch), its rows normalised: row_key, name, resident_id, mobile,
    email, address (null when absent or invalid), ``bad`` (some contact present but
    invalid) and ``key``: the row's own person key before linking (``R:`` resident ID,
    else ``M:`` mobile, else ``E:`` e-mail, else ``A:`` name and address; null when
    none)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, p in enumerate(people):
        empty = True
        read = 0
        for batch in source.batches(p.table, p.columns(), batch_size):
            empty = False
            cols: dict[str, pa.Array] = {"row_key": _row_keys(batch, p.key, read)}
            read += batch.num_rows
            bad = pa.array(np.zeros(batch.num_rows, dtype=np.bool_))
            for role in ("name", "resident_id", "mobile", "email", "address"):
                column = getattr(p, role)
                if column is None:
                    cols[role] = pa.nulls(batch.num_rows, pa.string())
                    continue
                cols[role], invalid = _clean_column(batch.column(column), role)
                if role != "name":
                    bad = pc.or_(bad, invalid)
            cols["bad"] = bad
            cols["key"] = pc.coalesce(
                pc.binary_join_element_wise("R", cols["resident_id"], ":"),
                pc.binary_join_element_wise("M", cols["mobile"], ":"),
                pc.binary_join_element_wise("E", cols["email"], ":"),
                pc.binary_join_element_wise("A", cols["name"], cols["address"], ":"),
            )
            yield i, pa.table(cols)
        if empty:
            types = {"row_key": pa.list_(pa.string()), "bad": pa.bool_()}
            schema = pa.schema([(n, types.get(n, pa.string())) for n in _ROW_COLUMNS])
            yield i, schema.empty_table()


def _link(keys: pa.Array, by: pa.Array, has_rid: Any) -> pa.Array:
    """Replace ``keys`` of rows without a resident ID (``has_rid`` false) by the smallest
    resident-ID key of the rows with the same ``by`` value (mobile or e-mail), when there
    is one. A row with a resident ID has its resident-ID key as its key; only the values
    of ``by`` that rows without one carry are looked up."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    valid = np.asarray(pc.is_valid(by))
    want = valid & ~has_rid
    if not want.any():
        return keys
    pos = np.flatnonzero(want)
    asked = by.take(pa.array(pos))
    holders = np.flatnonzero(valid & has_rid)
    if not len(holders):
        return keys
    hold_by = by.take(pa.array(holders))
    mine = np.asarray(pc.fill_null(pc.is_in(hold_by, value_set=pc.unique(asked)), False))
    if not mine.any():
        return keys
    sel = pa.array(holders[mine])
    t = pa.table({"by": hold_by.filter(pa.array(mine)), "rid": keys.take(sel)})
    first = t.group_by("by", use_threads=False).aggregate([("rid", "min")])
    at = pc.index_in(asked, value_set=first.column("by").combine_chunks())
    linked = pc.take(first.column("rid_min").combine_chunks(), at)
    found = np.asarray(pc.is_valid(linked))
    if not found.any():
        return keys
    mask = np.zeros(len(keys), dtype=np.bool_)
    mask[pos[found]] = True
    return pc.replace_with_mask(keys, pa.array(mask), linked.filter(pa.array(found)))


def _codes(recipient: pa.Array) -> tuple[Any, pa.Array]:
    """Per row the index of its recipient token among the distinct tokens (-1 when the
    row has none), and the distinct tokens."""
    import numpy as np
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(recipient)
    codes = np.asarray(pc.fill_null(enc.indices, -1)).astype(np.int64)
    return codes, enc.dictionary


def _firsts(codes: Any, groups: int, column: pa.Array) -> pa.Array:
    """Per group the first non-null value of ``column`` in row order (null when the group
    has none): Arrow's ``first`` aggregate, computed on row positions."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = np.flatnonzero((codes >= 0) & np.asarray(pc.is_valid(column)))
    found, first = np.unique(codes[rows], return_index=True)
    pos = np.full(groups, -1, dtype=np.int64)
    pos[found] = rows[first]
    return column.take(pa.array(pos, mask=pos < 0))


def _tables_of(codes: Any, groups: int, tab: Any, names: Sequence[str]) -> pa.Array:
    """Per group the ``;``-joined names of the tables its rows come from, in ``names``
    order (the order rows are read in: Arrow's ``distinct`` aggregate joined): each
    group's set of tables as bits, each distinct set joined once."""
    import numpy as np
    import pyarrow as pa

    keyed = codes >= 0
    bits = np.zeros((groups, len(names) // 63 + 1), dtype=np.int64)
    for i in range(len(names)):
        seen = np.zeros(groups, dtype=np.bool_)
        seen[codes[keyed & (tab == i)]] = True
        bits[seen, i // 63] |= 1 << (i % 63)
    kinds, which = np.unique(bits, axis=0, return_inverse=True)
    joined = [
        ";".join(n for i, n in enumerate(names) if int(k[i // 63]) >> (i % 63) & 1) for k in kinds
    ]
    return pa.array(joined, pa.string()).take(pa.array(which.reshape(-1).astype(np.int64)))


class _BatchTokens:
    """The tokens of each read batch's distinct keys, started as the batch is read (in the
    tokens' worker process when the tokenizer has one); what finished is collected as
    reading goes on, so that only the keys and their tokens are held."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.keys: list[pa.Array] = []
        self.tokens: list[pa.Array] = []
        self.pending: list[Later] = []

    def add(self, keys: pa.Array) -> None:
        self.keys.append(keys)
        self.pending.append(tokens_later(self.tokenizer, keys, distinct=True))
        while len(self.pending) > 2:  # the worker is two batches behind at most
            self.tokens.append(self.pending.pop(0)())

    def of(self, keys: pa.Array) -> pa.Array:
        """The tokens of the distinct ``keys`` (every key linking leaves is some row's own
        key, so among those read); a key none of the batches held is tokenised now."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        self.tokens += [later() for later in self.pending]
        self.pending = []
        none = pa.array([], pa.string())
        at = pc.index_in(keys, value_set=pa.concat_arrays([none, *self.keys]))
        tokens = pa.concat_arrays([none, *self.tokens]).take(at)
        missing = np.flatnonzero(~np.asarray(pc.is_valid(at)))
        if len(missing):
            more = tokens_later(self.tokenizer, keys.take(pa.array(missing)))()
            mask = np.zeros(len(keys), dtype=np.bool_)
            mask[missing] = True
            tokens = pc.replace_with_mask(tokens, pa.array(mask), more)
        return tokens


def derive_audience(
    source: Source,
    people: Sequence[PeopleTable],
    tokenizer: Tokenizer,
    restriction: Restriction | None = None,
    *,
    batch_size: int = READ_BATCH,
) -> Audience:
    """Read the people tables of ``source`` and build the audience (see the module text).

    ``tokenizer`` maps a string array to keyed tokens (HMAC under the transfer's
    tokenize key); only tokens, never clear values, leave as identifiers. With
    ``restriction`` only the people it names are kept (every row of theirs, so the
    counts per table still reconcile: rows = reached + unreachable).

    The rows are read ``batch_size`` at a time and normalised batch by batch; what is
    kept of all of them is a few Arrow columns (never a Python object per row), and
    people are grouped on row positions (NumPy), not by hashing their tokens again.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from handover.taxonomy import mask_value

    names = [p.table for p in people]
    counts = [TableCount(t) for t in names]
    kept = [c for c in _ROW_COLUMNS if c != "resident_id" or restriction is not None]
    parts: dict[str, list[pa.Array]] = {c: [] for c in kept}
    rid_parts: list[Any] = []
    tab_parts: list[Any] = []
    # each batch's keys are tokenised while the next batches are read (in the tokens'
    # worker process when ``tokenizer`` has one): every key linking leaves is a row's own
    computed = _BatchTokens(tokenizer)
    for i, t in _read(source, people, batch_size):
        counts[i].rows += t.num_rows
        computed.add(pc.unique(t.column("key").combine_chunks()).drop_null())
        for c in kept:
            parts[c].append(t.column(c).combine_chunks())
        rid_parts.append(np.asarray(pc.is_valid(t.column("resident_id"))))
        tab_parts.append(np.full(t.num_rows, i, dtype=np.int16))
    col = {c: pa.concat_arrays(parts.pop(c)) for c in kept}
    has_rid = np.concatenate(rid_parts) if rid_parts else np.zeros(0, dtype=np.bool_)
    tab = np.concatenate(tab_parts) if tab_parts else np.zeros(0, dtype=np.int16)
    del rid_parts, tab_parts
    key = _link(col.pop("key"), col["mobile"], has_rid)
    key = _link(key, col["email"], has_rid)
    del has_rid
    # rows grouped by their key's token (one recipient per person)
    keyed = np.flatnonzero(np.asarray(pc.is_valid(key)))
    codes = np.full(len(tab), -1, dtype=np.int64)
    recipient = pa.array([], pa.string())
    if len(keyed):
        by_key = pc.dictionary_encode(key.take(pa.array(keyed)))
        tokens = computed.of(by_key.dictionary)
        by_token = pc.dictionary_encode(tokens)
        at = np.asarray(by_key.indices)
        codes[keyed] = np.asarray(by_token.indices).astype(np.int64)[at]
        recipient = by_token.dictionary
        del by_key, tokens, by_token, at
    del key, keyed, computed
    linked: list[dict[str, Any]] = []
    if restriction is not None:
        rows = pa.table(
            {
                **col,
                "tab": pa.array(tab),
                "table": pa.array(names, pa.string()).take(pa.array(tab)),
                "recipient": recipient.take(pa.array(codes, mask=codes < 0)),
            }
        )
        rows, linked = _restrict(source, rows, restriction)
        col = {c: rows.column(c).combine_chunks() for c in kept if c != "key"}
        tab = np.asarray(rows.column("tab").combine_chunks())
        codes, recipient = _codes(rows.column("recipient").combine_chunks())
        del rows
        for i, count in enumerate(counts):
            count.rows = int((tab == i).sum())
    groups = len(recipient)
    first = {c: _firsts(codes, groups, col[c]) for c in ("name", "mobile", "email", "address")}
    # A person is reached when some row of theirs gives an address to send to (a postal
    # address needs a name to be written on the letter).
    address = pc.if_else(pc.is_valid(first["name"]), first["address"], pa.scalar(None, pa.string()))
    reachable = np.asarray(
        pc.fill_null(
            pc.or_(
                pc.or_(pc.is_valid(first["mobile"]), pc.is_valid(first["email"])),
                pc.is_valid(address),
            ),
            False,
        )
    )
    recipients = pa.table(
        {
            "recipient": recipient,
            "name": first["name"],
            "mobile": first["mobile"],
            "email": first["email"],
            "address": address,
            "rows": pa.array(np.bincount(codes[codes >= 0], minlength=groups).astype(np.int64)),
            "tables": _tables_of(codes, groups, tab, names),
        }
    ).filter(pa.array(reachable))
    del first, address
    reached = np.zeros(len(codes), dtype=np.bool_)
    mine = codes >= 0
    reached[mine] = reachable[codes[mine]]
    lost_at = pa.array(np.flatnonzero(~reached))
    lost_tab = tab[~reached]
    for i, count in enumerate(counts):
        count.unreachable = int((lost_tab == i).sum())
        count.reached = count.rows - count.unreachable
    recipients = recipients.take(pc.sort_indices(recipients, [("recipient", "ascending")]))
    reason = pc.if_else(col["bad"].take(lost_at), "invalid_contact", "no_contact")
    lost_names = col["name"].take(lost_at).to_pylist()
    row_keys = col["row_key"].take(lost_at).to_pylist()
    del col
    # Each part of the key is shown masked by its own column's type (a name as a name, a
    # mobile as a mobile); a part of a column with no personal information stays as is.
    key_types = [p.key_types() for p in people]
    masked = [
        "|".join(
            mask_value(kind, part) if kind is not None and part else part
            for kind, part in zip(key_types[i], parts, strict=True)
        )
        if key_types[i]
        else "|".join(parts)
        for i, parts in zip(lost_tab.tolist(), row_keys, strict=True)
    ]
    tables_lost = [names[i] for i in lost_tab.tolist()]
    unreachable = pa.table(
        {
            "table": pa.array(tables_lost, pa.string()),
            "row_key": pa.array(masked, pa.string()),
            "name_masked": pa.array(
                [mask_value("person_name", v) if v else "" for v in lost_names], pa.string()
            ),
            "reason": reason,
        }
    )
    return Audience(
        recipients, unreachable, counts, fingerprint_of(recipients), restriction, linked
    )


def fingerprint_of(recipients: pa.Table) -> str:
    """SHA-256 over the recipients and their addresses in key order: a resumed campaign
    compares it to tell whether the source changed (the digest reveals nothing)."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    cols = recipients.select(["recipient", "name", "mobile", "email", "address"])
    with pa.ipc.new_stream(sink, cols.schema) as w:
        w.write_table(cols.combine_chunks())
    return sha256_hex(memoryview(sink.getvalue()))
