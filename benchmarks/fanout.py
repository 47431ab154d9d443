"""Does a round's fan-out of DMs keep to Slack's rate limit without losing or doubling one? (issue 6)

    python benchmarks/fanout.py [--pairs 5000] [--rate 6000] [--quick] [--database postgresql://...]

Slack's chat.postMessage is in the "special" tier: about one message per second per channel, plus
a workspace-wide limit that Slack does not publish as a number (docs.slack.dev/apis/web-api/
rate-limits). A round sends one DM per person, each to its own channel, so the workspace limit is
the one that binds. Here it is SLACK_POST_RATE_PER_MINUTE (the Pacer's rate; default 6,000 a
minute, the highest the setting takes, so 10,000 DMs take under two minutes) and
tests.fakeslack.FakeSlack enforces the same rate with a burst of 5 (the Pacer's burst), answering
429 + Retry-After above it.

The round is real: the demo's sample organisation (bot.cli.sample_org) stored through the services,
then bot.delivery.pairing_notices.run_round_and_notify, which queues each pair's two proposal
DMs in the outbox. A separate process (benchmarks/_deliver_worker.py --job, like the clock) runs the
deliver-outbox job
with the Deliverer and Pacer bot.scheduler.job_context builds. Printed: the achieved rate at the
fake (first to last accepted message), the limit and their ratio (goal >= 0.9), the 429s, and per
outbox row (each message carries its outbox id in metadata) the lost (goal 0) and duplicated
(goal 0) messages, checked per recipient too.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import (
    DEFAULT_PG_SERVER,
    PG_HOWTO,
    child_env,
    delivery_figures,
    migrated_sqlite,
    pg_database,
    pg_reachable,
    queue_round,
    remove_tree,
    rule,
    temp_dir,
    verdict,
)
from sqlalchemy import select

from bot.cli import migrations
from bot.db import Database
from models import OutboxMessage, OutboxStatus
from tests.fakeslack import FakeSlack

HERE = Path(__file__).resolve().parent
GOAL_RATIO = 0.9
METHOD = "chat.postMessage"


def outbox_rows(database: Database) -> list[tuple[int, str, OutboxStatus, int]]:
    with database.transaction() as session:
        query = select(
            OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.status, OutboxMessage.attempts
        )
        return [tuple(row) for row in session.execute(query)]


def deliver(
    url: str, fake: FakeSlack, rate: int, *, deadline: float, pacer_burst: int | None = None
) -> dict[str, Any]:
    """Run the delivery worker to the end (or the deadline); its final report."""
    command = [sys.executable, str(HERE / "_deliver_worker.py"), "--database", url]
    command += ["--slack-url", fake.base_url, "--rate", str(rate), "--deadline", str(deadline)]
    if pacer_burst:
        command += ["--pacer-burst", str(pacer_burst)]
    finished = subprocess.run(command, capture_output=True, text=True, env=child_env(), check=False)
    if finished.returncode != 0:
        raise RuntimeError(f"the delivery worker failed:\n{finished.stderr[-3000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def fast_channels(messages: list[dict[str, Any]]) -> int:
    """DM channels that got two messages less than a second apart (Slack: ~1 a second a channel)."""
    sent_at: dict[str, list[float]] = defaultdict(list)
    for message in messages:
        sent_at[message["channel"]].append(float(message["ts"]))
    return sum(1 for times in sent_at.values() if any(b - a < 1.0 for a, b in itertools.pairwise(times)))


def calls_between_429s(fake: FakeSlack) -> list[int]:
    """How many accepted calls came between one 429 and the next."""
    gaps, since = [], None
    for call in fake.calls_to(METHOD):
        if call.answered == 429:
            if since is not None:
                gaps.append(since)
            since = 0
        elif since is not None:
            since += 1
    return sorted(gaps)


def achieved_rate(fake: FakeSlack) -> tuple[float, float, int]:
    """Accepted chat.postMessage calls per minute at the fake, first to last; (rate, seconds, n)."""
    accepted = [call.at for call in fake.calls_to(METHOD) if call.ok]
    if len(accepted) < 2:
        return math.nan, 0.0, len(accepted)
    seconds = accepted[-1] - accepted[0]
    return (len(accepted) - 1) / seconds * 60, seconds, len(accepted)


def run(url: str, args: argparse.Namespace) -> bool:
    rule(
        f"fan-out: a {args.pairs:,}-pair round; Pacer at {args.rate:,} chat.postMessage a minute "
        f"(burst {args.pacer_burst or '1, as bot.scheduler builds it'}), "
        f"the fake limited to {args.fake_rate:,} (burst {args.fake_burst})"
    )
    started = time.monotonic()
    made, queued = queue_round(url, args.pairs)
    print(f"round: {made:,} pairs, {queued:,} DMs queued in the outbox ({time.monotonic() - started:.0f} s)")
    with FakeSlack() as fake:
        fake.set_rate_limit(METHOD, per_minute=args.fake_rate, burst=args.fake_burst)
        report = deliver(url, fake, args.rate, deadline=args.max_seconds, pacer_burst=args.pacer_burst)
        rate, seconds, accepted = achieved_rate(fake)
        limited = fake.rate_limited_count(METHOD)
        between = calls_between_429s(fake)
        paced_channels = fast_channels(fake.messages())
        print(
            f"delivery (the clock's Deliverer): sent {report['sent']:,}, failed {report['failed']}, "
            f"released to retry {report['retried']}, errors {report['errors'] or 'none'}, "
            f"in {report['seconds']:.1f} s"
        )
        if report["unsent"]:
            projected = queued / max(report["sent"], 1) * report["seconds"] / 60
            print(
                f"stopped at the --max-seconds cap, {report['unsent']:,} rows unsent: all {queued:,} would "
                f"take about {projected:.0f} min at this pace. Sending the rest unpaced and unthrottled,\n"
                "so that lost and duplicates below cover the whole round; the rate above is the paced part's."
            )
            fake.set_rate_limit(METHOD, per_minute=10**9)
            rest = deliver(url, fake, 0, deadline=3600)
            print(f"the rest: sent {rest['sent']:,}, failed {rest['failed']}, unsent {rest['unsent']}")
        database = Database(url)
        try:
            rows = outbox_rows(database)
        finally:
            database.dispose()
        counts, _first_ts = delivery_figures(
            fake, [(row_id, recipient) for row_id, recipient, _s, _a in rows]
        )
    statuses = Counter(status.value for _id, _r, status, _a in rows)

    ratio = rate / args.fake_rate
    met_rate = ratio >= GOAL_RATIO
    print(f"{'limit (the fake)':<34}{args.fake_rate:>10,} messages/min")
    print(f"{'achieved (at the fake)':<34}{rate:>10,.0f} messages/min ({accepted:,} in {seconds:.1f} s)")
    print(f"{'ratio achieved / limit':<34}{ratio:>10.3f} (goal >= {GOAL_RATIO}: {verdict(met_rate)})")
    print(f"{'429s answered':<34}{limited:>10,}")
    if between:
        print(
            f"{'accepted calls between 429s':<34}{between[len(between) // 2]:>10} median "
            f"(min {between[0]}, max {between[-1]})"
        )
        print(
            "  slack_sdk's RateLimitErrorRetryHandler resends after Retry-After without the Pacer, which\n"
            "  refilled its burst meanwhile: the fake's bucket stays one below the Pacer's, and the 429s\n"
            "  repeat, each costing a whole Retry-After second (compare --pacer-burst 1)"
        )
    print(f"{'outbox rows':<34}{len(rows):>10,} {dict(statuses)}")
    print(f"{'messages delivered':<34}{counts['delivered']:>10,}")
    print(
        f"{'lost (rows with no message)':<34}{counts['lost']:>10,} (goal 0: {verdict(counts['lost'] == 0)})"
    )
    print(
        f"{'duplicates (extra messages)':<34}{counts['duplicates']:>10,} "
        f"(goal 0: {verdict(counts['duplicates'] == 0)})"
    )
    print(
        f"{'recipients':<34}{counts['recipients']:>10,} ({counts['recipients_wrong']} got more or "
        f"fewer messages than rows; {counts['recipients_with_several']} get several DMs)"
    )
    print(
        f"{'DM channels sent >1 message/s':<34}{paced_channels:>10,} "
        "(paced part; Slack's per-channel limit, which the fake does not enforce)"
    )
    return met_rate and counts["lost"] == 0 and counts["duplicates"] == 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=6000, help="messages a minute: the Pacer and the fake")
    parser.add_argument(
        "--pacer-burst", type=int, help="experiment: the Pacer's burst instead of the 1 bot.scheduler uses"
    )
    parser.add_argument("--fake-rate", type=int, help="the fake's limit a minute (default: --rate)")
    parser.add_argument("--fake-burst", type=int, default=5, help="the fake's burst")
    parser.add_argument(
        "--max-seconds", type=float, default=240, help="stop the paced delivery after this long"
    )
    parser.add_argument("--quick", action="store_true", help="500 pairs, at most 60 s paced")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER, help="with --database postgresql")
    args = parser.parse_args()
    args.fake_rate = args.fake_rate or args.rate
    if args.quick:
        args.pairs, args.max_seconds = min(args.pairs, 500), min(args.max_seconds, 60)

    workdir = temp_dir("fanout")
    try:
        if args.database == "sqlite":
            met = run(migrated_sqlite(workdir), args)
        else:
            if not pg_reachable(args.pg_server):
                print(PG_HOWTO.format(url=args.pg_server), file=sys.stderr)
                return 2
            with pg_database(args.pg_server, f"flipside_bench_fanout_{os.getpid()}") as url:
                database = Database(url)
                migrations.upgrade(database)
                database.dispose()
                met = run(url, args)
    finally:
        remove_tree(workdir)
    print("all goals met" if met else "a goal was MISSED")
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"(took {time.monotonic() - started:.0f} s)")
    sys.exit(code)
