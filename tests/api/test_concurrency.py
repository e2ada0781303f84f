"""Optimistic concurrency on PATCH /api/settings (issue 5): the ETag of what the caller read must be
sent back in ``If-Match``; two callers racing with the same ETag -> exactly one wins, the other gets 412;
a stale ETag -> 412 and nothing changed; no ``If-Match`` -> 428."""

from __future__ import annotations

import threading
from typing import Any

import requests

from tests.api.conftest import Api

ROUNDS = 4  # the first round races two first saves (nothing stored yet), the others two updates


def _race(api: Api, etag: str, patches: list[dict[str, Any]]) -> list[requests.Response]:
    """Send the PATCHes at the same moment (a barrier), each on its own connection."""
    barrier = threading.Barrier(len(patches))
    results: list[requests.Response | BaseException | None] = [None] * len(patches)

    def send(i: int) -> None:
        session = requests.Session()
        try:
            barrier.wait(timeout=10)
            results[i] = session.patch(
                api.url("/api/settings"),
                json=patches[i],
                headers={"x-functions-key": api.key, "If-Match": etag,
                         "Content-Type": "application/merge-patch+json"},
                timeout=60,
            )
        except BaseException as exc:
            results[i] = exc
        finally:
            session.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(patches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    responses = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        assert result is not None
        api.responses.append(result)
        responses.append(result)
    return responses


def test_two_concurrent_patches_with_the_same_etag_one_wins(api: Api) -> None:
    for round_ in range(ROUNDS):
        before, etag = api.settings()
        days = (before["refresh_days"] % 1000) + 1
        patches = [{"dry_run": not before["dry_run"]}, {"refresh_days": days}]
        responses = _race(api, etag, patches)
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 412], (round_, [(r.status_code, r.text) for r in responses])

        winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
        loser = responses[1 - winner]
        assert loser.headers["Content-Type"].startswith("application/problem+json")
        assert loser.json()["status"] == 412

        after, new_etag = api.settings()
        assert new_etag != etag
        assert responses[winner].headers.get("ETag") == new_etag
        # the loser gets the ETag to retry with, whether it lost at If-Match or in the conditional save
        assert loser.headers.get("ETag") == new_etag, loser.headers
        # exactly one change: the winner's, nothing of the loser's
        expected = dict(before)
        expected.update(patches[winner])
        assert after == expected, (round_, before, after, patches[winner])


def test_each_race_is_audited_once(api: Api) -> None:
    before_audit = api.get("/api/audit").json()
    _before, etag = api.settings()
    _race(api, etag, [{"lookup_budget": 11}, {"lookup_budget": 22}])
    after_audit = api.get("/api/audit").json()
    assert _entries(after_audit) - _entries(before_audit) == 1, after_audit


def _entries(audit: Any) -> int:
    """Number of audit entries in the documented body {"entries": [...]}."""
    assert set(audit) == {"entries"}, audit
    assert isinstance(audit["entries"], list), audit
    return len(audit["entries"])


def test_concurrent_enable_and_run_requests(api: Api) -> None:
    """Two admins enable at once with the same ETag: one 202 (one run); the other 409 (it arrived while
    the first was enabling: no waiting) or 412 (it arrived after the first had saved). The settings
    change once. Later two run requests at once: one 202, one 409."""
    _before, etag = api.settings()
    responses = _race(api, etag, [{"enabled": True}, {"enabled": True}])
    seen = [(r.status_code, r.text[:400]) for r in responses]
    assert sorted(r.status_code for r in responses) in ([202, 409], [202, 412]), seen
    loser = next(r for r in responses if r.status_code != 202)
    assert loser.headers["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in loser.json()["errors"]] == (["enabled"] if loser.status_code == 409
                                                            else ["If-Match"]), loser.text
    winner = next(r for r in responses if r.status_code == 202)
    after, new_etag = api.settings()
    assert after["enabled"] is True
    assert new_etag == winner.headers["ETag"]
    assert new_etag.startswith('"v1-'), new_etag  # saved exactly once
    enables = [e for e in api.get("/api/audit").json()["entries"] if e["action"] == "settings.enable"]
    assert len(enables) == 1, enables
    run_id = winner.json()["run"]["run_id"]
    assert api.wait_for_run(run_id)["status"] == "succeeded"
    runs = api.get("/api/runs").json()
    assert [r["run_id"] for r in runs["runs"]] == [run_id], runs

    barrier = threading.Barrier(2)
    results: list[requests.Response | None] = [None, None]

    def post(i: int) -> None:
        with requests.Session() as session:
            barrier.wait(timeout=10)
            results[i] = session.post(api.url("/api/runs"), headers={"x-functions-key": api.key}, timeout=60)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert all(r is not None for r in results)
    statuses = sorted(r.status_code for r in results if r is not None)
    assert statuses == [202, 409], [(r.status_code, r.text) for r in results if r is not None]
    second = next(r for r in results if r is not None and r.status_code == 202).json()["run_id"]
    assert api.wait_for_run(second)["status"] == "succeeded"


def test_stale_if_match_is_412_and_changes_nothing(api: Api) -> None:
    _before, first_etag = api.settings()
    ok = api.patch("/api/settings", {"refresh_days": 40}, if_match=first_etag)
    assert ok.status_code == 200, ok.text
    current, etag = api.settings()
    assert current["refresh_days"] == 40

    stale = api.patch("/api/settings", {"refresh_days": 50, "dry_run": True}, if_match=first_etag)
    assert stale.status_code == 412, stale.text
    assert stale.headers["Content-Type"].startswith("application/problem+json")
    assert api.settings() == (current, etag)

    made_up = api.patch("/api/settings", {"refresh_days": 50}, if_match='"v999-deadbeef"')
    assert made_up.status_code == 412, made_up.text
    assert api.settings() == (current, etag)


def test_missing_if_match_is_428_and_changes_nothing(api: Api) -> None:
    before, etag = api.settings()
    response = api.patch("/api/settings", {"refresh_days": 77})
    assert response.status_code == 428, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 428
    assert api.settings() == (before, etag)


def test_if_match_star_applies(api: Api) -> None:
    before, etag = api.settings()
    response = api.patch("/api/settings", {"refresh_days": 12}, if_match="*")
    assert response.status_code == 200, response.text
    after, new_etag = api.settings()
    assert after == {**before, "refresh_days": 12}
    assert new_etag != etag
    # a PATCH that changes nothing is fine too, and the ETag is then still current
    same = api.patch("/api/settings", {}, if_match=new_etag)
    assert same.status_code == 200, same.text
    assert api.settings()[0] == after


def test_a_save_that_loses_the_race_answers_412_with_the_current_etag(api: Api) -> None:
    """The If-Match comparison passes, then another writer saves first: the conditional save fails, and
    the 412 carries the ETag of what that writer stored (read again), as the docs promise."""
    from functions.state.settings_store import SettingsStore

    _before, etag = api.settings()
    real_save = SettingsStore.save
    raced: list[bool] = []

    def save_after_another_writer(self: SettingsStore, new: Any, *, expected: Any, **kwargs: Any) -> Any:
        if not raced:
            raced.append(True)
            real_save(self, new.model_copy(update={"refresh_days": 99}), expected=expected, **kwargs)
        return real_save(self, new, expected=expected, **kwargs)

    SettingsStore.save = save_after_another_writer  # type: ignore[method-assign]
    try:
        lost = api.patch("/api/settings", {"dry_run": True}, if_match=etag)
    finally:
        SettingsStore.save = real_save  # type: ignore[method-assign]
    assert lost.status_code == 412, lost.text
    current, current_etag = api.settings()
    assert current["refresh_days"] == 99  # the other writer's document
    assert lost.headers.get("ETag") == current_etag
