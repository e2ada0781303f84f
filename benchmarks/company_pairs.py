"""Accuracy of the employer matcher on labelled company-name pairs.

    .venv/bin/python -m benchmarks.company_pairs                       # public pairs + hard pairs
    .venv/bin/python -m benchmarks.company_pairs my_pairs.csv --errors # any CSV, list the misses
    .venv/bin/python -m benchmarks.company_pairs --check               # exit 1 if a target is missed

Inputs (a file, or a directory holding such files):
- generic CSV ``name_a,name_b,label`` (label 1/same, 0/different, or "related" for parent /
  subsidiary / affiliate pairs); optional columns ``website_a,website_b,parent_a,parent_b,note``;
- ``Name_x,Name_y,Targets`` (company_name_matcher's test data, UTF-8 with BOM);
- DNB name_matching's ``dnb_test_names.csv`` + ``dnb_adjusted_test_names.csv`` (row-aligned by the
  index column; every pair is the same company).

Each pair becomes ``match_employer(AccountRecord(name=a), Company(name=b))``. "Predicted same" is
kind ``same``; precision, recall and false "same" count only that. The expensive error is a false
"different" (a same-company pair called ``different`` could become a false LEFT), so it is counted
separately. Rows with CJK / Hangul / Kana are reported apart from Latin-script rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # also runnable as a script

from functions.matching import AccountRecord, Company, MatchingConfig, match_employer

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_DIR = ROOT.parent / "shared" / "data" / "company-pairs"
HARD_PAIRS = ROOT / "benchmarks" / "data" / "hard_pairs.csv"
DNB_FILES = ("dnb_test_names.csv", "dnb_adjusted_test_names.csv")

_CJK = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]"
)
_LABELS = {
    "1": "same",
    "same": "same",
    "true": "same",
    "0": "different",
    "different": "different",
    "false": "different",
    "related": "related",
    "2": "related",
}

# Targets from the issue, for all Latin-script public pairs together (cnm Latin rows + DNB).
TARGET_RECALL = 0.90
TARGET_MAX_FALSE_SAME = 1


@dataclass(frozen=True)
class Pair:
    dataset: str
    name_a: str
    name_b: str
    label: str  # same | different | related
    website_a: str | None = None
    website_b: str | None = None
    parent_a: str | None = None
    parent_b: str | None = None
    note: str = ""

    @property
    def script(self) -> str:
        return "cjk" if _CJK.search(self.name_a + self.name_b) else "latin"


def _label(value: str, where: str) -> str:
    try:
        return _LABELS[value.strip().lower()]
    except KeyError:
        raise SystemExit(f"{where}: unknown label {value!r} (use 1, 0 or related)") from None


def _read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def load_csv(path: Path) -> list[Pair]:
    """A generic ``name_a,name_b,label`` file or a company_name_matcher ``Name_x,Name_y,Targets`` file."""
    rows = _read_rows(path)
    if not rows:
        return []
    fields = {k.strip() for k in rows[0] if k}
    out = []
    if {"name_a", "name_b", "label"} <= fields:
        for i, row in enumerate(rows, start=2):
            out.append(
                Pair(
                    path.name,
                    row["name_a"],
                    row["name_b"],
                    _label(row["label"], f"{path}:{i}"),
                    row.get("website_a") or None,
                    row.get("website_b") or None,
                    row.get("parent_a") or None,
                    row.get("parent_b") or None,
                    row.get("note") or "",
                )
            )
    elif {"Name_x", "Name_y", "Targets"} <= fields:
        for i, row in enumerate(rows, start=2):
            out.append(Pair(path.name, row["Name_x"], row["Name_y"], _label(row["Targets"], f"{path}:{i}")))
    else:
        raise SystemExit(f"{path}: need columns name_a,name_b,label (or Name_x,Name_y,Targets)")
    return out


def load_dnb(original: Path, adjusted: Path) -> list[Pair]:
    """DNB's two row-aligned files: the same index in both is the same company."""
    by_index = {row[""]: row["company_name"] for row in _read_rows(original)}
    out = []
    for row in _read_rows(adjusted):
        if row[""] in by_index:
            out.append(Pair("dnb_test_names", by_index[row[""]], row["company_name"], "same"))
    return out


def load(path: Path) -> list[Pair]:
    if path.is_dir():
        pairs: list[Pair] = []
        names = sorted(p.name for p in path.glob("*.csv"))
        if all(n in names for n in DNB_FILES):
            pairs += load_dnb(path / DNB_FILES[0], path / DNB_FILES[1])
        for name in names:
            if name not in DNB_FILES:
                pairs += load_csv(path / name)
        return pairs
    if path.name in DNB_FILES:
        other = path.with_name(DNB_FILES[1 - DNB_FILES.index(path.name)])
        return load_dnb(path.with_name(DNB_FILES[0]), path.with_name(DNB_FILES[1])) if other.exists() else []
    return load_csv(path)


def predict(pair: Pair, config: MatchingConfig) -> tuple[str, str]:
    account = AccountRecord(
        "bench", name=pair.name_a, website=pair.website_a, parent_account_name=pair.parent_a
    )
    company = Company(name=pair.name_b, website=pair.website_b, parent_name=pair.parent_b)
    m = match_employer(account, company, config)
    return m.kind, m.basis


def score(results: list[tuple[Pair, str, str]]) -> dict:
    kinds: Counter[tuple[str, str]] = Counter((p.label, kind) for p, kind, _ in results)
    pos = sum(v for (label, _), v in kinds.items() if label == "same")
    neg = sum(v for (label, _), v in kinds.items() if label == "different")
    rel = sum(v for (label, _), v in kinds.items() if label == "related")
    tp = kinds[("same", "same")]
    fp = kinds[("different", "same")]
    return {
        "pairs": len(results),
        "same": pos,
        "different": neg,
        "related": rel,
        "tp": tp,
        "false_same": fp,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / pos, 3) if pos else None,
        "false_different": kinds[("same", "different")],
        "same_called_related_or_unknown": kinds[("same", "related")] + kinds[("same", "unknown")],
        "different_called_different": kinds[("different", "different")],
        "related_called_same": kinds[("related", "same")],
        "related_called_different": kinds[("related", "different")],
    }


def _print_table(title: str, s: dict) -> None:
    print(f"\n## {title}")
    print(f"pairs {s['pairs']} (same {s['same']}, different {s['different']}, related {s['related']})")
    if s["same"] or s["different"]:
        print(
            f"  precision {s['precision']}  recall {s['recall']}  false 'same' {s['false_same']}  "
            f"false 'different' {s['false_different']}  (same pairs called related/unknown: "
            f"{s['same_called_related_or_unknown']}; different pairs called different: "
            f"{s['different_called_different']})"
        )
    if s["related"]:
        print(
            f"  related pairs called same {s['related_called_same']}, called different "
            f"{s['related_called_different']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help=f"CSV files or directories (default: {PUBLIC_DIR} and {HARD_PAIRS.relative_to(ROOT)})",
    )
    parser.add_argument("--errors", action="store_true", help="list every pair not predicted as labelled")
    parser.add_argument("--config", type=Path, help="JSON MatchingConfig settings (thresholds, alias table)")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 unless all Latin-script public pairs (cnm + DNB) reach recall >= {TARGET_RECALL} "
        f"with <= {TARGET_MAX_FALSE_SAME} false 'same'",
    )
    args = parser.parse_args(argv)
    config = (
        MatchingConfig.from_mapping(json.loads(args.config.read_text())) if args.config else MatchingConfig()
    )
    paths = args.paths or [PUBLIC_DIR, HARD_PAIRS]

    groups: dict[str, list[tuple[Pair, str, str]]] = {}
    for path in paths:
        for pair in load(path):
            kind, basis = predict(pair, config)
            groups.setdefault(f"{pair.dataset} [{pair.script}]", []).append((pair, kind, basis))

    report = {name: score(results) for name, results in groups.items()}
    public_latin = [
        r
        for name, results in groups.items()
        if name.endswith("[latin]") and not name.startswith(HARD_PAIRS.name)
        for r in results
    ]
    if args.paths == [] and public_latin:
        report["public, all Latin-script rows"] = score(public_latin)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print("# Employer matcher on labelled company pairs (predicted same = kind 'same')")
        for name, s in report.items():
            _print_table(name, s)
    if args.errors:
        print("\n## Pairs not predicted as labelled (label -> kind, basis)")
        for name, results in groups.items():
            for pair, kind, basis in results:
                if kind != pair.label:
                    print(
                        f"  {name}: {pair.name_a!r} / {pair.name_b!r}: {pair.label} -> {kind} ({basis})"
                        + (f"  # {pair.note}" if pair.note else "")
                    )
    if args.check:
        target = report.get("public, all Latin-script rows")
        if target is None:
            print("--check: no Latin-script public pairs loaded (run without paths)", file=sys.stderr)
            return 1
        ok = (target["recall"] or 0) >= TARGET_RECALL and target["false_same"] <= TARGET_MAX_FALSE_SAME
        print(
            f"\ncheck (all public Latin-script rows, cnm + DNB): "
            f"recall {target['recall']} >= {TARGET_RECALL}, "
            f"false same {target['false_same']} <= {TARGET_MAX_FALSE_SAME}: {'PASS' if ok else 'FAIL'}"
        )
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
