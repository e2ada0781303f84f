"""match_person: URL and e-mail identify, names support or veto, nicknames only support (pure)."""

from __future__ import annotations

import json

import pytest

from functions.matching import ContactRecord, MatchingConfig, Profile, match_person

CONFIG = MatchingConfig()


def contact(**kw: object) -> ContactRecord:
    base: dict = {
        "contact_id": "c1",
        "first_name": "Robert",
        "last_name": "Müller",
        "email": "robert.mueller@acme.de",
    }
    base.update(kw)
    return ContactRecord(**base)


def profile(**kw: object) -> Profile:
    base: dict = {"profile_id": "p1", "source": "test", "first_name": "robert", "last_name": "mueller"}
    base.update(kw)
    return Profile(**base)


def strength(c: ContactRecord, p: Profile, config: MatchingConfig = CONFIG) -> tuple[str, str]:
    m = match_person(c, p, config)
    return m.strength, m.basis


def test_profile_url_match_is_strong() -> None:
    c = contact(profile_url="https://www.linkedin.com/in/robert-mueller-123/")
    p = profile(profile_url="linkedin.com/in/Robert-Mueller-123")
    assert strength(c, p) == ("strong", "profile_url")


def test_different_profile_urls_are_a_conflict() -> None:
    c = contact(profile_url="linkedin.com/in/robert-mueller-123")
    p = profile(profile_url="linkedin.com/in/robert-mueller-999", emails=("robert.mueller@acme.de",))
    assert strength(c, p) == ("conflict", "profile_url_differs")


def test_email_match_is_strong() -> None:
    assert strength(contact(), profile(emails=("Robert.Mueller@ACME.de",))) == ("strong", "email")
    assert strength(contact(), profile(matched_on=("email",))) == ("strong", "email")  # source matched on it


def test_namesake_with_a_different_email_is_not_strong() -> None:
    p = profile(emails=("robert.mueller@other-company.com",))
    assert strength(contact(), p) == ("weak", "name")
    assert strength(contact(), profile()) == ("weak", "name")  # a name alone is never strong


def test_identifier_match_with_a_clashing_name_is_a_conflict() -> None:
    p = profile(first_name="Sabine", last_name="Schulz", emails=("robert.mueller@acme.de",))
    assert strength(contact(), p) == ("conflict", "identifier_matches_but_name_differs")


def test_surname_change_with_matching_email_stays_strong() -> None:
    c = contact(first_name="Anna", last_name="Schmidt", email="anna.schmidt@acme.de")
    p = profile(first_name="anna", last_name="weber", emails=("anna.schmidt@acme.de",))
    m = match_person(c, p, CONFIG)
    assert (m.strength, m.evidence["name"]) == ("strong", "given_only")


def test_nicknames_support_but_never_reject() -> None:
    p = profile(first_name="bob", emails=("robert.mueller@acme.de",))
    m = match_person(contact(), p, CONFIG)
    assert (m.strength, m.evidence["name"]) == ("strong", "nickname")
    assert strength(contact(), profile(first_name="bob")) == (
        "weak",
        "name",
    )  # nickname + surname: a name match
    # no nickname data for German names: a given-name difference does not veto an e-mail match
    c = contact(first_name="Hans", last_name="Meier", email="h.meier@acme.de")
    p = profile(first_name="johannes", last_name="meier", emails=("h.meier@acme.de",))
    m = match_person(c, p, CONFIG)
    assert (m.strength, m.evidence["name"]) == ("strong", "surname_only")


@pytest.mark.parametrize(
    ("contact_kw", "profile_kw", "category"),
    [
        (
            {"first_name": "Jürgen", "last_name": "Müller"},
            {"first_name": "juergen", "last_name": "mueller"},
            "full",
        ),
        (
            {"first_name": "Jürgen", "last_name": "Müller"},
            {"first_name": "jurgen", "last_name": "muller"},
            "full",
        ),
        ({"first_name": "Wei", "last_name": "Zhang"}, {"first_name": "zhang", "last_name": "wei"}, "swapped"),
        (
            {"first_name": "J.", "last_name": "Smith"},
            {"first_name": "john", "last_name": "smith"},
            "initial",
        ),
        (
            {"first_name": "Mary", "middle_name": "Ann", "last_name": "Lee"},
            {"first_name": "ann", "last_name": "lee"},
            "middle_name",
        ),  # goes by the middle name
        (
            {"first_name": "Hans-Peter", "last_name": "Koch"},
            {"first_name": "hanspeter", "last_name": "koch"},
            "full",
        ),
        (
            {"first_name": "Gabriel", "last_name": "García Márquez"},
            {"first_name": "gabriel", "last_name": "garcia"},
            "full",
        ),
        (
            {"first_name": "Ludwig", "last_name": "van Beethoven"},
            {"first_name": "ludwig", "last_name": "beethoven"},
            "full",
        ),
        (
            {"first_name": None, "last_name": None, "full_name": "Müller, Hans"},
            {"first_name": None, "last_name": None, "full_name": "Hans Müller"},
            "full",
        ),
        (
            {"first_name": "Katharina", "last_name": "Smyth"},
            {"first_name": "katherina", "last_name": "smyth"},
            "full",
        ),
        (
            {"first_name": "Anna", "last_name": "Schmidt"},
            {"first_name": "paul", "last_name": "weber"},
            "mismatch",
        ),
        ({"first_name": None, "last_name": None}, {}, "missing"),
    ],
)
def test_name_categories(contact_kw: dict, profile_kw: dict, category: str) -> None:
    m = match_person(contact(**contact_kw), profile(**profile_kw), CONFIG)
    assert m.evidence["name"] == category


def test_swapped_name_order_with_email_is_strong() -> None:
    c = contact(first_name="Wei", last_name="Zhang", email="wei.zhang@acme.de")
    p = profile(first_name="zhang", last_name="wei", emails=("wei.zhang@acme.de",))
    assert strength(c, p) == ("strong", "email")


def test_middle_names_do_not_get_in_the_way() -> None:
    c = contact(first_name="Sean", middle_name="F.", last_name="Thorne", email="sean@pdl.com")
    p = profile(first_name="sean", middle_name="fong", last_name="thorne", emails=("sean@pdl.com",))
    assert strength(c, p) == ("strong", "email")


def test_low_source_likelihood_caps_the_match_at_weak() -> None:
    p = profile(emails=("robert.mueller@acme.de",), match_likelihood=3)
    assert strength(contact(), p) == ("weak", "email_low_likelihood")
    assert strength(contact(), profile(emails=("robert.mueller@acme.de",), match_likelihood=6))[0] == "strong"


def test_empty_records_give_none() -> None:
    c = ContactRecord("c1")
    p = Profile("p1", "test")
    m = match_person(c, p, CONFIG)
    assert (m.strength, m.score) == ("none", None)
    assert json.loads(json.dumps(m.evidence)) == m.evidence


def test_free_mail_address_still_identifies_the_person() -> None:
    c = contact(email="robert.mueller1970@gmail.com")
    p = profile(emails=("robert.mueller1970@gmail.com",))
    assert strength(c, p) == ("strong", "email")


def test_name_forms_do_not_depend_on_case_or_cache_state() -> None:
    from functions.matching import clear_caches
    from functions.matching.person import _name

    a = _name("Anna", None, "Müller", None)
    b = _name("anna", None, "MÜLLER", None)
    assert a == b
    clear_caches()
    assert _name("Anna", None, "Müller", None) == a
    # titles are no given name; a one-word field takes the fast path, a title the full one
    assert _name("Dr.", None, "Weber", None) == _name(None, None, "weber", None)
    assert _name("Hans-Peter", None, "von Weber", None).given == frozenset({"hans", "hanspeter"})


@pytest.mark.parametrize(
    ("a", "b", "related"),
    [
        ("bob", "robert", True),
        ("robert", "bob", True),
        ("liz", "elizabeth", True),
        ("jim", "james", True),
        ("bob", "bobby", True),
        ("anna", "thomas", False),
        ("bob", "bob", False),
        ("", "bob", False),
    ],
)
def test_nickname_relation_matches_the_nicknames_data(a: str, b: str, related: bool) -> None:
    from functions.matching.person import _nicknamer, nickname_related

    nn = _nicknamer()
    direct = bool(a and b and a != b) and (
        b in nn.nicknames_of(a)
        or a in nn.nicknames_of(b)
        or b in nn.canonicals_of(a)
        or a in nn.canonicals_of(b)
        or bool(nn.canonicals_of(a) & nn.canonicals_of(b))
    )
    assert nickname_related(a, b) == direct == related


def test_a_profile_writing_the_contacts_name_in_another_case_compares_the_same() -> None:
    c = contact(first_name="Anna", last_name="Müller", middle_name="Maria")
    same = match_person(c, profile(first_name="ANNA", last_name="müller", middle_name="Maria"))
    other = match_person(c, profile(first_name="Anna", last_name="Mueller", middle_name="Maria"))
    assert same.evidence["name"] == other.evidence["name"] == "full"
    assert same.score == other.score == 100.0
