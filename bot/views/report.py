"""The programme report in words: rates and ratings as App Home shows them, and the fixed-width text
that the CLI and the demo print. Pure functions."""

from __future__ import annotations

from bot.services.insights import ProgrammeReport


def percent(value: float | None) -> str:
    return "-" if value is None else f"{round(value * 100)}%"


def rating(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}/5"


def render_text(report: ProgrammeReport) -> str:
    """The report as a readable fixed-width text: what `python -m bot demo` prints at its end."""
    span = (
        f"{report.since:%d %b %Y} to {report.until:%d %b %Y}"
        if report.since
        else f"up to {report.until:%d %b %Y}"
    )
    lines = [
        f"Flipside programme report: {report.period.label.lower()} ({span})",
        "",
        _row(
            "Participants",
            f"{report.participants} ({report.learners_only} learning only, "
            f"{report.teachers_only} teaching only, {report.both} both)",
        ),
        _row(
            "Wishes",
            f"{report.wishes_new} new, {report.wishes_open} open now, {report.wishes_met} met",
        ),
        _row(
            "Pairs proposed",
            f"{report.pairs_proposed} in {report.rounds} round{'s' * (report.rounds != 1)}: "
            f"{report.pairs_accepted} accepted, {report.pairs_declined} declined, "
            f"{report.pairs_expired} expired, {report.pairs_waiting} waiting",
        ),
        _row(
            "Acceptance rate",
            f"{percent(report.acceptance_rate)} (of {report.pairs_decided} answered or expired)",
        ),
        _row(
            "Reverse pairs",
            f"{percent(report.reverse_share)} junior teaches senior, "
            f"{percent(report.cross_department_share)} across departments",
        ),
        _row(
            "Sessions logged",
            f"{report.sessions_logged}, average rating {rating(report.average_session_rating)}",
        ),
        _row(
            "Closing feedback",
            f"{report.closing_feedback}, average rating {rating(report.average_feedback_rating)}",
        ),
        _row(
            "Lunch 'n' Learn",
            f"{report.lunch_sessions} held, {report.lunch_attendance} attending"
            + (
                f" ({report.average_attendance:.1f} a session)"
                if report.average_attendance is not None
                else ""
            )
            + f", rating {rating(report.average_lunch_rating)}; {report.lunch_upcoming} coming up",
        ),
        "",
        "Most requested topics",
    ]
    lines += [
        f"  {_cut(t.topic, 40):<40} {t.wishes:>4} wish{'es' * (t.wishes != 1):<2}  {t.teachers:>3} can teach"
        for t in report.top_topics
    ] or ["  (no new wishes)"]
    lines += ["", f"Unmet demand: {report.unmet_wishes} open wishes on topics no available colleague teaches"]
    lines += [f"  {_cut(t.topic, 40):<40} {t.wishes:>4}" for t in report.unmet_topics[:10]]
    if len(report.unmet_topics) > 10:
        lines.append(f"  ... and {len(report.unmet_topics) - 10} more topics")
    for title, groups in (("career stage", report.by_career_stage), ("department", report.by_department)):
        lines += ["", f"By {title:<38} {'people':>6} {'learning':>9} {'teaching':>9}"]
        lines += [
            f"  {_cut(g.name, 40):<40} {g.people:>6} {g.learning:>9} {g.teaching:>9}" for g in groups
        ] or ["  (nobody yet)"]
    return "\n".join(lines)


def _row(label: str, value: str) -> str:
    return f"{label:<18}{value}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
