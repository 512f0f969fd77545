"""Renderings of the certificate of sanitization (数据销毁证明): HTML and PDF, zh-CN and en.

The signed document is ``certificate.json``; these renderings show it for people and
embed its detached signature (key, signature, SHA-256 of the signed bytes) so a reader
can check the copy in hand with ``handover certificate verify``. The PDF uses
reportlab's built-in Adobe CID font STSong-Light, so Chinese needs no font file and
the text stays extractable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handover.i18n import normalize_lang

TEMPLATES = Path(__file__).parent / "templates"

_L: dict[str, tuple[str, str]] = {
    "title": ("数据销毁证明", "Certificate of sanitization"),
    "subtitle": (
        "个人信息销毁与介质清除证明(NIST SP 800-88)",
        "Media sanitization and personal information destruction (NIST SP 800-88)",
    ),
    "id": ("证明编号", "Certificate ID"),
    "transfer": ("交易", "Transfer"),
    "seller": ("卖方", "Seller"),
    "buyer": ("买方", "Buyer"),
    "where": ("地点", "Where"),
    "host": ("主机", "Host"),
    "workspace": ("工作区", "Workspace"),
    "source": ("数据源", "Source"),
    "tool": ("工具及版本", "Tool and version"),
    "times": ("时间", "Times"),
    "started": ("开始", "Started"),
    "finished": ("结束", "Finished"),
    "people": ("双人控制", "Dual control"),
    "executed_by": ("执行人", "Executed by"),
    "validated_by": ("复核人", "Validated by"),
    "gate": ("迁移校验闸门", "Migration verify gate"),
    "gate_passed": ("通过,账本序号 {seq}", "passed, ledger seq {seq}"),
    "gate_forced": ("强制执行,理由:{reason}", "forced, reason: {reason}"),
    "gate_none": ("无需(未销毁源表)", "not needed (no source table destroyed)"),
    "destroyed": ("已销毁", "Destroyed"),
    "medium": ("介质", "Medium"),
    "subject": ("对象", "Subject"),
    "size": ("行 / 字节", "Rows / bytes"),
    "method": ("方法", "Method"),
    "nist": ("NIST 800-88 类别", "NIST 800-88 category"),
    "seq": ("账本序号", "Ledger seq"),
    "retained": ("保留项(访问已冻结)", "Retained (access frozen)"),
    "not_destroyed": (
        "未销毁:handover 写过但本次无法触及的副本",
        "Not destroyed: copies handover wrote that this run could not reach",
    ),
    "why": ("原因", "Why"),
    "authenticated": ("本人验证,账本序号 {seq}", "authenticated in person, ledger seq {seq}"),
    "basis": ("法律依据", "Legal basis"),
    "until": ("保留至", "Kept until"),
    "verification": ("销毁后校验", "Verification after destruction"),
    "verification_text": (
        "销毁前抽取 {n} 个标识符(身份证号、手机号、银行卡号,仅存于内存),在剩余数据中检索,发现 {found} 个。",
        "{n} identifiers (resident ID, mobile and card numbers, held in memory only) were sampled before destruction and searched in what remains: {found} found.",
    ),
    "result": ("结论", "Result"),
    "passed": ("通过", "PASSED"),
    "failed": ("未通过", "FAILED"),
    "searched": ("检索范围", "Searched"),
    "methods": ("方法说明", "Methods"),
    "limits": (
        "局限(本证明不作超出以下范围的声明)",
        "Limits (this certificate claims nothing beyond them)",
    ),
    "ledger": ("账本证据(RFC 6962 包含证明)", "Ledger evidence (RFC 6962 inclusion proofs)"),
    "checkpoint": ("签名检查点", "Signed checkpoint"),
    "signature": (
        "签名(Ed25519,分离式,针对 certificate.json 的规范 JSON)",
        "Signature (Ed25519, detached, over the canonical JSON certificate.json)",
    ),
    "key": ("签名密钥", "Signing key"),
    "sha256": ("certificate.json 的 SHA-256", "SHA-256 of certificate.json"),
    "verify_hint": (
        "验证:handover certificate verify certificate.json",
        "Verify: handover certificate verify certificate.json",
    ),
    "action": ("事件", "Event"),
}

MEDIUM: dict[str, tuple[str, str]] = {
    "table": ("数据表", "table"),
    "rows": ("数据行", "rows"),
    "package": ("封装包/备份", "package/backup"),
    "copy": ("解封副本", "unsealed copy"),
    "extract": ("尽调抽取件", "due-diligence extract"),
    "export": ("导出件", "export"),
    "temp": ("临时文件", "temporary file"),
    "file": ("文件", "file"),
    "key": ("密钥", "key"),
    "store": ("平台存储(账本)", "platform store (ledger)"),
}


def labels(lang: str) -> dict[str, str]:
    """The certificate's labels in ``lang``."""
    i = 0 if normalize_lang(lang) == "zh-CN" else 1
    return {k: v[i] for k, v in _L.items()}


def _text(obj: dict[str, Any] | None, lang: str) -> str:
    if not obj:
        return ""
    return str(obj.get(normalize_lang(lang)) or obj.get("en") or "")


def _rows(doc: dict[str, Any], lang: str) -> dict[str, Any]:
    """Plain rows for both renderers."""
    i = 0 if normalize_lang(lang) == "zh-CN" else 1
    methods = doc.get("methods", {})
    destroyed = []
    for d in doc.get("destroyed", []):
        size = d.get("rows") if d.get("rows") is not None else d.get("bytes")
        m = methods.get(d.get("method"), {})
        destroyed.append(
            {
                "medium": MEDIUM.get(d["medium"], (d["medium"],) * 2)[i],
                "subject": d["subject"],
                "size": f"{size:,}" if isinstance(size, int) else "",
                "method": d.get("method", ""),
                "nist": m.get("nist_sp800_88", ""),
                "seq": d.get("ledger_seq", ""),
            }
        )
    retained = []
    for r in doc.get("retained", []):
        rule = r.get("rule") or {}
        retained.append(
            {
                "medium": MEDIUM.get(r["medium"], (r["medium"],) * 2)[i],
                "subject": r["subject"] + (f"  [{r['kept_where']}]" if r.get("kept_where") else ""),
                "size": f"{r['rows']:,}" if isinstance(r.get("rows"), int) else "",
                "basis": _text(rule.get("basis"), lang) or r.get("note", "") or r.get("method", ""),
                "until": rule.get("until") or "",
            }
        )
    unreached = [
        {
            "medium": MEDIUM.get(r["medium"], (r["medium"],) * 2)[i],
            "subject": r["subject"],
            "why": r.get("note", ""),
        }
        for r in doc.get("not_destroyed", [])
    ]
    return {"destroyed": destroyed, "retained": retained, "not_destroyed": unreached}


def _gate_text(doc: dict[str, Any], L: dict[str, str]) -> str:
    g = doc.get("verify_gate", {})
    if g.get("forced"):
        return L["gate_forced"].format(reason=g.get("force_reason"))
    if g.get("passed"):
        return L["gate_passed"].format(seq=g.get("verify_ledger_seq"))
    return L["gate_none"]


def _person(p: dict[str, Any]) -> str:
    bits = [p.get("display_name") or "", p.get("name") or ""]
    name = " ".join(b for b in bits if b)
    extra = ", ".join(x for x in (p.get("org") or "", "/".join(p.get("roles") or [])) if x)
    return f"{name} ({extra})" if extra else name


def _authenticated(p: dict[str, Any], L: dict[str, str]) -> str:
    seq = p.get("authenticated_seq")
    return f"; {L['authenticated'].format(seq=seq)}" if seq is not None else ""


def context(doc: dict[str, Any], sig: dict[str, Any], lang: str) -> dict[str, Any]:
    """Everything a template needs, already in ``lang``."""
    import json

    L = labels(lang)
    v = doc.get("verification", {})
    rows = _rows(doc, lang)
    searched: list[str] = []
    for c in v.get("checks", []):
        for s in c.get("searched", []):
            if "path" in s:
                searched.append(f"{s['path']} ({s['bytes']:,} B)")
            elif "table" in s:
                searched.append(f"{doc['where'].get('source')}#{s['table']}")
    led = doc.get("ledger", {})
    return {
        "L": L,
        "lang": normalize_lang(lang),
        "doc": doc,
        "sig": sig,
        "gate": _gate_text(doc, L),
        "executed_by": _person(doc["people"]["executed_by"]),
        "validated_by": _person(doc["people"]["validated_by"])
        + _authenticated(doc["people"]["validated_by"], L),
        "destroyed": rows["destroyed"],
        "retained": rows["retained"],
        "not_destroyed": rows["not_destroyed"],
        "verification": L["verification_text"].format(
            n=v.get("samples", 0), found=v.get("found", 0)
        ),
        "passed": bool(v.get("passed")),
        "searched": searched,
        "methods": [
            (k, _text(m, lang), m.get("nist_sp800_88", ""))
            for k, m in doc.get("methods", {}).items()
        ],
        "limits": [_text(x, lang) for x in doc.get("limits", [])],
        "entries": [
            (e["seq"], e.get("action", ""), e.get("leaf_hash", "")) for e in led.get("entries", [])
        ],
        "checkpoint": led.get("checkpoint", ""),
        "tool": " ".join(
            str(x)
            for x in (
                doc["tool"].get("name"),
                doc["tool"].get("version"),
                "·",
                doc["tool"].get("database") or f"SQLite {doc['tool'].get('sqlite')}",
            )
        ),
        "json": json.dumps(doc, ensure_ascii=False, indent=1),
    }


def render_html(doc: dict[str, Any], sig: dict[str, Any], lang: str = "zh-CN") -> str:
    """The certificate as a self-contained HTML page in ``lang`` (autoescaped)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("certificate.html").render(**context(doc, sig, lang))


def write_pdf(doc: dict[str, Any], sig: dict[str, Any], path: Path, lang: str = "zh-CN") -> Path:
    """The certificate as a PDF in ``lang`` (Chinese through the STSong-Light CID font)."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    from handover.reports.pdf import build, kit

    c = context(doc, sig, lang)
    L = c["L"]
    k = kit()
    body, small, h1, h2 = k.body, k.small, k.h1, k.h2
    p, table = k.p, k.table

    d = doc
    story: list[Any] = [
        p(L["title"], h1),
        p(L["subtitle"], ParagraphStyle("st", parent=body, alignment=1)),
        Spacer(1, 4 * mm),
        table(
            [L["id"], L["transfer"]],
            [[d["certificate_id"], d["transfer"].get("name") or ""]],
            [60, 120],
        ),
        Spacer(1, 2 * mm),
        table(
            ["", ""],
            [
                [L["seller"], d["transfer"].get("seller") or ""],
                [L["buyer"], d["transfer"].get("buyer") or ""],
                [L["host"], d["where"]["host"]],
                [L["workspace"], d["where"]["workspace"]],
                [L["source"], d["where"].get("source") or "-"],
                [L["tool"], c["tool"]],
                [L["started"], d["times"]["started_at"]],
                [L["finished"], d["times"]["finished_at"]],
                [L["executed_by"], c["executed_by"]],
                [L["validated_by"], c["validated_by"]],
                [L["gate"], c["gate"]],
            ],
            [40, 140],
        ),
        p(L["destroyed"], h2),
        table(
            [L["medium"], L["subject"], L["size"], L["method"], L["nist"], L["seq"]],
            [
                [r["medium"], r["subject"], r["size"], r["method"], r["nist"], r["seq"]]
                for r in c["destroyed"]
            ],
            [22, 68, 20, 30, 26, 14],
        ),
        p(L["retained"], h2),
        table(
            [L["medium"], L["subject"], L["size"], L["basis"], L["until"]],
            [[r["medium"], r["subject"], r["size"], r["basis"], r["until"]] for r in c["retained"]],
            [22, 50, 18, 68, 22],
        ),
        p(L["not_destroyed"], h2),
        table(
            [L["medium"], L["subject"], L["why"]],
            [[r["medium"], r["subject"], r["why"]] for r in c["not_destroyed"]],
            [22, 70, 88],
        ),
        p(L["verification"], h2),
        p(c["verification"]),
        p(f"{L['result']}: {L['passed'] if c['passed'] else L['failed']}"),
        p(f"{L['searched']}: " + "; ".join(c["searched"]), small),
        p(L["methods"], h2),
        *[p(f"{k} ({nist}): {text}", small) for k, text, nist in c["methods"]],
        p(L["limits"], h2),
        *[p("• " + x, small) for x in c["limits"]],
        p(L["ledger"], h2),
        table(
            [L["seq"], L["action"], "leaf hash"],
            [[s, a, h] for s, a, h in c["entries"]],
            [18, 40, 122],
        ),
        Spacer(1, 2 * mm),
        p(L["checkpoint"] + ":", small),
        *[p(line, small) for line in c["checkpoint"].splitlines() if line],
        p(L["signature"], h2),
        p(f"{L['key']}: {sig['key_id']} v{sig['key_version']} {sig['public_key']}", small),
        p(f"{L['sha256']}: {sig['sha256']}", small),
        p(f"Ed25519: {sig['signature']}", small),
        p(L["verify_hint"], small),
    ]
    return build(
        path,
        story,
        title=f"{L['title']} {d['certificate_id']}",
        subject=f"Ed25519 {sig['public_key']} {sig['signature']}",
        keywords=f"sha256={sig['sha256']}",
    )


def write_renderings(doc: dict[str, Any], sig: dict[str, Any], folder: Path) -> list[Path]:
    """HTML and PDF in zh-CN and en beside certificate.json; returns the paths."""
    out: list[Path] = []
    for lang in ("zh-CN", "en"):
        html = folder / f"certificate.{lang}.html"
        html.write_text(render_html(doc, sig, lang), encoding="utf-8")
        out.append(html)
        out.append(write_pdf(doc, sig, folder / f"certificate.{lang}.pdf", lang))
    return out
