"""Deterministic generator of a sample Dynamics 365 Sales organisation.

``generate_org(OrgSpec(contacts=..., seed=...))`` returns a :class:`SampleOrg` whose rows are produced
lazily: ``sample.rows("contacts")`` is a fresh iterator on every call and yields the same rows each time,
so an org of 1,000,000 contacts is never held in memory. Rows have the Dataverse Web API shape (logical
names, ``_<name>_value`` lookups, ``@Microsoft.Dynamics.CRM.lookuplogicalname`` annotations on the
polymorphic lookups).

How determinism and low memory fit together:

* every GUID is a pure function of ``(seed, entity, index)`` (a keyed Feistel permutation of the index plus
  hash bits, in uuid4 layout), so a contact can reference its account without anyone storing the account,
  and a GUID can be turned back into its index (``SampleOrg.index_of``);
* structural facts other rows depend on (which account a contact belongs to, who owns an account, the
  contact/account/state of an opportunity, who moved) are pure hash functions of the index too;
* the remaining free-text fields come from a ``random.Random`` seeded per block of rows from
  ``(seed, entity, block)``, so re-iterating or jumping to one row regenerates exactly the same values.

The only precomputed state is O(accounts + users) integers (where each account's contacts start).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import random
import unicodedata
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property, lru_cache
from typing import Any

__all__ = [
    "ENTITY_SETS",
    "LOOKUP_SUFFIX",
    "MAX_CONTACTS",
    "ContactTruth",
    "EntityInfo",
    "OrgSpec",
    "SampleOrg",
    "generate_org",
]

MAX_CONTACTS = 1_000_000
LOOKUP_SUFFIX = "@Microsoft.Dynamics.CRM.lookuplogicalname"


@dataclass(frozen=True)
class EntityInfo:
    """Names of one entity set as Dataverse spells them."""

    entity_set: str
    logical_name: str
    primary_key: str
    object_type_code: int


ENTITY_SETS: dict[str, EntityInfo] = {
    info.entity_set: info
    for info in (
        EntityInfo("systemusers", "systemuser", "systemuserid", 8),
        EntityInfo("teams", "team", "teamid", 9),
        EntityInfo("roles", "role", "roleid", 1036),
        EntityInfo("accounts", "account", "accountid", 1),
        EntityInfo("contacts", "contact", "contactid", 2),
        EntityInfo("opportunities", "opportunity", "opportunityid", 3),
        EntityInfo("connectionroles", "connectionrole", "connectionroleid", 3231),
        EntityInfo("connections", "connection", "connectionid", 3234),
    )
}

# ---------------------------------------------------------------------------------------------------------
# Spec
# ---------------------------------------------------------------------------------------------------------


def _check_int(name: str, value: object, low: int, high: int | None) -> None:
    # bool is an int subclass; True as a size is always a caller bug.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value}")


@dataclass(frozen=True)
class OrgSpec:
    """What to generate. Sizes not given derive from ``contacts``.

    ``users`` counts human users (SYSTEM, INTEGRATION and two application users come on top);
    ``mover_rate`` is the share of contacts with an account who have left that company.
    Invalid values raise ``ValueError`` naming the field.
    """

    contacts: int = 500
    seed: int = 1
    users: int | None = None
    accounts: int | None = None
    opportunities: int | None = None
    mover_rate: float = 0.08

    def __post_init__(self) -> None:
        _check_int("contacts", self.contacts, 0, MAX_CONTACTS)
        _check_int("seed", self.seed, -(2**63), 2**63 - 1)
        if self.users is not None:
            _check_int("users", self.users, 1, 100_000)
        if self.accounts is not None:
            _check_int("accounts", self.accounts, 0, MAX_CONTACTS)
        if self.opportunities is not None:
            _check_int("opportunities", self.opportunities, 0, MAX_CONTACTS)
            if self.opportunities and not self.contacts and not self.account_count:
                raise ValueError("opportunities need contacts or accounts to belong to")
        rate = self.mover_rate
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
            raise ValueError(f"mover_rate must be a number between 0 and 1, got {rate!r}")

    @property
    def user_count(self) -> int:
        """Human users: about one per 100 contacts, at least 5, at most 2000."""
        return self.users if self.users is not None else min(2000, max(5, self.contacts // 100))

    @property
    def account_count(self) -> int:
        """About one account per 8 contacts (at least one when there are contacts)."""
        if self.accounts is not None:
            return self.accounts
        return max(1, round(self.contacts / 8)) if self.contacts else 0

    @property
    def opportunity_count(self) -> int:
        """About one opportunity per 10 contacts."""
        return self.opportunities if self.opportunities is not None else self.contacts // 10


# ---------------------------------------------------------------------------------------------------------
# Hashing and GUIDs
# ---------------------------------------------------------------------------------------------------------

_M64 = (1 << 64) - 1
_M30 = (1 << 30) - 1


def _mix64(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-distributed 64-bit hash of an int."""
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _M64
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _M64
    return x ^ (x >> 31)


def _key(seed: int, label: str) -> int:
    # blake2b, not hash(): str hashes are salted per process and would break reproducibility.
    digest = hashlib.blake2b(f"{seed}:{label}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _unit(h: int) -> float:
    """Map a 64-bit hash to [0, 1)."""
    return (h >> 11) * (1.0 / 9007199254740992.0)


class _IdSpace:
    """GUIDs of one entity: index -> GUID and back, without storing either side.

    The top 60 random bits of the uuid4 are a 4-round Feistel permutation of the index (so they are
    reversible), the low 62 bits a keyed hash (so GUIDs look random everywhere).
    """

    __slots__ = ("_key", "_rounds")

    def __init__(self, key: int) -> None:
        self._key = key
        self._rounds = tuple(_mix64(key + r) & _M30 for r in range(4))

    def _encrypt(self, index: int) -> int:
        left, right = index >> 30, index & _M30
        for k in self._rounds:
            left, right = right, left ^ ((((right ^ k) * 0x2545F491) ^ (right >> 13)) & _M30)
        return (left << 30) | right

    def _decrypt(self, value: int) -> int:
        left, right = value >> 30, value & _M30
        for k in reversed(self._rounds):
            left, right = right ^ ((((left ^ k) * 0x2545F491) ^ (left >> 13)) & _M30), left
        return (left << 30) | right

    def guid(self, index: int) -> str:
        hi = self._encrypt(index)
        lo = _mix64(self._key ^ index) >> 2
        value = ((hi >> 12) << 80) | (0x4 << 76) | ((hi & 0xFFF) << 64) | (0x2 << 62) | lo
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def index(self, guid: str) -> int | None:
        """The index behind ``guid``, or None if this space never produces it."""
        try:
            value = int(guid.replace("-", ""), 16)
        except (ValueError, AttributeError):
            return None
        hi = ((value >> 80) << 12) | ((value >> 64) & 0xFFF)
        index = self._decrypt(hi)
        return index if self.guid(index) == guid.lower() else None


class _FixedIds:
    """GUIDs of a small fixed list of rows (same interface as :class:`_IdSpace`)."""

    __slots__ = ("_guids", "_index")

    def __init__(self, guids: Iterable[str]) -> None:
        self._guids = tuple(guids)
        self._index = {guid: i for i, guid in enumerate(self._guids)}

    def guid(self, index: int) -> str:
        return self._guids[index]

    def index(self, guid: str) -> int | None:
        return self._index.get(guid.lower()) if isinstance(guid, str) else None


def _connection_role_id(name: str) -> str:
    # The same uuid5 the emulator's schema.stable_id("connectionrole", name) gives its OOB roles, so
    # the generator's roles and the emulator's seeded ones are the same rows (no duplicates by name).
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dataverse-emulator:connectionrole:{name}"))


# ---------------------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Country:
    code: str
    name: str
    variants: tuple[str, ...]  # how users actually type the country into CRM
    tld: str
    dial: str
    legal_forms: tuple[str, ...]
    cities: tuple[str, ...]
    language: str
    cultures: tuple[tuple[str, int], ...]  # name culture -> weight for people working there
    phone_style: str


_COUNTRIES: tuple[tuple[_Country, int], ...] = (
    (_Country("DE", "Germany", ("Deutschland", "DE"), ".de", "49",
              ("GmbH", "AG", "GmbH & Co. KG", "KG", "SE"),
              ("Berlin", "München", "Hamburg", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf",
               "Nürnberg", "Leipzig", "Bremen"), "de",
              (("de", 80), ("tr", 5), ("pl", 4), ("en", 4), ("it", 3), ("in", 2), ("zh", 2)), "eu"), 35),
    (_Country("GB", "United Kingdom", ("UK", "England", "Great Britain"), ".co.uk", "44",
              ("Ltd", "PLC", "LLP"),
              ("London", "Manchester", "Birmingham", "Edinburgh", "Leeds", "Bristol", "Glasgow"), "en",
              (("en", 62), ("ie", 12), ("in", 10), ("pl", 5), ("zh", 5), ("fr", 3), ("it", 3)), "uk"), 18),
    (_Country("US", "United States", ("USA", "US", "United States of America"), ".com", "1",
              ("Inc.", "LLC", "Corp.", "Inc"),
              ("New York", "Chicago", "Seattle", "Austin", "Boston", "San Francisco", "Atlanta"), "en",
              (("en", 60), ("es", 12), ("zh", 8), ("in", 8), ("ie", 6), ("it", 6)), "us"), 14),
    (_Country("AT", "Austria", ("Österreich",), ".at", "43", ("GmbH", "AG", "KG"),
              ("Wien", "Graz", "Linz", "Salzburg", "Innsbruck"), "de",
              (("de", 85), ("tr", 5), ("pl", 5), ("it", 5)), "eu"), 6),
    (_Country("CH", "Switzerland", ("Schweiz", "Suisse"), ".ch", "41", ("AG", "GmbH", "S.A."),
              ("Zürich", "Basel", "Genève", "Bern", "Lausanne"), "de",
              (("de", 65), ("fr", 20), ("it", 10), ("en", 5)), "eu"), 6),
    (_Country("FR", "France", (), ".fr", "33", ("S.A.", "SAS", "SARL"),
              ("Paris", "Lyon", "Toulouse", "Marseille", "Nantes"), "fr",
              (("fr", 85), ("es", 5), ("it", 5), ("en", 5)), "eu"), 6),
    (_Country("NL", "Netherlands", ("Nederland", "The Netherlands", "Holland"), ".nl", "31", ("B.V.", "N.V."),
              ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Den Haag"), "nl",
              (("nl", 80), ("de", 5), ("en", 5), ("tr", 5), ("in", 5)), "eu"), 7),
    (_Country("ES", "Spain", ("España",), ".es", "34", ("S.A.", "S.L."),
              ("Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao"), "es",
              (("es", 90), ("en", 5), ("fr", 5)), "eu"), 4),
    (_Country("IE", "Ireland", ("Éire",), ".ie", "353", ("Ltd", "DAC"), ("Dublin", "Cork", "Galway"), "en",
              (("ie", 70), ("en", 20), ("pl", 10)), "uk"), 4),
)
_COUNTRY_LIST = tuple(c for c, _ in _COUNTRIES)
_COUNTRY_CUM = tuple(itertools.accumulate(w for _, w in _COUNTRIES))
_COUNTRY_TOTAL = _COUNTRY_CUM[-1]
_BY_CODE = {c.code: c for c in _COUNTRY_LIST}

# Made-up but plausible brand names: prefix + suffix gives ~1,300 distinct stems, plus curated ones
# (umlauts, "&", acronyms) so that even 125,000 accounts rarely need a qualifier.
_BRAND_PREFIXES = (
    "Nord", "Süd", "West", "Ost", "Berg", "Tal", "Rhein", "Main", "Elb", "Alp", "Blau", "Grün", "Gold",
    "Silber", "Stern", "Sonnen", "Wald", "Fels", "Stahl", "Licht", "Inter", "Tech", "Data", "Info", "Med",
    "Bio", "Agri", "Aero", "Astra", "Cor", "Dyna", "Eco", "Flex", "Geo", "Hydro", "Nova", "Omni", "Pro",
    "Sky", "Terra", "Uni", "Vita",
)
_BRAND_SUFFIXES = (
    "tec", "tronic", "sys", "soft", "form", "line", "werk", "mann", "haus", "feld", "bau", "net", "link",
    "star", "point", "wave", "gate", "logic", "vision", "port", "trans", "max", "ware", "plan", "medic",
    "chem", "tex", "nova", "ion", "lux",
)
_CURATED_BRANDS = (
    "Müller", "Schäfer", "Weißmann", "Höfler", "Brückner", "Krüger", "Böhm", "Jäger", "Köhler", "Groß",
    "Becker & Schmitz", "Meyer & Söhne", "Johnson & Wells", "Smith & Partners", "Dupont & Fils",
    "Acme", "Blue Harbor", "Silverline", "Redwood", "Northstar", "Greenfield", "Oakridge", "Summit",
    "Crescent", "Pinnacle", "Beacon", "Atlas", "Orion", "Vertex", "Helios", "Nimbus", "Quantum", "Kestrel",
    "Falcon", "Lumen", "Meridian", "Aurora", "Cobalt", "Granite", "Ironbridge", "Juniper", "Keystone",
    "Lakeside", "Maple", "Oasis", "Polaris", "Riverside", "Sterling", "Titan", "Vanguard", "Willow",
    "Zenith", "IBX", "KMT", "GFT", "BMS", "ATS", "DKV", "TRX", "HPX", "O'Donnell", "Van Leeuwen",
    "De Groot", "García", "Lefèvre", "Rossi", "Fernández", "Château", "Nørre",
)
_BRANDS = _CURATED_BRANDS + tuple(p + s for p in _BRAND_PREFIXES for s in _BRAND_SUFFIXES)

# Sector words per language; every list has _SLOTS distinct entries so (brand, slot) stays unique.
_SECTORS = {
    "de": ("Logistik", "Maschinenbau", "Anlagenbau", "Software", "Systemhaus", "Versicherung", "Bau",
           "Elektrotechnik", "Medizintechnik", "Lebensmittel", "Energie", "Beratung", "Druck", "Automobil",
           "Chemie", "Stahlbau", "Handel", "Immobilien", "Verpackung", "Werkzeugbau"),
    "en": ("Logistics", "Software", "Systems", "Solutions", "Consulting", "Foods", "Energy", "Engineering",
           "Analytics", "Insurance", "Partners", "Holdings", "Manufacturing", "Pharma", "Networks", "Capital",
           "Retail", "Labs", "Media", "Freight"),
    "fr": ("Conseil", "Industries", "Transports", "Logiciels", "Énergie", "Services", "Ingénierie",
           "Bâtiment", "Distribution", "Assurances", "Technologies", "Santé", "Alimentaire", "Chimie",
           "Médias", "Immobilier", "Aéronautique", "Emballage", "Finance", "Systèmes"),
    "nl": ("Techniek", "Logistiek", "Bouw", "Software", "Groep", "Installaties", "Advies", "Transport",
           "Energie", "Verzekeringen", "Voeding", "Media", "Zorg", "Vastgoed", "Handel", "Chemie",
           "Systemen", "Machinebouw", "Verpakking", "Financiën"),
    "es": ("Soluciones", "Ingeniería", "Logística", "Sistemas", "Consultores", "Energía", "Construcciones",
           "Alimentación", "Seguros", "Tecnología", "Distribución", "Farma", "Medios", "Inmobiliaria",
           "Transportes", "Química", "Servicios", "Industrial", "Envases", "Capital"),
}
_SLOTS = 20
_QUALIFIERS = (
    "International", "Europe", "Services", "Digital", "Group", "Technologies", "Nord", "Süd", "West", "Ost",
    "Global", "Partners", "Industries", "Holding", "Plus", "Direct", "Solutions", "Works", "Network", "One",
)
_REBRAND_WORDS = ("Group", "Digital", "One", "Next", "Holding", "Global")
_NAMES_PER_TIER = len(_BRANDS) * _SLOTS


def _coprime_multiplier(modulus: int, start: int) -> int:
    candidate = start % modulus or 1
    while math.gcd(candidate, modulus) != 1:
        candidate = candidate % modulus + 1
    return candidate


_NAME_MULTIPLIER = _coprime_multiplier(_NAMES_PER_TIER, 7919)

# Name cultures: (first names, last names). CJK names are written in Han characters with their
# pinyin kept for e-mail addresses, like real CRM data imported from a Chinese subsidiary.
_FIRST = {
    "de": ("Jürgen", "Hans-Peter", "Klaus", "Stefan", "Andreas", "Michael", "Thomas", "Sabine", "Ursula",
           "Jörg", "Günter", "Sören", "Björn", "Anja", "Katrin", "Birgit", "Maximilian", "Lena", "Lukas",
           "Sophie", "Felix", "Jana", "Moritz", "Charlotte", "Hannah", "Tobias", "Daniel", "Christian",
           "Martina", "Gisela", "Käthe", "Uwe", "Heike", "Jens", "Anne-Marie", "Karl-Heinz", "Dörte"),
    "en": ("Robert", "Bob", "William", "Bill", "James", "Jim", "Elizabeth", "Liz", "Michael", "Mike",
           "Katherine", "Kate", "Jennifer", "Jenny", "Christopher", "Chris", "Sarah", "David", "Dave",
           "Emily", "Thomas", "Tom", "Margaret", "Peggy", "Richard", "Rick", "Jonathan", "Jon", "Alexander",
           "Alex", "Samantha", "Sam", "Mary-Kate", "Olivia", "Jack", "Charlotte"),
    "ie": ("Siobhán", "Seán", "Aoife", "Niamh", "Ciarán", "Patrick", "Paddy", "Róisín", "Declan", "Eoin"),
    "fr": ("Jean-Luc", "François", "Amélie", "Hélène", "Zoë", "Chloé", "Léa", "Étienne", "Jérôme", "Marie",
           "Pierre", "Céline", "Benoît", "Anaïs"),
    "it": ("Giuseppe", "Marco", "Giulia", "Francesca", "Luca", "Alessandro", "Chiara", "Niccolò"),
    "es": ("José", "María", "Íñigo", "Lucía", "Javier", "Carmen", "José Luis", "Begoña", "Álvaro"),
    "nl": ("Jan", "Pieter", "Sanne", "Femke", "Joost", "Daan", "Anouk", "Bram", "Willem", "Eva"),
    "tr": ("Mehmet", "Ayşe", "Emre", "Zeynep", "Özlem", "Murat", "Gülşen"),
    "pl": ("Łukasz", "Małgorzata", "Wojciech", "Agnieszka", "Paweł", "Katarzyna", "Zbigniew"),
    "in": ("Priya", "Rahul", "Anil", "Sunita", "Vijay", "Lakshmi", "Arjun", "Deepa"),
    "zh": ("Wei", "Li Na", "Xiaoming", "Jing", "Hao", "Mei", "Jun", "Yan"),
}
_LAST = {
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
           "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
           "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Groß", "Weiß",
           "Köhler", "Jäger", "Böhm", "von Bülow", "Meier-Eßer", "Müller-Lüdenscheidt", "Strauß", "Maier"),
    "en": ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Roberts", "Walker",
           "McDonald", "MacLeod", "Smith-Jones", "Fitzgerald", "Clarke", "Hughes", "Wright", "Baker-Hughes",
           "Miller", "Anderson", "Harris", "Young"),
    "ie": ("O'Brien", "O'Connor", "O'Neill", "Murphy", "Kelly", "Ó Súilleabháin", "Byrne", "McCarthy",
           "O'Sullivan", "Ryan"),
    "fr": ("Dubois", "Lefèvre", "Moreau", "Laurent", "D'Arcy", "Lemaître", "Girard", "Fontaine",
           "de la Croix", "Bénard", "Rousseau"),
    "it": ("D'Angelo", "Rossi", "Bianchi", "Esposito", "Dell'Orto", "Romano", "Colombo", "De Luca"),
    "es": ("García", "Fernández", "Núñez", "López-Ortega", "Martínez", "Rodríguez", "Sánchez", "Peña"),
    "nl": ("de Vries", "van den Berg", "Jansen", "van Dijk", "Bakker", "'t Hooft", "Visser", "de Jong"),
    "tr": ("Yılmaz", "Özdemir", "Kaya", "Demir", "Çelik", "Şahin", "Aydın"),
    "pl": ("Wójcik", "Kowalski", "Nowak", "Szczęsny", "Lewandowski", "Dąbrowska", "Zieliński"),
    "in": ("Sharma", "Patel", "Gupta", "Iyer", "Reddy", "Nair", "Krishnamurthy"),
    "zh": ("Wang", "Li", "Zhang", "Chen", "Liu", "Yang", "Huang", "Zhao"),
}
_CJK_NAMES = (("王", "伟", "wang", "wei"), ("李", "娜", "li", "na"), ("张", "敏", "zhang", "min"),
              ("陈", "杰", "chen", "jie"), ("刘", "洋", "liu", "yang"), ("黄", "静", "huang", "jing"))
_MIDDLE = {"en": ("J.", "A.", "Marie", "Lee", "R.", "Anne"), "de": ("Maria", "Johann", "K."),
           "es": ("Carlos", "Isabel"), "in": ("Kumar", "Devi"), "ie": ("P.", "Mary")}
_JOB_TITLES = {
    "de": ("Geschäftsführer", "Geschäftsführerin", "Leiter Einkauf", "Leiterin Einkauf", "IT-Leiter",
           "Vertriebsleiter", "Key Account Manager", "Prokurist", "Sachbearbeiterin Einkauf", "Head of IT",
           "Teamleiter Logistik", "Assistenz der Geschäftsführung", "CFO", "Projektleiter"),
    "en": ("CEO", "CTO", "CFO", "Head of Procurement", "Procurement Specialist", "VP Engineering",
           "Director of Operations", "Office Manager", "Software Engineer", "Managing Director",
           "Sales Manager", "IT Manager", "Purchasing Manager", "Chief Revenue Officer", "Buyer"),
}
_PERSONAL_DOMAINS = ("gmail.com", "web.de", "gmx.de", "outlook.com", "yahoo.co.uk", "hotmail.com",
                     "t-online.de")
_PRODUCTS = ("CRM Rollout", "Lizenzverlängerung", "Wartungsvertrag", "Hardware Refresh", "Cloud Migration",
             "Rahmenvertrag", "Pilot", "Upsell Premium", "Consulting Days", "Renewal", "Expansion",
             "Onboarding Package")
_ORG_DOMAIN = "contoso.onmicrosoft.com"
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
                           "ø": "o", "Ø": "O", "æ": "ae", "ł": "l", "Ł": "L", "ı": "i", "&": ""})


@lru_cache(maxsize=8192)
def _ascii(text: str) -> str:
    """Lower-case ASCII letters/digits only: how names end up in e-mail addresses and domains."""
    folded = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(ch for ch in folded.lower() if ch.isascii() and ch.isalnum())


def _pick_weighted(u: float, cumulative: tuple[int, ...], total: int) -> int:
    return bisect.bisect_right(cumulative, int(u * total))


_CULTURE_TABLES: dict[str, tuple[tuple[str, ...], tuple[int, ...], int]] = {}
for _country in _COUNTRY_LIST:
    _names = tuple(c for c, _ in _country.cultures)
    _cum = tuple(itertools.accumulate(w for _, w in _country.cultures))
    _CULTURE_TABLES[_country.code] = (_names, _cum, _cum[-1])


# ---------------------------------------------------------------------------------------------------------
# Ground truth
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactTruth:
    """What is really true about a contact today (what a current public profile would show).

    ``kind`` is one of ``"stayed"``, ``"moved"`` (left the account's company), ``"rebrand"`` (same employer,
    new name/domain), ``"subsidiary"`` (profile names the parent/child company of the same group) and
    ``"no_account"`` (the contact has no parent account). Only ``"moved"`` has ``moved=True``.
    ``new_account_id`` is set when the new employer is itself an account in the org.
    """

    contact_id: str
    index: int
    moved: bool
    kind: str
    account_id: str | None
    employer_name: str | None
    employer_domain: str | None
    new_account_id: str | None = None


# ---------------------------------------------------------------------------------------------------------
# The organisation
# ---------------------------------------------------------------------------------------------------------

_BLOCK = 512  # rows per RNG stream; small enough that jumping to one row is cheap
_NO_ACCOUNT_RATE = 0.03
_INACTIVE_CONTACT_RATE = 0.05
_BUSINESS_UNITS = ("Contoso", "DACH", "UK")
_ROLE_NAMES = ("Salesperson", "Sales Manager", "System Administrator")
# (name, business unit index, is default team); default teams exist once per business unit in Dataverse.
_TEAMS = (("Contoso", 0, True), ("DACH", 1, True), ("UK", 2, True), ("Sales DACH", 1, False),
          ("Sales UK", 2, False), ("Key Accounts", 0, False), ("Inside Sales", 0, False))
_OWNER_TEAMS = (3, 4, 5, 6)
_SPECIAL_USERS = ("SYSTEM", "INTEGRATION", "app:Data Validation for Dynamics 365",
                  "app:Power Automate Connector")
_CONNECTION_ROLES = (
    ("Stakeholder", 1000), ("Champion", 1000), ("Decision Maker", 1000), ("Economic Buyer", 1000),
    ("Influencer", 1000), ("Technical Buyer", 1000), ("End User", 1000), ("Former Employee", 1),
    ("Partner", 4), ("Colleague", 1), ("Referral", 5),
)
_STAKEHOLDER_ROLES = 7  # the first seven roles are the OOB stakeholder roles
_BASE_DATE = date(2026, 1, 1)


class SampleOrg:
    """A generated organisation. Create it with :func:`generate_org`.

    * ``entity_sets``: entity set names in load order (referenced rows come first).
    * ``rows(entity_set)``: a fresh iterator of row dicts, identical on every call.
    * ``associations``: ``(relationship_name, id_a, id_b)`` tuples for the N:N relationships.
    * ``count(entity_set)``, ``get(entity_set, id)``, ``id_of``/``index_of`` (GUID <-> row index),
      ``primary_key``/``logical_name``, ``business_units``.
    * ground truth: ``truths()``, ``movers()``, ``truth(contact_id)``.
    """

    entity_sets: tuple[str, ...] = tuple(ENTITY_SETS)

    def __init__(self, spec: OrgSpec) -> None:
        self.spec = spec
        self._n_users = spec.user_count
        self._n_accounts = spec.account_count
        self._n_contacts = spec.contacts
        self._n_opps = spec.opportunity_count
        self._ids: dict[str, _IdSpace | _FixedIds] = {
            name: _IdSpace(_key(spec.seed, "id:" + name)) for name in ENTITY_SETS}
        # OOB connection roles have the same GUIDs in every org, so their ids ignore the seed.
        self._ids["connectionroles"] = _FixedIds(_connection_role_id(name) for name, _ in _CONNECTION_ROLES)
        self._ids["businessunits"] = _IdSpace(_key(spec.seed, "id:businessunits"))
        self._ids["aad"] = _IdSpace(_key(spec.seed, "id:aad"))
        self._label_keys: dict[str, int] = {}
        self._name_offset = _mix64(_key(spec.seed, "names")) % _NAMES_PER_TIER
        self._enabled_users = array("l", (u for u in range(self._n_users) if not self._user_disabled(u)))
        if not self._enabled_users:  # every human user disabled: records still need an owner
            self._enabled_users = array("l", [0])
        self._layout_contacts()

    # -- public API --------------------------------------------------------------------------------------

    def rows(self, entity_set: str) -> Iterator[dict[str, Any]]:
        """A fresh iterator over the rows of ``entity_set`` (same rows, same order, every call)."""
        return self._producer(entity_set)()

    @cached_property
    def associations(self) -> tuple[tuple[str, str, str], ...]:
        """N:N rows: teammembership_association (user, team), systemuserroles_association (user, role),
        teamroles_association (team, role). Small (a few per user), so kept as a tuple."""
        return tuple(self._associations())

    @property
    def business_units(self) -> tuple[dict[str, Any], ...]:
        """The business units users, teams and roles point at (``businessunitid``, ``name``,
        ``_parentbusinessunitid_value``). Not an entity set of the contract; the root comes first."""
        ids = self._ids["businessunits"]
        return tuple({"businessunitid": ids.guid(b), "name": name,
                      "_parentbusinessunitid_value": ids.guid(0) if b else None}
                     for b, name in enumerate(_BUSINESS_UNITS))

    def primary_key(self, entity_set: str) -> str:
        """Primary key column of ``entity_set`` (``contacts`` -> ``contactid``)."""
        self._check_entity_set(entity_set)
        return ENTITY_SETS[entity_set].primary_key

    def logical_name(self, entity_set: str) -> str:
        """Logical (table) name of ``entity_set`` (``contacts`` -> ``contact``)."""
        self._check_entity_set(entity_set)
        return ENTITY_SETS[entity_set].logical_name

    def count(self, entity_set: str) -> int:
        """Number of rows ``rows(entity_set)`` yields."""
        fixed = {"systemusers": self._n_users + len(_SPECIAL_USERS), "teams": len(_TEAMS),
                 "roles": len(_ROLE_NAMES) * len(_BUSINESS_UNITS), "accounts": self._n_accounts,
                 "contacts": self._n_contacts, "opportunities": self._n_opps,
                 "connectionroles": len(_CONNECTION_ROLES)}
        if entity_set == "connections":
            return self._connection_count
        self._check_entity_set(entity_set)
        return fixed[entity_set]

    def id_of(self, entity_set: str, index: int) -> str:
        """The GUID of row ``index`` of ``entity_set`` (connections: see ``index_of``)."""
        self._check_entity_set(entity_set)
        return self._ids[entity_set].guid(index)

    def index_of(self, entity_set: str, record_id: str) -> int | None:
        """The row index behind ``record_id``, or None if it is not a row of ``entity_set``.

        For connections the "index" is ``opportunity_index * 16 + stakeholder * 2 + side``.
        """
        self._check_entity_set(entity_set)
        index = self._ids[entity_set].index(record_id)
        if index is None:
            return None
        if entity_set == "connections":
            return index if self._connection_exists(index) else None
        return index if index < self.count(entity_set) else None

    def get(self, entity_set: str, record_id: str) -> dict[str, Any] | None:
        """One row by id (regenerates its block of rows), or None."""
        index = self.index_of(entity_set, record_id)
        if index is None:
            return None
        if entity_set == "connections":
            opp = index // 16
            rows = self._connection_rows_for(opp)
            return next(r for r in rows if r["connectionid"] == record_id)
        return self._row_at(entity_set, index)

    def truths(self) -> Iterator[ContactTruth]:
        """Ground truth for every contact, in the order of ``rows("contacts")``."""
        for i in range(self._n_contacts):
            yield self._truth_at(i)

    def movers(self) -> Iterator[ContactTruth]:
        """Ground truth of the contacts who left their account's company."""
        return (t for t in self.truths() if t.moved)

    def truth(self, contact_id: str) -> ContactTruth:
        """Ground truth for one contact; KeyError if the id is not a contact of this org."""
        index = self.index_of("contacts", contact_id)
        if index is None:
            raise KeyError(contact_id)
        return self._truth_at(index)

    # -- plumbing -----------------------------------------------------------------------------------------

    def _check_entity_set(self, entity_set: str) -> None:
        if entity_set not in ENTITY_SETS:
            raise KeyError(f"unknown entity set {entity_set!r}; known: {', '.join(ENTITY_SETS)}")

    def _producer(self, entity_set: str) -> Callable[[], Iterator[dict[str, Any]]]:
        self._check_entity_set(entity_set)
        return {
            "systemusers": self._iter_users, "teams": self._iter_teams, "roles": self._iter_roles,
            "accounts": lambda: self._iter_blocks("accounts", self._n_accounts, self._account_row),
            "contacts": lambda: self._iter_blocks("contacts", self._n_contacts, self._contact_row),
            "opportunities": lambda: self._iter_blocks("opportunities", self._n_opps, self._opportunity_row),
            "connectionroles": self._iter_connection_roles, "connections": self._iter_connections,
        }[entity_set]

    def _hash(self, label: str, index: int) -> int:
        return _mix64(self._label_key(label) ^ index)

    def _label_key(self, label: str) -> int:
        key = self._label_keys.get(label)
        if key is None:
            key = self._label_keys[label] = _key(self.spec.seed, label)
        return key

    def _rng(self, label: str, block: int) -> random.Random:
        return random.Random(_mix64(self._label_key("rng:" + label) ^ block))

    def _iter_blocks(self, entity_set: str, total: int,
                     make: Callable[[int, random.Random], dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for block in range(0, (total + _BLOCK - 1) // _BLOCK):
            rng = self._rng(entity_set, block)
            for index in range(block * _BLOCK, min(total, (block + 1) * _BLOCK)):
                yield make(index, rng)

    def _row_at(self, entity_set: str, index: int) -> dict[str, Any]:
        if entity_set in ("accounts", "contacts", "opportunities"):
            block = index // _BLOCK
            make = {"accounts": self._account_row, "contacts": self._contact_row,
                    "opportunities": self._opportunity_row}[entity_set]
            rng = self._rng(entity_set, block)
            row: dict[str, Any] = {}
            for i in range(block * _BLOCK, index + 1):
                row = make(i, rng)
            return row
        for i, row in enumerate(self.rows(entity_set)):
            if i == index:
                return row
        raise IndexError(index)

    def _owner_ref(self, owner: int) -> tuple[str, str]:
        """Owner codes: >= 0 is a human user index, < 0 is ~team index."""
        if owner >= 0:
            return self._ids["systemusers"].guid(owner), "systemuser"
        return self._ids["teams"].guid(~owner), "team"

    def _pick_owner(self, h: int) -> int:
        # ~8% of records belong to an owner team, the rest to enabled human users.
        if h % 100 < 8:
            return ~_OWNER_TEAMS[(h >> 8) % len(_OWNER_TEAMS)]
        return self._enabled_users[(h >> 16) % len(self._enabled_users)]

    # -- users, teams, roles --------------------------------------------------------------------------------

    def _user_disabled(self, u: int) -> bool:
        return u > 0 and self._hash("user.disabled", u) % 100 < 4

    def _user_bu(self, u: int) -> int:
        h = self._hash("user.bu", u) % 10
        return 0 if h == 0 else (1 if h < 6 else 2)

    def _iter_users(self) -> Iterator[dict[str, Any]]:
        rng = self._rng("systemusers", 0)
        ids, aad = self._ids["systemusers"], self._ids["aad"]
        taken: set[str] = set()  # at most a few thousand users, so remembering UPNs is cheap
        for u in range(self._n_users):
            culture = "de" if self._user_bu(u) != 2 else rng.choice(("en", "en", "ie", "in"))
            first, last = rng.choice(_FIRST[culture]), rng.choice(_LAST[culture])
            local = f"{_ascii(first)}.{_ascii(last)}"
            if local in taken:
                local = f"{local}{u}"  # Entra ID makes the second "Jürgen Müller" unique the same way
            taken.add(local)
            upn = f"{local}@{_ORG_DOMAIN}"
            yield self._user_row(ids.guid(u), first, last, upn, aad.guid(u), self._user_bu(u),
                                 disabled=self._user_disabled(u), title=rng.choice(_JOB_TITLES["en"][10:]))
        for s, special in enumerate(_SPECIAL_USERS):
            index = self._n_users + s
            row = self._user_row(ids.guid(index), "", special.removeprefix("app:"), "", None, 0,
                                 disabled=False, title=None)
            row["fullname"] = row["lastname"]
            row["firstname"] = None
            if special.startswith("app:"):
                # Application users: accessmode 4 (non-interactive), an app registration, no licence.
                row.update(applicationid=self._ids["aad"].guid(1_000_000 + s), accessmode=4,
                           azureactivedirectoryobjectid=aad.guid(index),
                           domainname=f"{_ascii(special)}@{_ORG_DOMAIN}", islicensed=False)
            else:
                # SYSTEM and INTEGRATION are built-in, not in Entra ID and never own sales records.
                row.update(domainname="", internalemailaddress=None, islicensed=False)
            yield row

    def _user_row(self, guid: str, first: str, last: str, upn: str, aad: str | None, bu: int, *,
                  disabled: bool, title: str | None) -> dict[str, Any]:
        return {
            "systemuserid": guid, "fullname": f"{first} {last}", "firstname": first, "lastname": last,
            "internalemailaddress": upn, "domainname": upn, "title": title, "isdisabled": disabled,
            "islicensed": not disabled, "accessmode": 0, "applicationid": None,
            "azureactivedirectoryobjectid": aad,
            "_businessunitid_value": self._ids["businessunits"].guid(bu),
        }

    def _iter_teams(self) -> Iterator[dict[str, Any]]:
        for t, (name, bu, default) in enumerate(_TEAMS):
            yield {"teamid": self._ids["teams"].guid(t), "name": name, "teamtype": 0, "isdefault": default,
                   "description": "Default team of the business unit" if default else f"Owner team {name}",
                   "azureactivedirectoryobjectid": None,
                   "_businessunitid_value": self._ids["businessunits"].guid(bu)}

    def _role_id(self, role: int, bu: int) -> str:
        return self._ids["roles"].guid(bu * len(_ROLE_NAMES) + role)

    def _iter_roles(self) -> Iterator[dict[str, Any]]:
        # Dataverse copies every role into every business unit; the copies share the name.
        for bu in range(len(_BUSINESS_UNITS)):
            for r, name in enumerate(_ROLE_NAMES):
                yield {"roleid": self._role_id(r, bu), "name": name, "ismanaged": True,
                       "_businessunitid_value": self._ids["businessunits"].guid(bu)}

    def _associations(self) -> Iterator[tuple[str, str, str]]:
        users, teams = self._ids["systemusers"], self._ids["teams"]
        for u in range(self._n_users):
            uid, bu, h = users.guid(u), self._user_bu(u), self._hash("user.assoc", u)
            yield "teammembership_association", uid, teams.guid(bu)  # default team of the BU
            if bu in (1, 2) and h % 3:
                yield "teammembership_association", uid, teams.guid(3 if bu == 1 else 4)
            if h % 10 == 0:
                yield "teammembership_association", uid, teams.guid(5)
            yield "systemuserroles_association", uid, self._role_id(0, bu)
            if h % 7 == 0:
                yield "systemuserroles_association", uid, self._role_id(1, bu)
            if u < 2:  # the first users set the org up
                yield "systemuserroles_association", uid, self._role_id(2, 0)
        for s in range(2, len(_SPECIAL_USERS)):  # application users
            yield "systemuserroles_association", users.guid(self._n_users + s), self._role_id(2, 0)
        for t, (_name, bu, default) in enumerate(_TEAMS):
            if not default:
                role = 1 if t == 5 else 0
                yield "teamroles_association", teams.guid(t), self._role_id(role, bu)

    # -- accounts -------------------------------------------------------------------------------------------

    def _account_country(self, k: int) -> _Country:
        u = _unit(self._hash("acc.country", k))
        return _COUNTRY_LIST[_pick_weighted(u, _COUNTRY_CUM, _COUNTRY_TOTAL)]

    def _company_base(self, k: int, country: _Country) -> tuple[str, str, str]:
        """(display base, domain stem, brand) of company ``k``; unique per k within a language."""
        tier, position = divmod(k, _NAMES_PER_TIER)
        p = (position * _NAME_MULTIPLIER + self._name_offset) % _NAMES_PER_TIER
        brand, slot = _BRANDS[p // _SLOTS], p % _SLOTS
        sector = _SECTORS[country.language][slot]
        base, stem = f"{brand} {sector}", f"{_ascii(brand)}-{_ascii(sector)}"
        if tier:
            qualifier = _QUALIFIERS[(tier - 1) % len(_QUALIFIERS)]
            cycle = (tier - 1) // len(_QUALIFIERS)
            qualifier += f" {cycle + 1}" if cycle else ""
            base, stem = f"{base} {qualifier}", f"{stem}-{_ascii(qualifier)}"
        return base, stem, brand

    def _company_name(self, k: int, base: str, country: _Country) -> str:
        h = self._hash("acc.style", k)
        legal = country.legal_forms[(h >> 8) % len(country.legal_forms)]
        style = h % 100
        if style < 12:  # no legal form typed in
            return base
        if style < 22 and country.language == "en":
            return f"The {base} {legal}"
        if style < 25:
            return f"{base.upper()} {legal}"  # all caps import
        return f"{base} {legal}"

    def _parent_account(self, k: int) -> int | None:
        """Parent of a subsidiary (one level deep: a parent is never itself a subsidiary)."""
        if k == 0 or self._hash("acc.child", k) % 100 >= 5:
            return None
        parent = k - 1 - (self._hash("acc.parent", k) % min(k, 64))
        return None if self._hash("acc.child", parent) % 100 < 5 and parent != 0 else parent

    def _account_core(self, k: int) -> tuple[str, str, _Country, int]:
        """(name, domain, country, owner code): the facts contacts and opportunities reuse."""
        parent = self._parent_account(k)
        country = self._account_country(k)
        if parent is None:
            base, stem, _ = self._company_base(k, country)
            name = self._company_name(k, base, country)
        else:
            # A subsidiary shares its parent's name and domain stem, in another country or city.
            p_country = self._account_country(parent)
            base, stem, _ = self._company_base(parent, p_country)
            if country is p_country:
                city = country.cities[k % len(country.cities)]
                base, stem = f"{base} {city}", f"{stem}-{_ascii(city)}"
            else:
                base = f"{base} {country.name}"
            name = self._company_name(k, base, country)
        owner = self._pick_owner(self._hash("acc.owner", k))
        return name, stem + country.tld, country, owner

    def _rebranded(self, k: int) -> tuple[str, str] | None:
        """(new name, new domain) if company ``k`` renamed itself since the CRM data was entered."""
        if self._hash("acc.rebrand", k) % 100 >= 2 or self._parent_account(k) is not None:
            return None
        country = self._account_country(k)
        _, _, brand = self._company_base(k, country)
        word = _REBRAND_WORDS[self._hash("acc.rebrand.word", k) % len(_REBRAND_WORDS)]
        return f"{brand} {word} {country.legal_forms[0]}", f"{_ascii(brand)}-{_ascii(word)}{country.tld}"

    def _account_row(self, k: int, rng: random.Random) -> dict[str, Any]:
        name, domain, country, owner = self._account_core(k)
        owner_id, owner_type = self._owner_ref(owner)
        parent = self._parent_account(k)
        inactive = rng.random() < 0.03
        size = self._account_size(k)
        return {
            "accountid": self._ids["accounts"].guid(k), "name": name,
            "accountnumber": f"ACC-{k + 1:07d}" if rng.random() < 0.7 else None,
            "websiteurl": _website(domain, rng), "telephone1": _phone(country, rng),
            "emailaddress1": f"info@{domain}" if rng.random() < 0.4 else None,
            "address1_city": rng.choice(country.cities),
            "address1_country": _country_label(country, rng),
            "industrycode": rng.randint(1, 33), "customertypecode": rng.choice((3, 3, 3, 8, 8, 5, 10)),
            "numberofemployees": _employees(rng, size),
            "revenue": float(rng.randint(1, 5000) * 10_000) if rng.random() < 0.6 else None,
            "_primarycontactid_value": (self._ids["contacts"].guid(self._account_contact_at(k, 0))
                                        if size and rng.random() < 0.6 else None),
            "_parentaccountid_value": self._ids["accounts"].guid(parent) if parent is not None else None,
            "_ownerid_value": owner_id, f"_ownerid_value{LOOKUP_SUFFIX}": owner_type,
            "statecode": 1 if inactive else 0, "statuscode": 2 if inactive else 1,
        }

    # -- contacts -------------------------------------------------------------------------------------------

    def _layout_contacts(self) -> None:
        """Decide how many contacts each account has (skewed: many small, a few key accounts).

        Contact i sits in slot perm(i); account k owns slots [starts[k], starts[k+1]); slots from
        ``_with_account`` on belong to contacts without an account. The permutation scatters an
        account's contacts over the whole table like real data.
        """
        n, n_acc = self._n_contacts, self._n_accounts
        self._with_account = n - round(n * _NO_ACCOUNT_RATE) if n_acc else 0
        self._perm_a = _coprime_multiplier(max(n, 1), _mix64(_key(self.spec.seed, "perm")) % max(n, 1))
        self._perm_b = _key(self.spec.seed, "perm.b") % max(n, 1)
        self._perm_inv = pow(self._perm_a, -1, n) if n > 1 else 0
        weights = array("q", (self._account_weight(k) for k in range(n_acc)))
        if n_acc and not any(weights):
            weights[0] = 1  # tiny orgs: contacts with an account need at least one non-empty account
        total = sum(weights) or 1
        starts, running = array("q", [0]), 0
        for w in weights:
            running += w
            starts.append(self._with_account * running // total)
        self._starts = starts

    def _account_weight(self, k: int) -> int:
        h = self._hash("acc.size", k)
        bucket = h % 100
        spread = (h >> 8) % 1000
        if bucket < 6:
            return 0  # accounts nobody has entered contacts for yet
        if bucket < 60:
            return 1000 + spread * 4
        if bucket < 90:
            return 5000 + spread * 15
        if bucket < 98:
            return 20000 + spread * 80
        return 100000 + spread * 400

    def _slot(self, i: int) -> int:
        return (i * self._perm_a + self._perm_b) % self._n_contacts

    def _contact_account(self, i: int) -> int | None:
        slot = self._slot(i)
        if slot >= self._with_account:
            return None
        return bisect.bisect_right(self._starts, slot) - 1

    def _account_size(self, k: int) -> int:
        return self._starts[k + 1] - self._starts[k]

    def _account_contact_at(self, k: int, position: int) -> int:
        """The contact in ``position`` of account ``k``'s slots (inverse of the slot permutation)."""
        slot = self._starts[k] + position
        return ((slot - self._perm_b) * self._perm_inv) % self._n_contacts if self._n_contacts > 1 else 0

    def _contact_inactive(self, i: int) -> bool:
        return self._hash("con.state", i) % 1000 < _INACTIVE_CONTACT_RATE * 1000

    def _contact_row(self, i: int, rng: random.Random) -> dict[str, Any]:
        account = self._contact_account(i)
        if account is not None:
            _, domain, country, account_owner = self._account_core(account)
        else:
            domain, country, account_owner = None, _COUNTRY_LIST[i % 3], None
        names = _person(country, rng)
        first, middle, last, full, local = names
        inactive = self._contact_inactive(i)
        owner = account_owner if account_owner is not None and rng.random() < 0.7 else \
            self._pick_owner(rng.getrandbits(32))
        owner_id, owner_type = self._owner_ref(owner)
        row: dict[str, Any] = {
            "contactid": self._ids["contacts"].guid(i), "firstname": first, "middlename": middle,
            "lastname": last, "fullname": full,
            "jobtitle": rng.choice(_JOB_TITLES["de" if country.language == "de" else "en"])
            if rng.random() < 0.85 else None,
            "emailaddress1": _email(local, domain, rng), "telephone1": _phone(country, rng),
            "mobilephone": _mobile(country, rng) if rng.random() < 0.6 else None,
            "address1_city": rng.choice(country.cities) if rng.random() < 0.7 else None,
            "address1_country": _country_label(country, rng) if rng.random() < 0.9 else None,
            "_parentcustomerid_value": self._ids["accounts"].guid(account) if account is not None else None,
        }
        if account is not None:
            row[f"_parentcustomerid_value{LOOKUP_SUFFIX}"] = "account"
        row["_ownerid_value"] = owner_id
        row[f"_ownerid_value{LOOKUP_SUFFIX}"] = owner_type
        row["statecode"] = 1 if inactive else 0
        row["statuscode"] = 2 if inactive else 1
        return row

    # -- ground truth ---------------------------------------------------------------------------------------

    def _truth_at(self, i: int) -> ContactTruth:
        contact_id = self._ids["contacts"].guid(i)
        account = self._contact_account(i)
        if account is None:
            return ContactTruth(contact_id, i, False, "no_account", None, None, None)
        account_id = self._ids["accounts"].guid(account)
        h = self._hash("truth", i)
        if _unit(h) < self.spec.mover_rate:
            return self._mover_truth(i, account, contact_id, account_id, h)
        rebrand = self._rebranded(account)
        if rebrand is not None:
            return ContactTruth(contact_id, i, False, "rebrand", account_id, *rebrand)
        parent = self._parent_account(account)
        if parent is not None and (h >> 40) % 100 < 30:
            name, domain, _, _ = self._account_core(parent)
            return ContactTruth(contact_id, i, False, "subsidiary", account_id, name, domain)
        name, domain, _, _ = self._account_core(account)
        return ContactTruth(contact_id, i, False, "stayed", account_id, name, domain)

    def _group(self, k: int) -> int:
        parent = self._parent_account(k)
        return k if parent is None else parent

    def _mover_truth(self, i: int, account: int, contact_id: str, account_id: str, h: int) -> ContactTruth:
        n_acc = self._n_accounts
        if (h >> 20) % 100 < 30:
            # Moved to another customer in the CRM, never within the same corporate group (that
            # would be a "subsidiary" case, not a move).
            group = self._group(account)
            for step in range(8):
                target = ((h >> 32) + step) % n_acc
                if self._group(target) != group:
                    name, domain, _, _ = self._account_core(target)
                    return ContactTruth(contact_id, i, True, "moved", account_id, name, domain,
                                        self._ids["accounts"].guid(target))
        # An employer outside the CRM: company numbers past the accounts never collide with them;
        # several movers may join the same company.
        k = n_acc + (h >> 32) % (n_acc + 1000)
        country = self._account_country(k)
        base, stem, _ = self._company_base(k, country)
        return ContactTruth(contact_id, i, True, "moved", account_id, self._company_name(k, base, country),
                            stem + country.tld)

    # -- opportunities --------------------------------------------------------------------------------------

    def _opp_core(self, j: int) -> tuple[int | None, int | None, int, int]:
        """(contact, account, statecode, owner code) of opportunity ``j``."""
        h = self._hash("opp", j)
        contact = account = None
        if self._n_contacts:
            contact = (h >> 8) % self._n_contacts
            for attempt in range(4):  # prefer contacts with an account, as B2B deals are
                account = self._contact_account(contact)
                if account is not None:
                    break
                contact = (contact + 7919 * (attempt + 1)) % self._n_contacts
        else:
            account = (h >> 8) % self._n_accounts
        state_roll = h % 100
        state = 0 if state_roll < 60 else (1 if state_roll < 80 else 2)
        if account is not None and (h >> 48) % 100 < 80:
            owner = self._account_core(account)[3]
        else:
            owner = self._pick_owner(_mix64(h))
        return contact, account, state, owner

    def _opportunity_row(self, j: int, rng: random.Random) -> dict[str, Any]:
        contact, account, state, owner = self._opp_core(j)
        owner_id, owner_type = self._owner_ref(owner)
        company = self._account_core(account)[0] if account is not None else "Privatkunde"
        status = (rng.choice((1, 1, 1, 2)), 3, rng.choice((4, 5)))[state]
        probability = (rng.choice((10, 20, 40, 60, 80)), 100, 0)[state]
        close = _BASE_DATE + timedelta(days=rng.randint(-400, 365) if state == 0 else rng.randint(-730, -1))
        on_contact = account is None or rng.random() < 0.1
        customer = (self._ids["contacts"].guid(contact), "contact") if on_contact and contact is not None \
            else (self._ids["accounts"].guid(account), "account")
        return {
            "opportunityid": self._ids["opportunities"].guid(j),
            "name": f"{company} – {rng.choice(_PRODUCTS)} {close.year}",
            "estimatedvalue": float(rng.randint(2, 2000) * 500),
            "estimatedclosedate": close.isoformat(), "closeprobability": probability,
            "opportunityratingcode": rng.choice((1, 2, 2, 3)),
            "_parentcontactid_value": self._ids["contacts"].guid(contact) if contact is not None else None,
            "_parentaccountid_value": self._ids["accounts"].guid(account) if account is not None else None,
            "_customerid_value": customer[0], f"_customerid_value{LOOKUP_SUFFIX}": customer[1],
            "_ownerid_value": owner_id, f"_ownerid_value{LOOKUP_SUFFIX}": owner_type,
            "statecode": state, "statuscode": status,
        }

    # -- connection roles and connections -------------------------------------------------------------------

    def _iter_connection_roles(self) -> Iterator[dict[str, Any]]:
        for r, (name, category) in enumerate(_CONNECTION_ROLES):
            yield {"connectionroleid": self._ids["connectionroles"].guid(r), "name": name,
                   "category": category,
                   "description": f"{name} ({'out-of-box' if r < _STAKEHOLDER_ROLES else 'custom'})",
                   "ismanaged": r < _STAKEHOLDER_ROLES, "statecode": 0}

    def _stakeholders(self, j: int) -> list[int]:
        """Contacts who are stakeholders of opportunity ``j`` (the primary contact first)."""
        contact, account, state, _ = self._opp_core(j)
        if contact is None:
            return []
        roll = self._hash("opp.stakeholders", j) % 100
        # Open deals: 0/1/2/3 stakeholders at 15/35/35/15% (mean 1.5); closed deals fewer.
        wanted = (0 if roll < 15 else 1 if roll < 50 else 2 if roll < 85 else 3) if state == 0 else \
            (0 if roll < 55 else 1 if roll < 90 else 2)
        if not wanted:
            return []
        chosen = [contact]
        if account is not None:
            size = self._account_size(account)
            h = self._hash("opp.colleagues", j)
            for attempt in range(min(size, 6)):
                if len(chosen) >= wanted:
                    break
                colleague = self._account_contact_at(account, (h >> (attempt * 8)) % size)
                if colleague not in chosen:
                    chosen.append(colleague)
        return chosen

    def _connection_exists(self, index: int) -> bool:
        opp, rest = divmod(index, 16)
        return opp < self._n_opps and rest // 2 < len(self._stakeholders(opp))

    @cached_property
    def _connection_count(self) -> int:
        return sum(2 * len(self._stakeholders(j)) for j in range(self._n_opps))

    def _iter_connections(self) -> Iterator[dict[str, Any]]:
        for j in range(self._n_opps):
            yield from self._connection_rows_for(j)

    def _connection_rows_for(self, j: int) -> list[dict[str, Any]]:
        # Hashed per (opportunity, stakeholder) rather than drawn from a block RNG, so ``get`` can
        # rebuild one opportunity's connections without replaying its block.
        rows: list[dict[str, Any]] = []
        opp_id = self._ids["opportunities"].guid(j)
        owner_id, owner_type = self._owner_ref(self._opp_core(j)[3])
        roles, ids = self._ids["connectionroles"], self._ids["connections"]
        for p, contact in enumerate(self._stakeholders(j)):
            h = self._hash("conn", j * 16 + p)
            role = roles.guid(2 if p == 0 and h % 2 else (h >> 8) % _STAKEHOLDER_ROLES)
            inactive = (h >> 20) % 100 < 8
            master_id, mirror_id = ids.guid(j * 16 + p * 2), ids.guid(j * 16 + p * 2 + 1)
            contact_id = self._ids["contacts"].guid(contact)
            common = {"_ownerid_value": owner_id, f"_ownerid_value{LOOKUP_SUFFIX}": owner_type,
                      "statecode": 1 if inactive else 0, "statuscode": 2 if inactive else 1}
            # Dataverse stores every connection twice: the one created (ismaster) and its mirror with
            # record1/record2 swapped; each points at the other via relatedconnectionid.
            rows.append(_connection(master_id, mirror_id, (opp_id, "opportunity", None, 3),
                                    (contact_id, "contact", role, 2), True, common))
            rows.append(_connection(mirror_id, master_id, (contact_id, "contact", role, 2),
                                    (opp_id, "opportunity", None, 3), False, common))
        return rows


# ---------------------------------------------------------------------------------------------------------
# Field helpers (pure functions of the RNG)
# ---------------------------------------------------------------------------------------------------------


_Side = tuple[str, str, str | None, int]  # (record id, logical name, role id, object type code)


def _connection(connection_id: str, related_id: str, one: _Side, two: _Side, master: bool,
                common: dict[str, Any]) -> dict[str, Any]:
    return {
        "connectionid": connection_id,
        "_record1id_value": one[0], f"_record1id_value{LOOKUP_SUFFIX}": one[1],
        "_record2id_value": two[0], f"_record2id_value{LOOKUP_SUFFIX}": two[1],
        "_record1roleid_value": one[2], "_record2roleid_value": two[2],
        "record1objecttypecode": one[3], "record2objecttypecode": two[3],
        "_relatedconnectionid_value": related_id, "ismaster": master, **common,
    }


def _person(country: _Country, rng: random.Random) -> tuple[str | None, str | None, str, str, str]:
    """(firstname, middlename, lastname, fullname, e-mail local part) with the odd cases real CRMs have."""
    names, cum, total = _CULTURE_TABLES[country.code]
    culture = names[_pick_weighted(rng.random(), cum, total)]
    roll = rng.random()
    if culture == "zh" and roll < 0.35:
        last, first, last_latin, first_latin = rng.choice(_CJK_NAMES)
        return first, None, last, last + first, f"{first_latin}.{last_latin}"
    first, last = rng.choice(_FIRST[culture]), rng.choice(_LAST[culture])
    middles = _MIDDLE.get(culture)
    middle = rng.choice(middles) if middles and rng.random() < 0.12 else None
    local = _local_part(first, last, rng)
    odd = rng.random()
    if odd < 0.01:
        first, last = first.upper(), last.upper()
    elif odd < 0.02:
        first = f" {first}  "  # pasted with whitespace
    elif odd < 0.027:
        first = None  # only a surname was captured
    full = " ".join(part.strip() for part in (first, middle, last) if part)
    return first, middle, last, full, local


def _local_part(first: str, last: str, rng: random.Random) -> str:
    f, la = _ascii(first), _ascii(last)
    style = rng.random()
    if style < 0.55:
        return f"{f}.{la}"
    if style < 0.75:
        return f"{f[:1]}.{la}"
    if style < 0.88:
        return f"{f[:1]}{la}"
    return f"{f}{la}" if style < 0.95 else f


def _email(local: str, domain: str | None, rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.07:
        return None
    if domain is None or roll < 0.15:
        return f"{local}{rng.randint(1, 99) if rng.random() < 0.4 else ''}@{rng.choice(_PERSONAL_DOMAINS)}"
    return f"{local}@{domain}"


def _website(domain: str, rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.08:
        return None
    forms = (f"https://www.{domain}", f"https://www.{domain}", f"http://www.{domain}", f"www.{domain}",
             domain, f"https://{domain}/", f"http://{domain}/de/home", f"https://www.{domain}/en/about-us")
    return forms[int(roll * 1000) % len(forms)]


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randrange(10 ** (count - 1), 10**count))


def _phone(country: _Country, rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.1:
        return None
    if country.phone_style == "us":
        area, mid, end = _digits(rng, 3), _digits(rng, 3), _digits(rng, 4)
        return f"+1 ({area}) {mid}-{end}" if roll < 0.6 else f"{area}-{mid}-{end}"
    if country.phone_style == "uk":
        return f"+{country.dial} {_digits(rng, 2)} {_digits(rng, 4)} {_digits(rng, 4)}" if roll < 0.6 \
            else f"0{_digits(rng, 2)} {_digits(rng, 4)} {_digits(rng, 4)}"
    area, number = _digits(rng, rng.choice((2, 3))), _digits(rng, rng.choice((6, 7)))
    if roll < 0.5:
        return f"+{country.dial} {area} {number}"
    if roll < 0.75:
        return f"+{country.dial} (0){area} {number}"
    return f"0{area}/{number}" if country.language == "de" else f"0{area} {number}"


def _mobile(country: _Country, rng: random.Random) -> str:
    if country.phone_style == "us":
        return f"+1 {_digits(rng, 3)} {_digits(rng, 3)} {_digits(rng, 4)}"
    return f"+{country.dial} {rng.choice(('151', '160', '170', '176', '7700', '612'))} {_digits(rng, 7)}"


def _country_label(country: _Country, rng: random.Random) -> str:
    # People type the country however they like; matching must cope with "Deutschland" vs "Germany".
    if country.variants and rng.random() < 0.2:
        return rng.choice(country.variants)
    return country.name


def _employees(rng: random.Random, known_contacts: int) -> int | None:
    if rng.random() < 0.15:
        return None
    return max(known_contacts * rng.randint(3, 40), rng.choice((5, 12, 50, 180, 800, 2500, 12000)))


def generate_org(spec: OrgSpec) -> SampleOrg:
    """Build the sample organisation described by ``spec``. Cheap: rows are produced on iteration."""
    if not isinstance(spec, OrgSpec):
        raise TypeError(f"spec must be an OrgSpec, got {type(spec).__name__}")
    return SampleOrg(spec)

