"""Reads what the scan needs from Dataverse: contacts, accounts, open opportunities, connections.

Full read: ``read_changes`` without a delta link on all four tables (the answer carries the first delta
links). Delta read: ``read_changes`` with the stored links. Targeted reads (by id, by account, by
opportunity) fetch only the rows a delta run needs: one GET per ``CHUNK`` ids, many of those GETs per
``$batch`` request (``DataverseClient.query_many``), so 2,500 ids cost one request.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from functions.dataverse import ChangedRow, DataverseClient, DeletedRow, validate_guid
from functions.matching.records import AccountRecord, ContactRecord
from functions.pipeline.hashing import (
    ACCOUNT_COLUMNS,
    CONTACT_COLUMNS,
    DEFAULT_IDENTITY,
    IdentityColumns,
    account_from_row,
    contact_from_row,
)
from functions.pipeline.scope import ACTIVE, CONTACT_TYPE, OPPORTUNITY_TYPE

__all__ = [
    "CHUNK",
    "TABLES",
    "AccountInfo",
    "ConnectionInfo",
    "CrmContact",
    "CrmReader",
    "OpportunityInfo",
    "TableChanges",
]

log = logging.getLogger("functions.pipeline")

CHUNK = 50  # ids per "a eq x or a eq y ..." filter: keeps URLs well under Dataverse's limits
TABLES = ("accounts", "opportunities", "connections", "contacts")
OPPORTUNITY_COLUMNS = ("opportunityid", "_ownerid_value", "_parentcontactid_value", "statecode")
CONNECTION_COLUMNS = (
    "connectionid",
    "_record1id_value",
    "_record2id_value",
    "record1objecttypecode",
    "record2objecttypecode",
    "statecode",
)


def _guid(value: Any) -> str | None:
    return str(value).lower() if value else None


@dataclass(frozen=True, slots=True)
class CrmContact:
    record: ContactRecord
    owner_id: str | None
    active: bool
    flag_value: int | None  # our column, as read in this run (None: empty or not provisioned)
    employer_value: str | None
    etag: str | None = None  # the row version read in this run: writes are conditional on it
    #: our validated-on column as read in this run: only this app writes it, in the same request as
    #: the flag, so it tells which write of ours the row holds even when our state never learned it
    validated_on: str | None = None

    @property
    def contact_id(self) -> str:
        return self.record.contact_id


@dataclass(frozen=True, slots=True)
class AccountInfo:
    record: AccountRecord
    owner_id: str | None
    active: bool
    parent_id: str | None = None  # parentaccountid: the account's place in its hierarchy


@dataclass(frozen=True, slots=True)
class OpportunityInfo:
    opportunity_id: str
    owner_id: str | None
    open: bool
    parent_contact: str | None


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    connection_id: str
    opportunity_id: str
    contact_id: str
    active: bool


def connection_info(row: dict[str, Any]) -> ConnectionInfo | None:
    """An opportunity<->contact connection (either direction), else None."""
    t1, t2 = row.get("record1objecttypecode"), row.get("record2objecttypecode")
    r1, r2 = _guid(row.get("_record1id_value")), _guid(row.get("_record2id_value"))
    if t1 == OPPORTUNITY_TYPE and t2 == CONTACT_TYPE and r1 and r2:
        opp, contact = r1, r2
    elif t1 == CONTACT_TYPE and t2 == OPPORTUNITY_TYPE and r1 and r2:
        opp, contact = r2, r1
    else:
        return None
    return ConnectionInfo(str(row["connectionid"]).lower(), opp, contact, row.get("statecode") == ACTIVE)


@dataclass
class TableChanges:
    changed: list[Any] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    delta_link: str | None = None


class CrmReader:
    def __init__(self, client: DataverseClient, *, flag_column: str | None, employer_column: str | None,
                 page_size: int | None = None, identity: IdentityColumns = DEFAULT_IDENTITY,
                 validated_on_column: str | None = None) -> None:
        self.client = client
        self.identity = identity
        self.flag_column = flag_column
        self.employer_column = employer_column
        self.validated_on_column = validated_on_column
        self.page_size = page_size
        self.rows_read: Counter[str] = Counter()
        self.bad_rows: Counter[str] = Counter()  # rows that could not be converted, per table
        self.last_link: str | None = None

    def safe(self, convert: Any, row: dict[str, Any], table: str) -> Any:
        """``convert(row)``, or None (counted in ``bad_rows``) when the row is malformed: one bad row
        is skipped, never fails the run. Logged without the row's contents (personal data)."""
        try:
            return convert(row)
        except Exception as exc:
            self.bad_rows[table] += 1
            log.warning("skipped a malformed %s row: %s", table, type(exc).__name__)
            return None

    @property
    def contact_columns(self) -> list[str]:
        extra = [c for c in (self.flag_column, self.employer_column, self.validated_on_column) if c]
        return list(dict.fromkeys([*CONTACT_COLUMNS, *self.identity.columns, *extra]))

    # ------------------------------------------------------------------ row -> info
    def contact(self, row: dict[str, Any]) -> CrmContact:
        flag = row.get(self.flag_column) if self.flag_column else None
        employer = row.get(self.employer_column) if self.employer_column else None
        return CrmContact(
            record=contact_from_row(row, self.identity),
            owner_id=_guid(row.get("_ownerid_value")),
            active=row.get("statecode") == ACTIVE,
            flag_value=int(flag) if flag is not None else None,
            employer_value=employer or None,
            etag=row.get("@odata.etag"),
            validated_on=(row.get(self.validated_on_column) or None) if self.validated_on_column else None,
        )

    @staticmethod
    def account(row: dict[str, Any]) -> AccountInfo:
        return AccountInfo(account_from_row(row), _guid(row.get("_ownerid_value")),
                           row.get("statecode") == ACTIVE, _guid(row.get("_parentaccountid_value")))

    @staticmethod
    def opportunity(row: dict[str, Any]) -> OpportunityInfo:
        return OpportunityInfo(str(row["opportunityid"]).lower(), _guid(row.get("_ownerid_value")),
                               row.get("statecode") == ACTIVE, _guid(row.get("_parentcontactid_value")))

    # ------------------------------------------------------------------ change tracking
    def changes(self, entity_set: str, delta_link: str | None) -> Iterator[ChangedRow | DeletedRow]:
        """Rows of one table (all, or the changes since ``delta_link``); ``self.last_link`` afterwards."""
        columns = {
            "contacts": self.contact_columns,
            "accounts": list(ACCOUNT_COLUMNS),
            "opportunities": list(OPPORTUNITY_COLUMNS),
            "connections": list(CONNECTION_COLUMNS),
        }[entity_set]
        feed = self.client.read_changes(entity_set, select=columns, delta_link=delta_link,
                                        page_size=self.page_size)
        for item in feed:
            self.rows_read[entity_set] += 1
            yield item
        self.last_link = feed.delta_link

    def converted(self, entity_set: str, delta_link: str | None) -> Iterator[Any]:
        """The rows of ``changes`` converted (``AccountInfo``, ``OpportunityInfo``, ...), a page at a
        time; a malformed row is skipped and counted. A delta read's deleted rows come as ``DeletedRow``
        (a full read, ``delta_link`` None, has none)."""
        convert = {
            "contacts": self.contact,
            "accounts": self.account,
            "opportunities": self.opportunity,
            "connections": connection_info,
        }[entity_set]
        for item in self.changes(entity_set, delta_link):
            if isinstance(item, DeletedRow):
                if delta_link is not None:
                    yield item
            else:
                info = self.safe(convert, item.row, entity_set)
                if info is not None:
                    yield info

    def read_table(self, entity_set: str, delta_link: str | None) -> TableChanges:
        out = TableChanges()
        for item in self.converted(entity_set, delta_link):
            if isinstance(item, DeletedRow):
                out.deleted.append(item.id.lower())
            else:
                out.changed.append(item)
        out.delta_link = self.last_link
        return out

    # ------------------------------------------------------------------ targeted reads
    def _by(self, entity_set: str, column: str, ids: Iterable[str], select: list[str],
            extra: str | None = None) -> Iterator[dict[str, Any]]:
        unique = sorted({validate_guid(i).lower() for i in ids if i})
        filters = []
        for start in range(0, len(unique), CHUNK):
            condition = " or ".join(f"{column} eq {i}" for i in unique[start : start + CHUNK])
            filters.append(f"{extra} and ({condition})" if extra else condition)
        # One GET per chunk keeps each URL as short as before; query_many packs the GETs into $batch
        # requests (a single chunk goes as a plain GET), following any paging of an inner answer.
        yield from self.client.query_many(entity_set, filters, select=select, page_size=self.page_size)

    def _converted(self, convert: Any, rows: Iterable[dict[str, Any]], table: str) -> Iterator[Any]:
        for row in rows:
            info = self.safe(convert, row, table)
            if info is not None:
                yield info

    def contacts_by_id(self, ids: Iterable[str]) -> Iterator[CrmContact]:
        return self._converted(self.contact, self._by("contacts", "contactid", ids, self.contact_columns),
                               "contacts")

    def contacts_of_accounts(self, account_ids: Iterable[str]) -> Iterator[CrmContact]:
        return self._converted(self.contact, self._by("contacts", "_parentcustomerid_value", account_ids,
                                                      self.contact_columns), "contacts")

    def accounts_by_id(self, ids: Iterable[str]) -> Iterator[AccountInfo]:
        return self._converted(self.account, self._by("accounts", "accountid", ids, list(ACCOUNT_COLUMNS)),
                               "accounts")

    def accounts_by_parent(self, parent_ids: Iterable[str]) -> Iterator[AccountInfo]:
        """The accounts whose parent account is one of ``parent_ids`` (one level of a hierarchy)."""
        return self._converted(self.account, self._by("accounts", "_parentaccountid_value", parent_ids,
                                                      list(ACCOUNT_COLUMNS)), "accounts")

    def current_values(self, ids: Iterable[str], columns: list[str]) -> dict[str, dict[str, Any]]:
        """These columns of these contacts as they are *now* (a contact missing from the answer was
        deleted): to learn what a write whose answer was lost did."""
        out: dict[str, dict[str, Any]] = {}
        for row in self._by("contacts", "contactid", ids, ["contactid", *columns]):
            out[str(row["contactid"]).lower()] = {c: row.get(c) for c in columns}
        return out

    def current_flags(self, ids: Iterable[str]) -> dict[str, int | None]:
        """The flag value each of these contacts holds *now* (a contact missing from the answer was
        deleted). Used right before a write flush to drop writes a person raced."""
        if not self.flag_column:
            return {}
        out: dict[str, int | None] = {}
        for row in self._by("contacts", "contactid", ids, ["contactid", self.flag_column]):
            value = row.get(self.flag_column)
            out[str(row["contactid"]).lower()] = int(value) if value is not None else None
        return out

    def connections_of_opportunities(self, opp_ids: Iterable[str]) -> Iterator[ConnectionInfo]:
        # Dataverse keeps every connection twice (record1 <-> record2); one direction is enough.
        for row in self._by("connections", "_record1id_value", opp_ids, list(CONNECTION_COLUMNS),
                            extra="record2objecttypecode eq 2"):
            info = self.safe(connection_info, row, "connections")
            if info is not None:
                yield info

    def opportunity_links(self, contact_ids: Iterable[str], sync_owner: Any) -> set[str]:
        """Which of these contacts are parent contact or stakeholder of an open opportunity a sync user
        owns (the ``opp_linked`` scope fact), from current Dataverse data."""
        ids = set(contact_ids)
        linked: set[str] = set()
        if not ids:
            return linked
        for row in self._by("opportunities", "_parentcontactid_value", ids, list(OPPORTUNITY_COLUMNS),
                            extra="statecode eq 0"):
            info = self.safe(self.opportunity, row, "opportunities")
            if info is not None and info.parent_contact and info.owner_id in sync_owner:
                linked.add(info.parent_contact)
        by_opp: dict[str, set[str]] = {}
        for row in self._by("connections", "_record2id_value", ids, list(CONNECTION_COLUMNS),
                            extra="statecode eq 0 and record1objecttypecode eq 3"):
            info = self.safe(connection_info, row, "connections")
            if info is not None and info.contact_id in ids:
                by_opp.setdefault(info.opportunity_id, set()).add(info.contact_id)
        if by_opp:
            for row in self._by("opportunities", "opportunityid", by_opp, list(OPPORTUNITY_COLUMNS),
                                extra="statecode eq 0"):
                info = self.safe(self.opportunity, row, "opportunities")
                if info is not None and info.owner_id in sync_owner:
                    linked |= by_opp.get(info.opportunity_id, set())
        return linked
