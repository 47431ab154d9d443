"""The baseline: a bare Bolt app that only acks what the benchmarks send Flipside.

Same Bolt settings as bot.create_app (process_before_response=False, signature checks on), same
WSGI adapter (bot.slack.http.build_wsgi_app), no middleware, no database, and no Web API call but
the auth.test Bolt makes on the first request (to SLACK_API_URL: the fake, in the benchmarks).
Served the way `python app.py` serves Flipside, or under gunicorn:

    SLACK_SIGNING_SECRET=... PORT=3001 python benchmarks/bare_app.py
    SLACK_SIGNING_SECRET=... gunicorn benchmarks.bare_app:application
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.ids import Action, Command, Modal
from bot.runtime import freeze_startup_objects
from bot.slack.http import WsgiApp, build_wsgi_app, make_http_server

# Never talks to Slack; a client pointed at the loopback keeps any accident off the network.
UNUSED_API_URL = "http://127.0.0.1:9/api/"


def _just_ack(ack: Ack) -> None:
    ack()


def build_bare_app(*, signing_secret: str, api_url: str | None = None) -> App:
    app = App(
        client=WebClient(token="xoxb-bare", base_url=api_url or UNUSED_API_URL),
        signing_secret=signing_secret,
        process_before_response=False,
        token_verification_enabled=False,
        logger=logging.getLogger("bare.bolt"),
    )
    app.command(Command.TEACHME)(_just_ack)
    app.action(Action.LUNCH_SIGN_UP)(_just_ack)
    app.view(Modal.WISHES)(_just_ack)
    return app


def _application_from_env() -> WsgiApp:
    app = build_bare_app(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"], api_url=os.environ.get("SLACK_API_URL")
    )
    application = build_wsgi_app(app)
    freeze_startup_objects()  # as app.py and bot.wsgi do, to be fair
    return application


if os.environ.get("SLACK_SIGNING_SECRET"):
    application = _application_from_env()

if __name__ == "__main__":
    make_http_server(application, host="127.0.0.1", port=int(os.environ.get("PORT", "3000"))).serve_forever()
