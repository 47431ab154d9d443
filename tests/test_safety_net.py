"""The net in tests/conftest.py can fail: a small test file run under it (pytester, in a subprocess, out
of reach of this test's own net) fails where an error is logged from any thread or a person is sent the
generic reply, and passes only what each test declares."""

from __future__ import annotations

import re
from pathlib import Path

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent

# The net itself, from tests/conftest.py; no database: the inner run must not migrate the shared
# PostgreSQL test database under this one.
CONFTEST = """
from tests.conftest import errors_fail_the_test, fake_slack  # noqa: F401
"""

INI = """
[pytest]
addopts = --strict-markers
asyncio_default_fixture_loop_scope = function
markers =
    expect_errors(*patterns, reply=False): declared errors
"""

TESTS = r"""
import logging, threading, pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from bot.listeners.errors import SORRY, register
from tests import payloads

def log_in_a_thread(name, message):
    thread = threading.Thread(target=lambda: logging.getLogger(name).error(message))
    thread.start()
    thread.join()

def test_undeclared_error():
    log_in_a_thread("bot.work", "boom in a worker")

def test_undeclared_bolt_error():
    log_in_a_thread("flipside.bolt", "boom in bolt")

@pytest.mark.expect_errors(r"boom \d")
def test_declared_error():
    log_in_a_thread("bot.work", "boom 1")

@pytest.mark.expect_errors("never")
def test_declared_error_never_logged():
    pass

def test_other_loggers_and_warnings():
    logging.getLogger("elsewhere").error("not ours")
    logging.getLogger("bot.work").warning("only a warning")

def dispatch_a_failing_command(fake):
    app = App(
        client=WebClient(base_url=fake.base_url, token="xoxb-test"),
        signing_secret="s",
        token_verification_enabled=False,
        process_before_response=False,
        logger=logging.getLogger("flipside.bolt"),
    )
    register(app)  # the app's own error handler: it logs, then sends the generic reply

    @app.command("/teachme")
    def fail(ack):
        ack()
        raise RuntimeError("a bug")

    body = payloads.slash_command("/teachme", "x", user="U1", team="T1", response_url=fake.response_url("r"))
    assert app.dispatch(BoltRequest(body=body, mode="socket_mode")).status == 200
    fake.wait_for("response_url")  # after the ack, on Bolt's listener pool

def test_undeclared_listener_failure(fake_slack):
    dispatch_a_failing_command(fake_slack)

@pytest.mark.expect_errors(r"listener failed \(unexpected error\)", reply=True)
def test_declared_listener_failure(fake_slack):
    dispatch_a_failing_command(fake_slack)

@pytest.mark.expect_errors(r"listener failed")
def test_listener_failure_declared_without_its_reply(fake_slack):
    dispatch_a_failing_command(fake_slack)

def test_generic_reply_alone(fake_slack):
    WebClient(base_url=fake_slack.base_url, token="xoxb-test").chat_postMessage(channel="U1", text=SORRY)
"""


def test_the_net_fails_every_test_that_meets_an_error_it_did_not_declare(pytester, monkeypatch):
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    pytester.makepyfile(test_inner=TESTS)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rE")

    # The net fails a test at its teardown, once every thread the test started has had its say.
    failed = set(re.findall(r"^ERROR test_inner\.py::(\w+)", result.stdout.str(), re.MULTILINE))
    assert failed == {
        "test_undeclared_error",
        "test_undeclared_bolt_error",
        "test_declared_error_never_logged",
        "test_undeclared_listener_failure",
        "test_listener_failure_declared_without_its_reply",
        "test_generic_reply_alone",
    }
    result.assert_outcomes(passed=9, errors=6)  # every test body itself ran to its end
    result.stdout.fnmatch_lines(["*unexpected error logged: ERROR bot.work [[]Thread-*]: boom in a worker"])
    result.stdout.fnmatch_lines(["*unexpected error logged: ERROR flipside.bolt [[]Thread-*]: boom in bolt"])
    result.stdout.fnmatch_lines(["*expected an error matching 'never'; none was logged"])
    result.stdout.fnmatch_lines(
        ["*unexpected error logged: ERROR bot.listeners.errors [[]ThreadPoolExecutor-*]: listener failed*"]
    )
    result.stdout.fnmatch_lines(["*the person was sent the generic error reply (response_url)"])
    result.stdout.fnmatch_lines(["*the person was sent the generic error reply (chat.postMessage)"])
