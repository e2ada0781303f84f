"""Reads what the scan needs from Dataverse: contacts, accounts, open opportunities, connections.

Full read: ``read_changes`` without a delta link on all four tables (the answer carries the first delta
links). Delta read: ``read_changes`` with the stored links. Targeted reads (by id, by account, by
opportunity) fetch only the rows a delta run needs: one GET per ``CHUNK`` ids, many of those GETs per
``$batch`` request, so 2,500 ids cost one request. The ``read_*`` methods build those reads as
``functions.dataverse.rounds.Read`` objects, so a delta run sends reads of different tables that do not
depend on each other in the same ``$batch`` (one round); the iterator methods (``contacts_by_id`` ...)
send one kind of read on its own (``DataverseClient.query_many``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from functions.dataverse import ChangedRow, DataverseClient, DeletedRow, validate_guid
from functions.dataverse.rounds import Read, Task, run_rounds
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
    "OpportunityLinks",
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
class OpportunityLinks:
    """What decides the ``opp_linked`` scope fact of some contacts, before the sync users are known:
    the open opportunities whose parent contact is one of them, and those they are a stakeholder of."""

    contacts: frozenset[str] = frozenset()
    parent_of: list[OpportunityInfo] = field(default_factory=list)
    stakeholders: dict[str, set[str]] = field(default_factory=dict)  # opportunity id -> contacts
    connected: list[OpportunityInfo] = field(default_factory=list)  # the stakeholders' open opportunities

    def linked(self, sync_owner: Any) -> set[str]:
        """The contacts linked to an open opportunity a sync user owns."""
        linked = {o.parent_contact for o in self.parent_of
                  if o.parent_contact in self.contacts and o.owner_id in sync_owner}
        for opp in self.connected:
            if opp.owner_id in sync_owner:
                linked |= self.stakeholders.get(opp.opportunity_id, set())
        return linked


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
    @staticmethod
    def _filters(column: str, ids: Iterable[str], extra: str | None = None) -> list[str]:
        """One filter per ``CHUNK`` ids (``column eq a or column eq b ...``): keeps each URL as short as a
        plain GET's. Ids are checked to be GUIDs, so nothing else reaches the filter."""
        unique = sorted({validate_guid(i).lower() for i in ids if i})
        filters = []
        for start in range(0, len(unique), CHUNK):
            condition = " or ".join(f"{column} eq {i}" for i in unique[start : start + CHUNK])
            filters.append(f"{extra} and ({condition})" if extra else condition)
        return filters

    def _by(self, entity_set: str, column: str, ids: Iterable[str], select: list[str],
            extra: str | None = None) -> Iterator[dict[str, Any]]:
        # query_many packs the GETs into $batch requests (a single chunk goes as a plain GET), following
        # any paging of an inner answer.
        yield from self.client.query_many(entity_set, self._filters(column, ids, extra), select=select,
                                          page_size=self.page_size)

    def _read(self, entity_set: str, column: str, ids: Iterable[str], select: list[str], convert: Any,
              extra: str | None = None) -> Read:
        """The same GETs as ``_by``, as a ``Read`` for a round; rows converted (malformed ones skipped)."""
        return Read(entity_set, self._filters(column, ids, extra), select,
                    convert=lambda row: self.safe(convert, row, entity_set))

    def run(self, task: Task[Any]) -> Any:
        """Execute a task of ``Read`` rounds (``functions.dataverse.rounds``) with this reader's page size."""
        return run_rounds(self.client, task, page_size=self.page_size)

    def read_contacts_by_id(self, ids: Iterable[str]) -> Read:
        return self._read("contacts", "contactid", ids, self.contact_columns, self.contact)

    def read_contacts_of_accounts(self, account_ids: Iterable[str]) -> Read:
        return self._read("contacts", "_parentcustomerid_value", account_ids, self.contact_columns,
                          self.contact)

    def read_accounts_by_id(self, ids: Iterable[str]) -> Read:
        return self._read("accounts", "accountid", ids, list(ACCOUNT_COLUMNS), self.account)

    def read_accounts_by_parent(self, parent_ids: Iterable[str]) -> Read:
        """The accounts whose parent account is one of ``parent_ids`` (one level of a hierarchy)."""
        return self._read("accounts", "_parentaccountid_value", parent_ids, list(ACCOUNT_COLUMNS),
                          self.account)

    def read_connections_of_opportunities(self, opp_ids: Iterable[str]) -> Read:
        # Dataverse keeps every connection twice (record1 <-> record2); one direction is enough.
        return self._read("connections", "_record1id_value", opp_ids, list(CONNECTION_COLUMNS),
                          connection_info, extra="record2objecttypecode eq 2")

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

    def connections_of_opportunities(self, opp_ids: Iterable[str]) -> list[ConnectionInfo]:
        return self.run(_single(self.read_connections_of_opportunities(opp_ids)))

    def opportunity_links_task(self, contact_ids: Iterable[str]) -> Task[OpportunityLinks]:
        """Reads what decides the ``opp_linked`` fact of these contacts from current Dataverse data: the
        open opportunities they are parent contact of and their open stakeholder connections (one
        round), then the opportunities of those connections (a second round, only if there are any).
        ``OpportunityLinks.linked(sync users)`` then tells which contacts are linked."""
        ids = frozenset(contact_ids)
        links = OpportunityLinks(ids)
        if not ids:
            return links
        parent_of = self._read("opportunities", "_parentcontactid_value", ids, list(OPPORTUNITY_COLUMNS),
                               self.opportunity, extra="statecode eq 0")
        stakes = self._read("connections", "_record2id_value", ids, list(CONNECTION_COLUMNS), connection_info,
                            extra="statecode eq 0 and record1objecttypecode eq 3")
        yield [parent_of, stakes]
        links.parent_of = [o for o in parent_of.results if o.parent_contact]
        for conn in stakes.results:
            if conn.contact_id in ids:
                links.stakeholders.setdefault(conn.opportunity_id, set()).add(conn.contact_id)
        if links.stakeholders:
            opps = self._read("opportunities", "opportunityid", links.stakeholders, list(OPPORTUNITY_COLUMNS),
                              self.opportunity, extra="statecode eq 0")
            yield [opps]
            links.connected = opps.results
        return links

    def opportunity_links(self, contact_ids: Iterable[str], sync_owner: Any) -> set[str]:
        """Which of these contacts are parent contact or stakeholder of an open opportunity a sync user
        owns (the ``opp_linked`` scope fact), from current Dataverse data."""
        return self.run(self.opportunity_links_task(contact_ids)).linked(sync_owner)


def _single(read: Read) -> Task[list[Any]]:
    yield [read]
    return read.results
