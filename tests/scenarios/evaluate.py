"""Runs the verdict engine over the scenario set and scores it (for the test and benchmarks/scenarios.py).

The positive class is LEFT (the flag that gets written). Precision = flagged correctly / flagged; recall =
flagged correctly / labelled LEFT. A case whose ``decide`` call raises is recorded as an error and counts as
"not flagged" in the metrics (errors never produce a flag); the test reports errors separately.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from functions.matching.records import Outcome, Verdict
from tests.scenarios.loader import Scenario

PREDICTED_COLUMNS = ("left", "still_there", "unknown", "error")
EXPECTED_ROWS = ("left", "still_there", "unknown")
PRECISION_FLOOR = 0.99
RECALL_FLOOR = 0.90


@dataclass(frozen=True, slots=True)
class Result:
    scenario: Scenario
    verdict: Verdict | None
    error: str | None = None
    seconds: float = 0.0

    @property
    def predicted(self) -> str:
        if self.verdict is None:
            return "error"
        return Outcome(self.verdict.outcome).value

    @property
    def correct(self) -> bool:
        return self.predicted == self.scenario.expected.value

    @property
    def rule(self) -> str:
        return self.verdict.rule if self.verdict is not None else f"error: {self.error}"


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


def _default_config(decide: Callable[..., Verdict]) -> Any:
    param = inspect.signature(decide).parameters.get("config")
    if param is None or param.default is inspect.Parameter.empty:
        return None
    return param.default


def config_with_aliases(decide: Callable[..., Verdict], alias_table: Mapping[str, tuple[str, ...]]) -> Any:
    """The engine's default config with the scenario's alias table merged into ``config.aliases``.

    Keys are account names as a person would type them; they are normalised with the engine's
    ``normalise_company_name`` when it has one (the alias table is keyed by normalised name per CONTRACTS.md).
    """
    base = _default_config(decide)
    if base is None:
        raise TypeError("decide() has no default config to extend with the scenario's alias table")
    package = importlib.import_module("functions.matching")
    normalise = getattr(package, "normalise_company_name", None)
    merged: dict[str, tuple[str, ...]] = {
        k: tuple(v) for k, v in dict(getattr(base, "aliases", {}) or {}).items()
    }
    for name, others in alias_table.items():
        key = normalise(name) if normalise else name
        merged[key] = tuple(dict.fromkeys((*merged.get(key, ()), *others)))
    if dataclasses.is_dataclass(base):
        return dataclasses.replace(base, aliases=merged)
    if hasattr(base, "model_copy"):  # pydantic
        return base.model_copy(update={"aliases": merged})
    raise TypeError(f"cannot derive a config with aliases from {type(base).__name__}")


def run(scenarios: Iterable[Scenario], decide: Callable[..., Verdict]) -> list[Result]:
    results = []
    for sc in scenarios:
        kwargs: dict[str, Any] = {"today": sc.today}
        try:
            if sc.alias_table:
                kwargs["config"] = config_with_aliases(decide, sc.alias_table)
            start = time.perf_counter()
            verdict = decide(sc.contact, sc.account, sc.profile, **kwargs)
            elapsed = time.perf_counter() - start
        except Exception as exc:  # every failure is reported per case
            results.append(Result(sc, None, f"{type(exc).__name__}: {exc}"))
            continue
        results.append(Result(sc, verdict, None, elapsed))
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
        errors=tuple(r for r in results if r.verdict is None),
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
        f"{RECALL_FLOOR}); tp={m.tp} fp={m.fp} fn={m.fn}; accuracy over all outcomes {m.accuracy:.4f}"
    )


def format_categories(m: Metrics) -> str:
    lines = [f"{'category':22s}{'correct':>9s}{'total':>7s}{'accuracy':>10s}"]
    for cat, (correct, total) in m.per_category.items():
        lines.append(f"{cat:22s}{correct:9d}{total:7d}{correct / total:10.1%}")
    return "\n".join(lines)


def misclassified(results: Iterable[Result]) -> list[Result]:
    return [r for r in results if not r.correct]


def format_miss(r: Result, *, evidence: bool = False) -> str:
    sc = r.scenario
    line = (
        f"{sc.id} [{sc.category}] expected={sc.expected.value} got={r.predicted} rule={r.rule}"
        f" now_at={r.verdict.current_employer if r.verdict else None!r} :: {sc.description} ({sc.source})"
    )
    if evidence and r.verdict is not None:
        line += "\n    evidence: " + json.dumps(
            r.verdict.evidence, ensure_ascii=False, default=str, sort_keys=True
        )
    return line
