"""The console's notices in the customers' language: a campaign created from the pages or
the API is in the language asked for, else the workspace's — never the operator's screen
language (the English switch, ``Accept-Language: en-US``); a language handover has no
catalogue for is refused naming the field, with no campaign created."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from web_support import (
    PASSWORDS,
    Http,
    build_scanned_workspace,
    english,
    error_line,
    rescan,
    served,
)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    path = tmp_path_factory.mktemp("webnotices") / "ws"
    build_scanned_workspace(path)
    with served(path) as base:
        rescan(base)
        yield base, path


def _campaigns(path: Path) -> list[tuple[int, str]]:
    from handover.notices.campaign import list_campaigns
    from handover.workspace import open_workspace

    ws = open_workspace(path)
    try:
        return sorted((c.id, c.lang) for c in list_campaigns(ws))
    finally:
        ws.close()


def test_the_api_makes_notices_in_the_workspaces_language_or_the_one_asked(
    console: tuple[str, Path],
) -> None:
    import httpx2

    base, path = console
    with httpx2.Client(base_url=base, timeout=120) as http:
        r = http.post("/api/login", json={"name": "wangmin", "password": PASSWORDS["wangmin"]})
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        body = {"name": "t", "source": "seller.db", "channels": ["letter"], "tables": "cust_info"}
        en_reader = {**auth, "Accept-Language": "en-US,en;q=0.9"}
        r = http.post("/api/notices", json=body, headers=en_reader)
        assert r.status_code == 200, r.text
        assert r.json()["lang"] == "zh-CN"  # the workspace's, whatever the reader reads
        r = http.post("/api/notices", json={**body, "lang": "en"}, headers=auth)
        assert r.status_code == 200, r.text
        assert r.json()["lang"] == "en"
        before = _campaigns(path)
        bad = http.post("/api/notices", json={**body, "lang": "fr"}, headers=auth)
        assert bad.status_code in (400, 422) and "lang" in bad.text
        assert _campaigns(path) == before


def test_the_pages_form_has_a_language_defaulting_to_the_workspaces(
    console: tuple[str, Path],
) -> None:
    base, path = console
    dpo = Http(base).login("wangmin")
    page = english(dpo, "/notices")  # the operator reads English
    assert 'id="c-lang" name="lang"' in page
    assert '<option value="zh-CN" lang="zh-CN" selected>' in page
    form = {"name": "t", "source": "seller.db", "channels": ["letter"], "tables": "cust_info"}
    r = dpo.post("/notices", form)
    assert r.status_code == 303, r.text[:300]
    assert _campaigns(path)[-1][1] == "zh-CN"
    r = dpo.post("/notices", {**form, "lang": "en"})
    assert r.status_code == 303, r.text[:300]
    cid, lang = _campaigns(path)[-1]
    assert lang == "en"
    assert 'id="campaign-lang" lang="en">English<' in dpo.get(f"/notices/{cid}").text
    before = _campaigns(path)
    bad = dpo.post("/notices", {**form, "lang": "fr"})
    assert 400 <= bad.status_code < 500 and "lang" in error_line(bad.text)
    assert _campaigns(path) == before
    dpo.close()


def test_a_sender_that_is_no_address_is_refused_naming_it(console: tuple[str, Path]) -> None:
    """The console's send (API and form): a From that is no e-mail address is a 400
    naming ``sender``, and no job is started."""
    import httpx2

    from handover.web.jobs import list_jobs
    from handover.workspace import open_workspace

    base, path = console

    def jobs() -> int:
        ws = open_workspace(path)
        try:
            return len(list_jobs(ws))
        finally:
            ws.close()

    before = jobs()
    with httpx2.Client(base_url=base, timeout=120) as http:
        r = http.post("/api/login", json={"name": "wangmin", "password": PASSWORDS["wangmin"]})
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        body = {"source": "seller.db", "smtp_host": "127.0.0.1", "sender": "not an address"}
        r = http.post("/api/notices/1/send", json=body, headers=auth)
        assert r.status_code == 400 and "sender" in r.json()["error"]["message"], r.text
    dpo = Http(base).login("wangmin")
    r = dpo.post("/notices/1/send", body)
    assert r.status_code == 400 and "sender" in error_line(r.text), r.text[:300]
    dpo.close()
    assert jobs() == before
