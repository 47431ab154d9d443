"""The management CLI: python -m bot migrate | reseal-tokens | demo | match | jobs | run JOB | clock |
worker | export | report | purge."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence

from dotenv import load_dotenv

from bot.config import GENERATE_KEY, ConfigError, Settings
from bot.logs import configure_logging
from bot.runtime import StartupError, load_settings, open_database
from bot.work.worker import DEFAULT_THREADS
from models import utcnow

# Commands that bring the schema up to date themselves; every other one reads the database.
MIGRATING_COMMANDS = frozenset({"migrate", "demo"})


def _settings() -> Settings:
    return load_settings(require_slack=False)


def _jobs():
    from bot.jobs import all_jobs

    return all_jobs()


def _job_ids() -> list[str]:
    return [spec.id for spec in _jobs()]


def require_known_job(job: str) -> None:
    known = _job_ids()
    if job not in known:
        raise StartupError(f"unknown job {job!r}; jobs: {', '.join(known)}")


def require_migrated() -> None:
    """Checked once for every command that reads the database, before it runs: a database that
    was never migrated, or is behind, is one line naming `python -m bot migrate`, not a traceback."""
    from bot.cli import migrations

    database = open_database(_settings())
    try:
        problem = migrations.schema_problem(database)
    finally:
        database.dispose()
    if problem:
        raise StartupError(problem)


def cmd_migrate(args: argparse.Namespace) -> int:
    from bot.cli import migrations

    settings = _settings()
    database = open_database(settings)
    try:
        migrations.upgrade(database, args.revision)
    except ConfigError as error:  # a revision that needs a setting (0009_tokens: the key)
        raise StartupError(str(error)) from None
    print(f"database at {database.engine.url.render_as_string(hide_password=True)} is at {args.revision}")
    return 0


def cmd_reseal_tokens(args: argparse.Namespace) -> int:
    from bot.slack.tokens import TokenCipher, TokenUnreadable, reseal_all

    settings = _settings()
    if not settings.token_encryption_keys:
        raise StartupError(f"TOKEN_ENCRYPTION_KEYS is missing: generate a key with {GENERATE_KEY}")
    database = open_database(settings)
    try:
        rows = reseal_all(database.engine, TokenCipher(settings.token_encryption_keys))
    except TokenUnreadable as error:
        raise StartupError(str(error)) from None
    print(f"{rows} installation rows now encrypted with the first key of TOKEN_ENCRYPTION_KEYS")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.cli.demo import run_demo

    return run_demo(database_url=args.database, people=args.people, seed=args.seed, chart_path=args.chart)


def cmd_match(args: argparse.Namespace) -> int:
    from bot.cli.admin import AdminCommandError, check_team
    from bot.delivery import pairing_notices as notices
    from bot.services import rounds, workspaces

    settings = _settings()
    database = open_database(settings)
    now = utcnow()
    with database.transaction() as session:
        try:
            team_ids = [check_team(session, args.team)] if args.team else workspaces.active_team_ids(session)
        except AdminCommandError as error:
            raise StartupError(str(error)) from None
    if not team_ids:
        print("no workspace has used Flipside yet: nothing to match")
        return 0
    for team_id in team_ids:
        with database.transaction() as session:
            if args.dry_run:
                print(
                    rounds.preview_round(
                        session, team_id=team_id, settings_defaults=settings.programme, now=now
                    )
                )
                continue
            summary = notices.run_round_and_notify(
                session, team_id=team_id, defaults=settings.programme, now=now
            )
        if summary.created:
            print(f"{team_id} {summary.round_key}: {len(summary.pairings)} pairs proposed; DMs queued")
        else:
            print(f"{team_id} {summary.round_key}: this week's round already ran; nothing changed")
    if not args.dry_run and settings.slack_bot_token:
        from bot.delivery.sender import Deliverer
        from bot.slack.client import build_web_client

        report = Deliverer(database, build_web_client(settings)).deliver_due()
        print(f"delivered {report.sent} messages ({report.failed} failed, {report.retried} to retry)")
    return 0


def _job_context(settings: Settings):
    from bot.scheduler import job_context
    from bot.slack.client import build_web_client

    database = open_database(settings)
    return job_context(settings=settings, database=database, client=build_web_client(settings))


def cmd_jobs(args: argparse.Namespace) -> int:
    from bot.scheduler import next_run_times
    from bot.services import profiles, workspaces
    from bot.services.programme import next_matching_round
    from bot.work import queue

    now = utcnow()
    print(f"{'job':<22} {'next run (UTC)':<22} what it does")
    for spec, next_run in next_run_times(now=now):
        when = next_run.strftime("%Y-%m-%d %H:%M") if next_run else "-"
        print(f"{spec.id:<22} {when:<22} {spec.description}")
    settings = _settings()
    database = open_database(settings)
    with database.transaction() as session:
        waiting, since = queue.backlog(session), queue.oldest(session)
        if waiting and since is not None:
            age = (now - since).total_seconds()
            hint = " (is a worker running? `python -m bot worker`)" if age > 60 else ""
            print(f"stored work waiting: {waiting}, the oldest for {age:.0f} s{hint}")
        else:
            print("stored work waiting: none")
        for team_id in workspaces.active_team_ids(session):
            programme = profiles.programme_settings(session, team_id=team_id, defaults=settings.programme)
            at = next_matching_round(programme, now=now)
            print(
                f"  matching round for {team_id}: {at:%Y-%m-%d %H:%M} UTC "
                f"({programme.matching_timezone} clock)"
            )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.scheduler import run_job

    require_known_job(args.job)  # main() checked it before the settings; kept for direct callers
    settings = load_settings(require_slack=True)
    print(run_job(args.job, _job_context(settings)))
    return 0


def cmd_clock(args: argparse.Namespace) -> int:
    from slack_sdk.errors import SlackApiError

    from bot.runtime import reactivate_workspace
    from bot.scheduler import build_scheduler
    from bot.slack.client import build_web_client

    settings = load_settings(require_slack=True)
    configure_logging(settings.log_level)
    database = open_database(settings)
    client = build_web_client(settings)
    if not settings.oauth_enabled:
        try:
            reactivate_workspace(settings, database, client)
        except SlackApiError as error:
            raise StartupError(
                f"Slack refused the bot token ({error.response.get('error')}); check SLACK_BOT_TOKEN"
            ) from None
    scheduler = build_scheduler(settings=settings, database=database, client=client)
    logging.getLogger(__name__).info("clock: %d jobs scheduled", len(scheduler.get_jobs()))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from bot.runtime import build_worker, run_worker

    if args.once:
        settings = load_settings(require_slack=True)
        done = build_worker(settings, open_database(settings)).run_due(limit=args.limit)
        print(f"ran {done} pending task{'' if done == 1 else 's'}")
        return 0
    run_worker(threads=args.threads)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.cli.admin import AdminCommandError, export_command

    database = open_database(_settings())
    try:
        written = export_command(database, args.team, args.out, format=args.format, as_of=utcnow())
    except AdminCommandError as error:
        print(f"flipside: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from bot.cli.admin import AdminCommandError, parse_as_of, report_text

    database = open_database(_settings())
    try:
        as_of = parse_as_of(args.as_of, utcnow())
        with database.transaction() as session:
            print(report_text(session, args.team, args.period, as_of))
    except AdminCommandError as error:
        print(f"flipside: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from bot.cli.admin import AdminCommandError, check_team
    from bot.services import workspaces

    settings = _settings()
    database = open_database(settings)
    with database.transaction() as session:
        try:
            check_team(session, args.team)
        except AdminCommandError as error:
            raise StartupError(str(error)) from None
    if not args.yes:
        print(f"this deletes every row of workspace {args.team}; add --yes to confirm", file=sys.stderr)
        return 2
    with database.transaction() as session:
        rows = workspaces.purge(session, team_id=args.team)
    print(f"purged {args.team} ({rows} rows)" if rows else f"no data for {args.team}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Flipside management commands")
    sub = parser.add_subparsers(dest="command", required=True)
    migrate = sub.add_parser("migrate", help="upgrade the database schema (Alembic)")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(func=cmd_migrate)
    sub.add_parser(
        "reseal-tokens", help="encrypt stored Slack tokens with the first key (after a key rotation)"
    ).set_defaults(func=cmd_reseal_tokens)
    demo = sub.add_parser("demo", help="offline demo on a sample organisation (no Slack needed)")
    demo.add_argument("--database", default="sqlite:///flipside-demo.db", help="recreated on every run")
    demo.add_argument("--people", type=int, default=60)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument(
        "--chart",
        help="where to save the monthly chart (PNG; default: next to the database; '' for none)",
    )
    demo.set_defaults(func=cmd_demo)
    match = sub.add_parser("match", help="run the matching round now (or --dry-run to preview it)")
    match.add_argument("--dry-run", action="store_true", help="print the round; store and send nothing")
    match.add_argument("--team", help="one workspace (team id); default all")
    match.set_defaults(func=cmd_match)
    sub.add_parser("jobs", help="list scheduled jobs and their next run times").set_defaults(func=cmd_jobs)
    run = sub.add_parser(
        "run",
        help="run one scheduled job now",
        description="Run one scheduled job now. JOB is one of:\n"
        + "\n".join(f"  {spec.id:<22} {spec.description}" for spec in _jobs()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("job", metavar="JOB", help="the job's id, as listed above")
    run.set_defaults(func=cmd_run)
    sub.add_parser("clock", help="run the scheduler (the Procfile's clock process)").set_defaults(
        func=cmd_clock
    )
    worker = sub.add_parser("worker", help="run stored work (the Procfile's worker process)")
    worker.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="tasks run at once")
    worker.add_argument("--once", action="store_true", help="run what is due now, then exit")
    worker.add_argument("--limit", type=int, default=1000, help="with --once: at most this many")
    worker.set_defaults(func=cmd_worker)
    export = sub.add_parser("export", help="write pairings, sessions and feedback as CSV files")
    export.add_argument("--format", default="csv", choices=["csv"])
    export.add_argument("--team", help="workspace (team id); default: the only one")
    export.add_argument("--out", default="export", help="folder to write into (default ./export)")
    export.set_defaults(func=cmd_export)
    report = sub.add_parser("report", help="the programme's figures as text")
    report.add_argument("--period", default="month", choices=["month", "90_days", "all_time"])
    report.add_argument("--team", help="workspace (team id); default: the only one")
    report.add_argument("--as-of", help="read the figures as at this UTC date or time (default now)")
    report.set_defaults(func=cmd_report)
    purge = sub.add_parser("purge", help="delete all data of a workspace")
    purge.add_argument("--team", required=True)
    purge.add_argument("--yes", action="store_true")
    purge.set_defaults(func=cmd_purge)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv()
    configure_logging("WARNING")  # one-off commands print their results; the long-running ones use LOG_LEVEL
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            require_known_job(args.job)  # before the settings: a typo is named, not a missing secret
        if args.command not in MIGRATING_COMMANDS:
            require_migrated()
        return args.func(args)
    except StartupError as error:
        print(f"flipside: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
