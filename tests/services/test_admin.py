"""Admin rights, settings validation, the right to be forgotten, and the CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.cli.admin import AdminCommandError, export_command, report_text, resolve_team
from bot.config import ProgrammeDefaults
from bot.services import admin, export, figures, outbox, profiles
from bot.services.admin import SettingsField
from bot.services.figures import Period
from bot.services.programme import next_matching_round
from bot.views.common import Message
from models import (
    LunchFeedback,
    LunchSignup,
    OutboxMessage,
    OutboxStatus,
    Pairing,
    PairingBlock,
    PairingFeedback,
    PairingMeeting,
    PairingStatus,
    SignupStatus,
    Skill,
    Wish,
)
from tests.services.test_insights import NOW, Org, days_ago, history

VALID = {
    SettingsField.CHANNEL: "C0PROGRAMME",
    SettingsField.MATCHING_DAY: "wed",
    SettingsField.MATCHING_TIME: "8:30",
    SettingsField.MATCHING_TIMEZONE: "Europe/Paris",
    SettingsField.STRICT_REVERSE: True,
    SettingsField.PROPOSAL_EXPIRY: "7",
    SettingsField.PAIRING_LENGTH: "8 / 120",
    SettingsField.REMINDERS: "15, 1440 60",
    SettingsField.DEMAND_THRESHOLD: "4",
    SettingsField.REPEAT_WINDOW: "13",
}


@pytest.fixture
def session(database):
    with database.transaction() as session:
        yield session


@pytest.fixture
def org(session):
    return Org(session)


# --- rights -----------------------------------------------------------------------------------


def slack_user(user_id: str, team_id: str = "T1", **fields) -> dict:
    """A users.info `user`, as much of it as the admin check reads."""
    return {
        "id": user_id,
        "team_id": team_id,
        "deleted": False,
        "is_admin": False,
        "is_owner": False,
        **fields,
    }


def check(user: dict | None, *, team_id: str = "T1", user_id: str = "U1", person=None, ids=(), single=True):
    return admin.is_admin(
        user,
        team_id=team_id,
        slack_user_id=user_id,
        person=person,
        admin_user_ids=frozenset(ids),
        single_workspace=single,
    )


def test_admins_are_listed_for_their_workspace_or_slack_admins_of_it():
    assert check(slack_user("U1", is_admin=True))
    assert check(slack_user("U1", is_owner=True))
    assert not check(slack_user("U1"))
    assert check(slack_user("U1"), ids={"T1:U1"})
    assert not check(slack_user("U1"), ids={"T2:U1"})  # listed for another workspace only
    assert check(slack_user("U1"), ids={"U1"})  # a bare id: the single-workspace install
    assert not check(slack_user("U1"), ids={"U1"}, single=False)  # ...never with OAuth installs


def test_the_admin_check_refuses_whoever_slack_does_not_vouch_for():
    assert not check(None, ids={"U1"})  # Slack could not answer
    assert not check({}, ids={"U1"})  # user_not_found
    assert not check(slack_user("U2", is_admin=True))  # an answer about someone else
    assert not check(slack_user("U1", is_admin=True, deleted=True), ids={"U1"})
    assert not check(slack_user("U1", is_admin=True, is_bot=True))


def test_an_admin_of_another_workspace_is_not_an_admin_here():
    assert not check(slack_user("U1", team_id="T2", is_admin=True), ids={"U1", "T1:U1"})
    # Enterprise Grid: a member of several of the org's workspaces belongs to each of them.
    grid = slack_user(
        "U1", team_id="T2", is_admin=True, enterprise_user={"enterprise_id": "E1", "teams": ["T1", "T2"]}
    )
    assert check(grid)
    assert not check(grid, team_id="T3")


def test_forgotten_or_deactivated_people_are_not_admins(org):
    ada = org.person("U1")
    assert check(slack_user("U1", is_admin=True), person=ada)
    ada.deactivated_at = NOW
    assert not check(slack_user("U1", is_admin=True), person=ada, ids={"U1"})
    ada.deactivated_at, ada.forgotten_at = None, NOW
    assert not check(slack_user("U1", is_admin=True), person=ada, ids={"U1"})
    # Someone else's row never lends or takes rights: it is not the person in the payload.
    assert not check(slack_user("U1", is_admin=True), person=org.person("U2"))


def test_who_may_be_an_admin_is_a_cheap_first_look(org):
    listed, flagged, plain = org.person("U1"), org.person("U2"), org.person("U3")
    flagged.is_slack_admin = True
    ids = frozenset({f"{listed.team_id}:U1"})
    assert admin.may_be_admin(listed, admin_user_ids=ids, single_workspace=False)
    assert admin.may_be_admin(flagged, admin_user_ids=ids, single_workspace=False)
    assert not admin.may_be_admin(plain, admin_user_ids=ids, single_workspace=False)
    assert admin.may_be_admin(plain, admin_user_ids={"U3"}, single_workspace=True)


# --- settings ---------------------------------------------------------------------------------


def test_valid_settings_are_parsed_and_normalised():
    data = admin.parse_settings(dict(VALID))
    assert data == admin.SettingsInput(
        channel_id="C0PROGRAMME",
        matching_weekday=2,
        matching_time="08:30",
        matching_timezone="Europe/Paris",
        strict_reverse=True,
        proposal_expiry_days=7,
        pairing_max_sessions=8,
        pairing_max_days=120,
        lnl_reminder_minutes=(1440, 60, 15),
        lnl_demand_threshold=4,
        repeat_window_weeks=13,
    )
    assert admin.parse_settings({**VALID, SettingsField.CHANNEL: None}).channel_id is None
    # A form from before the repeat window existed leaves it as it is.
    assert admin.parse_settings({**VALID, SettingsField.REPEAT_WINDOW: None}).repeat_window_weeks is None


def test_every_bad_field_gets_its_own_inline_error():
    bad = {
        SettingsField.CHANNEL: "<!channel>",
        SettingsField.MATCHING_DAY: "someday",
        SettingsField.MATCHING_TIME: "25:00",
        SettingsField.MATCHING_TIMEZONE: "Mars/Olympus",
        SettingsField.STRICT_REVERSE: False,
        SettingsField.PROPOSAL_EXPIRY: "0",
        SettingsField.PAIRING_LENGTH: "six",
        SettingsField.REMINDERS: "15, 99999",
        SettingsField.DEMAND_THRESHOLD: "'; DROP TABLE people; --",
    }
    with pytest.raises(admin.SettingsError, match="Expiry must be between 1 and 60") as raised:
        admin.parse_settings(bad)
    assert set(raised.value.errors) == set(bad) - {SettingsField.STRICT_REVERSE}
    assert raised.value.errors[SettingsField.PROPOSAL_EXPIRY] == "Expiry must be between 1 and 60."
    assert "sessions then days" in raised.value.errors[SettingsField.PAIRING_LENGTH]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (SettingsField.PAIRING_LENGTH, "6 / 3", "Days must be between 7 and 730."),
        (SettingsField.PAIRING_LENGTH, "0 / 30", "Sessions must be between 1 and 100."),
        (SettingsField.REMINDERS, "", "Give at least one reminder, e.g. 1440, 15."),
        (SettingsField.REMINDERS, "1 2 3 4 5 6", "At most 5 reminders."),
        (SettingsField.MATCHING_TIMEZONE, "", "Use a timezone name like Europe/London or America/New_York."),
        (SettingsField.DEMAND_THRESHOLD, None, "The threshold must be a whole number."),
        (SettingsField.REPEAT_WINDOW, "600", "The repeat window must be between 0 and 520."),
        (SettingsField.REPEAT_WINDOW, "half a year", "The repeat window must be a whole number."),
        (SettingsField.SUMMARY_TO, "everyone", "Pick where the monthly summary goes."),
    ],
)
def test_edge_values_are_refused_with_a_clear_message(field, value, message):
    with pytest.raises(admin.SettingsError, match=re.escape(message)) as raised:
        admin.parse_settings({**VALID, field: value})
    assert raised.value.errors == {field: message}


def test_the_monthly_summary_goes_to_the_channel_only_if_there_is_one():
    assert (
        admin.parse_settings({**VALID, SettingsField.SUMMARY_TO: "channel"}).summary_destination == "channel"
    )
    assert admin.parse_settings(dict(VALID)).summary_destination == "admins"
    message = "Pick a programme channel above, or send it to the admins."
    with pytest.raises(admin.SettingsError, match=re.escape(message)):
        admin.parse_settings({**VALID, SettingsField.CHANNEL: None, SettingsField.SUMMARY_TO: "channel"})


def test_saved_settings_drive_the_next_round(session, org):
    admin.save_settings(
        session, team_id="T1", defaults=ProgrammeDefaults(), data=admin.parse_settings(dict(VALID))
    )
    stored = profiles.programme_settings(session, team_id="T1", defaults=ProgrammeDefaults())
    assert (stored.channel_id, stored.matching_weekday, stored.matching_time) == ("C0PROGRAMME", 2, "08:30")
    assert (stored.lnl_reminder_minutes, stored.strict_reverse) == ("1440,60,15", True)
    assert admin.reminder_minutes(stored) == (1440, 60, 15)
    assert stored.repeat_window_weeks == 13
    # Monday 23 Nov 12:00 UTC -> Wednesday 25 Nov 08:30 Paris (07:30 UTC)
    assert next_matching_round(stored, now=NOW).isoformat() == "2026-11-25T07:30:00+00:00"


def test_reminder_minutes_skip_junk_and_repeats(session):
    settings = profiles.programme_settings(session, team_id="T1", defaults=ProgrammeDefaults())
    assert admin.reminder_minutes(settings) == (1440, 15)
    settings.lnl_reminder_minutes = "60, junk,60,5,0,-3"
    assert admin.reminder_minutes(settings) == (60, 5)


# --- the right to be forgotten ----------------------------------------------------------------


def _figures(session):
    report = figures.programme_figures(session, team_id="T1", period=Period.ALL_TIME, as_of=NOW).current
    return (
        report.participants,
        report.pairs_proposed,
        report.pairs_accepted,
        report.pairs_met,
        report.pairs_established,
        report.lunch_seats,
        report.reverse_pairs,
    )


def test_forgetting_deletes_personal_data_and_keeps_the_figures(session, org):
    people = history(org)
    ana, ben, dee = people["ana"], people["ben"], people["dee"]
    org.wish(ana, "Spreadsheets", note="how to <!channel> pivot")
    pairing = session.scalars(select(Pairing).where(Pairing.learner_id == ben.id)).first()
    pairing.explanation = "Ana (early career, Marketing) can teach TikTok"
    org.meeting(pairing, at=days_ago(1), rating=3, by=ana, note="Ana's private note")
    session.add(PairingBlock(team_id="T1", person_id=ana.id, blocked_person_id=dee.id))
    session.add(PairingBlock(team_id="T1", person_id=dee.id, blocked_person_id=ana.id))
    future = org.lunch(dee, "Later", at=NOW + timedelta(days=2))
    org.signup(future, ana)
    for key, recipient in (("x:1", "UANA"), ("x:2", ["UBEN", "UANA"]), ("x:3", "UANAX")):
        outbox.enqueue(
            session,
            team_id="T1",
            dedupe_key=key,
            kind="test",
            recipient=recipient,
            message=Message("hi", []),
            send_after=NOW,
        )
    session.flush()
    before = _figures(session)

    ana.home_opened_at = ana.slack_synced_at = NOW - timedelta(days=1)
    outcome = admin.forget_person(session, person=ana, now=NOW)
    assert (ana.home_opened_at, ana.slack_synced_at) == (None, None)  # when she used Slack, too

    assert (outcome.wishes, outcome.skills, outcome.notes_cleared) == (2, 2, 1)
    # Her one open pairing (teaching Ben TikTok) ends; Ben is the partner to tell.
    assert [(p.slack_user_id, p.topic) for p in outcome.partners] == [("UBEN", "TikTok")]
    assert pairing.status == PairingStatus.CANCELLED and pairing.end_reason == "partner_forgotten"
    assert (ana.display_name, ana.slack_user_id, ana.forgotten_at) == (
        "Former colleague",
        f"forgotten-{ana.id}",
        NOW,
    )
    assert (ana.career_stage, ana.department, ana.profile_completed_at, ana.is_slack_admin) == (
        None,
        None,
        None,
        False,
    )
    assert profiles.get_person(session, team_id="T1", slack_user_id="UANA") is None
    count = lambda model, *where: session.scalar(select(func.count()).select_from(model).where(*where))  # noqa: E731
    assert count(Wish, Wish.person_id == ana.id) == count(Skill, Skill.person_id == ana.id) == 0
    assert count(PairingBlock) == 0
    notes = session.scalars(select(PairingMeeting.note).where(PairingMeeting.logged_by_id == ana.id)).all()
    assert notes == [None, None]  # her two logged sessions stay, without their notes
    assert session.scalars(select(PairingFeedback.note).where(PairingFeedback.person_id == ana.id)).all() == [
        None
    ]
    taught = session.scalars(select(Pairing).where(Pairing.teacher_id == ana.id)).all()
    assert taught and all(p.explanation == "" for p in taught)
    assert session.scalar(select(LunchSignup.status).where(LunchSignup.session_id == future.id)) == (
        SignupStatus.CANCELLED
    )
    unsent = dict(session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.status)).all())
    assert unsent == {
        "x:1": OutboxStatus.CANCELLED,
        "x:2": OutboxStatus.CANCELLED,
        "x:3": OutboxStatus.PENDING,
    }
    # Pairings, ratings and attendance stay: the history adds up as before (plus the new session).
    after = _figures(session)
    assert after == before
    assert session.scalar(select(func.count()).select_from(LunchFeedback)) == 2


def test_partners_are_told_once_through_the_outbox(session, org):
    people = history(org)
    outcome = admin.forget_person(session, person=people["ana"], now=NOW)
    for _ in range(2):  # a retried request queues nothing new
        admin.tell_partners(
            session,
            team_id="T1",
            outcome=outcome,
            message_for=lambda partner: Message(f"{partner.topic} ended", []),
            now=NOW,
        )
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "partner_left")).all()
    assert [(row.recipient, row.text) for row in rows] == [("UBEN", "TikTok ended")]


def test_a_forgotten_person_who_comes_back_starts_afresh(session, org):
    ana = history(org)["ana"]
    admin.forget_person(session, person=ana, now=NOW)
    again = profiles.get_or_create_person(
        session, team_id="T1", slack_user_id="UANA", defaults=ProgrammeDefaults()
    )
    assert again.id != ana.id and again.forgotten_at is None and not again.has_profile


# --- export -----------------------------------------------------------------------------------


def _rows(files, name):
    return list(csv.DictReader(io.StringIO(files[name].decode("utf-8-sig"))))


def test_export_has_stable_columns_and_one_row_per_record(session, org):
    people = history(org)
    org.meeting(
        session.scalars(select(Pairing)).first(), at=days_ago(1), rating=4, note='=HYPERLINK("http://x")'
    )
    files = export.export_csv(session, team_id="T1", as_of=NOW)
    assert list(files) == [
        "figures.csv",
        "pairings.csv",
        "pairing_sessions.csv",
        "lunch_sessions.csv",
        "lunch_signups.csv",
        "feedback.csv",
    ]
    header = files["pairings.csv"].decode("utf-8-sig").splitlines()[0]
    assert header == ",".join(export.PAIRINGS_COLUMNS)
    for name, columns in (
        ("pairing_sessions.csv", export.PAIRING_SESSIONS_COLUMNS),
        ("lunch_sessions.csv", export.LUNCH_SESSIONS_COLUMNS),
        ("lunch_signups.csv", export.LUNCH_SIGNUPS_COLUMNS),
        ("feedback.csv", export.FEEDBACK_COLUMNS),
    ):
        assert files[name].decode("utf-8-sig").splitlines()[0] == ",".join(columns)

    pairings = _rows(files, "pairings.csv")
    assert len(pairings) == 5
    oldest = pairings[0]
    assert (oldest["topic"], oldest["learner_slack_id"], oldest["teacher_slack_id"]) == (
        "Excel",
        "UANA",
        "UDEE",
    )
    assert (oldest["status"], oldest["sessions_logged"], oldest["average_rating"]) == (
        "completed",
        "1",
        "2.00",
    )
    assert oldest["proposed_at"] == days_ago(60).isoformat(timespec="seconds")
    assert oldest["learner_career_stage"] == "early" and oldest["cross_department"] == "yes"
    assert len(_rows(files, "pairing_sessions.csv")) == 5
    [cancelled, lunch, upcoming] = _rows(files, "lunch_sessions.csv")
    assert (lunch["title"], lunch["attending"], lunch["cancelled_signups"], lunch["average_rating"]) == (
        "TikTok for beginners",
        "2",
        "1",
        "4.50",
    )
    assert cancelled["status"] == "cancelled" and upcoming["attending"] == "0"
    assert [r["status"] for r in _rows(files, "lunch_signups.csv")] == ["attending", "attending", "cancelled"]
    feedback = _rows(files, "feedback.csv")
    assert [r["kind"] for r in feedback].count("lunch") == 2
    # A note that looks like a formula stays text in a spreadsheet.
    assert '\'=HYPERLINK("http://x")' in [r["note"] for r in feedback]
    assert people["ana"].slack_user_id in {r["person_slack_id"] for r in feedback}


def test_export_shows_forgotten_people_anonymously(session, org):
    people = history(org)
    admin.forget_person(session, person=people["ana"], now=NOW)
    files = export.export_csv(session, team_id="T1", as_of=NOW)
    names = {r["teacher_name"] for r in _rows(files, "pairings.csv")}
    assert "UANA" not in files["pairings.csv"].decode() and "Former colleague" in names


def test_export_of_another_workspace_is_empty(session, org):
    history(org)
    Org(session, team="T2")
    files = export.export_csv(session, team_id="T2", as_of=NOW)
    assert all(
        len(data.decode("utf-8-sig").splitlines()) == 1
        for name, data in files.items()
        if name != "figures.csv"
    )
    assert {row["value"] for row in _rows(files, "figures.csv")} <= {"0", ""}  # zeros, nothing to rate


# --- CLI helpers ------------------------------------------------------------------------------


def test_export_command_writes_the_files(database, tmp_path):
    with database.transaction() as session:
        history(Org(session))
    written = export_command(database, None, tmp_path / "out", as_of=NOW)
    assert sorted(p.name for p in written) == sorted(
        [
            "figures.csv",
            "pairings.csv",
            "pairing_sessions.csv",
            "lunch_sessions.csv",
            "lunch_signups.csv",
            "feedback.csv",
        ]
    )
    assert (tmp_path / "out" / "pairings.csv").read_bytes().startswith(b"\xef\xbb\xbfpairing_id,")
    with pytest.raises(AdminCommandError, match="unknown export format"):
        export_command(database, "T1", tmp_path, format="xlsx", as_of=NOW)


def test_report_text_and_team_resolution(session, org):
    history(org)
    text = report_text(session, "T1", "all_time", NOW)
    assert text.startswith("Flipside programme report: all time (up to 23 Nov 2026 12:00 UTC)")
    assert ["Pairs", "proposed", "5", "1", "▲"] in [line.split() for line in text.splitlines()]
    assert resolve_team(session, None) == "T1"
    Org(session, team="T2")
    with pytest.raises(AdminCommandError, match="installed: T1, T2"):
        resolve_team(session, None)
    with pytest.raises(AdminCommandError, match="unknown period"):
        report_text(session, "T1", "fortnight", NOW)
