"""Flipside under gunicorn on PostgreSQL: commands, buttons and modals from 20 clients. (issue 6)

    python benchmarks/load.py [--seconds 60 --clients 20 --workers 3 --threads 8] [--quick]

Runs `gunicorn bot.wsgi:application` the way the Procfile does (3 workers x 8 threads unless told
otherwise) and the Procfile's `python -m bot worker` beside it, on a PostgreSQL database made for
the run (migrated with `python -m bot migrate`, holding the demo's sample organisation, dropped
afterwards), their Web API calls going to tests.fakeslack.FakeSlack in this process. 20 clients
in their own processes send signed requests in turn, each as soon as its last one was answered,
for 60 seconds:

    /teachme <topic>                  slash command (an ephemeral reply after the ack)
    button open_wishes                block_actions from App Home (views.open)
    button remove_wish                block_actions inside the wishes modal (views.update)
    modal profile_modal               view_submission with valid values (an ephemeral note)

then the same against benchmarks/bare_app.py (a Bolt app that only acks them) under the same
gunicorn settings. Prints p50/p99 ack latency per request type for both, the errors (goal 0,
counting errors logged after an ack too) and the ratios to the bare app.

PostgreSQL: --pg-server (or FLIPSIDE_BENCH_PG), default postgresql://postgres@127.0.0.1:55432/postgres;
the script creates and drops its own database there. If it is not reachable the script says how
to start one and exits 2.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import (
    BOT_TOKEN,
    DEFAULT_PG_SERVER,
    PG_HOWTO,
    ROOT,
    SIGNING_SECRET,
    TEAM,
    child_env,
    count_log_problems,
    free_port,
    ms,
    percentile,
    pg_database,
    pg_reachable,
    remove_tree,
    rule,
    seed_sample_org,
    stop_process,
    temp_dir,
    verdict,
    wait_for_drain,
    wait_for_http,
)
from _loadgen import FORM, Request, Results, run_clients
from sqlalchemy import select

from bot.cli.sample_org import DEPARTMENTS, DIGITAL_TOPICS, EXPERIENCE_TOPICS
from bot.db import Database
from bot.ids import Action, Block, Modal
from models import CareerStage, Person, Wish
from tests import payloads
from tests.fakeslack import RESPONSE_URL_METHOD, FakeSlack

KINDS = ("/teachme", "button open_wishes", "button remove_wish", "modal profile")
TOPICS = (*DIGITAL_TOPICS, *EXPERIENCE_TOPICS, "Notion databases", "socail media", "excel, tiktok; canva")
STAGES = tuple(stage.value for stage in CareerStage)


def migrate(url: str, log) -> None:
    command = [sys.executable, "-m", "bot", "migrate"]
    subprocess.run(command, check=True, cwd=ROOT, env=child_env(DATABASE_URL=url), stdout=log, stderr=log)


def wishes_by_user(url: str) -> dict[str, list[int]]:
    database = Database(url)
    try:
        with database.transaction() as session:
            rows = session.execute(
                select(Person.slack_user_id, Wish.id).join(Wish, Wish.person_id == Person.id)
            )
            found: dict[str, list[int]] = {}
            for user_id, wish_id in rows:
                found.setdefault(user_id, []).append(wish_id)
            return found
    finally:
        database.dispose()


def build_plans(
    fake: FakeSlack, users: list[str], wishes: dict[str, list[int]], clients: int
) -> list[list[Request]]:
    """Per client a cycle of the four request types, each from a different person."""
    plans = []
    steps = 60  # per client; the cycle repeats for as long as the run lasts
    for client in range(clients):
        plan: list[Request] = []
        for step in range(steps):
            user = users[(client + clients * step) % len(users)]
            kind = KINDS[step % len(KINDS)]
            if kind == "/teachme":
                topic = TOPICS[(client + step) % len(TOPICS)]
                response_url = fake.response_url(f"c{client}-{step}")
                body = payloads.slash_command(
                    "/teachme", topic, user=user, team=TEAM, response_url=response_url
                )
            elif kind == "button open_wishes":
                body = payloads.block_action(Action.OPEN_WISHES, user=user, team=TEAM)
            elif kind == "button remove_wish":
                mine = wishes.get(user) or [0]
                modal = {
                    "id": f"VWISHES{client}",
                    "type": "modal",
                    "callback_id": Modal.WISHES,
                    "private_metadata": "",
                }
                body = payloads.block_action(
                    Action.REMOVE_WISH, str(mine[step % len(mine)]), user=user, team=TEAM, view=modal
                )
            else:
                values = {
                    Block.CAREER_STAGE: payloads.select(STAGES[step % len(STAGES)]),
                    Block.DEPARTMENT: payloads.text_input(DEPARTMENTS[client % len(DEPARTMENTS)]),
                    Block.CAPACITY: payloads.select(str(1 + step % 3)),
                    Block.PAUSED: payloads.checkboxes(),
                }
                metadata = json.dumps({"channel_id": "C0GENERAL"})
                body = payloads.view_submission(
                    Modal.PROFILE, values, user=user, team=TEAM, private_metadata=metadata
                )
            plan.append((kind, FORM, body))
        plans.append(plan)
    return plans


class Gunicorn:
    def __init__(self, target: str, env: dict[str, str], args: argparse.Namespace, log_path: Path) -> None:
        port = free_port()
        self.log_path = log_path
        self.log = log_path.open("w")
        command = [sys.executable, "-m", "gunicorn", target, "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", str(args.workers), "--threads", str(args.threads), "--timeout", "30"]
        command += ["--graceful-timeout", "5", "--chdir", str(ROOT)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=child_env(**env), stdout=self.log, stderr=self.log
        )
        self.url = f"http://127.0.0.1:{port}/slack/events"
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60, process=self.process)
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> dict[str, int]:
        stop_process(self.process, timeout=20)
        self.log.close()
        return count_log_problems(self.log_path.read_text(errors="replace").splitlines())


class WorkerProcess:
    """The Procfile's `worker: python -m bot worker`, beside gunicorn."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            cwd=ROOT,
            env=child_env(**env),
            stdout=self.log,
            stderr=self.log,
        )

    def stop(self) -> dict[str, int]:
        stop_process(self.process, timeout=20)
        self.log.close()
        return count_log_problems(self.log_path.read_text(errors="replace").splitlines())


def measure(
    target: str, env: dict[str, str], plans, args, workdir: Path, name: str, *, worker: bool = False
) -> tuple[Results, dict]:
    server = Gunicorn(target, env, args, workdir / f"{name}.log")
    work = WorkerProcess(env, workdir / f"{name}-worker.log") if worker else None
    problems: dict[str, int] = {}
    try:
        rate = args.rate / args.clients if args.rate else None
        run_clients(
            server.url,
            SIGNING_SECRET,
            plans,
            processes=args.processes,
            seconds=args.warmup,
            rate_per_client=rate,
        )
        time.sleep(1)  # the warm-up's work after its acks
        results = run_clients(
            server.url,
            SIGNING_SECRET,
            plans,
            processes=args.processes,
            seconds=args.seconds,
            rate_per_client=rate,
        )
        if work is not None:
            problems["drain seconds"] = wait_for_drain(env["DATABASE_URL"])
        time.sleep(1)  # let the last redraws finish before counting what was logged
    finally:
        for key, value in server.stop().items():
            problems[key] = problems.get(key, 0) + value
        if work is not None:
            for key, value in work.stop().items():
                problems[key] = problems.get(key, 0) + value
    return results, problems


def print_table(flip: Results, bare: Results) -> list[float]:
    print(
        f"{'':<22}{'Flipside p50':>13}{'p99':>8}{'bare p50':>10}{'p99':>8}{'ratio p50':>11}{'ratio p99':>10}"
        f"{'requests':>10}{'errors':>8}"
    )
    ratios = []
    for kind in [*KINDS, None]:
        mine, base = flip.latencies(kind), bare.latencies(kind)
        label = kind or "all"
        ratio50 = percentile(mine, 50) / percentile(base, 50)
        ratio99 = percentile(mine, 99) / percentile(base, 99)
        if kind is not None:
            ratios.append(ratio99)
        errors = sum(1 for sample in flip.errors if kind is None or sample.kind == kind)
        print(
            f"{label:<22}{ms(percentile(mine, 50)):>13}{ms(percentile(mine, 99))}"
            f"{ms(percentile(base, 50)):>10}{ms(percentile(base, 99))}{ratio50:11.2f}{ratio99:10.2f}"
            f"{len([s for s in flip.samples if kind is None or s.kind == kind]):10d}{errors:8d}"
        )
    return ratios


def run(url: str, args: argparse.Namespace, workdir: Path) -> bool:
    with (workdir / "setup.log").open("w") as log:
        migrate(url, log)
    sample = seed_sample_org(url, args.people)
    wishes = wishes_by_user(url)
    pace = f"{args.rate:g} requests/s in all" if args.rate else "closed loop"
    rule(
        f"load: {args.clients} clients for {args.seconds:g} s each, {pace}; gunicorn --workers "
        f"{args.workers} --threads {args.threads}; PostgreSQL holding {args.people} people"
    )
    with FakeSlack() as fake:
        for person in sample:
            fake.add_user(person.user_id, name=person.user_id.lower(), real_name=person.name, tz=person.tz)
        plans = build_plans(fake, [p.user_id for p in sample], wishes, args.clients)
        flipside_env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.base_url,
            "DATABASE_URL": url,
            "LOG_LEVEL": "WARNING",
        }
        flip, flip_problems = measure(
            "bot.wsgi:application", flipside_env, plans, args, workdir, "flipside", worker=True
        )
        effects = {
            method: len(fake.calls_to(method))
            for method in (
                RESPONSE_URL_METHOD,
                "views.open",
                "views.update",
                "chat.postEphemeral",
                "users.info",
            )
        }
        bare_env = {"SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake.base_url}
        bare, bare_problems = measure(
            "benchmarks.bare_app:application", bare_env, plans, args, workdir, "bare"
        )

    ratios = print_table(flip, bare)
    flip_rate, bare_rate = len(flip.samples) / flip.seconds, len(bare.samples) / bare.seconds
    print(f"throughput: Flipside {flip_rate:.0f} requests/s, bare {bare_rate:.0f} requests/s")
    errors = len(flip.errors) + flip_problems["error lines"] + flip_problems["tracebacks"]
    kinds_of_errors: dict[str, int] = {}
    for sample in flip.errors:
        kinds_of_errors[sample.error or ""] = kinds_of_errors.get(sample.error or "", 0) + 1
    print(
        f"errors: {len(flip.errors)} failed requests {kinds_of_errors or ''}; Flipside's log: "
        f"{flip_problems['error lines']} ERROR lines, {flip_problems['tracebacks']} tracebacks "
        f"(goal 0: {verdict(errors == 0)}); bare app: {len(bare.errors)} failed, {bare_problems}"
    )
    print(
        f"worst ratio of p99s {max(ratios):.2f}; slowest Flipside ack {max(flip.latencies()) * 1000:.0f} ms; "
        f"the worker process finished the handed-over work {flip_problems.get('drain seconds', 0):.1f} s "
        "after the last ack"
    )
    print(
        "Web API calls Flipside made (work after the acks, warm-up included): "
        + ", ".join(f"{method} {count}" for method, count in effects.items())
    )
    return errors == 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=5, help="seconds of warm-up per app")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--processes", type=int, default=4, help="client processes the clients share")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (the Procfile's default)")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker (the Procfile's)")
    parser.add_argument("--people", type=int, default=300, help="sample organisation stored first")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER)
    parser.add_argument(
        "--rate", type=float, help="requests/s in all at fixed intervals (default: closed loop, flat out)"
    )
    parser.add_argument("--quick", action="store_true", help="10 seconds per app")
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 1 when there were errors")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup = min(args.seconds, 10), min(args.warmup, 2)
    if not pg_reachable(args.pg_server):
        print(PG_HOWTO.format(url=args.pg_server), file=sys.stderr)
        return 2
    workdir = temp_dir("load")
    try:
        with pg_database(args.pg_server, f"flipside_bench_load_{os.getpid()}") as url:
            ok = run(url, args, workdir)
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
