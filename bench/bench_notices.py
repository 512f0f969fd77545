"""Notices: queueing and rendering a campaign's notices, and sending e-mail, against peers.

1. A campaign to the customers of a synthetic book (``cust_info``: one person per
   customer; e-mail and SMS): handover derives the audience from the SQLite book
   (normalise, validate, dedupe, keyed tokens), queues every notice in the outbox
   (idempotency keys, address tokens, one transaction) and renders every notice of it
   (Jinja2 templates, e-mail text + HTML, SMS). Peer: one ``executemany`` of the same outbox
   rows (already built, untimed) into an empty copy of the outbox table.
2. Sending: handover's outbox sends M e-mails to a local SMTP server (aiosmtpd in a process
   of its own) — claim, compose, submit, journal, settle, ledger event per batch. Peer:
   ``smtplib`` sending the same rendered messages in a loop over one connection.

Everything of handover runs in a child process, so its peak RSS is its own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, sqlite3, sys, time, smtplib
from pathlib import Path
from email.message import EmailMessage
from email.utils import formatdate

from handover.crypto.tokenize import tokenizer_process
from handover.deid.extract import token_key
from handover.flows.notices import approve_campaign, create_campaign
from handover.flows.scan import run_scan
from handover.flows.workspace import init_workspace
from handover.ledger import Recorder
from handover.notices.audience import PeopleTable, derive_audience
from handover.notices.campaign import Composer, load_campaign
from handover.notices.channels import SmtpChannel, SmtpConfig, make_msgid_for
from handover.notices.outbox import Claimed, Journal, queue, send_channel
from handover.notices.standin import SmtpSink
from handover.sources import open_source
from handover.synth import synthesize

root, customers, mails = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
book = root / "book.db"
synthesize(str(book), customers=customers, seed=2026)
ws = init_workspace(root / "ws", demo=True)
run_scan(ws, book)
camp = create_campaign(ws, book, name="bench", channels=["email", "sms"], tables=["cust_info"],
                       link="https://b.cn/n")
for a in ("zhoujie", "liqiang"):
    approve_campaign(ws, camp.id, actor=a)
camp = load_campaign(ws, camp.id)
people = [PeopleTable(**{**p, "key": tuple(p["key"])}) for p in camp.people]
events = Recorder(ws, "bench")
key_id = token_key(ws, events)
out = {"customers": customers}

# as `notices send` does: the HMACs in the tokens' worker process, beside the reading
with tokenizer_process(ws, key_id) as tagger:
    t0 = time.perf_counter()
    with open_source(book) as src:
        audience = derive_audience(src, people, tagger)
    t1 = time.perf_counter()
    queued = queue(ws, camp.id, audience, tagger=tagger)
    t2 = time.perf_counter()
composer = Composer(camp, audience)
conn = sqlite3.connect(ws.path / "handover.db")
rows = conn.execute(
    "SELECT id, key, recipient, channel FROM notice_outbox WHERE campaign_id = ? ORDER BY id",
    (camp.id,),
).fetchall()
t3 = time.perf_counter()
rendered = 0
for rid, key, rcpt, ch in rows:
    composer.compose(ch, Claimed(rid, key, rcpt, 1, False))
    rendered += 1
t4 = time.perf_counter()
out.update(recipients=len(audience), queued=queued, rows=len(rows), rendered=rendered,
           derive_s=t1 - t0, queue_s=t2 - t1, render_s=t4 - t3)

# peer: executemany of the same outbox rows into an empty copy of the table
full = conn.execute(
    "SELECT campaign_id, key, recipient, channel, state, attempts, address_tag "
    "FROM notice_outbox WHERE campaign_id = ? ORDER BY id", (camp.id,)
).fetchall()
(ddl,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'notice_outbox'").fetchone()
conn.close()
peer = sqlite3.connect(root / "peer.db", isolation_level=None)
peer.execute("CREATE TABLE notice_campaigns (id INTEGER PRIMARY KEY)")
peer.execute("INSERT INTO notice_campaigns VALUES (?)", (camp.id,))
peer.execute(ddl)
for (idx,) in sqlite3.connect(ws.path / "handover.db").execute(
    "SELECT sql FROM sqlite_master WHERE tbl_name = 'notice_outbox' AND type = 'index' AND sql IS NOT NULL"
):
    peer.execute(idx)
t5 = time.perf_counter()
peer.execute("BEGIN")
peer.executemany(
    "INSERT INTO notice_outbox (campaign_id, key, recipient, channel, state, attempts, address_tag) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)", full)
peer.execute("COMMIT")
out["peer_insert_s"] = time.perf_counter() - t5
peer.close()

# sending: the first `mails` e-mails through the outbox, then smtplib with the same messages
conn = sqlite3.connect(ws.path / "handover.db")
conn.execute(
    "UPDATE notice_outbox SET state = 'cancelled' WHERE campaign_id = ? AND (channel != 'email' "
    "OR id NOT IN (SELECT id FROM notice_outbox WHERE campaign_id = ? AND channel = 'email' "
    "ORDER BY id LIMIT ?))", (camp.id, camp.id, mails))
conn.commit()
picked = conn.execute(
    "SELECT id, key, recipient FROM notice_outbox WHERE campaign_id = ? AND state = 'queued' ORDER BY id",
    (camp.id,)).fetchall()
conn.close()
messages = [composer.compose("email", Claimed(i, k, r, 1, False)) for i, k, r in picked]
sink = SmtpSink()
port = sink.start()
try:
    cfg = SmtpConfig("127.0.0.1", port, "dpo@seller.example.cn", security="none")
    journal = Journal(ws.path / "notices" / "bench.journal")
    t6 = time.perf_counter()
    stats = send_channel(ws, camp.id, SmtpChannel(cfg), lambda c: composer.compose("email", c),
                         journal=journal, events=events, batch=200)
    out["send_s"] = time.perf_counter() - t6
    out["sent"] = stats.sent
    t7 = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", port)
    for m in messages:
        msg = EmailMessage()
        msg["From"] = cfg.sender
        msg["To"] = m.address
        msg["Subject"] = m.subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid_for(m.key)
        msg.set_content(m.text)
        msg.add_alternative(m.html, subtype="html")
        smtp.send_message(msg)
    smtp.quit()
    out["peer_send_s"] = time.perf_counter() - t7
    out["server_received"] = sink.received
finally:
    sink.stop()
ws.close()
print(json.dumps(out))
"""


def run(quick: bool) -> str:
    """A campaign to 1,000,000 customers (quick: 20,000) and 20,000 e-mails (quick: 2,000)."""
    customers = 20_000 if quick else 1_000_000
    mails = 2_000 if quick else 20_000
    return measure(customers, mails, "--quick" if quick else "")


def measure(customers: int, mails: int, flag: str = "") -> str:
    """Run the child on ``customers`` and ``mails``; the markdown section."""
    with tempfile.TemporaryDirectory(prefix="bench-notices-") as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, tmp, str(customers), str(mails)],
            check=True,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["sent"] == mails == r["server_received"] - mails
    handover_s = r["derive_s"] + r["queue_s"] + r["render_s"]
    lines = [
        "## notices — queue and render a campaign; send e-mail",
        "",
        f"`.venv/bin/python -m bench --only notices{(' ' + flag) if flag else ''}` — "
        f"{customers:,} customers (`cust_info` of a synthetic book), {r['recipients']:,} "
        f"recipients, {r['rows']:,} notices (e-mail {r['queued'].get('email', 0):,}, SMS "
        f"{r['queued'].get('sms', 0):,}); {mails:,} e-mails sent to aiosmtpd on 127.0.0.1 "
        f"(its own process). Child process wall {wall:.0f} s (synth and scan included).",
        "",
        "| what | seconds | rows/s | ratio |",
        "|---|---:|---:|---:|",
        f"| handover: derive the audience from the book | {r['derive_s']:.1f} "
        f"| {customers / r['derive_s']:,.0f} | |",
        f"| handover: queue every notice (one transaction) | {r['queue_s']:.1f} "
        f"| {r['rows'] / r['queue_s']:,.0f} | |",
        f"| handover: render every notice (e-mail text+HTML, SMS) | {r['render_s']:.1f} "
        f"| {r['rendered'] / r['render_s']:,.0f} | |",
        f"| **handover total** | **{handover_s:.1f}** | {r['rows'] / handover_s:,.0f} | 1.00 |",
        f"| peer: executemany of the same outbox rows | {r['peer_insert_s']:.1f} "
        f"| {r['rows'] / r['peer_insert_s']:,.0f} | {handover_s / r['peer_insert_s']:.1f}× faster |",
        f"| handover: send {mails:,} e-mails through the outbox | {r['send_s']:.1f} "
        f"| {mails / r['send_s']:,.0f} msg/s | 1.00 |",
        f"| peer: smtplib sending the same messages in a loop | {r['peer_send_s']:.1f} "
        f"| {mails / r['peer_send_s']:,.0f} msg/s | {r['send_s'] / r['peer_send_s']:.2f}× faster |",
        "",
        f"Peak RSS of the handover process: {peak_mb:,.0f} MB (ru_maxrss of the child, the "
        "synthetic book's generation included).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(measure(int(sys.argv[1]), int(sys.argv[2])))
