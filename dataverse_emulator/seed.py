"""Out-of-box rows every org has: organization, publishers, solutions, system views, connection
roles, SDK messages and their filters, and the application user the emulator runs as."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .schema import stable_id

if TYPE_CHECKING:
    from .service import Service

STAKEHOLDER_ROLES = (
    "Stakeholder",
    "Champion",
    "Decision Maker",
    "End User",
    "Economic Buyer",
    "Influencer",
    "Technical Buyer",
)
OTHER_ROLES = (
    ("Sales Professional", 1001),
    ("Technical Sales Professional", 1001),
    ("Referral", 4),
    ("Competitor", 4),
    ("Former Employee", 1),
    ("Partner", 1),
    ("Colleague", 1),
    ("Friend", 3),
)
MESSAGES = (
    "Create",
    "Update",
    "Delete",
    "Retrieve",
    "RetrieveMultiple",
    "Associate",
    "Disassociate",
    "CreateMultiple",
    "UpdateMultiple",
    "UpsertMultiple",
)
BULK_MESSAGES = frozenset({"CreateMultiple", "UpdateMultiple", "UpsertMultiple"})
DATA_TABLES = ("contact", "account", "opportunity", "connection", "systemuser", "team", "role", "savedquery")

CONTACT_FETCH = (
    "<fetch version='1.0' output-format='xml-platform' mapping='logical' distinct='false'>"
    "<entity name='contact'><attribute name='fullname' /><attribute name='parentcustomerid' />"
    "<attribute name='emailaddress1' /><order attribute='fullname' descending='false' />"
    "<filter type='and'><condition attribute='statecode' operator='eq' value='0' />{extra}</filter>"
    "<attribute name='contactid' /></entity></fetch>"
)
CONTACT_LAYOUT = (
    "<grid name='resultset' object='2' jump='fullname' select='1' icon='1' preview='1'>"
    "<row name='result' id='contactid'><cell name='fullname' width='300' />"
    "<cell name='parentcustomerid' width='150' /><cell name='emailaddress1' width='150' /></row></grid>"
)
OPPORTUNITY_FETCH = (
    "<fetch version='1.0' output-format='xml-platform' mapping='logical' distinct='false'>"
    "<entity name='opportunity'><attribute name='name' /><attribute name='customerid' />"
    "<attribute name='estimatedvalue' /><attribute name='estimatedclosedate' />"
    "<order attribute='estimatedclosedate' descending='false' /><filter type='and'>"
    "<condition attribute='statecode' operator='eq' value='0' />{extra}</filter>"
    "<attribute name='opportunityid' /></entity></fetch>"
)
OPPORTUNITY_LAYOUT = (
    "<grid name='resultset' object='3' jump='name' select='1' icon='1' preview='1'>"
    "<row name='result' id='opportunityid'><cell name='name' width='300' />"
    "<cell name='customerid' width='150' /><cell name='estimatedvalue' width='150' />"
    "<cell name='estimatedclosedate' width='150' /></row></grid>"
)
MINE = "<condition attribute='ownerid' operator='eq-userid' />"


def seed(svc: Service, *, expire_change_tracking_in_days: int = 7) -> None:
    """Insert the OOB rows. Ids are stable (uuid5) so every emulator run looks the same."""
    store = svc.store
    store.insert(
        "organizations",
        {
            "organizationid": svc.organization_id,
            "name": "Emulated Organization",
            "languagecode": svc.base_language,
            "expirechangetrackingindays": expire_change_tracking_in_days,
        },
    )
    default_pub = stable_id("publisher", "default")
    cds_pub = stable_id("publisher", "cds")
    store.insert(
        "publishers",
        {
            "publisherid": default_pub,
            "uniquename": "DefaultPublisheremulated",
            "friendlyname": "Default Publisher for emulated",
            "customizationprefix": "new",
            "customizationoptionvalueprefix": 10000,
        },
    )
    store.insert(
        "publishers",
        {
            "publisherid": cds_pub,
            "uniquename": "Cr4d7e1",
            "friendlyname": "CDS Default Publisher",
            "customizationprefix": "cr4d7",
            "customizationoptionvalueprefix": 68470,
        },
    )
    store.insert(
        "publishers",
        {
            "publisherid": stable_id("publisher", "microsoft"),
            "uniquename": "MicrosoftCorporation",
            "friendlyname": "MicrosoftCorporation",
            "customizationprefix": "msdyn",
            "customizationoptionvalueprefix": 19235,
        },
    )
    for unique, friendly, publisher, managed in (
        ("Default", "Default Solution", default_pub, False),
        ("Active", "Active Solution", default_pub, False),
        ("Crf4d7e1", "Common Data Services Default Solution", cds_pub, False),
        ("System", "System Solution", default_pub, True),
    ):
        store.insert(
            "solutions",
            {
                "solutionid": stable_id("solution", unique),
                "uniquename": unique,
                "friendlyname": friendly,
                "version": "1.0",
                "_publisherid_value": publisher,
                "ismanaged": managed,
                "isvisible": unique not in ("Active", "System"),
            },
        )
    views = (
        ("Active Contacts", "contact", CONTACT_FETCH.format(extra=""), CONTACT_LAYOUT, True),
        ("My Active Contacts", "contact", CONTACT_FETCH.format(extra=MINE), CONTACT_LAYOUT, False),
        (
            "Inactive Contacts",
            "contact",
            CONTACT_FETCH.format(extra="").replace("value='0'", "value='1'"),
            CONTACT_LAYOUT,
            False,
        ),
        ("Open Opportunities", "opportunity", OPPORTUNITY_FETCH.format(extra=""), OPPORTUNITY_LAYOUT, True),
        (
            "My Open Opportunities",
            "opportunity",
            OPPORTUNITY_FETCH.format(extra=MINE),
            OPPORTUNITY_LAYOUT,
            False,
        ),
    )
    for name, entity, fetch, layout, default in views:
        store.insert(
            "savedqueries",
            {
                "savedqueryid": stable_id("savedquery", name),
                "name": name,
                "returnedtypecode": entity,
                "querytype": 0,
                "fetchxml": fetch,
                "layoutxml": layout,
                "isdefault": default,
                "isquickfindquery": False,
                "ismanaged": True,
                "iscustomizable": True,
                "statecode": 0,
                "statuscode": 1,
            },
        )
    seed_connection_roles(svc, skip=())
    message_ids = {}
    for name in MESSAGES:
        message_ids[name] = stable_id("sdkmessage", name)
        store.insert("sdkmessages", {"sdkmessageid": message_ids[name], "name": name, "categoryname": ""})
    for table in DATA_TABLES:
        for name in MESSAGES:
            if name in BULK_MESSAGES and table not in svc.bulk_tables:
                continue
            store.insert(
                "sdkmessagefilters",
                {
                    "sdkmessagefilterid": stable_id("sdkmessagefilter", name, table),
                    "_sdkmessageid_value": message_ids[name],
                    "primaryobjecttypecode": table,
                    "secondaryobjecttypecode": "none",
                    "isvisible": True,
                    "iscustomprocessingstepallowed": True,
                },
            )
    store.insert(
        "systemusers",
        {
            "systemuserid": svc.user_id,
            "fullname": "# Data Validation",
            "firstname": "#",
            "lastname": "Data Validation",
            "internalemailaddress": "datavalidation@emulated.invalid",
            "isdisabled": False,
            "islicensed": False,
            "accessmode": 4,
            "applicationid": stable_id("application", "data-validation"),
            "_businessunitid_value": svc.business_unit_id,
        },
    )


def seed_connection_roles(svc: Service, skip: Iterable[str]) -> None:
    """The OOB connection roles (Stakeholder category 1000 and others), except names in ``skip``."""
    skipped = {s.lower() for s in skip}
    roles = [(name, 1000) for name in STAKEHOLDER_ROLES] + list(OTHER_ROLES)
    for name, category in roles:
        if name.lower() in skipped:
            continue
        svc.store.insert(
            "connectionroles",
            {
                "connectionroleid": stable_id("connectionrole", name),
                "name": name,
                "category": category,
                "ismanaged": True,
                "statecode": 0,
            },
        )
