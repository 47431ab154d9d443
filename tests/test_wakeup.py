"""bot/wakeup.py: how a worker's LISTEN connection is made, and what happens while it cannot be.
(That a listening worker is told of committed work is in tests/test_work_queue.py, on PostgreSQL.)"""

from __future__ import annotations

import time

from bot.db import Database
from bot.wakeup import WorkNotifications


def test_the_listen_connection_takes_the_urls_arguments_as_sqlalchemy_would():
    url = "postgresql://flip:pa%20ss+w@127.0.0.1:1/app?options=-c%20statement_timeout%3D5000"
    notifications = WorkNotifications(Database(url), lambda: None)
    _args, params = notifications._connect_args
    assert params["password"] == "pa ss+w" and params["options"] == "-c statement_timeout=5000"
    assert (params["host"], params["port"], params["dbname"]) == ("127.0.0.1", 1, "app")
    assert params["autocommit"] is True and params["keepalives"] == 1


def test_while_it_cannot_connect_it_says_so_and_keeps_trying(caplog):
    notified = []
    notifications = WorkNotifications(
        Database("postgresql://flip:secret@127.0.0.1:1/app"), lambda: notified.append(1)
    )
    notifications.start()
    try:
        time.sleep(0.3)
        assert not notifications.listening and notified == []  # so the worker polls every 50 ms
    finally:
        notifications.stop()
    assert any("listening for new work failed" in r.message for r in caplog.records)
    assert "secret" not in caplog.text
