"""Every id a listener registers is one a builder emits, and every id a builder emits is handled."""

from __future__ import annotations

import re
from pathlib import Path

from bot.ids import Action, Modal

BOT = Path(__file__).resolve().parent.parent / "bot"
# Views with nothing to submit: Slack sends no view_submission for them.
READ_ONLY_MODALS = {"SHOW_ALL"}


def _scan(folder: str, pattern: str) -> set[str]:
    found: set[str] = set()
    for path in (BOT / folder).glob("*.py"):
        found |= set(re.findall(pattern, path.read_text()))
    return found


def test_actions_registered_and_emitted_are_the_same_set():
    registered = _scan("listeners", r"app\.action\(\s*(?:Action|A)\.(\w+)")
    emitted = _scan("views", r"\b(?:Action|A)\.(\w+)")
    assert registered == emitted == {action.name for action in Action}


def test_every_submittable_modal_has_a_listener():
    registered = _scan("listeners", r"app\.view\(\s*Modal\.(\w+)")
    emitted = _scan("views", r"\bModal\.(\w+)")
    assert emitted - READ_ONLY_MODALS == registered
    assert registered | READ_ONLY_MODALS == {modal.name for modal in Modal}


def test_every_command_is_registered():
    registered = _scan("listeners", r"app\.command\(\s*Command\.(\w+)")
    from bot.ids import Command

    assert registered == {command.name for command in Command}


def test_every_work_name_has_exactly_one_task_and_only_current_work_is_queued():
    import bot.listeners  # noqa: F401  (registers the tasks)
    from bot.ids import RETIRED_WORK, Work
    from bot.work.queue import registered_kinds

    nested = r"\((?:[^()]|\([^()]*\))*\)"  # a call in the arguments, itself holding a call
    call = rf"(?:hand_over|queue_work)\((?:[^()]|{nested})*?"
    queued = _scan("listeners", call + r"Work\.(\w+)") | _scan("listeners", call + r" else Work\.(\w+)")
    # Work that delivery queues in the transaction of an event (a learning-log line, say).
    queued |= _scan("delivery", r"queue\.enqueue\((?:[^()]|\{[^{}]*\})*?kind=Work\.(\w+)")
    shipped = {kind for kind in registered_kinds() if not kind.startswith("test.")}
    assert shipped == {work.value for work in Work}
    assert queued == {work.name for work in Work if work not in RETIRED_WORK} != set()
