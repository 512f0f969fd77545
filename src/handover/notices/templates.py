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
#: the byte-order mark Notepad puts before UTF-8 text; never part of a template's text
BOM = "\ufeff"


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
#: what every campaign's content holds (:func:`default_content`, ``--link``)
BASE_VARS: tuple[str, ...] = (*(e.var for e in ELEMENTS), "buyer_phone", "link")
#: what an incident adds to a breach campaign's content (handover.flows.incidents)
BREACH_VARS = ("seller_phone", "cause", "harm", "remedies", "advice", "contact")
#: Per template kind, the variables its campaign's content and rendering supply: a
#: variable outside its kind's set would be undefined when the notice is rendered, so
#: the template is refused when it is checked, never at sending.
ALLOWED: dict[str, frozenset[str]] = {
    "notice": frozenset((*BASE_VARS, *PERSONAL)),
    "sms": frozenset((*BASE_VARS, *PERSONAL)),
    "announcement": frozenset((*BASE_VARS, *ANNOUNCEMENT)),
    "consent": frozenset((*BASE_VARS, "new_purpose", *PERSONAL)),
    "consent_sms": frozenset((*BASE_VARS, "new_purpose", *PERSONAL)),
    "breach": frozenset((*BASE_VARS, *BREACH_VARS, *PERSONAL)),
    "breach_sms": frozenset((*BASE_VARS, *BREACH_VARS, *PERSONAL)),
    "breach_announcement": frozenset((*BASE_VARS, *BREACH_VARS, *ANNOUNCEMENT)),
}


#: the masked sample person of a preview and of the check's sample render
SAMPLE_NAME = {"zh-CN": "张**", "en": "Z** S**"}
SAMPLE_REFERENCE = "SAMPLE0000"
#: the announcement date of a sample render (fixed: a check never depends on the day)
SAMPLE_DATE = "2000-01-01"


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


def check_template(kind: str, source: str, name: str, fmt: str = "txt") -> None:
    """Refuse (BadInput naming ``name``) a template that does not compile, uses a variable
    the content of ``kind`` does not provide, misses a required element of ``kind``, or
    fails to render one sample filled with placeholders (no personal data)."""
    from jinja2 import TemplateSyntaxError, meta

    if kind not in KINDS:
        raise BadInput.msg("notices.bad_kind", kind=kind, kinds=", ".join(KINDS))
    env = _env(fmt == "html")
    source = source.removeprefix(BOM)
    try:
        used = meta.find_undeclared_variables(env.parse(source))
        # compiling finds what parsing does not: an unknown filter or test
        template = env.from_string(source)
    except TemplateSyntaxError as exc:
        raise BadInput.msg("notices.template_syntax", name=name, line=exc.lineno or 0) from None
    allowed = ALLOWED[kind]
    unknown = sorted(used - allowed)
    if unknown:
        raise BadInput.msg(
            "notices.template_unknown",
            name=name,
            var=unknown[0],
            allowed=", ".join(sorted(allowed)),
        )
    for e in required(kind):
        if e.var not in used:
            raise BadInput.msg("notices.template_missing", name=name, var=e.var, law=e.law)
    # Each required element gets a mark of its own: an element the template names but
    # never prints ({% if false %}, {% set %}, [:0], an HTML comment) is found missing
    # from the output, which parsing alone cannot see.
    marks = {e.var: _sentinel(i) for i, e in enumerate(required(kind))}
    sample = {v: v for v in allowed} | _sample_extra(kind) | marks
    try:
        text = str(template.render(**sample))
    except Exception as exc:  # whatever a template raises is the template's fault
        # Placeholders only are rendered here, so the error's text can be shown.
        detail = " ".join(str(exc).split())[:200]
        raise BadInput.msg(
            "notices.template_render", name=name, error=f"{type(exc).__name__}: {detail}"
        ) from None
    shown = _shown(text, fmt)
    for e in required(kind):
        if marks[e.var] not in shown:
            raise BadInput.msg("notices.template_hidden", name=name, var=e.var, law=e.law)


def _sentinel(i: int) -> str:
    """The sample text of the ``i``-th required element: digits between marks no filter
    of case (upper, title) or HTML escaping changes, and no notice text contains."""
    return f"⟦§{i:02d}§⟧"


def _shown(text: str, fmt: str) -> str:
    """What a reader sees of a rendered ``text``: for HTML, its text without comments,
    scripts, styles and tags (an element only in an attribute is not shown)."""
    if fmt != "html":
        return text
    import html
    import re

    text = re.sub(r"<!--.*?(?:-->|$)", "", text, flags=re.DOTALL)
    text = re.sub(
        r"<(script|style|head)\b.*?(?:</\1\s*>|$)", "", text, flags=re.DOTALL | re.IGNORECASE
    )
    return html.unescape(re.sub(r"<[^>]*>", "", text))


def _sample_extra(kind: str) -> dict[str, Any]:
    """The per-person and announcement values of a sample render (a masked name, a
    reference no one has, a fixed date): never a customer's data."""
    extra: dict[str, Any] = {"recipient_name": SAMPLE_NAME["zh-CN"], "reference": SAMPLE_REFERENCE}
    if kind.endswith("announcement"):
        extra = {"unreachable": 0, "published": SAMPLE_DATE}
    return {k: v for k, v in extra.items() if k in ALLOWED[kind]}


#: Marks of a text nobody wrote yet, refused wherever they stand in an element's text:
#: TODO/TBD/TBA/TBC/FIXME as words, runs of X (``XXX公司``, ``xx@``), ×× and ○○, the
#: Chinese "to be filled in" words, a template's ``{{ … }}``/``{% … %}``/``{…}``/``${…}``
#: left in, and an empty bracket (``【】``, ``[ ]``, ``()``).
_PLACEHOLDER_IN = (
    r"(?<![A-Za-z0-9])(?:TODO|TBD|TBA|TBC|FIXME)(?![A-Za-z0-9])",
    r"(?<![A-Za-z0-9])[Xx]{2,}(?![A-Za-z0-9])",
    r"×{2,}|○{2,}",
    r"待填写?|待补充|待完善|此处填写|填写此处",
    r"\{\{.*?\}\}|\{%.*?%\}|\$?\{[^{}]{0,40}\}",
    r"【\s*】|\[\s*\]|\(\s*\)|〔\s*〕",
)
#: Words that are a placeholder only as the whole text, its punctuation taken off
#: (``待定`` also stands inside ``等待定期``; ``N/A`` is ``NA``).
_PLACEHOLDER_ALONE = frozenset({"待定", "待确认", "NA", "NULL", "UNDEFINED"})


def placeholder(text: str) -> str | None:
    """The placeholder in an element's ``text`` (``TODO``, ``【待填写】``, ``XXX``,
    ``{{ … }}``, ``……`` alone …), or None when it reads as a text someone wrote."""
    import re
    import unicodedata

    value = " ".join(unicodedata.normalize("NFKC", text).split())
    letters = "".join(c for c in value if unicodedata.category(c)[0] in "LN")
    if not letters:
        return value[:40]  # nothing but punctuation: "……", "...", "-", "【】"
    for pattern in _PLACEHOLDER_IN:
        found = re.search(pattern, value, re.IGNORECASE)
        if found:
            return found.group(0)[:40]
    if re.fullmatch(r"(?:【[^】]*】\s*)+", value) or letters.upper() in _PLACEHOLDER_ALONE:
        return value[:40]  # only bracketed holes (【公司名称】), or a "to be decided" word
    return None


def check_content(kind: str, content: dict[str, str]) -> None:
    """Refuse content that leaves a required element of ``kind`` empty, or holds a
    placeholder in it (:func:`placeholder`), naming the element and its law (PERSONAL
    excepted: those are filled per person)."""
    for e in required(kind):
        if e.var in PERSONAL:
            continue
        text = str(content.get(e.var) or "")
        if not text.strip():
            raise BadInput.msg("notices.content_missing", var=e.var, law=e.law)
        mark = placeholder(text)
        if mark is not None:
            raise BadInput.msg("notices.content_placeholder", var=e.var, mark=mark, law=e.law)


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
    #: where the template came from (its path), named when it fails to render
    name: str = ""

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
        check_template(kind, source, name, fmt)
        check_content(kind, content)
        # a template saved with a BOM (Notepad) and stored as read: U+FEFF is no text of
        # the notice, and would otherwise open every one sent
        template = _env(fmt == "html").from_string(source.removeprefix(BOM))
        renderer = cls(kind, fmt, template, dict(content), max_chars, name)
        # one sample with this content (a masked name): a template this content cannot
        # fill is refused here, before a preview is shown or any notice is claimed
        sample = _sample_extra(kind)
        name_, ref = str(sample.pop("recipient_name", "")), str(sample.pop("reference", ""))
        renderer._render(name_, ref, **sample)
        return renderer

    def render(self, recipient_name: str, reference: str, **extra: Any) -> str:
        """The notice of one person; an SMS longer than the provider's limit is refused
        (BadInput naming the limit; the caller records it as that person's failure), and
        so is a notice the template fails to render (BadInput naming the template)."""
        text = self._render(recipient_name, reference, **extra)
        if self.kind.endswith("sms") and len(text) > self.max_chars:
            raise BadInput.msg("notices.sms_too_long", chars=len(text), limit=self.max_chars)
        return text

    def _render(self, recipient_name: str, reference: str, **extra: Any) -> str:
        values = {**self.content, "recipient_name": recipient_name, "reference": reference}
        try:
            return str(self.template.render(**{**values, **extra})).strip()
        except Exception as exc:  # a template's error must not stop a run
            # The error's text may quote a person's value: only its type is shown.
            raise BadInput.msg(
                "notices.template_render", name=self.name, error=type(exc).__name__
            ) from None


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
    return Renderer.build(
        kind, content, source=read_template(file), name=str(file), fmt=fmt, max_chars=max_chars
    )


def read_template(file: Path) -> str:
    """A template file's text, UTF-8 with or without a BOM (Notepad writes one); refused
    with its path, and the line where it stops being UTF-8."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise BadInput.msg(
            "notices.template_unreadable", path=file, reason=type(exc).__name__
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BadInput.msg("notices.template_not_utf8", path=file, line=line) from None


def default_content(transfer: Any, categories: list[str], lang: str) -> dict[str, str]:
    """Element values from the workspace's ``[transfer]`` and the catalogue's standard
    texts in ``lang`` (rights, methods, retention …); ``categories`` as found by the scan.
    Values the transfer lacks stay empty, so :func:`check_content` names them."""
    from handover.i18n import t

    def contact(p: Any) -> str:
        parts = [p.contact, p.phone, p.email, p.address] if p is not None else []
        return ", ".join(x.strip() for x in parts if x and x.strip())

    sep = "、" if not lang.lower().startswith("en") else ", "
    email = (transfer.buyer.email or "").strip()
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
        "pio_contact": " ".join(
            x for x in ((transfer.buyer.contact or "").strip(), f"({email})" if email else "") if x
        ),
        "link": "",
        "new_purpose": "",
    }
    for var in ("methods", "retention", "rights", "rights_where", "changes", "obligations"):
        # without a buyer e-mail the rights sentence leaves the e-mail clause out
        # ("发送电子邮件至 ," would be a hole in every notice)
        key = "rights_where_no_email" if var == "rights_where" and not email else var
        content[var] = t(f"notices.default.{key}", lang, buyer=transfer.buyer.name, email=email)
    return content


def category_labels(types: list[str], lang: str) -> list[str]:
    """Taxonomy labels (zh-CN or en) of PII ``types``, in taxonomy order, once each."""
    from handover.taxonomy import TAXONOMY

    wanted = set(types)
    en = lang.lower().startswith("en")
    return [p.en if en else p.zh for p in TAXONOMY if p.name in wanted]


def preview(renderer: Renderer, lang: str) -> str:
    """The notice rendered for a sample person whose name is masked (no data is read)."""
    from handover.i18n import normalize_lang

    return renderer.render(SAMPLE_NAME[normalize_lang(lang)], SAMPLE_REFERENCE)
