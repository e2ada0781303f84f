"""Scores the scan on the labelled scenario set (tests/data/scenarios), through the scan's own path.

Each case becomes Web API rows read by the scan's converters, a JSONL snapshot read by the real file
source, and a batch decided by ``validate_batch`` (tests/scenarios/scan_path.py).

    python benchmarks/scenarios.py                 # confusion matrix, precision/recall, categories, misses
    python benchmarks/scenarios.py --evidence      # ... with each miss's evidence
    python benchmarks/scenarios.py --category moves --all   # every case of one category, right or wrong
    python benchmarks/scenarios.py --check         # exit 1 when a floor is missed (as the test does)

Labels follow product.md §4 (a careful human's reading), not the engine. The test
tests/scenarios/test_scenarios.py asserts the same floors inside ``make test``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.scenarios import evaluate
from tests.scenarios.loader import load_scenarios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--category", action="append", help="only these categories (repeatable)")
    parser.add_argument("--evidence", action="store_true", help="print the verdict evidence of each miss")
    parser.add_argument("--all", action="store_true", help="list every case, not only the misclassified")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when precision or recall misses its floor"
    )
    args = parser.parse_args(argv)

    scenarios = load_scenarios()
    if args.category:
        scenarios = [sc for sc in scenarios if sc.category in set(args.category)]
    results = evaluate.run(scenarios)
    metrics = evaluate.score(results)

    print(f"{len(scenarios)} scenarios\n")
    print(evaluate.format_confusion(metrics), end="\n\n")
    print(evaluate.format_summary(metrics), end="\n\n")
    print(evaluate.format_categories(metrics, results), end="\n\n")
    timings = [r.seconds for r in results if r.verdict is not None]
    if timings:
        print(
            f"per case (write the snapshot, load it, look up, decide): median "
            f"{statistics.median(timings) * 1e3:.2f} ms, max {max(timings) * 1e3:.2f} ms\n"
        )
    shown = results if args.all else evaluate.misclassified(results)
    expensive = [r for r in shown if r.scenario.expected.value == "still_there" and r.predicted == "left"]
    print(f"STILL_THERE classified LEFT (the expensive mistake): {len(expensive)}")
    print(f"{'cases' if args.all else 'misclassified'}: {len(shown)}")
    for r in sorted(
        shown, key=lambda r: (r.scenario.expected.value != "left" and r.predicted != "left", r.scenario.id)
    ):
        mark = "" if r.correct else "✗ "
        print(mark + evaluate.format_miss(r, evidence=args.evidence))
    if metrics.errors:
        print(f"\n{len(metrics.errors)} case(s) raised inside decide()")
    if args.check and (
        metrics.fp > evaluate.MAX_FALSE_LEFT
        or metrics.precision < evaluate.PRECISION_FLOOR
        or metrics.recall < evaluate.RECALL_FLOOR
        or metrics.errors
    ):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
