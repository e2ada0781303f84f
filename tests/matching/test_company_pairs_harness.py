"""The accuracy harness reads the generic format and the two public formats, and counts right."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import company_pairs as harness


def write(path: Path, text: str, *, bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def test_generic_format_with_related_rows(tmp_path: Path) -> None:
    f = write(
        tmp_path / "pairs.csv",
        "name_a,name_b,label\nAcme GmbH,ACME,1\nBank,Bank of America,0\n"
        "Audi AG,Volkswagen AG,related\nDelta Air Lines,Delta Dental,0\n",
    )
    pairs = harness.load(f)
    assert [p.label for p in pairs] == ["same", "different", "related", "different"]
    results = [(p, *harness.predict(p, harness.MatchingConfig())) for p in pairs]
    s = harness.score(results)
    assert (s["same"], s["different"], s["related"]) == (1, 2, 1)
    assert (s["tp"], s["false_same"], s["recall"], s["precision"]) == (1, 0, 1.0, 1.0)
    # "Bank" is a subset and "Delta" a shared brand word: both related, never proof of another company
    assert s["different_called_different"] == 0


def test_company_name_matcher_format_with_bom(tmp_path: Path) -> None:
    f = write(
        tmp_path / "cnm.csv",
        'Name_x,Name_y,Targets\n"Apple Inc.","Apple Inc",1\n"华为","Huawei",1\n'
        '"Apple Inc.","Microsoft Corporation",0\n',
        bom=True,
    )
    pairs = harness.load(f)
    assert len(pairs) == 3
    assert [p.script for p in pairs] == ["latin", "cjk", "latin"]


def test_dnb_row_aligned_files(tmp_path: Path) -> None:
    write(tmp_path / "dnb_test_names.csv", ",company_name,country\n0,Schumm PLC,BE\n1,Quitzon Group,IT\n")
    write(
        tmp_path / "dnb_adjusted_test_names.csv",
        ",company_name,country\n1,Group Quitzon,IT\n0,SchummPLC,BE\n",
    )
    pairs = harness.load(tmp_path)
    assert {(p.name_a, p.name_b) for p in pairs} == {
        ("Schumm PLC", "SchummPLC"),
        ("Quitzon Group", "Group Quitzon"),
    }
    assert all(p.label == "same" for p in pairs)


def test_bad_input_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="need columns"):
        harness.load(write(tmp_path / "x.csv", "a,b\n1,2\n"))
    with pytest.raises(SystemExit, match="unknown label"):
        harness.load(write(tmp_path / "y.csv", "name_a,name_b,label\nA,B,maybe\n"))


def test_main_prints_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path / "pairs.csv", "name_a,name_b,label\nAcme GmbH,ACME,1\nAcme,Globex,0\n")
    assert harness.main([str(f), "--errors"]) == 0
    out = capsys.readouterr().out
    assert "precision 1.0  recall 1.0  false 'same' 0  false 'different' 0" in out


def test_hard_pairs_file_is_well_formed() -> None:
    pairs = harness.load(harness.HARD_PAIRS)
    assert len(pairs) >= 60
    assert {p.label for p in pairs} == {"same", "different", "related"}


def _scores(path: Path) -> dict:
    config = harness.MatchingConfig()
    pairs = [p for p in harness.load(path) if p.script == "latin"]
    return harness.score([(p, *harness.predict(p, config)) for p in pairs])


@pytest.mark.skipif(not harness.PUBLIC_DIR.is_dir(), reason="public company pairs not available")
def test_public_latin_pairs_meet_the_target() -> None:
    s = _scores(harness.PUBLIC_DIR)
    assert s["recall"] >= harness.TARGET_RECALL
    assert s["false_same"] <= harness.TARGET_MAX_FALSE_SAME


def test_hard_pairs_precision_does_not_regress() -> None:
    s = _scores(harness.HARD_PAIRS)
    assert s["false_same"] <= 6  # Merck & Co. / Merck KGaA, GM / General Mills, four one-letter look-alikes
    assert s["related_called_same"] == 0
