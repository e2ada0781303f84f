"""Builds the labelled scenario set for the verdict engine (issue #3) as JSON Lines files.

Run ``python tests/data/scenarios/build_scenarios.py`` from the repository root to regenerate. The output
is deterministic (seeded RNG, no clock), so a re-run with unchanged code gives byte-identical files. The
``*.jsonl`` files are the source of truth for the tests; this script only exists so they can be regenerated
and extended in one place.

Labels follow product.md §4 as a careful human would apply it, never the engine's output:

* LEFT: strong person match (profile URL equal, work email equal, or exact name plus an e-mail at the
  same domain), the profile shows an *ended* position at the account (same LinkedIn page, domain or name
  variant), the primary (current) job is at a clearly different company, and ``last_verified`` is within
  ~150 days of ``today`` (stale cases use >= 240 days, so nothing sits near the 180-day line).
* STILL_THERE: strong person match and the primary employer is the account (same LinkedIn page, same
  registrable domain, legal-form / case / punctuation / umlaut / transliteration variant, or a known alias).
* UNKNOWN: everything else (no profile, weak or conflicting person match, stale data, open non-primary
  job at the account, rebrand known only by its new name, moves within a group, no primary job, no account).

Every non-LEFT label can be decided from the data in the record (aliases, parent names, identifiers,
dates); no case needs world knowledge the records do not carry, except where a description says so.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent
RNG = random.Random(20261101)

TODAYS = ("2026-11-01", "2026-10-15", "2026-11-27", "2026-09-30", "2026-12-01")


# --------------------------------------------------------------------------------------------- companies
@dataclass(frozen=True)
class Co:
    key: str
    name: str
    domain: str
    slug: str
    li_id: str
    country: str
    variants: tuple[
        str, ...
    ] = ()  # same company after normalisation (legal form, case, punctuation, umlauts)
    site: str | None = None  # the website as the CRM typically has it (defaults to a form of the domain)
    hard_variants: tuple[str, ...] = ()  # same company, but harder to normalise (spacing, "und", ß)
    native: tuple[str, ...] = ()  # the name in its own script: only decidable together with an identifier


def _is_latin(s: str) -> bool:
    return all(ord(ch) < 0x2E80 for ch in s)


def _co(key, name, domain, slug, li_id, country, variants=(), site=None) -> Co:
    easy = tuple(v for v in variants if _is_latin(v) and not v.startswith("~"))
    hard = tuple(v[1:] for v in variants if v.startswith("~"))
    native = tuple(v for v in variants if not _is_latin(v))
    return Co(key, name, domain, slug, li_id, country, easy, site, hard, native)


# Companies with no parent/subsidiary/rebrand relation to each other: safe endpoints for plain moves.
POOL: dict[str, Co] = {
    c.key: c
    for c in [
        # Germany
        _co(
            "siemens",
            "Siemens AG",
            "siemens.com",
            "siemens",
            "2431",
            "DE",
            ["Siemens", "SIEMENS AG", "Siemens Aktiengesellschaft"],
        ),
        _co("sap", "SAP SE", "sap.com", "sap", "1115", "DE", ["SAP", "sap se", "SAP S.E."]),
        _co("basf", "BASF SE", "basf.com", "basf", "2784", "DE", ["BASF", "Basf Se"]),
        _co(
            "bosch",
            "Robert Bosch GmbH",
            "bosch.com",
            "bosch",
            "2525",
            "DE",
            ["Robert Bosch", "ROBERT BOSCH GMBH", "~Robert-Bosch GmbH"],
        ),
        _co(
            "telekom",
            "Deutsche Telekom AG",
            "telekom.com",
            "deutsche-telekom",
            "3264",
            "DE",
            ["Deutsche Telekom", "DEUTSCHE TELEKOM AG", "Deutsche Telekom Aktiengesellschaft"],
        ),
        _co(
            "henkel",
            "Henkel AG & Co. KGaA",
            "henkel.com",
            "henkel",
            "2746",
            "DE",
            ["Henkel", "Henkel AG & Co KGaA", "HENKEL AG & CO. KGAA"],
        ),
        _co(
            "zalando",
            "Zalando SE",
            "zalando.com",
            "zalando-se",
            "263412",
            "DE",
            ["Zalando", "zalando SE", "ZALANDO SE"],
            site="https://corporate.zalando.com/en",
        ),
        _co(
            "lufthansa",
            "Deutsche Lufthansa AG",
            "lufthansagroup.com",
            "lufthansa-group",
            "3412",
            "DE",
            ["Deutsche Lufthansa", "Deutsche Lufthansa Aktiengesellschaft", "DEUTSCHE LUFTHANSA AG"],
        ),
        _co("bayer", "Bayer AG", "bayer.com", "bayer", "2137", "DE", ["Bayer", "BAYER AG"]),
        _co("adidas", "adidas AG", "adidas.com", "adidas", "2081", "DE", ["Adidas", "ADIDAS AG", "adidas"]),
        _co(
            "infineon",
            "Infineon Technologies AG",
            "infineon.com",
            "infineon-technologies",
            "3211",
            "DE",
            ["Infineon Technologies", "INFINEON TECHNOLOGIES AG"],
        ),
        _co("sixt", "Sixt SE", "sixt.com", "sixt", "11227", "DE", ["Sixt", "SIXT SE"]),
        _co(
            "wuerth",
            "Adolf Würth GmbH & Co. KG",
            "wuerth.de",
            "wuerth-group",
            "166334",
            "DE",
            ["Adolf Wuerth GmbH & Co. KG", "ADOLF WÜRTH GMBH & CO. KG", "Adolf Wurth GmbH & Co KG"],
        ),
        _co(
            "oetker",
            "Dr. August Oetker KG",
            "oetker.com",
            "dr-oetker",
            "40311",
            "DE",
            ["Dr. August Oetker", "DR. AUGUST OETKER KG", "Dr August Oetker KG"],
        ),
        _co(
            "bertelsmann",
            "Bertelsmann SE & Co. KGaA",
            "bertelsmann.com",
            "bertelsmann",
            "8813",
            "DE",
            ["Bertelsmann", "Bertelsmann SE & Co KGaA", "BERTELSMANN SE & CO. KGAA"],
        ),
        _co(
            "grossmann",
            "Großmann Maschinenbau GmbH",
            "grossmann-maschinenbau.de",
            "grossmann-maschinenbau",
            "5513021",
            "DE",
            ["Grossmann Maschinenbau GmbH", "GROSSMANN MASCHINENBAU GMBH", "~Großmann Maschinenbau"],
        ),
        _co(
            "boehm",
            "Böhm & Söhne Logistik GmbH & Co. KG",
            "boehm-logistik.de",
            "boehm-logistik",
            "7781204",
            "DE",
            [
                "Boehm & Soehne Logistik GmbH & Co. KG",
                "~Böhm und Söhne Logistik GmbH & Co. KG",
                "BÖHM & SÖHNE LOGISTIK GMBH & CO. KG",
                "~Bohm & Sohne Logistik",
            ],
        ),
        _co(
            "schaeffler",
            "Schaeffler AG",
            "schaeffler.com",
            "schaeffler",
            "16094",
            "DE",
            ["Schaeffler", "SCHAEFFLER AG"],
        ),
        _co(
            "koerber",
            "Körber AG",
            "koerber.com",
            "koerber",
            "1264551",
            "DE",
            ["Koerber AG", "KÖRBER AG", "Korber AG"],
        ),
        _co(
            "rossmann",
            "Dirk Rossmann GmbH",
            "rossmann.de",
            "rossmann",
            "2690331",
            "DE",
            ["Dirk Rossmann", "DIRK ROSSMANN GMBH", "~Dirk Roßmann GmbH"],
        ),
        _co(
            "sueddeutscher",
            "Süddeutscher Verlag GmbH",
            "sueddeutscher-verlag.de",
            "sueddeutscher-verlag",
            "418277",
            "DE",
            ["Sueddeutscher Verlag GmbH", "Süddeutscher Verlag", "SUEDDEUTSCHER VERLAG GMBH"],
        ),
        _co(
            "weidmueller",
            "Weidmüller Interface GmbH & Co. KG",
            "weidmueller.com",
            "weidmueller",
            "96315",
            "DE",
            [
                "Weidmueller Interface GmbH & Co. KG",
                "WEIDMÜLLER INTERFACE GMBH & CO. KG",
                "Weidmuller Interface GmbH & Co KG",
            ],
        ),
        _co(
            "deutschebank",
            "Deutsche Bank AG",
            "db.com",
            "deutsche-bank",
            "3178",
            "DE",
            ["Deutsche Bank", "DEUTSCHE BANK AG", "Deutsche Bank Aktiengesellschaft"],
        ),
        # United Kingdom
        _co(
            "unilever",
            "Unilever PLC",
            "unilever.com",
            "unilever",
            "1387",
            "GB",
            ["Unilever", "UNILEVER PLC", "Unilever p.l.c."],
        ),
        _co(
            "barclays",
            "Barclays PLC",
            "home.barclays",
            "barclays-bank",
            "2470",
            "GB",
            ["Barclays", "BARCLAYS PLC", "Barclays plc"],
            site="https://home.barclays/",
        ),
        _co(
            "vodafone",
            "Vodafone Group Plc",
            "vodafone.com",
            "vodafone",
            "2102",
            "GB",
            ["Vodafone Group", "VODAFONE GROUP PLC", "Vodafone Group Public Limited Company"],
        ),
        _co("tesco", "Tesco PLC", "tescoplc.com", "tesco", "3063", "GB", ["Tesco", "TESCO PLC"]),
        _co(
            "astrazeneca",
            "AstraZeneca PLC",
            "astrazeneca.com",
            "astrazeneca",
            "4187",
            "GB",
            ["AstraZeneca", "ASTRAZENECA PLC", "~Astra Zeneca plc"],
        ),
        _co("diageo", "Diageo plc", "diageo.com", "diageo", "1881", "GB", ["Diageo", "DIAGEO PLC"]),
        _co(
            "sainsburys",
            "J Sainsbury plc",
            "sainsburys.co.uk",
            "sainsbury's",
            "4301",
            "GB",
            ["J. Sainsbury PLC", "J Sainsbury Plc", "J SAINSBURY PLC"],
            site="https://www.about.sainsburys.co.uk/",
        ),
        _co(
            "btgroup",
            "BT Group plc",
            "bt.com",
            "bt",
            "2029",
            "GB",
            ["BT Group", "BT GROUP PLC", "~B.T. Group plc"],
        ),
        _co(
            "ocado",
            "Ocado Group plc",
            "ocadogroup.com",
            "ocado-group",
            "83271",
            "GB",
            ["Ocado Group", "OCADO GROUP PLC"],
        ),
        _co("arm", "Arm Limited", "arm.com", "arm", "3315", "GB", ["Arm Ltd", "ARM LIMITED", "Arm Ltd."]),
        _co(
            "mands",
            "Marks and Spencer Group plc",
            "marksandspencer.com",
            "marks-and-spencer",
            "2971",
            "GB",
            ["Marks & Spencer Group plc", "MARKS AND SPENCER GROUP PLC", "Marks and Spencer Group"],
        ),
        _co("wise", "Wise plc", "wise.com", "wiseaccount", "1066442", "GB", ["Wise", "WISE PLC"]),
        # United States
        _co(
            "microsoft",
            "Microsoft Corporation",
            "microsoft.com",
            "microsoft",
            "1035",
            "US",
            ["Microsoft", "Microsoft Corp.", "MICROSOFT CORPORATION"],
        ),
        _co(
            "salesforce",
            "Salesforce, Inc.",
            "salesforce.com",
            "salesforce",
            "3185",
            "US",
            ["Salesforce", "SALESFORCE INC", "Salesforce Inc."],
        ),
        _co(
            "oracle",
            "Oracle Corporation",
            "oracle.com",
            "oracle",
            "1028",
            "US",
            ["Oracle", "Oracle Corp", "ORACLE CORPORATION"],
        ),
        _co(
            "ibm",
            "International Business Machines Corporation",
            "ibm.com",
            "ibm",
            "1009",
            "US",
            [
                "International Business Machines Corp.",
                "INTERNATIONAL BUSINESS MACHINES CORPORATION",
                "International Business Machines",
            ],
        ),
        _co(
            "pfizer",
            "Pfizer Inc.",
            "pfizer.com",
            "pfizer",
            "1185",
            "US",
            ["Pfizer", "PFIZER INC", "Pfizer, Inc."],
        ),
        _co(
            "pg",
            "The Procter & Gamble Company",
            "pg.com",
            "procter-and-gamble",
            "1116",
            "US",
            [
                "Procter & Gamble",
                "Procter and Gamble Co.",
                "PROCTER & GAMBLE CO",
                "The Procter and Gamble Company",
            ],
        ),
        _co(
            "cisco",
            "Cisco Systems, Inc.",
            "cisco.com",
            "cisco",
            "1063",
            "US",
            ["Cisco Systems", "CISCO SYSTEMS INC", "Cisco Systems Inc."],
        ),
        _co(
            "intel",
            "Intel Corporation",
            "intel.com",
            "intel-corporation",
            "1053",
            "US",
            ["Intel", "Intel Corp.", "INTEL CORPORATION"],
        ),
        _co(
            "nvidia",
            "NVIDIA Corporation",
            "nvidia.com",
            "nvidia",
            "3608",
            "US",
            ["Nvidia", "NVIDIA Corp", "Nvidia Corporation"],
        ),
        _co("adobe", "Adobe Inc.", "adobe.com", "adobe", "1480", "US", ["Adobe", "ADOBE INC", "Adobe, Inc."]),
        _co(
            "stripe",
            "Stripe, Inc.",
            "stripe.com",
            "stripe",
            "2135371",
            "US",
            ["Stripe", "STRIPE INC", "Stripe Inc"],
        ),
        _co(
            "cocacola",
            "The Coca-Cola Company",
            "coca-colacompany.com",
            "the-coca-cola-company",
            "1694",
            "US",
            ["Coca-Cola Company", "The Coca Cola Company", "COCA-COLA CO"],
        ),
        _co(
            "pepsico",
            "PepsiCo, Inc.",
            "pepsico.com",
            "pepsico",
            "1165",
            "US",
            ["PepsiCo", "PEPSICO INC", "Pepsico Inc."],
        ),
        _co(
            "jnj",
            "Johnson & Johnson",
            "jnj.com",
            "johnson-&-johnson",
            "1207",
            "US",
            ["Johnson and Johnson", "JOHNSON & JOHNSON", "Johnson & Johnson Inc."],
        ),
        _co(
            "hubspot",
            "HubSpot, Inc.",
            "hubspot.com",
            "hubspot",
            "68529",
            "US",
            ["HubSpot", "Hubspot Inc", "HUBSPOT INC"],
        ),
        _co(
            "snowflake",
            "Snowflake Inc.",
            "snowflake.com",
            "snowflake-computing",
            "3653845",
            "US",
            ["Snowflake", "SNOWFLAKE INC", "Snowflake, Inc."],
        ),
        _co("workday", "Workday, Inc.", "workday.com", "workday", "17719", "US", ["Workday", "WORKDAY INC"]),
        _co(
            "servicenow",
            "ServiceNow, Inc.",
            "servicenow.com",
            "servicenow",
            "29352",
            "US",
            ["ServiceNow", "SERVICENOW INC", "~Service Now, Inc."],
        ),
        _co(
            "atlassian",
            "Atlassian Corporation",
            "atlassian.com",
            "atlassian",
            "22688",
            "AU",
            ["Atlassian", "Atlassian Corp.", "ATLASSIAN CORPORATION"],
        ),
        # France
        _co(
            "loreal",
            "L'Oréal S.A.",
            "loreal.com",
            "l'oreal",
            "3029",
            "FR",
            ["L'Oreal", "L'ORÉAL SA", "~LOreal S.A.", "~L’Oréal"],
        ),
        _co(
            "danone",
            "Danone S.A.",
            "danone.com",
            "danone",
            "2419",
            "FR",
            ["Danone", "DANONE SA", "Danone SA"],
        ),
        _co(
            "capgemini",
            "Capgemini SE",
            "capgemini.com",
            "capgemini",
            "157240",
            "FR",
            ["Capgemini", "CAPGEMINI SE", "~Cap Gemini SE"],
        ),
        _co(
            "schneider",
            "Schneider Electric SE",
            "se.com",
            "schneider-electric",
            "2380",
            "FR",
            ["Schneider Electric", "SCHNEIDER ELECTRIC SE", "~Schneider-Electric SE"],
            site="https://www.se.com/fr/fr/",
        ),
        _co(
            "bnp",
            "BNP Paribas S.A.",
            "bnpparibas.com",
            "bnp-paribas",
            "2367",
            "FR",
            ["BNP Paribas", "BNP PARIBAS SA", "~B.N.P. Paribas"],
        ),
        _co("axa", "AXA S.A.", "axa.com", "axa", "1399", "FR", ["AXA", "Axa SA", "AXA SA"]),
        _co(
            "michelin",
            "Compagnie Générale des Établissements Michelin",
            "michelin.com",
            "michelin",
            "2467",
            "FR",
            [
                "Compagnie Generale des Etablissements Michelin",
                "COMPAGNIE GÉNÉRALE DES ÉTABLISSEMENTS MICHELIN SCA",
                "Compagnie Générale des Établissements Michelin SCA",
            ],
        ),
        _co(
            "socgen",
            "Société Générale S.A.",
            "societegenerale.com",
            "societe-generale",
            "2441",
            "FR",
            ["Societe Generale", "SOCIÉTÉ GÉNÉRALE SA", "Société Générale", "Societe Generale SA"],
        ),
        _co(
            "dassault",
            "Dassault Systèmes SE",
            "3ds.com",
            "dassault-systemes",
            "3396",
            "FR",
            ["Dassault Systemes", "DASSAULT SYSTÈMES SE", "Dassault Systèmes"],
        ),
        # Netherlands
        _co(
            "philips",
            "Koninklijke Philips N.V.",
            "philips.com",
            "philips",
            "1311",
            "NL",
            ["Koninklijke Philips NV", "KONINKLIJKE PHILIPS N.V.", "Koninklijke Philips"],
        ),
        _co(
            "asml", "ASML Holding N.V.", "asml.com", "asml", "4119", "NL", ["ASML Holding NV", "ASML Holding"]
        ),
        _co(
            "ing",
            "ING Groep N.V.",
            "ing.com",
            "ing",
            "3024",
            "NL",
            ["ING Groep NV", "ING Groep", "ING GROEP N.V."],
        ),
        _co(
            "heineken",
            "Heineken N.V.",
            "theheinekencompany.com",
            "heineken",
            "1871",
            "NL",
            ["Heineken NV", "HEINEKEN N.V.", "Heineken"],
        ),
        _co("adyen", "Adyen N.V.", "adyen.com", "adyen", "1081283", "NL", ["Adyen", "ADYEN NV", "Adyen NV"]),
        _co(
            "booking",
            "Booking.com B.V.",
            "booking.com",
            "booking.com",
            "16425",
            "NL",
            ["Booking.com BV", "Booking.com", "BOOKING.COM B.V."],
        ),
        _co(
            "wolterskluwer",
            "Wolters Kluwer N.V.",
            "wolterskluwer.com",
            "wolters-kluwer",
            "3107",
            "NL",
            ["Wolters Kluwer", "WOLTERS KLUWER NV", "Wolters Kluwer NV"],
        ),
        _co(
            "coolblue",
            "Coolblue B.V.",
            "coolblue.nl",
            "coolblue",
            "544872",
            "NL",
            ["Coolblue", "COOLBLUE BV"],
        ),
        # Nordics
        _co(
            "ericsson",
            "Telefonaktiebolaget LM Ericsson",
            "ericsson.com",
            "ericsson",
            "1454",
            "SE",
            [
                "~Telefonaktiebolaget L M Ericsson",
                "TELEFONAKTIEBOLAGET LM ERICSSON (PUBL)",
                "Telefonaktiebolaget LM Ericsson (publ)",
            ],
        ),
        _co("spotify", "Spotify AB", "spotify.com", "spotify", "207470", "SE", ["Spotify", "SPOTIFY AB"]),
        _co(
            "hm",
            "H & M Hennes & Mauritz AB",
            "hm.com",
            "h&m",
            "2224",
            "SE",
            ["H&M Hennes & Mauritz AB", "H & M Hennes & Mauritz AB (publ)", "H & M HENNES & MAURITZ AB"],
        ),
        _co(
            "novonordisk",
            "Novo Nordisk A/S",
            "novonordisk.com",
            "novo-nordisk",
            "2146",
            "DK",
            ["Novo Nordisk AS", "NOVO NORDISK A/S", "Novo Nordisk"],
        ),
        _co(
            "maersk",
            "A.P. Møller - Mærsk A/S",
            "maersk.com",
            "maersk-group",
            "1469",
            "DK",
            ["A.P. Moller - Maersk A/S", "AP Møller-Mærsk A/S", "~A.P. Moeller - Maersk A/S"],
        ),
        _co(
            "kone", "KONE Oyj", "kone.com", "kone", "3185201", "FI", ["KONE Corporation", "Kone Oyj", "KONE"]
        ),
        _co(
            "klarna",
            "Klarna Bank AB",
            "klarna.com",
            "klarna",
            "1206561",
            "SE",
            ["Klarna Bank AB (publ)", "KLARNA BANK AB", "Klarna Bank"],
        ),
        _co(
            "telia",
            "Telia Company AB",
            "teliacompany.com",
            "telia-company",
            "6341",
            "SE",
            ["Telia Company", "TELIA COMPANY AB", "Telia Company AB (publ)"],
        ),
        _co("dnb", "DNB Bank ASA", "dnb.no", "dnb", "2289", "NO", ["DNB Bank", "DNB BANK ASA"]),
        # Asia / Pacific
        _co(
            "toyota",
            "Toyota Motor Corporation",
            "global.toyota",
            "toyota-motor-corporation",
            "3141",
            "JP",
            ["Toyota Motor Corp.", "TOYOTA MOTOR CORPORATION", "トヨタ自動車株式会社"],
            site="https://global.toyota/en/",
        ),
        _co(
            "hitachi",
            "Hitachi, Ltd.",
            "hitachi.com",
            "hitachi",
            "2207",
            "JP",
            ["Hitachi Ltd", "HITACHI, LTD.", "株式会社日立製作所"],
        ),
        _co(
            "rakuten",
            "Rakuten Group, Inc.",
            "rakuten.com",
            "rakuten",
            "24957",
            "JP",
            ["Rakuten Group K.K.", "Rakuten Group Inc", "楽天グループ株式会社"],
            site="https://global.rakuten.com/corp/",
        ),
        _co(
            "nintendo",
            "Nintendo Co., Ltd.",
            "nintendo.co.jp",
            "nintendo",
            "2032",
            "JP",
            ["Nintendo Co Ltd", "任天堂株式会社", "NINTENDO CO., LTD."],
        ),
        _co(
            "samsung",
            "Samsung Electronics Co., Ltd.",
            "samsung.com",
            "samsung-electronics",
            "1753",
            "KR",
            ["Samsung Electronics Co Ltd", "SAMSUNG ELECTRONICS CO., LTD.", "삼성전자 주식회사"],
        ),
        _co(
            "lg",
            "LG Electronics Inc.",
            "lg.com",
            "lg-electronics",
            "1869",
            "KR",
            ["LG Electronics", "LG ELECTRONICS INC", "LG Electronics, Inc."],
        ),
        _co(
            "tencent",
            "Tencent Holdings Limited",
            "tencent.com",
            "tencent",
            "19130",
            "CN",
            ["Tencent Holdings Ltd", "TENCENT HOLDINGS LIMITED", "腾讯控股有限公司"],
        ),
        _co(
            "infosys",
            "Infosys Limited",
            "infosys.com",
            "infosys",
            "1283",
            "IN",
            ["Infosys Ltd", "INFOSYS LIMITED", "Infosys Ltd."],
        ),
        _co(
            "tcs",
            "Tata Consultancy Services Limited",
            "tcs.com",
            "tata-consultancy-services",
            "1353",
            "IN",
            [
                "Tata Consultancy Services Ltd",
                "TATA CONSULTANCY SERVICES LIMITED",
                "Tata Consultancy Services",
            ],
        ),
        _co(
            "dbs",
            "DBS Bank Ltd.",
            "dbs.com",
            "dbs-bank",
            "5347",
            "SG",
            ["DBS Bank Ltd", "DBS BANK LTD", "DBS Bank"],
        ),
        _co(
            "alibaba",
            "Alibaba Group Holding Limited",
            "alibabagroup.com",
            "alibaba-group",
            "1045",
            "CN",
            ["Alibaba Group Holding Ltd", "ALIBABA GROUP HOLDING LIMITED", "阿里巴巴集团控股有限公司"],
        ),
    ]
}

REGIONS = {
    "DE": [
        "siemens",
        "sap",
        "basf",
        "bosch",
        "telekom",
        "henkel",
        "zalando",
        "lufthansa",
        "bayer",
        "adidas",
        "infineon",
        "sixt",
        "wuerth",
        "oetker",
        "bertelsmann",
        "grossmann",
        "boehm",
        "schaeffler",
        "koerber",
        "rossmann",
        "sueddeutscher",
        "weidmueller",
        "deutschebank",
    ],
    "GB": [
        "unilever",
        "barclays",
        "vodafone",
        "tesco",
        "astrazeneca",
        "diageo",
        "sainsburys",
        "btgroup",
        "ocado",
        "arm",
        "mands",
        "wise",
    ],
    "US": [
        "microsoft",
        "salesforce",
        "oracle",
        "ibm",
        "pfizer",
        "pg",
        "cisco",
        "intel",
        "nvidia",
        "adobe",
        "stripe",
        "cocacola",
        "pepsico",
        "jnj",
        "hubspot",
        "snowflake",
        "workday",
        "servicenow",
        "atlassian",
    ],
    "FR": ["loreal", "danone", "capgemini", "schneider", "bnp", "axa", "michelin", "socgen", "dassault"],
    "NL": ["philips", "asml", "ing", "heineken", "adyen", "booking", "wolterskluwer", "coolblue"],
    "NORDIC": ["ericsson", "spotify", "hm", "novonordisk", "maersk", "kone", "klarna", "telia", "dnb"],
    "ASIA": [
        "toyota",
        "hitachi",
        "rakuten",
        "nintendo",
        "samsung",
        "lg",
        "tencent",
        "infosys",
        "tcs",
        "dbs",
        "alibaba",
    ],
}


# ------------------------------------------------------------------------------------------------- people
@dataclass(frozen=True)
class Person:
    first: str
    last: str
    middle: str | None = None
    country: str = "DE"
    # alternative spellings a profile source may use (transliteration, romanisation)
    alt_first: str | None = None
    alt_last: str | None = None
    native_full: str | None = None  # e.g. "山田 太郎"
    extra: dict = field(default_factory=dict)


TRANSLIT = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "é": "e",
        "è": "e",
        "ê": "e",
        "ë": "e",
        "à": "a",
        "â": "a",
        "ç": "c",
        "î": "i",
        "ï": "i",
        "ô": "o",
        "û": "u",
        "ù": "u",
        "É": "E",
        "ø": "o",
        "Ø": "O",
        "å": "a",
        "Å": "A",
        "æ": "ae",
        "Æ": "Ae",
        "ı": "i",
        "ş": "s",
        "ğ": "g",
        "ñ": "n",
        "á": "a",
        "í": "i",
        "ó": "o",
        "ú": "u",
        "ł": "l",
        "Ł": "L",
        "ń": "n",
        "ś": "s",
        "ż": "z",
        "ć": "c",
        "ę": "e",
        "ą": "a",
        "'": "",
        " ": "-",
    }
)


def ascii_of(s: str) -> str:
    return s.translate(TRANSLIT)


FIRST = {
    "DE": [
        "Anna",
        "Lukas",
        "Jürgen",
        "Maximilian",
        "Katharina",
        "Jörg",
        "Bärbel",
        "Günther",
        "Sabine",
        "Stefan",
        "Felix",
        "Lea",
        "Jonas",
        "Hannah",
        "Matthias",
        "Ulrike",
        "Björn",
        "Dörte",
        "Tobias",
        "Franziska",
        "Andreas",
        "Claudia",
        "Ralf",
        "Sebastian",
        "Julia",
        "Nina",
        "Uwe",
        "Gisela",
        "Kai",
        "Mareike",
    ],
    "GB": [
        "Oliver",
        "Charlotte",
        "Harry",
        "Amelia",
        "George",
        "Isla",
        "Jack",
        "Olivia",
        "Thomas",
        "Emily",
        "James",
        "Sophie",
        "William",
        "Grace",
        "Alistair",
        "Fiona",
        "Rhys",
        "Siobhan",
        "Callum",
        "Priya",
    ],
    "US": [
        "Michael",
        "Jennifer",
        "Robert",
        "Jessica",
        "David",
        "Ashley",
        "Christopher",
        "Sarah",
        "Daniel",
        "Emily",
        "Matthew",
        "Megan",
        "Joshua",
        "Lauren",
        "Brandon",
        "Tiffany",
        "Kevin",
        "Rachel",
        "Tyler",
        "Nicole",
    ],
    "FR": [
        "Léa",
        "Hugo",
        "Chloé",
        "Théo",
        "Manon",
        "Lucas",
        "Camille",
        "Gabriel",
        "Inès",
        "Raphaël",
        "Amélie",
        "François",
        "Hélène",
        "Jérôme",
        "Élodie",
        "Benoît",
        "Céline",
        "Stéphane",
    ],
    "NL": [
        "Daan",
        "Sanne",
        "Bram",
        "Femke",
        "Sem",
        "Lotte",
        "Jeroen",
        "Annelies",
        "Pieter",
        "Marieke",
        "Thijs",
        "Floor",
        "Willem",
        "Ilse",
    ],
    "NORDIC": [
        "Søren",
        "Åsa",
        "Björn",
        "Ingrid",
        "Lars",
        "Sigrid",
        "Mikkel",
        "Freja",
        "Jukka",
        "Aino",
        "Magnus",
        "Linnéa",
        "Henrik",
        "Astrid",
        "Eero",
        "Märta",
    ],
}
LAST = {
    "DE": [
        "Müller",
        "Schröder",
        "Weiß",
        "Groß",
        "Köhler",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Becker",
        "Schulz",
        "Hoffmann",
        "Schäfer",
        "Koch",
        "Bauer",
        "Richter",
        "Klein",
        "Wolf",
        "Neumann",
        "Schwarz",
        "Zimmermann",
        "Braun",
        "Krüger",
        "Hartmann",
        "Lange",
        "Krause",
        "Lehmann",
        "Köster",
        "Jäger",
        "Böhm",
        "Vogel",
        "Fuß",
        "Strauß",
        "Özdemir",
        "Yılmaz",
        "Kowalski",
        "Nowak",
    ],
    "GB": [
        "Smith",
        "Jones",
        "Taylor",
        "Brown",
        "Williams",
        "Wilson",
        "Johnson",
        "Davies",
        "Robinson",
        "Wright",
        "Thompson",
        "Evans",
        "Walker",
        "White",
        "Roberts",
        "Hughes",
        "O'Connor",
        "MacLeod",
        "Patel",
        "Khan",
    ],
    "US": [
        "Johnson",
        "Williams",
        "Garcia",
        "Miller",
        "Davis",
        "Rodriguez",
        "Martinez",
        "Hernandez",
        "Lopez",
        "Gonzalez",
        "Anderson",
        "Thomas",
        "Jackson",
        "Moore",
        "Martin",
        "Lee",
        "Perez",
        "Thompson",
        "Harris",
        "Nguyen",
        "Kim",
        "O'Brien",
    ],
    "FR": [
        "Martin",
        "Bernard",
        "Dubois",
        "Thomas",
        "Robert",
        "Richard",
        "Petit",
        "Durand",
        "Leroy",
        "Moreau",
        "Lefèvre",
        "Girard",
        "Mercier",
        "Fournier",
        "Rousseau",
        "Chevalier",
        "Faure",
        "Gauthier",
    ],
    "NL": [
        "de Jong",
        "Jansen",
        "de Vries",
        "van den Berg",
        "van Dijk",
        "Bakker",
        "Visser",
        "Smit",
        "Meijer",
        "de Boer",
        "Mulder",
        "de Groot",
        "Bos",
        "Vos",
        "Peters",
        "Hendriks",
        "van der Meer",
        "Dekker",
    ],
    "NORDIC": [
        "Andersson",
        "Johansson",
        "Nilsson",
        "Østergaard",
        "Jørgensen",
        "Hansen",
        "Lindqvist",
        "Järvinen",
        "Virtanen",
        "Korhonen",
        "Bergström",
        "Sjöberg",
        "Åkesson",
        "Halvorsen",
        "Lønne",
        "Møller",
    ],
}
ASIAN = [  # (given, family, native full name in native order)
    ("Taro", "Yamada", "山田 太郎", "JP"),
    ("Yuki", "Tanaka", "田中 由紀", "JP"),
    ("Haruto", "Sato", "佐藤 陽翔", "JP"),
    ("Aiko", "Suzuki", "鈴木 愛子", "JP"),
    ("Kenji", "Watanabe", "渡辺 健二", "JP"),
    ("Sakura", "Ito", "伊藤 さくら", "JP"),
    ("Wei", "Zhang", "张伟", "CN"),
    ("Li", "Wang", "王丽", "CN"),
    ("Jing", "Liu", "刘静", "CN"),
    ("Hao", "Chen", "陈浩", "CN"),
    ("Xiaoming", "Li", "李小明", "CN"),
    ("Min-jun", "Kim", "김민준", "KR"),
    ("Seo-yeon", "Park", "박서연", "KR"),
    ("Ji-ho", "Lee", "이지호", "KR"),
    ("Priya", "Sharma", None, "IN"),
    ("Arjun", "Iyer", None, "IN"),
    ("Ananya", "Reddy", None, "IN"),
    ("Rahul", "Gupta", None, "IN"),
    ("Wei Ling", "Tan", None, "SG"),
    ("Jun Jie", "Lim", None, "SG"),
]

TITLES = [
    "Head of Procurement",
    "Chief Financial Officer",
    "VP Sales EMEA",
    "Senior Buyer",
    "Category Manager",
    "Head of Digital",
    "Procurement Manager",
    "CTO",
    "Marketing Director",
    "Software Engineer",
    "Product Manager",
    "Key Account Manager",
    "Data Engineer",
    "Head of Operations",
]
LOCAL_TITLES = {
    "DE": ["Einkaufsleiter", "IT-Leiterin", "Leiter Vertrieb", "Geschäftsführer", "Teamleiterin Einkauf"],
    "FR": ["Directeur Achats", "Responsable informatique", "Directrice commerciale"],
    "NL": ["Inkoopmanager", "Hoofd ICT"],
    "SE": ["Inköpschef"],
    "JP": ["部長"],
}


def title_for(country: str | None) -> str:
    local = LOCAL_TITLES.get(country or "", [])
    return RNG.choice(local) if local and RNG.random() < 0.5 else RNG.choice(TITLES)


_used_names: set[tuple[str, str]] = set()


def new_person(region: str) -> Person:
    """A person with a name not used before in the set (so two cases never share a contact by accident)."""
    for _ in range(500):
        if region == "ASIA":
            a = RNG.choice(ASIAN)
            b = RNG.choice([x for x in ASIAN if x[3] == a[3]])
            given, family, country = a[0], b[1], a[3]
            if (given, family) in _used_names:
                continue
            _used_names.add((given, family))
            return Person(given, family, country=country, native_full=a[2] if a is b else None)
        first, last = RNG.choice(FIRST[region]), RNG.choice(LAST[region])
        if (first, last) in _used_names:
            continue
        _used_names.add((first, last))
        country = {"NORDIC": RNG.choice(["SE", "DK", "FI", "NO"])}.get(region, region)
        middle = RNG.choice([None] * 6 + ["J.", "A.", "M.", "K.", "R.", "E.", "C."])
        return Person(first, last, middle=middle, country=country)
    raise RuntimeError(f"name pool exhausted for {region}")


def slug_of(p: Person) -> str:
    base = ascii_of(f"{p.first}-{p.last}").lower().replace(".", "").replace("--", "-")
    return f"{base}-{RNG.randrange(10, 9999):x}" if RNG.random() < 0.6 else base


def email_local(p: Person, style: int = 0) -> str:
    f = ascii_of(p.first).lower().replace(".", "").replace("-", "")
    last = ascii_of(p.last).lower().replace("-", "")
    return [f"{f}.{last}", f"{f[0]}.{last}", f"{f}{last}", f"{f[0]}{last}", f"{last}.{f}"][style % 5]


# -------------------------------------------------------------------------------------------------- dates
def d(s: str) -> date:
    return date.fromisoformat(s)


def fmt(day: date, style: str) -> str:
    return {"Y": f"{day.year}", "YM": f"{day.year}-{day.month:02d}", "YMD": day.isoformat()}[style]


def partial_to_date(s: str) -> date:
    parts = [int(x) for x in s.split("-")] + [1, 1]
    return date(parts[0], parts[1], parts[2])


def ago(today: str, days: int, style: str = "YMD") -> str:
    return fmt(d(today) - timedelta(days=days), style)


# ----------------------------------------------------------------------------------------- record helpers
def website_form(co: Co, i: int | None = None) -> str:
    dom = co.domain
    forms = [
        dom,
        f"www.{dom}",
        f"https://www.{dom}",
        f"https://www.{dom}/",
        f"http://{dom}/en/",
        f"https://{dom}/de-de/home.html",
        f"HTTPS://WWW.{dom.upper()}/",
        f"https://careers.{dom}/jobs",
    ]
    if co.site:
        forms.append(co.site)
    return forms[RNG.randrange(len(forms)) if i is None else i % len(forms)]


def li_company_form(slug: str, i: int | None = None) -> str:
    forms = [
        f"linkedin.com/company/{slug}",
        f"https://www.linkedin.com/company/{slug}/",
        f"https://de.linkedin.com/company/{slug}",
        f"http://www.linkedin.com/company/{slug}/about/",
    ]
    return forms[RNG.randrange(len(forms)) if i is None else i % len(forms)]


def li_person_form(slug: str, i: int | None = None) -> str:
    forms = [
        f"linkedin.com/in/{slug}",
        f"https://www.linkedin.com/in/{slug}/",
        f"https://de.linkedin.com/in/{slug}",
        f"www.linkedin.com/in/{slug}",
        f"https://www.linkedin.com/in/{slug}?originalSubdomain=de",
        f"HTTPS://WWW.LINKEDIN.COM/IN/{slug.upper()}/",
    ]
    return forms[RNG.randrange(len(forms)) if i is None else i % len(forms)]


_account_seq = iter(range(1, 100000))
_contact_seq = iter(range(1, 100000))
_profile_seq = iter(range(1, 100000))


def guid(prefix: str, n: int) -> str:
    return f"{prefix}{n:07d}-0000-4000-8000-{RNG.randrange(16**12):012x}"


def account(
    co: Co | None = None,
    *,
    name: str | None = None,
    website: str | bool | None = True,
    linkedin: bool = False,
    parent: str | None = None,
    aliases: tuple[str, ...] = (),
    country: str | None = None,
    **extra,
) -> dict:
    acc = {"account_id": guid("a", next(_account_seq))}
    if co is not None:
        acc["name"] = name if name is not None else co.name
        if website is True:
            acc["website"] = co.site if co.site and RNG.random() < 0.5 else website_form(co)
        elif website:
            acc["website"] = website
        if linkedin:
            acc["linkedin_url"] = li_company_form(co.slug)
        acc["country"] = country or co.country
    elif name is not None:
        acc["name"] = name
    if parent:
        acc["parent_account_name"] = parent
    if aliases:
        acc["aliases"] = list(aliases)
    acc.update(extra)
    return {k: v for k, v in acc.items() if v is not None}


def company(co: Co, ref: str = "full", *, name: str | None = None) -> dict:
    """How a profile source describes a company. ref: full | name | variant | lower | domain | li."""
    if ref == "full":
        shown = name or co.name
        out = {
            "name": shown.lower() if RNG.random() < 0.4 else shown,
            "website": co.domain,
            "linkedin_id": co.li_id,
            "linkedin_url": f"linkedin.com/company/{co.slug}",
        }
    elif ref == "name":
        out = {"name": name or co.name}
    elif ref == "variant":
        out = {"name": name or RNG.choice(co.variants or (co.name,))}
    elif ref == "lower":
        out = {"name": (name or co.name).lower(), "website": co.domain}
    elif ref == "domain":
        out = {"name": name or RNG.choice(co.variants or (co.name,)), "website": website_form(co)}
    elif ref == "li":
        out = {"name": name or co.name, "linkedin_url": li_company_form(co.slug), "linkedin_id": co.li_id}
    else:
        raise ValueError(ref)
    return out


def position(
    comp: dict,
    *,
    title: str | None = None,
    start: str | None = None,
    end: str | None = None,
    primary: bool = False,
) -> dict:
    out: dict = {"company": comp}
    if title is not None:
        out["title"] = title
    if start is not None:
        out["start_date"] = start
    if end is not None:
        out["end_date"] = end
    if primary:
        out["is_primary"] = True
    return out


def contact(
    p: Person,
    acc: dict | None,
    *,
    email: str | None = None,
    url: str | None = None,
    full_name: bool | str = False,
    title: str | None = None,
    **extra,
) -> dict:
    c = {"contact_id": guid("c", next(_contact_seq)), "first_name": p.first, "last_name": p.last}
    if p.middle and RNG.random() < 0.5:
        c["middle_name"] = p.middle
    if full_name is True:
        c["full_name"] = " ".join(x for x in (p.first, p.middle, p.last) if x)
    elif full_name:
        c["full_name"] = full_name
    if email:
        c["email"] = email
    c["job_title"] = title if title is not None else title_for(p.country)
    c["country"] = p.country
    if url:
        c["profile_url"] = url
    if acc is not None:
        c["account_id"] = acc["account_id"]
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def profile(
    p: Person,
    positions: list[dict],
    *,
    today: str,
    lv_days: int | None,
    slug: str | None = None,
    emails: tuple[str, ...] = (),
    matched_on: tuple[str, ...] = ("email",),
    likelihood: int | None = None,
    lower: bool | None = None,
    lc_days: int | None = None,
    names: dict | None = None,
    lv_style: str = "YMD",
) -> dict:
    if lower is None:
        lower = RNG.random() < 0.4  # PDL gives lowercase names unless titlecase=true
    first, last = p.first, p.last
    if names is None:
        names = {
            "full_name": " ".join(x for x in (first, p.middle, last) if x),
            "first_name": first,
            "last_name": last,
        }
        if p.middle and RNG.random() < 0.5:
            names["middle_name"] = p.middle
        if lower:
            names = {k: v.lower() for k, v in names.items()}
    prof = {"profile_id": f"file-{next(_profile_seq):06d}", "source": "file", **names}
    if slug:
        prof["profile_url"] = f"linkedin.com/in/{slug}"
    if emails:
        prof["emails"] = list(emails)
    prof["positions"] = positions
    if lv_days is not None:
        prof["last_verified"] = ago(today, lv_days, lv_style)
    if lc_days is not None:
        prof["last_changed"] = ago(today, lc_days)
    if likelihood is not None:
        prof["match_likelihood"] = likelihood
    if matched_on:
        prof["matched_on"] = list(matched_on)
    return prof


CASES: dict[str, list[dict]] = {}


def add(
    cat: str,
    cid: str,
    desc: str,
    today: str,
    ctc: dict,
    acc: dict | None,
    prof: dict | None,
    expected: str,
    alias_table: dict | None = None,
) -> None:
    case = {
        "id": cid,
        "category": cat,
        "description": desc,
        "today": today,
        "contact": ctc,
        "account": acc,
        "profile": prof,
        "expected": expected,
    }
    if alias_table:
        case["alias_table"] = alias_table
    CASES.setdefault(cat, []).append(case)


# -------------------------------------------------------------------------------------- the standard move
@dataclass
class Career:
    """Dates for an ended job at the account followed by the current job elsewhere."""

    acc_start: date
    acc_end: date
    new_start: date


def career(today: str, *, min_new_days: int = 40) -> Career:
    new_start = d(today) - timedelta(days=RNG.randrange(min_new_days, max(min_new_days + 90, 700)))
    acc_end = new_start - timedelta(days=RNG.randrange(0, 75))
    acc_start = acc_end - timedelta(days=RNG.randrange(400, 3600))
    return Career(acc_start, acc_end, new_start)


STYLES = ("YM", "YM", "YMD", "Y", "YM", "YMD")


def strong_match(p: Person, acc_co: Co, basis: str, i: int) -> tuple[dict, dict]:
    """Contact fields and profile fields that make a strong person match by ``basis``."""
    slug = slug_of(p)
    work = f"{email_local(p, i)}@{acc_co.domain}"
    if basis == "url":
        ctc = {"url": li_person_form(slug, i), "email": work if i % 3 else None}
        prof = {
            "slug": slug,
            "emails": (),
            "matched_on": ("profile_url",),
            "likelihood": RNG.choice([None, 9, 10]),
        }
    elif basis == "email":
        shown = work.upper() if i % 7 == 3 else work
        other = f"{email_local(p, i + 1)}@{RNG.choice(['gmail.com', 'web.de', 'outlook.com', 'gmx.net'])}"
        ctc = {"url": None, "email": shown}
        prof = {
            "slug": slug if i % 2 else None,
            "emails": (work, other) if i % 3 else (work,),
            "matched_on": ("email",),
            "likelihood": RNG.choice([None, 8, 9, 10]),
        }
    elif basis == "name_domain":
        # exact name, and the profile knows an (older) address at the account's domain with another local part
        ctc = {"url": None, "email": work}
        prof = {
            "slug": slug,
            "emails": (f"{email_local(p, i + 1)}@{acc_co.domain}",),
            "matched_on": ("name_company",),
            "likelihood": RNG.choice([7, 8]),
        }
    else:
        raise ValueError(basis)
    return ctc, prof


def plain_move(
    cat: str,
    cid: str,
    *,
    acc_co: Co,
    new_co: Co,
    p: Person,
    today: str,
    basis: str,
    i: int,
    acc_ref: str = "variant",
    end_style: str = "YM",
    lv_days: int | None = None,
    expected: str = "left",
    desc: str | None = None,
    acc_kwargs: dict | None = None,
    extra_positions: tuple[dict, ...] = (),
    lower: bool | None = None,
    alias_table=None,
    acc_company: dict | None = None,
    new_company: dict | None = None,
    lv_style: str = "YMD",
) -> None:
    lv = lv_days if lv_days is not None else RNG.randrange(3, 150)
    car = career(today, min_new_days=max(40, lv + 5))  # the source saw the new job when it last verified
    since_new = (d(today) - car.new_start).days
    acc = account(acc_co, **(acc_kwargs or {}))
    cf, pf = strong_match(p, acc_co, basis, i)
    ctc = contact(p, acc, email=cf["email"], url=cf["url"], full_name=i % 4 == 0)
    positions = [
        position(
            new_company or company(new_co, RNG.choice(["full", "full", "name", "lower", "domain", "li"])),
            title=RNG.choice(TITLES),
            start=fmt(car.new_start, RNG.choice(["YM", "YMD"])),
            primary=True,
        ),
        position(
            acc_company or company(acc_co, acc_ref),
            title=ctc["job_title"],
            start=fmt(car.acc_start, RNG.choice(["Y", "YM"])),
            end=fmt(car.acc_end, end_style),
        ),
        *extra_positions,
    ]
    prof = profile(
        p,
        positions,
        today=today,
        lv_days=lv,
        slug=pf["slug"],
        emails=pf["emails"],
        matched_on=pf["matched_on"],
        likelihood=pf["likelihood"],
        lower=lower,
        lc_days=max(lv, since_new - RNG.randrange(0, 20)),
        lv_style=lv_style,
    )
    text = desc or (
        f"{basis} match; ended at {acc_co.name} ({acc_ref}), now at {new_co.name}; verified {lv}d ago"
    )
    add(cat, cid, text, today, ctc, acc, prof, expected, alias_table)


def stay(
    cat: str,
    cid: str,
    *,
    acc_co: Co,
    p: Person,
    today: str,
    basis: str,
    i: int,
    current: dict,
    desc: str,
    acc_kwargs: dict | None = None,
    prior: tuple[dict, ...] = (),
    expected: str = "still_there",
    lv_days: int | None = None,
    alias_table=None,
    lower: bool | None = None,
    acc: dict | None = None,
    start: date | None = None,
) -> None:
    acc = acc if acc is not None else account(acc_co, **(acc_kwargs or {}))
    cf, pf = strong_match(p, acc_co, basis, i)
    ctc = contact(p, acc, email=cf["email"], url=cf["url"], full_name=i % 5 == 0)
    lv = lv_days if lv_days is not None else RNG.randrange(3, 150)
    if start is None:
        ends = [partial_to_date(p_["end_date"]) for p_ in prior if p_.get("end_date")]
        if ends:  # the current job follows the last ended one
            start = min(max(ends) + timedelta(days=RNG.randrange(0, 60)), d(today) - timedelta(days=lv + 30))
        else:
            start = d(today) - timedelta(days=RNG.randrange(max(200, lv + 30), 4000))
    positions = [
        position(current, title=ctc["job_title"], start=fmt(start, RNG.choice(STYLES)), primary=True),
        *prior,
    ]
    start_days = (d(today) - start).days
    prof = profile(
        p,
        positions,
        today=today,
        lv_days=lv,
        slug=pf["slug"],
        emails=pf["emails"],
        matched_on=pf["matched_on"],
        likelihood=pf["likelihood"],
        lower=lower,
        lc_days=max(lv, min(start_days, RNG.randrange(100, 900))),
    )
    add(cat, cid, desc, today, ctc, acc, prof, expected, alias_table)


def other_co(*exclude: Co, region: str | None = None) -> Co:
    keys = REGIONS[region] if region else list(POOL)
    while True:
        co = POOL[RNG.choice(keys)]
        if co not in exclude:
            return co


def old_job(co: Co, today: str, *, ref: str = "full", years_back: int = 8) -> dict:
    end = d(today) - timedelta(days=RNG.randrange(800, 365 * years_back))
    start = end - timedelta(days=RNG.randrange(300, 2000))
    return position(company(co, ref), title=RNG.choice(TITLES), start=fmt(start, "YM"), end=fmt(end, "YM"))


def adhoc(key, name, domain, slug, li_id, country, variants=(), site=None) -> Co:
    return _co(key, name, domain, slug, li_id, country, variants, site)


# ----------------------------------------------------------------------------------------------- categories
MOVE_REGIONS = ["DE", "DE", "GB", "US", "US", "FR", "NL", "NORDIC", "ASIA", "DE", "US", "GB"]
BASES = ["email", "url", "email", "name_domain", "url", "email", "email", "url"]
REFS = ["variant", "full", "name", "lower", "domain", "li", "variant", "full", "name"]


def build_moves() -> None:
    cat = "moves"
    for i in range(60):
        region = MOVE_REGIONS[i % len(MOVE_REGIONS)]
        acc_co = POOL[RNG.choice(REGIONS[region])]
        new_co = other_co(acc_co, region=region if i % 3 else None)
        p = new_person(region)
        plain_move(
            cat,
            f"move-{i + 1:03d}",
            acc_co=acc_co,
            new_co=new_co,
            p=p,
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            acc_ref=REFS[i % len(REFS)],
            end_style=STYLES[i % 6],
            acc_kwargs={"linkedin": i % 4 == 1},
        )
    # strong person match, but the account never appears in the profile: nothing shows they were there
    for j in range(8):
        region = MOVE_REGIONS[(j * 5) % len(MOVE_REGIONS)]
        acc_co = POOL[RNG.choice(REGIONS[region])]
        new_co = other_co(acc_co)
        hist = other_co(acc_co, new_co)
        p = new_person(region)
        today = TODAYS[j % 5]
        acc = account(acc_co)
        slug = slug_of(p)
        ctc = contact(
            p,
            acc,
            email=f"{email_local(p, j)}@{acc_co.domain}" if j % 2 else None,
            url=li_person_form(slug, j),
        )
        start = d(today) - timedelta(days=RNG.randrange(300, 2500))
        positions = [
            position(company(new_co, "full"), title=RNG.choice(TITLES), start=fmt(start, "YM"), primary=True)
        ]
        if j % 3:
            positions.append(old_job(hist, today))
        prof = profile(
            p,
            positions,
            today=today,
            lv_days=RNG.randrange(5, 120),
            slug=slug,
            matched_on=("profile_url",),
            likelihood=9,
        )
        add(
            cat,
            f"move-{61 + j:03d}",
            f"profile URL match, now at {new_co.name}, but {acc_co.name} never appears in "
            "the history: no evidence the person was at the account",
            today,
            ctc,
            acc,
            prof,
            "unknown",
        )


def build_still_there_variants() -> None:
    cat = "still_there_variants"
    companies = [c for c in POOL.values() if len(c.variants) + len(c.hard_variants) >= 2]
    RNG.shuffle(companies)
    for i in range(40):
        co = companies[i % len(companies)]
        region = next(r for r, keys in REGIONS.items() if co.key in keys)
        p = new_person(region if region != "ASIA" or i % 2 else "US")
        names = [co.name, *co.variants]
        acc_name = names[i % len(names)] if i % 3 else co.name
        pool = [n for n in [co.name, *co.variants, *co.hard_variants] if n != acc_name]
        prof_name = pool[(i * 7) % len(pool)]
        with_site = i % 4 == 3
        current = {"name": prof_name, **({"website": website_form(co)} if with_site else {})}
        if i % 6 == 5:
            current["name"] = f"  {prof_name} "  # stray whitespace from a file export
        prior = (old_job(other_co(co), TODAYS[i % 5]),) if i % 2 else ()
        how = "name variant" + (" + same domain" if with_site else " only")
        stay(
            cat,
            f"still-{i + 1:03d}",
            acc_co=co,
            p=p,
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            current=current,
            prior=prior,
            acc_kwargs={"name": acc_name, "website": True if i % 2 else None},
            desc=f"primary employer '{prof_name.strip()}' is the account '{acc_name}' ({how})",
        )


def build_domain_only() -> None:
    cat = "domain_only"
    bmw = adhoc("bmw", "Bayerische Motoren Werke AG", "bmwgroup.com", "bmw-group", "2745", "DE")
    pairs = [  # (account co, account name, account website, profile company dict, why)
        (
            bmw,
            "BMW Group",
            "https://www.bmwgroup.com",
            {"name": "Bayerische Motoren Werke AG", "website": "https://www.bmwgroup.com/de.html"},
            "brand vs legal name",
        ),
        (
            POOL["ibm"],
            "IBM",
            "www.ibm.com",
            {"name": "International Business Machines Corporation", "website": "ibm.com"},
            "acronym vs full name",
        ),
        (
            POOL["pg"],
            "P&G",
            "https://us.pg.com/",
            {"name": "The Procter & Gamble Company", "website": "pg.com"},
            "abbreviation",
        ),
        (
            POOL["jnj"],
            "J&J",
            "jnj.com",
            {"name": "Johnson & Johnson", "website": "https://www.jnj.com/"},
            "abbreviation",
        ),
        (
            POOL["toyota"],
            "Toyota",
            "https://global.toyota/en/",
            {"name": "トヨタ自動車株式会社", "website": "global.toyota"},
            "Japanese name",
        ),
        (
            POOL["hitachi"],
            "Hitachi",
            "http://www.hitachi.com/",
            {"name": "株式会社日立製作所", "website": "https://www.hitachi.com/New/cnews/"},
            "Japanese name",
        ),
        (
            POOL["samsung"],
            "Samsung",
            "samsung.com",
            {"name": "삼성전자 주식회사", "website": "https://www.samsung.com/sec/"},
            "Korean name",
        ),
        (
            POOL["tencent"],
            "Tencent",
            "https://www.tencent.com/en-us/",
            {"name": "腾讯控股有限公司", "website": "tencent.com"},
            "Chinese name",
        ),
        (
            POOL["alibaba"],
            "Alibaba",
            "alibabagroup.com",
            {"name": "阿里巴巴集团控股有限公司", "website": "https://www.alibabagroup.com/en-US/"},
            "Chinese name",
        ),
        (
            POOL["maersk"],
            "Maersk",
            "https://www.maersk.com",
            {"name": "A.P. Møller - Mærsk A/S", "website": "maersk.com"},
            "brand vs legal name",
        ),
        (
            POOL["sainsburys"],
            "Sainsbury's",
            "https://www.sainsburys.co.uk",
            {"name": "J Sainsbury plc", "website": "about.sainsburys.co.uk"},
            "co.uk domain",
        ),
        (
            POOL["schneider"],
            "Schneider Electric",
            "se.com",
            {"name": "Schneider Electric Industries SAS", "website": "https://www.se.com/ww/en/"},
            "short domain",
        ),
        (
            POOL["hm"],
            "H&M",
            "www2.hm.com",
            {"name": "H & M Hennes & Mauritz AB", "website": "https://www2.hm.com/de_de/index.html"},
            "brand vs legal name",
        ),
        (
            POOL["dassault"],
            "Dassault Systèmes",
            "3ds.com",
            {"name": "The 3DEXPERIENCE Company", "website": "https://www.3ds.com/"},
            "marketing name",
        ),
        (
            POOL["tcs"],
            "TCS",
            None,
            {
                "name": "Tata Consultancy Services",
                "linkedin_url": "linkedin.com/company/tata-consultancy-services",
            },
            "LinkedIn page only",
        ),
        (
            POOL["microsoft"],
            "Microsoft Deutschland GmbH",
            "https://www.microsoft.com/de-de",
            {"name": "Microsoft", "website": "microsoft.com"},
            "country entity, same domain",
        ),
        (
            POOL["sap"],
            "SAP Deutschland SE & Co. KG",
            "https://www.sap.com/germany/",
            {"name": "SAP", "website": "sap.com"},
            "country entity, same domain",
        ),
        (
            POOL["ibm"],
            "IBM Deutschland GmbH",
            "ibm.com/de-de",
            {"name": "IBM", "website": "https://www.ibm.com/"},
            "country entity, same domain",
        ),
        (
            POOL["weidmueller"],
            "Weidmüller Gruppe",
            "https://www.weidmueller.de",
            {"name": "Weidmüller Interface GmbH & Co. KG", "website": "weidmueller.de"},
            "group vs legal name",
        ),
        (
            POOL["bosch"],
            "Bosch",
            "https://www.bosch.com/",
            {"name": "Robert Bosch GmbH", "website": "bosch.com"},
            "brand vs legal name",
        ),
        (
            POOL["heineken"],
            "Heineken",
            "theheinekencompany.com",
            {"name": "The HEINEKEN Company", "website": "https://www.theheinekencompany.com"},
            "marketing name",
        ),
        (
            POOL["wuerth"],
            "Würth",
            "https://www.wuerth.de/",
            {"name": "Adolf Würth GmbH & Co. KG", "website": "wuerth.de"},
            "brand vs legal name",
        ),
        (
            POOL["lufthansa"],
            "Lufthansa Group",
            "www.lufthansagroup.com",
            {"name": "Deutsche Lufthansa AG", "website": "https://www.lufthansagroup.com/de/"},
            "group vs legal name",
        ),
        (
            POOL["telekom"],
            "Telekom",
            "https://www.telekom.com/de",
            {"name": "Deutsche Telekom AG", "website": "telekom.com"},
            "brand vs legal name",
        ),
    ]
    for i, (co, acc_name, site, current, why) in enumerate(pairs):
        region = next(r for r, keys in REGIONS.items() if co.key in keys) if co.key in POOL else "DE"
        p = new_person(region)
        li = "linkedin_url" in current
        acc = account(co, name=acc_name, website=site or None, linkedin=li)
        if li:
            acc["linkedin_url"] = "https://www.linkedin.com/company/tata-consultancy-services/"
        prior = (old_job(other_co(co), TODAYS[i % 5]),) if i % 3 == 0 else ()
        stay(
            cat,
            f"domain-{i + 1:03d}",
            acc_co=co,
            p=p,
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            current=current,
            prior=prior,
            acc=acc,
            desc=f"'{acc_name}' vs '{current['name']}' ({why}); same registrable domain / LinkedIn page",
        )


REBRANDS = {
    "facebook": (
        adhoc("facebook", "Facebook, Inc.", "facebook.com", "facebook", "20708", "US"),
        adhoc("meta", "Meta Platforms, Inc.", "meta.com", "meta", "10667", "US", ["Meta"]),
    ),
    "daimler": (
        adhoc("daimler", "Daimler AG", "daimler.com", "daimler-ag", "1401", "DE"),
        adhoc(
            "mbg",
            "Mercedes-Benz Group AG",
            "group.mercedes-benz.com",
            "mercedes-benz-group",
            "1402",
            "DE",
            ["Mercedes-Benz Group"],
        ),
    ),
    "weightwatchers": (
        adhoc(
            "ww_old",
            "Weight Watchers International, Inc.",
            "weightwatchers.com",
            "weight-watchers",
            "7771",
            "US",
        ),
        adhoc("ww", "WW International, Inc.", "ww.com", "ww-international", "7772", "US", ["WW"]),
    ),
    "total": (
        adhoc("total", "Total S.A.", "total.com", "total", "4414", "FR"),
        adhoc(
            "totalenergies",
            "TotalEnergies SE",
            "totalenergies.com",
            "totalenergies",
            "4415",
            "FR",
            ["TotalEnergies"],
        ),
    ),
    "statoil": (
        adhoc("statoil", "Statoil ASA", "statoil.com", "statoil", "6781", "NO"),
        adhoc("equinor", "Equinor ASA", "equinor.com", "equinor", "6782", "NO", ["Equinor"]),
    ),
    "twitter": (
        adhoc("twitter", "Twitter, Inc.", "twitter.com", "twitter", "96622", "US"),
        adhoc("xcorp", "X Corp.", "x.com", "x-corp", "96623", "US", ["X"]),
    ),
    "square": (
        adhoc("square", "Square, Inc.", "squareup.com", "square", "675562", "US"),
        adhoc("block", "Block, Inc.", "block.xyz", "joinblock", "675563", "US", ["Block"]),
    ),
    "dpdhl": (
        adhoc("dpdhl", "Deutsche Post DHL Group", "dpdhl.com", "deutsche-post-dhl-group", "5031", "DE"),
        adhoc("dhlgroup", "DHL Group", "group.dhl.com", "dhl-group", "5032", "DE"),
    ),
    "andersen": (
        adhoc(
            "andersen", "Andersen Consulting", "andersenconsulting.com", "andersen-consulting", "1032", "US"
        ),
        adhoc("accenture", "Accenture plc", "accenture.com", "accenture", "1033", "IE", ["Accenture"]),
    ),
    "dong": (
        adhoc("dong", "DONG Energy A/S", "dongenergy.com", "dong-energy", "8812", "DK"),
        adhoc("orsted", "Ørsted A/S", "orsted.com", "orsted", "8813", "DK", ["Orsted A/S"]),
    ),
    "shell": (
        adhoc("rds", "Royal Dutch Shell plc", "shell.com", "shell", "1271", "GB"),
        adhoc("shell", "Shell plc", "shell.com", "shell", "1271", "GB"),
    ),
    "dunkin": (
        adhoc("dunkindonuts", "Dunkin' Donuts", "dunkindonuts.com", "dunkin-donuts", "3313", "US"),
        adhoc("dunkin", "Dunkin'", "dunkindonuts.com", "dunkin", "3313", "US"),
    ),
    "gsk": (
        adhoc("gsk_old", "GlaxoSmithKline plc", "gsk.com", "glaxosmithkline", "1360", "GB"),
        adhoc("gsk", "GSK plc", "gsk.com", "gsk", "1360", "GB"),
    ),
    "panasonic": (
        adhoc("panasonic_old", "Panasonic Corporation", "panasonic.com", "panasonic", "2115", "JP"),
        adhoc("panasonic", "Panasonic Holdings Corporation", "panasonic.com", "panasonic", "2115", "JP"),
    ),
    "sony": (
        adhoc("sony_old", "Sony Corporation", "sony.com", "sony", "2155", "JP"),
        adhoc("sony", "Sony Group Corporation", "sony.com", "sony", "2155", "JP"),
    ),
    "philipmorris": (
        adhoc(
            "pm", "Philip Morris Companies Inc.", "philipmorris.com", "philip-morris-companies", "3501", "US"
        ),
        adhoc("altria", "Altria Group, Inc.", "altria.com", "altria", "3502", "US", ["Altria"]),
    ),
    "tieto": (
        adhoc("tieto", "Tieto Oyj", "tieto.com", "tietoevry", "4222", "FI"),
        adhoc("tietoevry", "Tietoevry Oyj", "tietoevry.com", "tietoevry", "4222", "FI"),
    ),
}
OPENAI = adhoc("openai", "OpenAI, L.L.C.", "openai.com", "openai", "11130470", "US")
BMW = adhoc("bmw", "Bayerische Motoren Werke AG", "bmwgroup.com", "bmw-group", "2745", "DE", ["BMW AG"])
SHELL_NEW = REBRANDS["shell"][1]


def rebrand_region(co: Co) -> str:
    return {
        "DE": "DE",
        "US": "US",
        "GB": "GB",
        "FR": "FR",
        "NO": "NORDIC",
        "DK": "NORDIC",
        "FI": "NORDIC",
        "JP": "ASIA",
        "IE": "GB",
    }[co.country]


#: renames the corporate-group table shipped with the product lists (tests/matching/test_groups.py
#: asserts each): a careful human, and the product, know these are the same company
TABLE_RENAMES = frozenset(
    {"facebook", "daimler", "weightwatchers", "total", "statoil", "twitter", "square", "dpdhl", "andersen",
     "dong"}
)


def build_rebrands() -> None:
    cat = "rebrands"
    n = iter(range(1, 100))
    # (a) the profile knows only the new name, one continuous job since before the rebrand, no alias anywhere
    for key in [
        "facebook",
        "daimler",
        "weightwatchers",
        "total",
        "statoil",
        "twitter",
        "square",
        "dpdhl",
        "andersen",
        "dong",
        "philipmorris",
    ]:
        old, new = REBRANDS[key]
        p = new_person(rebrand_region(old))
        i = next(n)
        stay(
            cat,
            f"rebrand-{i:03d}",
            acc_co=old,
            p=p,
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            current=company(new, "full"),
            expected="still_there" if key in TABLE_RENAMES else "unknown",
            desc=f"account '{old.name}', profile only knows the new name '{new.name}' (different domain, "
            "no alias configured): the shipped corporate-group table knows the rename"
            if key in TABLE_RENAMES else
            f"account '{old.name}', profile only knows the new name '{new.name}' (different domain, "
            "no alias configured): cannot tell it is the account, and no ended job there",
        )
    # (b) alias from the alias table, already on the account record
    for key in ["facebook", "daimler", "total", "statoil", "twitter"]:
        old, new = REBRANDS[key]
        p = new_person(rebrand_region(old))
        i = next(n)
        stay(
            cat,
            f"rebrand-{i:03d}",
            acc_co=old,
            p=p,
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            current=company(new, "full"),
            acc_kwargs={"aliases": (new.name, *new.variants)},
            desc=f"account '{old.name}' carries the alias '{new.name}'; the profile shows the new name",
        )
    # (c) alias only in the configured alias table (the runner passes it to the engine's config)
    for key in ["weightwatchers", "square", "dong"]:
        old, new = REBRANDS[key]
        p = new_person(rebrand_region(old))
        i = next(n)
        stay(
            cat,
            f"rebrand-{i:03d}",
            acc_co=old,
            p=p,
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            current=company(new, RNG.choice(["full", "name"])),
            alias_table={old.name: [new.name, *new.variants]},
            desc=f"alias table maps '{old.name}' to '{new.name}'; the profile shows the new name",
        )
    # (d) the profile source knows the former name
    for key in ["dpdhl", "andersen", "facebook", "philipmorris"]:
        old, new = REBRANDS[key]
        p = new_person(rebrand_region(old))
        i = next(n)
        cur = {**company(new, "full"), "aliases": [old.name]}
        stay(
            cat,
            f"rebrand-{i:03d}",
            acc_co=old,
            p=p,
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            current=cur,
            desc=f"profile company '{new.name}' lists the former name '{old.name}' as an alias",
        )
    # (e) renamed, same domain (and LinkedIn page)
    for key in ["shell", "dunkin", "gsk", "panasonic", "sony", "tieto"]:
        old, new = REBRANDS[key]
        p = new_person(rebrand_region(old))
        i = next(n)
        cur = company(new, "full")
        stay(
            cat,
            f"rebrand-{i:03d}",
            acc_co=old,
            p=p,
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            current=cur,
            acc_kwargs={"linkedin": key == "tieto"},
            desc=f"'{old.name}' renamed '{new.name}', same domain {new.domain}",
        )
    # (f) the source split one job at the rename: old name ended, new name primary, same LinkedIn company id
    for key in ["facebook", "daimler"]:
        old, new = REBRANDS[key]
        p = new_person(rebrand_region(old))
        i = next(n)
        today = TODAYS[i % 5]
        acc = account(old, linkedin=True)
        cf, pf = strong_match(p, old, "email", i)
        ctc = contact(p, acc, email=cf["email"])
        rename = "2021-10" if key == "facebook" else "2022-02"
        positions = [
            position(
                {
                    "name": new.name,
                    "website": new.domain,
                    "linkedin_id": old.li_id,
                    "linkedin_url": f"linkedin.com/company/{new.slug}",
                },
                title=ctc["job_title"],
                start=rename,
                primary=True,
            ),
            position(
                {
                    "name": old.name,
                    "website": old.domain,
                    "linkedin_id": old.li_id,
                    "linkedin_url": f"linkedin.com/company/{old.slug}",
                },
                title=ctc["job_title"],
                start="2016-04",
                end=rename,
            ),
        ]
        prof = profile(
            p,
            positions,
            today=today,
            lv_days=RNG.randrange(10, 100),
            slug=pf["slug"],
            emails=pf["emails"],
            matched_on=pf["matched_on"],
        )
        add(
            cat,
            f"rebrand-{i:03d}",
            f"job split at the rename {old.name} -> {new.name}; both entries carry the "
            "same LinkedIn company id, so the current employer is the account",
            today,
            ctc,
            acc,
            prof,
            "still_there",
        )
    # (g) rebranded account, alias known, and the person really left the renamed company
    lefts = [
        ("facebook", OPENAI, "alias"),
        ("daimler", BMW, "alias"),
        ("total", SHELL_NEW, "alias"),
        ("gsk", POOL["astrazeneca"], "domain"),
        ("sony", POOL["nintendo"], "domain"),
        ("statoil", POOL["dnb"], "alias"),
    ]
    for key, dest, how in lefts:
        old, new = REBRANDS[key]
        p = new_person(rebrand_region(old))
        i = next(n)
        ended = company(new, "full") if how == "domain" else {"name": new.name}
        plain_move(
            cat,
            f"rebrand-{i:03d}",
            acc_co=old,
            new_co=dest,
            p=p,
            today=TODAYS[i % 5],
            basis="email",
            i=i,
            acc_company=ended,
            new_company=company(dest, "full"),
            acc_kwargs={"aliases": (new.name,)} if how == "alias" else None,
            desc=f"account '{old.name}' (now '{new.name}', known by {how}); ended at '{new.name}', "
            f"now at {dest.name}",
        )


GROUP = {
    c.key: c
    for c in [
        adhoc("instagram", "Instagram, LLC", "instagram.com", "instagram", "10189", "US"),
        adhoc("whatsapp", "WhatsApp LLC", "whatsapp.com", "whatsapp", "10190", "US"),
        adhoc("meta", "Meta Platforms, Inc.", "meta.com", "meta", "10667", "US"),
        adhoc("youtube", "YouTube, LLC", "youtube.com", "youtube", "16140", "US"),
        adhoc("google", "Google LLC", "google.com", "google", "1441", "US"),
        adhoc("alphabet", "Alphabet Inc.", "abc.xyz", "alphabet-inc", "33191", "US"),
        adhoc("waymo", "Waymo LLC", "waymo.com", "waymo", "2631220", "US"),
        adhoc("aws", "Amazon Web Services, Inc.", "aws.amazon.com", "amazon-web-services", "2382910", "US"),
        adhoc("amazon", "Amazon.com, Inc.", "amazon.com", "amazon", "1586", "US"),
        adhoc("audi", "AUDI AG", "audi.com", "audi-ag", "2217", "DE"),
        adhoc("vw", "Volkswagen AG", "volkswagen-group.com", "volkswagen-group", "2216", "DE"),
        adhoc("man", "MAN Truck & Bus SE", "man.eu", "man-truck-&-bus", "11534", "DE"),
        adhoc("traton", "TRATON SE", "traton.com", "traton", "27142", "DE"),
        adhoc("scania", "Scania CV AB", "scania.com", "scania", "2452", "SE"),
        adhoc("linkedin", "LinkedIn Corporation", "linkedin.com", "linkedin", "1337", "US"),
        adhoc("github", "GitHub, Inc.", "github.com", "github", "1418841", "US"),
        adhoc(
            "healthineers",
            "Siemens Healthineers AG",
            "siemens-healthineers.com",
            "siemens-healthineers",
            "11029",
            "DE",
        ),
        adhoc("lht", "Lufthansa Technik AG", "lufthansa-technik.com", "lufthansa-technik", "3411", "DE"),
        adhoc("nestle", "Nestlé S.A.", "nestle.com", "nestle-s-a-", "1779", "CH"),
        adhoc("nespresso", "Nestlé Nespresso S.A.", "nespresso.com", "nespresso", "16263", "CH"),
        adhoc("dhlexpress", "DHL Express Germany GmbH", "dhl.de", "dhl-express-germany", "54411", "DE"),
        adhoc("deutschepost", "Deutsche Post AG", "deutschepost.de", "deutsche-post", "5033", "DE"),
        adhoc(
            "rrmc",
            "Rolls-Royce Motor Cars Limited",
            "rolls-roycemotorcars.com",
            "rolls-royce-motor-cars",
            "9412",
            "GB",
        ),
        adhoc("bytedance", "TikTok Pte. Ltd.", "tiktok.com", "tiktok", "33246798", "SG"),
    ]
}
G = GROUP
G["bmw"] = BMW
G["microsoft"] = POOL["microsoft"]
G["siemens"] = POOL["siemens"]
G["lufthansa"] = POOL["lufthansa"]


def build_affiliates() -> None:
    cat = "affiliates"
    n = iter(range(1, 100))
    # (account key, parent on the account record, destination key, parent named by the source, how)
    moves = [
        ("instagram", "Meta Platforms, Inc.", "meta", None, "the parent"),
        ("whatsapp", "Meta Platforms, Inc.", "meta", None, "the parent"),
        ("youtube", "Google LLC", "google", "Alphabet Inc.", "the parent"),
        ("google", "Alphabet Inc.", "alphabet", None, "the parent"),
        ("google", "Alphabet Inc.", "waymo", "Alphabet Inc.", "a sister company under the same parent"),
        ("aws", "Amazon.com, Inc.", "amazon", None, "the parent"),
        ("amazon", None, "aws", "Amazon.com, Inc.", "a subsidiary"),
        ("audi", "Volkswagen AG", "vw", None, "the parent"),
        ("vw", None, "audi", "Volkswagen AG", "a subsidiary"),
        ("man", "TRATON SE", "traton", None, "the parent"),
        ("scania", "TRATON SE", "man", "TRATON SE", "a sister company under the same parent"),
        ("linkedin", "Microsoft Corporation", "microsoft", None, "the parent"),
        (
            "github",
            "Microsoft Corporation",
            "linkedin",
            "Microsoft Corporation",
            "a sister company under the same parent",
        ),
        ("healthineers", "Siemens AG", "siemens", None, "the parent"),
        ("lht", "Deutsche Lufthansa AG", "lufthansa", None, "the parent"),
        ("nestle", None, "nespresso", "Nestle S.A.", "a subsidiary"),
        ("dhlexpress", "Deutsche Post AG", "deutschepost", None, "the parent"),
        ("bmw", None, "rrmc", "Bayerische Motoren Werke AG", "a subsidiary"),
    ]
    for acc_key, acc_parent, dest_key, dest_parent, how in moves:
        acc_co, dest = G[acc_key], G[dest_key]
        i = next(n)
        dest_company = company(dest, "full")
        if dest_parent:
            dest_company["parent_name"] = dest_parent
        acc_company = company(acc_co, "full")
        plain_move(
            cat,
            f"affiliate-{i:03d}",
            acc_co=acc_co,
            new_co=dest,
            p=new_person(
                rebrand_region(
                    acc_co if acc_co.country in ("DE", "US", "GB", "FR", "JP") else POOL["siemens"]
                )
            ),
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            acc_company=acc_company,
            new_company=dest_company,
            acc_kwargs={"parent": acc_parent} if acc_parent else None,
            expected="unknown",
            desc=f"moved from {acc_co.name} to {dest.name} ({how} of the account): a move within the group "
            "is not a departure",
        )
    # real departures from a group company to an unrelated employer
    lefts = [
        ("instagram", "Meta Platforms, Inc.", G["bytedance"]),
        ("audi", "Volkswagen AG", BMW),
        ("linkedin", "Microsoft Corporation", POOL["salesforce"]),
        ("aws", "Amazon.com, Inc.", POOL["snowflake"]),
        ("healthineers", "Siemens AG", POOL["philips"]),
        ("youtube", "Google LLC", POOL["spotify"]),
    ]
    for acc_key, parent, dest in lefts:
        acc_co = G[acc_key]
        i = next(n)
        plain_move(
            cat,
            f"affiliate-{i:03d}",
            acc_co=acc_co,
            new_co=dest,
            p=new_person("US" if i % 2 else "DE"),
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            acc_company=company(acc_co, "full"),
            new_company=company(dest, "full"),
            acc_kwargs={"parent": parent},
            desc=f"left {acc_co.name} (part of {parent}) for {dest.name}, unrelated to both",
        )


NAMESAKES = [  # (first, middle, last, country, contact full_name or None)
    ("Thomas", None, "Müller", "DE", None),
    ("Michael", None, "Schmidt", "DE", None),
    ("John", None, "Smith", "GB", None),
    ("Wei", None, "Zhang", "CN", "张伟"),
    ("María", None, "García", "US", None),
    ("Jan", None, "de Vries", "NL", None),
    ("Anna", None, "Andersson", "SE", None),
    ("David", None, "Cohen", "US", None),
    ("Sarah", None, "Johnson", "US", None),
    ("Pierre", None, "Martin", "FR", None),
    ("Hiroshi", None, "Tanaka", "JP", "田中 宏"),
    ("Michael", "J.", "Schmidt", "DE", None),
    ("Stefan", None, "Meier", "DE", None),
    ("James", None, "Brown", "GB", None),
    ("Lars", None, "Hansen", "DK", None),
    ("Mohammed", None, "Khan", "GB", None),
    ("Laura", None, "Fischer", "DE", None),
    ("Daniel", None, "Lee", "US", None),
    ("Sophie", None, "Dubois", "FR", None),
    ("Peter", None, "Jansen", "NL", None),
]


def build_namesakes() -> None:
    cat = "namesakes"
    fc_bayern = {"name": "FC Bayern München AG", "website": "fcbayern.com"}
    for i, (first, middle, last, country, native) in enumerate(NAMESAKES):
        today = TODAYS[i % 5]
        region = {"CN": "ASIA", "JP": "ASIA", "SE": "NORDIC", "DK": "NORDIC"}.get(country, country)
        acc_co = POOL[RNG.choice(REGIONS[region])]
        p = Person(first, last, middle=middle, country=country)
        acc = account(acc_co)
        ctc_url = (
            li_person_form(f"{ascii_of(first).lower()}-{ascii_of(last).lower()}-{i + 3}b", i)
            if i % 4 == 1
            else None
        )
        ctc = contact(
            p,
            acc,
            email=f"{email_local(p, i)}@{acc_co.domain}",
            url=ctc_url,
            full_name=native or (i % 3 == 0),
        )
        elsewhere = other_co(acc_co)
        start = d(today) - timedelta(days=RNG.randrange(200, 3000))
        current = fc_bayern if (first, last) == ("Thomas", "Müller") else company(elsewhere, "full")
        positions = [position(current, title=RNG.choice(TITLES), start=fmt(start, "YM"), primary=True)]
        if i % 2:
            positions.append(old_job(other_co(acc_co, elsewhere), today))
        emails = ()
        if i % 3 == 1:
            emails = (f"{email_local(p, i + 2)}@{elsewhere.domain}",)
        elif i % 3 == 2:
            emails = (f"{email_local(p, i)}{RNG.randrange(70, 99)}@gmail.com",)
        prof_middle = {"middle_name": "A."} if middle else {}
        names = {
            "full_name": f"{first} {prof_middle.get('middle_name', '') + ' ' if middle else ''}{last}",
            "first_name": first,
            "last_name": last,
            **prof_middle,
        }
        if i % 5 == 2:
            names = {k: v.lower() for k, v in names.items()}
        other_slug = f"{ascii_of(first).lower()}-{ascii_of(last).lower()}-{RNG.randrange(100, 999)}"
        prof = profile(
            p,
            positions,
            today=today,
            lv_days=RNG.randrange(5, 120),
            slug=other_slug if i % 2 == 0 or ctc_url else None,
            emails=emails,
            matched_on=("name_company",),
            likelihood=[4, 5, 6, 3, 9][i % 5],
            names=names,
        )
        why = "name only"
        if ctc_url:
            why = "name only, and the contact's LinkedIn URL is a different profile"
        elif middle:
            why = "name only, middle initial differs"
        add(
            cat,
            f"namesake-{i + 1:03d}",
            f"{why}: '{first} {last}' at {current['name']}, never at {acc_co.name}; "
            f"likelihood {prof['match_likelihood']}",
            today,
            ctc,
            acc,
            prof,
            "unknown",
        )


def build_stale() -> None:
    cat = "stale"
    # every age here is beyond the 365-day freshness window (docs/matching.md, "Freshness")
    plans = [
        (480, "YMD"),
        (420, "YMD"),
        (720, "YM"),
        (1100, "Y"),
        (460, "YMD"),
        (None, "YMD"),
        (540, "YM"),
        (900, "YMD"),
        (1500, "Y"),
        (505, "YM"),
        (None, "YMD"),
        (610, "YMD"),
        (440, "YMD"),
        (800, "Y"),
        (375, "YMD"),
        (None, "YMD"),
    ]
    for i, (lv, style) in enumerate(plans):
        region = MOVE_REGIONS[i % len(MOVE_REGIONS)]
        acc_co = POOL[RNG.choice(REGIONS[region])]
        new_co = other_co(acc_co)
        what = f"last verified {lv} days ago" if lv else "never verified (no last_verified, no last_changed)"
        plain_move(
            cat,
            f"stale-{i + 1:03d}",
            acc_co=acc_co,
            new_co=new_co,
            p=new_person(region),
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            acc_ref=REFS[i % len(REFS)],
            lv_days=lv or 0,
            lv_style=style,
            expected="unknown",
            desc=f"looks like a move from {acc_co.name} to {new_co.name}, but {what}",
        )
        if lv is None:
            prof = CASES[cat][-1]["profile"]
            prof.pop("last_verified", None)
            prof.pop("last_changed", None)
    for j, lv in enumerate([400, 950, 480, 1200]):
        i = len(plans) + j
        region = MOVE_REGIONS[i % len(MOVE_REGIONS)]
        co = POOL[RNG.choice(REGIONS[region])]
        stay(
            cat,
            f"stale-{i + 1:03d}",
            acc_co=co,
            p=new_person(region),
            today=TODAYS[i % 5],
            basis="email",
            i=i,
            current=company(co, "variant"),
            lv_days=lv,
            expected="unknown",
            desc=f"profile shows the account as current employer, but last verified {lv} days ago "
            "(stale data gives no verdict, product.md §4)",
        )


def build_nonprimary() -> None:
    cat = "nonprimary"
    n = iter(range(1, 100))
    side = [
        {"name": "Förderverein Gymnasium am Stadtpark e.V."},
        {"name": "Rotary Club München-Nord"},
        {"name": "TEDxAmsterdam"},
        {"name": "Freelance"},
        {"name": "IEEE", "website": "ieee.org"},
    ]
    # ended non-primary job at the account, primary elsewhere: a move (LEFT), some with open side roles
    for k in range(8):
        i = next(n)
        region = MOVE_REGIONS[i % len(MOVE_REGIONS)]
        acc_co = POOL[RNG.choice(REGIONS[region])]
        new_co = other_co(acc_co)
        extra = (
            (
                position(
                    side[k % len(side)],
                    title=RNG.choice(["Beirat", "Board Member", "Mentor", "Speaker"]),
                    start=None if k % 2 else "2019",
                ),
            )
            if k % 2 == 0 or k > 4
            else ()
        )
        plain_move(
            cat,
            f"nonprimary-{i:03d}",
            acc_co=acc_co,
            new_co=new_co,
            p=new_person(region),
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            acc_ref=REFS[i % len(REFS)],
            end_style=STYLES[k % 6],
            extra_positions=extra,
            desc=f"non-primary job at {acc_co.name} has an end date; primary job at {new_co.name}"
            + ("; open side role elsewhere" if extra else ""),
        )
    # non-primary job at the account with no end date: dates unknown, maybe still there (PDL §1.1.6)
    for k in range(9):
        i = next(n)
        region = MOVE_REGIONS[i % len(MOVE_REGIONS)]
        acc_co = POOL[RNG.choice(REGIONS[region])]
        new_co = other_co(acc_co)
        plain_move(
            cat,
            f"nonprimary-{i:03d}",
            acc_co=acc_co,
            new_co=new_co,
            p=new_person(region),
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            acc_ref=REFS[i % len(REFS)],
            expected="unknown",
            desc="",
        )
        case = CASES[cat][-1]
        acc_pos = case["profile"]["positions"][1]
        acc_pos.pop("end_date")
        if k % 3 == 0:
            acc_pos.pop("start_date")
            case["description"] = (
                f"non-primary job at {acc_co.name} with neither start nor end date (unknown, "
                f"not ended); primary at {new_co.name}"
            )
        elif k % 3 == 1:
            case["description"] = (
                f"non-primary job at {acc_co.name} with a start but no end date: may be a "
                f"concurrent role; primary at {new_co.name}"
            )
            acc_pos["title"] = RNG.choice(["Advisor", "Beirat", "Senior Advisor", "Interim CFO"])
        else:
            older = dict(acc_pos, end_date=acc_pos.get("start_date"))
            older["start_date"] = "2008-01" if str(acc_pos.get("start_date")) < "2012" else "2012-01"
            case["profile"]["positions"].append(older)
            case["description"] = (
                f"one ended and one open (no end date) non-primary job at {acc_co.name}; "
                f"primary at {new_co.name}: conflicting"
            )
    # primary job at the account; ended (or open) non-primary jobs elsewhere
    for k in range(6):
        i = next(n)
        region = MOVE_REGIONS[i % len(MOVE_REGIONS)]
        co = POOL[RNG.choice(REGIONS[region])]
        prior = [old_job(other_co(co), TODAYS[i % 5])]
        if k % 2:
            prior.append(position(side[k % len(side)], title="Board Member", start="2020-05"))
        if k % 3 == 2:
            prior.append(old_job(other_co(co), TODAYS[i % 5], years_back=14))
        stay(
            cat,
            f"nonprimary-{i:03d}",
            acc_co=co,
            p=new_person(region),
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            current=company(co, REFS[i % len(REFS)]),
            prior=tuple(prior),
            desc=f"primary job at {co.name}; the ended / side jobs elsewhere are non-primary",
        )


def build_boomerang() -> None:
    cat = "boomerang"
    n = iter(range(1, 100))
    # left, worked elsewhere, came back: the primary job is at the account again
    for k in range(9):
        i = next(n)
        region = MOVE_REGIONS[i % len(MOVE_REGIONS)]
        co = POOL[RNG.choice(REGIONS[region])]
        mid = other_co(co)
        today = TODAYS[i % 5]
        back = d(today) - timedelta(days=RNG.randrange(60, 900))
        mid_start = back - timedelta(days=RNG.randrange(300, 1400))
        first_end = mid_start - timedelta(days=RNG.randrange(0, 60))
        first_start = first_end - timedelta(days=RNG.randrange(500, 2500))
        prior = [
            position(
                company(mid, "full"),
                title=RNG.choice(TITLES),
                start=fmt(mid_start, "YM"),
                end=fmt(back, STYLES[k % 6]),
            ),
            position(
                company(co, REFS[(k + 3) % len(REFS)]),
                title=RNG.choice(TITLES),
                start=fmt(first_start, "YM"),
                end=fmt(first_end, STYLES[(k + 1) % 6]),
            ),
        ]
        if k % 3 == 2:
            prior.reverse()
        stay(
            cat,
            f"boomerang-{i:03d}",
            acc_co=co,
            p=new_person(region),
            today=today,
            basis=BASES[i % len(BASES)],
            i=i,
            current=company(co, REFS[k % len(REFS)]),
            prior=tuple(prior),
            start=back,
            desc=f"left {co.name} for {mid.name} and came back: primary job is at the account again",
        )
    # came back, then left again for good
    for _ in range(5):
        i = next(n)
        region = MOVE_REGIONS[i % len(MOVE_REGIONS)]
        co = POOL[RNG.choice(REGIONS[region])]
        mid, new = other_co(co), None
        new = other_co(co, mid)
        today = TODAYS[i % 5]
        mid_end = d(today) - timedelta(days=RNG.randrange(1000, 2000))
        mid_start = mid_end - timedelta(days=RNG.randrange(300, 900))
        extra = (
            position(
                company(mid, "full"),
                title=RNG.choice(TITLES),
                start=fmt(mid_start, "YM"),
                end=fmt(mid_end, "YM"),
            ),
            position(
                company(co, "variant"),
                title=RNG.choice(TITLES),
                start=fmt(mid_start - timedelta(days=1500), "YM"),
                end=fmt(mid_start, "YM"),
            ),
        )
        plain_move(
            cat,
            f"boomerang-{i:03d}",
            acc_co=co,
            new_co=new,
            p=new_person(region),
            today=today,
            basis=BASES[i % len(BASES)],
            i=i,
            acc_ref=REFS[i % len(REFS)],
            extra_positions=extra,
            desc=f"{co.name}, then {mid.name}, back at {co.name}, and now (latest stint ended) at {new.name}",
        )
        case = CASES[cat][-1]
        # the second stint at the account starts after the interlude
        case["profile"]["positions"][1]["start_date"] = fmt(mid_end + timedelta(days=20), "YM")
    # came back only as an open non-primary role, or the comeback is stale
    for k in range(4):
        i = next(n)
        region = MOVE_REGIONS[i % len(MOVE_REGIONS)]
        co = POOL[RNG.choice(REGIONS[region])]
        new = other_co(co)
        today = TODAYS[i % 5]
        if k < 2:
            extra = (
                position(
                    company(co, "name"),
                    title=RNG.choice(["Consultant", "Advisor", "Freelance Trainer"]),
                    start=ago(today, RNG.randrange(30, 200), "YM"),
                ),
            )
            plain_move(
                cat,
                f"boomerang-{i:03d}",
                acc_co=co,
                new_co=new,
                p=new_person(region),
                today=today,
                basis=BASES[i % len(BASES)],
                i=i,
                extra_positions=extra,
                expected="unknown",
                desc=f"left {co.name} for {new.name}, but a new open (no end date) non-primary role at "
                f"{co.name} started recently: may be back",
            )
        else:
            lv = RNG.randrange(400, 900)
            back = d(today) - timedelta(days=lv + RNG.randrange(30, 300))
            mid_start = back - timedelta(days=RNG.randrange(300, 900))
            prior = (
                position(
                    company(new, "full"),
                    title=RNG.choice(TITLES),
                    start=fmt(mid_start, "YM"),
                    end=fmt(back, "YM"),
                ),
                position(
                    company(co, "full"),
                    title=RNG.choice(TITLES),
                    start=fmt(mid_start - timedelta(days=1800), "YM"),
                    end=fmt(mid_start, "YM"),
                ),
            )
            stay(
                cat,
                f"boomerang-{i:03d}",
                acc_co=co,
                p=new_person(region),
                today=today,
                basis="email",
                i=i,
                current=company(co, "variant"),
                prior=prior,
                lv_days=lv,
                start=back,
                expected="unknown",
                desc=f"came back to {co.name}, but the profile was last verified over a year ago (stale)",
            )


def build_no_account() -> None:
    cat = "no_account"
    for i in range(17):
        region = MOVE_REGIONS[i % len(MOVE_REGIONS)]
        co = POOL[RNG.choice(REGIONS[region])]
        new = other_co(co)
        p = new_person(region)
        today = TODAYS[i % 5]
        kind = i % 4
        if kind in (0, 1):
            plain_move(
                cat,
                f"noaccount-{i + 1:03d}",
                acc_co=co,
                new_co=new,
                p=p,
                today=today,
                basis=BASES[i % len(BASES)],
                i=i,
                desc="",
            )
        else:
            stay(
                cat,
                f"noaccount-{i + 1:03d}",
                acc_co=co,
                p=p,
                today=today,
                basis=BASES[i % len(BASES)],
                i=i,
                current=company(co, "full"),
                desc="",
            )
        case = CASES[cat][-1]
        case["expected"] = "unknown"
        if i % 6 == 5:
            case["account"] = None  # account_id kept: the account could not be read (deleted, no access)
            case["description"] = (
                "contact points at an account that could not be loaded: nothing to compare the profile with"
            )
        else:
            case["account"] = None
            case["contact"].pop("account_id")
            case["description"] = "contact has no parent account (private person or unassigned lead): " + (
                "profile shows a move" if kind < 2 else "profile shows a current job"
            )
        if i in (3, 10):
            case["profile"] = None
            case["description"] = "contact without account and no profile found"


# transliteration of person names the way a profile source may spell them
def german_ascii(s: str) -> str:
    return s.translate(
        str.maketrans(
            {
                "ä": "ae",
                "ö": "oe",
                "ü": "ue",
                "ß": "ss",
                "Ä": "Ae",
                "Ö": "Oe",
                "Ü": "Ue",
                "é": "e",
                "è": "e",
                "ç": "c",
                "ø": "oe",
                "Ø": "Oe",
                "å": "aa",
                "Å": "Aa",
                "æ": "ae",
                "ı": "i",
                "ê": "e",
                "ô": "o",
                "ë": "e",
                "ï": "i",
            }
        )
    )


def plain_ascii(s: str) -> str:
    import unicodedata

    s = s.replace("ß", "ss").replace("ø", "o").replace("Ø", "O").replace("æ", "ae").replace("ı", "i")
    return "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))


UMLAUT_PEOPLE = [
    ("Jürgen", "Weiß", "DE"),
    ("Bärbel", "Köhler", "DE"),
    ("Günther", "Groß", "DE"),
    ("Dörte", "Schäfer", "DE"),
    ("Jörg", "Krüger", "DE"),
    ("Björn", "Jäger", "DE"),
    ("Søren", "Østergaard", "DK"),
    ("Åsa", "Sjöberg", "SE"),
    ("Mikkel", "Jørgensen", "DK"),
    ("François", "Lefèvre", "FR"),
    ("Hélène", "Mercier", "FR"),
    ("Élodie", "Girard", "FR"),
    ("Emre", "Yılmaz", "DE"),
    ("Ayşe", "Özdemir", "DE"),
    ("Märta", "Åkesson", "SE"),
    ("Eero", "Järvinen", "FI"),
    ("Ingrid", "Lønne", "NO"),
    ("Raphaël", "Rousseau", "FR"),
    ("Ludwig", "von Bülow", "DE"),
    ("Anneliese", "Fuß", "DE"),
    ("Cécile", "Chevalier", "FR"),
    ("Käthe", "Strauß", "DE"),
    ("Pieter", "van der Meer", "NL"),
    ("Liesbeth", "de Groot", "NL"),
]
INTL_COMPANIES = [
    "grossmann",
    "boehm",
    "koerber",
    "wuerth",
    "weidmueller",
    "sueddeutscher",
    "maersk",
    "loreal",
    "socgen",
    "michelin",
    "dassault",
    "hm",
    "ericsson",
    "novonordisk",
    "telia",
    "kone",
    "siemens",
    "bertelsmann",
    "philips",
    "ing",
    "klarna",
    "dnb",
    "henkel",
    "oetker",
]


def build_international() -> None:
    cat = "international"
    n = iter(range(1, 200))
    # European names with diacritics: the profile spells them transliterated or stripped; employer names too
    for k, (first, last, country) in enumerate(UMLAUT_PEOPLE):
        i = next(n)
        _used_names.add((first, last))
        p = Person(first, last, country=country)
        acc_co = POOL[INTL_COMPANIES[k % len(INTL_COMPANIES)]]
        conv = german_ascii if k % 2 == 0 else plain_ascii
        names = {"full_name": conv(f"{first} {last}"), "first_name": conv(first), "last_name": conv(last)}
        if k % 3 == 0:
            names = {key: v.lower() for key, v in names.items()}
        spelled = conv(acc_co.name)
        today = TODAYS[i % 5]
        if k % 2 == 0:  # a move; the ended job is spelled without diacritics
            new = other_co(acc_co, region=None)
            plain_move(
                cat,
                f"intl-{i:03d}",
                acc_co=acc_co,
                new_co=new,
                p=p,
                today=today,
                basis=["email", "url", "email", "name_domain"][k % 4],
                i=i,
                acc_company={"name": spelled} if k % 4 else {"name": spelled, "website": acc_co.domain},
                desc=f"'{first} {last}' spelled '{names['full_name']}' by the source; ended at '{spelled}' "
                f"(= {acc_co.name}), now at {new.name}",
            )
            CASES[cat][-1]["profile"].update(names)
        else:  # still there, employer spelled without diacritics
            stay(
                cat,
                f"intl-{i:03d}",
                acc_co=acc_co,
                p=p,
                today=today,
                basis=["email", "url"][(k // 2) % 2],
                i=i,
                current={"name": spelled},
                desc=f"'{first} {last}' spelled '{names['full_name']}'; current employer '{spelled}' is "
                f"{acc_co.name} (transliteration)",
            )
            CASES[cat][-1]["profile"].update(names)
    # East-Asian names: native script in the CRM, romanised (and order-swapped) in the profile
    asian_cos = ["toyota", "hitachi", "rakuten", "nintendo", "samsung", "lg", "tencent", "alibaba"]
    for k, (given, family, native, country) in enumerate([a for a in ASIAN if a[2]]):
        if (given, family) in _used_names:
            continue
        i = next(n)
        _used_names.add((given, family))
        p = Person(given, family, country=country, native_full=native)
        acc_co = POOL[asian_cos[k % len(asian_cos)]]
        today = TODAYS[i % 5]
        native_family, native_given = native.split(" ")[:2] if " " in native else (native[0], native[1:])
        ctc_names = {"first_name": native_given, "last_name": native_family, "full_name": native}
        prof_names = {
            "full_name": f"{family} {given}" if k % 2 else f"{given} {family}",
            "first_name": given,
            "last_name": family,
        }
        if k % 3 == 0:
            prof_names = {key: v.lower() for key, v in prof_names.items()}
        if k % 3 != 2:
            new = other_co(acc_co, region="ASIA" if k % 2 else None)
            plain_move(
                cat,
                f"intl-{i:03d}",
                acc_co=acc_co,
                new_co=new,
                p=p,
                today=today,
                basis="email",
                i=i,
                acc_company={
                    "name": acc_co.native[0] if acc_co.native else acc_co.name,
                    "website": website_form(acc_co),
                },
                desc=f"CRM name '{native}', profile '{prof_names['full_name']}', same work email; ended at "
                f"{acc_co.name} (native name + domain), now at {new.name}",
            )
        else:
            stay(
                cat,
                f"intl-{i:03d}",
                acc_co=acc_co,
                p=p,
                today=today,
                basis="email",
                i=i,
                current={
                    "name": acc_co.native[0] if acc_co.native else acc_co.name,
                    "website": acc_co.domain,
                },
                desc=f"CRM name '{native}', profile '{prof_names['full_name']}', same work email; current "
                "employer in native script with the account's domain",
            )
        case = CASES[cat][-1]
        case["contact"].update(ctc_names)
        case["contact"].pop("middle_name", None)
        case["profile"].update(prof_names)
        case["profile"].pop("middle_name", None)
    # name-only look-ups across scripts / spellings: never strong
    weak = [
        ("Wei", "Zhang", "张伟", "tencent"),
        ("Jürgen", "Müller", None, "grossmann"),
        ("Min-jun", "Kim", "김민준", "samsung"),
        ("François", "Petit", None, "loreal"),
        ("Søren", "Hansen", None, "maersk"),
        ("Yuki", "Sato", "佐藤 由紀", "rakuten"),
    ]
    for k, (first, last, native, key) in enumerate(weak):
        i = next(n)
        acc_co = POOL[key]
        p = Person(first, last, country=acc_co.country)
        today = TODAYS[i % 5]
        acc = account(acc_co)
        ctc = contact(p, acc, email=f"{email_local(p, k)}@{acc_co.domain}", full_name=native or True)
        if native:
            ctc["first_name"], ctc["last_name"] = (
                (native.split(" ")[1], native.split(" ")[0]) if " " in native else (native[1:], native[0])
            )
        other = other_co(acc_co)
        prof = profile(
            p,
            [
                position(company(other, "full"), title=RNG.choice(TITLES), start="2021-03", primary=True),
                old_job(other_co(acc_co, other), today),
            ],
            today=today,
            lv_days=30,
            matched_on=("name_company",),
            likelihood=5,
            names={
                "full_name": german_ascii(f"{first} {last}"),
                "first_name": german_ascii(first),
                "last_name": german_ascii(last),
            },
        )
        add(
            cat,
            f"intl-{i:03d}",
            f"name-only match '{german_ascii(first)} {german_ascii(last)}' for "
            f"'{native or first + ' ' + last}', no email or URL in common, never at {acc_co.name}",
            today,
            ctc,
            acc,
            prof,
            "unknown",
        )


def build_odd_fields() -> None:
    cat = "odd_fields"
    n = iter(range(1, 100))

    def nid() -> str:
        return f"odd-{next(n):03d}"

    def last() -> dict:
        return CASES[cat][-1]

    def move(acc_key: str, region: str, desc: str, **kw) -> dict:
        acc_co = POOL[acc_key]
        new = kw.pop("new_co", None) or other_co(acc_co)
        i = RNG.randrange(1000)
        kw.setdefault("basis", "email")
        plain_move(
            cat,
            nid(),
            acc_co=acc_co,
            new_co=new,
            p=kw.pop("p", None) or new_person(region),
            today=kw.pop("today", TODAYS[i % 5]),
            i=i,
            desc=desc,
            **kw,
        )
        return last()

    def still(acc_key: str, region: str, desc: str, current: dict | None = None, **kw) -> dict:
        co = POOL[acc_key]
        i = RNG.randrange(1000)
        stay(
            cat,
            nid(),
            acc_co=co,
            p=kw.pop("p", None) or new_person(region),
            today=TODAYS[i % 5],
            basis=kw.pop("basis", "email"),
            i=i,
            current=current or company(co, "variant"),
            desc=desc,
            **kw,
        )
        return last()

    # ---- LEFT despite odd formatting
    c = move("bosch", "DE", "ALL-CAPS contact name and e-mail; lowercase profile; same mailbox")
    c["contact"].update(
        first_name=c["contact"]["first_name"].upper(),
        last_name=c["contact"]["last_name"].upper(),
        email=c["contact"]["email"].upper(),
    )
    c["contact"].pop("middle_name", None)
    c["profile"].update({k: v.lower() for k, v in c["profile"].items() if k.endswith("name")})
    c = move("unilever", "GB", "names and e-mail padded with whitespace in the CRM")
    c["contact"].update(
        first_name=f"  {c['contact']['first_name']} ",
        last_name=f"{c['contact']['last_name']}\t",
        email=f" {c['contact']['email']} ",
    )
    c = move(
        "tesco", "GB", "contact has only full_name in 'Last, First' form; profile URL matches", basis="url"
    )
    ctc = c["contact"]
    ctc["full_name"] = f"{ctc.pop('last_name')}, {ctc.pop('first_name')}"
    ctc.pop("middle_name", None)
    move(
        "basf",
        "DE",
        "account website in capitals with a path; ended job known by domain only",
        acc_kwargs={"website": "HTTPS://WWW.BASF.COM/GLOBAL/DE/"},
        acc_company={"website": "https://www.basf.com/de"},
    )
    c = move(
        "ericsson", "NORDIC", "positions out of order (ended job at the account listed before the primary)"
    )
    c["profile"]["positions"].reverse()
    c = move("capgemini", "FR", "ended job at the account: end year only, no start date, no title")
    acc_pos = c["profile"]["positions"][1]
    acc_pos.pop("start_date")
    acc_pos.pop("title")
    acc_pos["end_date"] = acc_pos["end_date"][:4]
    c = move("ing", "NL", "profile lists three addresses, one is the contact's address in another case")
    work = c["contact"]["email"]
    c["profile"]["emails"] = [f"{work.split('@')[0]}@gmail.com", work.title(), "info@example.org"]
    c["profile"]["matched_on"] = ["email"]
    c = move("adobe", "US", "contact e-mail is an empty string; profile URL matches", basis="url")
    c["contact"]["email"] = ""
    c = move(
        "infineon",
        "DE",
        "profile has a middle name the CRM lacks; same mailbox",
        p=Person("Katrin", "Vogt", middle="Elisabeth", country="DE"),
        lower=False,
    )
    c["contact"].pop("middle_name", None)
    c["profile"].update(full_name="Katrin Elisabeth Vogt", middle_name="Elisabeth")
    c = move(
        "sap",
        "DE",
        "account name with trailing spaces, country and phone empty strings",
        acc_kwargs={"name": "SAP SE   ", "country": "", "phone": ""},
    )
    c = move("pfizer", "US", "profile has only full_name (no first/last); same mailbox")
    for key in ("first_name", "last_name", "middle_name"):
        c["profile"].pop(key, None)
    c = move(
        "wolterskluwer",
        "NL",
        "contact LinkedIn URL with query string and capitals, profile URL canonical",
        basis="url",
    )
    slug = c["profile"]["profile_url"].rsplit("/", 1)[1]
    c["contact"]["profile_url"] = f"https://NL.LINKEDIN.COM/in/{slug}/?locale=nl_NL"
    c = move(
        "schaeffler",
        "DE",
        "married name: surname differs from the CRM, same work e-mail (surname change "
        "does not veto an e-mail match)",
        p=Person("Julia", "Schneider", country="DE"),
    )
    c["profile"].update(full_name="Julia Hartmann", first_name="Julia", last_name="Hartmann")
    c["profile"].pop("middle_name", None)
    c["profile"]["emails"] = [c["contact"]["email"]]
    c["profile"]["matched_on"] = ["email"]

    # ---- STILL_THERE despite odd formatting
    still(
        "heineken",
        "NL",
        "account name in capitals with trailing whitespace; profile lowercase",
        acc_kwargs={"name": "HEINEKEN N.V.  "},
        current={"name": "heineken n.v."},
    )
    still(
        "kone",
        "NORDIC",
        "account website is an empty string; legal-form variant of the name",
        acc_kwargs={"website": ""},
        current={"name": "KONE Corporation"},
    )
    c = still("axa", "FR", "primary job without any dates", current={"name": "AXA SA"})
    c["profile"]["positions"][0].pop("start_date", None)
    c = still(
        "siemens",
        "DE",
        "profile company has no name, only the LinkedIn page the account also has",
        current={"linkedin_url": "linkedin.com/company/siemens", "linkedin_id": "2431"},
        acc_kwargs={"linkedin": True},
    )
    c["account"]["linkedin_url"] = "https://de.linkedin.com/company/siemens/"
    still(
        "adyen",
        "NL",
        "profile company has no name, only a website on the account's domain",
        current={"website": "https://www.adyen.com/de_DE"},
    )
    c = still("klarna", "NORDIC", "contact has no names at all, only the e-mail the profile also has")
    for key in ("first_name", "last_name", "middle_name", "full_name"):
        c["contact"].pop(key, None)
    c = still(
        "oetker",
        "DE",
        "empty titles and a tab in the company name",
        current={"name": "\tDr. August Oetker KG"},
    )
    c["profile"]["positions"][0]["title"] = ""
    c["contact"]["job_title"] = ""
    still(
        "tesco",
        "GB",
        "account website with a query string",
        acc_kwargs={"website": "https://www.tescoplc.com/?utm_source=crm"},
        current={"name": "TESCO", "website": "tescoplc.com"},
    )
    c = still("vodafone", "GB", "mixed-case contact e-mail; the profile lists it twice")
    work = c["contact"]["email"]
    c["contact"]["email"] = work[0].upper() + work[1:]
    c["profile"]["emails"] = [work, work]
    c["profile"]["matched_on"] = ["email"]
    still(
        "telekom",
        "DE",
        "company name with a '| Karriere' suffix from a scraped page, same domain",
        current={"name": "Deutsche Telekom | Karriere", "website": "https://www.telekom.com/de/karriere"},
    )

    # ---- UNKNOWN: missing or contradictory data
    for k, (key, region) in enumerate([("salesforce", "US"), ("danone", "FR")]):
        acc_co = POOL[key]
        p = new_person(region)
        acc = account(acc_co)
        ctc = contact(
            p, acc, email=f"{email_local(p)}@{acc_co.domain}", url=li_person_form(slug_of(p)) if k else None
        )
        add(cat, nid(), "no profile found for the contact", TODAYS[k], ctc, acc, None, "unknown")
    c = move("ocado", "GB", "profile has no positions at all", expected="unknown")
    c["profile"]["positions"] = []
    c = move(
        "spotify",
        "NORDIC",
        "no position is marked primary: the current employer is unknown",
        expected="unknown",
    )
    for pos_ in c["profile"]["positions"]:
        pos_.pop("is_primary", None)
    c["profile"]["positions"][0]["end_date"] = ago(c["today"], 40, "YM")
    c = move(
        "danone",
        "FR",
        'primary position has an empty company (name "", nothing else)',
        expected="unknown",
        new_company={"name": ""},
    )
    c = move(
        "hubspot",
        "US",
        "two positions marked primary, one at the account and one elsewhere: conflicting",
        expected="unknown",
    )
    acc_pos = c["profile"]["positions"][1]
    acc_pos.pop("end_date")
    acc_pos["is_primary"] = True
    c = move(
        "novonordisk",
        "NORDIC",
        "the 'primary' job elsewhere has an end date in the past: the current job is unknown",
        expected="unknown",
    )
    c["profile"]["positions"][0]["end_date"] = ago(c["today"], 90, "YM")
    c = move(
        "btgroup",
        "GB",
        "same e-mail, but the contact's LinkedIn URL points at another profile: conflicting person match",
        expected="unknown",
    )
    c["contact"]["profile_url"] = f"https://www.linkedin.com/in/{slug_of(new_person('GB'))}"
    c = move(
        "zalando",
        "DE",
        "account has empty name and no website: the history cannot be tied to it",
        expected="unknown",
        acc_kwargs={"name": "", "website": None},
    )
    c = move(
        "boehm",
        "DE",
        "role mailbox: the CRM 'contact' is a department, the profile with that address is a "
        "person with another name",
        expected="unknown",
        p=Person("Einkauf", "Abteilung", country="DE"),
    )
    c["contact"]["email"] = "einkauf@boehm-logistik.de"
    c["profile"].update(
        full_name="Peter Wagner",
        first_name="Peter",
        last_name="Wagner",
        emails=["einkauf@boehm-logistik.de"],
        matched_on=["email"],
    )
    c["profile"].pop("middle_name", None)
    c = still(
        "arm",
        "GB",
        "the only (primary) job is at the account but has an end date: contradictory",
        expected="unknown",
    )
    c["profile"]["positions"][0]["end_date"] = ago(c["today"], 120, "YM")
    c = move(
        "cisco",
        "US",
        "name-only match: the CRM address is a team mailbox and the profile knows only a "
        "private address, so the ended job at the account proves nothing",
        expected="unknown",
        basis="url",
    )
    c["contact"].pop("profile_url", None)
    c["contact"]["email"] = f"sales.team@{POOL['cisco'].domain}"
    c["profile"].update(matched_on=["name_company"], match_likelihood=4)
    c["profile"].pop("profile_url", None)
    c["profile"]["emails"] = [
        f"{email_local(Person(c['contact']['first_name'], c['contact']['last_name']))}@gmail.com"
    ]


LOOKALIKES = {
    c.key: c
    for c in [
        adhoc(
            "delta",
            "Delta Air Lines, Inc.",
            "delta.com",
            "delta-air-lines",
            "1713",
            "US",
            ["Delta Air Lines"],
        ),
        adhoc(
            "deltadental",
            "Delta Dental Plans Association",
            "deltadental.com",
            "delta-dental-plans-association",
            "49381",
            "US",
            ["Delta Dental"],
        ),
        adhoc("gm", "General Motors Company", "gm.com", "general-motors", "1712", "US", ["General Motors"]),
        adhoc(
            "generalmills",
            "General Mills, Inc.",
            "generalmills.com",
            "general-mills",
            "2066",
            "US",
            ["General Mills"],
        ),
        adhoc("nokia", "Nokia Oyj", "nokia.com", "nokia", "1025", "FI", ["Nokia Corporation"]),
        adhoc(
            "nokian",
            "Nokian Tyres plc",
            "nokiantyres.com",
            "nokian-tyres",
            "8114",
            "FI",
            ["Nokian Renkaat Oyj"],
        ),
        adhoc(
            "henkell",
            "Henkell Freixenet",
            "henkell-freixenet.com",
            "henkell-freixenet",
            "3901224",
            "DE",
            ["Henkell & Co. Sektkellerei KG"],
        ),
        adhoc(
            "aa",
            "American Airlines, Inc.",
            "aa.com",
            "american-airlines",
            "1422",
            "US",
            ["American Airlines"],
        ),
        adhoc(
            "amex",
            "American Express Company",
            "americanexpress.com",
            "american-express",
            "1697",
            "US",
            ["American Express"],
        ),
        adhoc(
            "nationalgrid",
            "National Grid plc",
            "nationalgrid.com",
            "national-grid",
            "1850",
            "GB",
            ["National Grid"],
        ),
        adhoc(
            "ni",
            "National Instruments Corporation",
            "ni.com",
            "national-instruments",
            "2091",
            "US",
            ["National Instruments"],
        ),
        adhoc("apple", "Apple Inc.", "apple.com", "apple", "162479", "US", ["Apple"]),
        adhoc(
            "appleleisure",
            "Apple Leisure Group",
            "appleleisuregroup.com",
            "apple-leisure-group",
            "166321",
            "US",
        ),
        adhoc(
            "boerse",
            "Deutsche Börse AG",
            "deutsche-boerse.com",
            "deutsche-borse",
            "8161",
            "DE",
            ["Deutsche Boerse AG"],
        ),
        adhoc(
            "bahn", "Deutsche Bahn AG", "deutschebahn.com", "deutsche-bahn", "5612", "DE", ["Deutsche Bahn"]
        ),
        adhoc(
            "samsonite",
            "Samsonite International S.A.",
            "samsonite.com",
            "samsonite",
            "4417",
            "LU",
            ["Samsonite"],
        ),
        adhoc(
            "zurich",
            "Zurich Insurance Group AG",
            "zurich.com",
            "zurich-insurance-company-ltd",
            "2877",
            "CH",
            ["Zurich Insurance Group"],
        ),
        adhoc(
            "zrh",
            "Flughafen Zürich AG",
            "flughafen-zuerich.ch",
            "flughafen-zurich-ag",
            "1220517",
            "CH",
            ["Flughafen Zuerich AG"],
        ),
        adhoc(
            "kraftheinz",
            "The Kraft Heinz Company",
            "kraftheinzcompany.com",
            "kraft-heinz-company",
            "10091340",
            "US",
        ),
        adhoc("univar", "Univar Solutions Inc.", "univarsolutions.com", "univar-solutions", "5215", "US"),
        adhoc(
            "merckkgaa",
            "Merck KGaA",
            "merckgroup.com",
            "merck-group",
            "1919",
            "DE",
            ["Merck KGaA, Darmstadt"],
        ),
        adhoc("msd", "Merck & Co., Inc.", "merck.com", "merck", "2065", "US", ["Merck & Co"]),
        adhoc("rr", "Rolls-Royce plc", "rolls-royce.com", "rolls-royce", "1931", "GB", ["Rolls-Royce"]),
    ]
}
LOOKALIKES.update(
    {
        "henkel": POOL["henkel"],
        "deutschebank": POOL["deutschebank"],
        "samsung": POOL["samsung"],
        "heineken": POOL["heineken"],
        "unilever": POOL["unilever"],
        "deutschepost": G["deutschepost"],
        "rrmc": G["rrmc"],
    }
)


def build_lookalikes() -> None:
    cat = "lookalikes"
    # A shared brand word ("Delta", "Apple", "Merck", "Rolls-Royce") with nothing that separates the two
    # companies (no table entry, no identifier the engine trusts as proof) cannot tell a sister company
    # from a namesake: unknown, never left (docs/matching.md, "Shared brand words").
    shared_brand = {"delta", "deltadental", "apple", "merckkgaa", "rr"}
    pairs = [
        ("delta", "deltadental", ""),
        ("deltadental", "delta", ""),
        ("gm", "generalmills", ""),
        ("generalmills", "gm", ""),
        ("nokia", "nokian", " (separate companies since 1988)"),
        ("henkel", "henkell", " (unrelated, one letter apart)"),
        ("aa", "amex", ""),
        ("nationalgrid", "ni", ""),
        ("apple", "appleleisure", ""),
        ("deutschebank", "boerse", ""),
        ("bahn", "deutschepost", ""),
        ("samsung", "samsonite", ""),
        ("zurich", "zrh", ""),
        ("heineken", "kraftheinz", ""),
        ("unilever", "univar", ""),
        ("merckkgaa", "msd", " (names normalise alike, domains and pages differ)"),
        ("rr", "rrmc", " (name contains the account's name; RRMC belongs to BMW)"),
    ]
    for i, (a, b, note) in enumerate(pairs):
        acc_co, new_co = LOOKALIKES[a], LOOKALIKES[b]
        region = {"FI": "NORDIC", "CH": "DE", "LU": "FR", "KR": "ASIA", "NL": "NL"}.get(
            acc_co.country, acc_co.country
        )
        plain_move(
            cat,
            f"lookalike-{i + 1:03d}",
            acc_co=acc_co,
            new_co=new_co,
            p=new_person(region),
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            acc_company=company(acc_co, "full"),
            new_company=company(new_co, "full"),
            expected="unknown" if a in shared_brand else "left",
            desc=(f"moved from {acc_co.name} to {new_co.name}: the names share a brand word, nothing "
                  f"separates a sister company from a namesake{note}") if a in shared_brand else
            f"left {acc_co.name} for {new_co.name}: similar names, different companies{note}",
        )
    for i, (key, current, why) in enumerate(
        [
            (
                "delta",
                {"name": "DELTA AIR LINES INC", "website": "https://www.delta.com/"},
                "caps, no punctuation",
            ),
            ("gm", {"name": "GM", "website": "gm.com"}, "acronym with the account's domain"),
            (
                "nokian",
                {"name": "Nokian Renkaat Oyj", "website": "https://www.nokiantyres.com/company/"},
                "Finnish legal name, same domain",
            ),
        ]
    ):
        co = LOOKALIKES[key]
        stay(
            cat,
            f"lookalike-{len(pairs) + i + 1:03d}",
            acc_co=co,
            p=new_person("US" if i < 2 else "NORDIC"),
            today=TODAYS[i % 5],
            basis=BASES[i % len(BASES)],
            i=i,
            current=current,
            desc=f"control: still at {co.name} ({why})",
        )


def main() -> None:
    for build in (
        build_moves,
        build_still_there_variants,
        build_domain_only,
        build_rebrands,
        build_affiliates,
        build_namesakes,
        build_stale,
        build_nonprimary,
        build_boomerang,
        build_no_account,
        build_international,
        build_odd_fields,
        build_lookalikes,
    ):
        build()
    ids: set[str] = set()
    total: dict[str, int] = {}
    # only this builder's own files: build_scan_scenarios.py writes the scan-path categories
    for cat in CASES:
        (OUT / f"{cat}.jsonl").unlink(missing_ok=True)
    for cat, cases in CASES.items():
        with (OUT / f"{cat}.jsonl").open("w", encoding="utf-8") as fh:
            for case in cases:
                assert case["id"] not in ids, case["id"]
                ids.add(case["id"])
                total[case["expected"]] = total.get(case["expected"], 0) + 1
                fh.write(json.dumps(case, ensure_ascii=False) + "\n")
        counts = {e: sum(c["expected"] == e for c in cases) for e in ("left", "still_there", "unknown")}
        print(f"{cat:22s} {len(cases):4d}  {counts}")
    print(f"{'total':22s} {len(ids):4d}  {total}")


if __name__ == "__main__":
    main()
