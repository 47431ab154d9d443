"""Learning-log canvases on Slack's side: create each pair's canvas once, append what is owed to it.

The lines are stored first (bot.services.learning_log, in the transaction of their event); a writer
claims a pair's log and makes its calls: `conversations.canvases.create` in the introduction's group
DM, or, where the conversation refuses one, `canvases.create` and `canvases.access.set` for both
people; then `canvases.edit` (`insert_at_end`) line by line. Never twice:
- before a create or an edit, the row says a call may be in flight (committed); after a crash the
  writer asks Slack what happened before calling again: a conversation holds one canvas
  (`channel_canvas_already_exists`, then `conversations.info` and `canvases.sections.lookup` find
  ours by its marker), and a line is looked up by its first words;
- a standalone canvas cannot be found again, so one whose create call went unanswered is given up;
- canvas calls skip slack_sdk's retry handlers: a 429 is put off to its Retry-After (the sweep job
  tries again) instead of holding a worker thread, and a create is never resent by a handler.
Refusals (scope, plan, admin settings) leave the pairing as it is without a canvas: the pair is told
once, and the admin's App Home says why.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.delivery.sender import Deliverer, process_owner
from bot.ids import Work
from bot.logs import error_code
from bot.services import learning_log, outbox, pairings, pulse
from bot.services.learning_log import PAIR_REASON_PREFIX, LogWork
from bot.services.pairings import Change, Outcome
from bot.views import learning_log as views
from bot.work import queue
from bot.work.queue import Job, task
from models import EntryStatus, LogStatus, Pairing, PairingMeeting, Person, Wish, WishStatus, utcnow

logger = logging.getLogger(__name__)

RETRY_DELAY = timedelta(minutes=1)
MAX_ATTEMPTS = 6
# Canvases are off for the app here (scope, plan, admin setting): skipped, the pairing goes on.
# Slack's codes, plus the short ones some of its docs and SDKs name.
UNAVAILABLE = frozenset(
    {
        "missing_scope",
        "not_allowed",
        "not_allowed_token_type",
        "canvas_disabled",
        "canvas_disabled_user_team",
        "team_tier_cannot_create_channel_canvases",
        "free_teams_cannot_create_non_tabbed_canvases",
        "free_teams_cannot_edit_standalone_canvases",
        "restricted_action",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
    }
)
# The conversation will not hold a canvas, though the workspace has them: a standalone one instead.
REFUSED_IN_CONVERSATION = frozenset(
    {
        "restricted_action",
        "channel_canvas_creation_failed",
        "canvas_tab_creation_failed",
        "free_team_canvas_tab_already_exists",
        "method_not_supported_for_channel_type",
        "not_in_channel",
        "channel_not_found",
    }
)


def notice_prefix(pairing_id: int) -> str:
    return f"pairing:{pairing_id}:learning-log:"


# --- queueing, in the transaction of the event ----------------------------------------------------


def start_log(session: Session, pairing: Pairing, *, times: list[datetime], now: datetime) -> None:
    """With the introduction: the pair's canvas is owed from now on."""
    note = learning_log.learner_note(session, pairing)
    learning_log.start(
        session,
        pairing=pairing,
        opening=views.build_opening(pairing, note=note, times=times),
        title=views.title(pairing),
        now=now,
    )


def queue_entry(
    session: Session, pairing: Pairing, text: str, *, key: str | None = None, now: datetime
) -> None:
    """`queue_learning_log_entry`, and a task for a worker to write it now (the sweep job would within
    a minute anyway)."""
    if learning_log.queue_learning_log_entry(session, pairing=pairing, text=text, key=key, now=now):
        queue.enqueue(
            session,
            team_id=pairing.team_id,
            kind=Work.LEARNING_LOG,
            body={"team_id": pairing.team_id},
            extras={"pairing_id": pairing.id},
            now=utcnow(),  # the worker's clock, not the event's (a job may run for a moment gone by)
        )


def record_checkin(session: Session, pairing: Pairing, *, now: datetime) -> None:
    due = int(pairing.checkin_due_at.timestamp()) if pairing.checkin_due_at else 0
    queue_entry(session, pairing, views.checkin_line(pairing, at=now), key=f"checkin:{due}", now=now)


def record_meeting(session: Session, change: Change, *, now: datetime) -> None:
    """A meeting just logged at a check-in (the ratings and notes stay private)."""
    if change.outcome not in (Outcome.LOGGED, Outcome.ENDED) or not change.pairing or not change.person:
        return
    meetings = pairings.meetings_count(session, change.pairing)
    halves = session.scalar(
        select(PairingMeeting.halves)
        .where(PairingMeeting.pairing_id == change.pairing.id)
        .order_by(PairingMeeting.id.desc())
        .limit(1)
    )
    line = views.meeting_line(
        change.pairing, logged_by=change.person, meetings=meetings, at=now, halves=halves
    )
    queue_entry(session, change.pairing, line, key=f"meeting:{meetings}", now=now)


def record_learned(session: Session, *, pairing_id: int, now: datetime) -> None:
    pairing = session.get(Pairing, pairing_id)
    if pairing is not None:
        queue_entry(session, pairing, views.learned_line(pairing, at=now), key="learned", now=now)


def record_pulse_notes(session: Session, *, pairing_id: int, now: datetime) -> None:
    """Pulse notes whose authors agreed to add them to the pair's log, each added once (a later
    edit of an already shared note is not added again)."""
    pairing = session.get(Pairing, pairing_id)
    if pairing is None:
        return
    for shared in pulse.notes_for_learning_log(session, pairing_id=pairing_id):
        author = session.get(Person, shared.person_id)
        if author is None:
            continue
        line = views.pulse_line(author=author, note=shared.note, at=shared.answered_at)
        key = f"pulse:{shared.person_id}:{int(shared.answered_at.timestamp())}"
        queue_entry(session, pairing, line, key=key, now=now)


def record_end(session: Session, pairing: Pairing, *, now: datetime) -> None:
    wish = session.get(Wish, pairing.wish_id) if pairing.wish_id else None
    line = views.closing_line(
        pairing,
        meetings=pairings.meetings_count(session, pairing),
        learned=wish is not None and wish.status == WishStatus.MET,
        at=now,
    )
    queue_entry(session, pairing, line, key="closing", now=now)


# --- writing, after the commit ----------------------------------------------------------------


class _Later(Exception):
    def __init__(self, delay: timedelta) -> None:
        super().__init__(delay)
        self.delay = delay


class _Unavailable(Exception):
    def __init__(self, reason: str, *, tell_pair: bool) -> None:
        super().__init__(reason)
        self.reason, self.tell_pair = reason, tell_pair


def _code(error: SlackApiError) -> str:
    return str(error.response.get("error") or error.response.status_code)


def _retry_after(error: SlackApiError) -> timedelta:
    headers = {str(key).lower(): value for key, value in (error.response.headers or {}).items()}
    try:
        return timedelta(seconds=max(1, int(headers.get("retry-after", 60))))
    except (TypeError, ValueError):
        return RETRY_DELAY


@dataclass
class CanvasWriter:
    database: Database
    client: WebClient
    owner: str = field(default_factory=process_owner)
    # Multi-workspace installs have one bot token per workspace (bot.slack.oauth.token_resolver).
    token_for: Callable[[str], str | None] | None = None

    def __post_init__(self) -> None:
        self.api = copy.copy(self.client)
        self.api.retry_handlers = []  # see the module docstring: no resend, no sleeping on a 429

    def _token(self, work: LogWork) -> dict[str, str]:
        token = self.token_for(work.team_id) if self.token_for else None
        return {"token": token} if token else {}

    def write(self, *, pairing_id: int) -> str:
        """Do what a pair's log is owed; returns what happened, for logs and tests."""
        with self.database.transaction() as session:
            work = learning_log.claim(session, pairing_id=pairing_id, owner=self.owner, now=utcnow())
            if work is None:
                return "nothing to do"  # none, given up, or another process holds it
            if work.channel_id is None and work.status != LogStatus.READY and not work.canvas_id:
                if learning_log.intro_failed(session, pairing_id=pairing_id):
                    learning_log.mark_unavailable(session, log_id=work.log_id, reason="pair:no_introduction")
                learning_log.release(session, log_id=work.log_id, owner=self.owner)
                return "waiting for the introduction"
        retry_at: datetime | None = None
        outcome = "written"
        try:
            canvas_id = work.canvas_id
            if work.status in (LogStatus.PENDING, LogStatus.CREATING):
                canvas_id = self._create(work)
            elif work.status == LogStatus.SHARING and canvas_id:
                self._share(work, canvas_id)
            assert canvas_id is not None
            self._append(work, canvas_id)
        except _Later as later:
            retry_at, outcome = utcnow() + later.delay, "later"
        except _Unavailable as refused:
            outcome = "unavailable"
            self._give_up(work, refused)
        except (URLError, OSError) as error:  # no answer: a create stays in doubt, looked into next time
            logger.warning(
                "learning log of pairing %s: no answer from Slack (%s)", pairing_id, type(error).__name__
            )
            retry_at, outcome = utcnow() + RETRY_DELAY, "later"
        finally:
            with self.database.transaction() as session:
                learning_log.release(session, log_id=work.log_id, owner=self.owner, retry_at=retry_at)
        Deliverer(self.database, self.client, token_for=self.token_for).deliver_due(
            team_id=work.team_id, key_prefix=notice_prefix(pairing_id), max_batches=1
        )
        return outcome

    def write_due(self, *, now: datetime) -> dict[str, int]:
        """The sweep: every log with work due (a retry after a 429, a line whose task was lost)."""
        with self.database.transaction() as session:
            due = learning_log.due_pairing_ids(session, now=now)
        counts: dict[str, int] = {}
        for pairing_id in due:
            try:
                outcome = self.write(pairing_id=pairing_id)
            except Exception:  # one pair's trouble spares the others
                logger.exception("learning log of pairing %s not written", pairing_id)
                outcome = "failed"
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    # --- creating

    def _create(self, work: LogWork) -> str:
        if work.status == LogStatus.CREATING and work.standalone:
            # A standalone canvas whose create went unanswered: it may exist, and nothing finds it.
            logger.warning(
                "learning log of pairing %s given up: its create call went unanswered", work.pairing_id
            )
            raise _Unavailable(PAIR_REASON_PREFIX + "unanswered_create", tell_pair=True)
        if work.attempts >= MAX_ATTEMPTS:
            raise _Unavailable(PAIR_REASON_PREFIX + "too_many_attempts", tell_pair=True)
        if not work.standalone:
            found = self._create_in_conversation(work)
            if found is not None:
                return found
        return self._create_standalone(work)

    def _create_in_conversation(self, work: LogWork) -> str | None:
        """The conversation's own canvas, or None when the conversation will not hold one."""
        with self.database.transaction() as session:
            learning_log.mark_creating(session, log_id=work.log_id, standalone=False)
        try:
            answer = self.api.conversations_canvases_create(
                channel_id=work.channel_id,
                title=work.title,
                document_content={"type": "markdown", "markdown": work.opening},
                **self._token(work),
            )
        except SlackApiError as error:
            code = _code(error)
            if code == "channel_canvas_already_exists":
                ours = self._ours_in_conversation(work)
                if ours is not None:
                    self._created(work, ours, shared=True)
                    return ours
            elif code not in REFUSED_IN_CONVERSATION:
                self._not_created(work)
                raise self._classify(error, work, creating=True) from None
            logger.info("learning log of pairing %s: not in the conversation (%s)", work.pairing_id, code)
            return None
        self._created(work, answer["canvas_id"], shared=True)
        return str(answer["canvas_id"])

    def _ours_in_conversation(self, work: LogWork) -> str | None:
        """After a crash: the conversation's canvas is ours if it carries this pairing's marker."""
        try:
            channel = self.api.conversations_info(channel=work.channel_id, **self._token(work))["channel"]
            canvas_id = ((channel.get("properties") or {}).get("canvas") or {}).get("file_id")
            if not canvas_id:
                return None
            found = self.api.canvases_sections_lookup(
                canvas_id=canvas_id,
                criteria={"contains_text": views.marker(work.pairing_id)},
                **self._token(work),
            )
        except SlackApiError as error:
            self._not_created(work)
            raise self._classify(error, work, creating=True) from None
        return str(canvas_id) if found.get("sections") else None

    def _create_standalone(self, work: LogWork) -> str:
        with self.database.transaction() as session:
            learning_log.mark_creating(session, log_id=work.log_id, standalone=True)
        try:
            answer = self.api.canvases_create(
                title=work.title,
                document_content={"type": "markdown", "markdown": work.opening},
                **self._token(work),
            )
        except SlackApiError as error:
            if error.response.status_code < 500:  # a 5xx may come after the canvas was made: in doubt
                self._not_created(work)
            raise self._classify(error, work, creating=True) from None
        canvas_id = str(answer["canvas_id"])
        self._created(work, canvas_id, shared=False)
        self._share(work, canvas_id)
        return canvas_id

    def _share(self, work: LogWork, canvas_id: str) -> None:
        """Both people may write in a standalone log (setting it again changes nothing)."""
        try:
            self.api.canvases_access_set(
                canvas_id=canvas_id, access_level="write", user_ids=list(work.user_ids), **self._token(work)
            )
        except SlackApiError as error:
            raise self._classify(error, work, creating=True) from None
        with self.database.transaction() as session:
            learning_log.mark_created(
                session, log_id=work.log_id, canvas_id=canvas_id, shared=True, now=utcnow()
            )
            if work.channel_id:
                self._tell_pair(session, work, "shared", views.build_shared_notice(work.topic))

    def _created(self, work: LogWork, canvas_id: str, *, shared: bool) -> None:
        with self.database.transaction() as session:
            learning_log.mark_created(
                session, log_id=work.log_id, canvas_id=canvas_id, shared=shared, now=utcnow()
            )

    def _not_created(self, work: LogWork) -> None:
        with self.database.transaction() as session:
            learning_log.mark_not_created(session, log_id=work.log_id)

    # --- appending

    def _append(self, work: LogWork, canvas_id: str) -> None:
        with self.database.transaction() as session:
            entries = learning_log.pending_entries(session, pairing_id=work.pairing_id)
        for entry in entries:
            if entry.in_doubt and self._already_there(work, canvas_id, entry.markdown):
                self._entry_done(entry.entry_id, EntryStatus.APPENDED)
                continue
            with self.database.transaction() as session:
                learning_log.mark_entry(session, entry_id=entry.entry_id, in_doubt=True)
            try:
                self.api.canvases_edit(
                    canvas_id=canvas_id,
                    changes=[
                        {
                            "operation": "insert_at_end",
                            "document_content": {"type": "markdown", "markdown": entry.markdown},
                        }
                    ],
                    **self._token(work),
                )
            except SlackApiError as error:
                with self.database.transaction() as session:
                    learning_log.mark_entry(session, entry_id=entry.entry_id, in_doubt=False)
                if _code(error) == "canvas_not_found":  # the pair deleted it: nothing more is written
                    raise _Unavailable(PAIR_REASON_PREFIX + "canvas_not_found", tell_pair=False) from None
                raise self._classify(error, work, creating=False) from None
            self._entry_done(entry.entry_id, EntryStatus.APPENDED)

    def _already_there(self, work: LogWork, canvas_id: str, markdown: str) -> bool:
        """After an unanswered edit: is the line in the canvas? When Slack cannot say, it counts as
        there: a line missing is better than a line twice."""
        words = views.probe(markdown)
        if not words:
            return True
        try:
            found = self.api.canvases_sections_lookup(
                canvas_id=canvas_id, criteria={"contains_text": words}, **self._token(work)
            )
        except SlackApiError as error:
            if _code(error) == "ratelimited":
                raise _Later(_retry_after(error)) from None
            logger.info("could not look for a learning-log line: %s", error_code(_code(error)))
            return True
        return bool(found.get("sections"))

    def _entry_done(self, entry_id: int, status: EntryStatus) -> None:
        with self.database.transaction() as session:
            learning_log.mark_entry_done(session, entry_id=entry_id, status=status, now=utcnow())

    # --- answers

    def _classify(self, error: SlackApiError, work: LogWork, *, creating: bool) -> Exception:
        code = _code(error)
        if error.response.status_code == 429 or code == "ratelimited":
            return _Later(_retry_after(error))
        if code in UNAVAILABLE:
            return _Unavailable(code, tell_pair=creating)
        if work.attempts + 1 >= MAX_ATTEMPTS and creating:
            return _Unavailable(PAIR_REASON_PREFIX + code, tell_pair=True)
        logger.warning(
            "learning log of pairing %s: %s; trying again later", work.pairing_id, error_code(code)
        )
        return _Later(RETRY_DELAY)

    def _give_up(self, work: LogWork, refused: _Unavailable) -> None:
        logger.info("learning log of pairing %s skipped: %s", work.pairing_id, error_code(refused.reason))
        with self.database.transaction() as session:
            learning_log.mark_unavailable(session, log_id=work.log_id, reason=refused.reason)
            if refused.tell_pair and work.channel_id:
                self._tell_pair(session, work, "unavailable", views.build_unavailable_notice(work.topic))

    def _tell_pair(self, session: Session, work: LogWork, what: str, message: Any) -> None:
        assert work.channel_id is not None
        outbox.enqueue(
            session,
            team_id=work.team_id,
            dedupe_key=notice_prefix(work.pairing_id) + what,
            kind=f"learning_log_{what}",
            recipient=work.channel_id,
            message=message,
            send_after=utcnow(),
        )


def write_learning_log_now(db: Database, client: WebClient, *, pairing_id: int) -> None:
    """Right after the introduction went out: the pair's canvas, without waiting for the sweep."""
    try:
        CanvasWriter(db, client).write(pairing_id=pairing_id)
    except Exception:  # the sweep job tries again; the introduction is out whatever happens here
        logger.exception("learning log of pairing %s not written", pairing_id)


@task(Work.LEARNING_LOG)
def write_learning_log(job: Job) -> None:
    CanvasWriter(job.context["db"], job.client).write(pairing_id=int(job.extras["pairing_id"]))
