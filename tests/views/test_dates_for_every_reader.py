"""Dates for every reader: every time a message or view shows is a Slack date token
(`<!date^EPOCH^…|… UTC>`), which each reader sees in their own timezone; canvases, where Slack has no
date token, say UTC and each partner's own clock. A bare time or date anywhere else fails here."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from slack_sdk.models.blocks import Block

from bot.ids import Block as BlockId
from bot.ids import Modal
from bot.scheduler import run_job
from bot.views import learning_log, pairing
from bot.views import lunch as lunch_views
from bot.views.common import Message
from bot.views.text import slack_date, utc_text
from models import CareerStage, Pairing, PairingStatus, Person, Topic
from tests import payloads
from tests.factories import add_person
from tests.test_pairing_flow import checkin_value, click, jobs, pairing_value
from tests.views.test_lunch_views import HOST, lunch_session, someone, state

BOT = Path(__file__).resolve().parents[2] / "bot"
MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
BARE = re.compile(
    rf"\b\d{{1,2}}:\d{{2}}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}} {MONTH}\b|\b{MONTH} \d{{1,2}}\b"
)
TOKEN = re.compile(r"<!date\^(\d+)\^[^|>]*\|([^>]*)>")
# Keys of a payload that people do not read as text: input values, ids, metadata.
NOT_SHOWN = {"initial_date", "initial_time", "initial_value", "value", "private_metadata", "url", "metadata"}
NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


# A programme setting is a time of day in a named timezone ("rounds on Mondays at 09:00 UTC"), not a
# moment: it says its zone, and App Home shows the next round itself as a date token.
SETTING = re.compile(r"\b\d{1,2}:\d{2} (?:UTC|[A-Z][A-Za-z_]+/[A-Za-z_]+)\b")


def bare_times(text: str) -> list[str]:
    """Times and dates outside date tokens; a token's fallback must be the moment in UTC."""
    for epoch, fallback in TOKEN.findall(text):
        assert fallback == utc_text(datetime.fromtimestamp(int(epoch), UTC)), fallback
    return BARE.findall(SETTING.sub("", TOKEN.sub("", text)))


def shown_text(payload) -> list[str]:
    """The strings of a message, view or block list that people read."""
    if isinstance(payload, str):
        return [payload]
    if isinstance(payload, list):
        return [text for item in payload for text in shown_text(item)]
    if isinstance(payload, dict):
        return [text for key, value in payload.items() if key not in NOT_SHOWN for text in shown_text(value)]
    return []


def rendered(output) -> list[str]:
    if isinstance(output, Message):
        blocks = [block.to_dict() if isinstance(block, Block) else block for block in output.blocks]
        return [output.text, *shown_text(blocks)]
    return shown_text(output)


def test_slack_date_says_utc_in_its_fallback_whatever_the_moments_timezone():
    from zoneinfo import ZoneInfo

    moment = datetime(2026, 12, 8, 7, 0, tzinfo=ZoneInfo("America/New_York"))
    assert slack_date(moment) == "<!date^1796731200^{date_short_pretty} at {time}|Tue 08 Dec 2026 12:00 UTC>"
    assert bare_times(f"See you {slack_date(moment)}") == []
    assert bare_times("See you at 12:00 on 8 Dec") == ["12:00", "8 Dec"]


def test_no_date_is_formatted_by_hand_outside_the_helper():
    """One helper (bot/views/text.py) writes times; other modules format none for people."""
    allowed = {
        "views/text.py",  # the helper itself
        "views/report.py",  # render_text: the terminal report of `python -m bot report` and the demo
        "views/learning_log.py",  # a canvas: each partner's own clock next to UTC (no date tokens there)
    }
    found = []
    for path in [
        *(BOT / "views").glob("*.py"),
        *(BOT / "delivery").glob("*.py"),
        *(BOT / "listeners").glob("*.py"),
    ]:
        name = f"{path.parent.name}/{path.name}"
        if name in allowed:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"strftime\(|\{[^{}]*:%[a-zA-Z]", line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == []


def _pairing() -> Pairing:
    learner = Person(id=1, slack_user_id="U2", display_name="George", tz="America/New_York")
    teacher = Person(id=2, slack_user_id="U1", display_name="Priya", tz="Europe/London")
    return Pairing(
        id=7,
        team_id="T1",
        learner_id=1,
        teacher_id=2,
        learner=learner,
        teacher=teacher,
        topic=Topic(id=3, key="canva", display_name="Canva"),
        explanation="",
        status=PairingStatus.ACTIVE,
        expires_at=NOW + timedelta(days=5),
        checkin_due_at=NOW + timedelta(days=7),
        version=1,
    )


def test_pairing_and_lunch_builders_show_no_bare_time():
    match, lunch = _pairing(), lunch_session()
    outputs = [
        pairing.build_proposal(match, match.learner),
        pairing.build_intro(match, times=[NOW + timedelta(days=1), NOW + timedelta(days=2)]),
        pairing.build_reminder(match, match.learner),
        pairing.build_checkin(match, match.teacher),
        lunch_views.build_announcement(state()),
        lunch_views.build_wish_notice(state()),
        lunch_views.build_edit_notice(lunch, ["time"]),
        lunch_views.build_cancel_notice(lunch, reason="sorry"),
        lunch_views.build_promoted_notice(lunch),
        lunch_views.build_reminder(lunch, person=someone("UA1"), minutes=30, calendar_url="https://x"),
        lunch_views.build_host_request(lunch, proposer=HOST, expires_at=NOW),
    ]
    for output in outputs:
        for text in rendered(output):
            assert bare_times(text) == [], text


def test_canvas_markdown_says_utc_and_each_partners_clock():
    match = _pairing()
    markdown = "\n".join(
        [
            learning_log.build_opening(match, note="12:30 is my lunch", times=[NOW + timedelta(days=1)]),
            learning_log.checkin_line(match, at=NOW),
            learning_log.meeting_line(match, logged_by=match.learner, meetings=1, at=NOW),
            learning_log.learned_line(match, at=NOW),
            learning_log.closing_line(match, meetings=2, learned=True, at=NOW),
        ]
    )
    assert (
        "Wed 09 Dec 2026 12:00 UTC (07:00 America/New_York for ![](@U2), 12:00 Europe/London for ![](@U1))"
        in (markdown)
    )
    labelled = re.compile(
        r"\w{3} \d{2} \w{3} \d{4} \d{2}:\d{2} UTC|\d{2}:\d{2} [A-Z][A-Za-z_]+/[A-Za-z_]+ for "
    )
    people_words = "12:30 is my lunch"
    assert BARE.findall(labelled.sub("", markdown.replace(people_words, ""))) == []
    assert "<!date" not in markdown  # canvases do not render date tokens


def test_what_a_pairing_shows_end_to_end_has_no_bare_time(flipside):
    """A round, the accepts, the introduction, a check-in, the end, a snooze and everyone's App Home:
    every text Slack received."""
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", teaches="canva")
    add_person(flipside.db, "U2", stage=CareerStage.SENIOR, department="Law", learns="canva", tz="Asia/Tokyo")
    run_job("matching-round", jobs(flipside))
    for count, user in enumerate(("U2", "U1"), start=1):
        value, _ = pairing_value(flipside)
        click(flipside, "accept_pairing", user, value=value)
        flipside.replies(count)
    run_job("pairing-followups", jobs(flipside, datetime.now(UTC) + timedelta(days=8)))
    met = {BlockId.RATING: payloads.select("4")}
    flipside.submit(Modal.CHECKIN, met, user="U2", private_metadata=checkin_value(flipside, "U2"))
    snooze = {BlockId.SNOOZE_UNTIL: {"type": "datepicker", "selected_date": "2027-01-20"}}
    flipside.submit(Modal.SNOOZE, snooze, user="U1")
    for user in ("U1", "U2", "UADMIN"):
        flipside.event({"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"})
    flipside.work_done()
    shown = []
    for call in flipside.fake.calls:
        args = call.decoded
        if call.method.startswith("canvases") or call.method == "conversations.canvases.create":
            continue  # markdown, checked above
        for key in ("text", "blocks", "view", "initial_comment", "attachments"):
            if key in args:
                value = args[key]
                shown += shown_text(json.loads(value) if isinstance(value, str) and key != "text" else value)
    assert any("<!date^" in text for text in shown)  # the scan sees the dates it should
    assert any("Snoozed" in text for text in shown)
    assert [(text, bare_times(text)) for text in shown if bare_times(text)] == []
