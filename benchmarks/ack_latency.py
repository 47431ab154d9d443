"""How fast does Flipside ack a slash command, next to a bare Bolt app that only acks? (issue 2)

    python benchmarks/ack_latency.py [--requests 500 --clients 20 --pairs 3] [--quick] [--diagnose]

Both apps run in HTTP mode on bot.slack.http.make_http_server (the server `python app.py` uses), each in
its own process: Flipside from bot.create_app on a migrated SQLite file holding the demo's sample
organisation, its Web API calls going to tests.fakeslack.FakeSlack in this process; the bare app
from benchmarks/bare_app.py. The clients are 20 threads spread over a few more processes, so
neither the server nor the fake shares a GIL with the clock that times the acks. Every client
sends the same signed `/teachme <topic>` requests to both apps, each as soon as its last one was
answered (closed loop), after a warm-up; --pairs times each (default 3), alternating bare and
Flipside, since one pair's ratio moves by about 0.2 from run to run on a 2-core machine. Prints
p50/p90/p99/max ack latency, throughput and errors of every run, each pair's ratio flipside_p99 /
bare_p99 and their median (goal <= 1.3; every ack far inside Slack's 3 seconds), and where the time
went inside each server.

Then the same clients at a steady total rate (--rate, default 50/s, far above what a 20,000-person
company sends; Flipside's work keeps up with it), open loop, where the latency is the ack's own.

--diagnose adds an experiment with a bigger Bolt listener pool and a profile of Flipside's
listeners and deferred work.
"""

from __future__ import annotations

import argparse
import json
import pstats
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import (
    SIGNING_SECRET,
    TEAM,
    child_env,
    migrated_sqlite,
    ms,
    percentile,
    remove_tree,
    rule,
    seed_sample_org,
    stop_process,
    temp_dir,
    verdict,
    wait_for_drain,
)
from _loadgen import FORM, Request, Results, run_clients

from bot.cli.sample_org import DIGITAL_TOPICS, EXPERIENCE_TOPICS
from tests import payloads
from tests.fakeslack import RESPONSE_URL_METHOD, FakeSlack

HERE = Path(__file__).resolve().parent
GOAL_RATIO = 1.3
SLACK_ACK_LIMIT = 3.0
FAR_INSIDE = 1.0  # what "far inside 3 s" means here
# What people type: known topics, new ones, several at once, and the odd typo.
TOPICS = (
    *DIGITAL_TOPICS,
    *EXPERIENCE_TOPICS,
    "socail media",
    "Notion databases",
    "excel, tiktok; canva",
    "Figma basics",
    "prompt writing for AI chatbots",
)
NEW_PEOPLE_SHARE = 0.1  # first-time users: a profile modal and a users.info after the reply


class Server:
    """One app under test in its own process (benchmarks/_serve_http.py)."""

    def __init__(self, app: str, *, database: str, slack_url: str, log: Path, extra: list[str]) -> None:
        self.log = log.open("a")
        command = [sys.executable, str(HERE / "_serve_http.py"), "--app", app, "--slack-url", slack_url]
        command += ["--secret", SIGNING_SECRET, "--database", database, *extra]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=child_env(),
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            self.stop()
            raise RuntimeError(f"the {app} server did not start; see {log}")
        self.url = f"http://127.0.0.1:{json.loads(line)['port']}/slack/events"

    def stats(self) -> dict[str, Any]:
        """Server-side timings since the last call, once the listeners still running are done."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        stop_process(self.process)
        self.log.close()


@dataclass
class Bench:
    args: argparse.Namespace
    template: Path  # the migrated, seeded SQLite file; every run starts from a copy
    fake: FakeSlack
    workdir: Path
    plans: list[list[Request]]
    runs: int = 0

    @property
    def total(self) -> int:
        return self.args.clients * self.args.requests

    def measure(
        self,
        app: str,
        *,
        extra: tuple[str, ...] = (),
        rate: float | None = None,
        count: int | None = None,
    ) -> tuple[Results, dict[str, Any]]:
        """Warm up, then time `count` requests per client; returns client and server figures."""
        self.fake.reset()
        self.runs += 1
        copy = self.workdir / f"run{self.runs}.db"
        shutil.copy(self.template, copy)
        server = Server(
            app,
            database=f"sqlite:///{copy}",
            slack_url=self.fake.base_url,
            log=self.workdir / f"{app}.log",
            extra=list(extra),
        )
        processes = self.args.processes
        try:
            run_clients(server.url, SIGNING_SECRET, self.plans, processes=processes, count=self.args.warmup)
            server.stats()  # forget the warm-up
            results = run_clients(
                server.url,
                SIGNING_SECRET,
                self.plans,
                processes=processes,
                count=count or self.args.requests,
                rate_per_client=rate,
            )
            drained = wait_for_drain(f"sqlite:///{copy}") if app == "flipside" else 0.0
            stats = server.stats()  # after the drain: the worker's CPU covers all of its work
            stats["drain_seconds"] = drained
            return results, stats
        finally:
            server.stop()


def build_plans(fake: FakeSlack, users: list[str], *, clients: int, requests: int) -> list[list[Request]]:
    plans = []
    for client in range(clients):
        plan = []
        for index in range(requests):
            user = users[(client + clients * index) % len(users)]
            topic = TOPICS[(3 * client + index) % len(TOPICS)]
            response_url = fake.response_url(f"c{client}-{index}")
            body = payloads.slash_command("/teachme", topic, user=user, team=TEAM, response_url=response_url)
            plan.append(("/teachme", FORM, body))
        plans.append(plan)
    return plans


def p99(results: Results) -> float:
    return percentile(results.latencies(), 99)


def print_header() -> None:
    columns = ("p50 ms", "p90 ms", "p99 ms", "max ms")
    print(f"{'':<26}{''.join(f'{c:>8}' for c in columns)}{'req/s':>9}{'errors':>8}{'>1s':>6}{'>3s':>6}")


def print_row(label: str, results: Results) -> None:
    latencies = results.latencies()
    slow = sum(1 for value in latencies if value > FAR_INSIDE)
    too_slow = sum(1 for value in latencies if value > SLACK_ACK_LIMIT)
    figures = "".join(ms(percentile(latencies, q)) for q in (50, 90, 99, 100))
    rate = len(results.samples) / results.seconds
    print(f"{label:<26}{figures}{rate:9.0f}{len(results.errors):8d}{slow:6d}{too_slow:6d}")


def print_server_header() -> None:
    columns = ("ack p50", "p99", "wait p50", "p99", "run p50", "p99", "CPU ms", "worker", "peak q")
    print(f"{'':<26}" + "".join(f"{c:>9}" for c in columns))


def print_server_row(label: str, stats: dict[str, Any], requests: int) -> None:
    names = ("ack", "queue", "listener")
    cells = "".join(f" {ms(stats[name][q])}" for name in names for q in ("p50", "p99"))
    cpu_ms = stats["cpu_seconds"] / max(requests, 1) * 1000
    worker_ms = stats["worker_cpu_seconds"] / max(requests, 1) * 1000
    print(f"{label:<26}{cells}{cpu_ms:9.2f}{worker_ms:9.2f}{stats['peak_listeners_waiting_or_running']:9d}")


def headline(bench: Bench) -> tuple[Results, Results]:
    """Flat out, closed loop: `--pairs` runs of each app, alternating, judged on the median ratio.
    One pair's ratio moves by +-0.2 on a 2-core machine from run to run (both p99s are a few
    dozen slowest requests out of thousands), so every pair is printed and the median decides."""
    args = bench.args
    rule(
        f"ack latency: {args.clients} clients x {args.requests} signed /teachme each, closed loop, "
        f"after {args.warmup} each to warm up; SQLite holding {args.people} people; "
        f"{args.pairs} pair(s) of runs, bare app then Flipside"
    )
    pairs = []
    for _ in range(args.pairs):
        bare, bare_stats = bench.measure("bare")
        flip, flip_stats = bench.measure("flipside")  # the fake's calls from here on are Flipside's
        pairs.append((bare, bare_stats, flip, flip_stats, bench.fake.calls_to(RESPONSE_URL_METHOD)))
    print_header()
    for index, (bare, _, flip, _, _) in enumerate(pairs, 1):
        print_row(f"{index}. bare Bolt app", bare)
        print_row(f"{index}. Flipside", flip)
    ratios = [p99(flip) / p99(bare) for bare, _, flip, _, _ in pairs]
    middle = statistics.median_low(ratios)  # a pair's own ratio, also with an even number of pairs
    print(
        f"ratio flipside_p99 / bare_p99 by pair: {', '.join(f'{ratio:.2f}' for ratio in ratios)}; "
        f"median {middle:.2f} (goal <= {GOAL_RATIO}: {verdict(middle <= GOAL_RATIO)}); "
        f"worst {max(ratios):.2f}"
    )
    worst = max(max(flip.latencies() or [0.0]) for _, _, flip, _, _ in pairs)
    errors = sum(len(bare.errors) + len(flip.errors) for bare, _, flip, _, _ in pairs)
    print(
        f"slowest Flipside ack: {worst * 1000:.0f} ms (Slack allows {SLACK_ACK_LIMIT:.0f} s; "
        f"goal under {FAR_INSIDE:.0f} s: {verdict(worst < FAR_INSIDE)}); errors: {errors}"
    )
    commands = args.clients * (args.warmup + args.requests)
    replies = [len(calls) for *_, calls in pairs]
    print(
        f"Flipside's work after its acks: {', '.join(map(str, replies))} ephemeral replies "
        f"for {commands} commands a run (warm-up included)"
    )
    rule("where the time went, measured inside each server (ms; CPU ms per request)")
    print_server_header()
    for index, (_, bare_stats, _, flip_stats, _) in enumerate(pairs, 1):
        print_server_row(f"{index}. bare Bolt app", bare_stats, bench.total)
        print_server_row(f"{index}. Flipside", flip_stats, bench.total)
    print(
        "ack: WSGI call to start_response. wait: a listener waiting for a thread of Bolt's listener\n"
        "pool (App's default: 5 threads), and ack() is only called once it has one. run: the\n"
        "listener's run on that pool (its ack, and handing over its task). peak q: most\n"
        "listeners waiting or running at once. CPU: the web process's CPU time per request;\n"
        "worker: the worker child's (recording, reply, profile modal, App Home redraw)."
    )
    drains = ", ".join(f"{flip_stats['drain_seconds']:.1f}" for _, _, _, flip_stats, _ in pairs)
    overflows = sum(flip_stats["pipe_overflows"] for _, _, _, flip_stats, _ in pairs)
    print(
        f"Flipside's worker finished the handed-over work {drains} s after the last ack (flat out, the "
        f"acks outrun the work and the replies lag behind); its pipe was full for {overflows} tasks "
        "(stored by the web side's spool instead)"
    )
    paced(bench)
    median_pair = pairs[ratios.index(middle)]
    return median_pair[0], median_pair[2]


def paced(bench: Bench) -> None:
    """The same clients at a fixed total rate that Flipside's work keeps up with (open loop)."""
    args = bench.args
    rate = args.rate / args.clients
    count = max(10, min(args.requests, int(rate * 40)))
    rule(
        f"ack latency at a steady {args.rate:.0f} requests/s in all ({args.clients} clients x {rate:.1f}/s, "
        f"{count} each; latency counted from when each was due)"
    )
    results = {app: bench.measure(app, rate=rate, count=count) for app in ("bare", "flipside")}
    print_header()
    print_row("bare Bolt app (acks only)", results["bare"][0])
    print_row("Flipside", results["flipside"][0])
    ratio = p99(results["flipside"][0]) / p99(results["bare"][0])
    drained = results["flipside"][1]["drain_seconds"]
    met = verdict(ratio <= GOAL_RATIO)
    print(f"ratio flipside_p99 / bare_p99 = {ratio:.2f} (goal <= {GOAL_RATIO}: {met})")
    print(f"Flipside's worker finished the handed-over work {drained:.2f} s after the last ack")


def diagnose(bench: Bench, bare: Results, flip: Results) -> None:
    args = bench.args
    rule("diagnosis 1 (experiment, not the app as shipped): 40 listener threads instead of Bolt's 5")
    big, big_stats = bench.measure("flipside", extra=("--listener-threads", "40"))
    report_experiment(bench, "Flipside, 40 threads", big, big_stats, bare)

    rule("diagnosis 2: where Flipside's listeners spend their time (cProfile, wall clock, closed loop)")
    profile = bench.workdir / "listeners.pstats"
    bench.measure("flipside", extra=("--profile", str(profile)), count=max(10, args.requests // 4))
    stats = pstats.Stats(str(profile))
    stats.sort_stats("cumulative").print_stats(
        r"bot/|_perform_urllib_http_request|method 'execute'|rapidfuzz", 22
    )


def report_experiment(
    bench: Bench, label: str, results: Results, stats: dict[str, Any], bare: Results
) -> None:
    print_header()
    print_row(label, results)
    print(f"ratio to the bare app's p99 = {p99(results) / p99(bare):.2f}")
    print_server_header()
    print_server_row(label, stats, bench.total)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500, help="measured requests per client")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--pairs", type=int, default=3, help="flat-out runs of each app, alternating (median ratio decides)"
    )
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests per client")
    parser.add_argument("--processes", type=int, default=4, help="client processes the clients share")
    parser.add_argument(
        "--rate", type=float, default=50, help="requests/s in all for the steady run (default 50)"
    )
    parser.add_argument("--people", type=int, default=300, help="sample organisation already stored")
    parser.add_argument("--quick", action="store_true", help="100 requests per client, 10 to warm up")
    parser.add_argument("--diagnose", action="store_true", help="the runs that explain the ratio")
    parser.add_argument("--steady-only", action="store_true", help="only the steady-rate run")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (database, logs)")
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    if args.quick:
        args.requests, args.warmup = min(args.requests, 100), min(args.warmup, 10)

    workdir = temp_dir("ack")
    try:
        database = migrated_sqlite(workdir)
        sample = seed_sample_org(database, args.people)
        newcomers = [
            f"UNEW{n:05d}" for n in range(round(args.people * NEW_PEOPLE_SHARE / (1 - NEW_PEOPLE_SHARE)))
        ]
        with FakeSlack() as fake:
            for person in sample:
                fake.add_user(
                    person.user_id, name=person.user_id.lower(), real_name=person.name, tz=person.tz
                )
            for user_id in newcomers:
                fake.add_user(user_id, name=user_id.lower(), real_name="New Colleague")
            users = [person.user_id for person in sample] + newcomers
            plans = build_plans(fake, users, clients=args.clients, requests=max(args.requests, args.warmup))
            bench = Bench(args, workdir / "flipside.db", fake, workdir, plans)
            if args.steady_only:
                paced(bench)
                return 0
            bare, flip = headline(bench)
            if args.diagnose:
                diagnose(bench, bare, flip)
        return 0
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            remove_tree(workdir)


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"\n(took {time.monotonic() - started:.0f} s)")
    sys.exit(code)
