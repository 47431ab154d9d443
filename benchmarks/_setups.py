"""What load.py and burst.py share: the two ways Flipside is served, its world, the requests and
the replies they bring. Not a benchmark itself.

Setups (the bare app always runs the same way, to be compared fairly):
- "app":      `python app.py` on SQLite: HTTP server, scheduler and worker threads in one process;
              the bare app by `python benchmarks/bare_app.py` on the same HTTP server.
- "gunicorn": the Procfile's web line (`gunicorn bot.wsgi:application`) on PostgreSQL, with the
              Procfile's `python -m bot worker` beside it; the bare app under the same gunicorn.

Every request carries a key, and so does the reply it brings at the fake Web API: a response_url
ends in it (/teachme, Sign up), the wishes modal names a channel C<key> in its private_metadata,
where the ephemeral reply goes. The fake records each call's time.monotonic(), the clock the
load generator stamps requests with, so a reply's time counts from when its request was sent (or
due, at a steady rate) to when the reply reached Slack.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from _common import (
    BOT_TOKEN,
    ROOT,
    SIGNING_SECRET,
    TEAM,
    child_env,
    count_log_problems,
    free_port,
    ms,
    percentile,
    pg_database,
    seed_sample_org,
    stop_process,
    wait_for_http,
)
from _loadgen import FORM, Request, Results
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.cli import migrations
from bot.cli.sample_org import DIGITAL_TOPICS, EXPERIENCE_TOPICS
from bot.db import Database
from bot.ids import Action, Block, Modal
from bot.services import profiles
from models import LunchSession, LunchSignup, LunchStatus, utcnow
from tests import payloads
from tests.fakeslack import RESPONSE_URL_METHOD, FakeSlack

HERE = Path(__file__).resolve().parent
LUNCH_CHANNEL = "C0LUNCH"
TOPICS = (*DIGITAL_TOPICS, *EXPERIENCE_TOPICS, "socail media", "Notion databases", "excel, tiktok; canva")
TEACHME, SIGN_UP, WISHES = "/teachme", "button Sign up", "modal wishes"


# ----------------------------------------------------------------------------- the world


@dataclass
class World:
    url: str  # the migrated database, holding the sample organisation and one lunch session
    fake: FakeSlack
    users: list[str]  # people in the sample organisation, except the lunch's host
    lunch_id: int
    workdir: Path
    setup: str
    workers: int = 2
    threads: int = 8
    logs: list[Path] = field(default_factory=list)


@contextlib.contextmanager
def database_for(setup: str, workdir: Path, pg_server: str, name: str) -> Iterator[str]:
    """SQLite under `python app.py` (its default), a fresh PostgreSQL database under gunicorn."""
    if setup == "app":
        yield f"sqlite:///{workdir / 'flipside.db'}"
    else:
        with pg_database(pg_server, name) as url:
            yield url


def build_world(url: str, fake: FakeSlack, workdir: Path, setup: str, *, people: int, seats: int) -> World:
    database = Database(url)
    migrations.upgrade(database)
    database.dispose()
    sample = seed_sample_org(url, people)
    for person in sample:
        fake.add_user(person.user_id, name=person.user_id.lower(), real_name=person.name, tz=person.tz)
    host = sample[-1].user_id
    # The announcement is in the channel already, so each signup redraws it with chat.update.
    posted = WebClient(token=BOT_TOKEN, base_url=fake.base_url).chat_postMessage(
        channel=LUNCH_CHANNEL, text="Lunch 'n' Learn: Spreadsheets without tears"
    )
    database = Database(url)
    try:
        with database.transaction() as session:
            person = profiles.get_person(session, team_id=TEAM, slack_user_id=host)
            lunch = LunchSession(
                team_id=TEAM,
                host_id=person.id,
                proposed_by_id=person.id,
                title="Spreadsheets without tears",
                description="Bring a laptop.",
                starts_at=utcnow() + timedelta(days=3),
                duration_minutes=45,
                location="Room 4",
                capacity=seats,
                status=LunchStatus.SCHEDULED,
                channel_id=LUNCH_CHANNEL,
                message_ts=posted["ts"],
            )
            session.add(lunch)
            session.flush()
            lunch_id = lunch.id
    finally:
        database.dispose()
    return World(url, fake, [p.user_id for p in sample[:-1]], lunch_id, workdir, setup)


def seat_counts(world: World) -> dict[str, int]:
    """Signups of the world's lunch by status, and rows beyond one per person."""
    database = Database(world.url)
    try:
        with database.read_only() as session:
            rows = session.execute(
                select(LunchSignup.status, func.count(), func.count(LunchSignup.person_id.distinct()))
                .where(LunchSignup.session_id == world.lunch_id)
                .group_by(LunchSignup.status)
            ).all()
    finally:
        database.dispose()
    counts = {str(status.value): count for status, count, _ in rows}
    counts["duplicates"] = sum(count for _, count, _ in rows) - sum(people for *_, people in rows)
    return counts


# ----------------------------------------------------------------------------- requests


def teachme(world: World, user: str, key: str, step: int) -> Request:
    topic = TOPICS[step % len(TOPICS)]
    url = world.fake.response_url(key)
    body = payloads.slash_command("/teachme", topic, user=user, team=TEAM, response_url=url)
    return TEACHME, FORM, body, key


def sign_up(world: World, user: str, key: str, step: int) -> Request:
    body = payloads.block_action(
        Action.LUNCH_SIGN_UP,
        str(world.lunch_id),
        user=user,
        team=TEAM,
        response_url=world.fake.response_url(key),
        channel=LUNCH_CHANNEL,
    )
    return SIGN_UP, FORM, body, key


def wishes(world: World, user: str, key: str, step: int) -> Request:
    values = {Block.TOPICS: payloads.text_input(TOPICS[(step + 5) % len(TOPICS)])}
    metadata = json.dumps({"channel_id": f"C{key}"})
    body = payloads.view_submission(Modal.WISHES, values, user=user, team=TEAM, private_metadata=metadata)
    return WISHES, FORM, body, key


MIX = (teachme, sign_up, wishes)


def mixed_plans(world: World, *, clients: int, length: int, prefix: str = "K") -> list[list[Request]]:
    """Per client `length` requests cycling through the mix, each from the next person."""
    plans = []
    for client in range(clients):
        plan = []
        for step in range(length):
            user = world.users[(client + clients * step) % len(world.users)]
            plan.append(MIX[(client + step) % len(MIX)](world, user, f"{prefix}{client}x{step}", step))
        plans.append(plan)
    return plans


# ----------------------------------------------------------------------------- replies


def reply_key(method: str, path: str, args: dict) -> str | None:
    if method == RESPONSE_URL_METHOD:
        return path.rsplit("/", 1)[-1]
    if method == "chat.postEphemeral" and str(args.get("channel", "")).startswith(("CK", "CW")):
        return str(args["channel"])[1:]
    return None


def reply_times(fake: FakeSlack, results: Results, *, since: float, timeout: float) -> dict[str, list[float]]:
    """Per request kind, seconds from each request's send to its reply at the fake; a request with
    no reply within `timeout` after the last send counts as infinity."""
    wanted = [sample for sample in results.samples if not sample.error]
    deadline = time.monotonic() + timeout
    while True:
        arrived: dict[str, list[float]] = {}
        for call in fake.calls:
            key = reply_key(call.method, call.path, call.args) if call.at >= since else None
            if key:
                arrived.setdefault(key, []).append(call.at)
        if all(sample.key in arrived for sample in wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    times: dict[str, list[float]] = {}
    for sample in wanted:
        later = [at for at in arrived.get(sample.key, []) if at >= sample.at]
        times.setdefault(sample.kind, []).append(min(later) - sample.at if later else float("inf"))
    return {kind: sorted(values) for kind, values in times.items()}


def all_of(times: dict[str, list[float]]) -> list[float]:
    return sorted(value for values in times.values() for value in values)


def missing(values: list[float]) -> int:
    return sum(1 for value in values if value == float("inf"))


def print_figures(flip: Results, bare: Results | None, replies: dict[str, list[float]]) -> None:
    """Per request kind: Flipside's ack p50/p99, the bare app's, the ratio of p99s, reply p50/p99."""
    print(
        f"{'':<16}{'ack p50':>9}{'p99':>9}{'bare p50':>9}{'p99':>9}{'ratio':>7}"
        f"{'reply p50':>10}{'p99':>9}{'max':>9}{'sent':>6}{'errors':>7}{'no reply':>9}"
    )
    for kind in [*flip.kinds(), None]:
        mine = flip.latencies(kind)
        base = bare.latencies(kind) if bare else []
        reply = all_of(replies) if kind is None else replies.get(kind, [])
        ratio = percentile(mine, 99) / percentile(base, 99) if base else float("nan")
        sent = sum(1 for sample in flip.samples if kind in (None, sample.kind))
        errors = sum(1 for sample in flip.errors if kind in (None, sample.kind))
        print(
            f"{kind or 'all':<16}{ms(percentile(mine, 50))} {ms(percentile(mine, 99))}"
            f" {ms(percentile(base, 50))} {ms(percentile(base, 99))}{ratio:7.2f}"
            f"  {ms(percentile(reply, 50))} {ms(percentile(reply, 99))} {ms(max(reply or [0.0]))}"
            f"{sent:6d}{errors:7d}{missing(reply):9d}"
        )
    print(f"sent {len(flip.samples) / flip.seconds:.0f} requests/s to Flipside; times in ms")


# ----------------------------------------------------------------------------- servers


class Server:
    """Flipside or the bare app as `world.setup` serves it, with Flipside's worker process under
    gunicorn; stop() returns the ERROR lines and tracebacks they logged."""

    def __init__(self, world: World, app: str) -> None:
        port = free_port()
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": world.fake.base_url,
            "DATABASE_URL": world.url,
            "PORT": str(port),
        }
        python = sys.executable
        if world.setup == "app":
            commands = [[python, "app.py"] if app == "flipside" else [python, str(HERE / "bare_app.py")]]
        else:
            target = "bot.wsgi:application" if app == "flipside" else "benchmarks.bare_app:application"
            gunicorn = [python, "-m", "gunicorn", target, "--bind", f"127.0.0.1:{port}", "--timeout", "30"]
            gunicorn += ["--workers", str(world.workers), "--threads", str(world.threads)]
            commands = [gunicorn] + ([[python, "-m", "bot", "worker"]] if app == "flipside" else [])
        self.logs = [world.workdir / f"{app}-{world.setup}-{n}.log" for n in range(len(commands))]
        world.logs += self.logs
        self.processes = []
        for command, log in zip(commands, self.logs, strict=True):
            with log.open("w") as out:
                self.processes.append(
                    subprocess.Popen(command, cwd=ROOT, env=child_env(**env), stdout=out, stderr=out)
                )
        self.url = f"http://127.0.0.1:{port}/slack/events"
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60, process=self.processes[0])
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> dict[str, int]:
        problems = {"error lines": 0, "tracebacks": 0}
        for process, log in zip(self.processes, self.logs, strict=True):
            stop_process(process, timeout=20)
            for name, count in count_log_problems(log.read_text(errors="replace").splitlines()).items():
                problems[name] += count
        return problems
