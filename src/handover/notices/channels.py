"""Channels behind one interface: a channel opens a connection, sends one message and
says what became of it; the outbox decides what happens next.

A channel that hands many messages to its provider at once (an SMS batch call, a PDF of
letters) says so with ``batch_size`` > 1 and implements ``send_batch``; the outbox then
journals the accepted ones when the call returns.

A result is ``sent`` (the provider accepted it; ``provider_id`` kept), ``retry`` (a
transient refusal: try again later) or ``failed`` (a permanent refusal of this address:
fall back to another channel). A :class:`ChannelDown` stops the run: nothing can be
sent (server unreachable, authentication refused); the message in hand stays pending.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Literal, Protocol

from handover.errors import HandoverError

Outcome = Literal["sent", "retry", "failed"]
#: told the moment message ``i`` of a batch is accepted (the outbox journals it)
Accepted = Callable[[int, "Result"], None]


class ChannelDown(HandoverError):
    """The channel cannot send at all (exit 2); pending notices stay pending."""

    exit_code = 2
    transient = True


class InDoubt(ChannelDown):
    """The request went out and no answer came back (a read timeout, a dropped
    connection, an unreadable answer), or the answer does not say the provider did not
    take it (an HTTP 5xx, a provider-side error code: ``sms.maybe_sent``): the provider
    may have taken it. The run stops; the
    call's notices stay in doubt (``sending``, the call's intent kept in the journal) and
    the next run asks the provider about them before sending any again."""


@dataclass(frozen=True)
class Message:
    """One notice ready to go: the idempotency key, the address, the rendered texts."""

    key: str
    address: str
    subject: str
    text: str
    html: str | None = None
    #: template parameters, for providers that fill a registered template (SMS)
    params: dict[str, str] | None = None
    #: the person's name as the letter's address block writes it
    name: str = ""


@dataclass(frozen=True)
class Result:
    """What the provider said about one message."""

    outcome: Outcome
    provider_id: str | None = None
    error: str | None = None


class Channel(Protocol):
    """What the outbox needs from a channel."""

    name: str
    #: messages per provider call (1: ``send`` one by one)
    batch_size: int

    def open(self) -> None:
        """Connect and authenticate; :class:`ChannelDown` when that is impossible."""

    def send(self, message: Message) -> Result:
        """Hand one message to the provider."""

    def send_batch(self, messages: list[Message], accepted: Accepted | None = None) -> list[Result]:
        """Hand ``messages`` (at most ``batch_size``) to the provider; ``accepted(i, r)``
        may be called the moment message ``i`` is accepted (before the call returns)."""

    def close(self) -> None:
        """Release the connection."""


Security = Literal["none", "starttls", "ssl"]
SECURITIES: tuple[str, ...] = ("none", "starttls", "ssl")


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to submit e-mail. The password comes from the environment
    (``HANDOVER_SMTP_PASSWORD``), never from the command line."""

    host: str
    port: int
    sender: str
    security: Security = "starttls"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    cafile: str | None = None


class SmtpChannel:
    """E-mail over SMTP submission (RFC 6409): STARTTLS (RFC 3207) or implicit TLS
    (RFC 8314), AUTH when a user is given. The idempotency key is the Message-ID, so a
    message resent after a crash is recognisably the same message."""

    name = "email"
    batch_size = 1

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def open(self) -> None:
        """Connect, secure and authenticate (ChannelDown naming the server otherwise)."""
        c = self.config
        context = ssl.create_default_context(cafile=c.cafile)
        try:
            if c.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
                if c.security == "starttls":
                    smtp.starttls(context=context)
            if c.username:
                smtp.login(c.username, c.password or "")
        except smtplib.SMTPAuthenticationError:
            raise ChannelDown.msg("notices.smtp_auth", server=self._where()) from None
        except smtplib.SMTPNotSupportedError:
            raise ChannelDown.msg("notices.smtp_no_tls", server=self._where()) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelDown.msg(
                "notices.smtp_down", server=self._where(), reason=type(exc).__name__
            ) from None
        self._smtp = smtp

    def send(self, message: Message) -> Result:
        """Submit one message; a refused recipient is ``failed`` (5xx) or ``retry`` (4xx)."""
        if self._smtp is None:
            self.open()
        assert self._smtp is not None
        try:
            if message.address.isascii():
                refused = self._smtp.sendmail(
                    self.config.sender, [message.address], mime_bytes(message, self.config.sender)
                )
            else:  # an internationalised address needs SMTPUTF8, which send_message asks for
                refused = self._smtp.send_message(email_message(message, self.config.sender))
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            return Result("failed" if code >= 500 else "retry", error=f"smtp {code}")
        except smtplib.SMTPSenderRefused as exc:
            if exc.smtp_code < 500:
                return Result("retry", error=f"smtp {exc.smtp_code}")
            # MAIL FROM refused for good: no message of the run can go, and no recipient
            # is at fault (a 5xx here is not a refused address: no letter fallback)
            raise ChannelDown.msg(
                "notices.smtp_sender",
                server=self._where(),
                sender=self.config.sender,
                code=exc.smtp_code,
            ) from None
        except smtplib.SMTPResponseException as exc:
            return Result(
                "failed" if exc.smtp_code >= 500 else "retry", error=f"smtp {exc.smtp_code}"
            )
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError):
            self._smtp = None
            return Result("retry", error="smtp disconnected")
        if refused:
            return Result("failed", error="smtp refused")
        return Result("sent", provider_id=make_msgid_for(message.key))

    def send_batch(self, messages: list[Message], accepted: Accepted | None = None) -> list[Result]:
        """One SMTP transaction per message, in order."""
        out: list[Result] = []
        for i, m in enumerate(messages):
            res = self.send(m)
            if accepted is not None and res.outcome == "sent":
                accepted(i, res)
            out.append(res)
        return out

    def close(self) -> None:
        """QUIT politely; a dead connection is just dropped."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


class SmtpPool:
    """E-mail over ``connections`` SMTP connections at once (one thread each), for servers
    whose round trips, not their work, bound the rate. Each accepted message is reported
    the moment it is accepted, so at most one message per connection is ever in flight
    when the process dies (each resent with the same Message-ID)."""

    name = "email"

    def __init__(self, config: SmtpConfig, connections: int) -> None:
        self.config = config
        self.channels = [SmtpChannel(config) for _ in range(max(1, connections))]
        self.batch_size = 50 * len(self.channels)

    def open(self) -> None:
        """Open every connection (ChannelDown, with none left open, when one fails)."""
        try:
            for ch in self.channels:
                ch.open()
        except ChannelDown:
            self.close()
            raise

    def send(self, message: Message) -> Result:
        """One message on the first connection."""
        return self.channels[0].send(message)

    def send_batch(self, messages: list[Message], accepted: Accepted | None = None) -> list[Result]:
        """Spread ``messages`` over the connections; a connection that cannot go on
        (ChannelDown) stops its share, the others finish theirs, then it is raised (the
        messages it did not send have no result and stay pending)."""
        from concurrent.futures import ThreadPoolExecutor

        results: list[Result | None] = [None] * len(messages)
        k = len(self.channels)

        def work(j: int) -> ChannelDown | None:
            ch = self.channels[j]
            for i in range(j, len(messages), k):
                try:
                    res = ch.send(messages[i])
                except ChannelDown as exc:
                    return exc
                results[i] = res
                if accepted is not None and res.outcome == "sent":
                    accepted(i, res)
            return None

        with ThreadPoolExecutor(k, thread_name_prefix="smtp") as pool:
            stops = [e for e in pool.map(work, range(k)) if e is not None]
        if stops:
            raise stops[0]
        return [r for r in results if r is not None]

    def close(self) -> None:
        """Close every connection."""
        for ch in self.channels:
            ch.close()


class DrillChannel:
    """What every channel of a drill's campaign is: it takes each message and sends it
    nowhere (no connection is ever opened), so a drill runs the whole outbox — exactly
    once, counts, ledger evidence — and reaches no real person. The provider id says so."""

    batch_size = 1

    def __init__(self, name: str) -> None:
        self.name = name
        self.taken = 0

    def open(self) -> None:
        """Nothing to connect to."""

    def send(self, message: Message) -> Result:
        """Count the message; it goes nowhere."""
        self.taken += 1
        return Result("sent", provider_id=f"drill:{message.key[:16]}")

    def send_batch(self, messages: list[Message], accepted: Accepted | None = None) -> list[Result]:
        """One by one, as :meth:`send`."""
        out = [self.send(m) for m in messages]
        for i, r in enumerate(out):
            if accepted is not None:
                accepted(i, r)
        return out

    def close(self) -> None:
        """Nothing to close."""


def _headers(msg: Any, message: Message, sender: str) -> None:
    msg["From"] = sender
    msg["To"] = message.address
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid_for(message.key)
    msg["X-Handover-Notice"] = message.key


def mime_bytes(message: Message, sender: str) -> bytes:
    """The notice as a MIME message (text, and HTML as its alternative), UTF-8 bodies in
    base64: the compat32 builder, about twice as fast as ``EmailMessage`` per message."""
    from email.header import Header
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText
    from email.policy import compat32

    text = MIMEText(message.text, "plain", "utf-8")
    if message.html is None:
        msg: Any = text
    else:
        msg = MIMEMultipart("alternative")
        msg.attach(text)
        msg.attach(MIMEText(message.html, "html", "utf-8"))
    _headers(msg, message, sender)
    msg["Subject"] = Header(message.subject, "utf-8")
    # CRLF line ends on the wire: sendmail passes bytes through as they are
    data: bytes = msg.as_bytes(policy=compat32.clone(linesep="\r\n"))
    return data


def email_message(message: Message, sender: str) -> EmailMessage:
    """The notice as an ``EmailMessage`` (for addresses that need SMTPUTF8)."""
    msg = EmailMessage()
    _headers(msg, message, sender)
    msg["Subject"] = message.subject
    msg.set_content(message.text)
    if message.html is not None:
        msg.add_alternative(message.html, subtype="html")
    return msg


def make_msgid_for(key: str) -> str:
    """The Message-ID a notice is sent with (its provider id for e-mail)."""
    return f"<{key}@handover.notice>"


__all__ = [
    "SECURITIES",
    "Channel",
    "ChannelDown",
    "DrillChannel",
    "InDoubt",
    "Message",
    "Result",
    "SmtpChannel",
    "SmtpConfig",
    "SmtpPool",
    "make_msgid_for",
]
