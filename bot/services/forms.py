"""The error every form-backed service raises: one message per faulty field, for Slack's inline errors."""

from __future__ import annotations


class FormError(ValueError):
    """Invalid modal input; `errors` maps input block ids to user-safe messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
