"""One module per Slack surface; each has register(app)."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import (
    actions,
    admin,
    assistant,
    commands,
    data_rights,
    errors,
    events,
    home,
    learning,
    lunch,
    lunch_consent,
    lunch_feedback,
    lunch_host,
    lunch_seats,
    pairing,
    pulse,
    view_submissions,
    workflow,
)


def register_all(app: App) -> None:
    surfaces = (
        commands,
        learning,
        actions,
        view_submissions,
        pairing,
        pulse,
        lunch,
        lunch_seats,
        lunch_host,
        lunch_consent,
        lunch_feedback,
        events,
        home,
        admin,
        data_rights,
        workflow,
        assistant,
    )
    for module in (*surfaces, errors):  # the error handler last
        module.register(app)
