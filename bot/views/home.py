"""App Home: where each person sees their profile, wishes, skills, pairings and Lunch 'n' Learns.

Long lists are cut to what fits (a few items, and never more than one section's 3000 characters)
with a "Show all" button that opens the whole list in a modal, so the home stays inside Slack's
100 blocks whatever a person has. Programme admins get their section (bot.views.admin) below.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock, HeaderBlock, PlainTextObject
from slack_sdk.models.views import View

from bot.ids import Action, Modal
from bot.services.insights import LunchLine, PairingLine, PersonOverview
from bot.views.common import MAX_VIEW_BLOCKS, SECTION_TEXT_LIMIT, button, context, modal, section
from bot.views.text import escape, plural, slack_date, truncate
from models import Answer, PairingStatus, Person

HOME_LIST_LIMIT = 5  # items of each list shown in App Home before "Show all"
HOME_NOTE_LIMIT = 100  # characters of a wish's note shown in App Home (the modal shows it all)
DATE = "{date_short_pretty}"


class ShowAll(enum.StrEnum):
    """What a "Show all" button opens; the value of Action.SHOW_ALL buttons (admin ones add
    ":<period>")."""

    WISHES = "wishes"
    SKILLS = "skills"
    PAIRINGS = "pairings"
    LUNCHES = "lunches"
    UNMET = "unmet"
    DEPARTMENTS = "departments"  # drawn by earlier versions; now opens every figure
    FIGURES = "figures"

    @property
    def for_admins(self) -> bool:
        return self in (ShowAll.UNMET, ShowAll.DEPARTMENTS, ShowAll.FIGURES)


# --- helpers shared with bot.views.admin ------------------------------------------------------


def pack_lines(lines: Sequence[str], *, limit: int = SECTION_TEXT_LIMIT) -> list[str]:
    """Join lines into as few texts of at most `limit` characters as possible, never splitting a
    line (cutting one could break an escape sequence or a <!date> token); an over-long single
    line is shortened on its own."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = truncate(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            candidate = line
        current = candidate
    if current:
        chunks.append(current)
    return chunks


def fitted(title: str, lines: Sequence[str], *, max_items: int) -> tuple[str, int]:
    """`title` then as many of the first `max_items` lines as fit one section; and how many did."""
    text, shown = title, 0
    for line in lines[:max_items]:
        if len(text) + 1 + len(line) > SECTION_TEXT_LIMIT:
            break
        text, shown = f"{text}\n{line}", shown + 1
    return text, shown


def show_all_button(label: str, value: str) -> ActionsBlock:
    return ActionsBlock(elements=[button(label, Action.SHOW_ALL, value)])


def build_list_modal(title: str, lines: Sequence[str], *, intro: str = "", empty: str = "") -> dict[str, Any]:
    """A read-only modal listing every line, packed into sections inside the 100-block limit."""
    blocks: list[Block] = [section(intro)] if intro else []
    room = MAX_VIEW_BLOCKS - len(blocks) - 1
    chunks = pack_lines(lines) if lines else [empty or "_Nothing here._"]
    blocks += [section(chunk) for chunk in chunks[:room]]
    if len(chunks) > room:
        blocks.append(context("The list goes on; an admin's CSV export has everything."))
    return modal(callback_id=Modal.SHOW_ALL, title=title, blocks=blocks, submit=None, close="Close")


def who(name: str, user_id: str | None) -> str:
    """A person as Slack shows them (a mention in a view never notifies), or a forgotten name."""
    return f"<@{user_id}>" if user_id else escape(name)


# --- lines of each list -----------------------------------------------------------------------


def wish_lines(overview: PersonOverview, *, note_limit: int | None = HOME_NOTE_LIMIT) -> list[str]:
    lines = []
    for wish in overview.wishes:
        note = wish.note if note_limit is None or not wish.note else truncate(wish.note, note_limit)
        lines.append(f"• {escape(wish.topic)}" + (f" — _{escape(note)}_" if note else ""))
    return lines


def skill_lines(overview: PersonOverview) -> list[str]:
    return [f"• {escape(skill.topic)} ({skill.level.label})" for skill in overview.skills]


def pairing_text(pairing: PairingLine) -> str:
    partner = who(pairing.partner_name, pairing.partner_user_id)
    role = f"learning from {partner}" if pairing.learning else f"teaching {partner}"
    return f"*{escape(pairing.topic)}* · {role}\n{_pairing_state(pairing)}"


def _pairing_state(pairing: PairingLine) -> str:
    expires = slack_date(pairing.expires_at, DATE)
    if pairing.status == PairingStatus.PROPOSED:
        if pairing.my_answer == Answer.PENDING:
            return f":hourglass_flowing_sand: Proposed. *Next step:* accept or decline in my DM by {expires}."
        return (
            ":white_check_mark: You said yes. *Next step:* waiting for their answer "
            f"(the proposal lasts until {expires})."
        )
    since = f" since {slack_date(pairing.accepted_at, DATE)}" if pairing.accepted_at else ""
    steps = ["meet in your group DM"]
    if pairing.checkin_due_at:
        steps.append(f"I'll check in on {slack_date(pairing.checkin_due_at, DATE)}")
    if pairing.ends_by:
        steps.append(f"it ends by {slack_date(pairing.ends_by, DATE)}")
    return (
        f":handshake: Active{since}, {plural(pairing.sessions, 'session')} logged. "
        f"*Next step:* {'; '.join(steps)}."
    )


def lunch_line(lunch: LunchLine) -> str:
    role = " · you host" if lunch.hosting else (" · waitlisted" if lunch.waitlisted else "")
    where = f" · {escape(truncate(lunch.location, 100))}" if lunch.location else ""
    return f"• *{escape(lunch.title)}* · {slack_date(lunch.starts_at)}{where}{role}"


# --- the home tab -----------------------------------------------------------------------------


def build_home(
    person: Person,
    overview: PersonOverview,
    *,
    next_round: datetime,
    admin_blocks: Sequence[Block] = (),
    private_metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="Flipside: reverse mentoring")),
        *_profile(person, next_round=next_round),
        DividerBlock(),
        *_listed(
            "*I want to learn*",
            wish_lines(overview),
            edit=button("Edit", Action.OPEN_WISHES),
            empty="_Nothing yet: try `/teachme social media`._",
            show_all=(ShowAll.WISHES, "wishes"),
        ),
        *_listed(
            "*I can teach*",
            skill_lines(overview),
            edit=button("Edit", Action.OPEN_SKILLS),
            empty="_Nothing yet: try `/canteach excel`._",
            show_all=(ShowAll.SKILLS, "skills"),
        ),
        DividerBlock(),
        *_pairings(overview, next_round=next_round),
        *_listed(
            "*My upcoming Lunch 'n' Learns*",
            [lunch_line(lunch) for lunch in overview.lunches],
            edit=button("Propose one", Action.OPEN_LUNCH_PROPOSE),
            empty="_None yet: sign up when one is announced, or host one yourself._",
            show_all=(ShowAll.LUNCHES, "sessions"),
        ),
        *admin_blocks,
    ]
    view = View(
        type="home",
        blocks=blocks,
        private_metadata=json.dumps(private_metadata) if private_metadata else None,
    )
    return view.to_dict()


def _profile(person: Person, *, next_round: datetime) -> list[Block]:
    if person.has_profile and person.career_stage:
        about = (
            f"*{person.career_stage.label.capitalize()}* · {escape(person.department or '-')} · "
            f"teaches up to {person.capacity} at once"
        )
        edit = button("Edit profile", Action.OPEN_PROFILE)
    else:
        about = "Tell me a little about you (career stage and team) so I can pair you well."
        edit = button("Complete my profile", Action.OPEN_PROFILE, style="primary")
    status = f"Next matching round: {slack_date(next_round)}"
    if person.paused:
        status = ":pause_button: Paused: no new pairings until you `/mentoring resume`."
    elif person.snoozed_until and person.snoozed_until > next_round:
        status = f":zzz: Snoozed until {slack_date(person.snoozed_until, DATE)}. " + status
    return [section(about, accessory=edit), context(status)]


def _listed(
    title: str, lines: list[str], *, edit: Any, empty: str, show_all: tuple[ShowAll, str]
) -> list[Block]:
    heading = f"{title} ({len(lines)})" if lines else title
    text, shown = fitted(heading, lines, max_items=HOME_LIST_LIMIT) if lines else (f"{title}\n{empty}", 0)
    blocks: list[Block] = [section(text, accessory=edit)]
    if shown < len(lines):
        kind, noun = show_all
        blocks.append(show_all_button(f"Show all {len(lines)} {noun}", kind.value))
    return blocks


def _pairings(overview: PersonOverview, *, next_round: datetime) -> list[Block]:
    if not overview.pairings:
        return [
            section(
                "*My pairings*\n_None right now._ Each matching round pairs open wishes with colleagues "
                f"who can teach them; the next one is {slack_date(next_round)}."
            )
        ]
    blocks: list[Block] = [section(f"*My pairings* ({len(overview.pairings)})")]
    blocks += [section(pairing_text(pairing)) for pairing in overview.pairings[:HOME_LIST_LIMIT]]
    if len(overview.pairings) > HOME_LIST_LIMIT:
        blocks.append(show_all_button(f"Show all {len(overview.pairings)} pairings", ShowAll.PAIRINGS.value))
    return blocks


def build_show_all(kind: ShowAll, overview: PersonOverview) -> dict[str, Any]:
    """The whole of one of a person's lists (admins' lists are in bot.views.admin)."""
    if kind == ShowAll.WISHES:
        return build_list_modal("What I want to learn", wish_lines(overview, note_limit=None))
    if kind == ShowAll.SKILLS:
        return build_list_modal("What I can teach", skill_lines(overview))
    if kind == ShowAll.PAIRINGS:
        return build_list_modal("My pairings", [pairing_text(p) + "\n" for p in overview.pairings])
    return build_list_modal("My Lunch 'n' Learns", [lunch_line(lunch) for lunch in overview.lunches])


def build_forgotten_home() -> dict[str, Any]:
    """What someone sees after /mentoring forget: nothing of theirs is left to show."""
    text = (
        ":wave: Flipside has forgotten you: your wishes, skills, profile and notes are deleted. "
        "Past pairings stay in the programme's figures as a former colleague, without your name.\n"
        "Changed your mind? `/teachme` or `/canteach` starts afresh."
    )
    return View(
        type="home",
        blocks=[HeaderBlock(text=PlainTextObject(text="Flipside: reverse mentoring")), section(text)],
    ).to_dict()
