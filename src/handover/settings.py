"""The one settings object: environment > workspace ``handover.toml`` > defaults.

Only this module reads ``os.environ`` (through pydantic-settings); everything else
receives a :class:`Settings`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from handover.errors import BadInput
from handover.i18n import Lang, Msg, normalize_lang

DEFAULT_WORKSPACE = Path("handover-data")
TOML_NAME = "handover.toml"


class Party(BaseModel):
    """A party to the transfer and how the customers can reach it (PIPL Art. 22)."""

    name: str = Field(description="Legal name of the organisation.")
    contact: str = Field(default="", description="Named contact person.")
    phone: str = Field(default="", description="Contact phone number.")
    email: str = Field(default="", description="Contact e-mail address.")
    address: str = Field(default="", description="Registered address.")


class Transfer(BaseModel):
    """The transfer this workspace serves: who sells, who buys, who advises, why, when."""

    name: str = Field(description="Short name of the deal.")
    seller: Party
    buyer: Party
    advisor: Party | None = None
    purpose: str = Field(description="Purpose of processing after the transfer (PIPL Art. 22).")
    announced: dt.date | None = Field(default=None, description="Date the deal is announced.")
    closing: dt.date | None = Field(default=None, description="Planned closing date.")


class IncidentMail(BaseModel):
    """The ``[incidents.mail]`` table: where reminders and escalations of incident duties
    are e-mailed, through the notices SMTP channel (docs/incidents.md). The password
    comes from ``HANDOVER_SMTP_PASSWORD``, never from this file."""

    host: str = Field(description="SMTP submission server.")
    port: int = Field(default=587, gt=0, lt=65536, description="SMTP port.")
    security: Literal["none", "starttls", "ssl"] = Field(
        default="starttls", description="starttls (default), ssl (implicit TLS) or none."
    )
    sender: str = Field(description="From: address of the reminders.")
    username: str | None = Field(default=None, description="SMTP user, when the server asks.")
    cafile: Path | None = Field(default=None, description="CA bundle for the server's certificate.")
    to: list[str] = Field(
        min_length=1, description="Addresses of the DPO and the people responsible (every mail)."
    )
    escalate_to: list[str] = Field(
        default_factory=list, description="Addresses added when a deadline is missed."
    )
    people: dict[str, str] = Field(
        default_factory=dict,
        description="Registered person -> address: an incident's lead gets its mails too.",
    )

    @field_validator("to", "escalate_to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for i, a in enumerate(value, 1):
            if not is_address(a):
                raise ValueError(f"entry {i} is not an e-mail address")
        return value

    @field_validator("people")
    @classmethod
    def _people(cls, value: dict[str, str]) -> dict[str, str]:
        for name, a in value.items():
            if not is_address(a):
                raise ValueError(f"the address of {name} is not an e-mail address")
        return value


def is_address(a: str) -> bool:
    """The shape of an e-mail address (one @, something on both sides, no spaces); the
    server says the rest."""
    local, at, domain = a.partition("@")
    return bool(at and local and domain) and "@" not in domain and not any(c.isspace() for c in a)


@dataclass(frozen=True)
class Proxy:
    """An outbound HTTP proxy (``http://[user:password@]host[:port]``) taken apart."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """``host:port`` (an IPv6 address in brackets): how messages name the proxy,
        never with its credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


#: why a proxy URL is refused, in English (its zh-CN and English texts: ``settings.proxy.*``)
_PROXY_REFUSALS = {
    "unreadable": "the proxy URL cannot be read (characters a URL may not hold)",
    "scheme": "not an http:// proxy URL (https:// and socks proxies are not supported)",
    "no_host": "the proxy URL names no host",
    "port": "the proxy's port is not a number from 1 to 65535",
    "trailing": "a proxy URL is http://[user:password@]host:port, nothing after it",
}


class ProxyRefused(ValueError):
    """A proxy URL :func:`parse_proxy` refuses: ``key`` names why (``str()`` is English,
    for the settings' load-time check; :meth:`reason` in the reader's language)."""

    def __init__(self, key: str) -> None:
        super().__init__(_PROXY_REFUSALS[key])
        self.key = key

    def reason(self) -> Msg:
        return Msg(f"settings.proxy.{self.key}")


def parse_proxy(url: str) -> Proxy:
    """The proxy a URL names: ``http://`` (or no scheme), a host, a port (80 when none is
    given), optional ``user:password`` (percent-encoded); :class:`ProxyRefused` otherwise, never
    naming the URL (it may hold a password). An ``https://`` (TLS to the proxy) or SOCKS
    proxy is refused rather than spoken to in clear."""
    text = url.strip()
    try:  # urllib's own errors quote the URL, password included: never shown
        parts = urllib.parse.urlsplit(text)
        if not parts.netloc:  # host:port without a scheme
            parts = urllib.parse.urlsplit("//" + text)
        host, user, password = parts.hostname, parts.username, parts.password
    except ValueError:
        raise ProxyRefused("unreadable") from None
    if parts.scheme.lower() not in ("", "http"):
        raise ProxyRefused("scheme")
    if not host:
        raise ProxyRefused("no_host")
    try:
        port = 80 if parts.port is None else parts.port
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise ProxyRefused("port")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ProxyRefused("trailing")
    user = urllib.parse.unquote(user) if user is not None else None
    password = urllib.parse.unquote(password) if password is not None else None
    return Proxy(host, port, user or None, password if user else None)


def _this_machine(host: str) -> bool:
    """``localhost`` or a loopback address: no proxy can reach it for us."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name
        return False


#: the grades of the CAC grading guide (handover.incidents.rules.GRADES, least severe first)
IncidentGrade = Literal["general", "significant", "major", "especially_major"]
ALL_GRADES: tuple[IncidentGrade, ...] = ("general", "significant", "major", "especially_major")


class IncidentSettings(BaseModel):
    """The ``[incidents]`` table: who this operator is under the CAC reporting measures and
    whom it reports to (docs/incidents.md)."""

    operator_kind: Literal["ordinary", "cii", "central_organ"] = Field(
        default="ordinary",
        description="ordinary (provincial CAC, 4 h), cii (critical information infrastructure: "
        "protection department and police, 1 h) or central_organ (own department, 2 h).",
    )
    provincial_cac: str = Field(
        default="属地省级网信部门", description="Name of the provincial CAC office reported to."
    )
    pi_regulator: str = Field(
        default="履行个人信息保护职责的部门",
        description="Name of the department told under PIPL Art. 57.",
    )
    sector_regulator: str | None = Field(
        default=None,
        description="Sector regulator, e.g. the local financial regulator (地方金融管理局).",
    )
    sector_hours: float | None = Field(
        default=None,
        gt=0,
        description="Hours the sector regulator's own rules allow for a first report "
        "(needed with sector_regulator).",
    )
    sector_grades: list[IncidentGrade] = Field(
        default_factory=lambda: list(ALL_GRADES),
        description="Grades the sector regulator wants reported (general, significant, major, "
        "especially_major).",
    )
    immediately_hours: float = Field(
        default=24.0,
        gt=0,
        description="Internal target for duties the law says are due immediately (立即); not a legal figure.",
    )
    timezone: str = Field(
        default="Asia/Shanghai", description="Local time zone for reports and odd-hour warnings."
    )
    drill_every_days: int = Field(
        default=180, gt=0, description="A drill is due this many days after the last one."
    )
    rules: Path | None = Field(
        default=None, description="A deadline rules file replacing the built-in one."
    )
    holidays: list[str] = Field(
        default_factory=list,
        description="Statutory holidays (法定休假日) as the State Council announces them each "
        "year: dates (2026-10-01) or runs of dates (2026-10-01..2026-10-07). A period in days "
        "whose last day is listed ends at 24:00 of the first day after the run that is not "
        "listed (民法典 第二百零三条第一款). Only the days listed move a deadline.",
    )
    business_hours_end: dict[str, str] = Field(
        default_factory=dict,
        description="When a recipient's business hours end (HH:MM, local), by the recipient "
        "a duty counted in days names (provincial_cac, protection_department, police, "
        "department_cac): a period in days owed to it ends at that time of its "
        "last day instead of 24:00 (民法典 第二百零三条第二款: 有业务时间的,停止业务活动的时间"
        "为截止时间). Hour clocks never change.",
    )
    mail: IncidentMail | None = Field(
        default=None,
        description="E-mail reminders and escalations to the DPO ([incidents.mail]); none: ledger events only.",
    )

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        # Checked when the settings load: a typo found only when a deadline is computed
        # would fail a step after it was recorded.
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a known IANA time zone (e.g. Asia/Shanghai)") from None
        return value

    @field_validator("holidays", mode="before")
    @classmethod
    def _holidays(cls, value: Any) -> list[str]:
        # Checked when the settings load, naming the bad entry (a date is no secret): a
        # typo found when a deadline is computed would move a legal deadline silently.
        if not isinstance(value, list | tuple):
            raise ValueError("a list of dates (YYYY-MM-DD) or runs (YYYY-MM-DD..YYYY-MM-DD)")
        return [_holiday_run(entry) for entry in value]

    @field_validator("business_hours_end", mode="before")
    @classmethod
    def _business_hours_end(cls, value: Any) -> dict[str, str]:
        # Checked when the settings load, naming the bad entry: a time misread would move a
        # legal deadline silently. The recipients are checked against the rules
        # (incidents.rules.check_business_hours).
        if not isinstance(value, dict):
            raise ValueError('a table of recipient = "HH:MM", e.g. provincial_cac = "17:30"')
        for name in value:
            if not isinstance(name, str) or not RECIPIENT_NAME.fullmatch(name):
                raise ValueError(
                    f"{str(name)[:40]!r}: not a recipient's name (letters, digits, _ . -)"
                )
        return {name: _closing_time(name, entry) for name, entry in value.items()}

    def business_closes(self) -> dict[str, dt.time]:
        """``business_hours_end`` as times of day, by recipient."""
        return {k: dt.time.fromisoformat(v) for k, v in self.business_hours_end.items()}

    def holiday_dates(self) -> frozenset[dt.date]:
        """Every date ``holidays`` lists, runs spelled out."""
        out: set[dt.date] = set()
        for entry in self.holidays:
            first, _, last = entry.partition("..")
            day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last or first)
            while day <= end:
                out.add(day)
                day += dt.timedelta(days=1)
        return frozenset(out)


#: how a recipient is named in a rules file (``provincial_cac``)
RECIPIENT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _closing_time(name: Any, entry: Any) -> str:
    """``entry`` of ``[incidents] business_hours_end`` as ``HH:MM`` between 00:01 and 23:59
    (a TOML time is taken too); ValueError naming the recipient and the entry otherwise."""
    if isinstance(entry, dt.time):
        entry = entry.strftime("%H:%M") if not entry.second and not entry.microsecond else entry
    text = entry.strip() if isinstance(entry, str) else ""
    try:
        if len(text) != 5 or text[2] != ":":
            raise ValueError
        at = dt.time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} = {entry!r}: not a time of day HH:MM (e.g. 17:30)") from None
    if at == dt.time(0):
        raise ValueError(
            f"{name} = {entry!r}: business hours cannot end at 00:00; leave the recipient out "
            "for a day that ends at 24:00"
        )
    return text


#: the longest run of holidays one entry of ``[incidents] holidays`` may name: the State
#: Council's runs are at most nine days; a longer one is taken for a typo (2026 for 2027)
HOLIDAY_RUN_MAX_DAYS = 31


def _holiday_run(entry: Any) -> str:
    """``entry`` of ``[incidents] holidays`` as ``YYYY-MM-DD`` or ``YYYY-MM-DD..YYYY-MM-DD``
    (a TOML date is taken too); ValueError naming the entry otherwise."""
    if isinstance(entry, dt.date) and not isinstance(entry, dt.datetime):
        return entry.isoformat()
    text = entry.strip() if isinstance(entry, str) else None
    first, sep, last = (text or "").partition("..")
    try:
        start = dt.date.fromisoformat(first.strip())
        end = dt.date.fromisoformat(last.strip()) if sep else start
        if len(first.strip()) != 10 or (sep and len(last.strip()) != 10):
            raise ValueError
    except ValueError:
        raise ValueError(
            f"holiday {entry!r} is not a date (YYYY-MM-DD) or a run of dates "
            "(YYYY-MM-DD..YYYY-MM-DD)"
        ) from None
    if end < start:
        raise ValueError(f"holiday run {entry!r} ends before it starts")
    if (end - start).days >= HOLIDAY_RUN_MAX_DAYS:
        raise ValueError(
            f"holiday run {entry!r} is longer than {HOLIDAY_RUN_MAX_DAYS} days (a typo?)"
        )
    return f"{start.isoformat()}..{end.isoformat()}" if sep else start.isoformat()


class Settings(BaseSettings):
    """Every setting of handover, documented per field (see docs/settings.md)."""

    model_config = SettingsConfigDict(env_prefix="HANDOVER_", extra="ignore")

    workspace: Path = Field(
        default=DEFAULT_WORKSPACE,
        description="Workspace directory holding handover.toml, the store, keys, packages and reports.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the platform store; default is SQLite inside the workspace.",
    )
    lang: Lang = Field(
        default="zh-CN", description="Language of reports and messages: zh-CN or en."
    )
    demo: bool = Field(
        default=False,
        description="Marks a demo workspace; insecure conveniences are refused outside one.",
    )
    transfer: Transfer | None = Field(
        default=None, description="The [transfer] table of handover.toml."
    )
    key_backend: Literal["keyring", "pkcs11"] = Field(
        default="keyring",
        description="Where key encryption keys live: the workspace keyring or a PKCS#11 HSM.",
    )
    key_protection: Literal["passphrase", "file"] | None = Field(
        default=None,
        description="Keyring master key protection; default passphrase, or a 0600 file in a demo.",
    )
    keyring_passphrase: SecretStr | None = Field(
        default=None, description="Passphrase protecting the keyring master key (argon2id)."
    )
    crypto_suite: Literal["aes", "sm"] = Field(
        default="aes", description="Cipher suite: aes (AES-256-GCM, SHA-256) or sm (SM4-GCM, SM3)."
    )
    pkcs11_module: Path | None = Field(
        default=None, description="Path of the HSM's PKCS#11 library (.so) when key_backend=pkcs11."
    )
    pkcs11_token_label: str | None = Field(
        default=None, description="Label of the PKCS#11 token holding the keys."
    )
    pkcs11_slot: int | None = Field(
        default=None, description="PKCS#11 slot id, when the token is chosen by slot."
    )
    pkcs11_pin: SecretStr | None = Field(default=None, description="User PIN of the PKCS#11 token.")
    password: SecretStr | None = Field(
        default=None, description="Password for `handover login` / `people add` in scripts and CI."
    )
    validator_password: SecretStr | None = Field(
        default=None,
        description="Password of the validator of `handover shred` (dual control) in scripts.",
    )
    smtp_password: SecretStr | None = Field(
        default=None,
        description="Password of the SMTP user that sends notice e-mails (notices send, console) and the incident mails of [incidents.mail].",
    )
    sms_secret: SecretStr | None = Field(
        default=None,
        description="AccessKey secret of the SMS provider account (notices send, console).",
    )
    smtp_server: str | None = Field(
        default=None,
        description="host[:port] of the SMTP server the console's send form may hand `smtp_password` to (no other server gets it; unset: a form naming a server is refused while `smtp_password` is set).",
    )
    sms_endpoint: str | None = Field(
        default=None,
        description="The SMS provider endpoint URL the console's send form may sign requests for with `sms_secret` (no other endpoint; unset: a form naming one is refused while `sms_secret` is set).",
    )
    sms_proxy: str | None = Field(
        default=None,
        description="Outbound HTTP proxy of the SMS channel, http://[user:password@]host:port (a CONNECT tunnel; TLS stays end to end); unset: the environment's https_proxy / http_proxy and no_proxy.",
    )
    service_token: SecretStr | None = Field(
        default=None,
        description="Token of a service account (people service) for cron jobs: incidents tick/warn.",
    )
    executor: str = Field(
        default="local",
        description="Where scan, seal, verify and dd-extract run: local (this machine) or a Dask scheduler, tls://host:8786 or dask://host:8786 (docs/scale.md).",
    )
    executors: list[str] = Field(
        default_factory=list,
        description="More executors a console job may be started on, besides local and the executor setting (dask://, tls:// addresses).",
    )
    executor_tls_ca: Path | None = Field(
        default=None,
        description="CA certificate (PEM) the Dask scheduler's and workers' certificates are checked against, for tls:// executors.",
    )
    executor_tls_cert: Path | None = Field(
        default=None,
        description="This coordinator's client certificate (PEM) for a tls:// executor.",
    )
    executor_tls_key: Path | None = Field(
        default=None,
        description="The private key (PEM) of executor_tls_cert.",
    )
    executor_allow_plain: bool = Field(
        default=False,
        description="Allow a plain dask:// or tcp:// executor on a host other than this machine (the transfer's data would cross the network unencrypted).",
    )
    shard_rows: int = Field(
        default=1_048_576,
        ge=1,
        description="Rows per shard when a Dask executor splits a table (a multiple of 16,384 keeps seal's row roots equal to a local run's).",
    )
    incidents: IncidentSettings = Field(
        default_factory=IncidentSettings,
        description="The [incidents] table of handover.toml (reporting duties and clocks).",
    )

    @field_validator("lang", mode="before")
    @classmethod
    def _lang(cls, value: Any) -> Lang:
        return normalize_lang(str(value)) if value is not None else "zh-CN"

    @field_validator("sms_proxy")
    @classmethod
    def _sms_proxy(cls, value: str | None) -> str | None:
        # refused when loaded (never shown: it may carry the proxy's password)
        if value is None or not value.strip():
            return None
        parse_proxy(value)
        return value.strip()

    def sms_proxy_for(self, endpoint: str) -> Proxy | None:
        """The proxy the SMS channel reaches ``endpoint`` through: ``sms_proxy``, else the
        environment's for the endpoint's scheme (``https_proxy`` / ``http_proxy``) unless
        ``no_proxy`` covers its host, both as urllib reads them; None (directly) for an
        endpoint on this machine, which no proxy can reach. :class:`BadInput` naming the
        variable, never its value, when the environment's is no http:// proxy."""
        url = urllib.parse.urlsplit(endpoint)
        if _this_machine(url.hostname or ""):
            return None
        proxy = self._sms_proxy_of(url)
        if proxy is not None and ":" in (url.hostname or ""):
            # http.client writes an IPv6 address unbracketed in its CONNECT line
            raise BadInput.msg("notices.sms_proxy_ipv6", endpoint=endpoint)
        return proxy

    def _sms_proxy_of(self, url: urllib.parse.SplitResult) -> Proxy | None:
        """:meth:`sms_proxy_for` of an endpoint not on this machine."""
        if self.sms_proxy:
            return parse_proxy(self.sms_proxy)
        import urllib.request as request

        found = request.getproxies_environment()
        chosen = found.get(url.scheme.lower())
        hostport = url.netloc.rpartition("@")[2]
        # proxy_bypass_environment: urllib's own reading of no_proxy (not in typeshed)
        if not chosen or request.proxy_bypass_environment(hostport, found):  # type: ignore[attr-defined]
            return None
        try:
            return parse_proxy(chosen)
        except ProxyRefused as exc:
            name = f"{url.scheme.lower()}_proxy"
            raise BadInput.msg(
                "notices.sms_proxy_bad", variable=f"{name} / {name.upper()}", detail=exc.reason()
            ) from None

    @property
    def store_url(self) -> str:
        """The platform store URL: ``database_url`` or SQLite in the workspace."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.workspace / 'handover.db').resolve()}"

    @property
    def toml_path(self) -> Path:
        return self.workspace / TOML_NAME

    @property
    def keys_dir(self) -> Path:
        return self.workspace / "keys"

    @property
    def packages_dir(self) -> Path:
        return self.workspace / "packages"

    @property
    def reports_dir(self) -> Path:
        return self.workspace / "reports"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file"):
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)


def secret_value(value: SecretStr | None) -> str | None:
    """The clear text of a secret setting (None when unset), for the one call that needs
    it (a login to the SMTP server, a signed SMS request); never logged."""
    return value.get_secret_value() if value is not None else None


def resolve_workspace(workspace: Path | str | None = None) -> Path:
    """The workspace path: explicit argument > ``HANDOVER_WORKSPACE`` > ``./handover-data``."""
    if workspace is not None:
        return Path(workspace)
    env = os.environ.get("HANDOVER_WORKSPACE")
    return Path(env) if env else DEFAULT_WORKSPACE


def load_settings(workspace: Path | str | None = None, **overrides: Any) -> Settings:
    """Load settings for ``workspace``: env > its handover.toml > defaults.

    ``overrides`` (from command-line options) win over everything.
    """
    ws = resolve_workspace(workspace)
    toml_path = ws / TOML_NAME
    cls: type[Settings] = Settings
    if toml_path.is_file():
        cls = type(
            "WorkspaceSettings",
            (Settings,),
            {
                "model_config": SettingsConfigDict(
                    **{**Settings.model_config, "toml_file": toml_path}
                )
            },
        )
    try:
        settings = cls(**overrides)
    except ValidationError as exc:
        # where and what, never the value given (it may be an address or a secret)
        detail = "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
        )
        raise BadInput.msg("settings.invalid", path=toml_path, detail=detail) from None
    except Exception as exc:  # tomllib.TOMLDecodeError
        first = str(exc).splitlines()
        raise BadInput.msg("settings.invalid", path=toml_path, detail=" ".join(first[:3])) from None
    settings.workspace = ws
    return settings
