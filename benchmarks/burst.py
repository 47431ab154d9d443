"""A burst: 300 people click Sign up on one Lunch 'n' Learn announcement while 200 send /teachme.

    python benchmarks/burst.py --setup app          # python app.py on SQLite
    python benchmarks/burst.py --setup gunicorn     # gunicorn + python -m bot worker on PostgreSQL

The session has 200 seats and a waitlist. 50 clients (as if 50 people clicked at the same moment,
again and again) send the 500 signed requests as fast as they are answered, the clicks each from a
different person. Printed: the seconds it took to send them all, the slowest ack (goal under 3 s,
Slack's limit), the slowest reply at the fake Slack (goal within 15 s), and the seat check read
from the database: attending == min(seats, clicks), the rest waitlisted, no one twice.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import (
    DEFAULT_PG_SERVER,
    PG_HOWTO,
    SIGNING_SECRET,
    pg_reachable,
    remove_tree,
    rule,
    temp_dir,
    verdict,
)
from _loadgen import run_clients
from _setups import (
    Server,
    all_of,
    build_world,
    database_for,
    missing,
    print_figures,
    reply_times,
    seat_counts,
    sign_up,
    teachme,
)

from tests.fakeslack import FakeSlack

GOAL_ACK, GOAL_REPLY = 3.0, 15.0


def run(args, workdir: Path) -> bool:
    name = f"flipside_burst_{os.getpid()}"
    with FakeSlack() as fake, database_for(args.setup, workdir, args.pg_server, name) as url:
        world = build_world(url, fake, workdir, args.setup, people=args.clicks + 1, seats=args.seats)
        total = args.clicks + args.commands
        # Clicks and commands interleaved, each click from its own person.
        requests = [
            sign_up(world, world.users[n], f"K{n}", n)
            if n < args.clicks
            else teachme(world, world.users[n % len(world.users)], f"K{n}", n)
            for n in range(total)
        ]
        requests.sort(key=lambda request: int(request[3][1:]) % 5)
        plans = [requests[client :: args.clients] for client in range(args.clients)]
        rule(
            f"burst: {args.clicks} Sign up clicks on one session with {args.seats} seats and "
            f"{args.commands} /teachme, {args.clients} clients at once; "
            + ("python app.py on SQLite" if args.setup == "app" else "gunicorn + worker on PostgreSQL")
        )
        server = Server(world, "flipside")
        try:
            since = time.monotonic()
            results = run_clients(
                server.url, SIGNING_SECRET, plans, processes=args.processes, count=len(plans[0]), timeout=60
            )
            replies = reply_times(fake, results, since=since, timeout=GOAL_REPLY + 15)
        finally:
            problems = server.stop()
        seats = seat_counts(world)

    print_figures(results, None, replies)
    max_ack = max(results.latencies() or [float("inf")])
    max_reply = max(all_of(replies) or [float("inf")])
    attending, waitlisted = seats.get("attending", 0), seats.get("waitlisted", 0)
    seats_ok = (
        attending == min(args.seats, args.clicks)
        and attending + waitlisted == args.clicks
        and seats["duplicates"] == 0
    )
    ok_ack, ok_reply = max_ack < GOAL_ACK and not results.errors, max_reply <= GOAL_REPLY
    print(
        f"sent all {len(results.samples)} in {results.seconds:.1f} s; "
        f"errors: {len(results.errors)} failed requests, {problems}"
    )
    print(f"max ack {max_ack:.2f} s (goal every ack under {GOAL_ACK:g} s: {verdict(ok_ack)})")
    print(
        f"max reply {max_reply:.2f} s, {missing(all_of(replies))} missing "
        f"(goal every reply within {GOAL_REPLY:g} s: {verdict(ok_reply)})"
    )
    print(
        f"seats: {attending} attending, {waitlisted} waitlisted, {seats['duplicates']} duplicates for "
        f"{args.clicks} clicks on {args.seats} seats (goal {min(args.seats, args.clicks)} attending, "
        f"{max(0, args.clicks - args.seats)} waitlisted, 0 duplicates: {verdict(seats_ok)})"
    )
    return ok_ack and ok_reply and seats_ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--setup", choices=("app", "gunicorn"), default="app")
    parser.add_argument("--clicks", type=int, default=300)
    parser.add_argument("--seats", type=int, default=200)
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--processes", type=int, default=4, help="client processes the clients share")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER)
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()
    if args.setup == "gunicorn" and not pg_reachable(args.pg_server):
        print(PG_HOWTO.format(url=args.pg_server), file=sys.stderr)
        return 2
    workdir = temp_dir("burst")
    try:
        ok = run(args, workdir)
    finally:
        if args.keep_logs:
            print(f"logs kept in {workdir}")
        else:
            remove_tree(workdir)
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"(took {time.monotonic() - started:.0f} s)")
    sys.exit(code)
