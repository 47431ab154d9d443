"""Lunch 'n' Learn builders: inside Slack's limits, people's words escaped, ids from bot.ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.ids import INPUT_ACTION, Action, Block, Modal
from bot.services.lunch.common import Outcome
from bot.services.lunch.demand import SuggestionPick, TopicDemand
from bot.services.lunch.feedback import FeedbackSummary
from bot.services.lunch.proposing import ProposalError, ProposalField
from bot.services.lunch.schedule import Lineup
from bot.services.lunch.seats import MySeat, SessionState
from bot.views import lunch as views
from bot.views.plaintext import blocks_to_text, mrkdwn_to_text
from bot.views.text import slack_date
from models import LunchSession, LunchStatus, LunchSuggestion, Person, Topic

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
START = datetime(2026, 3, 4, 12, 30, tzinfo=UTC)
NASTY = "<!channel> <@U999> & <https://evil.example|click>"


def someone(user_id: str, name: str = "", pk: int = 0) -> Person:
    return Person(
        id=pk or abs(hash(user_id)) % 10_000, slack_user_id=user_id, display_name=name or user_id, tz="UTC"
    )


HOST = someone("UHOST", "Priya Shah", 1)


def lunch_session(**overrides) -> LunchSession:
    values = dict(
        id=42,
        team_id="T1",
        host_id=HOST.id,
        host=HOST,
        topic=Topic(id=3, key="canva", display_name="Canva"),
        title="Canva in 30 minutes",
        description="Posters without a designer.",
        starts_at=START,
        duration_minutes=45,
        location="https://zoom.us/j/123",
        capacity=3,
        status=LunchStatus.SCHEDULED,
        version=1,
    )
    values.update(overrides)
    return LunchSession(**values)


def state(lunch: LunchSession | None = None, going: int = 1, waiting: int = 0) -> SessionState:
    lunch = lunch or lunch_session()
    attendees = [someone(f"UA{n}", f"Att{n} Person", 100 + n) for n in range(going)]
    waitlisted = [someone(f"UW{n}", f"Wait{n}", 200 + n) for n in range(waiting)]
    return SessionState(lunch, attendees, waitlisted)


def texts(blocks: list[dict]) -> str:
    return json.dumps(blocks)


def action_ids(blocks: list[dict]) -> set[str]:
    found = set()
    for block in blocks:
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if isinstance(element, dict) and element.get("action_id"):
                found.add(element["action_id"])
    return found


# ----------------------------------------------------------------------------- the modal


def test_proposal_modal_uses_the_hosts_timezone_and_the_shared_ids():
    view = views.build_proposal_modal(
        views.ModalValues(host_user_id="U1", tz="America/New_York"),
        now=NOW,
        private_metadata={"channel_id": "C1"},
    )
    assert view["callback_id"] == Modal.LUNCH_PROPOSE and len(view["title"]["text"]) <= 24
    blocks = {block["block_id"]: block for block in view["blocks"] if block.get("block_id")}
    assert {
        Block.TITLE,
        Block.TOPIC,
        Block.HOST,
        Block.DATE,
        Block.TIME,
        Block.DURATION,
        Block.LOCATION,
    } <= set(blocks)
    assert all(block["element"]["action_id"] == INPUT_ACTION for block in blocks.values())
    assert blocks[Block.TIME]["element"]["timezone"] == "America/New_York"
    assert blocks[Block.TIME]["element"]["initial_time"] == "12:30"
    assert blocks[Block.DATE]["element"]["initial_date"] == "2026-03-09"
    assert blocks[Block.HOST]["element"]["initial_user"] == "U1"
    assert blocks[Block.SEATS]["optional"] is True
    assert json.loads(view["private_metadata"]) == {"tz": "America/New_York", "channel_id": "C1"}


def test_every_proposal_error_lands_under_an_input_of_the_modal():
    view = views.build_proposal_modal(views.ModalValues(host_user_id="U1", tz="UTC"), now=NOW)
    inputs = {block["block_id"] for block in view["blocks"] if block["type"] == "input"}
    assert set(views.PROPOSAL_BLOCKS) == set(ProposalField)
    assert set(views.PROPOSAL_BLOCKS.values()) <= inputs
    error = ProposalError({ProposalField.SEATS: "Up to 500 seats.", ProposalField.TIME: "Pick a start time."})
    assert views.proposal_errors(error) == {Block.SEATS: "Up to 500 seats.", Block.TIME: "Pick a start time."}


def test_edit_modal_is_prefilled_on_the_hosts_wall_clock():
    view = views.build_edit_modal(lunch_session(capacity=None), tz="Asia/Kolkata", now=NOW)
    blocks = {block["block_id"]: block for block in view["blocks"] if block.get("block_id")}
    assert view["callback_id"] == Modal.LUNCH_EDIT
    assert blocks[Block.DATE]["element"]["initial_date"] == "2026-03-04"
    assert blocks[Block.TIME]["element"]["initial_time"] == "18:00"  # 12:30 UTC in India
    assert blocks[Block.TITLE]["element"]["initial_value"] == "Canva in 30 minutes"
    assert "initial_value" not in blocks[Block.SEATS]["element"]
    assert json.loads(view["private_metadata"])["session_id"] == 42


def test_cancel_modal_confirms_and_asks_for_an_optional_word():
    view = views.build_cancel_modal(lunch_session(title=NASTY))
    assert view["callback_id"] == Modal.LUNCH_EDIT
    assert json.loads(view["private_metadata"]) == {"session_id": 42, "action": "cancel"}
    assert "<!channel>" not in texts(view["blocks"])


# ----------------------------------------------------------------------------- the announcement


def test_announcement_shows_what_who_when_where_and_the_seats():
    message = views.build_announcement(state(going=2))
    text = blocks_to_text(message.blocks, users={"UHOST": "Priya Shah"})
    assert text.startswith(":bento: Lunch 'n' Learn\n") and "Canva in 30 minutes\nPosters without" in text
    assert "Wed 04 Mar 2026 12:30 UTC (45 min)" in text  # the date token's fallback
    assert "<!date^" in texts(message.blocks)  # readers see their own timezone
    assert "@Priya Shah" in text and "2 of 3 seats taken · 1 seat left" in text
    assert "Going: Att0 and Att1" in text
    assert "[Sign up] [Cancel my seat] [⋯]" in text
    assert action_ids(message.blocks) == {
        Action.LUNCH_SIGN_UP,
        Action.LUNCH_CANCEL_SIGNUP,
        Action.LUNCH_HOST_MENU,
    }


def test_full_session_offers_the_waitlist():
    message = views.build_announcement(state(going=3, waiting=2))
    text = blocks_to_text(message.blocks)
    assert "Full (3 of 3 seats taken) · 2 people on the waitlist" in text
    assert "[Join the waitlist]" in text


def test_people_s_words_are_escaped_everywhere():
    lunch = lunch_session(
        title=NASTY, description=NASTY, location=NASTY, topic=Topic(id=1, key="x", display_name=NASTY)
    )
    nasty_state = SessionState(lunch, [someone("UX", NASTY, 5)], [])
    outputs = [
        views.build_announcement(nasty_state),
        views.build_wish_notice(nasty_state),
        views.build_edit_notice(lunch, ["title"]),
        views.build_cancel_notice(lunch, reason=NASTY),
        views.build_promoted_notice(lunch),
        views.build_reminder(
            lunch, person=someone("UX"), minutes=15, calendar_url="https://c.example/?a=1&b=2"
        ),
        views.build_feedback_ask(lunch),
        views.build_host_summary(lunch, FeedbackSummary(1, 5.0, {5: 1}, [NASTY])),
        views.build_list(
            [MySeat(nasty_state, False, True, None)],
            hosted=[(lunch, FeedbackSummary(1, 5.0, {5: 1}, [NASTY]))],
        ),
        views.build_lineup(Lineup("2026-W10", [nasty_state], [TopicDemand(lunch.topic, 4, 0)])),
        views.build_announced(lunch, channel_id="C1", told=2),
        views.build_post_problem(lunch, channel_id="C1", error="not_in_channel"),
    ]
    for message in outputs:
        sent = message.text + texts(message.blocks)
        assert "<!channel>" not in sent and "<@U999>" not in sent and "<https://evil" not in sent, (
            message.text
        )


def test_longest_fields_stay_inside_slacks_limits():
    long = lunch_session(title="T" * 150, description="D" * 2000, location="L" * 500)
    message = views.build_announcement(state(long, going=3, waiting=40))
    assert message.blocks[0]["type"] == "header"  # a fixed header: people's words go in mrkdwn, escaped
    for block in message.blocks:
        if block["type"] == "section" and block.get("text"):
            assert len(block["text"]["text"]) <= 3000


def test_many_attendees_are_summarised():
    text = blocks_to_text(views.build_announcement(state(lunch_session(capacity=None), going=25)).blocks)
    assert "25 going · no seat limit" in text and "and 5 more" in text


def test_unsynced_people_are_not_shown_by_their_user_id():
    lunch = lunch_session()
    text = blocks_to_text(
        views.build_announcement(SessionState(lunch, [someone("UNEW", "UNEW", 9)], [])).blocks
    )
    assert "Going: a colleague" in text


def test_cancelled_announcement_has_no_buttons():
    message = views.build_announcement(state(lunch_session(status=LunchStatus.CANCELLED)))
    assert action_ids(message.blocks) == set()
    assert "Cancelled: Lunch 'n' Learn" in blocks_to_text(message.blocks)
    assert "Canva in 30 minutes" in blocks_to_text(message.blocks)


def test_session_menu_values_parse_back_and_hosts_see_edit_options():
    menu = views.session_menu(lunch_session(), manage=True).to_dict()
    values = [option["value"] for option in menu["options"]]
    assert values == ["ics:42", "edit:42", "cancel:42"]
    assert [views.parse_menu_value(value) for value in values] == [("ics", 42), ("edit", 42), ("cancel", 42)]
    assert views.parse_menu_value("edit:x") == ("edit", None)
    assert len(views.session_menu(lunch_session(), manage=False).to_dict()["options"]) == 1


def test_every_outcome_has_a_sentence():
    for outcome in Outcome:
        assert views.outcome_text(outcome, lunch_session(), position=2)
    assert "#2 on the" in views.outcome_text(Outcome.WAITLISTED, lunch_session(), position=2)
    assert views.outcome_text(Outcome.NOT_FOUND, None) == "I couldn't find that session any more."


# ----------------------------------------------------------------------------- DMs and lists


def test_reminder_has_the_link_the_calendar_and_a_way_out():
    lunch = lunch_session()
    message = views.build_reminder(
        lunch, person=someone("UA"), minutes=15, calendar_url="https://calendar.google.com/x?a=1&b=2"
    )
    raw = texts(message.blocks)
    assert "<https://calendar.google.com/x?a=1&amp;b=2|Add to Google Calendar>" in raw
    assert "Join: <https://zoom.us/j/123|" in raw
    assert action_ids(message.blocks) == {Action.LUNCH_CANCEL_SIGNUP, Action.LUNCH_HOST_MENU}
    host_copy = views.build_reminder(lunch, person=HOST, minutes=15, calendar_url="https://c.example")
    assert action_ids(host_copy.blocks) == {Action.LUNCH_HOST_MENU} and "You host" in host_copy.text


def test_feedback_question_is_one_click_and_its_values_parse_back():
    message = views.build_feedback_ask(lunch_session())
    [radio] = next(b for b in message.blocks if b["type"] == "actions")["elements"]
    assert radio["type"] == "radio_buttons" and radio["action_id"] == Action.LUNCH_FEEDBACK_RATE
    values = [option["value"] for option in radio["options"]]
    assert values == ["42:5", "42:4", "42:3", "42:2", "42:1"]
    assert views.parse_rating_value("42:4") == (42, 4)
    assert views.parse_rating_value("nope") == (None, None)
    modal = views.build_feedback_modal(lunch_session(), rating=4)
    assert modal["callback_id"] == Modal.LUNCH_FEEDBACK
    rating_block = next(b for b in modal["blocks"] if b.get("block_id") == Block.RATING)
    assert rating_block["element"]["initial_option"]["value"] == "4"


def test_list_marks_my_sign_ups_and_shows_hosts_their_feedback():
    going, waiting, hosting, other = (
        MySeat(state(lunch_session(id=1)), False, True, None),
        MySeat(state(lunch_session(id=2)), False, False, 3),
        MySeat(state(lunch_session(id=3)), True, False, None),
        MySeat(state(lunch_session(id=4)), False, False, None),
    )
    summary = FeedbackSummary(4, 4.5, {5: 2, 4: 2}, ["Loved the templates"])
    message = views.build_list([going, waiting, hosting, other], hosted=[(lunch_session(id=9), summary)])
    text = blocks_to_text(message.blocks)
    assert "You're going" in text and "#3 on the waitlist" in text and "You're hosting" in text
    assert text.count("[Cancel my seat]") == 2 and text.count("[Sign up]") == 1
    assert "4.5 average from 4 ratings" in text and "> Loved the templates" in text
    assert "3 with you in it" in message.text
    assert "Nothing planned yet" in blocks_to_text(views.build_list([]).blocks)


def test_lineup_stays_under_fifty_blocks_and_lists_demand():
    sessions = [state(lunch_session(id=n)) for n in range(12)]
    demand = [
        TopicDemand(Topic(id=n, key=f"t{n}", display_name=f"Topic {n}"), 5 - n, n % 2) for n in range(5)
    ]
    message = views.build_lineup(Lineup("2026-W10", sessions, demand))
    assert len(message.blocks) <= 50
    text = blocks_to_text(message.blocks)
    assert "This week's Lunch 'n' Learns" in text
    assert "Topic 0: 5 people want to learn it, nobody teaches it yet" in text
    assert "Topic 1: 4 people want to learn it, 1 can teach it" in text
    assert "Nothing planned this week" in blocks_to_text(views.build_lineup(Lineup("w", [], demand)).blocks)


def test_suggestion_button_opens_the_prefilled_proposal():
    pick = SuggestionPick(
        LunchSuggestion(id=11), Topic(id=3, key="canva", display_name="Canva & co"), someone("UT"), 4
    )
    message = views.build_suggestion(pick)
    [actions] = [b for b in message.blocks if b["type"] == "actions"]
    assert actions["elements"][0]["action_id"] == Action.LUNCH_PROPOSE_FROM_SUGGESTION
    assert actions["elements"][0]["value"] == "11"
    assert "4 colleagues want to learn *Canva &amp; co*" in message.text


def test_post_problems_say_what_to_do():
    lunch = lunch_session()
    private = views.build_post_problem(lunch, channel_id="CPRIV", error="not_in_channel").text
    assert "/invite @Flipside" in private and "<#CPRIV>" in private and "/lunchnlearn announce" in private
    assert "archived" in views.build_post_problem(lunch, channel_id="C", error="is_archived").text
    assert "admin" in views.build_post_problem(lunch, channel_id=None, error=None).text
    assert "within a few minutes" in views.build_post_problem(lunch, channel_id="C", error=None).text
    assert "admin" in views.build_no_channel().text


def test_host_summary_shows_the_spread_and_notes():
    summary = FeedbackSummary(3, 4.3, {5: 1, 4: 2, 3: 0, 2: 0, 1: 0}, ["More examples please"])
    text = blocks_to_text(views.build_host_summary(lunch_session(), summary).blocks)
    assert "4.3 average from 3 ratings" in text and "5★ 1 · 4★ 2" in text and "More examples please" in text


# ----------------------------------------------------------------------------- plain text


def test_mrkdwn_to_text_resolves_slack_markup():
    when = slack_date(START)
    assert mrkdwn_to_text(f"At {when}") == "At Wed 04 Mar 2026 12:30 UTC"
    assert mrkdwn_to_text("<https://x.example|the link> &amp; <https://y.example>") == (
        "the link (https://x.example) & https://y.example"
    )
    assert (
        mrkdwn_to_text("<@U1> in <#C1|general> says &lt;hi&gt; to <!here>")
        == "@U1 in #general says <hi> to @here"
    )
    assert mrkdwn_to_text("<@U1>", users={"U1": "Priya"}) == "@Priya"


def test_blocks_to_text_reads_like_the_message():
    blocks = views.build_proposal_modal(views.ModalValues(host_user_id="U1", tz="UTC"), now=NOW)["blocks"]
    text = blocks_to_text(blocks)
    assert "Title: ____" in text and "Start time: ____" in text
    assert blocks_to_text([{"type": "divider"}, {"type": "unknown"}]) == "-" * 40
    assert blocks_to_text([]) == ""
    assert "( ) 5: loved it" in blocks_to_text(views.build_feedback_ask(lunch_session()).blocks)


def test_when_uses_a_date_token_whose_fallback_is_utc():
    token = views.when(lunch_session(starts_at=START + timedelta(hours=1)))
    assert token.startswith("<!date^") and "|Wed 04 Mar 2026 13:30 UTC>" in token


def test_a_very_busy_week_stays_inside_slacks_block_limit():
    from datetime import UTC, datetime, timedelta

    from bot.views.lunch import build_lineup
    from models import LunchSession, LunchStatus, Person

    host = Person(id=1, team_id="T1", slack_user_id="U1", display_name="Priya")
    start = datetime(2026, 11, 23, 12, tzinfo=UTC)
    lunches = [
        LunchSession(
            id=n,
            team_id="T1",
            host=host,
            host_id=1,
            title=f"Session {n}",
            description="",
            starts_at=start + timedelta(hours=n),
            duration_minutes=30,
            location="Room",
            capacity=None,
            status=LunchStatus.SCHEDULED,
            version=1,
        )
        for n in range(60)
    ]
    lineup = Lineup(
        week="2026-W48",
        sessions=[SessionState(lunch=lunch, attendees=[], waitlisted=[]) for lunch in lunches],
        demand=[],
    )
    message = build_lineup(lineup)
    assert len(message.blocks) <= 50
    assert "20 more sessions" in str(message.blocks)
