"""Incident reports as Word documents (issue 17): the DOCX in zh-CN and English read back
with python-docx — the items of the report, the duties with their sources, the timeline,
the sign-off, the fonts Word needs for Chinese, a drill's banner on every page — and each
file's SHA-256 in the ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handover.crypto.digest import sha256_file
from handover.flows import incidents as flow
from handover.flows.workspace import init_workspace
from handover.incidents import get_incident
from handover.ledger import entries
from handover.workspace import Workspace
from incidents_data import T0, TRANSFER, Clock, copied

docx = pytest.importorskip("docx")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("docx") / "ws"
    init_workspace(path, TRANSFER, demo=True).close()
    return path


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Iterator[Workspace]:
    with copied(template, tmp_path / "ws") as w:
        yield w


def _text(document: Any) -> str:
    """Every paragraph and table cell of the body, in order."""
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def _cells(table: Any) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_initial_report_docx_in_both_languages(ws: Workspace) -> None:
    clock = Clock(T0)
    ev = flow.report_event(
        ws,
        "客户信息被批量导出",
        noticed_at=T0 - dt.timedelta(minutes=20),
        data=["cust_info"],
        systems=["seller-db"],
        clock=clock,
    )
    inc = flow.promote(
        ws, ev.id, reason="确认外泄", people=1_500_000, people_reason="客户主表行数", clock=clock
    ).incident
    flow.set_facts(
        ws,
        inc.id,
        {"location": "上海市浦东新区", "measures": "已冻结账号\n已更换全部口令", "cause": "弱口令"},
        clock=clock,
    )
    clock.advance(hours=1)
    rep = flow.file_report(ws, inc.id, "initial", clock=clock)
    folder = Path(rep.folder)
    assert {"report.zh-CN.docx", "report.en.docx"} <= set(rep.files)
    filed = entries(ws, action="incident.report.file")[-1].details["sha256"]
    for name in ("report.zh-CN.docx", "report.en.docx"):
        assert filed[name] == sha256_file(folder / name)

    zh = docx.Document(str(folder / "report.zh-CN.docx"))
    text = _text(zh)
    title = zh.paragraphs[0]
    assert title.text == "网络安全事件初始报告" and title.style.name == "Title"
    for expected in (
        "示例市诚信小额贷款有限公司",  # item 1: the unit
        "seller-db",
        "上海市浦东新区",  # item 2: place
        "较大网络安全事件",  # the grade
        "已冻结账号\n已更换全部口令",  # a fact of two lines stays two lines
        "弱口令",  # item 4: cause
        "(待查明,将及时补报)",  # items not known yet
        "属地省级网信部门",  # a duty's recipient
        "最迟不得超过4小时",  # and its source
        "处置经过",  # the timeline from the ledger
        "单位负责人",  # sign-off
    ):
        assert expected in text, expected
    duties = next(t for t in zh.tables if _cells(t)[0][1] == "依据")
    rows = _cells(duties)[1:]
    assert len(rows) == len(get_incident(ws, inc.id).obligations)
    assert any("第四条" in r[7] and "reproduction" in r[7] for r in rows)
    # Word needs the East Asian font named, or Chinese falls back to whatever it finds
    from docx.oxml.ns import qn

    fonts = zh.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "SimSun"
    section = zh.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    footer = section.footer.paragraphs[0]
    assert "网络安全事件初始报告" in footer.text and 'w:instr="PAGE"' in footer._p.xml
    assert not section.header.paragraphs[0].text  # a real report has no drill header
    assert zh.core_properties.language == "zh-CN"

    en = docx.Document(str(folder / "report.en.docx"))
    text = _text(en)
    assert en.paragraphs[0].text == "Initial incident report"
    for expected in ("Grading basis", "Sign-off", "Reporting duties and deadlines", "4 h"):
        assert expected in text, expected
    assert "上海市浦东新区" in text  # facts stay as recorded


def test_a_drill_docx_says_so_on_every_page(ws: Workspace) -> None:
    clock = Clock(T0)
    drill = flow.schedule(ws, "vendor_breach", at=T0, participants=["wangmin"], clock=clock)
    inc = flow.start(ws, drill.id, clock=clock)
    rep = flow.file_report(ws, inc.id, "initial", clock=clock)
    for lang, banner in (("zh-CN", "演练 — 非真实事件报告,不得报送"), ("en", "DRILL — not a real")):
        document = docx.Document(str(Path(rep.folder) / f"report.{lang}.docx"))
        assert document.paragraphs[0].text.startswith(banner)
        header = document.sections[0].header
        assert not header.is_linked_to_previous and header.paragraphs[0].text.startswith(banner)
        assert len(document.sections) == 1  # one section: its header is on every page


def test_control_characters_are_refused_and_a_stored_one_still_reports(ws: Workspace) -> None:
    """A vertical tab pasted from Word made every report of the incident fail (python-docx:
    "All strings must be XML compatible"), the 4-hour one included."""
    from handover.errors import BadInput
    from handover.incidents.models import IncidentRow
    from handover.incidents.records import checked_text

    # line breaks as browsers and Word write them become \n; other control characters
    # are refused, naming the field
    assert checked_text(" a\r\nb\rc\x0bd\x0ce ", "cause", 100) == "a\nb\nc\nd\ne"
    with pytest.raises(BadInput) as info:
        checked_text("bad\x01char", "cause", 100)
    assert info.value.render("en").startswith("cause holds the control character U+0001")
    # XML's noncharacters and a lone surrogate (a byte that is no UTF-8 on the command
    # line) are no text a report can hold either (the second review: U+FFFE crashed)
    for bad, code in (("\ufffe", "FFFE"), ("\uffff", "FFFF"), ("\udcff", "DCFF")):
        with pytest.raises(BadInput, match=f"U\\+{code}"):
            checked_text(f"a{bad}b", "title", 100)
    clock = Clock(T0)
    ev = flow.report_event(
        ws, "导出", noticed_at=T0 - dt.timedelta(minutes=5), data=["cust_info"], clock=clock
    )
    inc = flow.promote(ws, ev.id, reason="确认", clock=clock).incident
    with pytest.raises(BadInput, match="U\\+0007"):
        flow.set_facts(ws, inc.id, {"cause": "a\x07b"}, clock=clock)
    flow.set_facts(ws, inc.id, {"measures": "一\x0b二"}, clock=clock)
    # one stored before the refusal (written here past the check) still gives its report
    with ws.store.session() as s:
        row = s.get(IncidentRow, inc.id)
        assert row is not None
        row.title = "标题\x01尾\ufffe"
    rep = flow.file_report(ws, inc.id, "initial", clock=clock)
    text = _text(docx.Document(str(Path(rep.folder) / "report.zh-CN.docx")))
    assert "一\n二" in text and "标题\\x01尾\\ufffe" in text


def test_the_other_texts_of_an_event_and_a_promotion_refuse_control_characters(
    ws: Workspace,
) -> None:
    """Description, systems and the promotion's reasons bypassed checked_text (the second
    review); they keep their line breaks and refuse what no report can hold."""
    from handover.errors import BadInput

    clock = Clock(T0)
    for kwargs in ({"description": "a\x01b"}, {"systems": ["db\x02"]}):
        with pytest.raises(BadInput, match=r"U\+000[12]"):
            flow.report_event(
                ws, "导出", noticed_at=T0 - dt.timedelta(minutes=5), clock=clock, **kwargs
            )
    ev = flow.report_event(
        ws, "导出", noticed_at=T0 - dt.timedelta(minutes=5), description="一\r\n二", clock=clock
    )
    assert ev.description == "一\n二"
    with pytest.raises(BadInput, match="people_reason holds"):
        flow.promote(ws, ev.id, reason="确认", people=3, people_reason="x\x07", clock=clock)
