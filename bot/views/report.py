"""The programme's figures in words: how each value is written (App Home, the summary, the CLI all
use these), and the fixed-width text that `python -m bot report` and the demo print. Pure functions."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ImageBlock, PlainTextObject

from bot.services.availability import WaitReason
from bot.services.figures import ProgrammeFigures, Row, trend
from bot.views.common import Message, context, message, section
from bot.views.text import escape

REASON_LABELS = {
    WaitReason.IN_PAIRING: "in a pairing now (proposed or active)",
    WaitReason.LEARNING_ANOTHER: "the learner is learning another topic",
    WaitReason.NO_TEACHER: "nobody teaches the topic",
    WaitReason.TEACHERS_BUSY: "its teachers are busy or away",
    WaitReason.LEARNER_AWAY: "the learner is paused, snoozed or gone",
    WaitReason.PROFILE_UNFINISHED: "the learner's profile is unfinished",
    WaitReason.NEXT_ROUND: "waiting for the next round",
}


def percent(value: float | None) -> str:
    return "-" if value is None else f"{round(value * 100)}%"


def rating(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}/5"


def days(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} days"


def shown(kind: str, value: float | int | None) -> str:
    """A figure's value as every reader writes it."""
    if kind == "share":
        return percent(value)
    if kind == "rating":
        return rating(value)
    if kind == "days":
        return days(value)
    return "-" if value is None else str(value)


def with_trend(row: Row) -> str:
    """ "42 ▲ (was 37)": the value, and the period before when it differs."""
    now, before = shown(row.kind, row.value), shown(row.kind, row.previous)
    arrow = trend(row)
    return f"{now} {arrow} (was {before})" if arrow else now


def span(figures: ProgrammeFigures) -> str:
    window = figures.current.window
    if window.since is None:
        return f"up to {window.until:%d %b %Y %H:%M} UTC"
    return f"{window.since:%d %b %Y} to {window.until:%d %b %Y %H:%M} UTC"


def render_text(figures: ProgrammeFigures) -> str:
    """Every figure with the period before, then the lists behind them."""
    f, d = figures.current, figures.details
    lines = [
        f"Flipside programme report: {figures.period.label.lower()} ({span(figures)})",
        f"Compared with {figures.period.before_label}.",
        "",
        f"  {'Figure':<36} {'now':>12} {'before':>12}",
    ]
    for row in figures.rows():
        now, before = shown(row.kind, row.value), shown(row.kind, row.previous)
        lines.append(f"  {row.label:<36} {now:>12} {before:>12} {trend(row)}".rstrip())
    lines += [
        "",
        f"{f.participants_active} of the {f.active_members} active members Flipside knows take part "
        f"({percent(f.participation_share)})"
        + (
            f"; {f.participants - f.participants_active} more took part and since left or were forgotten"
            if f.participants > f.participants_active
            else ""
        )
        + f". {f.rounds} matching round{'s' * (f.rounds != 1)} ran in the period.",
        "",
        f"Open wishes: {f.open_wishes}, by why they are still open",
    ]
    lines += [f"  {REASON_LABELS[reason]:<40} {count:>5}" for reason, count in d.open_by_reason] or [
        "  (none open)"
    ]
    lines += ["", "Most requested topics (open wishes / colleagues who can teach it)"]
    lines += [_topic_line(t) for t in d.top_open_topics] or ["  (no open wishes)"]
    lines += ["", "Newly requested in the period"]
    lines += [_topic_line(t) for t in d.top_new_topics] or ["  (no new wishes)"]
    if d.unteachable_topics:
        names = ", ".join(t.topic for t in d.unteachable_topics[:10])
        more = f" and {len(d.unteachable_topics) - 10} more" if len(d.unteachable_topics) > 10 else ""
        lines += ["", f"Nobody teaches: {names}{more}"]
    lines += ["", "Best-rated pairs (pulse), by topic and by department"]
    best = [
        f"  {g.name:<40} {rating(g.rating):>6} ({g.pairs} pairs)" for g in d.best_topics + d.best_departments
    ]
    lines += best or ["  (not enough pulse answers yet)"]
    lines += ["", "Who teaches whom (pairs accepted, teacher's stage -> learner's stage)"]
    lines += [
        f"  {s.teacher_stage:<15} -> {s.learner_stage:<15} {s.pairs:>5}" for s in d.who_teaches_whom
    ] or ["  (no pairs accepted)"]
    return "\n".join(lines)


def _topic_line(topic) -> str:
    return f"  {_cut(topic.topic, 40):<40} {topic.wishes:>5} / {topic.teachers}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summary_title(figures: ProgrammeFigures) -> str:
    since = figures.current.window.since
    return f"Flipside in {since:%B %Y}" if since else "Flipside so far"


def build_monthly_summary(figures: ProgrammeFigures, *, file_id: str | None) -> Message:
    """The admins' monthly summary: the headline figures with their trend, the best-rated pairs, and
    the chart (an image block showing the uploaded PNG)."""
    title = summary_title(figures)
    lines = [f"• {row.label}: {escape(with_trend(row))}" for row in figures.headline()]
    best = figures.details.best_topics + figures.details.best_departments
    text = f"*{title}* (against {figures.period.before_label})\n" + "\n".join(lines)
    if best:
        text += "\n*Best-rated pairs:* " + ", ".join(f"{escape(g.name)} {rating(g.rating)}" for g in best)
    blocks: list[Block] = [section(text)]
    if file_id:
        blocks.append(
            ImageBlock(
                alt_text="Pairs per month, and who teaches whom by career stage",
                slack_file={"id": file_id},
                title=PlainTextObject(text=title),
            )
        )
    blocks.append(context("Every figure is defined in Flipside's docs/figures.md. App Home has the rest."))
    return message(f"{title}: the programme's monthly summary", blocks)
