"""A campaign as stored, and how one notice of it is composed for one person."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.errors import BadInput
from handover.i18n import t
from handover.notices.channels import Message, Result
from handover.notices.models import NoticeCampaignRow
from handover.notices.outbox import Claimed, reference_of
from handover.notices.templates import CONTENT_VARS, SMS_MAX_CHARS, Renderer, content_hash

if TYPE_CHECKING:
    from handover.notices.audience import Audience
    from handover.workspace import Workspace

CHANNELS: tuple[str, ...] = ("email", "sms", "letter")
#: what a campaign asks: ``notice`` (PIPL Art. 22), ``consent`` to a new purpose (Art. 14,
#: 22), or ``breach``: tells the people whose information an incident concerns (Art. 57)
CAMPAIGN_KINDS: tuple[str, ...] = ("notice", "consent", "breach")
#: which templates (kind, format) each channel renders, per campaign kind
TEMPLATES_OF: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "notice": {
        "email": (("notice", "txt"), ("notice", "html")),
        "sms": (("sms", "txt"),),
        "letter": (("notice", "txt"),),
    },
    "consent": {
        "email": (("consent", "txt"), ("consent", "html")),
        "sms": (("consent_sms", "txt"),),
        "letter": (("consent", "txt"),),
    },
    "breach": {
        "email": (("breach", "txt"), ("breach", "html")),
        "sms": (("breach_sms", "txt"),),
        "letter": (("breach", "txt"),),
    },
}
#: the public announcement's template kind, per campaign kind
ANNOUNCEMENT_OF: dict[str, str] = {
    "notice": "announcement",
    "consent": "announcement",
    "breach": "breach_announcement",
}
TEMPLATE_OF = TEMPLATES_OF["notice"]


@dataclass(frozen=True)
class Campaign:
    """A stored campaign (no personal data in it)."""

    id: int
    name: str
    source: str
    lang: str
    channels: tuple[str, ...]
    people: tuple[dict[str, Any], ...]
    content: dict[str, str]
    templates: dict[str, dict[str, str]]
    maker: str
    grant_id: int | None
    status: str
    created_at: dt.datetime
    fingerprint: str | None
    summary: dict[str, Any]
    kind: str = "notice"
    incident_id: int | None = None
    restriction: dict[str, Any] | None = None
    drill: bool = False
    #: how the source's files are read (``FileReading.to_options``; empty: the plain way)
    reading: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, row: NoticeCampaignRow) -> Campaign:
        """From its store row."""
        return cls(
            id=row.id,
            name=row.name,
            source=row.source,
            lang=row.lang,
            channels=tuple(row.channels),
            people=tuple(row.people),
            content=dict(row.content),
            templates=dict(row.templates),
            maker=row.maker,
            grant_id=row.grant_id,
            status=row.status,
            created_at=row.created_at,
            fingerprint=row.fingerprint,
            summary=dict(row.summary or {}),
            kind=row.kind or "notice",
            incident_id=row.incident_id,
            restriction=dict(row.restriction) if row.restriction else None,
            drill=bool(row.drill),
            reading=dict(row.reading or {}),
        )

    def templates_of(self, channel: str) -> tuple[tuple[str, str], ...]:
        """The (template kind, format) pairs ``channel`` renders in this campaign."""
        return TEMPLATES_OF[self.kind][channel]

    def renderer(self, kind: str, fmt: str) -> Renderer:
        """The campaign's checked template of ``kind``/``fmt`` with its content."""
        tpl = self.templates[f"{kind}.{fmt}"]
        return Renderer.build(
            kind,
            self.content,
            source=tpl["source"],
            name=tpl["name"],
            fmt=fmt,
            max_chars=int(tpl.get("max_chars") or SMS_MAX_CHARS),
        )

    def to_json(self) -> dict[str, Any]:
        """Machine form (template texts left out; their hashes kept)."""
        return {
            "id": self.id,
            "name": self.name,
            "source": self.source,
            "lang": self.lang,
            "channels": list(self.channels),
            "tables": [p["table"] for p in self.people],
            "maker": self.maker,
            "grant_id": self.grant_id,
            "status": self.status,
            "kind": self.kind,
            "incident": self.incident_id,
            "restriction": self.restriction,
            "drill": self.drill,
            "reading": self.reading,
            "created_at": self.created_at.isoformat(),
            "templates": {k: v["sha256"] for k, v in self.templates.items()},
            "summary": self.summary,
        }


def list_campaigns(ws: Workspace, *, newest_first: bool = True) -> list[Campaign]:
    """Every campaign, newest first (oldest first with ``newest_first=False``); no
    personal data in any."""
    from sqlalchemy import select

    order = NoticeCampaignRow.id.desc() if newest_first else NoticeCampaignRow.id
    with ws.store.session() as s:
        return [Campaign.of(r) for r in s.scalars(select(NoticeCampaignRow).order_by(order))]


def load_campaign(ws: Workspace, campaign_id: int) -> Campaign:
    """The campaign ``campaign_id``; BadInput naming it when there is none."""
    with ws.store.session() as s:
        row = s.get(NoticeCampaignRow, campaign_id)
        if row is None:
            raise BadInput.msg("notices.no_campaign", id=campaign_id)
        return Campaign.of(row)


def campaigns_of_incident(ws: Workspace, incident_id: int) -> list[Campaign]:
    """The breach campaigns (PIPL Art. 57) created for incident ``incident_id``."""
    from sqlalchemy import select

    with ws.store.session() as s:
        rows = s.scalars(
            select(NoticeCampaignRow)
            .where(NoticeCampaignRow.incident_id == incident_id)
            .order_by(NoticeCampaignRow.id)
        )
        return [Campaign.of(r) for r in rows]


def template_entry(kind: str, fmt: str, source: str, name: str, max_chars: int) -> dict[str, str]:
    """How a checked template is kept with its campaign (text and hash; a resumed
    campaign renders exactly what was approved)."""
    return {
        "kind": kind,
        "fmt": fmt,
        "name": name,
        "source": source,
        "sha256": content_hash(source),
        "max_chars": str(max_chars),
    }


def read_content(path: Path) -> dict[str, str]:
    """Element texts from a TOML file (``purposes = "..."``); an unknown key is refused
    with its name so a typo never leaves an element silently at its default, and so is a
    value that is no text (a list, number, table; a TOML date is taken as its text)."""
    import re

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput.msg(
            "notices.content_unreadable", path=path, reason=type(exc).__name__
        ) from None
    try:
        # utf-8-sig: Notepad saves UTF-8 with a BOM, which TOML itself does not allow
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BadInput.msg("notices.content_not_utf8", path=path, line=line) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # element texts are no personal data: TOML's own words and line can be shown
        said = str(exc)
        at = re.search(r"\s*\(at line (\d+), column \d+\)$", said)
        end = re.search(r"\s*\(at end of document\)$", said)
        line = int(at.group(1)) if at else text.count("\n") + 1
        cut = at or end
        error = said[: cut.start()] if cut else said
        raise BadInput.msg("notices.content_toml", path=path, line=line, error=error) from None
    out: dict[str, str] = {}
    for k, v in data.items():
        if k not in CONTENT_VARS:
            raise BadInput.msg(
                "notices.content_unknown", path=path, key=k, known=", ".join(CONTENT_VARS)
            )
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            v = v.isoformat()  # transfer_date = 2027-01-15, TOML's own date: its text
        if not isinstance(v, str):
            # str() would print a list, number or table as Python writes it into every
            # notice (['姓名', …]); which separator a list takes is the writer's to say
            raise BadInput.msg("notices.content_not_text", path=path, key=k, law=_law(k))
        out[k] = v
    return out


def _law(var: str) -> str:
    """The law an element serves (the first list naming it), for a refusal naming it."""
    from handover.notices.templates import (
        BREACH_ELEMENTS,
        BREACH_SMS_ELEMENTS,
        CONSENT_ELEMENTS,
        ELEMENTS,
        SMS_ELEMENTS,
    )

    lists = (ELEMENTS, SMS_ELEMENTS, CONSENT_ELEMENTS, BREACH_ELEMENTS, BREACH_SMS_ELEMENTS)
    return next((e.law for es in lists for e in es if e.var == var), "PIPL Art. 17")


class Composer:
    """Composes one person's notice on one channel from the audience held in memory."""

    def __init__(self, campaign: Campaign, audience: Audience) -> None:
        self.campaign = campaign
        r = audience.recipients
        # values are read from the Arrow columns per notice (no Python object per person)
        self._cols = {
            c: r.column(c).combine_chunks() for c in ("name", "mobile", "email", "address")
        }
        self._recipients = r.column("recipient").combine_chunks()
        self._keys: Any = None
        self._subject = t(
            f"notices.subject.{campaign.kind}",
            campaign.lang,
            seller=campaign.content.get("seller_name", ""),
            buyer=campaign.content.get("buyer_name", ""),
        )
        self._renderers: dict[str, Renderer] = {}
        for ch in campaign.channels:
            for kind, fmt in campaign.templates_of(ch):
                self._renderers[f"{ch}.{fmt}"] = campaign.renderer(kind, fmt)

    def _sorted_keys(self) -> Any:
        """The recipients' tokens (sorted, as the audience keeps them) as a NumPy array of
        fixed-width bytes, built on first use: a view of the Arrow buffer when every token
        has the same length (they do: keyed tokens of one width), copied otherwise."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        if self._keys is not None:
            return self._keys
        tokens = self._recipients
        width = pc.min_max(pc.binary_length(tokens)).as_py() if len(tokens) else {}
        if (
            pa.types.is_string(tokens.type)
            and tokens.null_count == 0
            and width.get("min") == width.get("max")
            and width.get("min")
        ):
            offsets = np.frombuffer(tokens.buffers()[1], dtype=np.int32)
            start = int(offsets[tokens.offset])
            self._keys = np.frombuffer(
                tokens.buffers()[2], dtype=f"S{width['min']}", count=len(tokens), offset=start
            )
        else:
            self._keys = np.asarray(tokens.to_pylist(), dtype="S64")
        return self._keys

    def _index(self, recipient: str) -> int | None:
        import numpy as np

        keys = self._sorted_keys()
        key = recipient.encode()
        i = int(np.searchsorted(keys, key))
        return i if i < len(keys) and keys[i] == key else None

    def _value(self, column: str, i: int | None) -> Any:
        return None if i is None else self._cols[column][i].as_py()

    def has_address(self, recipients: list[str]) -> list[str]:
        """Those of ``recipients`` a letter can reach (the fallback of a failed channel)."""
        return [r for r in recipients if self._value("address", self._index(r))]

    def compose(self, channel: str, c: Claimed) -> Message | Result:
        """The message of claimed row ``c``, or a failure when it cannot be made."""
        i = self._index(c.recipient)
        column = {"email": "email", "sms": "mobile", "letter": "address"}[channel]
        address = self._value(column, i)
        if not address:
            return Result("failed", error="no address in source")
        name = self._value("name", i) or ""
        ref = reference_of(self.campaign.id, c.recipient)
        try:
            if channel == "sms":
                from handover.notices.sms import template_params

                text = self._renderers["sms.txt"].render(name, ref)
                params = template_params(self.campaign.content, ref, self.campaign.kind)
                return Message(c.key, address, "", text, params=params)
            text = self._renderers[f"{channel}.txt"].render(name, ref)
            html = self._renderers["email.html"].render(name, ref) if channel == "email" else None
        except BadInput as exc:
            return Result("failed", error=(exc.message.key if exc.message else "render")[:200])
        return Message(c.key, address, self._subject, text, html, name=name)
