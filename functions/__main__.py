"""Command line: ``python -m functions <command>``.

Each command is one small ``run(args) -> exit code`` function plus an ``add_arguments(parser)``,
registered in ``COMMANDS``; a command that grows gets its own module and is registered here.

Exit codes: 0 success, 1 Dataverse (or provisioning) failure / the run failed, 2 bad usage or
configuration, 3 (scan) skipped because another run holds the lock.
Expected failures print one readable message to stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from functions.config import ConfigError, load_config, process_environment
from functions.dataverse import DataverseError
from functions.dataverse.provisioning import ProvisioningError, provision
from functions.pipeline import RunHooks, run_scan
from functions.pipeline.progress import Progress
from functions.preflight import CHECK_NAMES, config_error_report, run_preflight
from functions.services import Services
from functions.state.settings_store import StoredSettingsInvalid, load_effective

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _provision_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="only read; report what would be created or updated"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--publish",
        action="store_true",
        help="publish contact and opportunity even if nothing changed (after a failed publish)",
    )


def _provision(args: argparse.Namespace) -> int:
    """Create or repair the solution, columns and views in Dataverse, then print the report."""
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with Services(config) as services:
            report = provision(services.client, config.dataverse, dry_run=args.dry_run,
                               force_publish=args.publish)
    except ProvisioningError as exc:
        print(f"Provisioning stopped: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except DataverseError as exc:
        print(f"Dataverse error at {config.dataverse.url}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if args.json else report.render())
    return EXIT_OK


def _scan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="compute and record everything, write nothing")
    parser.add_argument("--json", action="store_true", help="print the run summary as JSON")
    parser.add_argument(
        "--force", action="store_true",
        help="run even if data validation is disabled (settings API / SCAN_ENABLED)",
    )
    parser.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS",
        help="wait up to SECONDS for a running scan to finish instead of skipping (default 0)",
    )


def _scan(args: argparse.Namespace) -> int:
    """Run the daily scan now, with a progress line on stderr and a summary at the end."""
    # The same settings the timer and the settings API use: stored ones win over app settings.
    try:
        with Services(load_config()) as services:
            effective = load_effective(services.config, services.tables)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoredSettingsInvalid as exc:  # names the fields, never their values
        print(f"Stored settings are invalid: {exc}; correct them with PATCH /api/settings", file=sys.stderr)
        return EXIT_USAGE
    progress = Progress()
    try:
        summary = run_scan(
            effective.config,
            hooks=RunHooks(on_progress=progress),
            dry_run=True if args.dry_run else effective.settings.dry_run,
            enabled=True if args.force else effective.settings.enabled,
            matching=effective.matching,
            trigger="cli",
            wait_for_lock_seconds=args.wait,
        )
    except ConfigError as exc:
        progress.finish()
        print(f"Configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    progress.finish()
    print(json.dumps(summary.to_dict(), indent=2, default=str) if args.json else summary.render())
    if summary.status == "skipped_locked":
        return EXIT_LOCKED
    if summary.status == "disabled" and not args.json:
        print('Enable it with PATCH /api/settings {"enabled": true} (SCAN_ENABLED=true before settings '
              "were first saved), or run with --force.", file=sys.stderr)
    return EXIT_FAILED if summary.status == "failed" else EXIT_OK


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=7071, help="port on 127.0.0.1 (default 7071)")
    parser.add_argument(
        "--key", help="function key for function-level routes (default: $LOCAL_FUNCTION_KEY, else random)"
    )
    parser.add_argument(
        "--no-queue-worker", action="store_true", help="do not run queue-triggered functions"
    )


def _serve(args: argparse.Namespace) -> int:
    """Serve function_app.app locally (HTTP triggers on loopback, queue triggers from storage)."""
    # Imported here: only `serve` hosts the Function App; the other commands never load azure.functions.
    import function_app
    from functions.localhost import LocalFunctionsHost, configure_logging

    configure_logging()
    key = args.key or process_environment().get("LOCAL_FUNCTION_KEY") or None
    try:
        host = LocalFunctionsHost(
            function_app.app, port=args.port, key=key, drain_queues=not args.no_queue_worker
        ).start()
    except (ValueError, OSError) as exc:
        print(f"Cannot serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # The one place the key is printed: whoever started the host needs it for curl.
    print(f"Functions host on {host.url}  function key: {host.key}", flush=True)
    for line in host.describe_routes():
        print(f"  {line}", flush=True)
    print("Ctrl-C stops it.", flush=True)
    host.serve_until_interrupted()
    return EXIT_OK


def _doctor_arguments(parser: argparse.ArgumentParser) -> None:
    def names(value: str) -> list[str]:
        chosen = [part.strip() for part in value.split(",") if part.strip()]
        unknown = sorted(set(chosen) - set(CHECK_NAMES))
        if unknown or not chosen:
            raise argparse.ArgumentTypeError(
                f"unknown check(s) {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(CHECK_NAMES)}"
            )
        return chosen

    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--only", type=names, metavar="CHECKS",
        help=f"comma-separated checks to run (their prerequisites run too): {', '.join(CHECK_NAMES)}",
    )


def _doctor(args: argparse.Namespace) -> int:
    """Preflight checklist: exit 0 all passed (warnings allowed), 1 a check failed, 2 config invalid."""
    try:
        config = load_config()
    except ConfigError as exc:
        report, code = config_error_report(f"Configuration error: {exc}"), EXIT_USAGE
    else:
        report = run_preflight(config, only=args.only)
        code = EXIT_OK if report.ok else EXIT_FAILED
    print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if args.json else report.render())
    return code


COMMANDS: tuple[Command, ...] = (
    Command(
        "provision",
        "create or repair the Dataverse solution, columns and views (idempotent)",
        _provision_arguments,
        _provision,
    ),
    Command(
        "scan",
        "run the scan now: find contacts who left their account's company and flag them",
        _scan_arguments,
        _scan,
    ),
    Command(
        "doctor",
        "check that everything a scan needs is in place, with a fix for each problem",
        _doctor_arguments,
        _doctor,
    ),
    Command(
        "serve",
        "serve the Function App locally on 127.0.0.1: HTTP routes (function key) and queue triggers",
        _serve_arguments,
        _serve,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m functions", description="Data Validation for Dynamics 365"
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command, return its exit code."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
