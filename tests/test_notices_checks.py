"""What the checks at ``notices create`` promise: a template is refused there when its
kind's content cannot fill it (a variable of another kind, a sample that does not
render), a render error later is one line and leaves no notice in flight, and an
unreachable row is listed by a key with every personal part masked (or its row number)."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from handover.cli.main import app
from handover.crypto.tokenize import tokenize_with
from handover.errors import BadInput
from handover.flows.notices import campaign_report, create_campaign, send_campaign
from handover.flows.notices import preview as flow_preview
from handover.ledger import entries, ledger_size
from handover.notices.audience import derive_audience, people_tables
from handover.notices.campaign import list_campaigns
from handover.notices.channels import SmtpConfig
from handover.notices.outbox import counts
from handover.notices.templates import builtin_path, check_template
from handover.sources import open_source
from handover.synth import synthesize
from notices_data import Mailbox, approve, base, smtp_server, ws

pytest.importorskip("aiosmtpd")
__all__ = ["base", "smtp_server", "ws"]  # fixtures used by name

runner = CliRunner()
#: the people of the two tables added to the synthetic book whom no row can reach
LOST_KEYED = ("欧阳娜娜", "司马光")  # jjlxr, primary key (xm, sj)
LOST_UNKEYED = ("诸葛亮", "上官婉儿")  # khmd, no primary key


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic book, plus an emergency-contact list keyed by (name, mobile) and an
    imported customer list without a primary key, each with rows nobody can be reached by."""
    path = tmp_path_factory.mktemp("checks") / "book.db"
    synthesize(str(path), customers=60, seed=7)
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE jjlxr (xm TEXT, sj TEXT, gx TEXT, PRIMARY KEY (xm, sj));
        INSERT INTO jjlxr SELECT "联系人姓名", "联系电话", "关系" FROM emergency_contact;
        INSERT INTO jjlxr VALUES ('欧阳娜娜', '010-12345678', '朋友'),
                                 ('司马光', '12345678901', '同事');
        CREATE TABLE khmd (xm TEXT, sfz TEXT, sj TEXT);
        INSERT INTO khmd SELECT "客户姓名", "身份证号", "手机号码" FROM dr_khmd_2019;
        INSERT INTO khmd VALUES ('诸葛亮', '无', '无'), ('上官婉儿', NULL, '-');
        """
    )
    db.commit()
    db.close()
    return path


def _cfg(port: int) -> SmtpConfig:
    return SmtpConfig("127.0.0.1", port, "dpo@seller.example.cn", security="none")


def _template(tmp_path: Path, extra: str, kind: str = "notice") -> Path:
    """The built-in zh-CN template of ``kind`` with ``extra`` appended."""
    path = tmp_path / f"my-{kind}.txt"
    path.write_text(builtin_path(kind, "zh-CN").read_text("utf-8") + "\n" + extra, "utf-8")
    return path


def _one_line(res: Any, code: int, *words: str) -> str:
    assert res.exit_code == code, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1, res.output
    for w in words:
        assert w in lines[0], (w, res.output)
    for bug in ("Traceback", "内部错误", "internal error"):
        assert bug not in res.output
    return lines[0]


def _create(ws: Any, book: Path) -> list[str]:
    """``notices create`` of an e-mail campaign on ``book`` (staff left out), by the CLI."""
    where = ["-w", str(ws.path), "--lang", "en"]
    return [*where, "notices", "create", str(book), "-c", "email", "--exclude", "sys_user"]


def _grants(ws: Any) -> int:
    from handover.governance.grants import list_grants

    return len(list_grants(ws))


@pytest.mark.parametrize(
    "line", ["卖方客服电话:{{ seller_phone }}", "原因:{{ cause }}", "未能送达 {{ unreachable }} 人"]
)
def test_create_refuses_a_variable_the_campaign_never_supplies(
    ws: Any, book: Path, tmp_path: Path, line: str
) -> None:
    """seller_phone, cause (breach notices) and unreachable (announcements) are variables
    of other kinds: a notice campaign's content has none of them, so `create` names the
    variable, exits 2 and changes nothing (before, sending crashed on it)."""
    var = re.search(r"{{ (\w+) }}", line)
    assert var is not None
    mine = _template(tmp_path, line)
    size, grants = ledger_size(ws), _grants(ws)
    res = runner.invoke(app, [*_create(ws, book), "--template-text", str(mine)])
    shown = _one_line(res, 2, f"unknown variable {var.group(1)}", mine.name)
    assert "seller_phone" not in shown.split("known:")[1]  # not offered to a notice
    assert list_campaigns(ws) == [] and ledger_size(ws) == size and _grants(ws) == grants
    # the kinds whose content has them still take them
    breach = builtin_path("breach", "zh-CN").read_text("utf-8") + "{{ seller_phone }}"
    check_template("breach", breach, "breach.txt")
    check_template("announcement", builtin_path("announcement", "en").read_text("utf-8"), "a")


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("{{ seller_name.nickname }}", ("cannot be rendered", "UndefinedError", "nickname")),
        ("{{ 100 // 0 }}", ("cannot be rendered", "ZeroDivisionError")),
        ("{{ seller_name.__class__ }}", ("cannot be rendered", "SecurityError")),
    ],
)
def test_create_renders_a_sample_and_refuses_what_cannot_render(
    ws: Any, book: Path, tmp_path: Path, line: str, words: tuple[str, ...]
) -> None:
    """A template that parses and uses only its kind's variables but fails to render is
    refused at `create`, one line naming the template and the error; nothing changed."""
    mine = _template(tmp_path, line)
    size = ledger_size(ws)
    res = runner.invoke(app, [*_create(ws, book), "--template-text", str(mine)])
    _one_line(res, 2, mine.name, *words)
    assert list_campaigns(ws) == [] and ledger_size(ws) == size


def test_a_render_error_of_the_content_is_one_line_at_preview_and_send(
    ws: Any, book: Path, tmp_path: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    """A template that only this campaign's content breaks (no --link: ``link`` is empty)
    is refused at preview and at send with one line; no notice is claimed or sent."""
    box, port = smtp_server
    mine = _template(tmp_path, "{{ 100 // link|length }}")
    camp = create_campaign(
        ws, book, name="t", channels=["email"], exclude=["sys_user"], templates={"notice.txt": mine}
    )
    res = runner.invoke(
        app, ["-w", str(ws.path), "--lang", "en", "notices", "preview", str(camp.id), "-c", "email"]
    )
    _one_line(res, 2, "cannot be rendered (ZeroDivisionError)", mine.name)
    approve(ws, camp.id)
    with pytest.raises(BadInput, match=r"cannot be rendered \(ZeroDivisionError\)"):
        send_campaign(ws, camp.id, book, smtp=_cfg(port))
    assert set(counts(ws, camp.id)["email"]) == {"queued"} and box.got == []


def test_a_person_the_template_cannot_render_fails_alone(
    ws: Any, book: Path, tmp_path: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    """A render error for one person's values (the third character of a two-character
    name) is that person's recorded failure, never a crash: everyone else is sent, no row
    stays `sending`, and the error names the template's fault, not the person."""
    box, port = smtp_server
    mine = _template(tmp_path, "{{ recipient_name[2] }}")
    camp = create_campaign(
        ws, book, name="t", channels=["email"], exclude=["sys_user"], templates={"notice.txt": mine}
    )
    assert "张**" in flow_preview(ws, camp.id, "email")  # the masked sample renders
    approve(ws, camp.id)
    report = send_campaign(ws, camp.id, book, smtp=_cfg(port))
    states = counts(ws, camp.id)["email"]
    assert set(states) == {"sent", "failed"} and report.pending == 0
    assert len(box.got) == states["sent"] == len(box.distinct())
    from sqlalchemy import text

    with ws.store.engine.connect() as conn:
        errors = {e for (e,) in conn.execute(text("SELECT error FROM notice_outbox"))}
    assert errors == {None, "notices.template_render"}


KEY = b"k" * 32


def test_each_key_part_is_masked_by_its_own_column(tmp_path: Path) -> None:
    """A composite primary key is masked part by part (a name as a name, a mobile as a
    mobile, a bank card as a bank card; a plain number kept); a table without a primary
    key lists its rows by number, the same whatever the batch size."""
    db = sqlite3.connect(tmp_path / "p.db")
    db.executescript(
        """
        CREATE TABLE comp (xm TEXT, sj TEXT, sfz TEXT, PRIMARY KEY (xm, sj));
        INSERT INTO comp VALUES ('王五', '010-12345678', '无');
        CREATE TABLE card (bh INTEGER, kh TEXT, xm TEXT, sj TEXT, PRIMARY KEY (bh, kh));
        INSERT INTO card VALUES (7, '6222020200112233445', '赵六', NULL);
        CREATE TABLE nopk (xm TEXT, sfz TEXT, sj TEXT);
        INSERT INTO nopk VALUES ('张三', '无', '13812345678'), ('李四', '无', '无'),
                                ('孙八', NULL, '13712345678'), ('周九', '无', NULL);
        """
    )
    db.commit()
    db.close()
    inv = {
        ("comp", "xm"): {"primary": "person_name"},
        ("comp", "sj"): {"primary": "cn_mobile"},
        ("comp", "sfz"): {"primary": "cn_resident_id"},
        ("card", "bh"): {"primary": None},
        ("card", "kh"): {"primary": "bank_card"},
        ("card", "xm"): {"primary": "person_name"},
        ("card", "sj"): {"primary": "cn_mobile"},
        ("nopk", "xm"): {"primary": "person_name"},
        ("nopk", "sfz"): {"primary": "cn_resident_id"},
        ("nopk", "sj"): {"primary": "cn_mobile"},
    }
    keys = {"comp": ["xm", "sj"], "card": ["bh", "kh"], "nopk": []}
    people = people_tables(inv, keys)
    with open_source(tmp_path / "p.db") as src:
        whole = derive_audience(src, people, lambda v: tokenize_with(KEY, v))
        one = derive_audience(src, people, lambda v: tokenize_with(KEY, v), batch_size=1)
    lost = {(r["table"], r["row_key"]) for r in whole.unreachable.to_pylist()}
    assert lost == {
        ("comp", "王*|010*****5678"),
        ("card", "7|622202*********3445"),
        ("nopk", "#2"),
        ("nopk", "#4"),
    }
    assert one.unreachable.to_pydict() == whole.unreachable.to_pydict()
    types = {p.table: p.key_types() for p in people}
    assert types == {"card": [None, "bank_card"], "comp": ["person_name", "cn_mobile"], "nopk": []}
    # a campaign keeps its tables as JSON: read back, they mask the same way
    from handover.notices.audience import PeopleTable

    stored = [json.loads(json.dumps(p.to_json())) for p in people]
    again = [PeopleTable(**{**p, "key": tuple(p["key"])}) for p in stored]
    assert {p.table: p.key_types() for p in again} == types


def test_unreachable_rows_name_nobody_in_the_store_or_the_report(
    ws: Any, book: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    """End to end: the unreachable rows of a table keyed by (name, mobile) and of one
    without a key are stored and reported by masked key / row number, never a clear name,
    and a row without a key can be found again by its number."""
    _, port = smtp_server
    camp = create_campaign(ws, book, name="t", channels=["email"], exclude=["sys_user"])
    approve(ws, camp.id)
    send_campaign(ws, camp.id, book, smtp=_cfg(port))
    from sqlalchemy import text

    with ws.store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT table_name, row_key, name_masked FROM notice_unreachable "
                "WHERE table_name IN ('jjlxr', 'khmd') ORDER BY idx"
            )
        ).all()
    stored = {(t, k) for t, k, _ in rows}
    assert ("jjlxr", "欧阳**|010*****5678") in stored and ("jjlxr", "司马*|123****8901") in stored
    db = sqlite3.connect(book)
    numbers = {
        xm: n for n, (xm,) in enumerate(db.execute("SELECT xm FROM khmd ORDER BY rowid"), start=1)
    }
    db.close()
    for who in LOST_UNKEYED:
        assert ("khmd", f"#{numbers[who]}") in stored
    assert all(k for _, k, _ in rows)  # every row can be found again
    files = campaign_report(ws, camp.id, lang="en")
    html = next(f for f in files if f.suffix == ".html").read_text("utf-8")
    xlsx = next(f for f in files if f.suffix == ".xlsx")
    with zipfile.ZipFile(io.BytesIO(xlsx.read_bytes())) as z:
        cells = " ".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    ledger = json.dumps([e.details for e in entries(ws)], ensure_ascii=False)
    stored_text = json.dumps([list(r) for r in rows], ensure_ascii=False)
    for name in (*LOST_KEYED, *LOST_UNKEYED):
        for where, text_ in (("store", stored_text), ("html", html), ("xlsx", cells)):
            assert name not in text_, (name, where)
        assert name not in ledger
    assert "欧阳**|010*****5678" in html and f"#{numbers['诸葛亮']}" in html
