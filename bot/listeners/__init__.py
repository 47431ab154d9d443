"""One module per Slack surface; each has register(app)."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import actions, commands, errors, events, home, lunch, pairing, view_submissions


def register_all(app: App) -> None:
    for module in (commands, actions, view_submissions, pairing, lunch, events, home, errors):
        module.register(app)
