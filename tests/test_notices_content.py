"""What the content of a campaign must be before it reaches a customer: every element a
text someone wrote (no ``TODO``, ``【待填写】``, ``XXX`` or ``{{ … }}`` left in), every
element printed by each template, element values that are texts, and content files
read as Notepad writes them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from handover.cli.main import app
from handover.errors import BadInput
from handover.ledger import ledger_size
from handover.notices.campaign import list_campaigns, read_content
from handover.notices.templates import (
    ELEMENTS,
    KINDS,
    Renderer,
    builtin_path,
    check_content,
    check_template,
    default_content,
    load_renderer,
    required,
)
from handover.settings import Transfer
from handover.synth import synthesize
from handover.workspace import DEMO_TRANSFER
from notices_data import base, ws

__all__ = ["base", "ws"]  # fixtures used by name

runner = CliRunner()
LAW = {e.var: e.law for e in ELEMENTS}


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("content") / "book.db"
    synthesize(str(path), customers=20, seed=3)
    return path


def _content(lang: str = "zh-CN", **buyer: Any) -> dict[str, str]:
    data = copy.deepcopy(DEMO_TRANSFER)
    data["buyer"].update(buyer)
    c = default_content(Transfer.model_validate(data), ["姓名", "手机号码"], lang)
    c["link"] = "https://buyer.example.cn/n"
    return c


def _one_line(res: Any, *words: str) -> str:
    assert res.exit_code == 2, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1, res.output
    for w in words:
        assert w in lines[0], (w, res.output)
    assert "Traceback" not in res.output
    return lines[0]


def _create(ws: Any, book: Path, *extra: str, lang: str = "en") -> Any:
    where = ["-w", str(ws.path), "--lang", lang]
    args = [*where, "notices", "create", str(book), "-t", "cust_info", "-c", "email,letter,sms"]
    return runner.invoke(app, [*args, "--link", "https://buyer.example.cn/n", *extra])


# -- 1. placeholders ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("var", "text", "mark"),
    [
        ("retention", "TODO", "TODO"),
        ("retention", "保存期限:TODO", "TODO"),
        ("rights_where", "【待填写】", "待填写"),
        ("purposes", "XXX", "XXX"),
        ("buyer_name", "xxx公司", "xxx"),
        ("methods", "tbd", "tbd"),
        ("changes", "待定", "待定"),
        ("obligations", "待补充", "待补充"),
        ("categories", "【个人信息种类】", "【个人信息种类】"),
        ("rights", "{{ rights }}", "{{ rights }}"),
        ("rights_where", "发送电子邮件至 {email},或书面致函", "{email}"),
        ("retention", "……", "......"),
        ("retention", "...", "..."),
        ("pio_contact", "N/A", "N/A"),
        ("seller_contact", "电话:( )", "( )"),
    ],
)
def test_a_placeholder_in_an_element_is_refused_naming_it_and_its_law(
    var: str, text: str, mark: str
) -> None:
    """Before, only an empty text was refused: 七、保存期限:TODO went to every customer."""
    with pytest.raises(BadInput) as err:
        check_content("notice", {**_content(), var: text})
    assert err.value.message is not None
    assert err.value.message.key == "notices.content_placeholder"
    assert err.value.message.values == {"var": var, "mark": mark, "law": LAW[var]}


@pytest.mark.parametrize(
    "text",
    [
        "贷款合同履行期间及结清后五年,期满删除",
        "等待定期核查后删除",  # 待定 inside a word
        "Max Xu, privacy@buyer.example.cn",
        "【示例普惠】客户服务部,021-66660000",
        "reply TD to opt out; see Article 20",
    ],
)
def test_texts_someone_wrote_pass(text: str) -> None:
    from handover.notices.templates import placeholder

    assert placeholder(text) is None
    check_content("notice", {**_content(), "retention": text})


@pytest.mark.parametrize(("lang", "clause"), [("zh-CN", "发送电子邮件至"), ("en", "e-mail")])
def test_the_default_rights_sentence_leaves_out_an_e_mail_the_buyer_has_not(
    lang: str, clause: str
) -> None:
    """Without a buyer e-mail the sentence read "发送电子邮件至 ,或…", a hole sent to all."""
    assert (
        "privacy@buyer.example.cn"
        in _content(lang, email="privacy@buyer.example.cn")["rights_where"]
    )
    for none in ("", "  "):
        text = _content(lang, email=none)["rights_where"]
        assert clause not in text and " ," not in text and "至 ," not in text, text
        assert DEMO_TRANSFER["buyer"]["name"] in text
        check_content("notice", _content(lang, email=none))


def test_create_refuses_a_placeholder_in_one_line_changing_nothing(
    ws: Any, book: Path, tmp_path: Path
) -> None:
    toml = tmp_path / "placeholder.toml"
    toml.write_text('retention = "TODO"\nrights_where = "【待填写】"\n', "utf-8")
    size = ledger_size(ws)
    res = _create(ws, book, "--content", str(toml))
    _one_line(res, "element retention", '"TODO"', "PIPL Art. 17 ¶1(2)")
    res = _create(ws, book, "--content", str(toml), lang="zh-CN")
    _one_line(res, "告知要素 retention", "「TODO」", "PIPL Art. 17 ¶1(2)")
    assert list_campaigns(ws) == [] and ledger_size(ws) == size


# -- 2. every required element printed, per channel template ----------------------------


def _builtin(kind: str, fmt: str = "txt", lang: str = "zh-CN") -> str:
    return builtin_path(kind, lang, fmt).read_text("utf-8")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_builtin_template_shows_every_element_it_must(lang: str) -> None:
    for kind in KINDS:
        for fmt in ("txt", "html"):
            if builtin_path(kind, lang, fmt).exists():
                check_template(kind, _builtin(kind, fmt, lang), f"{kind}.{fmt}", fmt)


@pytest.mark.parametrize(
    ("kind", "fmt", "var", "old", "new"),
    [
        # e-mail and letter: the full notice's text template
        ("notice", "txt", "rights", "{{ rights }}", "{% if false %}{{ rights }}{% endif %}"),
        ("notice", "txt", "rights_where", "{{ rights_where }}", "{% set _ = rights_where %}"),
        ("notice", "txt", "obligations", "{{ obligations }}", "{{ obligations[:0] }}"),
        ("notice", "txt", "retention", "{{ retention }}", "{{ retention|length }}"),
        # e-mail: the HTML part, where a comment or an attribute shows nothing
        ("notice", "html", "rights", "{{ rights }}", "<!-- {{ rights }} -->"),
        ("notice", "html", "retention", "{{ retention }}", '<span title="{{ retention }}"></span>'),
        # SMS: what a short message must carry
        ("sms", "txt", "link", "{{ link }}", "{% if not link %}{{ link }}{% endif %}"),
        ("sms", "txt", "reference", "{{ reference }}", "{{ reference[:4] }}"),
        ("consent_sms", "txt", "buyer_phone", "{{ buyer_phone }}", "{% set p = buyer_phone %}"),
        ("breach", "txt", "harm", "{{ harm }}", "{# {{ harm }} #}{{ harm[:0] }}"),
    ],
)
def test_an_element_referenced_but_never_printed_is_refused(
    kind: str, fmt: str, var: str, old: str, new: str
) -> None:
    """Before, only the template's syntax was looked at: an element named in an `if` that
    is never true, a `set`, or an empty slice passed and the notice went out without it."""
    source = _builtin(kind, fmt)
    assert old in source
    with pytest.raises(BadInput) as err:
        check_template(kind, source.replace(old, new), f"mine.{fmt}", fmt)
    assert err.value.message is not None
    assert err.value.message.key == "notices.template_hidden", err.value
    law = {e.var: e.law for e in required(kind)}[var]
    assert err.value.message.values == {"name": f"mine.{fmt}", "var": var, "law": law}


def test_filters_that_keep_the_text_pass() -> None:
    source = _builtin("notice", "txt", "en").replace("{{ rights }}", "{{ rights|upper|trim }}")
    check_template("notice", source.replace("{{ purposes }}", "{{ purposes|title }}"), "t.txt")


def test_create_refuses_a_hidden_element_in_one_line_changing_nothing(
    ws: Any, book: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "hidden.txt"
    hidden = "{% if false %}{{ rights }}{% endif %}"
    mine.write_text(_builtin("notice", "txt", "en").replace("{{ rights }}", hidden), "utf-8")
    size = ledger_size(ws)
    res = _create(ws, book, "--template-text", str(mine))
    _one_line(res, "hidden.txt", "never shows the required element rights", "PIPL Art. 17 ¶1(3)")
    assert list_campaigns(ws) == [] and ledger_size(ws) == size


# -- 3. element values are texts ------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('categories = ["姓名", "身份证号码", "手机号码"]', "categories"),
        ("retention = 5", "retention"),
        ("retention = 5.5", "retention"),
        ("changes = false", "changes"),
        (
            'rights_where = {email = "privacy@buyer.example.cn", phone = "021-66660000"}',
            "rights_where",
        ),
        ("transfer_date = 2027-01-15T09:00:00", "transfer_date"),
        ('[purposes]\nmain = "贷款服务"', "purposes"),
    ],
)
def test_a_value_that_is_no_text_is_refused_naming_its_key(
    tmp_path: Path, line: str, key: str
) -> None:
    """Before, str() printed ['姓名', '身份证号码', …], 5 or {'email': …} into every notice."""
    toml = tmp_path / "content.toml"
    toml.write_text(f'purposes = "贷款服务"\n{line}\n' if key != "purposes" else line, "utf-8")
    with pytest.raises(BadInput) as err:
        read_content(toml)
    assert err.value.message is not None
    assert err.value.message.key == "notices.content_not_text"
    assert err.value.message.values["key"] == key
    assert err.value.message.values["law"] == LAW[key]


def test_texts_and_a_toml_date_are_read() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        toml = Path(d) / "c.toml"
        toml.write_text('transfer_date = 2027-01-15\ncategories = "姓名、手机号码"\n', "utf-8")
        assert read_content(toml) == {"transfer_date": "2027-01-15", "categories": "姓名、手机号码"}


def test_create_refuses_a_list_in_one_line_changing_nothing(
    ws: Any, book: Path, tmp_path: Path
) -> None:
    toml = tmp_path / "array.toml"
    toml.write_text('categories = ["姓名", "手机号码"]\n', "utf-8")
    size = ledger_size(ws)
    res = _create(ws, book, "--content", str(toml))
    _one_line(res, "array.toml", "element categories must be a quoted text", "PIPL Art. 17 ¶1(2)")
    assert list_campaigns(ws) == [] and ledger_size(ws) == size


# -- 4. content and template files as Notepad writes them ------------------------------

BOM = "\ufeff".encode()


def _msg(exc: pytest.ExceptionInfo[BadInput]) -> tuple[str, dict[str, Any]]:
    assert exc.value.message is not None
    return exc.value.message.key, dict(exc.value.message.values)


def test_a_content_file_with_a_bom_is_read(tmp_path: Path) -> None:
    """Notepad's default UTF-8 starts with a BOM: it was a TOMLDecodeError."""
    toml = tmp_path / "bom.toml"
    toml.write_bytes(BOM + 'retention = "贷款结清后五年"\n'.encode())
    assert read_content(toml) == {"retention": "贷款结清后五年"}


def test_a_content_file_not_in_utf8_says_so_and_where(tmp_path: Path) -> None:
    toml = tmp_path / "gbk.toml"
    toml.write_bytes('methods = "m"\n\nretention = "贷款结清后五年"\n'.encode("gbk"))
    with pytest.raises(BadInput) as err:
        read_content(toml)
    assert _msg(err) == ("notices.content_not_utf8", {"path": toml, "line": 3})
    assert "is not UTF-8 (from line 3)" in str(err.value)


@pytest.mark.parametrize(
    ("text", "line", "error"),
    [
        ('retention = "五年"\npurposes = 继续提供贷款服务\n', 2, "Invalid value"),
        ('retention = "五年\n', 1, "Illegal character '\\n'"),
        ('retention = "五年"\npurposes = """贷款', 2, "Unterminated string"),
    ],
)
def test_a_toml_error_names_its_line_and_tomls_words(
    tmp_path: Path, text: str, line: int, error: str
) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text(text, "utf-8")
    with pytest.raises(BadInput) as err:
        read_content(toml)
    assert _msg(err) == ("notices.content_toml", {"path": toml, "line": line, "error": error})


def test_a_template_with_a_bom_puts_no_bom_into_a_notice(tmp_path: Path) -> None:
    """The BOM was the first character of every notice rendered from such a template."""
    source = "\ufeff" + _builtin("notice", "txt")
    text = Renderer.build("notice", _content(), source=source, name="bom.txt").render("王*", "R1")
    assert "\ufeff" not in text and text.startswith("尊敬的王*")
    mine = tmp_path / "bom.txt"
    mine.write_bytes(BOM + _builtin("notice", "txt").encode())
    text = load_renderer("notice", "zh-CN", _content(), path=mine).render("王*", "R1")
    assert "\ufeff" not in text


def test_a_template_not_in_utf8_says_so(tmp_path: Path) -> None:
    mine = tmp_path / "gbk.txt"
    mine.write_bytes(_builtin("notice", "txt").encode("gbk"))
    with pytest.raises(BadInput) as err:
        load_renderer("notice", "zh-CN", _content(), path=mine)
    assert _msg(err) == ("notices.template_not_utf8", {"path": mine, "line": 1})


def test_create_reads_a_bom_and_refuses_gbk_in_one_line(
    ws: Any, book: Path, tmp_path: Path
) -> None:
    bom = tmp_path / "bom.toml"
    bom.write_bytes(BOM + 'retention = "贷款结清后五年,期满删除"\n'.encode())
    res = _create(ws, book, "--content", str(bom))
    assert res.exit_code == 0, res.output
    assert list_campaigns(ws)[0].content["retention"] == "贷款结清后五年,期满删除"
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('retention = "贷款结清后五年"\n'.encode("gbk"))
    size = ledger_size(ws)
    _one_line(_create(ws, book, "--content", str(gbk)), "gbk.toml", "is not UTF-8")
    assert len(list_campaigns(ws)) == 1 and ledger_size(ws) == size


def test_create_tells_a_template_not_in_utf8_by_its_line(
    ws: Any, book: Path, tmp_path: Path
) -> None:
    """notices create read its templates itself, as plain UTF-8: a GBK one was told by
    its error's type only (UnicodeDecodeError); now as announcements are (one reader)."""
    mine = tmp_path / "gbk.txt"
    mine.write_bytes(("\n" + _builtin("notice", "txt", "zh-CN")).encode("gbk"))
    size = ledger_size(ws)
    res = _create(ws, book, "--template-text", str(mine))
    _one_line(res, "gbk.txt", "not UTF-8", "line 2")
    assert list_campaigns(ws) == [] and ledger_size(ws) == size
