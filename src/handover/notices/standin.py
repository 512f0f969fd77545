"""A local stand-in for Aliyun SMS, for tests and the demo: it checks what the real provider
checks and answers as it does, on 127.0.0.1 only.

- ``SendBatchSms`` requests signed with signature V3 (unknown AccessKey →
  ``InvalidAccessKeyId.NotFound``, bad signature → ``SignatureDoesNotMatch``);
- template rules: a registered ``TemplateCode`` and signature name, every template
  variable given and none other, each value at most 35 characters, the filled text at
  most 500 characters (``isv.SMS_TEMPLATE_ILLEGAL``, ``isv.SMS_SIGNATURE_ILLEGAL``,
  ``isv.TEMPLATE_PARAMS_ILLEGAL``);
- ``QuerySendDetails``: the sends to one number on one date with their ``OutId``, each
  found only ``record_lag`` seconds after it was taken (the provider's records lag);
- numbers: 11-digit mainland mobiles (``isv.MOBILE_NUMBER_ILLEGAL``);
- a rate limit of ``per_second`` accepted numbers (``isv.BUSINESS_LIMIT_CONTROL``);
- answers lost on the way back (``lost_answers``): the next calls are taken (numbers
  accepted, receipts made) and their answer never reaches the client — the connection
  is closed, or with ``hold`` the answer waits until that event is set (the client's
  timeout comes first), as when the provider is slow or the network drops;
- error answers (``send_faults``, ``query_faults``: one :class:`Fault` per call, in order):
  an HTTP status with the provider's error body (or a gateway's page that is no JSON),
  for a ``SendBatchSms`` call either before anything is taken or *after* its numbers were
  taken (``dispatched``: a 5xx that came after the provider sent the messages), and for
  ``QuerySendDetails`` instead of its answer;
- a delivery receipt per accepted number in the ``SmsReport`` shape, delivered or not
  (``fail_every``: every n-th number by a hash of it fails with ``UNDELIV``), kept for
  ``GET /reports`` and pushed to ``callback`` when one is set (replies to
  ``reply_callback``): after the answer, in a thread of its own, with
  ``Authorization: Bearer callback_token``, pushed again (``push_attempts`` times,
  ``push_delay`` apart) while the receiver does not answer ``{"code": 0}`` — as the real
  provider retries a push.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from handover.crypto.digest import sha256_hex
from handover.notices.sms import ALGORITHM, signature, string_to_sign

MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
VAR = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
MAX_PARAM = 35
MAX_TEXT = 500
#: the status of a call taken whose answer is lost (never sent as such)
LOST = -1


@dataclass(frozen=True)
class Fault:
    """An error answer the stand-in gives instead of its own: HTTP ``status`` with the
    provider's JSON error body of ``code`` (None: a body that is no JSON, a gateway's
    error page). With ``dispatched`` a ``SendBatchSms`` call is taken first — numbers
    accepted, receipts made, as the real provider may have done before its 5xx — else
    nothing is taken."""

    status: int
    code: str | None = None
    dispatched: bool = False


def _fill(sign: str, template: str, values: dict[str, Any]) -> str:
    """The SMS as the phone shows it: signature, then the template with its values."""
    return f"【{sign}】" + VAR.sub(lambda m: str(values[m.group(1)]), template)


@dataclass
class SmsStandin:
    """The stand-in provider: its accounts, templates, limits and what it received."""

    keys: dict[str, str]
    templates: dict[str, str]
    sign_names: set[str]
    per_second: int = 50
    fail_every: int = 10
    callback: str | None = None
    reply_callback: str | None = None
    #: the receiver's service account token, sent as ``Authorization: Bearer``
    callback_token: str | None = None
    push_attempts: int = 5
    push_delay: float = 0.2
    #: every push as it ended: ``{"url", "items", "code", "attempts"}``
    pushes: list[dict[str, Any]] = field(default_factory=list)
    #: numbers the provider knows to be invalid (空号) although well-formed
    invalid_numbers: set[str] = field(default_factory=set)
    #: monotonic seconds (the rate window); a test injects its own clock
    clock: Callable[[], float] = time.monotonic
    #: the provider's date of a send (``yyyyMMdd``, China time): QuerySendDetails finds by it
    date: Callable[[], str] = field(
        default=lambda: (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).strftime("%Y%m%d")
    )
    accepted: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    #: SendBatchSms calls answered OK
    calls: int = 0
    #: the next this many SendBatchSms calls are taken, and their answer is lost
    lost_answers: int = 0
    #: a lost answer is held until this is set (the client times out), else the
    #: connection is closed without one
    hold: threading.Event | None = None
    #: the answers of the next SendBatchSms calls, one each in order (then its own again)
    send_faults: list[Fault] = field(default_factory=list)
    #: the answers of the next QuerySendDetails calls, one each in order
    query_faults: list[Fault] = field(default_factory=list)
    #: QuerySendDetails calls received (answered or refused)
    queries: int = 0
    #: seconds (on ``clock``) before a send appears in QuerySendDetails: the provider
    #: files its records some time after it takes a send
    record_lag: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _window: list[float] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _seq: int = 0
    _pushers: list[threading.Thread] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The endpoint to configure in handover."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 (``port`` 0: any free port) in a thread; returns the URL."""
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet: no numbers in logs
                return

            def do_POST(self) -> None:
                if self.path.startswith("/inbound"):
                    status, body = standin.inbound(self)
                else:
                    status, body = standin.handle(self)
                if status == LOST:
                    self.close_connection = True
                    if standin.hold is not None:
                        standin.hold.wait()
                        with contextlib.suppress(OSError):  # the client gave up long ago
                            self._reply(200, body)
                    return
                self._reply(status, body)

            def do_GET(self) -> None:
                if self.path.startswith("/reports"):
                    with standin._lock:
                        self._reply(200, list(standin.reports))
                elif self.path.startswith("/replies"):
                    with standin._lock:
                        self._reply(200, list(standin.replies))
                else:
                    self._reply(404, {"Code": "NotFound"})

            def _reply(self, status: int, body: Any) -> None:
                page = isinstance(body, bytes)  # a gateway's error page, no JSON
                data = body if page else json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                kind = "text/html" if page else "application/json"
                self.send_header("Content-Type", f"{kind};charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _error(self, code: str, status: int = 200) -> tuple[int, dict[str, Any]]:
        return status, {"Code": code, "Message": code, "RequestId": sha256_hex(code.encode())[:16]}

    def _fault(self, faults: list[Fault]) -> Fault | None:
        """The next error answer of ``faults``, taken off the list (None: answer as usual)."""
        with self._lock:
            return faults.pop(0) if faults else None

    def _faulty(self, fault: Fault) -> tuple[int, Any]:
        """The answer ``fault`` gives."""
        if fault.code is None:
            return fault.status, f"<html><body>{fault.status}</body></html>".encode()
        return self._error(fault.code, fault.status)

    def handle(self, req: BaseHTTPRequestHandler) -> tuple[int, Any]:
        """Answer one request as the provider would."""
        url = urllib.parse.urlsplit(req.path)
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        auth = req.headers.get("Authorization") or ""
        m = re.match(
            rf"^{ALGORITHM} Credential=([^,]*),SignedHeaders=([^,]*),Signature=([0-9a-f]+)$", auth
        )
        if m is None or m.group(1) not in self.keys:
            return self._error("InvalidAccessKeyId.NotFound", 404)
        headers = {
            k: req.headers[k] for k in m.group(2).split(";") if req.headers.get(k) is not None
        }
        to_sign, _ = string_to_sign("POST", url.path, params, headers, body)
        if signature(self.keys[m.group(1)], to_sign) != m.group(3):
            return self._error("SignatureDoesNotMatch", 400)
        action = req.headers.get("x-acs-action")
        if action == "QuerySendDetails":
            with self._lock:
                self.queries += 1
            fault = self._fault(self.query_faults)
            return self._details(params) if fault is None else self._faulty(fault)
        if action != "SendBatchSms":
            return self._error("InvalidAction.NotFound", 404)
        fault = self._fault(self.send_faults)
        if fault is None:
            return self._send(params)
        if fault.dispatched:
            self._send(params)  # taken and sent; the answer then is the fault's
        return self._faulty(fault)

    def _details(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """``QuerySendDetails``: the sends to one number on one date (``yyyyMMdd``), paged."""
        phone, date = params.get("PhoneNumber", ""), params.get("SendDate", "")
        size = max(1, min(50, int(params.get("PageSize") or 50)))
        page = max(1, int(params.get("CurrentPage") or 1))
        with self._lock:
            filed = self.clock() - self.record_lag
            sends = [
                a
                for a in self.accepted
                if a["phone"] == phone and a["date"] == date and a["at"] <= filed
            ]
        rows = [
            {
                "PhoneNum": a["phone"],
                "SendStatus": 3,
                "ErrCode": "DELIVERED",
                "TemplateCode": a["template"],
                "Content": a["text"],
                "SendDate": f"{date[:4]}-{date[4:6]}-{date[6:]} 00:00:00",
                "OutId": a["out_id"],
            }
            for a in sends[(page - 1) * size : page * size]
        ]
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "TotalCount": len(sends),
            "SmsSendDetailDTOs": {"SmsSendDetailDTO": rows},
        }

    def _send(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            phones = json.loads(params.get("PhoneNumberJson", ""))
            signs = json.loads(params.get("SignNameJson", ""))
            values = json.loads(params.get("TemplateParamJson", ""))
        except ValueError:
            return self._error("isv.INVALID_JSON_PARAM")
        template = self.templates.get(params.get("TemplateCode", ""))
        if template is None:
            return self._error("isv.SMS_TEMPLATE_ILLEGAL")
        if not (len(phones) == len(signs) == len(values)) or not phones or len(phones) > 100:
            return self._error("isv.INVALID_PARAMETERS")
        names = set(VAR.findall(template))
        for sign, vals in zip(signs, values, strict=True):
            if sign not in self.sign_names:
                return self._error("isv.SMS_SIGNATURE_ILLEGAL")
            if not isinstance(vals, dict) or set(vals) != names:
                return self._error("isv.TEMPLATE_PARAMS_ILLEGAL")
            if any(len(str(v)) > MAX_PARAM or not str(v) for v in vals.values()):
                return self._error("isv.TEMPLATE_PARAMS_ILLEGAL")
            text = _fill(sign, template, vals)
            if len(text) > MAX_TEXT:
                return self._error("isv.TEMPLATE_PARAMS_ILLEGAL")
        if any(not MOBILE.match(str(p)) or p in self.invalid_numbers for p in phones):
            return self._error("isv.MOBILE_NUMBER_ILLEGAL")
        with self._lock:
            now = self.clock()
            self._window = [t for t in self._window if now - t < 1.0]
            if len(self._window) + len(phones) > self.per_second:
                return self._error("isv.BUSINESS_LIMIT_CONTROL")
            self._window.extend([now] * len(phones))
            self._seq += 1
            biz_id = f"{self._seq:09d}^{sha256_hex(str(phones).encode())[:10]}"
            new = []
            for phone, sign, vals in zip(phones, signs, values, strict=True):
                text = _fill(sign, template, vals)
                self.accepted.append(
                    {
                        "phone": phone,
                        "out_id": params.get("OutId"),
                        "biz_id": biz_id,
                        "text": text,
                        "template": params.get("TemplateCode"),
                        "date": self.date(),
                        "at": now,
                    }
                )
                ok = int(sha256_hex(str(phone).encode())[:8], 16) % self.fail_every != 0
                new.append(
                    {
                        "phone_number": phone,
                        "success": ok,
                        "err_code": "DELIVERED" if ok else "UNDELIV",
                        "err_msg": "用户接收成功" if ok else "用户未接收",
                        "sms_size": "1",
                        "biz_id": biz_id,
                        "out_id": params.get("OutId"),
                    }
                )
            self.reports.extend(new)
            self.calls += 1
            lost = self.lost_answers > 0
            self.lost_answers -= lost
        if self.callback:
            self._post(self.callback, new)
        answer = {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": biz_id}
        return (LOST if lost else 200), answer

    def inbound(self, req: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any]]:
        """A person's reply reaching the provider (``SmsUp``)."""
        length = int(req.headers.get("Content-Length") or 0)
        try:
            msg = json.loads(req.rfile.read(length) or b"{}")
            phone, content = str(msg["phone_number"]), str(msg["content"])
        except (ValueError, KeyError, TypeError):
            return self._error("isv.INVALID_PARAMETERS", 400)
        with self._lock:
            self._seq += 1
            up = {
                "phone_number": phone,
                "content": content,
                "send_time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                "sign_name": next(iter(sorted(self.sign_names)), ""),
                "dest_code": "1",
                "sequence_id": self._seq,
            }
            self.replies.append(up)
        if self.reply_callback:
            self._post(self.reply_callback, [up])
        return 200, {"Code": "OK", "Message": "OK"}

    def _post(self, url: str, items: list[dict[str, Any]]) -> None:
        """Push ``items`` to ``url`` after this answer, in a thread of its own."""
        pusher = threading.Thread(target=self._push, args=(url, items), daemon=True)
        with self._lock:
            self._pushers.append(pusher)
        pusher.start()

    def _push(self, url: str, items: list[dict[str, Any]]) -> None:
        data = json.dumps(items, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if self.callback_token:
            headers["Authorization"] = f"Bearer {self.callback_token}"
        code: Any = None
        attempts = 0
        while attempts < self.push_attempts:
            attempts += 1
            req = urllib.request.Request(url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    code = json.loads(resp.read() or b"{}").get("code")
            except (OSError, ValueError) as exc:
                code = getattr(exc, "code", None) or type(exc).__name__
            if code == 0:
                break
            time.sleep(self.push_delay)
        with self._lock:
            self.pushes.append(
                {"url": url, "items": len(items), "code": code, "attempts": attempts}
            )

    def flush(self, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until every push so far has ended (taken or given up); their outcomes."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pushers = list(self._pushers)
            for p in pushers:
                p.join(max(0.0, deadline - time.monotonic()))
            with self._lock:
                if len(self._pushers) == len(pushers):
                    return list(self.pushes)


#: the notice SMS as registered with the provider (its variables are sms.PARAMS)
NOTICE_TEMPLATES = {
    "zh-CN": "您的个人信息将转移至${buyer}(电话${phone}),详情及权利行使见${link} 编号${code}",
    "en": "Your personal information moves to ${buyer} (tel ${phone}). Full notice and your rights: ${link} ref ${code}",
}
#: the consent SMS of a new purpose (same variables)
CONSENT_TEMPLATES = {
    "zh-CN": "${buyer}(电话${phone})拟将您的个人信息用于新的目的,详见${link} 同意请回复Y,不同意请回复N,编号${code}",
    "en": "${buyer} (tel ${phone}) asks your consent to a new purpose: ${link} reply Y to agree, N to refuse, ref ${code}",
}
#: the breach SMS (PIPL Art. 57; variables of sms.PARAMS_OF["breach"])
BREACH_TEMPLATES = {
    "zh-CN": "我司发生可能涉及您个人信息的安全事件,请警惕冒用我司名义的电话和短信,勿透露验证码。详情及可采取的措施见${link},咨询${phone},编号${code}",
    "en": "A security incident may concern your personal information. Beware of calls and texts in our name; never give a verification code. Details and what you can do: ${link} tel ${phone} ref ${code}",
}


class _Counter:
    """aiosmtpd handler of :class:`SmtpSink`: accepts every message, counts it, and with a
    log appends ``recipient<TAB>Message-ID`` per message (tests count on the server side)."""

    def __init__(self, count: Any, log: str | None) -> None:
        self.count = count
        self.log = open(log, "a", encoding="utf-8") if log else None  # noqa: SIM115

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.count.get_lock():
            self.count.value += 1
        if self.log is not None:
            head = bytes(envelope.content).split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
            mid = next(
                (
                    ln.split(":", 1)[1].strip()
                    for ln in head.splitlines()
                    if ln.lower().startswith("message-id:")
                ),
                "-",
            )
            for rcpt in envelope.rcpt_tos:
                self.log.write(f"{rcpt}\t{mid}\n")
        return "250 OK"


def _serve_smtp(port: int, count: Any, ready: Any, stop: Any, log: str | None) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_Counter(count, log), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    handler = controller.handler
    if handler.log is not None:
        handler.log.close()


class SmtpSink:
    """A local SMTP server (aiosmtpd) on 127.0.0.1 that accepts and counts every message:
    the demo's mail server, started and stopped by the demo itself. It runs in a process
    of its own, so sending to it is not slowed by sharing the interpreter with it."""

    def __init__(self, log: Path | None = None) -> None:
        import multiprocessing as mp

        self.log = log
        # fork: the child needs nothing but aiosmtpd, and starts in milliseconds
        fork = "fork" in mp.get_all_start_methods()
        self._mp = mp.get_context("fork") if fork else mp.get_context()
        self._count = self._mp.Value("q", 0)
        self._stop = self._mp.Event()
        self._proc: Any = None
        self.port = 0

    @property
    def received(self) -> int:
        """Messages accepted so far."""
        return int(self._count.value)

    def start(self) -> int:
        """Serve on a free port of 127.0.0.1; returns the port."""
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        ready = self._mp.Event()
        self._proc = self._mp.Process(
            target=_serve_smtp,
            args=(self.port, self._count, ready, self._stop, str(self.log) if self.log else None),
            daemon=True,
        )
        self._proc.start()
        if not ready.wait(30):
            self.stop()
            from handover.notices.channels import ChannelDown

            raise ChannelDown.msg(
                "notices.smtp_down", server=f"127.0.0.1:{self.port}", reason="no start"
            )
        return self.port

    def logged(self) -> list[tuple[str, str]]:
        """(recipient, Message-ID) of every message accepted, when started with a log
        (complete once :meth:`stop` has returned: the server writes it as it goes)."""
        if self.log is None or not self.log.exists():
            return []
        lines = self.log.read_text("utf-8").splitlines()
        return [(a, b) for a, _, b in (ln.partition("\t") for ln in lines)]

    def stop(self) -> None:
        """Stop serving (and the process)."""
        if self._proc is not None:
            self._stop.set()
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.kill()
            self._proc = None
