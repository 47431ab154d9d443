"""App Home and admin builders: Slack's limits hold for the largest person and admin, text is safe."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.ids import INPUT_ACTION, Action, Modal
from bot.ids import Block as BlockId
from bot.services import admin
from bot.services.admin import SettingsError, SettingsField
from bot.services.availability import WaitReason
from bot.services.figures import (
    Details,
    Figures,
    Period,
    ProgrammeFigures,
    RatedGroup,
    StagePairs,
    TopicDemand,
    Window,
)
from bot.services.insights import LunchLine, PairingLine, PersonOverview, SkillLine, WishLine
from bot.views import admin as admin_views
from bot.views.home import (
    ShowAll,
    build_forgotten_home,
    build_home,
    build_list_modal,
    build_show_all,
    pack_lines,
)
from models import Answer, CareerStage, PairingStatus, Person, ProgrammeSettings, SkillLevel

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NASTY = "<!channel> & <@U999> *bold* " + "x" * 40  # markup that must never ping or render


def person(**overrides) -> Person:
    values = dict(
        team_id="T1",
        slack_user_id="U1",
        display_name="Priya",
        career_stage=CareerStage.EARLY,
        department="<Marketing & Sales>",
        capacity=2,
        paused=False,
        profile_completed_at=NOW,
    )
    values.update(overrides)
    return Person(**values)


def pairing(i: int, **overrides) -> PairingLine:
    values = dict(
        id=i,
        topic=f"Topic {i} {NASTY}"[:80],
        learning=i % 2 == 0,
        partner_name=f"Partner {i}",
        partner_user_id=f"UP{i}",
        status=PairingStatus.ACTIVE if i % 3 else PairingStatus.PROPOSED,
        my_answer=Answer.PENDING,
        their_answer=Answer.PENDING,
        expires_at=NOW + timedelta(days=3),
        accepted_at=NOW - timedelta(days=10),
        checkin_due_at=NOW + timedelta(days=2),
        ends_by=NOW + timedelta(days=80),
        sessions=i,
    )
    values.update(overrides)
    return PairingLine(**values)


def busy_overview() -> PersonOverview:
    """20 wishes with the longest notes, 20 skills, 10 pairings, 10 Lunch 'n' Learns."""
    return PersonOverview(
        wishes=tuple(WishLine(f"Wish {i} " + "&" * 70, "<" * 300) for i in range(20)),
        skills=tuple(SkillLine(f"Skill {i} " + ">" * 70, SkillLevel.EXPERT) for i in range(20)),
        pairings=tuple(pairing(i) for i in range(10)),
        lunches=tuple(
            LunchLine(
                i, f"Lunch {i} {NASTY}", NOW + timedelta(days=i), "<https://evil|click>" * 20, i == 0, i == 1
            )
            for i in range(10)
        ),
    )


def programme() -> ProgrammeSettings:
    return ProgrammeSettings(
        team_id="T1",
        channel_id="C0PROGRAMME",
        matching_weekday=0,
        matching_time="09:00",
        matching_timezone="Europe/London",
        strict_reverse=True,
        proposal_expiry_days=5,
        checkin_after_days=7,
        pairing_max_sessions=6,
        pairing_max_days=90,
        lnl_reminder_minutes="1440,15",
        lnl_demand_threshold=3,
        repeat_window_weeks=26,
        summary_destination="channel",
    )


def window_figures(window: Window, scale: int) -> Figures:
    return Figures(
        window=window,
        participants=240 * scale,
        active_members=400,
        participants_active=200 * scale,
        learning_only=120 * scale,
        teaching_only=80 * scale,
        both=40 * scale,
        wishes_new=300,
        open_wishes=250 // scale,
        pairs_proposed=400,
        pairs_accepted=300 * scale,
        pairs_met=200,
        pairs_established=120 * scale,
        reverse_pairs=260,
        cross_department_pairs=350,
        exchange_pairs=40,
        median_wait_days=6.5 / scale,
        lunch_held=12,
        lunch_seats=180,
        lunch_rating=4.5,
        pulse_answers=90,
        pulse_rating=4.2 if scale == 1 else None,
        pulse_stopped=3,
        rounds=13,
    )


def big_report(departments: int = 60, unmet: int = 40) -> ProgrammeFigures:
    """Figures as large as a big programme's, names as long and nasty as people type them."""
    current = Window(NOW - timedelta(days=90), NOW)
    return ProgrammeFigures(
        team_id="T1",
        period=Period.DAYS_90,
        as_of=NOW,
        current=window_figures(current, 1),
        previous=window_figures(Window(NOW - timedelta(days=180), current.since), 2),
        details=Details(
            open_by_reason=tuple((reason, 50) for reason in WaitReason),
            top_open_topics=tuple(TopicDemand(f"Top {i} {NASTY}", 30 - i, i) for i in range(5)),
            top_new_topics=tuple(TopicDemand(f"New {i} {NASTY}", 20 - i, i) for i in range(5)),
            unteachable_topics=tuple(TopicDemand(f"Unmet {i} " + "<" * 70, 10, 0) for i in range(unmet)),
            best_topics=tuple(RatedGroup(f"Topic {i} {NASTY}", 4.9 - i / 10, 5) for i in range(3)),
            best_departments=tuple(
                RatedGroup(f"Department {i} " + "&" * 90, 4.5, 4) for i in range(min(departments, 3))
            ),
            who_teaches_whom=tuple(
                StagePairs(t.label, lrn.label, 10) for t in CareerStage for lrn in CareerStage
            ),
        ),
    )


def sections(view) -> list[str]:
    return [
        block["text"]["text"] for block in view["blocks"] if block["type"] == "section" and "text" in block
    ]


def all_text(view) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def action_ids(view) -> list[str]:
    ids = []
    for block in view["blocks"]:
        elements = block.get("elements", []) if block["type"] == "actions" else [block.get("accessory") or {}]
        ids += [element.get("action_id") for element in elements if element.get("action_id")]
    return ids


def assert_inside_slack_limits(view) -> None:
    assert len(view["blocks"]) <= 100
    assert all(len(text) <= 3000 for text in sections(view))
    assert len(view.get("private_metadata") or "") <= 3000
    for block in view["blocks"]:
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert len(element["text"]["text"]) <= 75


def assert_no_live_markup(view) -> None:
    text = all_text(view)
    assert "<!channel>" not in text and "<@U999>" not in text and "<https://evil" not in text


def test_the_busiest_person_seen_by_an_admin_stays_inside_slack_limits():
    blocks = admin_views.build_admin_section(big_report(), programme())
    view = build_home(
        person(), busy_overview(), next_round=NOW, admin_blocks=blocks, private_metadata={"period": "90_days"}
    )
    assert_inside_slack_limits(view)
    assert_no_live_markup(view)
    values = [
        element.get("value")
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    for expected in ("wishes", "skills", "pairings", "lunches", "unmet:90_days", "figures:90_days"):
        assert expected in values
    assert json.loads(view["private_metadata"]) == {"period": "90_days"}
    ids = action_ids(view)
    for action in (Action.OPEN_PROFILE, Action.OPEN_WISHES, Action.OPEN_SKILLS, Action.ADMIN_PERIOD):
        assert action in ids
    for action in (
        Action.ADMIN_OPEN_SETTINGS,
        Action.ADMIN_PREVIEW_ROUND,
        Action.ADMIN_RUN_ROUND,
        Action.ADMIN_EXPORT,
        Action.ADMIN_FORGET_PERSON,
    ):
        assert action in ids


def test_home_shows_a_few_of_each_list_and_says_how_many():
    view = build_home(person(), busy_overview(), next_round=NOW)
    text = "\n".join(sections(view))
    assert "*I want to learn* (20)" in text and "*I can teach* (20)" in text and "*My pairings* (10)" in text
    assert "Wish 0" in text and "Wish 19" not in text
    assert text.count("Learning from") + text.count("learning from") + text.count("teaching") >= 5
    assert "Show all 20 wishes" in all_text(view)
    assert Action.ADMIN_EXPORT not in action_ids(view)  # no admin section for everyone else


def test_a_new_person_is_asked_for_their_profile_and_sees_empty_lists():
    view = build_home(
        person(profile_completed_at=None, career_stage=None),
        PersonOverview((), (), (), ()),
        next_round=NOW,
    )
    text = "\n".join(sections(view))
    assert "Tell me a little about you" in text and "/teachme" in text and "None right now" in text
    assert "Show all" not in all_text(view)
    assert "<!date^1795435200^" in all_text(view)  # next round in the reader's own timezone


def test_pairing_states_say_what_to_do_next():
    waiting = pairing(3, status=PairingStatus.PROPOSED, my_answer=Answer.PENDING, learning=True)
    accepted = pairing(6, status=PairingStatus.PROPOSED, my_answer=Answer.ACCEPTED, learning=False)
    active = pairing(
        1, status=PairingStatus.ACTIVE, sessions=1, partner_user_id=None, partner_name="<Former>"
    )
    view = build_home(person(), PersonOverview((), (), (waiting, accepted, active), ()), next_round=NOW)
    text = "\n".join(sections(view))
    assert "learning from <@UP3>" in text and "accept or decline in my DM" in text
    assert "teaching <@UP6>" in text and "waiting for their answer" in text
    assert "teaching &lt;Former&gt;" in text and "1 session logged" in text and "check in on" in text


def test_paused_people_see_it_instead_of_the_next_round():
    view = build_home(person(paused=True), PersonOverview((), (), (), ()), next_round=NOW)
    assert "Paused" in all_text(view)


@pytest.mark.parametrize("kind", [ShowAll.WISHES, ShowAll.SKILLS, ShowAll.PAIRINGS, ShowAll.LUNCHES])
def test_show_all_lists_every_item_inside_the_limits(kind):
    view = build_show_all(kind, busy_overview())
    assert view["type"] == "modal" and view["callback_id"] == Modal.SHOW_ALL and "submit" not in view
    assert_inside_slack_limits(view)
    assert_no_live_markup(view)
    text = "\n".join(sections(view))
    expected = {"wishes": "Wish 19", "skills": "Skill 19", "pairings": "Topic 9", "lunches": "Lunch 9"}
    assert expected[kind.value] in text
    if kind == ShowAll.WISHES:
        assert "&lt;" * 300 in text  # the full note, escaped


def test_the_list_of_topics_nobody_teaches_stays_inside_the_limits_however_long():
    view = admin_views.build_admin_list(ShowAll.UNMET, big_report(unmet=2000))
    assert_inside_slack_limits(view)
    assert "export has everything" in all_text(view)


@pytest.mark.parametrize("kind", [ShowAll.FIGURES, ShowAll.DEPARTMENTS])
def test_every_figure_opens_with_its_trend(kind):
    view = admin_views.build_admin_list(kind, big_report())
    assert_inside_slack_limits(view)
    text = all_text(view)
    assert "*Exchange pairs*: 10%" in text and "*Pairs accepted*: 300 ▼ (was 600)" in text


def test_admin_section_shows_the_headline_figures_with_their_trend_and_the_period():
    blocks = [block.to_dict() for block in admin_views.build_admin_section(big_report(), programme())]
    text = json.dumps(blocks, ensure_ascii=False)
    assert "*Participants*\\n240 ▼ (was 480)" in text
    assert "*Open wishes*\\n250 ▲ (was 125)" in text
    assert "*Median wait for a partner*\\n6.5 days ▲ (was 3.2 days)" in text
    assert "*Pulse rating*\\n4.2/5" in text  # nothing to compare with: no arrow
    assert "*Reverse pairs*\\n65%" in text
    assert "its teachers are busy or away: 50" in text
    select = next(
        b["accessory"] for b in blocks if b.get("accessory", {}).get("action_id") == Action.ADMIN_PERIOD
    )
    assert select["initial_option"]["value"] == "90_days"
    assert "<#C0PROGRAMME>" in text and "Mondays at 09:00" in text and "strict reverse on" in text
    assert "monthly summary to the programme channel" in text


def test_the_settings_modal_round_trips_through_the_parser():
    settings = programme()
    view = admin_views.build_settings_modal(settings)
    assert view["callback_id"] == Modal.ADMIN_SETTINGS
    assert_inside_slack_limits(view)
    values = {}
    for block in view["blocks"]:
        element = block["element"]
        assert element["action_id"] == INPUT_ACTION
        initial = (
            element.get("initial_value")
            or element.get("initial_time")
            or element.get("initial_conversation")
            or (element.get("initial_option") or {}).get("value")
            or [o["value"] for o in element.get("initial_options") or []]
        )
        values[block["block_id"]] = initial
    assert set(values) == {
        BlockId.CHANNEL,
        BlockId.MATCHING_DAY,
        BlockId.MATCHING_TIME,
        BlockId.MATCHING_TIMEZONE,
        BlockId.STRICT_REVERSE,
        BlockId.PROPOSAL_EXPIRY,
        BlockId.PAIRING_LENGTH,
        BlockId.REMINDERS,
        BlockId.DEMAND_THRESHOLD,
        BlockId.REPEAT_WINDOW,
        BlockId.SUMMARY_TO,
    }
    assert values[BlockId.SUMMARY_TO] == "channel"
    assert set(admin_views.SETTINGS_BLOCKS) == set(SettingsField)
    assert set(admin_views.SETTINGS_BLOCKS.values()) == set(values)
    fields = {name: values[block] for name, block in admin_views.SETTINGS_BLOCKS.items()}
    fields[SettingsField.STRICT_REVERSE] = "strict" in fields[SettingsField.STRICT_REVERSE]
    parsed = admin.parse_settings(fields)
    assert (parsed.matching_weekday, parsed.matching_time, parsed.lnl_reminder_minutes) == (
        0,
        "09:00",
        (1440, 15),
    )
    assert (parsed.pairing_max_sessions, parsed.pairing_max_days, parsed.strict_reverse) == (6, 90, True)
    assert parsed.repeat_window_weeks == 26


def test_settings_errors_land_under_their_inputs():
    error = SettingsError({SettingsField.REMINDERS: "At most 5 reminders.", SettingsField.CHANNEL: "Pick."})
    assert admin_views.settings_errors(error) == {
        BlockId.REMINDERS: "At most 5 reminders.",
        BlockId.CHANNEL: "Pick.",
    }


def test_preview_modal_escapes_and_splits_a_long_dry_run():
    text = "\n".join(f"  <!here> pair {i} & explanation " + "y" * 100 for i in range(2500))
    view = admin_views.build_preview_modal(text)
    assert_inside_slack_limits(view)
    assert "<!here>" not in all_text(view) and "&lt;!here&gt;" in all_text(view)
    assert sections(view) and all(s.startswith("```") and s.endswith("```") for s in sections(view))
    assert "--dry-run" in all_text(view)


def test_confirmation_modals_say_what_happens():
    forget = admin_views.build_forget_confirm_modal(private_metadata='{"channel_id": "C1"}')
    assert forget["callback_id"] == Modal.FORGET_CONFIRM and forget["submit"]["text"] == "Forget me"
    assert "cannot be undone" in all_text(forget)
    admin_forget = admin_views.build_admin_forget_modal()
    assert admin_forget["blocks"][1]["block_id"] == BlockId.PERSON
    assert admin_forget["blocks"][1]["element"]["type"] == "users_select"
    assert admin_views.build_run_confirm_modal()["callback_id"] == Modal.ADMIN_RUN_CONFIRM
    assert "forgotten you" in all_text(build_forgotten_home())


def test_pack_lines_never_splits_a_line():
    lines = [f"line {i} " + "z" * 90 for i in range(100)]
    chunks = pack_lines(lines)
    assert chunks and all(len(chunk) <= 3000 for chunk in chunks)
    assert "\n".join(chunks).split("\n") == lines
    assert pack_lines(["q" * 5000]) == ["q" * 2999 + "…"]
    assert build_list_modal("Empty", [], empty="_none_")["blocks"][0]["text"]["text"] == "_none_"
