"""Notice templates: every element the law asks a transfer notice to carry, checked before
anything is sent; Jinja2 (sandboxed; HTML autoescaped); SMS within the provider's limit.

A *full* notice (e-mail, letter, announcement) must use every element of
:data:`ELEMENTS`; an SMS must name the recipient and its contact and point to the full
text (``link`` and the person's ``reference``), PIPL Art. 22 being the part a short
message can carry. A template that misses an element, or uses a variable not listed
here, is refused with the element or variable named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from handover.crypto.digest import sha256_hex
from handover.errors import BadInput

if TYPE_CHECKING:
    from jinja2 import Template

Kind = Literal[
    "notice",
    "sms",
    "announcement",
    "consent",
    "consent_sms",
    "breach",
    "breach_sms",
    "breach_announcement",
]
KINDS: tuple[str, ...] = get_args(Kind)
FORMATS = ("txt", "html")
TEMPLATES = Path(__file__).parent / "templates"
#: Aliyun SMS: one message is 70 characters, a long message at most 500 (signature included)
SMS_MAX_CHARS = 500


@dataclass(frozen=True)
class Element:
    """One element a notice must carry: its template variable and where the law asks for it."""

    var: str
    law: str


#: The elements of a transfer notice (docs/notices.md has the table with the law's text).
ELEMENTS: tuple[Element, ...] = (
    Element("seller_name", "PIPL Art. 17 ¶1(1)"),
    Element("seller_contact", "PIPL Art. 17 ¶1(1)"),
    Element("buyer_name", "PIPL Art. 22"),
    Element("buyer_contact", "PIPL Art. 22"),
    Element("legal_basis", "PIPL Art. 22; GB/T 35273-2020 §9.3 a)"),
    Element("transfer_date", "PIPL Art. 22; GB/T 35273-2020 §9.3 a)"),
    Element("purposes", "PIPL Art. 17 ¶1(2)"),
    Element("methods", "PIPL Art. 17 ¶1(2)"),
    Element("categories", "PIPL Art. 17 ¶1(2)"),
    Element("retention", "PIPL Art. 17 ¶1(2)"),
    Element("rights", "PIPL Art. 17 ¶1(3); Art. 15, 44-47"),
    Element("rights_where", "PIPL Art. 17 ¶1(3); Art. 50"),
    Element("pio_contact", "PIPL Art. 52"),
    Element("changes", "PIPL Art. 17 ¶2; Art. 22; GB/T 35273-2020 §9.3 b)"),
    Element("obligations", "PIPL Art. 22; GB/T 35273-2020 §9.3 b)"),
)
SMS_ELEMENTS: tuple[Element, ...] = (
    Element("seller_name", "PIPL Art. 17 ¶1(1)"),
    Element("buyer_name", "PIPL Art. 22"),
    Element("buyer_phone", "PIPL Art. 22"),
    Element("link", "PIPL Art. 17 ¶1 (the full notice)"),
    Element("reference", "PIPL Art. 17 ¶1 (the full notice)"),
)
#: A consent request for a new purpose: the recipient asks anew (PIPL Art. 22, last
#: sentence), telling what changes (Art. 14 ¶2, Art. 17 ¶2) and that consent can be
#: refused or withdrawn (Art. 15, 16).
CONSENT_ELEMENTS: tuple[Element, ...] = (
    Element("buyer_name", "PIPL Art. 17 ¶1(1); Art. 22"),
    Element("buyer_contact", "PIPL Art. 17 ¶1(1); Art. 22"),
    Element("new_purpose", "PIPL Art. 14 ¶2; Art. 22"),
    Element("categories", "PIPL Art. 17 ¶1(2)"),
    Element("rights", "PIPL Art. 15; Art. 17 ¶1(3)"),
    Element("pio_contact", "PIPL Art. 52"),
    Element("reference", "PIPL Art. 14 (the answer names the person)"),
)
CONSENT_SMS_ELEMENTS: tuple[Element, ...] = (
    Element("buyer_name", "PIPL Art. 22"),
    Element("buyer_phone", "PIPL Art. 22"),
    Element("link", "PIPL Art. 14 ¶1 (the full request)"),
    Element("reference", "PIPL Art. 14 (the answer names the person)"),
)
#: A notice to the individuals whose personal information leaked, was tampered with or
#: lost (PIPL Art. 57 ¶1): the categories, the cause and the possible harm (1), the
#: remedial measures and what the person can do (2), the handler's contact (3).
BREACH_ELEMENTS: tuple[Element, ...] = (
    Element("seller_name", "PIPL Art. 57 ¶1(3)"),
    Element("categories", "PIPL Art. 57 ¶1(1)"),
    Element("cause", "PIPL Art. 57 ¶1(1)"),
    Element("harm", "PIPL Art. 57 ¶1(1)"),
    Element("remedies", "PIPL Art. 57 ¶1(2)"),
    Element("advice", "PIPL Art. 57 ¶1(2)"),
    Element("contact", "PIPL Art. 57 ¶1(3)"),
    Element("reference", "PIPL Art. 57 ¶1 (the notice names the person's record)"),
)
#: what a short message can carry of it: who, a number to call, and the full notice
BREACH_SMS_ELEMENTS: tuple[Element, ...] = (
    Element("seller_name", "PIPL Art. 57 ¶1(3)"),
    Element("seller_phone", "PIPL Art. 57 ¶1(3)"),
    Element("link", "PIPL Art. 57 ¶1 (the full notice)"),
    Element("reference", "PIPL Art. 57 ¶1 (the full notice)"),
)
#: per-recipient variables, filled when a notice is rendered for one person
PERSONAL = ("recipient_name", "reference")
#: variables of the public announcement (no person in it)
ANNOUNCEMENT = ("unreachable", "published")
#: content values a campaign may give besides the elements
EXTRA = (
    "buyer_phone",
    "link",
    "new_purpose",
    "seller_phone",
    "cause",
    "harm",
    "remedies",
    "advice",
    "contact",
)
CONTENT_VARS: tuple[str, ...] = tuple(dict.fromkeys([e.var for e in ELEMENTS] + list(EXTRA)))
ALLOWED = frozenset((*CONTENT_VARS, *PERSONAL, *ANNOUNCEMENT))


def required(kind: str) -> tuple[Element, ...]:
    """The elements a template of ``kind`` must use."""
    return {
        "sms": SMS_ELEMENTS,
        "consent": CONSENT_ELEMENTS,
        "consent_sms": CONSENT_SMS_ELEMENTS,
        "breach": BREACH_ELEMENTS,
        "breach_sms": BREACH_SMS_ELEMENTS,
        "breach_announcement": tuple(e for e in BREACH_ELEMENTS if e.var != "reference"),
    }.get(kind, ELEMENTS)


def _env(html: bool) -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    # Sandboxed: a template file may come from the user; autoescaped when it is HTML.
    return SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=html, keep_trailing_newline=False
    )


def builtin_path(kind: str, lang: str, fmt: str = "txt") -> Path:
    """The built-in template of ``kind`` in ``lang`` (``txt`` or ``html``)."""
    from handover.i18n import normalize_lang

    return TEMPLATES / f"{kind}.{normalize_lang(lang)}.{fmt}"


def check_template(kind: str, source: str, name: str) -> None:
    """Refuse (BadInput naming ``name``) a template that does not parse, uses a variable
    no campaign provides, or misses a required element of ``kind``."""
    from jinja2 import TemplateSyntaxError, meta

    if kind not in KINDS:
        raise BadInput.msg("notices.bad_kind", kind=kind, kinds=", ".join(KINDS))
    try:
        used = meta.find_undeclared_variables(_env(False).parse(source))
    except TemplateSyntaxError as exc:
        raise BadInput.msg("notices.template_syntax", name=name, line=exc.lineno or 0) from None
    unknown = sorted(used - ALLOWED)
    if unknown:
        raise BadInput.msg(
            "notices.template_unknown",
            name=name,
            var=unknown[0],
            allowed=", ".join(sorted(ALLOWED)),
        )
    for e in required(kind):
        if e.var not in used:
            raise BadInput.msg("notices.template_missing", name=name, var=e.var, law=e.law)


def check_content(kind: str, content: dict[str, str]) -> None:
    """Refuse content that leaves a required element of ``kind`` empty (PERSONAL excepted)."""
    for e in required(kind):
        if e.var in PERSONAL:
            continue
        if not str(content.get(e.var) or "").strip():
            raise BadInput.msg("notices.content_missing", var=e.var, law=e.law)


def content_hash(text: str) -> str:
    """SHA-256 of a rendered notice: what the ledger keeps instead of the text."""
    return sha256_hex(text.encode("utf-8"))


@dataclass
class Renderer:
    """A checked template with the campaign's content, rendering one person's notice."""

    kind: str
    fmt: str
    template: Template
    content: dict[str, str]
    max_chars: int = SMS_MAX_CHARS

    @classmethod
    def build(
        cls,
        kind: str,
        content: dict[str, str],
        *,
        source: str,
        name: str,
        fmt: str = "txt",
        max_chars: int = SMS_MAX_CHARS,
    ) -> Renderer:
        """Check ``source`` and ``content`` for ``kind`` and compile the template."""
        check_template(kind, source, name)
        check_content(kind, content)
        template = _env(fmt == "html").from_string(source)
        return cls(kind, fmt, template, dict(content), max_chars)

    def render(self, recipient_name: str, reference: str, **extra: Any) -> str:
        """The notice of one person; an SMS longer than the provider's limit is refused
        (BadInput naming the limit; the caller records it as that person's failure)."""
        text: str = self.template.render(
            **self.content, recipient_name=recipient_name, reference=reference, **extra
        ).strip()
        if self.kind.endswith("sms") and len(text) > self.max_chars:
            raise BadInput.msg("notices.sms_too_long", chars=len(text), limit=self.max_chars)
        return text


def load_renderer(
    kind: str,
    lang: str,
    content: dict[str, str],
    *,
    path: Path | None = None,
    fmt: str = "txt",
    max_chars: int = SMS_MAX_CHARS,
) -> Renderer:
    """The renderer of the template at ``path`` (default: the built-in one of ``kind``,
    ``lang``, ``fmt``); an unreadable file is refused with its path."""
    file = path or builtin_path(kind, lang, fmt)
    try:
        source = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput.msg(
            "notices.template_unreadable", path=file, reason=type(exc).__name__
        ) from None
    return Renderer.build(
        kind, content, source=source, name=str(file), fmt=fmt, max_chars=max_chars
    )


def default_content(transfer: Any, categories: list[str], lang: str) -> dict[str, str]:
    """Element values from the workspace's ``[transfer]`` and the catalogue's standard
    texts in ``lang`` (rights, methods, retention …); ``categories`` as found by the scan.
    Values the transfer lacks stay empty, so :func:`check_content` names them."""
    from handover.i18n import t

    def contact(p: Any) -> str:
        parts = [p.contact, p.phone, p.email, p.address] if p is not None else []
        return ", ".join(x for x in parts if x)

    sep = "、" if not lang.lower().startswith("en") else ", "
    content = {
        "seller_name": transfer.seller.name,
        "seller_contact": contact(transfer.seller),
        "buyer_name": transfer.buyer.name,
        "buyer_contact": contact(transfer.buyer),
        "buyer_phone": transfer.buyer.phone,
        "legal_basis": t(
            "notices.default.legal_basis",
            lang,
            seller=transfer.seller.name,
            buyer=transfer.buyer.name,
        ),
        "transfer_date": transfer.closing.isoformat() if transfer.closing else "",
        "purposes": transfer.purpose,
        "categories": sep.join(categories),
        "pio_contact": transfer.buyer.contact
        + (f" ({transfer.buyer.email})" if transfer.buyer.email else ""),
        "link": "",
        "new_purpose": "",
    }
    for var in ("methods", "retention", "rights", "rights_where", "changes", "obligations"):
        content[var] = t(
            f"notices.default.{var}", lang, buyer=transfer.buyer.name, email=transfer.buyer.email
        )
    return content


def category_labels(types: list[str], lang: str) -> list[str]:
    """Taxonomy labels (zh-CN or en) of PII ``types``, in taxonomy order, once each."""
    from handover.taxonomy import TAXONOMY

    wanted = set(types)
    en = lang.lower().startswith("en")
    return [p.en if en else p.zh for p in TAXONOMY if p.name in wanted]


SAMPLE_NAME = {"zh-CN": "张**", "en": "Z** S**"}
SAMPLE_REFERENCE = "SAMPLE0000"


def preview(renderer: Renderer, lang: str) -> str:
    """The notice rendered for a sample person whose name is masked (no data is read)."""
    from handover.i18n import normalize_lang

    return renderer.render(SAMPLE_NAME[normalize_lang(lang)], SAMPLE_REFERENCE)
