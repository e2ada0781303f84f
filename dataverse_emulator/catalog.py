"""The out-of-box tables of a Dynamics 365 Sales org, reduced to the columns the app and its tests use.

Object type codes are the real ones (contact 2, account 1, opportunity 3, ...).
"""

from __future__ import annotations

from .schema import Attribute, Table

EN, DE = 1033, 1031

# Real N:N relationships: name -> (table a, table b). The same name is the navigation property
# on both sides.
RELATIONSHIPS: dict[str, tuple[str, str]] = {
    "teammembership_association": ("systemuser", "team"),
    "systemuserroles_association": ("systemuser", "role"),
    "teamroles_association": ("team", "role"),
}


def _s(name: str, length: int = 100) -> Attribute:
    return Attribute(name, "string", max_length=length)


def _memo(name: str, length: int = 2000) -> Attribute:
    return Attribute(name, "memo", max_length=length)


def _choice(name: str, options: dict[int, tuple[str, str]], kind: str = "picklist") -> Attribute:
    return Attribute(name, kind, options={v: {EN: en, DE: de} for v, (en, de) in options.items()})


def _lookup(name: str, **targets: str) -> Attribute:
    return Attribute(name, "lookup", targets=dict(targets))


def _owner() -> Attribute:
    return _lookup("ownerid", systemuser="ownerid", team="ownerid")


def _audit() -> list[Attribute]:
    return [
        Attribute("createdon", "datetime"),
        Attribute("modifiedon", "datetime"),
        Attribute("versionnumber", "bigint"),
    ]


ACTIVE_STATE = {0: ("Active", "Aktiv"), 1: ("Inactive", "Inaktiv")}
ACTIVE_STATUS = {1: ("Active", "Aktiv"), 2: ("Inactive", "Inaktiv")}
ORG_CHANGE_STATUS = {
    0: ("No Feedback", "Kein Feedback"),
    1: ("Not at Company", "Nicht im Unternehmen"),
    2: ("Ignore", "Ignorieren"),
}
CONNECTION_ROLE_CATEGORY = {
    1: ("Business", "Geschäftlich"),
    2: ("Family", "Familie"),
    3: ("Social", "Sozial"),
    4: ("Sales", "Vertrieb"),
    5: ("Other", "Andere"),
    1000: ("Stakeholder", "Stakeholder"),
    1001: ("Sales Team", "Vertriebsteam"),
    1002: ("Service", "Service"),
}


def _table(
    logical: str,
    entity_set: str,
    otc: int,
    primary_name: str | None,
    attrs: list[Attribute],
    display: str = "",
) -> Table:
    pk = Attribute(f"{logical}id", "guid")
    columns = [pk, *attrs, *_audit()]
    return Table(
        logical,
        entity_set,
        pk.logical_name,
        primary_name,
        otc,
        {a.logical_name: a for a in columns},
        display_name=display,
    )


def build_tables(*, with_msdyn_orgchangestatus: bool = False) -> dict[str, Table]:
    """All tables keyed by entity set name. Fresh objects every call (columns can be added later)."""
    contact_columns = [
        _s("fullname", 160),
        _s("firstname", 50),
        _s("lastname", 50),
        _s("middlename", 50),
        _s("jobtitle", 100),
        _s("emailaddress1", 100),
        _s("emailaddress2", 100),
        _s("emailaddress3", 100),
        _s("telephone1", 50),
        _s("mobilephone", 50),
        _s("address1_city", 80),
        _s("address1_country", 80),
        _s("address1_line1", 250),
        _s("websiteurl", 200),
        _memo("description"),
        _s("department", 100),
        _lookup("parentcustomerid", account="parentcustomerid_account", contact="parentcustomerid_contact"),
        _owner(),
        _lookup("owningbusinessunit", businessunit="owningbusinessunit"),
        _choice("statecode", ACTIVE_STATE, "state"),
        _choice("statuscode", ACTIVE_STATUS, "status"),
    ]
    if with_msdyn_orgchangestatus:
        contact_columns.append(_msdyn_orgchangestatus())
    account_columns = [
        _s("name", 160),
        _s("accountnumber", 20),
        _s("websiteurl", 200),
        _s("telephone1", 50),
        _s("emailaddress1", 100),
        _s("address1_city", 80),
        _s("address1_country", 80),
        _s("address1_line1", 250),
        _memo("description"),
        Attribute("numberofemployees", "int"),
        Attribute("revenue", "decimal"),
        _choice(
            "industrycode",
            {
                1: ("Accounting", "Buchhaltung"),
                2: ("Agriculture", "Landwirtschaft"),
                3: ("Broadcasting", "Rundfunk"),
                4: ("Brokers", "Makler"),
                5: ("Building Supply Retail", "Baustoffhandel"),
                6: ("Business Services", "Unternehmensdienstleistungen"),
                7: ("Consulting", "Beratung"),
                8: ("Consumer Services", "Verbraucherdienste"),
                9: ("Design, Direction and Creative Management", "Design"),
                10: ("Distributors, Dispatchers and Processors", "Vertrieb"),
                11: ("Doctor's Offices and Clinics", "Arztpraxen"),
                12: ("Durable Manufacturing", "Gebrauchsgüterherstellung"),
                13: ("Eating and Drinking Places", "Gastronomie"),
                14: ("Entertainment Retail", "Unterhaltung"),
                15: ("Equipment Rental and Leasing", "Vermietung"),
                16: ("Financial", "Finanzen"),
                17: ("Food and Tobacco Processing", "Lebensmittel"),
                18: ("Inbound Capital Intensive Processing", "Kapitalintensive Verarbeitung"),
                19: ("Inbound Repair and Services", "Reparatur"),
                20: ("Insurance", "Versicherung"),
                21: ("Legal Services", "Rechtsberatung"),
                22: ("Non-Durable Merchandise Retail", "Einzelhandel"),
                23: ("Outbound Consumer Service", "Kundendienst"),
                24: ("Petrochemical Extraction and Distribution", "Petrochemie"),
                25: ("Service Retail", "Dienstleistungshandel"),
                26: ("SIG Affiliations", "SIG"),
                27: ("Social Services", "Soziales"),
                28: ("Special Outbound Trade Contractors", "Auftragnehmer"),
                29: ("Specialty Realty", "Immobilien"),
                30: ("Transportation", "Transport"),
                31: ("Utility Creation and Distribution", "Versorgung"),
                32: ("Vehicle Retail", "Fahrzeughandel"),
                33: ("Wholesale", "Großhandel"),
            },
        ),
        _choice(
            "customertypecode",
            {
                1: ("Competitor", "Mitbewerber"),
                2: ("Consultant", "Berater"),
                3: ("Customer", "Kunde"),
                4: ("Investor", "Investor"),
                5: ("Partner", "Partner"),
                6: ("Influencer", "Beeinflusser"),
                7: ("Press", "Presse"),
                8: ("Prospect", "Interessent"),
                9: ("Reseller", "Wiederverkäufer"),
                10: ("Supplier", "Lieferant"),
                11: ("Vendor", "Anbieter"),
                12: ("Other", "Sonstiges"),
            },
        ),
        _lookup("primarycontactid", contact="primarycontactid"),
        _lookup("parentaccountid", account="parentaccountid"),
        _owner(),
        _choice("statecode", ACTIVE_STATE, "state"),
        _choice("statuscode", ACTIVE_STATUS, "status"),
    ]
    opportunity_columns = [
        _s("name", 300),
        _memo("description"),
        Attribute("estimatedvalue", "decimal"),
        Attribute("estimatedclosedate", "datetime", format="DateOnly"),
        Attribute("closeprobability", "int"),
        _choice("opportunityratingcode", {1: ("Hot", "Heiß"), 2: ("Warm", "Warm"), 3: ("Cold", "Kalt")}),
        _lookup("parentcontactid", contact="parentcontactid"),
        _lookup("parentaccountid", account="parentaccountid"),
        _lookup("customerid", account="customerid_account", contact="customerid_contact"),
        _owner(),
        _choice(
            "statecode", {0: ("Open", "Offen"), 1: ("Won", "Gewonnen"), 2: ("Lost", "Verloren")}, "state"
        ),
        _choice(
            "statuscode",
            {
                1: ("In Progress", "In Bearbeitung"),
                2: ("On Hold", "Angehalten"),
                3: ("Won", "Gewonnen"),
                4: ("Canceled", "Storniert"),
                5: ("Out-Sold", "Verloren"),
            },
            "status",
        ),
    ]
    record_targets = {
        "opportunity": "record{n}id_opportunity",
        "contact": "record{n}id_contact",
        "account": "record{n}id_account",
        "systemuser": "record{n}id_systemuser",
    }
    connection_columns = [
        _s("name", 500),
        _memo("description"),
        _lookup("record1id", **{t: n.format(n=1) for t, n in record_targets.items()}),
        _lookup("record2id", **{t: n.format(n=2) for t, n in record_targets.items()}),
        _lookup("record1roleid", connectionrole="record1roleid"),
        _lookup("record2roleid", connectionrole="record2roleid"),
        Attribute("record1objecttypecode", "int"),
        Attribute("record2objecttypecode", "int"),
        _lookup("relatedconnectionid", connection="relatedconnectionid"),
        Attribute("ismaster", "bool"),
        Attribute("effectivestart", "datetime"),
        Attribute("effectiveend", "datetime"),
        _owner(),
        _choice("statecode", ACTIVE_STATE, "state"),
        _choice("statuscode", ACTIVE_STATUS, "status"),
    ]
    tables = [
        _table("contact", "contacts", 2, "fullname", contact_columns, "Contact"),
        _table("account", "accounts", 1, "name", account_columns, "Account"),
        _table("opportunity", "opportunities", 3, "name", opportunity_columns, "Opportunity"),
        _table("connection", "connections", 3234, "name", connection_columns, "Connection"),
        _table(
            "connectionrole",
            "connectionroles",
            3231,
            "name",
            [
                _s("name", 100),
                _memo("description"),
                _choice("category", CONNECTION_ROLE_CATEGORY),
                Attribute("ismanaged", "bool"),
                _choice("statecode", ACTIVE_STATE, "state"),
            ],
            "Connection Role",
        ),
        _table(
            "systemuser",
            "systemusers",
            8,
            "fullname",
            [
                _s("fullname", 200),
                _s("firstname", 64),
                _s("lastname", 64),
                _s("internalemailaddress", 100),
                _s("domainname", 1024),
                _s("title", 128),
                Attribute("isdisabled", "bool"),
                Attribute("islicensed", "bool"),
                _choice(
                    "accessmode",
                    {
                        0: ("Read-Write", "Lesen/Schreiben"),
                        1: ("Administrative", "Administrativ"),
                        2: ("Read", "Lesen"),
                        3: ("Support User", "Supportbenutzer"),
                        4: ("Non-interactive", "Nicht interaktiv"),
                        5: ("Delegated Admin", "Delegierter Administrator"),
                    },
                ),
                Attribute("applicationid", "guid"),
                Attribute("azureactivedirectoryobjectid", "guid"),
                _lookup("businessunitid", businessunit="businessunitid"),
            ],
            "User",
        ),
        _table(
            "team",
            "teams",
            9,
            "name",
            [
                _s("name", 160),
                _memo("description"),
                Attribute("isdefault", "bool"),
                _choice(
                    "teamtype",
                    {
                        0: ("Owner", "Besitzer"),
                        1: ("Access", "Zugriff"),
                        2: ("Security Group", "Sicherheitsgruppe"),
                        3: ("Office Group", "Office-Gruppe"),
                    },
                ),
                Attribute("azureactivedirectoryobjectid", "guid"),
                _lookup("businessunitid", businessunit="businessunitid"),
            ],
            "Team",
        ),
        _table(
            "role",
            "roles",
            1036,
            "name",
            [
                _s("name", 100),
                Attribute("ismanaged", "bool"),
                _lookup("businessunitid", businessunit="businessunitid"),
            ],
            "Security Role",
        ),
        _table(
            "savedquery",
            "savedqueries",
            1039,
            "name",
            [
                _s("name", 200),
                Attribute("returnedtypecode", "entityname"),
                Attribute("querytype", "int"),
                _memo("fetchxml", 1_048_576),
                _memo("layoutxml", 1_048_576),
                _memo("description"),
                Attribute("isdefault", "bool"),
                Attribute("isquickfindquery", "bool"),
                Attribute("ismanaged", "bool"),
                Attribute("iscustomizable", "bool"),
                _choice("statecode", ACTIVE_STATE, "state"),
                _choice("statuscode", ACTIVE_STATUS, "status"),
            ],
            "View",
        ),
        _table(
            "solution",
            "solutions",
            7100,
            "friendlyname",
            [
                _s("uniquename", 65),
                _s("friendlyname", 256),
                _s("version", 256),
                _memo("description"),
                _lookup("publisherid", publisher="publisherid"),
                Attribute("ismanaged", "bool"),
                Attribute("isvisible", "bool"),
            ],
            "Solution",
        ),
        _table(
            "publisher",
            "publishers",
            7101,
            "friendlyname",
            [
                _s("uniquename", 256),
                _s("friendlyname", 256),
                _s("customizationprefix", 8),
                Attribute("customizationoptionvalueprefix", "int"),
                _memo("description"),
            ],
            "Publisher",
        ),
        _table(
            "solutioncomponent",
            "solutioncomponents",
            7103,
            None,
            [
                Attribute("componenttype", "int"),
                Attribute("objectid", "guid"),
                _lookup("solutionid", solution="solutionid"),
            ],
            "Solution Component",
        ),
        _table(
            "sdkmessage",
            "sdkmessages",
            4606,
            "name",
            [_s("name", 256), _s("categoryname", 25)],
            "Sdk Message",
        ),
        _table(
            "sdkmessagefilter",
            "sdkmessagefilters",
            4607,
            None,
            [
                _lookup("sdkmessageid", sdkmessage="sdkmessageid"),
                Attribute("primaryobjecttypecode", "entityname"),
                Attribute("secondaryobjecttypecode", "entityname"),
                Attribute("isvisible", "bool"),
                Attribute("iscustomprocessingstepallowed", "bool"),
            ],
            "Sdk Message Filter",
        ),
        _table(
            "organization",
            "organizations",
            1019,
            "name",
            [
                _s("name", 160),
                Attribute("languagecode", "int"),
                Attribute("expirechangetrackingindays", "int"),
            ],
            "Organization",
        ),
    ]
    return {t.entity_set: t for t in tables}


def _msdyn_orgchangestatus() -> Attribute:
    return Attribute(
        "msdyn_orgchangestatus",
        "picklist",
        options={v: {EN: en, DE: de} for v, (en, de) in ORG_CHANGE_STATUS.items()},
        schema_name="msdyn_orgchangestatus",
        display_name={EN: "Not at Company Flag", DE: "Kennzeichen 'Nicht im Unternehmen'"},
    )
