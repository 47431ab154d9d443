"""A stand-in for the clock process's delivery: drains the outbox with bot.delivery.sender's Deliverer.

    python benchmarks/_deliver_worker.py --database URL --slack-url URL --rate N [options]

The Deliverer and its Pacer are the ones bot.scheduler.job_context builds from settings
(SLACK_POST_RATE_PER_MINUTE=N, burst 5), except that --stale-after can shorten the time after
which a dead sender's claimed rows are taken over. --rate 0 sends unpaced.

The worker drives the Deliverer batch by batch (deliver_due(max_batches=1), the loop deliver_due
itself runs) and prints one JSON line per batch, so a parent that kills it with SIGKILL still
knows what the batches before the kill did. It goes on until no row is left to send, waiting for
rows a dead sender had claimed to go stale, or until --deadline, which it checks between batches
so that it never leaves a row claimed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from bot.config import Settings
from bot.db import Database
from bot.delivery.sender import DeliveryReport, Pacer
from bot.scheduler import job_context
from bot.slack.client import build_web_client
from models import OutboxMessage, OutboxStatus


def as_json(report: DeliveryReport, **extra: Any) -> str:
    fields = asdict(report)
    fields["errors"] = dict(Counter(report.errors))
    return json.dumps({**fields, **extra})


def unsent(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--slack-url", required=True)
    parser.add_argument("--rate", type=int, default=60, help="SLACK_POST_RATE_PER_MINUTE; 0: no pacing")
    parser.add_argument("--stale-after", type=float, help="seconds; default the Deliverer's own")
    parser.add_argument("--pacer-burst", type=int, help="experiment: the Pacer's burst instead of the app's")
    parser.add_argument("--deadline", type=float, default=3600, help="stop after this many seconds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    env = {
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "unused",
        "SLACK_API_URL": args.slack_url,
        "DATABASE_URL": args.database,
        "SLACK_POST_RATE_PER_MINUTE": str(max(args.rate, 1)),
    }
    settings = Settings.from_env(env, require_slack=True)
    database = Database(settings.database_url)
    deliverer = job_context(settings=settings, database=database, client=build_web_client(settings)).deliverer
    if not args.rate:
        deliverer.pacer = None
    elif args.pacer_burst:
        deliverer.pacer = Pacer(args.rate, burst=args.pacer_burst)
    if args.stale_after is not None:
        deliverer.stale_after = timedelta(seconds=args.stale_after)

    print(json.dumps({"ready": True}), flush=True)
    started = time.monotonic()
    total = DeliveryReport()
    while time.monotonic() - started < args.deadline:
        report = deliverer.deliver_due(max_batches=1)
        counts = {name: value for name, value in asdict(report).items() if isinstance(value, int)}
        if any(counts.values()):
            for name, value in counts.items():
                setattr(total, name, getattr(total, name) + value)
            total.errors += report.errors
            print(as_json(report), flush=True)
            continue
        if not unsent(database):
            break
        time.sleep(0.2)  # rows a dead sender claimed (they go stale), or released for a retry later
    left = unsent(database)
    print(as_json(total, done=not left, unsent=left, seconds=time.monotonic() - started), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
