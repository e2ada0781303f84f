"""FileSnapshotSource: JSONL and CSV from local files (plain and gzip), look-ups, malformed rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.profiles import (
    CSV_COLUMNS,
    FileSnapshotSource,
    ProfileQuery,
    ProfileSource,
    ProfileSourceConfigError,
    ProfileSourceError,
)
from localdev.pdl_replay import SAMPLE_RECORD, SAMPLE_RESPONSE

from .conftest import csv_text, jsonl, person, write

PEOPLE = [
    person("p1", "Ada", "Lovelace", slug="ada-lovelace", emails=("Ada@Contoso.com",), past=("Fabrikam Inc",)),
    person(
        "p2", "Alan", "Turing", company="Fabrikam Inc", website="fabrikam.com", emails=("alan@fabrikam.com",)
    ),
    person("p3", "Grace", "Hopper", company="Müller GmbH", website="https://www.mueller.de/"),
]


@pytest.fixture
def people_jsonl(tmp_path: Path) -> Path:
    return write(tmp_path / "profiles.jsonl", jsonl(PEOPLE))


def test_is_a_profile_source(people_jsonl: Path) -> None:
    source = FileSnapshotSource(str(people_jsonl))
    assert isinstance(source, ProfileSource)
    assert source.name == "file"


def test_jsonl_loads_and_maps_every_field(people_jsonl: Path) -> None:
    source = FileSnapshotSource(str(people_jsonl))
    stats = source.load()
    assert (stats.rows_read, stats.profiles_loaded, sum(stats.rows_malformed.values())) == (3, 3, 0)
    assert stats.index_bytes > 0
    profile = source.lookup([ProfileQuery("c1", profile_url="linkedin.com/in/ada-lovelace")])["c1"]
    assert profile is not None
    assert profile.profile_id == "p1"
    assert profile.source == "file"
    assert (profile.first_name, profile.last_name, profile.full_name) == ("Ada", "Lovelace", "Ada Lovelace")
    assert profile.profile_url == "linkedin.com/in/ada-lovelace"
    assert profile.emails == ("ada@contoso.com",)
    assert (profile.last_verified, profile.last_changed) == ("2025-06-01", "2021-04-15")
    current, past = profile.positions
    assert current.is_primary
    assert current.end_date is None
    assert current.company.name == "Contoso Ltd"
    assert current.company.website == "contoso.com"
    assert current.title == "Engineer"
    assert not past.is_primary
    assert (past.start_date, past.end_date) == ("2015", "2021-03")
    assert profile.match_likelihood is None
    assert profile.matched_on == ("profile_url",)
    assert len(profile.content_hash) == 64


@pytest.mark.parametrize(
    "url",
    [
        "https://www.linkedin.com/in/Ada-Lovelace/",
        "http://uk.linkedin.com/in/ada-lovelace?trk=people-guest",
        "linkedin.com/in/ada-lovelace",
        "www.linkedin.com/in/ADA-LOVELACE//",
    ],
)
def test_lookup_by_profile_url_variants(people_jsonl: Path, url: str) -> None:
    result = FileSnapshotSource(str(people_jsonl)).lookup([ProfileQuery("c", profile_url=url)])
    assert result["c"] is not None
    assert result["c"].profile_id == "p1"


def test_lookup_by_email_any_case(people_jsonl: Path) -> None:
    source = FileSnapshotSource(str(people_jsonl))
    found = source.lookup([ProfileQuery("c", email="  ALAN@Fabrikam.COM ")])["c"]
    assert found is not None
    assert found.profile_id == "p2"
    assert found.matched_on == ("email",)


def test_url_and_agreeing_email_are_both_reported(people_jsonl: Path) -> None:
    source = FileSnapshotSource(str(people_jsonl))
    found = source.lookup(
        [ProfileQuery("c", profile_url="linkedin.com/in/ada-lovelace", email="ada@contoso.com")]
    )
    assert found["c"] is not None
    assert found["c"].matched_on == ("profile_url", "email")


def test_unknown_url_falls_back_to_email(people_jsonl: Path) -> None:
    source = FileSnapshotSource(str(people_jsonl))
    found = source.lookup(
        [ProfileQuery("c", profile_url="linkedin.com/in/nobody", email="alan@fabrikam.com")]
    )
    assert found["c"] is not None
    assert found["c"].profile_id == "p2"
    assert found["c"].matched_on == ("email",)


def test_lookup_by_name_and_company(people_jsonl: Path) -> None:
    source = FileSnapshotSource(str(people_jsonl))
    found = source.lookup(
        [
            ProfileQuery("a", first_name="ada", last_name="LOVELACE", company_name="Contoso Limited"),
            ProfileQuery("b", full_name="Ada Lovelace", company_name="fabrikam"),  # a past employer
            ProfileQuery("c", first_name="Grace", last_name="Hopper", company_website="http://mueller.de"),
            ProfileQuery("d", first_name="Grace", last_name="Hopper", company_name="MÜLLER gmbh"),
            ProfileQuery("e", first_name="A.", last_name="Turing", company_name="Fabrikam"),  # initial only
        ]
    )
    assert {k: (p.profile_id if p else None) for k, p in found.items()} == {
        "a": "p1",
        "b": "p1",
        "c": "p3",
        "d": "p3",
        "e": "p2",
    }
    assert found["a"] is not None
    assert found["a"].matched_on == ("name_company",)


def test_name_lookup_is_conservative(tmp_path: Path) -> None:
    rows = [
        person("j1", "John", "Smith", company="Contoso", slug="john-smith-1"),
        person("j2", "John", "Smith", company="Fabrikam", slug="john-smith-2", past=("Contoso",)),
        person("j3", "Jane", "Smith", company="Northwind", slug="jane-smith"),
    ]
    source = FileSnapshotSource(str(write(tmp_path / "p.jsonl", jsonl(rows))))
    results = source.lookup_results(
        [
            ProfileQuery("ambiguous", first_name="John", last_name="Smith", company_name="Contoso"),
            ProfileQuery("unique", first_name="John", last_name="Smith", company_name="Fabrikam"),
            ProfileQuery("other-first", first_name="Joan", last_name="Smith", company_name="Northwind"),
            ProfileQuery("other-company", first_name="Jane", last_name="Smith", company_name="Contoso"),
            ProfileQuery("name-only", first_name="Jane", last_name="Smith"),
            ProfileQuery("nothing", company_name="Contoso"),
        ]
    )
    assert results["ambiguous"].status == "ambiguous"
    assert results["ambiguous"].profile is None
    assert "2 profiles" in results["ambiguous"].detail
    assert results["unique"].status == "matched"
    assert results["unique"].profile.profile_id == "j2"
    assert results["other-first"].status == "not_found"
    assert results["other-company"].status == "not_found"
    assert results["name-only"].status == "skipped"
    assert results["nothing"].status == "skipped"
    stats = source.lookup_stats
    assert (stats.queries, stats.matched, stats.ambiguous, stats.not_found, stats.skipped) == (6, 1, 1, 2, 2)
    assert source.lookup(
        [ProfileQuery("x", first_name="John", last_name="Smith", company_name="Contoso")]
    ) == {"x": None}


def test_one_entry_per_query_in_bulk(people_jsonl: Path) -> None:
    queries = [ProfileQuery(f"c{i}", email=f"nobody{i}@example.com") for i in range(500)]
    queries.append(ProfileQuery("hit", email="alan@fabrikam.com"))
    result = FileSnapshotSource(str(people_jsonl)).lookup(queries)
    assert len(result) == 501
    assert sum(1 for p in result.values() if p) == 1


def test_gzip_jsonl(tmp_path: Path) -> None:
    source = FileSnapshotSource(str(write(tmp_path / "profiles.jsonl.gz", jsonl(PEOPLE))))
    assert source.load().profiles_loaded == 3
    assert source.lookup([ProfileQuery("c", email="alan@fabrikam.com")])["c"] is not None


def test_hash_stable_across_key_order_and_whitespace(tmp_path: Path) -> None:
    row = PEOPLE[0]
    reordered = dict(reversed(list(row.items())))
    reordered["positions"] = [dict(reversed(list(p.items()))) for p in row["positions"]]
    spaced = json.dumps(reordered, indent=None, separators=(" ,  ", " :  "))
    a = FileSnapshotSource(str(write(tmp_path / "a.jsonl", jsonl([row]))))
    b = FileSnapshotSource(str(write(tmp_path / "b.jsonl", "  " + spaced + "  \n\n")))
    query = [ProfileQuery("c", email="ada@contoso.com")]
    assert a.lookup(query)["c"].content_hash == b.lookup(query)["c"].content_hash  # type: ignore[union-attr]

    changed = json.loads(json.dumps(row))
    changed["positions"][0]["end_date"] = "2025-05"
    changed["positions"][0]["is_primary"] = False
    c = FileSnapshotSource(str(write(tmp_path / "c.jsonl", jsonl([changed]))))
    assert c.lookup(query)["c"].content_hash != a.lookup(query)["c"].content_hash  # type: ignore[union-attr]


def test_malformed_jsonl_rows_are_counted_never_fatal(tmp_path: Path) -> None:
    good = person("ok", "Ada", "Lovelace")
    rows: list[object] = [
        good,  # line 1
        "{not json",  # 2
        "[1, 2, 3]",  # 3
        {**person("x", "A", "B"), "profile_id": None},  # 4
        {**person("y", "A", "B"), "full_name": 42},  # 5
        {**person("z", "A", "B"), "last_verified": "05.01.2024"},  # 6
        {**person("w", "A", "B"), "positions": [{"company": {"name": "X"}, "start_date": "2024-13"}]},  # 7
        {**person("v", "A", "B"), "positions": [{"is_primary": True}, {"is_primary": True}]},  # 8
        {**person("u", "A", "B"), "emails": "a@b.de"},  # 9
        {**person("t", "A", "B"), "positions": [{"company": "Contoso"}]},  # 10
        {**person("s", "A", "B"), "positions": [{"is_primary": "yes"}]},  # 11
        person("ok2", "Alan", "Turing"),  # 12
    ]
    path = tmp_path / "bad.jsonl"
    text = jsonl(rows) + "\n"
    path.write_bytes(text.encode() + b'{"profile_id": "enc", "full_name": "\xff\xfe"}\n')  # line 14
    source = FileSnapshotSource(str(path))
    stats = source.load()
    assert stats.rows_read == 13
    assert stats.profiles_loaded == 2
    assert stats.profiles_rejected == 11
    assert dict(stats.rows_malformed) == {
        "bad_json": 1,
        "not_an_object": 1,
        "missing_profile_id": 1,
        "wrong_type": 4,
        "bad_date": 2,
        "multiple_primary": 1,
        "bad_encoding": 1,
    }
    assert [line for line, _, _ in stats.malformed_examples] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14]
    assert (str(stats.malformed_examples[5][0]), stats.malformed_examples[5][1]) == ("7", "bad_date")
    assert "positions[0].start_date" in stats.malformed_examples[5][2]
    found = source.lookup([ProfileQuery("a", profile_url="linkedin.com/in/ok2")])
    assert found["a"] is not None


def test_malformed_details_never_echo_values(tmp_path: Path) -> None:
    secret = "very-private-value"
    source = FileSnapshotSource(
        str(write(tmp_path / "p.jsonl", jsonl([{"profile_id": "a", "full_name": [secret]}])))
    )
    stats = source.load()
    assert secret not in json.dumps(stats.as_dict())


def test_duplicate_profile_id_keeps_the_last(tmp_path: Path) -> None:
    first = person("dup", "Ada", "Lovelace", company="Contoso")
    last = person("dup", "Ada", "Lovelace", company="Fabrikam")
    source = FileSnapshotSource(str(write(tmp_path / "p.jsonl", jsonl([first, person("o", "X", "Y"), last]))))
    stats = source.load()
    assert stats.profiles_loaded == 2
    assert stats.rows_malformed == {"duplicate_profile_id": 1}
    assert stats.malformed_examples[0][:2] == (1, "duplicate_profile_id")
    found = source.lookup([ProfileQuery("c", profile_url="linkedin.com/in/dup")])["c"]
    assert found is not None
    assert found.positions[0].company.name == "Fabrikam"
    assert len(source) == 2
    assert sorted(p.profile_id for p in source.iter_profiles()) == ["dup", "o"]
    # the dropped copy is not reachable through its own keys either
    assert source.lookup(
        [ProfileQuery("n", first_name="Ada", last_name="Lovelace", company_name="Contoso")]
    ) == {"n": None}


def test_pdl_records_in_jsonl(tmp_path: Path) -> None:
    other = {**SAMPLE_RECORD, "id": "two", "linkedin_url": "linkedin.com/in/other", "work_email": True}
    source = FileSnapshotSource(str(write(tmp_path / "pdl.jsonl", jsonl([SAMPLE_RESPONSE, other]))))
    stats = source.load()
    assert stats.profiles_loaded == 2
    assert stats.rows_malformed == {}
    found = source.lookup([ProfileQuery("c", email="sean@peopledatalabs.com")])["c"]
    assert found is not None
    assert found.source == "file"
    assert found.profile_url == "linkedin.com/in/seanthorne"
    assert found.positions[0].is_primary
    assert found.positions[0].company.linkedin_id == "18170482"
    assert found.last_verified == "2024-01-05"
    free_plan = source.lookup([ProfileQuery("c", profile_url="linkedin.com/in/other")])["c"]
    assert free_plan is not None
    assert free_plan.emails == ()


def test_pdl_record_without_id_is_malformed(tmp_path: Path) -> None:
    record = {k: v for k, v in SAMPLE_RECORD.items() if k != "id"}
    stats = FileSnapshotSource(str(write(tmp_path / "pdl.jsonl", jsonl([record])))).load()
    assert stats.rows_malformed == {"missing_profile_id": 1}


def test_profiles_sharing_a_url_are_ambiguous(tmp_path: Path) -> None:
    a = person("a", "Ada", "Lovelace", slug="shared")
    b = person("b", "Ada", "Byron", slug="shared")
    source = FileSnapshotSource(str(write(tmp_path / "p.jsonl", jsonl([a, b]))))
    result = source.lookup_results([ProfileQuery("c", profile_url="linkedin.com/in/shared")])["c"]
    assert result.status == "ambiguous"
    assert result.profile is None


# ------------------------------------------------------------------------------------------- CSV

HEADER = list(CSV_COLUMNS)


def _row(**values: str) -> list[str]:
    return [values.get(column, "") for column in HEADER]


CSV_ROWS = [
    _row(profile_id="c1", full_name="Ada Lovelace", first_name="Ada", last_name="Lovelace",
         profile_url="https://www.linkedin.com/in/ada/", emails="Ada@Contoso.com; ada@home.example",
         last_verified="2025-06-01", last_changed="2021-04", company_name="Contoso Ltd",
         company_website="contoso.com", company_linkedin_id="1234", company_aliases="Contoso; CTS",
         title="CTO", start_date="2021-04", is_primary="true"),
    _row(profile_id="c1", company_name="Fabrikam, Inc.", title="Dev", start_date="2015", end_date="2021-03",
         is_primary="false"),
    _row(profile_id="c2", first_name="Alan", last_name="Turing", emails="alan@fabrikam.com"),
]  # fmt: skip


@pytest.mark.parametrize("name", ["profiles.csv", "profiles.csv.gz"])
def test_csv_groups_rows_per_profile(tmp_path: Path, name: str) -> None:
    source = FileSnapshotSource(str(write(tmp_path / name, csv_text(HEADER, CSV_ROWS))))
    stats = source.load()
    assert (stats.rows_read, stats.profiles_loaded, stats.rows_malformed) == (3, 2, {})
    ada = source.lookup([ProfileQuery("q", email="ada@home.example")])["q"]
    assert ada is not None
    assert ada.profile_id == "c1"
    assert ada.emails == ("ada@contoso.com", "ada@home.example")
    assert ada.profile_url == "linkedin.com/in/ada"
    assert (ada.last_verified, ada.last_changed) == ("2025-06-01", "2021-04")
    current, past = ada.positions
    assert current.is_primary
    assert current.company.linkedin_id == "1234"
    assert current.company.aliases == ("Contoso", "CTS")
    assert not past.is_primary
    assert past.company.name == "Fabrikam, Inc."
    assert past.end_date == "2021-03"
    alan = source.lookup([ProfileQuery("q", email="alan@fabrikam.com")])["q"]
    assert alan is not None
    assert alan.positions == ()
    by_name = source.lookup(
        [ProfileQuery("q", first_name="Ada", last_name="Lovelace", company_name="Fabrikam")]
    )
    assert by_name["q"] is not None
    assert by_name["q"].profile_id == "c1"


def test_csv_and_jsonl_of_the_same_profile_hash_alike(tmp_path: Path) -> None:
    csv_source = FileSnapshotSource(str(write(tmp_path / "p.csv", csv_text(HEADER, CSV_ROWS[:2]))))
    from_csv = csv_source.lookup([ProfileQuery("q", email="ada@contoso.com")])["q"]
    assert from_csv is not None
    as_json = {
        "profile_id": "c1", "full_name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace",
        "profile_url": "linkedin.com/in/ada", "emails": ["ada@home.example", "ada@contoso.com"],
        "last_verified": "2025-06-01", "last_changed": "2021-04",
        "positions": [
            {"company": {"name": "Fabrikam, Inc."}, "title": "Dev", "start_date": "2015",
             "end_date": "2021-03"},
            {"company": {"name": "Contoso Ltd", "website": "contoso.com", "linkedin_id": 1234,
                         "aliases": ["CTS", "Contoso"]},
             "title": "CTO", "start_date": "2021-04", "is_primary": True},
        ],
    }  # fmt: skip
    json_source = FileSnapshotSource(str(write(tmp_path / "p.jsonl", jsonl([as_json]))))
    from_json = json_source.lookup([ProfileQuery("q", email="ada@contoso.com")])["q"]
    assert from_json is not None
    assert from_json.content_hash == from_csv.content_hash


def test_csv_malformed_rows(tmp_path: Path) -> None:
    rows = [
        _row(profile_id="a", first_name="Ada", last_name="L", company_name="X", start_date="2021/04"),  # 2
        _row(profile_id="a", company_name="Y"),  # 3: same profile, rejected with it
        _row(profile_id="", company_name="Z"),  # 4
        _row(profile_id="b", company_name="X", is_primary="maybe"),  # 5
        [*_row(profile_id="c", company_name="X"), "extra"],  # 6
        _row(profile_id="d", company_name="X", is_primary="1"),  # 7
        _row(profile_id="d", company_name="Y", is_primary="yes"),  # 8: second primary
        _row(profile_id="ok", emails="ok@example.com", company_name="X"),  # 9
    ]
    source = FileSnapshotSource(str(write(tmp_path / "p.csv", csv_text(HEADER, rows))))
    stats = source.load()
    assert stats.rows_read == 8
    assert dict(stats.rows_malformed) == {
        "bad_date": 1,
        "missing_profile_id": 1,
        "wrong_type": 1,
        "wrong_column_count": 1,
        "multiple_primary": 1,
    }
    assert [line for line, _, _ in stats.malformed_examples] == [2, 4, 5, 6, 7]
    assert stats.profiles_loaded == 1
    assert stats.profiles_rejected == 3  # a, b, d (the row of c never opened a group)
    assert source.lookup([ProfileQuery("q", email="ok@example.com")])["q"] is not None


def test_csv_rows_of_one_profile_must_be_adjacent(tmp_path: Path) -> None:
    rows = [
        _row(profile_id="a", emails="a@example.com", company_name="First"),
        _row(profile_id="b", emails="b@example.com", company_name="X"),
        _row(profile_id="a", emails="a@example.com", company_name="Second"),
    ]
    source = FileSnapshotSource(str(write(tmp_path / "p.csv", csv_text(HEADER, rows))))
    stats = source.load()
    assert stats.rows_malformed == {"duplicate_profile_id": 1}
    found = source.lookup([ProfileQuery("q", email="a@example.com")])["q"]
    assert found is not None
    assert [p.company.name for p in found.positions] == ["Second"]


def test_csv_minimal_header_quoted_fields_and_bom(tmp_path: Path) -> None:
    text = (
        "\ufeffProfile_ID,Full_Name,Company_Name,Title,Is_Primary\n"
        '"x1","Smith, John","Contoso","Lead\nEngineer",1\n'
    )
    source = FileSnapshotSource(str(write(tmp_path / "p.csv", text)))
    stats = source.load()
    assert stats.profiles_loaded == 1, stats
    found = source.lookup([ProfileQuery("q", full_name="John Smith", company_name="Contoso")])["q"]
    assert found is None  # "Smith, John" splits as first "smith", last "john": no name match
    profile = next(source.iter_profiles())
    assert profile.positions[0].title == "Lead\nEngineer"
    assert profile.positions[0].is_primary


def test_csv_without_profile_id_column_is_a_file_error(tmp_path: Path) -> None:
    source = FileSnapshotSource(str(write(tmp_path / "p.csv", "id,name\n1,x\n")))
    with pytest.raises(ProfileSourceError, match="profile_id"):
        source.load()


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ProfileSourceError, match="unreadable"):
        FileSnapshotSource(str(tmp_path / "absent.jsonl")).load()
    with pytest.raises(ProfileSourceConfigError, match="format"):
        FileSnapshotSource(str(tmp_path / "profiles.txt"))
    explicit = FileSnapshotSource(str(write(tmp_path / "profiles.txt", jsonl(PEOPLE))), format="jsonl")
    assert explicit.load().profiles_loaded == 3


def test_truncated_gzip_is_a_file_error(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl.gz", jsonl(PEOPLE * 50))
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ProfileSourceError, match="broken"):
        FileSnapshotSource(str(path)).load()


def test_close_drops_the_index_and_reload_works(people_jsonl: Path) -> None:
    source = FileSnapshotSource(str(people_jsonl))
    assert source.load().profiles_loaded == 3
    source.close()
    assert source.lookup([ProfileQuery("c", email="alan@fabrikam.com")])["c"] is not None


def test_csv_unreadable_row_rejects_the_profile_it_names(tmp_path: Path) -> None:
    text = csv_text(
        HEADER,
        [
            _row(profile_id="a", emails="a@example.com", company_name="Contoso", is_primary="true"),
            _row(profile_id="z", emails="z@example.com", company_name="Northwind"),
        ],
    )
    bad_row = ",".join(_row(profile_id="a", company_name="Fabrikam")).encode() + b"\xff\n"
    lines = text.encode().splitlines(keepends=True)
    path = tmp_path / "p.csv"
    path.write_bytes(lines[0] + lines[1] + bad_row + lines[2])
    source = FileSnapshotSource(str(path))
    stats = source.load()
    assert stats.rows_malformed == {"bad_encoding": 1}
    assert stats.malformed_examples[0][0] == 3
    assert stats.profiles_rejected == 1
    assert source.lookup([ProfileQuery("q", email="a@example.com")]) == {"q": None}
    assert source.lookup([ProfileQuery("q", email="z@example.com")])["q"] is not None


# ------------------------------------------------------------------ one normalisation with the engine
def test_likelihood_is_kept_from_jsonl_csv_and_pdl_envelopes(tmp_path: Path) -> None:
    rows = [{**person("p1", "Ada", "Lovelace", emails=("ada@contoso.com",)), "likelihood": 9},
            {**person("p2", "Alan", "Turing", emails=("alan@contoso.com",)), "likelihood": "x"},
            {**SAMPLE_RESPONSE, "likelihood": 7}]
    source = FileSnapshotSource(str(write(tmp_path / "p.jsonl", jsonl(rows))))
    found = source.lookup([ProfileQuery("c1", email="ada@contoso.com"),
                           ProfileQuery("c2", email="alan@contoso.com"),
                           ProfileQuery("c3", profile_url=SAMPLE_RECORD["linkedin_url"])])
    assert found["c1"].match_likelihood == 9
    assert found["c2"] is None  # a bad likelihood rejects the row (counted), it never becomes "unknown"
    assert source.stats.rows_malformed["wrong_type"] == 1
    assert found["c3"].match_likelihood == 7
    header = list(CSV_COLUMNS)
    row = dict.fromkeys(header, "")
    row.update(profile_id="p9", first_name="Grace", last_name="Hopper", emails="grace@navy.mil",
               likelihood="8", company_name="US Navy", is_primary="true", last_verified="2026-01-01")
    csv_file = write(tmp_path / "p.csv", csv_text(header, [[row[h] for h in header]]))
    csv_source = FileSnapshotSource(str(csv_file))
    assert csv_source.lookup([ProfileQuery("c", email="grace@navy.mil")])["c"].match_likelihood == 8


def test_every_crm_email_is_looked_up_in_order(people_jsonl: Path) -> None:
    source = FileSnapshotSource(str(people_jsonl))
    query = ProfileQuery("c1", email="old.address@gone.example", other_emails=("alan@fabrikam.com",))
    result = source.lookup_results([query])["c1"]
    assert (result.status, result.profile.profile_id) == ("matched", "p2")
    assert result.profile.matched_on == ("email",)


def test_name_and_company_fallback_uses_the_engines_keys(tmp_path: Path) -> None:
    rows = [person("p1", "Jürgen", "Groß", company="Müller Maschinenbau GmbH",
                   website="https://www.mueller-mb.de/"),
            person("p2", "Иван", "Петров", company="Gazprom Neft PJSC", website="gazprom-neft.com"),
            person("p3", "Zoë", "Ng", company="Acme", website="https://WWW.ACME.CO.UK/en/about")]
    source = FileSnapshotSource(str(write(tmp_path / "p.jsonl", jsonl(rows))))
    queries = [
        # ü written as ue in the CRM, the legal form left out
        ProfileQuery("c1", first_name="Juergen", last_name="Gross", company_name="Mueller Maschinenbau"),
        # ... or only the website, in another form (registrable domain)
        ProfileQuery("c2", first_name="J.", last_name="Groß", company_website="careers.mueller-mb.de"),
        # a Cyrillic name in the file, its transliteration in the CRM
        ProfileQuery("c3", first_name="Ivan", last_name="Petrov", company_website="https://gazprom-neft.com"),
        ProfileQuery("c4", first_name="Zoe", last_name="Ng", company_website="acme.co.uk"),
        ProfileQuery("c5", first_name="Zoe", last_name="Ng", company_website="acme.com"),  # another domain
    ]
    found = source.lookup_results(queries)
    ids = [found[q.contact_id].profile.profile_id if found[q.contact_id].profile else None for q in queries]
    assert ids == ["p1", "p1", "p2", "p3", None]
    assert found["c1"].profile.matched_on == ("name_company",)


def test_two_namesakes_at_the_company_are_ambiguous(tmp_path: Path) -> None:
    rows = [person("p1", "John", "Smith", company="Siemens AG", website="siemens.com"),
            person("p2", "John", "Smith", company="Siemens Healthineers", website="siemens.com")]
    source = FileSnapshotSource(str(write(tmp_path / "p.jsonl", jsonl(rows))))
    result = source.lookup_results([ProfileQuery("c", first_name="John", last_name="Smith",
                                                 company_website="https://www.siemens.com/de")])["c"]
    assert (result.status, result.profile) == ("ambiguous", None)


def test_name_look_up_finds_a_profile_that_knows_only_the_accounts_new_name(tmp_path: Path) -> None:
    rows = [person("p1", "Eva", "Berg", company="Mercedes-Benz Group AG", website="group.mercedes-benz.com")]
    source = FileSnapshotSource(str(write(tmp_path / "p.jsonl", jsonl(rows))))
    plain = ProfileQuery("c", first_name="Eva", last_name="Berg", company_name="Daimler AG")
    assert source.lookup([plain])["c"] is None
    renamed = ProfileQuery("c", first_name="Eva", last_name="Berg", company_name="Daimler AG",
                           company_other_names=("Mercedes-Benz Group AG",))
    assert source.lookup([renamed])["c"].profile_id == "p1"


def test_a_deeply_nested_line_is_skipped_and_counted_not_fatal(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    rows = [person("p1", "Ada", "Lovelace", emails=("ada@contoso.com",)), deep,
            '{"profile_id": "p2", "positions": ' + deep + "}"]
    source = FileSnapshotSource(str(write(tmp_path / "p.jsonl", jsonl(rows))))
    stats = source.load()
    assert stats.profiles_loaded == 1
    assert stats.rows_malformed == {"too_deep": 2}
    assert source.lookup([ProfileQuery("c", email="ada@contoso.com")])["c"].profile_id == "p1"
