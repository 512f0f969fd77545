"""SMS answers that do not say whether the messages went out (an HTTP 5xx, an ``isp.*``
code) leave the call's notices in doubt exactly as a lost answer does: journaled, asked
about with QuerySendDetails, never sent twice. A recovery query that gets no answer never
leads to a resend. Refusals made before anything is sent (the provider's flow control,
the gateway's throttling) still retry with backoff. Real servers: the SMS stand-in gives
the error answers, before or after it took the numbers; time is the test's clock."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from handover.flows.notices import create_campaign, record_receipts, send_campaign
from handover.notices.channels import ChannelDown, InDoubt, Message
from handover.notices.outbox import (
    CHINA,
    RECORDS_SETTLE,
    counts,
    next_provider_date,
    provider_date,
)
from handover.notices.sms import AliyunSmsChannel
from handover.notices.standin import Fault
from handover.synth import synthesize
from notices_data import Clock, approve, base, clock, sms_config, sms_provider, ws

__all__ = ["base", "clock", "sms_provider", "ws"]  # fixtures used by name


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("doubt") / "book.db"
    synthesize(str(path), customers=300, seed=22)
    return path


def _campaign(ws: Any, book: Path) -> int:
    camp = create_campaign(
        ws, book, name="d", channels=["sms"], link="https://b.example/n", exclude=["sys_user"]
    )
    approve(ws, camp.id)
    return camp.id


def _run(clock: Clock, **kw: Any) -> dict[str, Any]:
    return {"batch": 100, "rate": 350, "now": clock.now, "sleep": clock.sleep, **kw}


def _resume(ws: Any, cid: int, book: Path, provider: Any, clock: Clock) -> Any:
    """``send --resume`` a minute later (the provider's rate window has moved on)."""
    clock.sleep(60)
    return send_campaign(ws, cid, book, sms=sms_config(provider.url), resume=True, **_run(clock))


def _move_to_china_time(clock: Clock, hour: int, minute: int, second: int) -> None:
    """Move ``clock`` forward to the next instant that is this time of day in China."""
    now = clock.now().astimezone(CHINA)
    at = now.replace(hour=hour, minute=minute, second=second, microsecond=0)
    if at <= now:
        at += dt.timedelta(days=1)
    clock.sleep((at - now).total_seconds())


def _journal(ws: Any, cid: int) -> list[str]:
    path = ws.path / "notices" / f"campaign-{cid}-sms.journal"
    return path.read_text("ascii").splitlines() if path.exists() else []


def _texts(provider: Any) -> Counter[str]:
    """How many SMS the provider sent to each number."""
    return Counter(a["phone"] for a in provider.accepted)


def _in_doubt(ws: Any, cid: int, book: Path, provider: Any, clock: Clock) -> tuple[int, str]:
    """Send until the first call's answer leaves its 100 notices in doubt; (notices of
    the campaign, the journal's intent line)."""
    with pytest.raises(InDoubt) as doubt:
        send_campaign(ws, cid, book, sms=sms_config(provider.url, timeout=2), **_run(clock))
    assert doubt.value.exit_code == 2
    total = 100 + counts(ws, cid)["sms"]["queued"]
    assert counts(ws, cid)["sms"] == {"sending": 100, "queued": total - 100}
    intents = _journal(ws, cid)
    assert len(intents) == 1 and intents[0].startswith("? ")
    assert len(intents[0].split(" ")[3].split(",")) == 100
    return total, intents[0]


# --- 1. a 5xx after the provider sent the messages ----------------------------------------


@pytest.mark.parametrize(
    "fault",
    [Fault(502, None, dispatched=True), Fault(200, "isp.SYSTEM_ERROR", dispatched=True)],
    ids=["502-page", "isp.SYSTEM_ERROR"],
)
def test_an_error_after_the_provider_sent_leaves_the_call_in_doubt_never_texted_twice(
    ws: Any, book: Path, sms_provider: Any, clock: Clock, fault: Fault
) -> None:
    """The provider sends a call's 100 messages, then answers a 502 (a gateway's page)
    or ``isp.SYSTEM_ERROR``: the run stops naming that answer, the 100 stay in doubt with
    the call's intent journaled (not retried: a retry would text them again); the resume
    asks QuerySendDetails, counts the 100 as confirmed and texts nobody twice; the
    receipts of the first call still find their notices."""
    cid = _campaign(ws, book)
    sms_provider.send_faults = [fault]
    with pytest.raises(InDoubt) as doubt:
        send_campaign(ws, cid, book, sms=sms_config(sms_provider.url), **_run(clock))
    assert doubt.value.message is not None
    assert doubt.value.message.key == "notices.sms_maybe_sent"
    said = {lang: doubt.value.render(lang) for lang in ("en", "zh-CN")}
    answer = "HTTP 502" if fault.code is None else f"{fault.code}, HTTP {fault.status}"
    assert all(answer in s and "\n" not in s for s in said.values())
    assert "in doubt" in said["en"] and "待核实" in said["zh-CN"]
    assert len(sms_provider.accepted) == 100  # the provider did send them
    total = 100 + counts(ws, cid)["sms"]["queued"]
    assert counts(ws, cid)["sms"] == {"sending": 100, "queued": total - 100}
    assert len(_journal(ws, cid)) == 1 and _journal(ws, cid)[0].startswith("? ")

    report = _resume(ws, cid, book, sms_provider, clock)
    st = report.channels[0]
    assert st.recovered == 100 and st.in_doubt == 100 and st.retry == 0
    assert report.to_json()["channels"][0]["recovered"] == 100
    assert report.pending == 0 and report.outbox["sms"] == {"sent": total}
    texts = _texts(sms_provider)
    assert len(texts) == total and set(texts.values()) == {1}  # nobody twice
    assert _journal(ws, cid) == []
    got = record_receipts(ws, cid, sms_provider.reports)
    assert got["delivered"] + got["undelivered"] == total and got["unmatched"] == 0


# --- 2. a 5xx before anything was sent ---------------------------------------------------


def test_a_5xx_before_anything_was_sent_is_asked_about_then_sent_once(
    ws: Any, book: Path, sms_provider: Any, clock: Clock
) -> None:
    """A 503 that came before the provider took anything cannot be told from one that
    came after: the call is in doubt just the same; the resume's QuerySendDetails finds
    none of the 100, and they are sent then, once each."""
    _move_to_china_time(clock, 12, 0, 0)  # the resume a minute later is the same day
    cid = _campaign(ws, book)
    sms_provider.send_faults = [Fault(503, "ServiceUnavailable")]
    total, _ = _in_doubt(ws, cid, book, sms_provider, clock)
    assert sms_provider.accepted == [] and sms_provider.queries == 0

    report = _resume(ws, cid, book, sms_provider, clock)
    st = report.channels[0]
    assert st.in_doubt == 100 and st.recovered == 0 and st.retry == 0
    # one QuerySendDetails per number in doubt a minute after the call, and again once
    # the provider's records have settled (RECORDS_SETTLE): none had been taken
    assert sms_provider.queries == 200
    assert st.settle_wait_s == pytest.approx(RECORDS_SETTLE.total_seconds() - 60, abs=2)
    assert report.pending == 0 and report.outbox["sms"] == {"sent": total}
    texts = _texts(sms_provider)
    assert len(texts) == total and set(texts.values()) == {1}
    assert _journal(ws, cid) == []


@pytest.mark.parametrize("lag", [0, 120, 540])
def test_a_provider_that_records_its_sends_late_texts_nobody_twice(
    ws: Any, book: Path, sms_provider: Any, clock: Clock, lag: int
) -> None:
    """The provider took a call's 100 but files its records ``lag`` seconds later, and
    the answer was lost: a resume a minute after the call finds no record yet. It waits
    until RECORDS_SETTLE after the call (journaled with the intent) and asks again, finds
    the 100 then, and texts nobody twice; a resume after that time does not wait."""
    _move_to_china_time(clock, 12, 0, 0)
    cid = _campaign(ws, book)
    sms_provider.record_lag = lag
    sms_provider.send_faults = [Fault(502, None, dispatched=True)]
    # the run's clock in China time: the journal keeps UTC all the same
    china = {**_run(clock), "now": lambda: clock.now().astimezone(CHINA)}
    with pytest.raises(InDoubt):
        send_campaign(ws, cid, book, sms=sms_config(sms_provider.url), **china)
    (line,) = _journal(ws, cid)
    made = dt.datetime.strptime(line.split(" ")[4], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert abs((made - clock.now()).total_seconds()) < 5  # when the call was made
    report = _resume(ws, cid, book, sms_provider, clock)
    st = report.channels[0]
    assert st.recovered == 100 and st.in_doubt == 100
    waited = RECORDS_SETTLE.total_seconds() - 60 if lag else 0
    assert st.settle_wait_s == pytest.approx(waited, abs=2)
    texts = _texts(sms_provider)
    total = report.outbox["sms"]["sent"]
    assert len(texts) == total and set(texts.values()) == {1}  # nobody twice
    assert _journal(ws, cid) == []


def test_a_call_before_midnight_recorded_late_after_it_is_found_after_the_wait(
    ws: Any, book: Path, sms_provider: Any, clock: Clock
) -> None:
    """A call at 23:59:50 China time that the provider files under the next day, two
    minutes late; the resume comes five seconds later, before midnight: nothing under
    the call's day, the next has not come. After the wait the next day has come, and is
    asked about: all 100 found, nobody texted twice."""
    _move_to_china_time(clock, 23, 59, 50)
    after = next_provider_date(provider_date(clock.now()))
    cid = _campaign(ws, book)
    sms_provider.send_faults = [Fault(502, None, dispatched=True)]
    sms_provider.date = lambda: after
    sms_provider.record_lag = 120
    with pytest.raises(InDoubt):
        send_campaign(ws, cid, book, sms=sms_config(sms_provider.url), **_run(clock))
    clock.sleep(5)
    run = send_campaign(ws, cid, book, sms=sms_config(sms_provider.url), resume=True, **_run(clock))
    st = run.channels[0]
    assert st.recovered == 100 and st.settle_wait_s == pytest.approx(595, abs=2)
    assert sms_provider.queries == 300  # the call's day, then after the wait both days
    assert set(_texts(sms_provider).values()) == {1}


@pytest.mark.parametrize("at", ["ahead", "year 9999"])
def test_a_journaled_time_no_run_could_write_never_holds_the_run(
    ws: Any, book: Path, sms_provider: Any, clock: Clock, at: str
) -> None:
    """A call the provider never took (a 503 first), its intent's time rewritten: two
    hours ahead of this clock (another host's), the wait is at most RECORDS_SETTLE; at
    the calendar's end (no time can be added to it), it is asked about at once. Either
    way the 100 are sent once."""
    _move_to_china_time(clock, 12, 0, 0)
    cid = _campaign(ws, book)
    sms_provider.send_faults = [Fault(503, "ServiceUnavailable")]
    _in_doubt(ws, cid, book, sms_provider, clock)
    path = ws.path / "notices" / f"campaign-{cid}-sms.journal"
    (line,) = _journal(ws, cid)
    ahead = (clock.now() + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    when = ahead if at == "ahead" else "9999-12-31T23:59:59Z"
    path.write_text(" ".join([*line.split(" ")[:4], when]) + "\n", "ascii")
    report = _resume(ws, cid, book, sms_provider, clock)
    st = report.channels[0]
    waited = RECORDS_SETTLE.total_seconds() if at == "ahead" else 0
    assert st.settle_wait_s == pytest.approx(waited)
    assert set(_texts(sms_provider).values()) == {1} and report.pending == 0


def test_an_intent_of_an_older_run_without_its_time_is_asked_about_at_once(
    ws: Any, book: Path, sms_provider: Any, clock: Clock
) -> None:
    """A journal written before intents said when their call was made (four fields) is
    still read: its calls are asked about at once, as before."""
    _move_to_china_time(clock, 12, 0, 0)
    cid = _campaign(ws, book)
    sms_provider.send_faults = [Fault(502, None, dispatched=True)]
    with pytest.raises(InDoubt):
        send_campaign(ws, cid, book, sms=sms_config(sms_provider.url), **_run(clock))
    path = ws.path / "notices" / f"campaign-{cid}-sms.journal"
    (line,) = _journal(ws, cid)
    path.write_text(" ".join(line.split(" ")[:4]) + "\n", "ascii")
    report = _resume(ws, cid, book, sms_provider, clock)
    st = report.channels[0]
    assert st.recovered == 100 and st.settle_wait_s == 0
    assert set(_texts(sms_provider).values()) == {1}


def test_a_call_just_before_midnight_filed_under_the_next_day_is_found_there(
    ws: Any, book: Path, sms_provider: Any, clock: Clock
) -> None:
    """A call made at 23:59:59 China time, journaled under that day, which the provider
    made and filed just after midnight, and whose answer was a 502: the resume on the
    next day asks under the intent's day (none found), then under the next (all 100),
    and texts nobody twice."""
    _move_to_china_time(clock, 23, 59, 59)
    day = provider_date(clock.now())
    after = next_provider_date(day)
    assert after is not None and after > day
    cid = _campaign(ws, book)
    sms_provider.send_faults = [Fault(502, None, dispatched=True)]
    sms_provider.date = lambda: after  # the provider made the sends after midnight
    with pytest.raises(InDoubt):
        send_campaign(ws, cid, book, sms=sms_config(sms_provider.url), **_run(clock))
    assert len(sms_provider.accepted) == 100
    (intent,) = _journal(ws, cid)
    assert intent.split(" ")[2] == day
    total = 100 + counts(ws, cid)["sms"]["queued"]

    report = _resume(ws, cid, book, sms_provider, clock)
    st = report.channels[0]
    assert st.in_doubt == 100 and st.recovered == 100 and st.retry == 0
    assert sms_provider.queries == 200  # 100 numbers under each day
    assert report.pending == 0 and report.outbox["sms"] == {"sent": total}
    texts = _texts(sms_provider)
    assert len(texts) == total and set(texts.values()) == {1}  # nobody twice
    assert _journal(ws, cid) == []


def test_the_next_provider_date() -> None:
    assert next_provider_date("20261231") == "20270101"
    assert next_provider_date("20280228") == "20280229"
    for bad in ("", "2026123", "202612311", "20261331", "99991231", "2026-12-3"):
        assert next_provider_date(bad) is None, bad


# --- 3. a recovery query that fails --------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault(500, "InternalError"), "InternalError, HTTP 500"),
        (Fault(200, "isv.BUSINESS_LIMIT_CONTROL"), "isv.BUSINESS_LIMIT_CONTROL, HTTP 200"),
        (Fault(502, None), "HTTP 502"),
        (Fault(200, None), "unreadable answer"),
    ],
    ids=["500", "error-code", "502-page", "unreadable"],
)
def test_a_recovery_query_that_fails_resends_nothing_and_stops_in_doubt(
    ws: Any, book: Path, sms_provider: Any, clock: Clock, fault: Fault, reason: str
) -> None:
    """A call's answer is lost (the provider sent its 100); the resume's QuerySendDetails
    gets a 5xx, an error code or an unreadable answer: the run stops with one line naming
    it, nothing is sent again, the 100 stay in doubt with their intent; once the provider
    answers the query, the next resume confirms them and texts nobody twice."""
    cid = _campaign(ws, book)
    sms_provider.lost_answers = 1
    total, intent = _in_doubt(ws, cid, book, sms_provider, clock)
    assert len(sms_provider.accepted) == 100

    sms_provider.query_faults = [fault]
    with pytest.raises(InDoubt) as stop:
        _resume(ws, cid, book, sms_provider, clock)
    assert stop.value.exit_code == 2 and stop.value.message is not None
    assert stop.value.message.key == "notices.sms_query_failed"
    for lang in ("en", "zh-CN"):
        line = stop.value.render(lang)
        assert "\n" not in line and "127.0.0.1" in line and reason in line
        assert "QuerySendDetails" in line
    assert sms_provider.queries == 1  # stopped at the first query that told nothing
    assert len(sms_provider.accepted) == 100  # nothing sent again
    assert counts(ws, cid)["sms"] == {"sending": 100, "queued": total - 100}
    assert _journal(ws, cid) == [intent]

    report = _resume(ws, cid, book, sms_provider, clock)
    assert report.channels[0].recovered == 100 and report.pending == 0
    texts = _texts(sms_provider)
    assert len(texts) == total and set(texts.values()) == {1}


# --- 4. refusals before anything is sent still retry --------------------------------------


@pytest.mark.parametrize("refusal", ["isv.BUSINESS_LIMIT_CONTROL", "Throttling.Api"])
def test_a_refusal_before_anything_is_sent_retries_with_backoff(
    ws: Any, book: Path, sms_provider: Any, clock: Clock, refusal: str
) -> None:
    """The provider's flow control (``isv.BUSINESS_LIMIT_CONTROL``, its own rate window
    on the test's clock) and the API gateway's throttling refuse a call before anything
    is sent: those notices retry after the backoff (the injected clock moves, nobody
    waits), are never in doubt, never asked about, and each number gets one SMS."""
    cid = _campaign(ws, book)
    if refusal == "isv.BUSINESS_LIMIT_CONTROL":
        sms_provider.per_second = 500  # the sixth call of 100 within a second is refused
    else:
        sms_provider.send_faults = [Fault(400, refusal)]
    report = send_campaign(
        ws, cid, book, sms=sms_config(sms_provider.url), **_run(clock, rate=None)
    )
    st = report.channels[0]
    assert st.retry >= 100 and clock.t >= 30  # came back after the backoff
    assert st.in_doubt == 0 and st.held == 0 and sms_provider.queries == 0
    assert report.pending == 0
    texts = _texts(sms_provider)
    assert report.outbox["sms"] == {"sent": len(texts)} and set(texts.values()) == {1}
    assert _journal(ws, cid) == []


# --- 5. the answers, one by one -----------------------------------------------------------


def _message() -> Message:
    params = {"buyer": "乙方", "phone": "4008001234", "link": "https://b.example/n", "code": "A1"}
    return Message("k" * 32, "13800138000", "", "", params=params)


#: (the stand-in's answer to SendBatchSms, what the channel makes of it)
ANSWERS = [
    (Fault(500, "InternalError"), "doubt"),
    (Fault(502, None), "doubt"),
    (Fault(503, "ServiceUnavailable"), "doubt"),
    (Fault(504, None, dispatched=True), "doubt"),
    (Fault(500, "isv.BUSINESS_LIMIT_CONTROL"), "doubt"),  # a 5xx, whatever its body
    (Fault(200, "isp.SYSTEM_ERROR"), "doubt"),
    (Fault(200, ""), "doubt"),  # taken, no code to say what became of it
    (Fault(200, None), "doubt"),
    (Fault(200, "isv.BUSINESS_LIMIT_CONTROL"), "retry"),
    (Fault(400, "Throttling.User"), "retry"),
    (Fault(400, "Throttling.Api"), "retry"),
    (Fault(200, "isp.RAM_PERMISSION_DENY"), "auth"),
    (Fault(200, "isv.SMS_TEMPLATE_ILLEGAL"), "refused"),
    (Fault(404, None), "refused"),
]


def test_each_answer_is_sent_in_doubt_retried_or_refused(sms_provider: Any) -> None:
    """Every answer that leaves open whether the messages went out (a 5xx whatever its
    body, an ``isp.*`` code, a 2xx without a code) is in doubt, never a retry; a refusal
    before anything is sent retries (flow control, throttling) or stops the run without
    doubt (the account, the template, a 4xx)."""
    channel = AliyunSmsChannel(sms_config(sms_provider.url))
    seen = []
    for fault, _ in ANSWERS:
        sms_provider.send_faults = [fault]
        outcome: str
        try:
            outcome = channel.send_batch([_message()])[0].outcome
        except InDoubt as exc:  # an unreadable answer is in doubt as a lost one is
            assert exc.message is not None
            assert exc.message.key in ("notices.sms_maybe_sent", "notices.sms_in_doubt")
            outcome = "doubt"
        except ChannelDown as exc:
            assert exc.message is not None
            outcome = exc.message.key.removeprefix("notices.sms_")
        seen.append((fault, outcome))
    assert seen == ANSWERS
    assert channel.send_batch([_message()])[0].outcome == "sent"  # the stand-in as usual


def test_a_query_tells_sent_or_not_or_stops(sms_provider: Any, clock: Clock) -> None:
    """QuerySendDetails: a send of the call's OutId is ``sent``, none is ``None`` (may be
    sent again); a query answered with an error, a 5xx or an unreadable answer is in
    doubt (``notices.sms_query_failed``), never ``None``."""
    channel = AliyunSmsChannel(sms_config(sms_provider.url))
    m = _message()
    assert channel.send_batch([m], out_id="c" * 32)[0].outcome == "sent"
    date = provider_date(clock.now())
    found = channel.recover("c" * 32, date, [m])
    assert found[0] is not None and found[0].outcome == "sent"
    assert found[0].provider_id == "c" * 32
    assert channel.recover("d" * 32, date, [m]) == [None]
    for fault in (
        Fault(500, "InternalError"),
        Fault(503, None),
        Fault(200, "isv.BUSINESS_LIMIT_CONTROL"),
        Fault(200, "isp.SYSTEM_ERROR"),
        Fault(400, "InvalidParameter"),
        Fault(200, None),
    ):
        sms_provider.query_faults = [fault]
        with pytest.raises(InDoubt) as doubt:
            channel.recover("d" * 32, date, [m])
        assert doubt.value.message is not None
        assert doubt.value.message.key == "notices.sms_query_failed", fault


def test_a_call_in_doubt_claimed_in_two_batches_is_asked_about_in_both(
    ws: Any, book: Path, sms_provider: Any, clock: Clock
) -> None:
    """A resume with a smaller batch claims half of a call in doubt, then the other half:
    each half is asked about before anything is sent (the intent stays until every one of
    its notices was asked about), so nobody is texted twice (review of helper-70: the
    second half was sent again without a query)."""
    camp = create_campaign(
        ws, book, name="d", channels=["sms"], link="https://b.example/n", exclude=["sys_user"]
    )
    approve(ws, camp.id)
    sms_provider.send_faults = [Fault(502, None, dispatched=True)]
    run = {"now": clock.now, "sleep": clock.sleep, "rate": 350}
    with pytest.raises(InDoubt):
        send_campaign(ws, camp.id, book, sms=sms_config(sms_provider.url), batch=100, **run)  # type: ignore[arg-type]
    assert counts(ws, camp.id)["sms"]["sending"] == 100
    clock.sleep(60)
    report = send_campaign(
        ws,
        camp.id,
        book,
        sms=sms_config(sms_provider.url),
        resume=True,
        batch=50,
        **run,  # type: ignore[arg-type]
    )
    texts = Counter(a["phone"] for a in sms_provider.accepted)
    assert [p for p, n in texts.items() if n > 1] == []
    assert report.channels[0].recovered == 100 and report.pending == 0


def test_a_notice_sent_again_after_half_its_call_was_asked_about_is_journaled_once(
    ws: Any, book: Path, sms_provider: Any, clock: Clock
) -> None:
    """Run 1: a 502 before the provider took anything leaves 100 in doubt (call 1). Run 2
    (``--resume --batch 50``): call 1 is asked about for 50 of them ("not sent"), they go
    out again as call 2, whose 502 comes after the provider took them. The journal then
    maps each notice to one call only (call 1 kept for its 50 not yet asked about, call 2
    for the 50 it carried): the next run asks call 2 about those, and nobody is texted
    twice, whatever the journal's order (review: the old code kept call 1 whole, and
    the order of a set decided which call the re-sent notices were asked about)."""
    camp = create_campaign(
        ws, book, name="d", channels=["sms"], link="https://b.example/n", exclude=["sys_user"]
    )
    approve(ws, camp.id)
    run = {"now": clock.now, "sleep": clock.sleep, "rate": 350}
    sms = sms_config(sms_provider.url)
    sms_provider.send_faults = [Fault(502, None, dispatched=False)]
    with pytest.raises(InDoubt):
        send_campaign(ws, camp.id, book, sms=sms, batch=100, **run)  # type: ignore[arg-type]
    clock.sleep(60)
    sms_provider.send_faults = [Fault(502, None, dispatched=True)]
    with pytest.raises(InDoubt):
        send_campaign(ws, camp.id, book, sms=sms, resume=True, batch=50, **run)  # type: ignore[arg-type]
    journal = ws.path / "notices" / f"campaign-{camp.id}-sms.journal"
    intents = [line.split() for line in journal.read_text().splitlines() if line.startswith("?")]
    keys = [k for parts in intents for k in parts[3].split(",")]
    assert len(intents) == 2 and len(keys) == len(set(keys)) == 100
    clock.sleep(60)
    sms_provider.send_faults = []
    send_campaign(ws, camp.id, book, sms=sms, resume=True, batch=100, **run)  # type: ignore[arg-type]
    texts = Counter(a["phone"] for a in sms_provider.accepted)
    assert [p for p, n in texts.items() if n > 1] == []
