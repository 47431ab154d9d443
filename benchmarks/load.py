"""Mixed Slack traffic against Flipside and a bare Bolt app, in one of the two setups.

    python benchmarks/load.py --setup app                 # python app.py on SQLite, 50 requests/s
    python benchmarks/load.py --setup gunicorn            # gunicorn + worker on PostgreSQL
    python benchmarks/load.py --setup app --flat-out      # as fast as the clients can send

Twenty clients in their own processes send signed requests in turn: `/teachme <topic>`, a Lunch 'n'
Learn Sign up click and a wishes modal submission, each from the next person of the sample
organisation, at a steady total rate (open loop: latency counts from when a request was due), or
flat out for information (closed loop). The same plan goes to the bare app (benchmarks/bare_app.py)
served the same way, then to Flipside. Printed per request kind: ack p50/p99 for both, the ratio of
p99s, and the time until Flipside's reply reached the fake Slack (response_url or chat.postEphemeral).
Goals at the steady rate: ratio of p99s <= 1.3 under gunicorn, <= 2 under `python app.py`; reply p99
under 1 s; no errors.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import (
    DEFAULT_PG_SERVER,
    PG_HOWTO,
    SIGNING_SECRET,
    percentile,
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
    mixed_plans,
    print_figures,
    reply_times,
)

from tests.fakeslack import FakeSlack

GOAL_RATIO = {"gunicorn": 1.3, "app": 2.0}
GOAL_REPLY = 1.0


def measure(world, app: str, args, plans, warmup):
    server = Server(world, app)
    try:
        rate = None if args.flat_out else args.rate / args.clients
        run_clients(
            server.url, SIGNING_SECRET, warmup, processes=args.processes, seconds=2, rate_per_client=rate
        )
        time.sleep(1)  # the warm-up's replies
        since = time.monotonic()
        results = run_clients(
            server.url,
            SIGNING_SECRET,
            plans,
            processes=args.processes,
            seconds=args.seconds,
            rate_per_client=rate,
        )
        replies = reply_times(world.fake, results, since=since, timeout=30) if app == "flipside" else {}
    finally:
        problems = server.stop()
    return results, replies, problems


def run(args, workdir: Path) -> bool:
    name = f"flipside_load_{os.getpid()}"
    with FakeSlack() as fake, database_for(args.setup, workdir, args.pg_server, name) as url:
        world = build_world(url, fake, workdir, args.setup, people=args.people, seats=10_000)
        world.workers, world.threads = args.workers, args.threads
        pace = "flat out (closed loop)" if args.flat_out else f"a steady {args.rate:g} requests/s in all"
        served = (
            "python app.py on SQLite"
            if args.setup == "app"
            else f"gunicorn {args.workers} workers x {args.threads} threads, python -m bot worker, PostgreSQL"
        )
        rule(f"load: {args.clients} clients for {args.seconds:g} s, {pace}; {served}; {args.people} people")
        length = 400 if args.flat_out else math.ceil(args.rate * args.seconds / args.clients) + 1
        plans = mixed_plans(world, clients=args.clients, length=length)
        warmup = mixed_plans(world, clients=args.clients, length=length, prefix="W")
        bare, _, _ = measure(world, "bare", args, plans, warmup)
        flip, replies, problems = measure(world, "flipside", args, plans, warmup)

    print_figures(flip, bare, replies)
    ratio = percentile(flip.latencies(), 99) / percentile(bare.latencies(), 99)
    reply99 = percentile(all_of(replies), 99)
    errors = len(flip.errors) + problems["error lines"] + problems["tracebacks"]
    print(
        f"errors: {len(flip.errors)} failed requests, {problems['error lines']} ERROR lines and "
        f"{problems['tracebacks']} tracebacks logged (bare app: {len(bare.errors)} failed); "
        f"{missing(all_of(replies))} replies missing"
    )
    if args.flat_out:
        print("flat out: for information, no goal")
        return True
    goal = GOAL_RATIO[args.setup]
    ok_ratio, ok_reply = ratio <= goal, reply99 < GOAL_REPLY
    print(f"ratio of ack p99s Flipside / bare = {ratio:.2f} (goal <= {goal:g}: {verdict(ok_ratio)})")
    print(f"reply p99 = {reply99 * 1000:.0f} ms (goal under {GOAL_REPLY:g} s: {verdict(ok_reply)})")
    return ok_ratio and ok_reply and errors == 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--setup", choices=("app", "gunicorn"), default="app")
    parser.add_argument("--rate", type=float, default=50, help="requests/s in all (default 50)")
    parser.add_argument("--flat-out", action="store_true", help="closed loop, as fast as the clients go")
    parser.add_argument("--seconds", type=float, help="measured seconds per app (default 30; flat out 10)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--processes", type=int, default=4, help="client processes the clients share")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--people", type=int, default=300, help="sample organisation stored first")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER)
    parser.add_argument("--quick", action="store_true", help="10 seconds per app")
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 10 if args.flat_out or args.quick else 30
    if args.setup == "gunicorn" and not pg_reachable(args.pg_server):
        print(PG_HOWTO.format(url=args.pg_server), file=sys.stderr)
        return 2
    workdir = temp_dir("load")
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
