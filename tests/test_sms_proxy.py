"""SMS notices through an outbound HTTP proxy (the regression: the channel spoke
http.client directly and ignored HTTPS_PROXY / HTTP_PROXY / NO_PROXY).

Real parts throughout: the SMS stand-in, a CONNECT proxy of this module (a threaded
socket server on 127.0.0.1 counting its tunnels and recording Proxy-Authorization), and
for https a TLS front of the stand-in whose certificate a test CA signed (trusted
through ``SSL_CERT_FILE``, which the default TLS context reads). The endpoint is called
``sms.test``: only the proxy knows where that is, so a notice that arrives went through
it. Time is the test's clock."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import select
import socket
import socketserver
import ssl
import threading
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from handover.errors import BadInput
from handover.flows.notices import create_campaign, send_campaign
from handover.notices.channels import ChannelDown, InDoubt
from handover.notices.outbox import counts
from handover.settings import load_settings
from handover.synth import synthesize
from hardening_support import cli
from notices_data import (
    Clock,
    approve,
    base,
    clock,
    copy_ws,
    free_port,
    sms_config,
    sms_provider,
    ws,
)

__all__ = ["base", "clock", "sms_provider", "ws"]  # fixtures used by name

#: the endpoint's name: the client cannot resolve it, the proxy maps it to 127.0.0.1
NAME = "sms.test"
PROXY_VARS = (
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "HANDOVER_SMS_PROXY",
    "REQUEST_METHOD",
)
#: a password with every character a URL must encode
USER, PASSWORD = "proxyuser7", "p@ss:wörd/#1"


# --- the proxy and the TLS front -------------------------------------------------------


def _relay(a: socket.socket, b: socket.socket, idle: float = 10.0) -> None:
    """Copy bytes both ways until one side closes (then close both)."""
    try:
        while True:
            ready = [s for s in (a, b) if isinstance(s, ssl.SSLSocket) and s.pending()]
            if not ready:
                ready, _, _ = select.select([a, b], [], [], idle)
                if not ready:
                    return
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@dataclass
class ConnectProxy:
    """An HTTP CONNECT proxy on 127.0.0.1: ``hosts`` maps names only it can resolve,
    ``auth`` (a ``Proxy-Authorization`` value) is required when set (407 without it)."""

    hosts: dict[str, str] = field(default_factory=lambda: {NAME: "127.0.0.1"})
    auth: str | None = None
    tunnels: int = 0
    targets: list[str] = field(default_factory=list)
    seen_auth: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: _Server | None = None

    def start(self) -> ConnectProxy:
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                head, _, rest = head.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (ln.partition(":") for ln in lines[1:])
                }
                with proxy.lock:
                    proxy.targets.append(target)
                    proxy.seen_auth.append(headers.get("proxy-authorization"))
                if method != "CONNECT":
                    sock.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                    return
                if proxy.auth is not None and headers.get("proxy-authorization") != proxy.auth:
                    sock.sendall(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
                    )
                    return
                host, _, port = target.rpartition(":")
                try:
                    upstream = socket.create_connection(
                        (proxy.hosts.get(host, host), int(port)), timeout=5
                    )
                except (OSError, ValueError):
                    sock.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                    return
                sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                with proxy.lock:
                    proxy.tunnels += 1
                if rest:
                    upstream.sendall(rest)
                _relay(sock, upstream)

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    @property
    def where(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, user: str | None = None, password: str | None = None) -> str:
        """``http://[user:password@]127.0.0.1:port``, the credentials percent-encoded."""
        cred = ""
        if user is not None:
            q = urllib.parse.quote
            cred = f"{q(user, safe='')}:{q(password or '', safe='')}@"
        return f"http://{cred}{self.where}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    p = ConnectProxy().start()
    try:
        yield p
    finally:
        p.stop()


@dataclass
class TlsFront:
    """TLS in front of the plain stand-in: a certificate for ``name`` signed by the test
    CA, the bytes inside relayed to ``upstream``."""

    upstream: int
    cert: Path
    key: Path
    server: _Server | None = None

    def start(self) -> int:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        upstream = self.upstream

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                try:
                    tls = ctx.wrap_socket(self.request, server_side=True)
                except OSError:  # the client refused the certificate
                    return
                _relay(tls, socket.create_connection(("127.0.0.1", upstream), timeout=5))

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return int(self.server.server_address[1])

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def make_ca(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A test CA (its PEM) and a server certificate for ``name`` it signed, with its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def build(subject: str, key: Any, issuer: str, signer: Any, ca: bool) -> Any:
        b = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            b = b.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
        else:
            b = b.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        return b.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build("handover test CA", ca_key, "handover test CA", ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build(name, key, "handover test CA", ca_key, False)
    pem = serialization.Encoding.PEM
    paths = (folder / "ca.pem", folder / "server.pem", folder / "server.key")
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


# --- shared ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own proxy variables play no part."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("proxy") / "book.db"
    synthesize(str(path), customers=300, seed=21)
    return path


def _campaign(ws: Any, book: Path) -> int:
    camp = create_campaign(
        ws, book, name="t", channels=["sms"], link="https://b.example/n", exclude=["sys_user"]
    )
    approve(ws, camp.id)
    return camp.id


def _port(url: str) -> int:
    return int(urllib.parse.urlsplit(url).port or 0)


def _journal(ws: Any, cid: int) -> list[str]:
    path = ws.path / "notices" / f"campaign-{cid}-sms.journal"
    return path.read_text("ascii").splitlines() if path.exists() else []


def _run(clock: Clock) -> dict[str, Any]:
    return dict(batch=100, rate=350, now=clock.now, sleep=clock.sleep)


def _once_each(sms_provider: Any, total: int) -> None:
    """Every number the provider took, taken once, and as many as notices sent."""
    phones = Counter(a["phone"] for a in sms_provider.accepted)
    assert sum(phones.values()) == len(phones) == total


def _dead_url(user: str | None = None, password: str | None = None) -> tuple[str, str]:
    """(URL, host:port) of a proxy that is not there (nothing listens)."""
    port = free_port()
    cred = ""
    if user is not None:
        q = urllib.parse.quote
        cred = f"{q(user, safe='')}:{q(password or '', safe='')}@"
    return f"http://{cred}127.0.0.1:{port}", f"127.0.0.1:{port}"


# --- 1. the proxy of the environment is used ---------------------------------------------


def test_an_http_endpoint_is_reached_through_http_proxy(
    ws: Any,
    book: Path,
    sms_provider: Any,
    proxy: ConnectProxy,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HTTP_PROXY set: every call goes through a CONNECT tunnel of the proxy (the
    endpoint's name resolves nowhere else) and every notice reaches the provider once;
    HTTPS_PROXY (here a dead one) is not the proxy of an http endpoint."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url())
    monkeypatch.setenv("HTTPS_PROXY", _dead_url()[0])
    cid = _campaign(ws, book)
    endpoint = f"http://{NAME}:{_port(sms_provider.url)}/"
    report = send_campaign(ws, cid, book, sms=sms_config(endpoint), **_run(clock))  # type: ignore[arg-type]
    total = report.outbox["sms"]["sent"]
    assert report.pending == 0 and total > 100
    assert proxy.tunnels >= sms_provider.calls > 0
    assert set(proxy.targets) == {f"{NAME}:{_port(sms_provider.url)}"}
    assert proxy.seen_auth == [None] * len(proxy.targets)  # no credentials: none sent
    _once_each(sms_provider, total)


def test_an_https_endpoint_is_reached_through_a_tunnel_with_tls_end_to_end(
    ws: Any,
    book: Path,
    sms_provider: Any,
    proxy: ConnectProxy,
    clock: Clock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HTTPS_PROXY set: the https endpoint is reached through CONNECT, TLS inside the
    tunnel with the endpoint (its certificate, for ``sms.test``, checked against the
    test CA); HTTP_PROXY (a dead one) is not the proxy of an https endpoint."""
    ca, cert, key = make_ca(tmp_path, NAME)
    front = TlsFront(_port(sms_provider.url), cert, key)
    port = front.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        monkeypatch.setenv("HTTPS_PROXY", proxy.url())
        monkeypatch.setenv("HTTP_PROXY", _dead_url()[0])
        cid = _campaign(ws, book)
        endpoint = f"https://{NAME}:{port}/"
        report = send_campaign(ws, cid, book, sms=sms_config(endpoint), **_run(clock))  # type: ignore[arg-type]
    finally:
        front.stop()
    total = report.outbox["sms"]["sent"]
    assert report.pending == 0 and total > 100
    assert proxy.tunnels >= sms_provider.calls > 0
    assert set(proxy.targets) == {f"{NAME}:{port}"}
    _once_each(sms_provider, total)


def test_an_endpoint_certificate_for_another_name_stops_the_run_through_the_proxy(
    ws: Any,
    book: Path,
    sms_provider: Any,
    proxy: ConnectProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The certificate is checked against the endpoint's name, not the proxy's: one
    for another name fails the handshake inside the tunnel, before the request — the
    run stops naming the proxy, nothing in doubt, nothing sent."""
    ca, cert, key = make_ca(tmp_path, "elsewhere.test")
    front = TlsFront(_port(sms_provider.url), cert, key)
    port = front.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        monkeypatch.setenv("HTTPS_PROXY", proxy.url())
        cid = _campaign(ws, book)
        with pytest.raises(ChannelDown) as down:
            send_campaign(ws, cid, book, sms=sms_config(f"https://{NAME}:{port}/"))
    finally:
        front.stop()
    assert not isinstance(down.value, InDoubt)
    text = str(down.value)
    assert f"through the proxy {proxy.where}" in text and "(SSLCertVerificationError)" in text
    assert proxy.tunnels == 1 and sms_provider.accepted == []
    total = counts(ws, cid)["sms"]["queued"]
    assert counts(ws, cid)["sms"] == {"queued": total} and _journal(ws, cid) == []


# --- 2. NO_PROXY --------------------------------------------------------------------------


def test_no_proxy_covering_the_endpoint_bypasses_the_proxy(
    ws: Any,
    book: Path,
    sms_provider: Any,
    proxy: ConnectProxy,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """NO_PROXY names the endpoint's domain: the channel connects directly (and cannot
    find ``sms.test``: the run stops naming the provider, the proxy saw nothing); NO_PROXY
    naming other hosts: the same send goes through the proxy. An endpoint on this
    machine is never proxied (no proxy can reach it)."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url())
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,.test")
    endpoint = f"http://{NAME}:{_port(sms_provider.url)}/"
    cid = _campaign(ws, book)
    with pytest.raises(ChannelDown, match="cannot reach the SMS provider") as down:
        send_campaign(ws, cid, book, sms=sms_config(endpoint), **_run(clock))  # type: ignore[arg-type]
    assert "proxy" not in str(down.value) and f"{NAME}:" in str(down.value)
    assert proxy.targets == [] and sms_provider.accepted == []

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,.internal")
    report = send_campaign(ws, cid, book, sms=sms_config(endpoint), resume=True, **_run(clock))  # type: ignore[arg-type]
    assert report.pending == 0 and proxy.tunnels > 0
    _once_each(sms_provider, report.outbox["sms"]["sent"])

    s = ws.settings
    assert s.sms_proxy_for("http://localhost:8080/") is None
    assert s.sms_proxy_for("http://127.0.0.2:8080/") is None
    assert s.sms_proxy_for("http://[::1]:8080/") is None
    assert s.sms_proxy_for("http://sms.internal/") is None
    assert s.sms_proxy_for("https://dysmsapi.aliyuncs.com/") is None  # no HTTPS_PROXY
    got = s.sms_proxy_for("http://dysmsapi.aliyuncs.com/")
    assert got is not None and got.where == proxy.where


# --- 3. a proxy that cannot be used -------------------------------------------------------


@pytest.mark.parametrize("how", ["dead", "407", "502"])
def test_a_proxy_that_cannot_be_used_stops_the_run_naming_it_and_sends_nothing(
    ws: Any,
    book: Path,
    sms_provider: Any,
    proxy: ConnectProxy,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """Nothing listening at the proxy, the proxy refusing the credentials (407), or
    unable to reach the endpoint (502): the run stops with one line naming the proxy's
    host:port and the reason, never its credentials; nothing went out, so no notice is
    in doubt: all stay queued, no intent journaled, the provider got nothing."""
    endpoint = f"http://{NAME}:{_port(sms_provider.url)}/"
    if how == "dead":
        url, where = _dead_url(USER, PASSWORD)
        reason = "ConnectionRefusedError"
    else:
        url, where = proxy.url(USER, PASSWORD), proxy.where
        if how == "407":
            proxy.auth = basic(USER, "another")
            reason = "407 Proxy Authentication Required"
        else:  # the proxy finds nothing listening at the endpoint
            endpoint = f"http://{NAME}:{free_port()}/"
            reason = "502 Bad Gateway"
    monkeypatch.setenv("HTTP_PROXY", url)
    cid = _campaign(ws, book)
    with pytest.raises(ChannelDown) as down:
        send_campaign(ws, cid, book, sms=sms_config(endpoint))
    assert not isinstance(down.value, InDoubt)
    text = str(down.value)
    assert f"through the proxy {where} ({reason})" in text and "\n" not in text
    assert PASSWORD not in text and urllib.parse.quote(PASSWORD, safe="") not in text
    assert USER not in text
    zh = down.value.render("zh-CN")
    assert f"经代理 {where} 连接短信服务商" in zh and PASSWORD not in zh
    if how == "407":
        assert proxy.seen_auth == [basic(USER, PASSWORD)] and proxy.tunnels == 0
    total = counts(ws, cid)["sms"]["queued"]
    assert counts(ws, cid)["sms"] == {"queued": total} and _journal(ws, cid) == []
    assert sms_provider.accepted == []


def test_proxy_credentials_go_to_the_proxy_only_and_are_kept_nowhere(
    ws: Any,
    book: Path,
    sms_provider: Any,
    proxy: ConnectProxy,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A proxy asking for credentials gets them as ``Proxy-Authorization: Basic`` (the
    URL's percent-encoding undone) on every CONNECT, and the send goes through; no file
    of the workspace (the store with the ledger, the journal) holds them in any form."""
    proxy.auth = basic(USER, PASSWORD)
    monkeypatch.setenv("HTTP_PROXY", proxy.url(USER, PASSWORD))
    cid = _campaign(ws, book)
    endpoint = f"http://{NAME}:{_port(sms_provider.url)}/"
    report = send_campaign(ws, cid, book, sms=sms_config(endpoint), **_run(clock))  # type: ignore[arg-type]
    assert report.pending == 0 and proxy.tunnels > 0
    assert set(proxy.seen_auth) == {basic(USER, PASSWORD)}
    _once_each(sms_provider, report.outbox["sms"]["sent"])
    forms = [
        PASSWORD.encode(),
        urllib.parse.quote(PASSWORD, safe="").encode(),
        basic(USER, PASSWORD).split()[1].encode(),
    ]
    ws.close()
    kept = [p.name for p in ws.path.rglob("*") if p.is_file() for f in forms if f in p.read_bytes()]
    assert kept == []
    assert not any(f.decode() in str(report.to_json()) for f in forms)


# --- 4. in doubt through the proxy --------------------------------------------------------


def test_an_answer_lost_through_the_proxy_stays_in_doubt_and_is_recovered_through_it(
    ws: Any,
    book: Path,
    sms_provider: Any,
    proxy: ConnectProxy,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The provider takes a call whose answer is lost inside the tunnel: the call's 100
    notices stay in doubt (the error names the proxy); a resume while the proxy is down
    stops before anything went out and keeps them in doubt (never given back to the
    queue); a resume through the proxy asks QuerySendDetails through it, settles the 100
    as sent and texts nobody twice."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url())
    endpoint = f"http://{NAME}:{_port(sms_provider.url)}/"
    cid = _campaign(ws, book)
    sms_provider.lost_answers = 1
    with pytest.raises(InDoubt, match="no answer came back") as doubt:
        send_campaign(ws, cid, book, sms=sms_config(endpoint, timeout=2), **_run(clock))  # type: ignore[arg-type]
    assert f"through the proxy {proxy.where}" in str(doubt.value)
    assert len(sms_provider.accepted) == 100
    total = 100 + counts(ws, cid)["sms"]["queued"]
    assert counts(ws, cid)["sms"] == {"sending": 100, "queued": total - 100}
    intents = _journal(ws, cid)
    assert len(intents) == 1 and intents[0].startswith("? ")

    dead, where = _dead_url()
    monkeypatch.setenv("HTTP_PROXY", dead)
    with pytest.raises(ChannelDown, match=f"through the proxy {where}") as down:
        send_campaign(ws, cid, book, sms=sms_config(endpoint), resume=True, **_run(clock))  # type: ignore[arg-type]
    assert not isinstance(down.value, InDoubt)
    assert counts(ws, cid)["sms"] == {"sending": 100, "queued": total - 100}
    assert _journal(ws, cid) == intents

    monkeypatch.setenv("HTTP_PROXY", proxy.url())
    before = proxy.tunnels
    report = send_campaign(ws, cid, book, sms=sms_config(endpoint), resume=True, **_run(clock))  # type: ignore[arg-type]
    st = report.channels[0]
    assert st.recovered == 100 and st.in_doubt == 100 and report.pending == 0
    assert proxy.tunnels - before >= 100  # QuerySendDetails per number, then the rest
    _once_each(sms_provider, total)
    assert report.outbox["sms"]["sent"] == total and _journal(ws, cid) == []


# --- 5. the sms_proxy setting and bad proxies ---------------------------------------------


def test_the_sms_proxy_setting_is_used_and_checked_when_loaded(
    tmp_path: Path,
    base: Path,
    book: Path,
    sms_provider: Any,
    proxy: ConnectProxy,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``sms_proxy`` (here ``HANDOVER_SMS_PROXY``) sends through the proxy it names with
    no proxy in the environment, whatever NO_PROXY says; a value that is no http proxy
    URL is refused when the settings load, one line naming ``sms_proxy``, never the
    value."""
    monkeypatch.setenv("HANDOVER_SMS_PROXY", proxy.url(USER, PASSWORD))
    monkeypatch.setenv("NO_PROXY", ".test")
    w = copy_ws(base, tmp_path / "ws")
    try:
        cid = _campaign(w, book)
        endpoint = f"http://{NAME}:{_port(sms_provider.url)}/"
        report = send_campaign(w, cid, book, sms=sms_config(endpoint), **_run(clock))  # type: ignore[arg-type]
    finally:
        w.close()
    assert report.pending == 0 and proxy.tunnels > 0
    assert set(proxy.seen_auth) == {basic(USER, PASSWORD)}
    _once_each(sms_provider, report.outbox["sms"]["sent"])

    for bad in (
        f"socks5://{USER}:pw-{PASSWORD}@127.0.0.1:1080",
        f"https://{USER}:pw-{PASSWORD}@proxy.example:3128",
        f"http://{USER}:pw-{PASSWORD}@proxy.example:99999",
        f"http://{USER}:pw-{PASSWORD}@proxy.example:3128/proxy.pac",
        # full-width punctuation a Chinese input method types: urllib's own error would
        # quote the whole netloc, password included
        f"http://{USER}:pw-{PASSWORD}：2026@10.1.2.3:3128",
    ):
        monkeypatch.setenv("HANDOVER_SMS_PROXY", bad)
        with pytest.raises(BadInput) as refused:
            load_settings(tmp_path / "ws")
        text = str(refused.value)
        assert "sms_proxy" in text and "\n" not in text
        assert PASSWORD not in text and "pw-" not in text and USER not in text


def test_the_cli_names_the_proxy_in_one_line(
    ws: Any, book: Path, sms_provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the CLI: a dead proxy is one line (zh-CN by default, en on request)
    naming it without its credentials, exit 2, no traceback; an environment proxy that
    is no http proxy URL is one line naming the variable, never the value."""
    cid = _campaign(ws, book)
    endpoint = f"http://{NAME}:{_port(sms_provider.url)}/"
    args = ("notices", "send", str(cid), str(book), "--sms-endpoint", endpoint)
    args += ("--sms-key-id", "LTAItest", "--sms-sign", "x", "--sms-template", "SMS_1")
    url, where = _dead_url(USER, PASSWORD)
    monkeypatch.setenv("HTTP_PROXY", url)
    for lang, said in (("en", f"through the proxy {where}"), (None, f"经代理 {where}")):
        res = cli(ws.path, *args, *(("--resume",) if lang is None else ()), lang=lang)
        assert res.code == 2 and said in res.line, (res.code, res.err)
        assert PASSWORD not in res.err + res.out and USER not in res.err + res.out

    monkeypatch.setenv("HTTP_PROXY", f"socks5://{USER}:pw-{PASSWORD}@127.0.0.1:1080")
    res = cli(ws.path, *args, "--resume")
    assert res.code == 2 and "http_proxy / HTTP_PROXY" in res.line, (res.code, res.err)
    assert "pw-" not in res.err + res.out and USER not in res.err + res.out
    total = counts(ws, cid)["sms"]["queued"]
    assert counts(ws, cid)["sms"] == {"queued": total} and sms_provider.accepted == []


def test_an_ipv6_endpoint_through_a_proxy_is_refused_naming_it(
    tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """http.client would write an IPv6 endpoint unbracketed in its CONNECT line, so such
    an endpoint through a proxy is refused in one line naming it (directly, it is
    reached as before)."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    w = copy_ws(base, tmp_path / "ws")
    settings = w.settings
    w.close()
    with pytest.raises(BadInput) as refused:
        settings.sms_proxy_for("https://[2001:db8::1]:8443/")
    assert "[2001:db8::1]" in str(refused.value) and "\n" not in str(refused.value)
    monkeypatch.setenv("NO_PROXY", "*")
    assert settings.sms_proxy_for("https://[2001:db8::1]:8443/") is None


def test_an_environment_proxy_that_is_no_http_proxy_is_named_in_both_languages(
    tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reason a proxy variable is refused reads in the reader's language (it was an
    English fragment inside the zh-CN line), naming the variable, never the value."""
    monkeypatch.setenv("HTTPS_PROXY", f"socks5://{USER}:{PASSWORD}@proxy.example:1080")
    w = copy_ws(base, tmp_path / "ws")
    settings = w.settings
    w.close()
    with pytest.raises(BadInput) as refused:
        settings.sms_proxy_for("https://dysmsapi.aliyuncs.com/")
    zh, en = refused.value.render("zh-CN"), refused.value.render("en")
    assert (
        "HTTPS_PROXY" in zh and "不支持 https:// 和 SOCKS 代理" in zh and "not supported" not in zh
    )
    assert "socks proxies are not supported" in en
    assert all(PASSWORD not in x and USER not in x for x in (zh, en))
