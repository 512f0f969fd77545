"""SMS through Aliyun SMS (dysmsapi, version 2017-05-25): ``SendBatchSms`` signed with
Aliyun's signature V3 (ACS3-HMAC-SHA256), delivery receipts in the ``SmsReport`` shape.

Up to :data:`BATCH_MAX` numbers go in one call: the documented limit of
``SendBatchSms`` ("单次调用最多支持 100 个手机号" / "a maximum of 100 phone numbers in a
single call", https://help.aliyun.com/document_detail/102364.htm). ``OutId`` is one per
call (the digest of the call's idempotency keys); the receipt names the call by its
``biz_id`` and the number, which is how the outbox finds the row (by the number's keyed
token). The SMS text is the provider-registered template (``TemplateCode``) filled with
``TemplateParamJson``; the seller's name is the signature (``SignNameJson``).
A call refused for one number (``isv.MOBILE_NUMBER_ILLEGAL`` names none) is split into
one call per number, so only the bad number fails.

``SendBatchSms`` is not idempotent, so a call is made again only on an answer saying that
nothing went out: an ``isv.*`` code (the request refused when it is checked, before any
dispatch; flow control then retries with backoff) or the API gateway's refusal. An HTTP
5xx, an ``isp.*`` code (the provider's own failure, which can follow the dispatch) or a
taken call whose outcome cannot be read leaves the call in doubt as a lost answer does:
the outbox keeps its intent and the next run asks ``QuerySendDetails`` first; a query
that gets no readable answer keeps it in doubt, it never sends again.

Through an outbound proxy (:attr:`AliyunSmsConfig.proxy`) every call opens an HTTP
CONNECT tunnel to the endpoint, for an ``http://`` endpoint too: TLS and the certificate
check against the endpoint's name stay end to end, and the proxy never answers in the
provider's place (a forwarding proxy's 502/504 after it passed the request on could not
be told from a call the provider never saw).
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import secrets
import ssl
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from handover.crypto.digest import sha256_hex
from handover.crypto.suites import hmac_digest
from handover.notices.channels import Accepted, ChannelDown, InDoubt, Message, Result
from handover.settings import Proxy

API_VERSION = "2017-05-25"
ALGORITHM = "ACS3-HMAC-SHA256"
#: provider codes meaning "this number": the notice fails and falls back
NUMBER_CODES = frozenset({"isv.MOBILE_NUMBER_ILLEGAL", "isv.BLACK_KEY_CONTROL_LIMIT"})
#: provider codes meaning "not now", given when the call is refused before anything is
#: sent (the SMS service's flow control, the API gateway's throttling): retried with backoff
RETRY_CODES = frozenset(
    {"isv.BUSINESS_LIMIT_CONTROL", "Throttling", "Throttling.User", "Throttling.Api"}
)
#: provider codes refusing the account (the permission check comes before the action): stop
AUTH_CODES = frozenset(
    {
        "InvalidAccessKeyId.NotFound",
        "SignatureDoesNotMatch",
        "Forbidden.RAM",
        "isp.RAM_PERMISSION_DENY",
    }
)
#: what each template parameter of the notice SMS is filled from
PARAMS = {"buyer": "buyer_name", "phone": "buyer_phone", "link": "link", "code": "reference"}
#: the same per campaign kind: a breach SMS (PIPL Art. 57) gives the handler's own number
PARAMS_OF: dict[str, dict[str, str]] = {
    "notice": PARAMS,
    "consent": PARAMS,
    "breach": {"phone": "seller_phone", "link": "link", "code": "reference"},
}
#: numbers per SendBatchSms call (Aliyun's documented maximum)
BATCH_MAX = 100


def _enc(text: str) -> str:
    return urllib.parse.quote(text, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    """Parameters sorted by name, RFC 3986 encoded (V3 canonical query string)."""
    return "&".join(f"{_enc(k)}={_enc(v)}" for k, v in sorted(params.items()))


def string_to_sign(
    method: str, path: str, params: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> tuple[str, str]:
    """(string to sign, signed header names) of a request, as Aliyun signature V3 defines
    them: the canonical request's SHA-256 behind the algorithm name."""
    signed = sorted(
        k.lower()
        for k in headers
        if k.lower().startswith("x-acs-") or k.lower() in ("host", "content-type")
    )
    low = {k.lower(): v.strip() for k, v in headers.items()}
    canonical_headers = "".join(f"{k}:{low[k]}\n" for k in signed)
    names = ";".join(signed)
    request = "\n".join(
        [method, path or "/", canonical_query(params), canonical_headers, names, sha256_hex(body)]
    )
    return f"{ALGORITHM}\n{sha256_hex(request.encode())}", names


def signature(secret: str, to_sign: str) -> str:
    """Hex HMAC-SHA256 of the string to sign under the AccessKey secret."""
    return hmac_digest(secret.encode(), to_sign.encode(), "sha256").hex()


@dataclass(frozen=True)
class AliyunSmsConfig:
    """Where and as whom to send. The AccessKey secret comes from the environment
    (``HANDOVER_SMS_SECRET``), never from the command line."""

    endpoint: str  # e.g. https://dysmsapi.aliyuncs.com/ or the local stand-in
    access_key_id: str
    access_key_secret: str = field(repr=False)
    sign_name: str
    template_code: str
    timeout: float = 30.0
    #: the outbound proxy the calls go through (``Settings.sms_proxy_for``); None: directly
    proxy: Proxy | None = field(default=None, repr=False)


class AliyunSmsChannel:
    """The notice SMS through ``SendBatchSms``."""

    name = "sms"
    batch_size = BATCH_MAX

    def __init__(self, config: AliyunSmsConfig) -> None:
        self.config = config
        url = urllib.parse.urlsplit(config.endpoint)
        self._host = url.netloc
        self._path = url.path or "/"
        self._scheme = url.scheme.lower()
        self._target = (url.hostname or "", url.port or (443 if self._scheme == "https" else 80))

    def _where(self) -> str:
        return self._host

    def _down(self, exc: BaseException) -> ChannelDown:
        """The provider cannot be reached (nothing went out): directly, or through the
        proxy (refused, unreachable, the tunnel refused, TLS with the endpoint failed)."""
        proxy = self.config.proxy
        if proxy is None:
            return ChannelDown.msg(
                "notices.sms_down", server=self._where(), reason=type(exc).__name__
            )
        # the proxy's answer to CONNECT (http.client: "Tunnel connection failed: 407 …")
        said = str(exc).partition("Tunnel connection failed:")[2].strip()
        reason = "".join(c for c in said if c.isprintable())[:80] or type(exc).__name__
        return ChannelDown.msg(
            "notices.sms_proxy_down", server=self._where(), proxy=proxy.where, reason=reason
        )

    def _in_doubt(self, reason: str) -> InDoubt:
        proxy = self.config.proxy
        if proxy is None:
            return InDoubt.msg("notices.sms_in_doubt", server=self._where(), reason=reason)
        return InDoubt.msg(
            "notices.sms_proxy_in_doubt", server=self._where(), proxy=proxy.where, reason=reason
        )

    def call(
        self,
        action: str,
        params: dict[str, str],
        *,
        lost: Callable[[str], InDoubt] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """One signed RPC call; (HTTP status, JSON body). :class:`ChannelDown` when the
        provider cannot be reached (nothing went out); :class:`InDoubt` (``lost`` of the
        reason, when given) when the request went out and no readable answer came back
        (the provider may have acted on it)."""
        lost = lost or self._in_doubt
        body = b""
        headers = {
            "host": self._host,
            "x-acs-action": action,
            "x-acs-version": API_VERSION,
            "x-acs-date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": secrets.token_hex(16),
            "x-acs-content-sha256": sha256_hex(body),
        }
        to_sign, names = string_to_sign("POST", self._path, params, headers, body)
        headers["Authorization"] = (
            f"{ALGORITHM} Credential={self.config.access_key_id},SignedHeaders={names},"
            f"Signature={signature(self.config.access_key_secret, to_sign)}"
        )
        conn = self._connection()
        try:
            # Connected first, on its own: an error up to here sent nothing (through a
            # proxy: the tunnel is open and TLS with the endpoint done, or nothing went out).
            try:
                conn.connect()
            except (OSError, http.client.HTTPException) as exc:
                raise self._down(exc) from None
            try:
                conn.request(
                    "POST", f"{self._path}?{canonical_query(params)}", body=body, headers=headers
                )
                resp = conn.getresponse()
                status, raw = resp.status, resp.read()
            except (OSError, http.client.HTTPException) as exc:
                raise lost(type(exc).__name__) from None
        finally:
            conn.close()
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if status == 200:  # taken, but what became of it cannot be read
                raise lost("unreadable answer")
            data = {}
        return status, data

    def _connection(self) -> http.client.HTTPConnection:
        """A connection to the endpoint, not yet open: directly, or to the proxy with a
        CONNECT tunnel to the endpoint (TLS inside it, checked against the endpoint's name)."""
        timeout = self.config.timeout
        proxy = self.config.proxy
        conn: http.client.HTTPConnection
        if proxy is None:
            if self._scheme == "https":
                return http.client.HTTPSConnection(
                    self._host, timeout=timeout, context=ssl.create_default_context()
                )
            return http.client.HTTPConnection(self._host, timeout=timeout)
        if self._scheme == "https":
            conn = http.client.HTTPSConnection(
                proxy.host, proxy.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=timeout)
        conn.set_tunnel(*self._target, headers=_proxy_headers(proxy))
        return conn

    def open(self) -> None:
        """Nothing to hold open (HTTPS per call); the first call tells if the provider is there."""

    def send(self, message: Message) -> Result:
        """Send one notice SMS (a call of one number)."""
        return self.send_batch([message])[0]

    def call_id(self, messages: list[Message]) -> str:
        """The ``OutId`` of the call carrying ``messages`` (journaled before the call)."""
        return sha256_hex("\n".join(m.key for m in messages).encode())[:32]

    def send_batch(
        self,
        messages: list[Message],
        accepted: Accepted | None = None,
        *,
        out_id: str | None = None,
    ) -> list[Result]:
        """Send up to :data:`BATCH_MAX` notice SMS in one ``SendBatchSms`` call; map the
        provider's code to sent / retry / failed for each, or stop the run: ChannelDown
        when the provider refuses the account or the template, InDoubt when its answer
        does not say whether they went out (:func:`maybe_sent`)."""
        out_id = out_id or self.call_id(messages)
        n = len(messages)
        params = {
            "PhoneNumberJson": json.dumps([m.address for m in messages]),
            "SignNameJson": json.dumps([self.config.sign_name] * n, ensure_ascii=False),
            "TemplateCode": self.config.template_code,
            "TemplateParamJson": json.dumps([m.params or {} for m in messages], ensure_ascii=False),
            "OutId": out_id,
        }
        status, data = self.call("SendBatchSms", params)
        code = str(data.get("Code") or f"HTTP{status}")
        if 200 <= status < 300 and code == "OK":
            biz = str(data.get("BizId") or "")[:100] or None
            return [Result("sent", provider_id=biz) for _ in messages]
        if maybe_sent(status, data.get("Code")):
            # The provider may have sent them before it failed: in doubt, as a lost
            # answer, until QuerySendDetails says (never retried blind: texted twice)
            raise InDoubt.msg(
                "notices.sms_maybe_sent", server=self._where(), answer=_answer(status, data)
            )
        if code in NUMBER_CODES:
            if n > 1:
                # The provider does not say which number: ask once per number (under the
                # same OutId, so a crash in between is recovered the same way), each one
                # told the moment it is taken (a later call in doubt leaves it settled)
                out: list[Result] = []
                for i, m in enumerate(messages):
                    res = self.send_batch([m], out_id=out_id)[0]
                    if accepted is not None and res.outcome == "sent":
                        accepted(i, res)
                    out.append(res)
                return out
            return [Result("failed", error=code[:200])]
        if code in RETRY_CODES:
            return [Result("retry", error=code[:200]) for _ in messages]
        if code in AUTH_CODES:
            raise ChannelDown.msg("notices.sms_auth", server=self._where(), code=code)
        raise ChannelDown.msg("notices.sms_refused", server=self._where(), code=code)

    def recover(self, out_id: str, date: str, messages: list[Message]) -> list[Result | None]:
        """For a call in doubt (its answer lost, or one that does not say whether it was
        sent), ask ``QuerySendDetails`` per number whether the provider has a send of
        that ``OutId`` on ``date`` (``yyyyMMdd``): ``sent`` when it has (a send the
        carrier then failed too: its receipt says undelivered), None when its answer
        shows none (the notice may be sent again). A query that gets no such answer (an
        error code, a 5xx, an unreadable or lost answer) is :class:`InDoubt`, a provider
        that cannot be reached :class:`ChannelDown`: the run stops, and the notices stay
        in doubt for the next one to ask again — never sent again on no answer."""
        out: list[Result | None] = []
        for m in messages:
            out.append(self._sent_before(out_id, date, m.address))
        return out

    def _sent_before(self, out_id: str, date: str, phone: str) -> Result | None:
        page = 1
        while True:
            params = {
                "PhoneNumber": phone,
                "SendDate": date,
                "PageSize": "50",
                "CurrentPage": str(page),
            }
            # a query whose answer is lost tells nothing: the notices stay in doubt
            status, data = self.call("QuerySendDetails", params, lost=self._query_failed)
            found = _details(status, data)
            if found is None:
                raise self._query_failed(_answer(status, data))
            if any(str(d.get("OutId") or "") == out_id for d in found):
                return Result("sent", provider_id=out_id)
            try:
                total = int(data.get("TotalCount") or 0)
            except (TypeError, ValueError):
                raise self._query_failed("unreadable answer") from None
            if len(found) < 50 or page * 50 >= total:
                return None
            page += 1

    def _query_failed(self, reason: str) -> InDoubt:
        """``QuerySendDetails`` did not say whether a call in doubt was sent."""
        return InDoubt.msg("notices.sms_query_failed", server=self._where(), reason=reason)

    def close(self) -> None:
        """Nothing to release."""


def maybe_sent(status: int, code: Any) -> bool:
    """Whether a ``SendBatchSms`` answer other than ``OK`` leaves open that the messages
    went out. A 5xx (whatever its body: the failure can come after the dispatch), an
    ``isp.*`` code (the provider's own failure, not the request's), or a 2xx without a
    code (taken, the outcome unreadable) may follow a send; ``isv.*`` codes, the API
    gateway's refusals and a 4xx refuse the request before anything is sent.
    ``isp.RAM_PERMISSION_DENY`` is the permission check, made before the action."""
    if status >= 500:
        return True
    if not code or not isinstance(code, str):
        return 200 <= status < 300
    return code.startswith("isp.") and code not in AUTH_CODES


def _answer(status: int, data: Mapping[str, Any]) -> str:
    """A provider's answer in a message: its code (printable, cut) and the HTTP status."""
    code = "".join(c for c in str(data.get("Code") or "") if c.isprintable())[:80]
    return f"{code}, HTTP {status}" if code else f"HTTP {status}"


def _details(status: int, data: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The send records of a ``QuerySendDetails`` answer; None when it is no such answer
    (an error code, a non-200 status, records that cannot be read)."""
    if status != 200 or data.get("Code") != "OK":
        return None
    dtos = data.get("SmsSendDetailDTOs") or {}
    found = dtos.get("SmsSendDetailDTO") if isinstance(dtos, dict) else None
    found = [] if found is None else found
    if not isinstance(found, list) or not all(isinstance(d, dict) for d in found):
        return None
    return found


def _proxy_headers(proxy: Proxy) -> dict[str, str]:
    """The CONNECT request's headers: Basic credentials when the proxy URL has a user."""
    if proxy.username is None:
        return {}
    pair = f"{proxy.username}:{proxy.password or ''}".encode()
    return {"Proxy-Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}


def template_params(
    content: Mapping[str, str], reference: str, kind: str = "notice"
) -> dict[str, str]:
    """The ``TemplateParamJson`` object of one person's SMS of a ``kind`` campaign."""
    values = {**content, "reference": reference}
    return {param: str(values.get(var) or "") for param, var in PARAMS_OF[kind].items()}


@dataclass(frozen=True)
class Receipt:
    """One ``SmsReport`` delivery receipt, reduced to what the outbox keeps."""

    out_id: str
    delivered: bool
    code: str
    biz_id: str | None
    phone: str


def parse_reports(data: Any) -> list[Receipt]:
    """Receipts from an ``SmsReport`` JSON array (``phone_number``, ``biz_id``,
    ``out_id``, ``success``, ``err_code``); entries without a number and a ``biz_id``
    cannot be ours and are skipped (the phone number is held in memory only)."""
    if not isinstance(data, list):
        return []
    out: list[Receipt] = []
    for r in data:
        if isinstance(r, dict) and r.get("biz_id") and r.get("phone_number"):
            out.append(
                Receipt(
                    str(r.get("out_id") or "")[:32],
                    bool(r.get("success")),
                    str(r.get("err_code") or "")[:50],
                    str(r["biz_id"])[:100],
                    normalize_mobile(str(r["phone_number"])),
                )
            )
    return out


def normalize_mobile(number: str) -> str:
    """A mainland mobile as the audience keeps it: digits only, without +86/0086/86."""
    digits = "".join(ch for ch in number if ch.isdigit())
    for prefix in ("0086", "86"):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            return digits[len(prefix) :]
    return digits
