"""The one settings object: environment > workspace ``handover.toml`` > defaults.

Only this module reads ``os.environ`` (through pydantic-settings); everything else
receives a :class:`Settings`.
"""

from __future__ import annotations

import datetime as dt
import os
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
from handover.i18n import Lang, normalize_lang

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
            if not _is_address(a):
                raise ValueError(f"entry {i} is not an e-mail address")
        return value

    @field_validator("people")
    @classmethod
    def _people(cls, value: dict[str, str]) -> dict[str, str]:
        for name, a in value.items():
            if not _is_address(a):
                raise ValueError(f"the address of {name} is not an e-mail address")
        return value


def _is_address(a: str) -> bool:
    """The shape of an e-mail address (one @, something on both sides, no spaces); the
    server says the rest."""
    local, at, domain = a.partition("@")
    return bool(at and local and domain) and "@" not in domain and not any(c.isspace() for c in a)


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
