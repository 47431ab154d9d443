"""The WSGI entry point for gunicorn (`web` in the Procfile). Settings come from the environment."""

from __future__ import annotations

import sys

from dotenv import load_dotenv

from bot.logs import configure_logging
from bot.runtime import StartupError, build_app, freeze_startup_objects, load_settings, open_database
from bot.slack.http import build_wsgi_app

load_dotenv()
try:
    _settings = load_settings(require_slack=True)
    configure_logging(_settings.log_level)
    _database = open_database(_settings)
    application = build_wsgi_app(build_app(_settings, _database))
    freeze_startup_objects()
except StartupError as error:
    print(f"flipside: {error}", file=sys.stderr)
    # 3 is gunicorn's "worker failed to boot": the master stops instead of booting another every second.
    sys.exit(3)
