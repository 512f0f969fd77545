"""The zh-CN pages of a demo workspace (``handover demo``: every stage run, records of
every kind) carry no English library text: every note, reason and label the library
produces reaches a page through the catalogue, in the reader's language.

The pages are walked from the dashboard through every link (the ledger entries aside:
they show the recorded evidence verbatim), the checklist run once; the text a person
reads is taken from the HTML (not form values, code or preformatted evidence) and any
run of English words in it is a finding — unless it is the English half of a bilingual
record a person or the demo entered (``中文 / English``, e.g. a grant's purpose) or a
command name.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from handover.web.app import create_app
from web_support import login

#: a run of at least two English words separated by spaces (identifiers, codes, names
#: and comma-separated lists of them are single tokens or not space-separated prose)
ENGLISH = re.compile(r"\b[A-Za-z][a-z]+(?: [A-Za-z][a-z]+)+\b")
CJK = re.compile(r"[\u4e00-\u9fff]")
#: what a person reads: neither form values, code, evidence shown verbatim, nor scripts
HIDDEN = re.compile(
    r"<(script|style|pre|code|textarea|option|title)\b[^>]*>.*?</\1>|<input\b[^>]*>", re.S
)
SKIP = re.compile(
    r"^/(static|lang|logout|ledger|records)|\.(pdf|json|docx|html|zip|sig|py|csv|txt)$"
)


def english_runs(page: str) -> list[str]:
    """The runs of English words in the text of ``page`` that are not the English half of
    a bilingual value or a command name."""
    text = html.unescape(re.sub(r"<[^>]+>", "\n", HIDDEN.sub("\n", page)))
    found = []
    for node in (n.strip() for n in text.split("\n")):
        if not node or (CJK.search(node) and "/" in node):
            continue  # empty, or "中文 / English" as a person or the demo recorded it
        for run in ENGLISH.findall(node):
            if not run.startswith("handover "):  # a command the reader may type
                found.append(run)
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from handover.flows.demo import run_demo

    path: Path = tmp_path_factory.mktemp("weblang") / "demo"
    run_demo(path, customers=100, echo=lambda _: None)
    with TestClient(create_app(path), follow_redirects=False) as client:
        yield client


def test_english_runs_are_found() -> None:
    """The finder itself: English prose is found, bilingual values and codes are not."""
    assert english_runs("<td>edit console</td>") == ["edit console"]
    assert english_runs("<td>(立即:no figure in the law)</td>") == ["no figure in the law"]
    assert english_runs("<td>演示告知 / demo notices</td><td>wangmin, zhaolei</td>") == []
    assert english_runs('<td>pipl-jrt0171 <code>seal verify</code><input value="a b"></td>') == []


def test_zh_pages_of_the_demo_show_no_english_library_text(demo: TestClient) -> None:
    client = demo
    token = login(client, "wangmin")
    pages: dict[str, str] = {}
    todo = ["/dashboard"]
    while todo:
        url = todo.pop()
        if url in pages or SKIP.search(url.split("?")[0]):
            continue
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        if not r.headers["content-type"].startswith("text/html"):
            continue
        pages[url] = r.text
        for href in re.findall(r'href="(/[^"#]*)"', r.text):
            href = html.unescape(href)
            if "?" not in href or href.startswith("/pia/"):  # versions: ?version=N
                todo.append(href)
    r = client.post("/pia/checklist", data={"csrf_token": token})
    assert r.status_code == 200
    pages["POST /pia/checklist"] = r.text
    # Every kind of page was reached: the demo's incident, assessment, campaign, dossier.
    for wanted in ("/incidents/1", "/pia/1", "/notices/1", "/certificates", "/dossiers/"):
        assert any(p.startswith(wanted) for p in pages), wanted
    assert len(pages) >= 20
    findings = {url: runs for url, page in pages.items() if (runs := english_runs(page))}
    assert findings == {}


def test_recorded_purposes_read_in_chinese(demo: TestClient) -> None:
    """A ledger entry's purpose: the library's purpose codes (``access control``,
    ``migration`` …) in the reader's language with the recorded text beside it as code;
    every purpose the demo recorded is readable in Chinese."""
    from handover.ledger import entries

    client = demo
    login(client, "wangmin")
    first: dict[str, int] = {}
    for e in entries(client.app.state.console.ws):
        first.setdefault(e.purpose, e.seq)
    assert "access control" in first and len(first) >= 10
    wrong = {}
    for purpose, seq in first.items():
        page = client.get(f"/ledger/{seq}").text
        found = re.search(r'<dd id="entry-purpose">(.*?)</dd>', page, re.S)
        assert found is not None, seq
        if english_runs(found.group(1)) or not CJK.search(found.group(1)):
            wrong[purpose] = found.group(1)
    assert wrong == {}
    page = client.get(f"/ledger/{first['access control']}").text
    assert '<dd id="entry-purpose">访问控制 <code>access control</code></dd>' in page
