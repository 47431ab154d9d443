"""Kill the sender of a round's DMs ten times with SIGKILL: does everyone get exactly one? (issue 6)

    python benchmarks/faults.py [--pairs 2000 --kills 10 --seed 1] [--quick] [--database postgresql]

A real round (the demo's sample organisation, bot.delivery.pairing_notices.run_round_and_notify) queues each
pair's two proposal DMs in the outbox: 2,000 pairs, about 4,000 rows. Then, ten times, a delivery
process starts (benchmarks/_deliver_worker.py: the clock's Deliverer and Pacer from
bot.scheduler.job_context, with claims going stale after 2 seconds instead of 2 minutes so the
run stays short) and is killed with SIGKILL at a random moment once it has begun sending. A last
process then runs to the end. The Web API is tests.fakeslack.FakeSlack in this process; it stores
each message before it answers and takes --slack-delay seconds to answer, so some kills land
after Slack accepted a message and before the sender recorded it: the case the Deliverer's
history check (conversations.history + message metadata) exists for.

Printed: per outbox row (each message carries its outbox id) delivered, expected, duplicates
(goal 0) and lost (goal 0), checked per recipient too; rows taken over from a killed sender
(attempts > 1); and of those, the ones recovered from Slack's history instead of being posted
again (their message is older than the claim that marked them sent).

--senders 2 runs two delivery processes at a time (issue 6 allows several clock processes). With
--rate 600 a batch of 50 takes 5 s, longer than the 2 s stale time (as a batch at 10 messages a
minute outlasts the real 2-minute STALE_CLAIM), so live senders take rows over from each other.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
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
from models import OutboxMessage
from tests.fakeslack import FakeSlack

HERE = Path(__file__).resolve().parent
METHOD = "chat.postMessage"


@dataclass
class Kill:
    after: float  # seconds after the worker said it was ready
    messages_before: int
    messages_after: int
    reported: Counter[str]


def start_worker(url: str, fake: FakeSlack, args: argparse.Namespace, log) -> subprocess.Popen:
    command = [
        sys.executable,
        str(HERE / "_deliver_worker.py"),
        "--database",
        url,
        "--slack-url",
        fake.base_url,
    ]
    command += ["--rate", str(args.rate), "--stale-after", str(args.stale_after)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=child_env())
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line or not json.loads(line).get("ready"):
        process.kill()
        process.wait()
        raise RuntimeError("the delivery worker did not start; see its log")
    return process


def reports(output: str) -> Counter[str]:
    """Sum the per-batch reports a worker printed (the batches it finished before dying)."""
    total: Counter[str] = Counter()
    for line in output.splitlines():
        try:
            fields: dict[str, Any] = json.loads(line)
        except ValueError:
            continue  # the kill can cut the last line short
        if "done" in fields:
            continue  # the final summary repeats the batches
        for name, value in fields.items():
            if isinstance(value, int) and not isinstance(value, bool):
                total[name] += value
    return total


def stop_all(processes: list[subprocess.Popen]) -> None:
    """SIGKILL the workers we started that still run (a kill, or cleaning up after an error)."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)


def kill_ten_times(url: str, fake: FakeSlack, args: argparse.Namespace, log) -> list[Kill]:
    rng = random.Random(args.seed)
    kills = []
    for _ in range(args.kills):
        processes: list[subprocess.Popen] = []
        try:
            processes += [start_worker(url, fake, args, log) for _ in range(args.senders)]
            after = rng.uniform(args.min_wait, args.max_wait)
            before = len(fake.calls_to(METHOD))
            time.sleep(after)
        finally:
            stop_all(processes)
        reported: Counter[str] = Counter()
        for process in processes:
            output, _ = process.communicate()
            reported += reports(output)
        kills.append(Kill(after, before, len(fake.calls_to(METHOD)), reported))
    return kills


def final_run(url: str, fake: FakeSlack, args: argparse.Namespace, log) -> dict[str, Any]:
    processes: list[subprocess.Popen] = []
    summary: Counter[str] = Counter()
    seconds, unsent = 0.0, 0
    try:
        processes += [start_worker(url, fake, args, log) for _ in range(args.senders)]
        for process in processes:
            output, _ = process.communicate(timeout=3600)
            last = json.loads(output.strip().splitlines()[-1])
            summary += reports(output)
            seconds, unsent = max(seconds, last["seconds"]), last["unsent"]
    finally:
        stop_all(processes)
    return {**summary, "seconds": seconds, "unsent": unsent}


def analyse(fake: FakeSlack, url: str) -> dict[str, Any]:
    database = Database(url)
    try:
        with database.transaction() as session:
            rows = session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.recipient,
                    OutboxMessage.status,
                    OutboxMessage.attempts,
                    OutboxMessage.claimed_at,
                )
            ).all()
    finally:
        database.dispose()
    figures, ts_of = delivery_figures(fake, [(row.id, row.recipient) for row in rows])
    taken_over = [row for row in rows if row.attempts > 1]
    # A row recovered from history was marked sent by a sender that claimed it after its message
    # was already in Slack; a row posted again has its message after that last claim.
    recovered = [row for row in taken_over if row.id in ts_of and ts_of[row.id] < row.claimed_at.timestamp()]
    return {
        **figures,
        "expected": len(rows),
        "statuses": Counter(row.status.value for row in rows),
        "taken_over": len(taken_over),
        "recovered": len(recovered),
        "max_attempts": max((row.attempts for row in rows), default=0),
    }


def run(url: str, args: argparse.Namespace, workdir: Path) -> bool:
    rule(
        f"faults: a {args.pairs:,}-pair round's DMs, the sender SIGKILLed {args.kills} times at random, "
        f"then run to the end"
    )
    started = time.monotonic()
    made, queued = queue_round(url, args.pairs)
    print(f"round: {made:,} pairs, {queued:,} DMs queued in the outbox ({time.monotonic() - started:.0f} s)")
    print(
        f"{args.senders} sender(s) at a time: Pacer at {args.rate:,}/min, claims stale after "
        f"{args.stale_after:g} s; the fake answers {METHOD} {args.slack_delay * 1000:g} ms after storing "
        "the message"
    )
    with FakeSlack() as fake, (workdir / "workers.log").open("w") as log:
        fake.set_delay(METHOD, args.slack_delay)
        kills = kill_ten_times(url, fake, args, log)
        for number, kill in enumerate(kills, 1):
            done, got = kill.reported, kill.messages_after - kill.messages_before
            print(
                f"kill {number:>2}: {kill.after:4.1f} s after start; Slack got {got:>4} messages from it; "
                f"its finished batches reported {done['sent']} sent, {done['recovered']} recovered"
            )
        final = final_run(url, fake, args, log)
        print(
            f"final run: sent {final.get('sent', 0)}, recovered from history {final.get('recovered', 0)}, "
            f"skipped (taken over) {final.get('skipped', 0)}, failed {final.get('failed', 0)}, released "
            f"{final.get('retried', 0)}, unsent at the end {final['unsent']} ({final['seconds']:.1f} s)"
        )
        history_checks = len(fake.calls_to("conversations.history"))
        figures = analyse(fake, url)
    reported_recovered = sum(kill.reported["recovered"] for kill in kills) + final.get("recovered", 0)
    print(f"{'expected (outbox rows)':<44}{figures['expected']:>8,}")
    print(f"{'delivered (messages in the fake)':<44}{figures['delivered']:>8,}")
    print(f"{'duplicates':<44}{figures['duplicates']:>8,} (goal 0: {verdict(figures['duplicates'] == 0)})")
    print(f"{'lost':<44}{figures['lost']:>8,} (goal 0: {verdict(figures['lost'] == 0)})")
    print(
        f"{'recipients with a wrong number of DMs':<44}{figures['recipients_wrong']:>8,} "
        f"of {figures['recipients']:,}"
    )
    print(f"{'rows taken over after a kill (attempts > 1)':<44}{figures['taken_over']:>8,}")
    print(
        f"{'  recovered from history, not posted again':<44}{figures['recovered']:>8,} "
        f"(senders' reports that survived: {reported_recovered})"
    )
    print(f"{'  conversations.history checks':<44}{history_checks:>8,}")
    print(f"{'most attempts on one row':<44}{figures['max_attempts']:>8}")
    print(f"{'outbox statuses':<44}{dict(figures['statuses'])}")
    exactly_once = figures["duplicates"] == 0 and figures["lost"] == 0 and figures["recipients_wrong"] == 0
    print(f"exactly one message per outbox row and recipient: {verdict(exactly_once)}")
    return exactly_once


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1, help="picks the moments of the kills")
    parser.add_argument("--min-wait", type=float, default=0.3, help="seconds before a kill, at least")
    parser.add_argument("--max-wait", type=float, default=3.0, help="seconds before a kill, at most")
    parser.add_argument("--rate", type=int, default=6000, help="SLACK_POST_RATE_PER_MINUTE")
    parser.add_argument("--stale-after", type=float, default=2.0)
    parser.add_argument("--slack-delay", type=float, default=0.005, help="the fake's answer delay")
    parser.add_argument(
        "--senders", type=int, default=1, help="delivery processes running at once (several clocks)"
    )
    parser.add_argument("--quick", action="store_true", help="400 pairs, kills within 0.8 s")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER, help="with --database postgresql")
    parser.add_argument("--strict", action="store_true", help="exit 1 unless exactly once held")
    args = parser.parse_args()
    if args.quick:
        args.pairs, args.min_wait, args.max_wait = min(args.pairs, 400), 0.2, min(args.max_wait, 0.8)

    workdir = temp_dir("faults")
    try:
        if args.database == "sqlite":
            met = run(migrated_sqlite(workdir), args, workdir)
        else:
            if not pg_reachable(args.pg_server):
                print(PG_HOWTO.format(url=args.pg_server), file=sys.stderr)
                return 2
            with pg_database(args.pg_server, f"flipside_bench_faults_{os.getpid()}") as url:
                database = Database(url)
                migrations.upgrade(database)
                database.dispose()
                met = run(url, args, workdir)
    finally:
        remove_tree(workdir)
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"(took {time.monotonic() - started:.0f} s)")
    sys.exit(code)
