"""Runs the scenario set through the scan's path and scores it (for the test and benchmarks/scenarios.py).

Every case goes through ``tests.scenarios.scan_path``: Web API-shaped rows, the scan's converters, the
real file source and ``validate_batch`` — never ``decide()`` fed fields the scan does not read.

The positive class is LEFT (the flag that gets written). Precision = flagged correctly / flagged; recall =
flagged correctly / labelled LEFT. A case the scan skips or that raises counts as "not flagged" in the
metrics (errors never produce a flag) and is reported separately.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from functions.matching.records import Outcome
from tests.scenarios import scan_path
from tests.scenarios.loader import Scenario
from tests.scenarios.scan_path import ScanVerdict

PREDICTED_COLUMNS = ("left", "still_there", "unknown", "error")
EXPECTED_ROWS = ("left", "still_there", "unknown")
PRECISION_FLOOR = 0.995
RECALL_FLOOR = 0.95
MAX_FALSE_LEFT = 0


@dataclass(frozen=True, slots=True)
class Result:
    scenario: Scenario
    verdict: ScanVerdict | None
    error: str | None = None
    seconds: float = 0.0

    @property
    def predicted(self) -> str:
        if self.verdict is None or self.verdict.outcome is None:
            return "error"
        return Outcome(self.verdict.outcome).value

    @property
    def correct(self) -> bool:
        return self.predicted == self.scenario.expected.value

    @property
    def rule(self) -> str:
        if self.verdict is None:
            return f"error: {self.error}"
        return self.verdict.rule or f"skipped: {self.verdict.skipped}"


@dataclass(frozen=True, slots=True)
class Metrics:
    confusion: Mapping[str, Mapping[str, int]]  # expected -> predicted -> count
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    per_category: Mapping[str, tuple[int, int]]  # category -> (correct, total)
    errors: tuple[Result, ...] = field(default=())

    @property
    def accuracy(self) -> float:
        total = sum(t for _, t in self.per_category.values())
        return sum(c for c, _ in self.per_category.values()) / total if total else 0.0


def run(scenarios: Iterable[Scenario]) -> list[Result]:
    """Each scenario through the scan's path (one snapshot file per case in a temporary folder)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="scenarios-") as tmp:
        for sc in scenarios:
            start = time.perf_counter()
            try:
                verdict = scan_path.run_case(sc, Path(tmp))
            except Exception as exc:  # every failure is reported per case
                results.append(Result(sc, None, f"{type(exc).__name__}: {exc}"))
                continue
            results.append(Result(sc, verdict, None, time.perf_counter() - start))
    return results


def score(results: Iterable[Result]) -> Metrics:
    results = list(results)
    confusion: dict[str, Counter[str]] = {row: Counter() for row in EXPECTED_ROWS}
    per_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        confusion[r.scenario.expected.value][r.predicted] += 1
        per_category[r.scenario.category][0] += int(r.correct)
        per_category[r.scenario.category][1] += 1
    tp = confusion["left"]["left"]
    fp = confusion["still_there"]["left"] + confusion["unknown"]["left"]
    fn = sum(confusion["left"].values()) - tp
    precision = tp / (tp + fp) if tp + fp else 1.0  # nothing flagged: vacuously precise (recall shows it)
    recall = tp / (tp + fn) if tp + fn else 1.0
    return Metrics(
        confusion={row: dict(confusion[row]) for row in EXPECTED_ROWS},
        tp=tp,
        fp=fp,
        fn=fn,
        precision=precision,
        recall=recall,
        per_category={k: (v[0], v[1]) for k, v in sorted(per_category.items())},
        errors=tuple(r for r in results if r.predicted == "error"),
    )


def format_confusion(m: Metrics) -> str:
    head = (
        f"{'expected / predicted':22s}" + "".join(f"{c:>13s}" for c in PREDICTED_COLUMNS) + f"{'total':>8s}"
    )
    lines = [head]
    for row in EXPECTED_ROWS:
        counts = m.confusion[row]
        lines.append(
            f"{row:22s}"
            + "".join(f"{counts.get(c, 0):13d}" for c in PREDICTED_COLUMNS)
            + f"{sum(counts.values()):8d}"
        )
    return "\n".join(lines)


def format_summary(m: Metrics) -> str:
    return (
        f"LEFT precision {m.precision:.4f} (floor {PRECISION_FLOOR}), recall {m.recall:.4f} (floor "
        f"{RECALL_FLOOR}); tp={m.tp} fp={m.fp} (at most {MAX_FALSE_LEFT}) fn={m.fn}; accuracy over all "
        f"outcomes {m.accuracy:.4f}"
    )


def format_categories(m: Metrics, results: Iterable[Result] = ()) -> str:
    """Accuracy per category, and LEFT precision / recall per category when ``results`` are given."""
    left: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        expected, predicted = r.scenario.expected.value, r.predicted
        counts = left[r.scenario.category]
        counts["tp"] += expected == predicted == "left"
        counts["fp"] += predicted == "left" and expected != "left"
        counts["fn"] += expected == "left" and predicted != "left"
    head = f"{'category':26s}{'correct':>9s}{'total':>7s}{'accuracy':>10s}"
    lines = [head + (f"{'LEFT tp/fp/fn':>16s}{'precision':>11s}{'recall':>8s}" if left else "")]
    for cat, (correct, total) in m.per_category.items():
        line = f"{cat:26s}{correct:9d}{total:7d}{correct / total:10.1%}"
        if left:
            c = left[cat]
            precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
            recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
            line += f"{c['tp']:>8d}/{c['fp']}/{c['fn']:<5d}{precision:>9.3f}{recall:>8.3f}"
        lines.append(line)
    return "\n".join(lines)


def misclassified(results: Iterable[Result]) -> list[Result]:
    return [r for r in results if not r.correct]


def format_miss(r: Result, *, evidence: bool = False) -> str:
    sc = r.scenario
    lookup = r.verdict.lookup if r.verdict else ""
    line = (
        f"{sc.id} [{sc.category}] expected={sc.expected.value} got={r.predicted} rule={r.rule}"
        f" lookup={lookup} now_at={r.verdict.current_employer if r.verdict else None!r} :: {sc.description}"
        f" ({sc.source})"
    )
    if evidence and r.verdict is not None:
        line += "\n    evidence: " + json.dumps(
            r.verdict.evidence, ensure_ascii=False, default=str, sort_keys=True
        )
    return line
