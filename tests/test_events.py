"""Events: people leaving Slack, the workspace uninstalling."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.scheduler import job_context, run_job
from models import CareerStage, Pairing, Person, Workspace
from tests.factories import add_person, eventually


def test_a_person_deactivated_in_slack_is_paused_and_left_out_of_rounds(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", teaches="canva")
    add_person(flipside.db, "U2", stage=CareerStage.SENIOR, department="Law", learns="canva")
    user = {"id": "U1", "team_id": "T1", "deleted": True, "name": "priya", "profile": {}}
    assert flipside.event({"type": "user_change", "user": user}).status == 200

    def paused():
        with flipside.db.transaction() as session:
            person = session.scalars(select(Person).where(Person.slack_user_id == "U1")).one()
            return person.paused and person.deactivated_at is not None

    eventually(paused)
    ctx = job_context(settings=flipside.settings, database=flipside.db, client=flipside.app.client)
    run_job("matching-round", ctx)
    with flipside.db.transaction() as session:
        assert session.scalars(select(Pairing)).all() == []


def test_tokens_revoked_stops_jobs_for_that_workspace(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", teaches="canva")
    flipside.event({"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}})

    def stopped():
        with flipside.db.transaction() as session:
            return session.get(Workspace, "T1").uninstalled_at is not None

    eventually(stopped)
    ctx = job_context(settings=flipside.settings, database=flipside.db, client=flipside.app.client)
    assert run_job("pairing-followups", ctx) == {}


def test_user_tokens_revoked_changes_nothing(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", teaches="canva")
    assert flipside.event({"type": "tokens_revoked", "tokens": {"oauth": ["U1"]}}).status == 200
    flipside.work_done()
    with flipside.db.transaction() as session:
        assert session.get(Workspace, "T1").uninstalled_at is None


def test_old_event_ids_are_pruned(flipside):
    from datetime import timedelta

    from models import ProcessedEvent, utcnow

    flipside.event({"type": "app_home_opened", "user": "U1", "tab": "home"}, event_id="EvOld")
    flipside.fake.wait_for("views.publish")
    flipside.work_done()  # the work that stores the event id may still be finishing
    later = utcnow() + timedelta(days=flipside.settings.retention_days, minutes=1)
    ctx = job_context(
        settings=flipside.settings, database=flipside.db, client=flipside.app.client, now=lambda: later
    )
    assert run_job("prune-old-records", ctx)["events"] == 1
    with flipside.db.transaction() as session:
        assert session.scalars(select(ProcessedEvent)).all() == []


def test_an_uninstalled_workspace_is_purged_once_the_period_has_passed(flipside):
    from datetime import timedelta

    from models import utcnow

    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", teaches="canva")
    assert flipside.event({"type": "app_uninstalled"}).status == 200

    def uninstalled():
        with flipside.db.transaction() as session:
            return session.get(Workspace, "T1").uninstalled_at is not None

    eventually(uninstalled)
    flipside.work_done()

    def purge_at(days: int):
        later = utcnow() + timedelta(days=days)
        ctx = job_context(
            settings=flipside.settings, database=flipside.db, client=flipside.app.client, now=lambda: later
        )
        return run_job("purge-uninstalled", ctx)

    assert purge_at(flipside.settings.purge_uninstalled_after_days - 1) == {}
    assert list(purge_at(flipside.settings.purge_uninstalled_after_days + 1)) == ["T1"]
    with flipside.db.transaction() as session:
        assert session.get(Workspace, "T1") is None
        assert session.scalars(select(Person)).all() == []


def test_a_user_change_and_slacks_retry_of_it_are_applied_once(flipside):
    from models import ProcessedEvent

    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", teaches="canva")
    user = {"id": "U1", "team_id": "T1", "deleted": True, "name": "priya", "profile": {}}
    first = flipside.event({"type": "user_change", "user": user}, event_id="Ev0CHANGE")
    retry = flipside.event(
        {"type": "user_change", "user": user},
        event_id="Ev0CHANGE",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert first.status == retry.status == 200
    flipside.work_done()
    with flipside.db.transaction() as session:
        person = session.scalars(select(Person).where(Person.slack_user_id == "U1")).one()
        assert person.paused and person.deactivated_at is not None
        assert [row.event_id for row in session.scalars(select(ProcessedEvent))] == ["Ev0CHANGE"]


def test_an_older_user_change_never_overwrites_a_newer_one(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", teaches="canva")
    for name, updated in (("Priya Newer", 1_900_000_000), ("Priya Older", 1_800_000_000)):  # out of order
        user = {
            "id": "U1",
            "team_id": "T1",
            "name": "p",
            "updated": updated,
            "profile": {"display_name": name},
        }
        assert flipside.event({"type": "user_change", "user": user}).status == 200
    flipside.work_done()
    with flipside.db.transaction() as session:
        person = session.scalars(select(Person).where(Person.slack_user_id == "U1")).one()
        assert person.display_name == "Priya Newer"


@pytest.mark.expect_errors(r"listener failed \(unexpected error\) for a event_callback request")
def test_a_retried_event_whose_first_handling_failed_is_handled_by_the_retry(flipside, monkeypatch):
    from bot.services import profiles

    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", teaches="canva")
    real_apply = profiles.apply_slack_user
    calls = []

    def fail_once(person, user, *, now):
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("the database went away mid-task")
        real_apply(person, user, now=now)

    monkeypatch.setattr(profiles, "apply_slack_user", fail_once)
    user = {"id": "U1", "team_id": "T1", "deleted": True, "name": "priya", "profile": {}}
    flipside.event({"type": "user_change", "user": user}, event_id="Ev0FLAKY")
    flipside.work_done()
    assert len(calls) == 1
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    flipside.event({"type": "user_change", "user": user}, event_id="Ev0FLAKY", headers=retry)
    flipside.work_done()
    assert len(calls) == 2  # the failed first run did not mark the event done
    with flipside.db.transaction() as session:
        assert session.scalars(select(Person).where(Person.slack_user_id == "U1")).one().paused
