"""The error every form-backed service raises: one message per faulty field, for Slack's inline errors.
Services name their own fields; the views map them to the modal's input block ids."""

from __future__ import annotations


class FormError(ValueError):
    """Invalid form input; `errors` maps the service's field names to user-safe messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
