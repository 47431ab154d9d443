"""Events: people leaving Slack, the workspace uninstalling."""

from __future__ import annotations

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
    import time

    time.sleep(0.3)
    with flipside.db.transaction() as session:
        assert session.get(Workspace, "T1").uninstalled_at is None


def test_old_event_ids_are_pruned(flipside):
    from datetime import timedelta

    from models import ProcessedEvent, utcnow

    flipside.event({"type": "app_home_opened", "user": "U1", "tab": "home"}, event_id="EvOld")
    flipside.fake.wait_for("views.publish")
    later = utcnow() + timedelta(days=2)
    ctx = job_context(
        settings=flipside.settings, database=flipside.db, client=flipside.app.client, now=lambda: later
    )
    assert run_job("prune-events", ctx) == 1
    with flipside.db.transaction() as session:
        assert session.scalars(select(ProcessedEvent)).all() == []
