"""How fast and how good is a weekly matching round on a realistic organisation?

    python benchmarks/matching_round.py [--people 10000 --topics 300 --seed 1]

Prints the time to build candidates and to solve, the peak memory, and the optimal round side
by side with a greedy round and a random (coffee bot) round. Then, on a small organisation,
checks the optimum against networkx's exact general-graph matching.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
TEACHING_SLOT_SHARES = (0.08, 0.67, 0.18, 0.07)  # 0, 1, 2, 3 free slots
CAN_LEARN_SHARE = 0.92
SKILLS_PER_PERSON = 5
WISHES_PER_PERSON = 5
ZIPF_EXPONENT = 1.0
DIGITAL_TOPIC_SHARE = 0.35
# How much more likely each career stage is to teach / to want a digital topic.
DIGITAL_TEACHING_BIAS = (3.0, 1.8, 0.8, 0.5)
DIGITAL_LEARNING_BIAS = (0.7, 1.0, 2.0, 3.0)
SKILL_LEVEL_SHARES = (0.30, 0.45, 0.25)
MEAN_WAIT_DAYS = 30
PAST_PAIRS_PER_PERSON = 0.5
BLOCKED_PAIRS_PER_PERSON = 0.02
REFERENCE_PEOPLE = 300

T = TypeVar("T")


def generate_organisation(n_people: int, n_topics: int, seed: int) -> RoundInput:
    rng = np.random.default_rng(seed)
    stages = rng.choice(len(STAGE_SHARES), size=n_people, p=STAGE_SHARES)
    department_sizes = 1 / np.arange(2, len(DEPARTMENTS) + 2)  # a few big departments
    departments = rng.choice(len(DEPARTMENTS), size=n_people, p=_shares(department_sizes))
    unknown = rng.random(n_people) < UNKNOWN_DEPARTMENT_SHARE
    offsets = rng.choice(UTC_OFFSETS, size=n_people, p=UTC_OFFSET_SHARES)
    slots = rng.choice(len(TEACHING_SLOT_SHARES), size=n_people, p=TEACHING_SLOT_SHARES)
    can_learn = rng.random(n_people) < CAN_LEARN_SHARE
    people = {
        person_id: PersonInput(
            id=person_id,
            name=f"Person {person_id}",
            career_stage=int(stages[i]),
            department=None if unknown[i] else DEPARTMENTS[departments[i]],
            teaching_slots=int(slots[i]),
            can_learn=bool(can_learn[i]),
            utc_offset_minutes=int(offsets[i]),
        )
        for i, person_id in enumerate(range(1, n_people + 1))
    }

    popularity = np.log(1 / np.arange(1, n_topics + 1) ** ZIPF_EXPONENT)
    digital = rng.random(n_topics) < DIGITAL_TOPIC_SHARE
    teaching_bias = np.log(np.array(DIGITAL_TEACHING_BIAS))[stages][:, None] * digital
    skill_topics = _weighted_sample(rng, popularity + teaching_bias, SKILLS_PER_PERSON)
    learning_bias = np.log(np.array(DIGITAL_LEARNING_BIAS))[stages][:, None] * digital
    wish_logits = popularity + learning_bias
    np.put_along_axis(wish_logits, skill_topics, -np.inf, axis=1)  # nobody wishes what they teach
    wish_topics = _weighted_sample(rng, wish_logits, WISHES_PER_PERSON)

    person_ids = np.arange(1, n_people + 1)
    levels = rng.choice([1, 2, 3], size=skill_topics.shape, p=SKILL_LEVEL_SHARES)
    skills = [
        SkillInput(id=k + 1, person_id=int(p), topic_id=int(t) + 1, level=int(level))
        for k, (p, t, level) in enumerate(
            zip(np.repeat(person_ids, SKILLS_PER_PERSON), skill_topics.ravel(), levels.ravel())
        )
    ]
    waits = rng.exponential(MEAN_WAIT_DAYS, size=wish_topics.shape).astype(int)
    wishes = [
        WishInput(id=k + 1, person_id=int(p), topic_id=int(t) + 1, waited_days=int(days))
        for k, (p, t, days) in enumerate(
            zip(np.repeat(person_ids, WISHES_PER_PERSON), wish_topics.ravel(), waits.ravel())
        )
    ]
    past, blocked, current = _history(rng, people, wishes, skills)
    return RoundInput(
        people=people,
        wishes=wishes,
        skills=skills,
        topic_names={t: f"topic {t}" for t in range(1, n_topics + 1)},
        past_pairs=past,
        blocked_pairs=blocked,
        current_pairs=current,
    )


def _shares(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


def _weighted_sample(rng: np.random.Generator, logits: np.ndarray, k: int) -> np.ndarray:
    """k distinct columns per row, drawn without replacement with probability ~ exp(logits)
    (the Gumbel top-k trick, vectorised over all people at once)."""
    shape = (logits.shape[0], logits.shape[-1])
    keys = np.broadcast_to(logits, shape) + rng.gumbel(size=shape)
    return np.argpartition(-keys, k, axis=1)[:, :k]


def _history(
    rng: np.random.Generator,
    people: dict[int, PersonInput],
    wishes: list[WishInput],
    skills: list[SkillInput],
) -> tuple[set[tuple[int, int, int]], set[frozenset[int]], set[frozenset[int]]]:
    """Past pairs on topics people still wish for, some blocks, and the current pairs of
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
    blocked = {
        frozenset(map(int, pair))
        for pair in rng.choice(ids, size=(int(BLOCKED_PAIRS_PER_PERSON * len(ids)), 2))
        if pair[0] != pair[1]
    }
    current = {
        frozenset((person_id, int(rng.choice(ids))))
        for person_id, person in people.items()
        if not person.can_learn
    }
    return past, blocked, {pair for pair in current if len(pair) == 2}


def timed(call: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = call()
    return value, time.perf_counter() - start


def fresh(round_input: RoundInput) -> RoundInput:
    """A copy without the cached index, so each timed run pays for building it."""
    return dataclasses.replace(round_input)


def describe(round_input: RoundInput, result: RoundResult) -> dict[str, float]:
    people = round_input.people
    reverse = cross = 0
    for p in result.proposals:
        learner, teacher = people[p.learner_id], people[p.teacher_id]
        reverse += teacher.career_stage < learner.career_stage
        cross += learner.department != teacher.department
    return {
        "pairs": len(result.proposals),
        "reverse": reverse,
        "cross_department": cross,
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
            if not index.is_allowed(round_input, wish.person_id, skill):
                continue
            score = score_pair(round_input, wish, skill)[0].total
            key = (wish.person_id, teacher_id)
            best[key] = max(score, best.get(key, 0.0))
    graph = nx.Graph()
    for (learner_id, teacher_id), score in best.items():
        for slot in range(round_input.people[teacher_id].teaching_slots):
            graph.add_edge(("learner", learner_id), ("slot", teacher_id, slot), weight=score)
    matching = nx.max_weight_matching(graph)
    return sum(graph.edges[u, v]["weight"] for u, v in matching)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--topics", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES_PER_WISH)
    args = parser.parse_args()

    organisation, generate_seconds = timed(
        lambda: generate_organisation(args.people, args.topics, args.seed)
    )
    n_learners = sum(p.can_learn for p in organisation.people.values())
    n_slots = sum(p.teaching_slots for p in organisation.people.values())
    print(
        f"organisation: {args.people:,} people, {args.topics} topics, "
        f"{len(organisation.wishes):,} wishes, {len(organisation.skills):,} skills, "
        f"{n_learners:,} can learn, {n_slots:,} teaching slots "
        f"(generated in {generate_seconds:.1f} s)"
    )

    round_input = fresh(organisation)
    k = args.candidates
    candidates, build_seconds = timed(
        lambda: build_candidates(round_input, candidates_per_wish=k)
    )
    optimal, solve_seconds = timed(lambda: solve_candidates(round_input, candidates))
    print(f"\noptimal round, {k} candidates per wish, {len(candidates):,} candidate edges")
    print(f"  build candidates  {build_seconds:6.2f} s")
    print(f"  solve             {solve_seconds:6.2f} s")
    print(f"  total             {build_seconds + solve_seconds:6.2f} s")

    tracemalloc.start()
    solve_round(fresh(organisation), candidates_per_wish=k)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory       {peak / 2**20:6.0f} MiB traced (tracemalloc), "
          f"{max_rss_mib:.0f} MiB max RSS of the whole process")  # fmt: skip

    greedy, greedy_seconds = timed(lambda: greedy_round(round_input, candidates=candidates))
    coffee, random_seconds = timed(
        lambda: random_round(round_input, random.Random(args.seed), candidates=candidates)
    )
    rows = {
        "optimal": (optimal, build_seconds + solve_seconds),
        "greedy": (greedy, build_seconds + greedy_seconds),
        "random": (coffee, random_seconds),
    }
    best = optimal.total_score
    print(f"\n{'':8} {'pairs':>7} {'reverse':>8} {'cross-dept':>11} {'score':>10} "
          f"{'vs optimal':>10} {'seconds':>8}")  # fmt: skip
    for name, (result, seconds) in rows.items():
        figures = describe(round_input, result)
        print(
            f"{name:8} {figures['pairs']:7,} {figures['reverse']:8,} "
            f"{figures['cross_department']:11,} {figures['score']:10,.1f} "
            f"{figures['score'] / best:10.3f} {seconds:8.2f}"
        )
    wishes_open = len(round_input.wishes)
    print(f"  ({len(optimal.proposals):,} of {wishes_open:,} wishes satisfied by the optimum; "
          "each person learns one topic per round)")  # fmt: skip

    check_candidate_pruning(organisation, k)
    check_against_networkx(args.topics, args.seed)


def check_candidate_pruning(organisation: RoundInput, k: int) -> None:
    """What pruning to k candidates per wish costs, against a much longer list."""
    wider = 5 * k
    result, seconds = timed(lambda: solve_round(fresh(organisation), candidates_per_wish=wider))
    pruned = solve_round(organisation, candidates_per_wish=k).total_score
    print(f"\ncandidate pruning: {k} per wish scores {pruned:,.2f}; {wider} per wish scores "
          f"{result.total_score:,.2f} in {seconds:.2f} s "
          f"(ratio {pruned / result.total_score:.5f})")  # fmt: skip


def check_against_networkx(n_topics: int, seed: int) -> None:
    small = generate_organisation(REFERENCE_PEOPLE, n_topics, seed)
    exact, seconds = timed(lambda: reference_score(small))
    ours_default = solve_round(small).total_score
    ours_unpruned = solve_round(small, candidates_per_wish=len(small.people)).total_score
    print(f"\nreference, {REFERENCE_PEOPLE} people: networkx max_weight_matching (all edges) "
          f"{exact:,.4f} in {seconds:.1f} s")  # fmt: skip
    print(f"  solve_round, all candidates:      {ours_unpruned:,.4f} "
          f"(difference {ours_unpruned - exact:+.2e})")  # fmt: skip
    print(f"  solve_round, default candidates:  {ours_default:,.4f} "
          f"(difference {ours_default - exact:+.2e})")  # fmt: skip


if __name__ == "__main__":
    main()
