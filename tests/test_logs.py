"""LOG_LEVEL is applied, and no log line carries a token, the signing secret or people's text."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.config import ProgrammeDefaults
from bot.ids import Action, Block, Modal
from bot.logs import OneLineFormatter, apply_levels, untrusted
from bot.scheduler import job_context, run_job
from models import Answer, CareerStage, LunchSession, LunchSignup, Pairing, utcnow
from tests import payloads
from tests.conftest import SIGNING_SECRET, make_settings, serve
from tests.factories import add_person, eventually

TOPIC = "Zanzibar Quilting"
NOTE = "my manager Velmaworth keeps asking"
DEPARTMENT = "Secret Ostrich Unit"
LUNCH_TITLE = "Heliotrope lunch"


class Everything(logging.Handler):
    """Every record of every logger, formatted as the production formatter would write it."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Everything]:
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in ("", "bot")}
    handler = Everything()
    root.addHandler(handler)
    apply_levels("DEBUG")  # the most a LOG_LEVEL can let through
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def test_log_level_reaches_our_code_and_libraries_never_log_below_info():
    saved = {name: logging.getLogger(name).level for name in ("", "bot")}
    try:
        apply_levels("DEBUG")
        assert logging.getLogger("bot.work").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("slack_sdk.web").isEnabledFor(logging.DEBUG)
        apply_levels("WARNING")
        assert not logging.getLogger("bot.work").isEnabledFor(logging.INFO)
        assert not logging.getLogger("slack_bolt.App").isEnabledFor(logging.INFO)
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def test_a_log_line_cannot_be_forged_with_a_newline():
    record = logging.LogRecord(
        "bot.x", logging.WARNING, __file__, 1, "failed: %s", ("a\nERROR bot: fake",), None
    )
    line = OneLineFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert "\n" not in line and "\\n" in line
    assert untrusted("x\r\n" + "y" * 500).startswith("'x\\r\\n") and len(untrusted("y" * 500)) < 210


@pytest.mark.expect_errors(r"listener failed \(unexpected error\)", reply=True)
def test_no_token_secret_or_typed_text_is_logged_through_a_whole_flow(
    captured, database, fake_slack, monkeypatch
):
    settings = make_settings(fake_slack, database, programme=ProgrammeDefaults(channel_id="CLUNCH"))
    for app in serve(settings, database, fake_slack):
        # /teachme with a topic, then a note through the wishes modal; a profile.
        assert app.command("/teachme", TOPIC).status == 200
        app.work_done()
        app.submit(
            Modal.WISHES, {Block.TOPICS: payloads.text_input(TOPIC), Block.NOTE: payloads.text_input(NOTE)}
        )
        app.submit(
            Modal.PROFILE,
            {
                Block.CAREER_STAGE: payloads.select("early"),
                Block.DEPARTMENT: payloads.text_input(DEPARTMENT),
                Block.CAPACITY: payloads.select("1"),
                Block.PAUSED: payloads.checkboxes(),
            },
        )
        app.work_done()
        # A proposal, accepted.
        add_person(database, "U2", stage=CareerStage.EXECUTIVE, department="Finance", teaches=TOPIC)
        run_job("matching-round", job_context(settings=settings, database=database, client=app.app.client))
        with database.transaction() as session:
            pairing = session.scalars(select(Pairing)).one()
            value = f"{pairing.id}:{pairing.version}"
        app.action(Action.ACCEPT_PAIRING, value, user="U1", channel="DU1", message={"ts": "1.0"},
                   response_url=app.fake.response_url("accept"))  # fmt: skip
        app.work_done()
        # A Lunch 'n' Learn proposed (its announcement refused once: a logged warning) and a sign-up.
        fake_slack.fail_next("chat.update", error=f"refused {TOPIC}")
        day = (utcnow().date()).replace(year=utcnow().year + 1).isoformat()
        app.submit(
            Modal.LUNCH_PROPOSE,
            {
                Block.TITLE: payloads.text_input(LUNCH_TITLE),
                Block.TOPIC: payloads.text_input(TOPIC),
                Block.DESCRIPTION: payloads.text_input(NOTE),
                Block.HOST: {"type": "users_select", "selected_user": "U1"},
                Block.DATE: {"type": "datepicker", "selected_date": day},
                Block.TIME: {"type": "timepicker", "selected_time": "12:30", "timezone": "Europe/London"},
                Block.DURATION: {"type": "number_input", "value": "45"},
                Block.LOCATION: payloads.text_input("Room 1"),
                Block.SEATS: {"type": "number_input", "value": "5"},
            },
            private_metadata=json.dumps({"tz": "Europe/London", "channel_id": "C0GENERAL"}),
        )

        def announced():
            with database.transaction() as session:
                lunch = session.scalars(select(LunchSession)).first()
                return lunch is not None and lunch.message_ts and lunch.id

        lunch_id = eventually(announced)
        app.action(Action.LUNCH_SIGN_UP, str(lunch_id), user="U3", channel="CLUNCH",
                   response_url=app.fake.response_url("signup"))  # fmt: skip
        app.work_done()
        # An error path: a listener fails on a typed topic; its exception carries the text.
        from bot.services import learning

        def explode(session, person, raw, **kwargs):
            raise RuntimeError(f"could not store {raw!r}")

        monkeypatch.setattr(learning, "add_skills", explode)
        app.command("/canteach", TOPIC)
        app.work_done()
    lines = "\n".join(captured.lines)
    assert "could not update a Lunch 'n' Learn announcement: (an unrecognised error" in lines
    assert "listener failed (unexpected error)" in lines
    assert "RuntimeError (its message is not logged" in lines
    with database.transaction() as session:
        assert session.scalars(select(Pairing)).one().learner_answer == Answer.ACCEPTED
        assert session.scalars(select(LunchSignup)).one().person.slack_user_id == "U3"
    for secret in ("xoxb-test", SIGNING_SECRET, TOPIC, TOPIC.lower(), NOTE, DEPARTMENT, LUNCH_TITLE):
        assert secret not in lines, [line for line in captured.lines if secret in line]
