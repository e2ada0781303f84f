"""CPU cost of one contact-profile comparison (``decide``), warm and cold caches.

    .venv/bin/python -m benchmarks.matching_cost                 # 20,000 decide() calls
    .venv/bin/python -m benchmarks.matching_cost --calls 100000 --contacts 5000

Inputs are generated, deterministic and varied: accounts with legal forms, umlauts and websites;
contacts with e-mails and LinkedIn URLs; profiles with 1-4 positions (current job at the account,
at the account under another spelling, moved elsewhere, parent company, namesakes, stale data).

"Warm" is the daily run's steady state: the same accounts and the same popular employers are
compared again and again, so normalised names are cached. "Cold" clears every cache first and
measures one pass over contacts never seen before (every name normalised for the first time).
Target (issue #3): <= 20 us CPU per comparison. Measured with time.process_time.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # also runnable as a script

from functions.matching import (
    AccountRecord,
    Company,
    ContactRecord,
    MatchingConfig,
    Position,
    Profile,
    clear_caches,
    decide,
)

TARGET_US = 20.0
TODAY = date(2026, 11, 27)

_STEMS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Müller",
    "Schäfer",
    "Krüger",
    "Nordlicht",
    "Bergmann",
    "Sonnen",
    "Hansa",
    "Rhein",
    "Alpen",
    "Blau",
    "Vertex",
    "Quantum",
    "Helios",
    "Orion",
    "Atlas",
    "Zenith",
    "Summit",
    "Pioneer",
    "Falcon",
    "Cobalt",
    "Granite",
    "Harbor",
    "Maple",
    "Cedar",
]
_SUFFIXES = ["GmbH", "AG", "GmbH & Co. KG", "Ltd", "Ltd.", "Inc.", "Corp.", "LLC", "SE", "S.A.", "plc", ""]
_WORDS = [
    "Systems",
    "Logistics",
    "Software",
    "Consulting",
    "Bank",
    "Energie",
    "Medical",
    "Retail",
    "Foods",
    "Analytics",
    "Robotics",
    "Versicherung",
    "Bau",
    "Technik",
    "Media",
    "Labs",
]
_FIRST = [
    "Robert",
    "Bob",
    "William",
    "Anna",
    "Jürgen",
    "Juergen",
    "Katharina",
    "Michael",
    "Sarah",
    "Thomas",
    "Elizabeth",
    "Liz",
    "Hans-Peter",
    "Maria",
    "Wei",
    "José",
    "Ole",
    "Sören",
    "James",
    "Jim",
]
_LAST = [
    "Müller",
    "Mueller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Smith",
    "Johnson",
    "Zhang",
    "García Márquez",
    "O'Brien",
    "van der Berg",
    "Schäfer",
    "Koch",
    "Hoffmann",
]


def _company_name(rng: random.Random) -> str:
    name = f"{rng.choice(_STEMS)} {rng.choice(_WORDS)}"
    suffix = rng.choice(_SUFFIXES)
    return f"{name} {suffix}".strip()


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum()) or "x"


def _spelling(rng: random.Random, name: str) -> str:
    """Another spelling of the same company, as a profile source might give it."""
    base = name
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if suffix and base.endswith(" " + suffix):
            base = base[: -len(suffix) - 1]
            break
    return rng.choice(
        [
            name,
            base,
            base.upper(),
            base.replace("ü", "ue").replace("ä", "ae"),
            f"The {base}",
            f"{base} {rng.choice(_SUFFIXES)}".strip(),
        ]
    )


def build_inputs(
    n_contacts: int, n_accounts: int, seed: int
) -> list[tuple[ContactRecord, AccountRecord, Profile]]:
    rng = random.Random(seed)
    accounts = []
    for i in range(n_accounts):
        name = _company_name(rng)
        website = (
            f"https://www.{_slug(name)[:18]}{i}.{rng.choice(['de', 'com', 'co.uk'])}/"
            if rng.random() < 0.7
            else None
        )
        accounts.append(
            AccountRecord(
                f"acc{i}",
                name=name,
                website=website,
                linkedin_url=f"https://www.linkedin.com/company/{_slug(name)}{i}/"
                if rng.random() < 0.3
                else None,
            )
        )
    popular = [Company(name=_company_name(rng), website=f"pop{i}.com") for i in range(60)]
    out = []
    for i in range(n_contacts):
        account = accounts[rng.randrange(n_accounts)]
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        slug = f"{_slug(first)}-{_slug(last)}-{i}"
        domain = (account.website or "https://example.org").split("//")[1].split("/")[0].removeprefix("www.")
        email = (
            f"{_slug(first)}.{_slug(last)}@{domain}" if rng.random() < 0.8 else f"{_slug(last)}{i}@gmail.com"
        )
        contact = ContactRecord(
            f"c{i}",
            first_name=first,
            last_name=last,
            email=email,
            profile_url=f"https://www.linkedin.com/in/{slug}/" if rng.random() < 0.5 else None,
            account_id=account.account_id,
        )
        at_account = Company(
            name=_spelling(rng, account.name or ""), website=account.website if rng.random() < 0.5 else None
        )
        scenario = rng.random()
        positions: list[Position]
        if scenario < 0.45:  # still there
            positions = [Position(at_account, start_date="2019-04", is_primary=True)]
        elif scenario < 0.8:  # moved on
            new = (
                popular[rng.randrange(len(popular))]
                if rng.random() < 0.7
                else Company(name=_company_name(rng))
            )
            positions = [
                Position(new, start_date="2025-02", is_primary=True),
                Position(at_account, start_date="2018-01", end_date="2025-01"),
            ]
        elif scenario < 0.9:  # parent company / similar name
            positions = [
                Position(
                    Company(name=f"{account.name} Holding", parent_name=account.name),
                    start_date="2024",
                    is_primary=True,
                ),
                Position(at_account, start_date="2015", end_date="2023"),
            ]
        else:  # a namesake or no current job
            positions = [Position(Company(name=_company_name(rng)), start_date="2020", end_date=None)]
        positions += [
            Position(Company(name=_company_name(rng)), start_date="2010", end_date="2014")
            for _ in range(rng.randrange(0, 2))
        ]
        emails = (email,) if rng.random() < 0.7 else ()
        profile = Profile(
            f"p{i}",
            "bench",
            first_name=first.lower() if rng.random() < 0.8 else rng.choice(_FIRST),
            last_name=last.lower(),
            profile_url=contact.profile_url if rng.random() < 0.6 else None,
            emails=emails,
            positions=tuple(positions),
            last_verified=rng.choice(["2026-10-01", "2026-06", "2025-01-15", None]),
            last_changed=rng.choice(["2025-02-01", None]),
            match_likelihood=rng.choice([None, 4, 8, 10]),
            matched_on=("email",) if emails and rng.random() < 0.5 else (),
        )
        out.append((contact, account, profile))
    return out


def _run(inputs, calls: int, config: MatchingConfig) -> tuple[float, Counter]:
    outcomes: Counter = Counter()
    n = len(inputs)
    start = time.process_time()
    for i in range(calls):
        contact, account, profile = inputs[i % n]
        outcomes[decide(contact, account, profile, today=TODAY, config=config).outcome] += 1
    return time.process_time() - start, outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=2_000, help="distinct contact/profile pairs")
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check", action="store_true", help=f"exit 1 if warm cost > {TARGET_US} us")
    args = parser.parse_args(argv)
    config = MatchingConfig()
    inputs = build_inputs(args.contacts, args.accounts, args.seed)

    clear_caches()
    cold_s, _ = _run(inputs, len(inputs), config)  # every contact once, caches empty at the start
    clear_caches()
    _run(inputs, len(inputs), config)  # warm up
    warm_s, outcomes = _run(inputs, args.calls, config)
    fresh = build_inputs(args.contacts, args.accounts, args.seed + 1)  # new people, same kinds of employers
    clear_caches()
    _run(inputs, len(inputs), config)
    new_people_s, _ = _run(fresh, len(fresh), config)

    warm_us = warm_s / args.calls * 1e6
    print(f"decide(): {args.calls} calls over {len(inputs)} contact/profile pairs, {args.accounts} accounts")
    print(f"  warm caches      : {warm_us:6.2f} us CPU per comparison (target <= {TARGET_US})")
    print(
        f"  cold caches      : {cold_s / len(inputs) * 1e6:6.2f} us CPU per comparison "
        f"(every name normalised for the first time)"
    )
    print(
        f"  new people, warm : {new_people_s / len(fresh) * 1e6:6.2f} us CPU per comparison "
        f"(contacts and profiles never seen, caches warm from a previous batch)"
    )
    print("  outcomes         : " + ", ".join(f"{k.value} {v}" for k, v in sorted(outcomes.items())))
    if args.check and warm_us > TARGET_US:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
