"""App settings -> one typed, validated config object.

This is the only module that reads the process environment. Everything else receives an
``AppConfig`` (or a part of it), so tests build configs from plain dictionaries.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)


class ConfigError(ValueError):
    """The app settings are missing or invalid. The message names each setting and the reason."""


class DataverseAuthMode(StrEnum):
    MANAGED_IDENTITY = "managed_identity"
    DEFAULT_CREDENTIAL = "default_credential"
    CLIENT_SECRET = "client_secret"  # noqa: S105 - the name of an auth mode, not a secret
    CERTIFICATE = "certificate"
    LOCAL = "local"


class TargetColumn(StrEnum):
    OWN = "own"
    MSDYN_ORGCHANGESTATUS = "msdyn_orgchangestatus"




def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DataverseConfig(BaseModel):
    """How to reach one Dataverse organisation and what to provision there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="Organisation URL, e.g. https://contoso.crm4.dynamics.com")
    auth: DataverseAuthMode = DataverseAuthMode.MANAGED_IDENTITY
    tenant_id: str | None = None
    client_id: str | None = Field(
        default=None, description="App registration, or the user-assigned managed identity's client id"
    )
    client_secret: SecretStr | None = None
    certificate_path: str | None = None
    certificate_password: SecretStr | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 60.0
    max_concurrency: Annotated[int, Field(ge=1, le=52)] = 8
    #: requests in flight per batch worker of the fan-out: its share of ``max_concurrency``, which all
    #: workers together keep (``max_concurrency // worker_concurrency`` Dataverse slots, docs/scan.md)
    worker_concurrency: Annotated[int, Field(ge=1, le=52)] = 1
    max_retries: Annotated[int, Field(ge=0, le=20)] = 6
    max_retry_wait_seconds: Annotated[float, Field(gt=0, le=900)] = 300.0
    page_size: Annotated[int, Field(ge=1, le=5000)] = 5000
    solution_name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,64}$")] = "DataValidation"
    publisher_prefix: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,7}$")] = "dval"
    option_value_prefix: Annotated[int, Field(ge=10000, le=99999)] = 41020
    target_column: TargetColumn = TargetColumn.OWN

    @field_validator("url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an absolute https:// URL of the organisation")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError("must be the organisation root, without /api/data/... or a query")
        if parts.scheme == "http" and not is_loopback_url(value):
            raise ValueError("plain http is only allowed for a local emulator on loopback")
        return value

    @field_validator("publisher_prefix")
    @classmethod
    def _prefix_not_reserved(cls, value: str) -> str:
        # Power Platform rule: 2-8 alphanumerics starting with a letter, never "mscrm...".
        if value.startswith("mscrm"):
            raise ValueError("must not start with 'mscrm' (reserved by Microsoft)")
        return value

    @model_validator(mode="after")
    def _check_auth(self) -> DataverseConfig:
        missing: list[str] = []
        if self.auth in (DataverseAuthMode.CLIENT_SECRET, DataverseAuthMode.CERTIFICATE):
            missing += [name for name in ("tenant_id", "client_id") if not getattr(self, name)]
        if self.auth is DataverseAuthMode.CLIENT_SECRET and self.client_secret is None:
            missing.append("client_secret")
        if self.auth is DataverseAuthMode.CERTIFICATE and not self.certificate_path:
            missing.append("certificate_path")
        if missing:
            raise ValueError(f"auth mode {self.auth.value!r} needs {', '.join(missing)}")
        if self.auth is DataverseAuthMode.LOCAL and not is_loopback_url(self.url):
            raise ValueError("auth mode 'local' is only allowed against a loopback URL (the emulator)")
        return self

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/data/v9.2/"

    @property
    def scope(self) -> str:
        return f"{self.url}/.default"


class ProfileSourceKind(StrEnum):
    FILE = "file"
    PDL = "pdl"


PDL_DEFAULT_BASE_URL = "https://api.peopledatalabs.com"
PDL_MAX_BATCH_SIZE = 100  # the bulk endpoint's documented maximum


class ProfileSourceConfig(BaseModel):
    """Which person-profile source to use (docs/profile-sources.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ProfileSourceKind = ProfileSourceKind.FILE
    # repr=False: a blob URL may carry a SAS token, and a config object can end up in a log line.
    file: str | None = Field(default=None, repr=False,
                             description="Local path, blob URL or blob://<container>/<name>")
    file_format: Literal["jsonl", "csv"] | None = None
    storage_connection: SecretStr | None = None
    storage_account_url: str | None = None
    # Where the file source keeps its index cache (one mmap-able file per file version, shared by the
    # worker processes); "off" keeps the index in each process's memory.
    index_dir: str | None = Field(default_factory=lambda: os.path.join(tempfile.gettempdir(),
                                                                       "dval-profile-index"))
    pdl_api_key: SecretStr | None = None
    pdl_base_url: str = PDL_DEFAULT_BASE_URL
    pdl_min_likelihood: Annotated[int, Field(ge=0, le=10)] = 6
    pdl_batch_size: Annotated[int, Field(ge=1, le=PDL_MAX_BATCH_SIZE)] = 80
    pdl_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 30.0
    pdl_max_retries: Annotated[int, Field(ge=0, le=20)] = 5
    pdl_max_lookups: Annotated[int | None, Field(ge=0)] = None

    @field_validator("kind", mode="before")
    @classmethod
    def _lowercase_kind(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("index_dir")
    @classmethod
    def _index_dir_or_off(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() in ("", "off", "none"):
            return None
        return value.strip()

    @field_validator("pdl_base_url")
    @classmethod
    def _https_or_loopback(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not (value.startswith("https://") or (value.startswith("http://") and is_loopback_url(value))):
            raise ValueError("must be an https:// URL (plain http only on loopback, for the replay server)")
        return value

    @model_validator(mode="after")
    def _needs(self) -> ProfileSourceConfig:
        if self.kind is ProfileSourceKind.FILE and not (self.file or "").strip():
            raise ValueError("PROFILE_SOURCE=file needs PROFILE_FILE")
        if self.kind is ProfileSourceKind.PDL and (
            self.pdl_api_key is None or not self.pdl_api_key.get_secret_value().strip()
        ):
            raise ValueError("PROFILE_SOURCE=pdl needs PDL_API_KEY")
        return self


_NCRONTAB_FIELD = re.compile(r"^[0-9*/,\-A-Za-z]+$")
_TIMESPAN = re.compile(r"^\d{1,2}:\d{2}:\d{2}$")


#: a Dataverse column's logical name (as the Web API's $select takes it)
COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
#: identity columns of one kind (profile URL, extra e-mails) the scan reads at most
MAX_IDENTITY_COLUMNS = 5


class ScanConfig(BaseModel):
    """The daily scan (docs/scan.md): schedule, sync users, cost and safety switches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(
        default=False, description="App-settings default of the toggle; the settings store may override it"
    )
    schedule: str = "0 0 2 * * *"
    dry_run: bool = False
    sync_user_ids: tuple[str, ...] = ()
    sync_team: str | None = None
    sync_role: str | None = None
    lookup_budget: Annotated[int | None, Field(ge=0)] = None
    refresh_days: Annotated[int, Field(ge=1, le=3650)] = 30
    batch_size: Annotated[int, Field(ge=1, le=5000)] = 500
    #: off: batches are validated in the run's process; queue: on the batch queue, by queue workers
    fanout: Literal["off", "queue"] = "off"
    #: how long a fanned-out run waits for its batches before it records the missing ones as failed
    fanout_wait_seconds: Annotated[int, Field(ge=10, le=86400)] = 1500
    #: how long a batch worker waits for a Dataverse slot before it puts its batch back on the queue
    fanout_slot_wait_seconds: Annotated[int, Field(ge=0, le=1800)] = 600
    state_table_prefix: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9]{0,29}$")] = "dval"
    lock_ttl_seconds: Annotated[int, Field(ge=30, le=86400)] = 900
    provisioning_max_age_hours: Annotated[float, Field(ge=0, le=24 * 30)] = 168.0
    profile_url_columns: tuple[str, ...] = Field(
        default=(), description="Contact text columns that may hold the LinkedIn profile URL, in order"
    )
    extra_email_columns: tuple[str, ...] = Field(
        default=("emailaddress2", "emailaddress3"),
        description="Contact e-mail columns read besides emailaddress1",
    )

    @field_validator("profile_url_columns", "extra_email_columns", mode="before")
    @classmethod
    def _column_names(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            parts = [part.strip() for part in text.split(",") if part.strip()]
            value = [] if text.lower() == "none" else parts
        if isinstance(value, list | tuple):
            names = [str(v).strip().lower() for v in value]
            if len(names) > MAX_IDENTITY_COLUMNS:
                raise ValueError(f"at most {MAX_IDENTITY_COLUMNS} columns")
            bad = [n for n in names if not COLUMN_NAME.fullmatch(n)]
            if bad:
                raise ValueError(f"{len(bad)} name(s) are not Dataverse column logical names "
                                 "(lower-case letters, digits, underscores)")
            return tuple(dict.fromkeys(names))
        return value

    @field_validator("schedule")
    @classmethod
    def _ncrontab(cls, value: str) -> str:
        value = value.strip()
        fields = value.split()
        if _TIMESPAN.match(value) or (len(fields) == 6 and all(_NCRONTAB_FIELD.match(f) for f in fields)):
            return value
        raise ValueError(
            "must be an NCRONTAB expression with six fields (second minute hour day month weekday), "
            "e.g. '0 0 2 * * *'"
        )

    @field_validator("sync_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            guid = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
            bad = [v for v in value if not guid.match(str(v))]
            if bad:
                raise ValueError(f"{len(bad)} entr{'y is' if len(bad) == 1 else 'ies are'} not a GUID")
            return tuple(str(v).lower() for v in value)
        return value

    @model_validator(mode="after")
    def _one_sync_source(self) -> ScanConfig:
        given = [n for n, v in (("ids", self.sync_user_ids), ("team", self.sync_team),
                                ("role", self.sync_role)) if v]
        if len(given) > 1:
            raise ValueError("set only one of SYNC_USER_IDS, SYNC_TEAM, SYNC_ROLE")
        return self


class ApiAuthMode(StrEnum):
    KEY = "key"  # function key only: whoever holds a key is an admin
    PLATFORM = "platform"  # App Service Authentication (Easy Auth) in front: X-MS-CLIENT-PRINCIPAL is trusted
    JWT = "jwt"  # bearer tokens validated in code (JWKS signature, aud, iss, exp, roles)


class ApiConfig(BaseModel):
    """Who may call the settings API (docs/settings-api.md). Fails closed: in ``platform`` and ``jwt``
    mode a request without a principal or without the role is refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    auth: ApiAuthMode = ApiAuthMode.KEY
    admin_role: Annotated[str, Field(min_length=1, max_length=120)] = "DataValidation.Admin"
    reader_role: Annotated[str, Field(min_length=1, max_length=120)] = "DataValidation.Reader"
    jwt_audience: tuple[str, ...] = ()
    jwt_issuer: tuple[str, ...] = ()
    jwks_url: str | None = None
    # WEBSITE_AUTH_ENABLED: injected (read-only) by App Service when App Service Authentication is on
    # for the app. Platform mode trusts X-MS-CLIENT-PRINCIPAL only then. Any value but "true" (any
    # case) is false: this never fails the config, so timers and workers keep running.
    platform_auth_enabled: bool = False

    @field_validator("platform_auth_enabled", mode="before")
    @classmethod
    def _true_only(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return value if isinstance(value, bool) else False

    @field_validator("auth", mode="before")
    @classmethod
    def _lowercase_auth(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("jwt_audience", "jwt_issuer", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("jwks_url")
    @classmethod
    def _jwks_https(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not (value.startswith("https://") or (value.startswith("http://") and is_loopback_url(value))):
            raise ValueError("must be an https:// URL (plain http only on loopback, for tests)")
        return value

    @model_validator(mode="after")
    def _jwt_needs(self) -> ApiConfig:
        if self.auth is ApiAuthMode.JWT:
            missing = [name for name, value in (("API_JWT_AUDIENCE", self.jwt_audience),
                                                ("API_JWT_ISSUER", self.jwt_issuer),
                                                ("API_JWKS_URL", self.jwks_url)) if not value]
            if missing:
                raise ValueError(f"API_AUTH=jwt needs {', '.join(missing)}")
        return self


class AppConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    scan: ScanConfig = Field(default_factory=ScanConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)

    dataverse: DataverseConfig
    profiles: ProfileSourceConfig | None = Field(
        default=None, description="None until a PROFILE_* / PDL_* setting is given"
    )
    storage_connection: SecretStr | None = Field(
        default=None, description="Connection string for state storage (Azurite locally)"
    )
    storage_account_url: str | None = Field(
        default=None, description="Table endpoint for state storage with managed identity"
    )
    storage_queue_url: str | None = Field(
        default=None, description="Queue endpoint of the same account (run requests) with managed identity"
    )


# App setting name -> (section, field). The one place that knows the setting names.
DATAVERSE_SETTINGS: dict[str, str] = {
    "DATAVERSE_URL": "url",
    "DATAVERSE_AUTH": "auth",
    "DATAVERSE_TENANT_ID": "tenant_id",
    "DATAVERSE_CLIENT_ID": "client_id",
    "DATAVERSE_CLIENT_SECRET": "client_secret",
    "DATAVERSE_CLIENT_CERTIFICATE_PATH": "certificate_path",
    "DATAVERSE_CLIENT_CERTIFICATE_PASSWORD": "certificate_password",
    "DATAVERSE_TIMEOUT_SECONDS": "timeout_seconds",
    "DATAVERSE_MAX_CONCURRENCY": "max_concurrency",
    "DATAVERSE_WORKER_CONCURRENCY": "worker_concurrency",
    "DATAVERSE_MAX_RETRIES": "max_retries",
    "DATAVERSE_MAX_RETRY_WAIT_SECONDS": "max_retry_wait_seconds",
    "DATAVERSE_PAGE_SIZE": "page_size",
    "DATAVERSE_SOLUTION": "solution_name",
    "DATAVERSE_PUBLISHER_PREFIX": "publisher_prefix",
    "DATAVERSE_OPTION_VALUE_PREFIX": "option_value_prefix",
    "DATAVERSE_TARGET_COLUMN": "target_column",
}
PROFILE_SETTINGS: dict[str, str] = {
    "PROFILE_SOURCE": "kind",
    "PROFILE_FILE": "file",
    "PROFILE_FILE_FORMAT": "file_format",
    "PROFILE_STORAGE_CONNECTION": "storage_connection",
    "PROFILE_STORAGE_ACCOUNT_URL": "storage_account_url",
    "PROFILE_INDEX_DIR": "index_dir",
    "PDL_API_KEY": "pdl_api_key",
    "PDL_BASE_URL": "pdl_base_url",
    "PDL_MIN_LIKELIHOOD": "pdl_min_likelihood",
    "PDL_BATCH_SIZE": "pdl_batch_size",
    "PDL_TIMEOUT_SECONDS": "pdl_timeout_seconds",
    "PDL_MAX_RETRIES": "pdl_max_retries",
    "PDL_MAX_LOOKUPS": "pdl_max_lookups",
}
SCAN_SETTINGS: dict[str, str] = {
    "SCAN_ENABLED": "enabled",
    "SCAN_SCHEDULE": "schedule",
    "SCAN_DRY_RUN": "dry_run",
    "SYNC_USER_IDS": "sync_user_ids",
    "SYNC_TEAM": "sync_team",
    "SYNC_ROLE": "sync_role",
    "SCAN_LOOKUP_BUDGET": "lookup_budget",
    "SCAN_REFRESH_DAYS": "refresh_days",
    "SCAN_BATCH_SIZE": "batch_size",
    "SCAN_FANOUT": "fanout",
    "SCAN_FANOUT_WAIT_SECONDS": "fanout_wait_seconds",
    "SCAN_FANOUT_SLOT_WAIT_SECONDS": "fanout_slot_wait_seconds",
    "STATE_TABLE_PREFIX": "state_table_prefix",
    "SCAN_LOCK_TTL_SECONDS": "lock_ttl_seconds",
    "SCAN_PROVISIONING_MAX_AGE_HOURS": "provisioning_max_age_hours",
    "CONTACT_PROFILE_URL_COLUMNS": "profile_url_columns",
    "CONTACT_EMAIL_COLUMNS": "extra_email_columns",
}
API_SETTINGS: dict[str, str] = {
    "API_AUTH": "auth",
    "API_ADMIN_ROLE": "admin_role",
    "API_READER_ROLE": "reader_role",
    "API_JWT_AUDIENCE": "jwt_audience",
    "API_JWT_ISSUER": "jwt_issuer",
    "API_JWKS_URL": "jwks_url",
    "WEBSITE_AUTH_ENABLED": "platform_auth_enabled",
}
APP_SETTINGS: dict[str, str] = {
    "STATE_STORAGE_CONNECTION": "storage_connection",
    "STATE_STORAGE_ACCOUNT_URL": "storage_account_url",
    "STATE_QUEUE_ACCOUNT_URL": "storage_queue_url",
}


def _problems(exc: ValidationError, settings: Mapping[str, str], cross_field: str) -> list[str]:
    name_by_field = {field: setting for setting, field in settings.items()}
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        # Cross-field errors have no location; they are about the setting that picks the mode.
        problems.append(f"{name_by_field.get(field, cross_field)}: {message}")
    return problems


def _present(env: Mapping[str, str], settings: Mapping[str, str]) -> dict[str, str]:
    return {field: env[name].strip() for name, field in settings.items() if env.get(name, "").strip()}


# blob:// profile files fall back to the state storage account when no own connection is set.
_PROFILE_STORAGE_FALLBACK = "STATE_STORAGE_CONNECTION"


def process_environment() -> Mapping[str, str]:
    """The process environment, for the few callers that need raw settings rather than ``AppConfig``.

    The local host (``functions.localhost``, ``python -m functions serve``) plays the Functions host:
    like the real one, it resolves binding ``connection`` settings (``AzureWebJobsStorage``) and the
    local function key (``LOCAL_FUNCTION_KEY``) from the environment. Going through here keeps this
    module the only one that touches ``os.environ``.
    """
    return os.environ


def load_profile_config(environ: Mapping[str, str] | None = None) -> ProfileSourceConfig:
    """The profile-source part of the settings; ``ConfigError`` names each bad setting."""
    env = os.environ if environ is None else environ
    values = _present(env, PROFILE_SETTINGS)
    if "storage_connection" not in values and env.get(_PROFILE_STORAGE_FALLBACK, "").strip():
        values["storage_connection"] = env[_PROFILE_STORAGE_FALLBACK].strip()
    try:
        return ProfileSourceConfig(**values)
    except ValidationError as exc:
        raise ConfigError("; ".join(_problems(exc, PROFILE_SETTINGS, "PROFILE_SOURCE"))) from None


def dataverse_retry_budget(dataverse: DataverseConfig) -> float:
    """Seconds one Dataverse request may spend on retries (the client's ``retry_budget``)."""
    return max(600.0, 2 * dataverse.max_retry_wait_seconds)


def load_config(environ: Mapping[str, str] | None = None) -> AppConfig:
    """Build the config from app settings (``os.environ`` unless a mapping is given).

    Raises ``ConfigError`` naming every bad or missing setting; values are never echoed,
    so a secret cannot leak into a log through a config error.
    """
    env = os.environ if environ is None else environ
    dataverse_values = _present(env, DATAVERSE_SETTINGS)
    if "url" not in dataverse_values:
        raise ConfigError("DATAVERSE_URL: missing; set it to the organisation URL")
    problems: list[str] = []
    dataverse = None
    try:
        dataverse = DataverseConfig(**dataverse_values)
    except ValidationError as exc:
        problems += _problems(exc, DATAVERSE_SETTINGS, "DATAVERSE_AUTH")
    profiles = None
    if any(env.get(name, "").strip() for name in PROFILE_SETTINGS):
        try:
            profiles = load_profile_config(env)
        except ConfigError as exc:
            problems.append(str(exc))
    scan = None
    try:
        scan = ScanConfig(**_present(env, SCAN_SETTINGS))
    except ValidationError as exc:
        problems += _problems(exc, SCAN_SETTINGS, "SYNC_USER_IDS")
    api = None
    try:
        api = ApiConfig(**_present(env, API_SETTINGS))
    except ValidationError as exc:
        problems += _problems(exc, API_SETTINGS, "API_AUTH")
    if dataverse is not None and scan is not None:
        budget = dataverse_retry_budget(dataverse)
        if scan.lock_ttl_seconds <= budget:
            # one Dataverse request may retry that long between two lease renewals: a shorter lease
            # would expire under a live run and let a second run take over
            problems.append(f"SCAN_LOCK_TTL_SECONDS: must be longer than one Dataverse request's retry "
                            f"budget ({budget:.0f} s: max(600, 2 x DATAVERSE_MAX_RETRY_WAIT_SECONDS))")
    if problems or dataverse is None or scan is None or api is None:
        raise ConfigError("; ".join(problems))
    try:
        return AppConfig(dataverse=dataverse, profiles=profiles, scan=scan, api=api,
                         **_present(env, APP_SETTINGS))
    except ValidationError as exc:
        raise ConfigError("; ".join(_problems(exc, APP_SETTINGS, "STATE_STORAGE_CONNECTION"))) from None
