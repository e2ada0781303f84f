"""Company- and person-name normalisation, including the cleanco pitfalls (pure)."""

from __future__ import annotations

import pytest

from functions.matching import company_keys, normalise_company_name
from functions.matching.normalise import person_name_forms, strip_legal_forms, without_particles


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ltd", "ltd"),  # cleanco alone gives ""
        ("Ltd.", "ltd"),
        ("Limited", "limited"),
        ("Company", "company"),
        ("Co-op", "co op"),
        ("The Ltd Company", "ltd"),
        ("Acme GmbH & Co. KG", "acme"),
        ("Acme GmbH & Co KG", "acme"),
        ("Samsung Electronics Co., Ltd.", "samsung electronics"),  # two passes
        ("Société Générale S.A.", "societe generale"),
        ("Volkswagen Aktiengesellschaft", "volkswagen"),  # not in cleanco 2.3
        ("The Coca-Cola Company", "coca cola"),
        ("Coca-Cola Company, The", "coca cola"),
        ("Procter & Gamble", "procter gamble"),
        ("Procter and Gamble Co.", "procter gamble"),
        ("Johnson & Johnson", "johnson johnson"),
        ("McDonald's Corporation", "mcdonalds"),
        ("A.T. Kearney", "at kearney"),
        ("Amazon.com, Inc.", "amazon"),
        ("Straße AG", "strasse"),
        ("Müller GmbH", "mueller"),
        ("  ACME   corp  ", "acme"),
        ("PLC Torphy", "torphy"),
        ("Blauion Media DAC", "blauion media"),  # Irish form, not in cleanco 2.3
    ],
)
def test_normalise_company_name(raw: str, expected: str) -> None:
    assert normalise_company_name(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "()", "&", "---"])
def test_empty_input_gives_empty_name_and_no_keys(raw: str | None) -> None:
    assert normalise_company_name(raw) == ""
    assert company_keys(raw) is None


def test_legal_form_stripping_never_leaves_nothing() -> None:
    assert strip_legal_forms(["ltd"]) == ["ltd"]
    assert strip_legal_forms(["the", "ltd"]) == ["the", "ltd"]
    assert strip_legal_forms(["acme", "gmbh", "and", "co", "kg"]) == ["acme"]
    assert strip_legal_forms(["acme", "co", "ltd"]) == ["acme"]


def test_umlauts_are_tried_both_ways() -> None:
    mueller, muller, mueller_plain = (
        company_keys("Müller GmbH"),
        company_keys("Muller"),
        company_keys("Mueller AG"),
    )
    assert mueller is not None
    assert muller is not None
    assert mueller_plain is not None
    assert {"mueller", "muller"} <= mueller.variants
    assert mueller.variants & muller.variants
    assert mueller.variants & mueller_plain.variants


def test_parenthesised_text_and_dba_tails_become_alternatives() -> None:
    keys = company_keys("Alphabet Inc. (Google)")
    assert keys is not None
    assert keys.norm == "alphabet"
    assert keys.alternatives == ("google",)
    dba = company_keys("Acme Holdings d/b/a Widgetworks")
    assert dba is not None
    assert dba.norm == "acme holdings"
    assert dba.alternatives == ("widgetworks",)


def test_nospace_key_covers_spacing_and_hyphens() -> None:
    a, b = company_keys("Wal-Mart Inc"), company_keys("Walmart")
    assert a is not None
    assert b is not None
    assert a.nospace & b.nospace
    glued, spaced = company_keys("SchummPLC"), company_keys("Schumm PLC")
    assert glued is not None
    assert spaced is not None
    assert glued.nospace & spaced.nospace  # the unstripped form "schummplc"


def test_acronym_keys() -> None:
    long_ = company_keys("International Business Machines Corp.")
    short = company_keys("IBM Corporation")
    assert long_ is not None
    assert short is not None
    assert long_.acronym == "ibm"
    assert short.acronym_form == "ibm"
    assert company_keys("P&G").acronym_form == "pg"  # type: ignore[union-attr]
    assert company_keys("PwC").acronym_form == "pwc"  # type: ignore[union-attr]
    assert company_keys("Bank").acronym_form is None  # type: ignore[union-attr]
    # a name that already holds an acronym yields none: "BNP Paribas" is not "BP"
    assert company_keys("BNP Paribas").acronym is None  # type: ignore[union-attr]


def test_generic_words_only_leave_the_core_key() -> None:
    keys = company_keys("KPMG International")
    assert keys is not None
    assert keys.core == "kpmg"
    only_generic = company_keys("Global Services Group")
    assert only_generic is not None
    assert only_generic.core == only_generic.norm


def test_non_latin_names_are_transliterated_not_dropped() -> None:
    keys = company_keys("삼성전자주식회사")
    assert keys is not None
    assert keys.norm.isascii()
    assert keys.norm
    assert normalise_company_name("Øresund Łódź A/S") == "oresund lodz"


def test_encoding_debris_is_kept_as_unknown_letters() -> None:
    keys = company_keys("Bro{n Gro\x88p")
    assert keys is not None
    assert "?" in keys.norm


def test_person_name_forms() -> None:
    assert person_name_forms("Dr. Jürgen Müller-Lüdenscheidt") == (
        ("juergen", "mueller", "luedenscheidt"),
        ("jurgen", "muller", "ludenscheidt"),
    )
    assert person_name_forms("O'Brien") == (("obrien",),)
    assert person_name_forms("Straße") == (("strasse",),)
    assert person_name_forms(None) == ()
    assert person_name_forms("  ") == ()
    assert without_particles(("van", "der", "berg")) == ("berg",)
    assert without_particles(("van",)) == ("van",)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SchummPLC", "schumm"),  # a legal form glued to the name, told by its capitals
        ("AcmeGmbH", "acme"),
        ("Kihn5PLC", "kihn5"),
        ("Acme Inc.", "acme"),
        ("Incyte", "incyte"),  # not a glued form: no lower-case letter before the capitals
        ("SPLC", "splc"),
    ],
)
def test_glued_legal_forms(raw: str, expected: str) -> None:
    assert normalise_company_name(raw) == expected


def test_words_keep_legal_forms_and_connectors_as_optional() -> None:
    keys = company_keys("The Müller GmbH & Co. KG")
    assert keys is not None
    assert keys.words == ("the", "mueller", "gmbh", "and", "co", "kg")
    assert keys.optional == (True, False, True, True, True, True)
    keys = company_keys("Doyle, Kerluke and Fay")
    assert keys is not None
    assert [w for w, opt in zip(keys.words, keys.optional, strict=True) if not opt] == [
        "doyle",
        "kerluke",
        "fay",
    ]
    assert company_keys("Samsung SDS").caps == frozenset({"sds"})


@pytest.mark.parametrize(
    "text",
    [
        "acme.com systems",
        "s.a.",
        "globex bank gmbh & co. kg",
        "a/b--c",
        "x?y z",
        "  ",
        "",
        "o'brien+sons",
        "k\u00e4se",
    ],
)
def test_base_tokens_are_the_runs_the_separators_leave(text: str) -> None:
    from functions.matching.normalise import _AMP, _DOMAIN_TAIL, _NON_ALNUM, _QUOTES, _base_tokens

    expected = text
    if "." in expected:
        expected = _DOMAIN_TAIL.sub(r"\1", expected)
    expected = _AMP.sub(" and ", _QUOTES.sub("", expected))
    assert _base_tokens(text) == _NON_ALNUM.sub(" ", expected).split()


@pytest.mark.parametrize(
    ("raw", "norm", "alternatives"),
    [
        ("Acme GmbH, formerly Widget Works", "acme", ("widget works",)),
        ("Acme (Widget Works) Ltd.", "acme", ("widget works",)),
        ("Globex d/b/a Initech", "globex", ("initech",)),
        ("Acme Corp; aka Roadrunner Inc.", "acme", ("roadrunner inc.",)),
        ("Acme{Works} GmbH", "acme?works?", ()),
        ("acme.com Inc.", "acme", ()),
        ("SchummPLC", "schumm", ()),
        ("Acme Ink", "acme ink", ()),
    ],
)
def test_names_with_marks_tails_and_glued_forms(raw: str, norm: str, alternatives: tuple[str, ...]) -> None:
    keys = company_keys(raw)
    assert keys is not None
    assert (keys.norm, keys.alternatives) == (norm, alternatives)
