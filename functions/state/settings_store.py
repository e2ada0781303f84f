"""The stored admin settings: one entity, written only if nobody else wrote since it was read.

Entity ``settings``/``current``: ``document`` (the settings JSON), ``version`` (1, 2, ...),
``updated_at``, ``updated_by``, ``updated_by_id``. The first save inserts (two concurrent first saves:
one wins), every later save updates with the table ETag it read. Either way the loser gets
``SettingsConflict`` (HTTP 412) and nothing of it is written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from functions.config import AppConfig
from functions.settings.effective import Effective, effective_config
from functions.settings.model import FieldError, Settings, defaults_from_config, errors_from
from functions.state.audit import ACTIONS, AuditLog
from functions.state.table_store import EntityExistsError, StaleEntityError
from functions.state.tables import ScanTables

__all__ = ["Principal", "SettingsConflict", "SettingsStore", "StoredSettings", "StoredSettingsInvalid",
           "load_effective", "repair_document", "settings_etag"]

log = logging.getLogger(__name__)

PARTITION = "settings"
ROW = "current"


class Principal(Protocol):
    """Who makes a change (``functions.api.auth.Principal`` fits)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def auth(self) -> str: ...


class SettingsConflict(Exception):
    """The settings changed since the caller read them (HTTP 412); nothing was written."""


class StoredSettingsInvalid(ValueError):
    """The stored settings document no longer validates (written by another version of the app, or by
    hand). ``errors`` name the fields and why, never their values. ``version`` and ``table_etag`` are
    those of the stored entity, so that a repair (``SettingsStore.repair_base``) can overwrite exactly
    it and nothing written after; ``document`` is what was stored (its still-valid members survive a
    repair)."""

    def __init__(self, errors: list[FieldError], *, version: int = 0, table_etag: str | None = None,
                 document: dict[str, Any] | None = None) -> None:
        self.errors = list(errors)
        self.version = version
        self.table_etag = table_etag
        self.document = document  # the stored JSON object (None: not JSON, or not an object)
        fields = ", ".join(e.field or "(document)" for e in self.errors) or "(document)"
        super().__init__(f"the stored settings are invalid ({fields})")


def _canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def settings_etag(version: int, document: dict[str, Any] | None) -> str:
    """The HTTP strong ETag ``"v<version>-<8 hex>"``; the hash covers the document so that defaults
    changed by app settings (version 0) change the ETag too."""
    if document is None:
        return f'"v{version}"'
    digest = hashlib.sha256(_canonical(document).encode()).hexdigest()[:8]
    return f'"v{version}-{digest}"'


@dataclass(frozen=True)
class StoredSettings:
    """What is stored. ``settings`` is ``None`` (from ``load``) when nothing was ever saved;
    ``version`` 0 then. ``etag`` is for HTTP; ``table_etag`` is the storage ETag a save needs."""

    settings: Settings | None
    version: int
    etag: str
    updated_at: str | None = None
    updated_by: str | None = None
    table_etag: str | None = None
    updated_by_id: str | None = None

    def require(self) -> Settings:
        """``settings``, which ``SettingsStore.current`` always sets; a ``LookupError`` (a bug, HTTP 500)
        for a ``load()`` result of settings never saved."""
        if self.settings is None:
            raise LookupError("no settings: use SettingsStore.current(defaults), not load()")
        return self.settings


def _audit_action(old: Settings | None, new: Settings) -> str:
    was_enabled = old.enabled if old is not None else False
    if new.enabled and not was_enabled:
        return "settings.enable"
    if was_enabled and not new.enabled:
        return "settings.disable"
    return "settings.update"


def _stored_version(value: object) -> int | None:
    """The stored ``version`` (1, 2, ...); None when it is not a positive whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        number = int(value.strip())
        return number if number > 0 else None
    return None


def repair_document(document: dict[str, Any] | None, defaults: Settings) -> Settings:
    """The defaults, with each top-level member of ``document`` that still validates on its own laid
    over them (a member that does not - or one only valid together with a member that does not - keeps
    its default)."""
    merged = defaults.to_json()
    for name, value in (document or {}).items():
        if name not in Settings.model_fields:
            continue
        candidate = {**merged, name: value}
        try:
            Settings.model_validate(candidate)
        except ValidationError:
            continue
        merged = candidate
    return Settings.model_validate(merged)


class SettingsStore:
    """Load and conditionally save the settings of one set of scan tables."""

    def __init__(self, tables: ScanTables, *, audit: AuditLog | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.store = tables.settings
        self.audit = audit or AuditLog(tables, clock=clock)
        self.clock = clock or (lambda: datetime.now(UTC))
        self._ensured = False
        self._lock = threading.Lock()

    def load(self) -> StoredSettings:
        """The stored settings, or ``StoredSettings(None, 0, '"v0"')`` when never saved (or the table
        does not exist yet). Raises ``StoredSettingsInvalid`` if the stored document is not valid
        settings (any more)."""
        entity = self.store.get(PARTITION, ROW)
        if entity is None:
            return StoredSettings(settings=None, version=0, etag=settings_etag(0, None))
        table_etag = entity.get("etag")
        version = _stored_version(entity.get("version"))
        try:
            document = json.loads(entity.get("document") or "")
        except ValueError:  # not JSON at all
            document = None
            problems = [FieldError("", "the stored document is not JSON")]
        else:
            problems = []
        if version is None:
            # Never the defaults' "v0-..." ETag for a stored document: an unreadable version is an invalid
            # document (repaired with If-Match: *), whatever the document says.
            problems.append(FieldError("version", "the stored version is not a positive whole number"))
        settings = None
        if document is not None:
            try:
                settings = Settings.model_validate(document)
            except ValidationError as exc:
                problems = errors_from(exc) + problems
        if problems or settings is None or version is None:
            raise StoredSettingsInvalid(problems, version=version or 0, table_etag=table_etag,
                                        document=document if isinstance(document, dict) else None)
        return StoredSettings(
            settings=settings,
            version=version,
            etag=settings_etag(version, settings.to_json()),
            updated_at=entity.get("updated_at") or None,
            updated_by=entity.get("updated_by") or None,
            table_etag=entity["etag"],
            updated_by_id=entity.get("updated_by_id") or None,
        )

    def current(self, defaults: Settings) -> StoredSettings:
        """``load()``, with ``defaults`` (``defaults_from_config``) as the settings when never saved."""
        stored = self.load()
        if stored.settings is not None:
            return stored
        return replace(stored, settings=defaults, etag=settings_etag(0, defaults.to_json()))

    @staticmethod
    def repair_base(invalid: StoredSettingsInvalid, defaults: Settings) -> StoredSettings:
        """What a repair patches: the invalid stored document's still-valid top-level members (``enabled``
        while it is a boolean, a ``matching`` section that still validates, ...) over the defaults, for
        the rest. Same version and storage ETag, so a save overwrites that document and nothing newer."""
        base = repair_document(invalid.document, defaults)
        return StoredSettings(settings=base, version=invalid.version,
                              etag=settings_etag(invalid.version, base.to_json()),
                              table_etag=invalid.table_etag)

    def table_etag(self) -> str | None:
        """The storage ETag of the stored entity (None: never saved), without validating it."""
        entity = self.store.get(PARTITION, ROW)
        return None if entity is None else entity.get("etag")

    def _ensure(self) -> None:
        with self._lock:
            if not self._ensured:
                self.store.store.ensure()
                self._ensured = True

    def save(
        self,
        new: Settings,
        *,
        expected: StoredSettings,
        who: Principal,
        request_id: str | None = None,
        action: str | None = None,
        repaired: Sequence[str] | None = None,
    ) -> StoredSettings:
        """Write ``new`` if the stored settings are still ``expected`` (from ``load``/``current``);
        else ``SettingsConflict``. Then records the audit entry (``action`` defaults to
        ``settings.repair`` when ``repaired`` names the invalid fields of a stored document this save
        replaces, else ``settings.enable`` / ``settings.disable`` when ``enabled`` flips, else
        ``settings.update``).

        The audit entry is written after the settings: a change that failed is never audited as done.
        If the audit write itself fails after the settings were written, that is logged (the entity
        still names who changed it, and when) and the save counts as done."""
        if action is not None and action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        now = self.clock().astimezone(UTC).isoformat(timespec="seconds")
        version = expected.version + 1
        document = new.to_json()
        entity = {
            "PartitionKey": PARTITION,
            "RowKey": ROW,
            "document": _canonical(document),
            "version": version,
            "updated_at": now,
            "updated_by": str(who.name)[:256],
            "updated_by_id": str(who.id)[:256],
        }
        self._ensure()
        try:
            if expected.table_etag is None:
                if expected.version != 0:
                    raise SettingsConflict("expected settings carry no storage ETag")
                table_etag = self.store.insert(entity)
            else:
                table_etag = self.store.update(entity, etag=expected.table_etag, replace=True)
        except (EntityExistsError, StaleEntityError) as exc:
            raise SettingsConflict("the settings were changed by someone else; read them again") from exc
        saved = StoredSettings(
            settings=new, version=version, etag=settings_etag(version, document), updated_at=now,
            updated_by=entity["updated_by"], table_etag=table_etag, updated_by_id=entity["updated_by_id"],
        )
        old = expected.settings
        try:
            self.audit.record(
                who_id=str(who.id), who_name=str(who.name), auth=str(who.auth),
                action=action or ("settings.repair" if repaired is not None else _audit_action(old, new)),
                old=old.to_json() if old is not None else None, new=document, request_id=request_id,
                invalid_fields=repaired,
            )
        except Exception:
            log.exception("settings version %d saved, but its audit entry could not be written", version)
        return saved


def load_effective(config: AppConfig, tables: ScanTables) -> Effective:
    """The config a run uses: the stored settings laid over ``config`` (``effective_config``), or the
    defaults from the app settings when none were saved.

    Raises ``ConfigError`` when the app settings cannot be settings defaults (``defaults_from_config``),
    ``StoredSettingsInvalid`` (a ``ValueError``) when the stored document no longer validates, and the
    storage SDK's errors when the settings table cannot be read."""
    settings = SettingsStore(tables).current(defaults_from_config(config)).require()
    return effective_config(config, settings)
