"""The one admin check, over signed HTTP: every admin action and form, replayed by someone who is not
an admin of this workspace, is refused with a friendly message and changes nothing; a real admin gets
through. The admin ids come from what the listeners register, so a new one cannot be missed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import ProgrammeDefaults
from bot.ids import Action, Block, Modal
from bot.services.lunch import proposing
from bot.views import lunch as lunch_views
from models import CareerStage, LunchSession, LunchStatus, Pairing, Person, ProgrammeSettings, utcnow
from tests import payloads
from tests.conftest import Flipside, make_settings, serve
from tests.factories import add_person, eventually
from tests.test_home_flow import SETTINGS, home_view

LISTENERS = Path(__file__).resolve().parent.parent / "bot" / "listeners"
# Admin actions outside bot/listeners/admin.py: the admin lists behind "Show all", and editing or
# cancelling someone else's Lunch 'n' Learn (the menu, and the form it opens).
ELSEWHERE = {Action.SHOW_ALL.value, Action.LUNCH_HOST_MENU.value, Modal.LUNCH_EDIT.value}
ADMIN_CALLS = ("views.open", "views.update", "views.publish", "files.getUploadURLExternal")
REFUSALS = ("Only programme admins", "or a programme admin can change it")


def registered_admin_ids() -> set[str]:
    text = (LISTENERS / "admin.py").read_text()
    actions = {Action[name].value for name in re.findall(r"app\.action\(\s*A\.(\w+)", text)}
    views = {Modal[name].value for name in re.findall(r"app\.view\(\s*Modal\.(\w+)", text)}
    assert actions and views
    return actions | views | ELSEWHERE


@pytest.fixture
def rights(fake_slack, database) -> Iterator[Flipside]:
    """U1 hosts a Lunch 'n' Learn and teaches George (U2); UADMIN administers T1; UGUEST administers
    workspace T2 (listed there, and a Slack admin there) and acts here, as a Slack Connect guest can."""
    fake_slack.add_user("UGUEST", team_id="T2", name="gus", real_name="Gus Guest", is_admin=True)
    settings = make_settings(
        fake_slack,
        database,
        admin_user_ids=frozenset({"UADMIN", "T2:UGUEST"}),
        programme=ProgrammeDefaults(channel_id="C0GENERAL"),
    )
    for user, stage, teaches, learns in (
        ("U1", CareerStage.EARLY, "social media", ""),
        ("U2", CareerStage.EXECUTIVE, "", "social media"),
    ):
        add_person(database, user, stage=stage, department=user, teaches=teaches, learns=learns)
    with database.transaction() as session:
        host = session.scalar(select(Person).where(Person.slack_user_id == "U1"))
        starts = (utcnow() + timedelta(days=10)).replace(microsecond=0)
        proposal = proposing.Proposal(
            title="Canva in 30 minutes",
            topic="Canva",
            description="Posters.",
            host_user_id="U1",
            starts_at=starts,
            duration_minutes=45,
            location="Kitchen",
            capacity=5,
        )
        proposing.create_session(session, proposal=proposal, proposer=host, host=host, now=utcnow())
    yield from serve(settings, database, fake_slack)


def lunch_of(app: Flipside) -> LunchSession:
    with app.db.transaction() as session:
        lunch = session.scalar(select(LunchSession))
        session.expunge(lunch)
        return lunch


def pairings(app: Flipside) -> int:
    with app.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Pairing)) or 0


def forgotten(app: Flipside, user: str) -> bool:
    with app.db.transaction() as session:
        return session.scalar(select(Person.id).where(Person.slack_user_id == user)) is None


def stored_channel(app: Flipside) -> str | None:
    with app.db.transaction() as session:
        return session.scalar(select(ProgrammeSettings.channel_id))


def opened(app: Flipside, callback_id: str) -> bool:
    return any(c.decoded["view"].get("callback_id") == callback_id for c in app.fake.calls_to("views.open"))


def click(action_id: str, value: str = "", action: dict | None = None) -> Callable:
    def send(app: Flipside, user: str):
        extra = {"action": {**action, "action_id": action_id}} if action else {}
        return app.action(action_id, value, user=user, view=home_view(), **extra)

    return send


def menu(verb: str) -> Callable:
    def send(app: Flipside, user: str):
        value = f"{verb}:{lunch_of(app).id}"
        action = {"type": "overflow", "action_id": Action.LUNCH_HOST_MENU, "block_id": "b",
                  "selected_option": {"value": value}, "action_ts": "1"}  # fmt: skip
        return app.action(Action.LUNCH_HOST_MENU, user=user, action=action)

    return send


def submit(callback_id: str, values: dict, metadata: Callable[[Flipside], str] = lambda app: "") -> Callable:
    def send(app: Flipside, user: str):
        return app.submit(callback_id, values, user=user, private_metadata=metadata(app))

    return send


def edit_metadata(app: Flipside) -> str:
    with app.db.transaction() as session:
        lunch = session.scalar(select(LunchSession))
        return lunch_views.build_edit_modal(lunch, tz="UTC", now=utcnow())["private_metadata"]


def cancel_metadata(app: Flipside) -> str:
    with app.db.transaction() as session:
        return lunch_views.build_cancel_modal(session.scalar(select(LunchSession)))["private_metadata"]


def edit_form(app: Flipside) -> dict:
    lunch = lunch_of(app)
    return {
        Block.TITLE: payloads.text_input("Renamed by someone else"),
        Block.TOPIC: payloads.text_input("Canva"),
        Block.DESCRIPTION: payloads.text_input("Posters."),
        Block.HOST: {"type": "users_select", "selected_user": "U1"},
        Block.DATE: {"type": "datepicker", "selected_date": lunch.starts_at.date().isoformat()},
        Block.TIME: {"type": "timepicker", "selected_time": f"{lunch.starts_at:%H:%M}", "timezone": "UTC"},
        Block.DURATION: {"type": "number_input", "value": "45"},
        Block.LOCATION: payloads.text_input("Kitchen"),
        Block.SEATS: {"type": "number_input", "value": "5"},
    }


def submit_edit(app: Flipside, user: str):
    return app.submit(Modal.LUNCH_EDIT, edit_form(app), user=user, private_metadata=edit_metadata(app))


@dataclass(frozen=True)
class Replay:
    id: str
    send: Callable[[Flipside, str], payloads.Reply]
    done: Callable[[Flipside], bool]  # what an admin's request visibly did


SELECT = {
    "type": "static_select",
    "block_id": "b",
    "selected_option": {"value": "all_time"},
    "action_ts": "1",
}
# In the order an admin would go: the round runs before someone is forgotten, the session is edited
# before it is cancelled.
REPLAYS = [
    Replay(
        Action.ADMIN_PERIOD, click(Action.ADMIN_PERIOD, action=SELECT), lambda a: a.fake.home_view("UADMIN")
    ),
    Replay(
        Action.ADMIN_OPEN_SETTINGS,
        click(Action.ADMIN_OPEN_SETTINGS),
        lambda a: opened(a, Modal.ADMIN_SETTINGS),
    ),
    Replay(
        Modal.ADMIN_SETTINGS, submit(Modal.ADMIN_SETTINGS, SETTINGS), lambda a: stored_channel(a) == "C0NEW"
    ),
    Replay(
        Action.ADMIN_PREVIEW_ROUND,
        click(Action.ADMIN_PREVIEW_ROUND),
        lambda a: a.fake.calls_to("views.update"),
    ),
    Replay(
        Action.ADMIN_RUN_ROUND, click(Action.ADMIN_RUN_ROUND), lambda a: opened(a, Modal.ADMIN_RUN_CONFIRM)
    ),
    Replay(Modal.ADMIN_RUN_CONFIRM, submit(Modal.ADMIN_RUN_CONFIRM, {}), lambda a: pairings(a) == 1),
    Replay(Action.ADMIN_EXPORT, click(Action.ADMIN_EXPORT), lambda a: a.fake.uploaded_files()),
    Replay(
        Action.ADMIN_FORGET_PERSON, click(Action.ADMIN_FORGET_PERSON), lambda a: opened(a, Modal.ADMIN_FORGET)
    ),
    Replay(
        Modal.ADMIN_FORGET,
        submit(Modal.ADMIN_FORGET, {Block.PERSON: {"type": "users_select", "selected_user": "U2"}}),
        lambda a: forgotten(a, "U2"),
    ),
    Replay(
        Action.SHOW_ALL, click(Action.SHOW_ALL, "departments:all_time"), lambda a: opened(a, Modal.SHOW_ALL)
    ),
    Replay(Action.LUNCH_HOST_MENU, menu("edit"), lambda a: opened(a, Modal.LUNCH_EDIT)),
    Replay(Modal.LUNCH_EDIT, submit_edit, lambda a: lunch_of(a).title == "Renamed by someone else"),
    Replay(Action.LUNCH_HOST_MENU, menu("cancel"), lambda a: len(a.fake.calls_to("views.open")) >= 2),
    Replay(
        Modal.LUNCH_EDIT,
        submit(Modal.LUNCH_EDIT, {Block.REASON: payloads.text_input("Sorry")}, cancel_metadata),
        lambda a: lunch_of(a).status == LunchStatus.CANCELLED,
    ),
]


def test_every_registered_admin_action_is_replayed_here():
    assert {replay.id for replay in REPLAYS} == registered_admin_ids()
    # ...and the check is called nowhere else this test does not look.
    callers = {
        path.name
        for path in LISTENERS.glob("*.py")
        if re.search(r"\badmin_(allowed|verdict)\(", path.read_text())
    }
    assert callers == {"rights.py", "admin.py", "home.py", "lunch_host.py"}


def refusals_to(app: Flipside, user: str) -> int:
    return sum(any(r in m["text"] for r in REFUSALS) for m in app.fake.messages(user))


@pytest.mark.parametrize("user", ["U3", "UGUEST"], ids=["not-an-admin", "admin-of-another-workspace"])
def test_admin_actions_are_refused_kindly_and_change_nothing(rights, user):
    before, channel = lunch_of(rights), stored_channel(rights)
    for replay in REPLAYS:
        told = refusals_to(rights, user)
        reply = replay.send(rights, user)
        assert reply.status == 200, replay.id
        rights.work_done()
        inline = reply.body and any(r in json.dumps(reply.json().get("errors")) for r in REFUSALS)
        assert inline or refusals_to(rights, user) == told + 1, f"{replay.id}: no friendly refusal"
    assert [c.method for c in rights.fake.calls if c.method in ADMIN_CALLS] == []
    assert rights.fake.uploaded_files() == []
    assert (stored_channel(rights), pairings(rights), forgotten(rights, "U2")) == (channel, 0, False)
    after = lunch_of(rights)
    assert (after.title, after.status, after.version) == (before.title, before.status, before.version)


def test_a_real_admin_gets_through_every_admin_action(rights):
    for replay in REPLAYS:
        assert replay.send(rights, "UADMIN").status == 200, replay.id
        rights.work_done()
        assert eventually(lambda replay=replay: replay.done(rights)), replay.id
    assert refusals_to(rights, "UADMIN") == 0


def test_the_home_of_an_admin_of_another_workspace_shows_no_admin_section(rights):
    event = {
        "type": "app_home_opened",
        "user": "UGUEST",
        "channel": "DUGUEST",
        "tab": "home",
        "event_ts": "1.0",
    }
    assert rights.event(event).status == 200
    rights.work_done()
    view = rights.fake.home_view("UGUEST")
    assert view is not None and Action.ADMIN_EXPORT not in json.dumps(view["blocks"])
    assert Action.ADMIN_EXPORT in json.dumps(open_home_of(rights, "UADMIN")["blocks"])


def open_home_of(app: Flipside, user: str) -> dict:
    event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home", "event_ts": "2.0"}
    assert app.event(event).status == 200
    app.work_done()
    return app.fake.home_view(user)


def test_a_listed_admin_deactivated_in_slack_is_refused(rights):
    rights.fake.add_user("UADMIN", name="ada", real_name="Ada Admin", is_admin=True, deleted=True)
    click(Action.ADMIN_OPEN_SETTINGS)(rights, "UADMIN")
    rights.work_done()
    assert not opened(rights, Modal.ADMIN_SETTINGS)


def users_info_for(app: Flipside, user: str) -> int:
    return sum(call.args.get("user") == user for call in app.fake.calls_to("users.info"))


def test_one_slack_answer_serves_a_burst_of_admin_clicks(rights):
    for _ in range(3):
        click(Action.ADMIN_OPEN_SETTINGS)(rights, "UADMIN")
    rights.work_done()
    assert len(rights.fake.calls_to("views.open")) == 3
    assert users_info_for(rights, "UADMIN") == 1


def test_with_no_caching_slack_is_asked_at_every_click(fake_slack, database):
    settings = make_settings(fake_slack, database, admin_check_seconds=0)
    for app in serve(settings, database, fake_slack):
        for _ in range(2):
            click(Action.ADMIN_OPEN_SETTINGS)(app, "UADMIN")
        app.work_done()
        assert users_info_for(app, "UADMIN") == 2


def test_when_slack_cannot_say_who_is_an_admin_nobody_is_and_they_are_told_why(rights):
    rights.fake.fail_next("users.info", error="fatal_error")
    click(Action.ADMIN_OPEN_SETTINGS)(rights, "UADMIN")
    rights.work_done()
    assert not opened(rights, Modal.ADMIN_SETTINGS)
    assert any("couldn't check your admin rights" in m["text"] for m in rights.fake.messages("UADMIN"))
    rights.fake.fail_next("users.info", error="fatal_error")
    form = rights.submit(Modal.ADMIN_SETTINGS, SETTINGS, user="UADMIN").json()
    assert "couldn't check your admin rights" in form["errors"][Block.CHANNEL]
    assert stored_channel(rights) != "C0NEW"
    click(Action.ADMIN_OPEN_SETTINGS)(rights, "UADMIN")  # a failure is not kept: Slack is asked again
    rights.work_done()
    assert opened(rights, Modal.ADMIN_SETTINGS)
