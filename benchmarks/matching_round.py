"""How fast and how good is a weekly matching round on a realistic organisation?

    python benchmarks/matching_round.py [--people 10000 --topics 300 --seed 1]
    python benchmarks/matching_round.py --people 2000            # a quick run

Prints the time to build candidates and to solve (best and median of --repeat runs), the peak
memory, and the optimal round side by side with a greedy round and a random (coffee bot)
round. Then what pruning candidate lists costs, and, on a small organisation, the optimum
against networkx's exact general-graph matching. Figures, not a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import networkx as nx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.services.matching import (  # noqa: E402
    DEFAULT_CANDIDATES_PER_WISH,
    PersonInput,
    RoundInput,
    RoundResult,
    SkillInput,
    WishInput,
    build_candidates,
    greedy_round,
    random_round,
    score_pair,
    solve_candidates,
    solve_round,
)

# Career stages: many early and mid career, fewer senior, few executives.
STAGE_SHARES = (0.40, 0.33, 0.21, 0.06)
DEPARTMENTS = (
    "Engineering", "Sales", "Operations", "Customer Success", "Marketing", "Finance", "Product",
    "People", "Data", "Legal", "Design", "Procurement", "Security", "Research", "Communications",
)  # fmt: skip
UNKNOWN_DEPARTMENT_SHARE = 0.02
# London, Berlin, New York, San Francisco, Bangalore, Singapore.
UTC_OFFSETS = (0, 60, -300, -480, 330, 480)
UTC_OFFSET_SHARES = (0.35, 0.20, 0.20, 0.08, 0.12, 0.05)
TEACHING_SLOT_SHARES = (0.08, 0.67, 0.18, 0.07)  # 0 (busy), 1, 2, 3 free slots
CAN_LEARN_SHARE = 0.92  # the others are in a learning pairing already
SKILLS_PER_PERSON = 5
WISHES_PER_PERSON = 5
ZIPF_EXPONENT = 1.0  # topic popularity ~ 1 / rank
DIGITAL_TOPIC_SHARE = 0.35
# How much more likely each career stage is to teach / to want a digital topic.
GOAL_SECONDS = 3.0  # for the default 10,000 people
DIGITAL_TEACHING_BIAS = (3.0, 1.8, 0.8, 0.5)
DIGITAL_LEARNING_BIAS = (0.7, 1.0, 2.0, 3.0)
SKILL_LEVEL_SHARES = (0.30, 0.45, 0.25)
MEAN_WAIT_DAYS = 30
PAST_PAIRS_PER_PERSON = 0.5
RECENT_PARTNERS_PER_PERSON = 0.5  # paired within the repeat window, on any topic
REQUESTED_TEACHER_SHARE = 0.05  # wishes that name a colleague who teaches the topic
BLOCKED_PAIRS_PER_PERSON = 0.02
PRUNING_CHECK_FACTOR = 5

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# A realistic organisation


def generate_organisation(n_people: int, n_topics: int, seed: int) -> RoundInput:
    rng = np.random.default_rng(seed)
    stages = rng.choice(len(STAGE_SHARES), size=n_people, p=STAGE_SHARES)
    department_sizes = 1 / np.arange(2, len(DEPARTMENTS) + 2)  # a few big departments
    departments = rng.choice(len(DEPARTMENTS), size=n_people, p=_shares(department_sizes))
    unknown = rng.random(n_people) < UNKNOWN_DEPARTMENT_SHARE
    offsets = rng.choice(UTC_OFFSETS, size=n_people, p=UTC_OFFSET_SHARES)
    slots = rng.choice(len(TEACHING_SLOT_SHARES), size=n_people, p=TEACHING_SLOT_SHARES)
    can_learn = rng.random(n_people) < CAN_LEARN_SHARE
    person_ids = np.arange(1, n_people + 1)
    people = {
        int(person_id): PersonInput(
            id=int(person_id),
            name=f"Person {person_id}",
            career_stage=int(stages[i]),
            department=None if unknown[i] else DEPARTMENTS[departments[i]],
            teaching_slots=int(slots[i]),
            can_learn=bool(can_learn[i]),
            utc_offset_minutes=int(offsets[i]),
        )
        for i, person_id in enumerate(person_ids)
    }

    popularity = -ZIPF_EXPONENT * np.log(np.arange(1, n_topics + 1))
    digital = rng.random(n_topics) < DIGITAL_TOPIC_SHARE
    teaching_bias = np.log(np.array(DIGITAL_TEACHING_BIAS))[stages][:, None] * digital
    skill_topics = _weighted_sample(rng, popularity + teaching_bias, SKILLS_PER_PERSON)
    wish_logits = popularity + np.log(np.array(DIGITAL_LEARNING_BIAS))[stages][:, None] * digital
    np.put_along_axis(wish_logits, skill_topics, -np.inf, axis=1)  # nobody wishes what they teach
    wish_topics = _weighted_sample(rng, wish_logits, WISHES_PER_PERSON)

    levels = rng.choice([1, 2, 3], size=skill_topics.shape, p=SKILL_LEVEL_SHARES)
    skill_rows = zip(
        np.repeat(person_ids, SKILLS_PER_PERSON), skill_topics.ravel(), levels.ravel(), strict=True
    )
    skills = [
        SkillInput(id=k + 1, person_id=int(p), topic_id=int(t) + 1, level=int(level))
        for k, (p, t, level) in enumerate(skill_rows)
    ]
    waits = rng.exponential(MEAN_WAIT_DAYS, size=wish_topics.shape).astype(int)
    wish_rows = zip(np.repeat(person_ids, WISHES_PER_PERSON), wish_topics.ravel(), waits.ravel(), strict=True)
    wishes = [
        WishInput(id=k + 1, person_id=int(p), topic_id=int(t) + 1, waited_days=int(days))
        for k, (p, t, days) in enumerate(wish_rows)
    ]
    wishes = _with_requests(rng, wishes, skills)
    past, blocked, current = _history(rng, people, wishes, skills)
    recent = {
        frozenset(map(int, pair))
        for pair in rng.choice(person_ids, size=(int(RECENT_PARTNERS_PER_PERSON * n_people), 2))
        if pair[0] != pair[1]
    }
    return RoundInput(
        people=people,
        wishes=wishes,
        skills=skills,
        topic_names={t: f"topic {t}" for t in range(1, n_topics + 1)},
        past_pairs=past,
        blocked_pairs=blocked,
        current_pairs=current,
        recent_partners=recent,
    )


def _with_requests(
    rng: np.random.Generator, wishes: list[WishInput], skills: list[SkillInput]
) -> list[WishInput]:
    """Some wishes name a colleague who teaches the topic (anyone: they may be busy or blocked)."""
    teachers_by_topic: dict[int, list[int]] = {}
    for skill in skills:
        teachers_by_topic.setdefault(skill.topic_id, []).append(skill.person_id)
    asking = rng.random(len(wishes)) < REQUESTED_TEACHER_SHARE
    return [
        dataclasses.replace(wish, requested_teacher_id=int(rng.choice(teachers_by_topic[wish.topic_id])))
        if ask and teachers_by_topic.get(wish.topic_id)
        else wish
        for wish, ask in zip(wishes, asking, strict=True)
    ]


def _shares(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


def _weighted_sample(rng: np.random.Generator, logits: np.ndarray, k: int) -> np.ndarray:
    """k distinct columns per row, drawn without replacement with probability ~ exp(logits)
    (the Gumbel top-k trick, for everyone at once)."""
    shape = (logits.shape[0], logits.shape[-1])
    keys = np.broadcast_to(logits, shape) + rng.gumbel(size=shape)
    return np.argpartition(-keys, k, axis=1)[:, :k]


def _history(
    rng: np.random.Generator,
    people: dict[int, PersonInput],
    wishes: list[WishInput],
    skills: list[SkillInput],
) -> tuple[set[tuple[int, int, int]], set[frozenset[int]], set[frozenset[int]]]:
    """Past pairs on topics people still wish for, a few blocks, and a current pair for
    everyone who is busy learning."""
    teachers_by_topic: dict[int, list[int]] = {}
    for skill in skills:
        teachers_by_topic.setdefault(skill.topic_id, []).append(skill.person_id)
    past: set[tuple[int, int, int]] = set()
    for wish_index in rng.integers(len(wishes), size=int(PAST_PAIRS_PER_PERSON * len(people))):
        wish = wishes[wish_index]
        teachers = teachers_by_topic.get(wish.topic_id, [])
        if teachers:
            past.add((wish.person_id, int(rng.choice(teachers)), wish.topic_id))
    ids = np.array(sorted(people))
    n_blocked = int(BLOCKED_PAIRS_PER_PERSON * len(ids))
    blocked = {frozenset(map(int, pair)) for pair in rng.choice(ids, size=(n_blocked, 2))}
    current = {
        frozenset((person_id, int(rng.choice(ids))))
        for person_id, person in people.items()
        if not person.can_learn
    }
    return past, {pair for pair in blocked if len(pair) == 2}, {p for p in current if len(p) == 2}


# --------------------------------------------------------------------------------------------
# Measuring


def timed(call: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = call()
    return value, time.perf_counter() - start


def cpu_timed(call: Callable[[], T]) -> tuple[T, float, float]:
    """Wall-clock and this process's CPU seconds: on a shared machine the CPU time shows what
    the round itself costs, the wall clock what waiting for the cores added."""
    cpu = time.process_time()
    value, seconds = timed(call)
    return value, seconds, time.process_time() - cpu


def fresh(round_input: RoundInput) -> RoundInput:
    """A copy without the cached index, so each timed run pays for building it."""
    return dataclasses.replace(round_input)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def describe(round_input: RoundInput, result: RoundResult) -> dict[str, float]:
    """Wishes met (one per direction), the shares of reverse and cross-department directions,
    exchanges (two directions, one pairing) and requested teachers proposed."""
    people = round_input.people
    reverse = cross = 0
    for p in result.proposals:
        learner, teacher = people[p.learner_id], people[p.teacher_id]
        reverse += teacher.career_stage < learner.career_stage
        departments = (learner.department, teacher.department)
        cross += None not in departments and departments[0] != departments[1]
    met = max(len(result.proposals), 1)
    return {
        "met": len(result.proposals),
        "reverse": reverse / met,
        "cross_department": cross / met,
        "exchanges": sum(match.back is not None for match in result.matches),
        "requested": sum(p.requested for p in result.proposals),
        "score": result.total_score,
    }


def reference_score(round_input: RoundInput) -> float:
    """networkx's exact blossom matching on every allowed edge, no candidate pruning: learner
    nodes against teacher-slot nodes, each edge the learner's best wish with that teacher."""
    index = round_input.index
    best: dict[tuple[int, int], float] = {}
    for wish in index.wishes:
        if not round_input.people[wish.person_id].can_learn:
            continue
        for skill in index.teachers_by_topic.get(wish.topic_id, []):
            teacher_id = skill.person_id
            if round_input.people[teacher_id].teaching_slots == 0:
                continue
            if not index.is_allowed(round_input, wish, skill):
                continue
            score = score_pair(round_input, wish, skill).total
            key = (wish.person_id, teacher_id)
            best[key] = max(score, best.get(key, 0))
    graph = nx.Graph()
    for (learner_id, teacher_id), score in best.items():
        for slot in range(round_input.people[teacher_id].teaching_slots):
            graph.add_edge(("learner", learner_id), ("slot", teacher_id, slot), weight=score)
    matching = nx.max_weight_matching(graph)
    return sum(graph.edges[u, v]["weight"] for u, v in matching)


# --------------------------------------------------------------------------------------------
# The report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--topics", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES_PER_WISH)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the optimal round")
    parser.add_argument("--reference-people", type=int, default=300, help="0 skips networkx")
    parser.add_argument("--no-pruning-check", action="store_true")
    args = parser.parse_args()

    organisation, generate_seconds = timed(lambda: generate_organisation(args.people, args.topics, args.seed))
    describe_organisation(organisation, args, generate_seconds)
    rss_before_rounds = rss_mib()
    optimal, candidates, round_input = time_optimal_round(organisation, args)
    measure_memory(organisation, args.candidates, rss_before_rounds)
    compare_with_baselines(round_input, candidates, optimal, args.seed)
    if not args.no_pruning_check:
        check_candidate_pruning(organisation, args.candidates, optimal.total_score)
    if args.reference_people:
        check_against_networkx(args.reference_people, args.topics, args.seed)


def describe_organisation(
    organisation: RoundInput, args: argparse.Namespace, generate_seconds: float
) -> None:
    people = organisation.people.values()
    stages = np.bincount([p.career_stage for p in people], minlength=4)
    print(
        f"organisation: {args.people:,} people (early/mid/senior/executive "
        f"{'/'.join(map(str, stages))}), {args.topics} topics, "
        f"{len(organisation.wishes):,} wishes, {len(organisation.skills):,} skills, "
        f"{sum(p.can_learn for p in people):,} can learn, "
        f"{sum(p.teaching_slots for p in people):,} teaching slots "
        f"(generated in {generate_seconds:.1f} s)"
    )
    print(
        f"machine: {os.cpu_count()} cores, load average "
        f"{' '.join(f'{load:.2f}' for load in os.getloadavg())} before the timed runs"
    )


def time_optimal_round(
    organisation: RoundInput, args: argparse.Namespace
) -> tuple[RoundResult, object, RoundInput]:
    k = args.candidates
    builds, solves, cpus = [], [], []
    for _ in range(max(args.repeat, 1)):
        round_input = fresh(organisation)
        candidates, build_seconds, build_cpu = cpu_timed(
            lambda: build_candidates(round_input, candidates_per_wish=k)  # noqa: B023
        )
        optimal, solve_seconds, solve_cpu = cpu_timed(
            lambda: solve_candidates(round_input, candidates)  # noqa: B023
        )
        builds.append(build_seconds)
        solves.append(solve_seconds)
        cpus.append(build_cpu + solve_cpu)
    totals = [b + s for b, s in zip(builds, solves, strict=True)]
    print(
        f"\noptimal round: {k} candidates per wish, {len(candidates):,} candidate edges, "
        f"wall-clock seconds over {len(totals)} runs"
    )
    print(f"{'':20} {'best':>6} {'median':>7}")
    for name, seconds in [
        ("build candidates", builds),
        ("solve", solves),
        ("total", totals),
        ("total CPU time", cpus),
    ]:
        print(f"  {name:18} {min(seconds):6.2f} {statistics.median(seconds):7.2f}")
    print(f"  total score        {optimal.total_score:,.0f}")
    met = "met" if statistics.median(totals) < GOAL_SECONDS else "MISSED"
    print(f"  goal: a round (median total) under {GOAL_SECONDS:g} s: {met}")
    return optimal, candidates, round_input


def measure_memory(organisation: RoundInput, k: int, rss_before_rounds: float) -> None:
    tracemalloc.start()
    solve_round(fresh(organisation), candidates_per_wish=k)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  peak memory        {peak / 2**20:,.0f} MiB allocated by one round (tracemalloc peak)")
    print(
        f"  max RSS            {rss_mib():,.0f} MiB for the whole process, of which "
        f"{rss_before_rounds:,.0f} MiB before any round (interpreter, imports, organisation)"
    )


def compare_with_baselines(
    round_input: RoundInput, candidates: object, optimal: RoundResult, seed: int
) -> None:
    greedy, greedy_seconds = timed(lambda: greedy_round(round_input, candidates=candidates))
    coffee, random_seconds = timed(
        lambda: random_round(round_input, random.Random(seed), candidates=candidates)
    )
    best = optimal.total_score
    asked = sum(wish.requested_teacher_id is not None for wish in round_input.wishes)
    print(
        f"\n{'':8} {'wishes met':>10} {'reverse':>8} {'cross-dept':>10} {'exchanges':>9} "
        f"{'requested':>9} {'score':>9} {'vs optimal':>10}"
    )
    for name, result in [("optimal", optimal), ("greedy", greedy), ("random", coffee)]:
        figures = describe(round_input, result)
        print(
            f"{name:8} {figures['met']:10,} {figures['reverse']:8.1%} "
            f"{figures['cross_department']:10.1%} {figures['exchanges']:9,} "
            f"{figures['requested']:9,} {figures['score']:9,.0f} "
            f"{figures['score'] / best:10.3f}"
        )
    print(f"  ({asked:,} wishes asked for a teacher by name; requested = those proposed that teacher)")
    print(
        f"  (greedy {greedy_seconds:.2f} s on the same candidates; random {random_seconds:.2f} s; "
        "a person learns one topic per round, so at most one wish each is met)"
    )


def check_candidate_pruning(organisation: RoundInput, k: int, pruned_score: float) -> None:
    """What keeping only k candidates per wish costs, against a list several times longer."""
    wider = PRUNING_CHECK_FACTOR * k
    result, seconds = timed(lambda: solve_round(fresh(organisation), candidates_per_wish=wider))
    ratio = pruned_score / result.total_score
    print(
        f"\ncandidate pruning: {k} per wish score {pruned_score:,.0f}; {wider} per wish score "
        f"{result.total_score:,.0f} ({seconds:.1f} s): ratio {ratio:.4f}"
    )


def check_against_networkx(n_people: int, n_topics: int, seed: int) -> None:
    small = generate_organisation(n_people, n_topics, seed)
    exact, seconds = timed(lambda: reference_score(small))
    everyone = solve_round(small, candidates_per_wish=n_people).total_score
    default = solve_round(small).total_score
    print(f"\nreference on {n_people} people: networkx max_weight_matching over every allowed pair")
    print(f"  networkx                           {exact:8,.0f}  ({seconds:.1f} s)")
    print(f"  solve_round, every candidate       {everyone:8,.0f}  {verdict(everyone, exact)}")
    print(f"  solve_round, default candidates    {default:8,.0f}  {verdict(default, exact)}")


def verdict(score: float, exact: float) -> str:
    return "equal" if score == exact else f"differs by {score - exact:+,.0f}"


if __name__ == "__main__":
    main()
