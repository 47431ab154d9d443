"""Every id Slack echoes back to us: commands, modal callback ids, action ids and block ids.

Builders emit these and listeners register on them, so one constant keeps both sides in step.
"""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    TEACHME = "/teachme"
    CANTEACH = "/canteach"
    MENTORING = "/mentoring"
    LUNCHNLEARN = "/lunchnlearn"


class Modal(StrEnum):
    PROFILE = "profile_modal"
    WISHES = "wishes_modal"
    SKILLS = "skills_modal"
    DECLINE_REASON = "decline_reason_modal"
    CHECKIN = "checkin_modal"
    FEEDBACK = "pairing_feedback_modal"
    SNOOZE = "snooze_modal"
    BLOCKLIST = "blocklist_modal"
    FORGET_CONFIRM = "forget_confirm_modal"
    LUNCH_PROPOSE = "lunch_propose_modal"
    LUNCH_EDIT = "lunch_edit_modal"
    LUNCH_FEEDBACK = "lunch_feedback_modal"
    ADMIN_SETTINGS = "admin_settings_modal"
    ADMIN_RUN_CONFIRM = "admin_run_confirm_modal"
    ADMIN_FORGET = "admin_forget_modal"
    PULSE_NOTE = "pulse_note_modal"
    SHOW_ALL = "show_all_modal"


class Action(StrEnum):
    # Profile, wishes and skills
    OPEN_PROFILE = "open_profile"
    OPEN_WISHES = "open_wishes"
    OPEN_SKILLS = "open_skills"
    REMOVE_WISH = "remove_wish"
    REMOVE_SKILL = "remove_skill"
    # Pairing lifecycle
    ACCEPT_PAIRING = "accept_pairing"
    DECLINE_PAIRING = "decline_pairing"
    CHECKIN_MET = "checkin_met"
    CHECKIN_NOT_YET = "checkin_not_yet"
    CHECKIN_DONE = "checkin_done"
    MARK_LEARNED = "mark_learned"
    KEEP_ME_IN = "keep_me_in"
    ASK_ME_LATER = "ask_me_later"
    TAKE_ME_OUT = "take_me_out"
    # "Ask for this person": value "<topic id>:<teacher's person id>" (the /teachme reply, the
    # wishes modal and the assistant all emit it; bot/listeners/learning.py handles it).
    REQUEST_TEACHER = "request_teacher"
    # The relationship pulse: value "<pairing id>:<pulse number>" (the rating buttons add ":<1-5>")
    PULSE_RATE = "pulse_rate"
    PULSE_STOPPED = "pulse_stopped"
    PULSE_NOTE = "pulse_note"
    # Lunch 'n' Learn
    LUNCH_SIGN_UP = "lunch_sign_up"
    LUNCH_CANCEL_SIGNUP = "lunch_cancel_signup"
    LUNCH_HOST_MENU = "lunch_host_menu"
    LUNCH_FEEDBACK_RATE = "lunch_feedback_rate"
    LUNCH_PROPOSE_FROM_SUGGESTION = "lunch_propose_from_suggestion"
    OPEN_LUNCH_PROPOSE = "open_lunch_propose"
    LUNCH_HOST_ACCEPT = "lunch_host_accept"
    LUNCH_HOST_DECLINE = "lunch_host_decline"
    # App Home and admin
    SHOW_ALL = "show_all"
    ADMIN_OPEN_SETTINGS = "admin_open_settings"
    ADMIN_PREVIEW_ROUND = "admin_preview_round"
    ADMIN_RUN_ROUND = "admin_run_round"
    ADMIN_PERIOD = "admin_period"
    ADMIN_EXPORT = "admin_export"
    ADMIN_FORGET_PERSON = "admin_forget_person"


class Block(StrEnum):
    """Input block ids: Slack keys a view_submission's state and inline errors by these."""

    CAREER_STAGE = "career_stage"
    DEPARTMENT = "department"
    CAPACITY = "capacity"
    PAUSED = "paused"
    TOPICS = "topics"
    NOTE = "note"
    HALVES = "halves"  # which halves of an exchange a meeting covered
    LEVEL = "level"
    REASON = "reason"
    RATING = "rating"
    SNOOZE_UNTIL = "snooze_until"
    BLOCKED_USERS = "blocked_users"
    TITLE = "title"
    TOPIC = "topic"
    DESCRIPTION = "description"
    HOST = "host"
    DATE = "date"
    TIME = "time"
    DURATION = "duration"
    LOCATION = "location"
    SEATS = "seats"
    CHANNEL = "channel"
    MATCHING_DAY = "matching_day"
    MATCHING_TIME = "matching_time"
    MATCHING_TIMEZONE = "matching_timezone"
    STRICT_REVERSE = "strict_reverse"
    PROPOSAL_EXPIRY = "proposal_expiry"
    PAIRING_LENGTH = "pairing_length"
    REMINDERS = "reminders"
    DEMAND_THRESHOLD = "demand_threshold"
    REPEAT_WINDOW = "repeat_window"
    SUMMARY_TO = "summary_to"
    SHARE_WITH_LOG = "share_with_log"
    PERSON = "person"


INPUT_ACTION = "value"
"""The action_id of every input element: the block id already says which field it is."""


class Work(StrEnum):
    """Names of the tasks a worker runs (bot/work/); stored in pending_work.kind, so a name, once
    released, must keep meaning the same task."""

    TEACHME = "teachme.record"
    CANTEACH = "canteach.record"
    PROFILE = "profile.save"
    WISHES = "wishes.add"
    SKILLS = "skills.add"
    REMOVE_WISH = "wish.remove"
    REMOVE_SKILL = "skill.remove"
    PAIRING_ANSWER = "pairing.answer.show"
    CHECKIN = "pairing.checkin.show"
    FEEDBACK = "pairing.feedback.show"
    SEAT_CHANGE = "lunch.seat.show"
    LUNCH_ANNOUNCE = "lunch.announce"
    LUNCH_HOST_CHANGE = "lunch.host_change.show"
    LUNCH_CALENDAR = "lunch.calendar.send"
    LUNCH_HOST_ANSWER = "lunch.host_answer"
    ADMIN_HOME = "admin.home.show"
    ADMIN_PREVIEW = "admin.round.preview"
    ADMIN_RUN_ROUND = "admin.round.run"
    ADMIN_EXPORT = "admin.export"
    HOME_OPENED = "home.opened"
    USER_CHANGED = "user.changed"
    REQUEST_MENTOR_STEP = "workflow.request_mentor"
    LEARNING_LOG = "pairing.learning_log.write"


# Work that earlier versions stored for their worker and listeners now do right after their ack:
# still run when found stored (left by a version before the upgrade), never queued any more.
RETIRED_WORK = frozenset(
    {
        Work.CHECKIN,
        Work.FEEDBACK,
        Work.LUNCH_ANNOUNCE,
        Work.LUNCH_HOST_CHANGE,
        Work.LUNCH_CALENDAR,
    }
)
