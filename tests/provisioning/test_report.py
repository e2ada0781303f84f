"""ProvisioningReport rendering and serialisation (pure)."""

from __future__ import annotations

import json

from functions.dataverse.column import ColumnBinding, option_values
from functions.dataverse.provisioning import Action, Component, ProvisioningReport


def report(*actions: Action, dry_run: bool = False) -> ProvisioningReport:
    return ProvisioningReport(
        solution="DataValidation",
        publisher_prefix="dval",
        dry_run=dry_run,
        target_column="own",
        languages=(1033, 1031),
        components=[Component("view", f"View {i}", action, "contact") for i, action in enumerate(actions)],
        binding=ColumnBinding("dval_nolongeratcompany", option_values(41020)),
        requests={"read": 7, "function": 5, "create": 0, "retries": 2, "throttled": 1},
    )


def test_request_total_excludes_events() -> None:
    assert report().request_total == 12


def test_render_is_a_table_with_counts() -> None:
    text = report(Action.EXISTS, Action.CREATED).render()
    lines = text.splitlines()
    assert lines[0] == "Provisioning solution DataValidation (publisher prefix dval)"
    header = next(line for line in lines if line.startswith("KIND"))
    assert header.split() == ["KIND", "NAME", "ACTION", "DETAIL"]
    assert any(line.split()[-2:] == ["created", "contact"] for line in lines)
    assert "Flag column: contact.dval_nolongeratcompany (no_feedback=410200000" in text
    assert "Requests: 12 (function 5, read 7), 2 retries" in text


def test_dry_run_render_says_so() -> None:
    text = report(Action.WOULD_UPDATE, dry_run=True).render()
    assert "DRY RUN, nothing written" in text
    assert "Publish: would publish contact, opportunity" in text
    assert "Publish: nothing to publish" in report(Action.EXISTS, dry_run=True).render()


def test_to_dict_is_json_serialisable() -> None:
    data = json.loads(json.dumps(report(Action.UPDATED).to_dict()))
    assert data["components"] == [
        {"kind": "view", "name": "View 0", "action": "updated", "detail": "contact"}
    ]
    assert data["changed"] is True
    assert data["requests"]["total"] == 12
    assert data["binding"]["values"]["ignore"] == 410200002
