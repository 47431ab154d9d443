"""The matching round: rules, scores, reasons, determinism, and optimality against brute force
and networkx. Pure functions, no database: each test builds its round by hand or from a seed."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

import networkx as nx
import pytest

from bot.services.matching import (
    EARLY_CAREER,
    EXECUTIVE,
    MID_CAREER,
    SENIOR,
    PersonInput,
    Proposal,
    RoundInput,
    RoundResult,
    ScoreWeights,
    SkillInput,
    UnmatchedReason,
    WishInput,
    build_candidates,
    describe_match,
    explain,
    greedy_round,
    random_round,
    score_pair,
    solve_round,
    working_hours_overlap_minutes,
)

EVERYONE = 10_000  # candidates per wish: no pruning, so the optimum is over every allowed pair
LONDON, NEW_YORK, SINGAPORE = 0, -300, 480


def person(
    person_id: int,
    stage: int = MID_CAREER,
    *,
    department: str | None = "Sales",
    slots: int = 1,
    can_learn: bool = True,
    offset: int = LONDON,
    name: str | None = None,
) -> PersonInput:
    return PersonInput(
        id=person_id,
        name=name or f"P{person_id}",
        career_stage=stage,
        department=department,
        teaching_slots=slots,
        can_learn=can_learn,
        utc_offset_minutes=offset,
    )


def make_round(
    people: list[PersonInput],
    wishes: Sequence[tuple[int, int] | WishInput],
    skills: Sequence[tuple[int, int] | SkillInput],
    **options,
) -> RoundInput:
    """Wishes and skills as (person, topic) pairs get ids in order, no wait and level 2."""
    return RoundInput(
        people={p.id: p for p in people},
        wishes=[
            w if isinstance(w, WishInput) else WishInput(100 + i, w[0], w[1], waited_days=0)
            for i, w in enumerate(wishes)
        ],
        skills=[
            s if isinstance(s, SkillInput) else SkillInput(200 + i, s[0], s[1], level=2)
            for i, s in enumerate(skills)
        ],
        topic_names={1: "social media", 2: "Excel", 3: "TikTok", 4: "negotiation"},
        **options,
    )


def pairs_of(result: RoundResult) -> set[tuple[int, int, int]]:
    return {(p.learner_id, p.teacher_id, p.topic_id) for p in result.proposals}


# --------------------------------------------------------------------------------------------
# Rules


def test_the_reverse_pair_wins_over_the_traditional_one():
    learner = person(1, SENIOR)
    junior, executive = person(2, EARLY_CAREER), person(3, EXECUTIVE)
    result = solve_round(make_round([learner, junior, executive], [(1, 1)], [(2, 1), (3, 1)]))
    assert pairs_of(result) == {(1, 2, 1)}
    assert result.proposals[0].breakdown.career == 2 * ScoreWeights().reverse_per_stage


def test_a_bigger_career_gap_scores_more_and_peers_beat_senior_teachers():
    weights = ScoreWeights()
    people = [
        person(1, EXECUTIVE),
        person(2, EARLY_CAREER),
        person(3, SENIOR),
        person(4, EXECUTIVE),
    ]
    people += [person(5, EARLY_CAREER), person(6, MID_CAREER)]
    round_input = make_round(people, [(1, 1), (5, 1)], [(2, 1), (3, 1), (4, 1), (6, 1)])
    wish, early_learner_wish = round_input.wishes
    careers = [score_pair(round_input, wish, skill).career for skill in round_input.skills[:3]]
    assert careers == [3 * weights.reverse_per_stage, weights.reverse_per_stage, weights.same_stage]
    traditional = score_pair(round_input, early_learner_wish, round_input.skills[3])
    assert traditional.career == weights.traditional < weights.same_stage


def test_past_pairs_are_never_repeated_on_that_topic():
    people = [person(1, SENIOR), person(2, EARLY_CAREER)]
    round_input = make_round(people, [(1, 1)], [(2, 1)], past_pairs={(1, 2, 1)})
    result = solve_round(round_input)
    assert result.proposals == []
    assert result.unmatched == {100: UnmatchedReason.ALL_EXCLUDED}
    # The same two people may pair on another topic.
    other_topic = make_round(people, [(1, 2)], [(2, 2)], past_pairs={(1, 2, 1)})
    assert pairs_of(solve_round(other_topic)) == {(1, 2, 2)}


@pytest.mark.parametrize("option", ["blocked_pairs", "current_pairs"])
def test_blocked_and_current_pairs_are_excluded_in_both_directions(option):
    people = [person(1, SENIOR), person(2, EARLY_CAREER), person(3, MID_CAREER)]
    round_input = make_round(
        people, [(1, 1), (2, 2)], [(2, 1), (1, 2), (3, 1)], **{option: {frozenset((2, 1))}}
    )
    result = solve_round(round_input)
    assert pairs_of(result) == {(1, 3, 1)}
    assert result.unmatched == {101: UnmatchedReason.ALL_EXCLUDED}


def test_teaching_capacity_is_respected():
    teacher = person(1, EARLY_CAREER, slots=2)
    learners = [person(i, SENIOR) for i in range(2, 6)]
    result = solve_round(make_round([teacher, *learners], [(i, 1) for i in range(2, 6)], [(1, 1)]))
    assert len(result.proposals) == 2
    assert {p.teacher_id for p in result.proposals} == {1}
    assert sorted(result.unmatched.values()) == [UnmatchedReason.TEACHERS_BUSY] * 2


def test_a_teacher_without_free_slots_teaches_nobody():
    people = [person(1, SENIOR), person(2, EARLY_CAREER, slots=0)]
    result = solve_round(make_round(people, [(1, 1)], [(2, 1)]))
    assert result.proposals == []
    assert result.unmatched == {100: UnmatchedReason.TEACHERS_BUSY}


def test_a_learner_gets_at_most_one_of_their_wishes():
    people = [person(1, EXECUTIVE), person(2, EARLY_CAREER), person(3, EARLY_CAREER)]
    round_input = make_round(people, [(1, 1), (1, 2), (1, 3)], [(2, 1), (3, 2), (2, 3)])
    result = solve_round(round_input)
    assert len(result.proposals) == 1
    assert list(result.unmatched.values()) == [UnmatchedReason.LEARNING_ANOTHER] * 2


def test_a_person_can_learn_and_teach_in_the_same_round():
    # 2 teaches Excel to 1 and learns TikTok from 3.
    people = [person(1, EXECUTIVE), person(2, MID_CAREER), person(3, EARLY_CAREER)]
    result = solve_round(make_round(people, [(1, 2), (2, 3)], [(2, 2), (3, 3)]))
    assert pairs_of(result) == {(1, 2, 2), (2, 3, 3)}


def test_nobody_is_paired_with_themself():
    people = [person(1, EXECUTIVE, slots=3)]
    result = solve_round(make_round(people, [(1, 1)], [(1, 1)]))
    assert result.unmatched == {100: UnmatchedReason.NO_TEACHER}


def test_strict_mode_only_pairs_a_more_junior_teacher():
    people = [person(1, SENIOR), person(2, SENIOR), person(3, EXECUTIVE), person(4, MID_CAREER)]
    wishes = [(1, 1), (4, 2)]
    skills = [(2, 1), (3, 1), (1, 2)]
    relaxed = solve_round(make_round(people, wishes, skills))
    strict = solve_round(make_round(people, wishes, skills, strict_reverse=True))
    assert pairs_of(relaxed) == {(1, 2, 1), (4, 1, 2)}
    assert strict.proposals == []
    assert strict.unmatched == {
        100: UnmatchedReason.STRICT_REVERSE,
        101: UnmatchedReason.STRICT_REVERSE,
    }


def test_every_unmatched_reason():
    people = [
        person(1, EXECUTIVE),  # TikTok: nobody teaches it; Excel: only a past teacher; gets 4
        person(2, EARLY_CAREER),  # taught 1 Excel before; teaches social media, one slot
        person(3, SENIOR),  # gets social media, so not negotiation as well
        person(4, MID_CAREER),  # wants social media too: its only teacher is busy
        person(5, SENIOR, can_learn=False),  # already learning
        person(6, MID_CAREER),  # teaches negotiation, one slot
    ]
    wishes = [(1, 3), (1, 2), (1, 4), (3, 1), (4, 1), (5, 1), (3, 4)]
    skills = [(2, 2), (2, 1), (6, 4)]
    result = solve_round(make_round(people, wishes, skills, past_pairs={(1, 2, 2)}))
    assert pairs_of(result) == {(1, 6, 4), (3, 2, 1)}
    assert result.unmatched == {
        100: UnmatchedReason.NO_TEACHER,
        101: UnmatchedReason.ALL_EXCLUDED,
        104: UnmatchedReason.TEACHERS_BUSY,
        105: UnmatchedReason.LEARNING_ANOTHER,  # cannot learn now
        106: UnmatchedReason.LEARNING_ANOTHER,  # got social media this round
    }


def test_a_wish_on_an_unknown_person_is_rejected():
    with pytest.raises(ValueError, match="unknown person 9"):
        solve_round(make_round([person(1)], [(9, 1)], []))


# --------------------------------------------------------------------------------------------
# Scores


def test_a_two_way_exchange_is_one_match_naming_both_topics():
    # 1 (executive) wants social media, which 2 teaches; 2 wants Excel, which 1 teaches.
    people = [person(1, EXECUTIVE), person(2, EARLY_CAREER), person(3, EARLY_CAREER)]
    wishes = [(1, 1), (2, 2)]
    skills = [SkillInput(200, 2, 1, 2), SkillInput(201, 3, 1, 2), SkillInput(202, 1, 2, 3)]
    result = solve_round(make_round(people, wishes, skills))
    assert pairs_of(result) == {(1, 2, 1), (2, 1, 2)}
    (match,) = result.matches
    assert (match.main.wish_id, match.main.skill_id) == (100, 200)
    assert (match.back.wish_id, match.back.skill_id, match.back.topic_id) == (101, 202, 2)
    assert match.score == result.total_score


def test_a_one_way_pair_with_a_possible_exchange_stays_one_way():
    # 2 wants Excel from 1, but 3 teaches 2 Excel better (a bigger reverse gap), and 1 can
    # teach only one person: the round takes the better pairs, not the exchange.
    people = [person(1, SENIOR), person(2, EXECUTIVE), person(3, EARLY_CAREER)]
    people[0] = replace(people[0], teaching_slots=0)
    wishes = [(1, 1), (2, 2)]
    skills = [(2, 1), (1, 2), (3, 2)]
    result = solve_round(make_round(people, wishes, skills))
    assert pairs_of(result) == {(1, 2, 1), (2, 3, 2)}
    assert [m.back for m in result.matches] == [None, None]


def test_exchanges_are_optimal_on_small_random_rounds_by_brute_force():
    # Mutual wishes on purpose: three topics, everybody teaches one and wishes for others.
    rng = random.Random(15)
    exchanges = 0
    for _ in range(150):
        round_input = random_round_input(rng, n_people=rng.randint(3, 7), n_topics=3)
        result = solve_round(round_input, candidates_per_wish=EVERYONE)
        assert_feasible(round_input, result)
        assert result.total_score == brute_force_best(round_input)
        assert sum(m.score for m in result.matches) == result.total_score
        for m in result.matches:
            if m.back is not None:
                exchanges += 1
                assert (m.back.learner_id, m.back.teacher_id) == (m.main.teacher_id, m.main.learner_id)
                assert m.main.wish_id < m.back.wish_id
        mirrors = {
            (p.learner_id, p.teacher_id)
            for p in result.proposals
            if any((q.teacher_id, q.learner_id) == (p.learner_id, p.teacher_id) for q in result.proposals)
        }
        # Every pair of people appears in exactly one match: mirror directions were merged.
        pairs = [frozenset((m.main.learner_id, m.main.teacher_id)) for m in result.matches]
        assert len(pairs) == len(set(pairs)) == len(result.proposals) - len(mirrors) // 2
    assert exchanges >= 10  # the random rounds did exercise exchanges


# --------------------------------------------------------------------------------------------
# Asking for a teacher by name, the repeat window, waiting


def test_a_requested_teacher_beats_a_better_scoring_one():
    people = [person(1, EXECUTIVE), person(2, EARLY_CAREER), person(3, EXECUTIVE)]
    wishes = [WishInput(100, 1, 1, 0, requested_teacher_id=3)]
    result = solve_round(make_round(people, wishes, [(2, 1), (3, 1)]))
    assert pairs_of(result) == {(1, 3, 1)}
    assert result.proposals[0].requested
    assert result.proposals[0].breakdown.requested_teacher == ScoreWeights().requested_teacher


@pytest.mark.parametrize(
    ("teacher", "option"),
    [
        (person(3, EXECUTIVE), {"blocked_pairs": {frozenset((1, 3))}}),
        (person(3, EXECUTIVE), {"current_pairs": {frozenset((1, 3))}}),
        (person(3, EXECUTIVE, slots=0), {}),
    ],
    ids=["blocked", "paired now", "no capacity"],
)
def test_a_requested_teacher_is_never_forced_past_a_block_or_capacity(teacher, option):
    people = [person(1, EXECUTIVE), person(2, EARLY_CAREER), teacher]
    wishes = [WishInput(100, 1, 1, 0, requested_teacher_id=3)]
    result = solve_round(make_round(people, wishes, [(2, 1), (3, 1)], **option))
    assert pairs_of(result) == {(1, 2, 1)}
    assert not result.proposals[0].requested


def test_a_requested_teacher_who_is_away_is_simply_absent():
    # Paused, snoozed or gone people are not in the round at all; the wish still gets a teacher.
    people = [person(1, EXECUTIVE), person(2, EARLY_CAREER)]
    wishes = [WishInput(100, 1, 1, 0, requested_teacher_id=99)]
    assert pairs_of(solve_round(make_round(people, wishes, [(2, 1)]))) == {(1, 2, 1)}


def test_requested_teachers_are_kept_as_candidates_even_when_they_score_low():
    people = [person(1, EARLY_CAREER)] + [person(i, EARLY_CAREER) for i in range(2, 12)]
    people.append(person(12, EXECUTIVE, department="Sales", offset=SINGAPORE))
    wishes = [WishInput(100, 1, 1, 0, requested_teacher_id=12)]
    round_input = make_round(people, wishes, [(i, 1) for i in range(2, 13)])
    assert pairs_of(solve_round(round_input, candidates_per_wish=1)) == {(1, 12, 1)}


def test_two_people_are_not_paired_again_within_the_repeat_window_on_any_topic():
    people = [person(1, SENIOR), person(2, EARLY_CAREER), person(3, MID_CAREER)]
    recent = {frozenset((1, 2))}
    both_ways = make_round(people, [(1, 1), (2, 2)], [(2, 1), (3, 1), (1, 2)], recent_partners=recent)
    result = solve_round(both_ways)
    assert pairs_of(result) == {(1, 3, 1)}
    assert result.unmatched == {101: UnmatchedReason.ALL_EXCLUDED}


def test_a_learner_who_asks_by_name_may_pair_again_with_a_recent_or_past_partner():
    people = [person(1, SENIOR), person(2, MID_CAREER), person(3, EARLY_CAREER)]
    wishes = [WishInput(100, 1, 1, 0, requested_teacher_id=2)]
    for option in ({"recent_partners": {frozenset((1, 2))}}, {"past_pairs": {(1, 2, 1)}}):
        assert pairs_of(solve_round(make_round(people, wishes, [(2, 1), (3, 1)], **option))) == {(1, 2, 1)}


def test_a_long_waiter_beats_an_otherwise_equal_new_wish():
    # Two learners alike in every way, one teacher with one slot: the wish that waited wins.
    people = [person(1, SENIOR), person(2, SENIOR), person(3, EARLY_CAREER)]
    for new, old in [(100, 101), (101, 100)]:  # the id order must not decide it
        wishes = [WishInput(new, 1 if new == 100 else 2, 1, waited_days=0)]
        wishes.append(WishInput(old, 2 if new == 100 else 1, 1, waited_days=70))
        result = solve_round(make_round(people, wishes, [(3, 1)]))
        (winner,) = result.proposals
        assert winner.wish_id == old
        assert result.unmatched == {new: UnmatchedReason.TEACHERS_BUSY}
    # The wait is worth points from three weeks on, up to the cap.
    weights = ScoreWeights()
    round_input = make_round(people, [WishInput(100, 1, 1, waited_days=21)], [(3, 1)])
    assert score_pair(round_input, round_input.wishes[0], round_input.skills[0]).waiting == 1
    capped = make_round(people, [WishInput(100, 1, 1, waited_days=500)], [(3, 1)])
    assert score_pair(capped, capped.wishes[0], capped.skills[0]).waiting == weights.waiting


def test_the_breakdown_of_a_pair():
    weights = ScoreWeights()
    people = [
        person(1, EXECUTIVE, department="Finance", offset=LONDON),
        person(2, MID_CAREER, department="Marketing", offset=NEW_YORK),
    ]
    wishes = [WishInput(100, 1, 1, waited_days=42)]
    round_input = make_round(people, wishes, [SkillInput(200, 2, 1, level=3)])
    breakdown = score_pair(round_input, round_input.wishes[0], round_input.skills[0])
    assert breakdown.requested_teacher == 0
    assert breakdown.match == weights.match
    assert breakdown.career == 2 * weights.reverse_per_stage
    assert breakdown.cross_department == weights.cross_department
    assert breakdown.working_hours == 2  # 3 of 8 hours of 4 points, rounded half up
    assert breakdown.teacher_level == 2 * weights.teacher_level
    assert breakdown.waiting == 2  # half of the 12-week cap
    assert breakdown.total == 4 + 16 + 4 + 2 + 2 + 2


def test_unknown_departments_earn_no_cross_department_points():
    people = [person(1, SENIOR, department=None), person(2, EARLY_CAREER, department="Sales")]
    round_input = make_round(people, [(1, 1)], [(2, 1)])
    breakdown = score_pair(round_input, round_input.wishes[0], round_input.skills[0])
    assert breakdown.cross_department == 0


@pytest.mark.parametrize(
    ("a", "b", "minutes"),
    [
        (LONDON, LONDON, 480),
        (LONDON, NEW_YORK, 180),
        (60, NEW_YORK, 120),
        (NEW_YORK, SINGAPORE, 0),
        (780, -600, 420),  # Auckland and Hawaii overlap across the date line
        (330, 345, 465),
    ],
)
def test_working_hours_overlap(a, b, minutes):
    assert working_hours_overlap_minutes(a, b) == minutes == working_hours_overlap_minutes(b, a)
    assert reference_overlap(a, b) == minutes


def test_weights_must_be_whole_non_negative_points():
    with pytest.raises(ValueError, match="match"):
        ScoreWeights(match=-1)
    with pytest.raises(ValueError, match="waiting"):
        ScoreWeights(waiting=0.5)  # type: ignore[arg-type]


def test_zero_scores_still_solve_and_tiny_scores_still_beat_no_pair():
    # Every score 0: the solver must still see the edges (explicit zeros are dropped by scipy).
    zero = ScoreWeights(**dict.fromkeys(vars(ScoreWeights()), 0) | {"waiting_cap_days": 1})
    round_input = replace(random_round_input(random.Random(5), n_people=20, n_topics=2), weights=zero)
    result = solve_round(round_input)
    assert_feasible(round_input, result)
    assert result.total_score == 0
    # Every pair worth 1 point: the optimum is the largest number of pairs.
    one = replace(zero, match=1)
    rng = random.Random(6)
    for _ in range(30):
        round_input = replace(random_round_input(rng, n_people=7, n_topics=3), weights=one)
        assert solve_round(round_input).total_score == brute_force_best(round_input)


# --------------------------------------------------------------------------------------------
# Explanations


def test_each_side_is_told_why_in_words_and_never_a_score():
    people = [
        person(1, SENIOR, department="Finance", name="Sam"),
        person(2, EARLY_CAREER, department="Marketing", name="Priya"),
    ]
    wishes = [WishInput(100, 1, 1, waited_days=21, requested_teacher_id=2)]
    round_input = make_round(people, wishes, [SkillInput(200, 2, 1, 3)])
    (match,) = solve_round(round_input).matches
    notes = {100: "for our launch"}
    assert explain(match, round_input, reader_id=1, notes=notes) == (
        "you asked for Priya by name; Priya is an expert in social media; "
        "junior teaches senior: Priya is early career, you are senior; "
        "other department: Priya is in Marketing; you asked for it 3 weeks ago"
    )
    assert explain(match, round_input, reader_id=2, notes=notes) == (
        "Sam asked for you by name; you are an expert in social media; "
        "junior teaches senior: you are early career, Sam is senior; "
        "other department: Sam is in Finance; Sam's note: \u201cfor our launch\u201d"
    )
    assert describe_match(match, round_input, notes=notes) == (
        "Priya (early career, Marketing) teaches Sam (senior, Finance) social media: "
        "Sam asked for Priya by name; Priya is an expert in social media; junior teaches senior; "
        "other department; Sam's note: \u201cfor our launch\u201d; Sam has waited 3 weeks"
    )
    for reader in (1, 2, None):
        assert "score" not in explain(match, round_input, reader_id=reader) and "you" not in describe_match(
            match, round_input
        )


def test_an_exchange_is_explained_to_both_sides_as_one():
    people = [
        person(1, SENIOR, department="Sales", name="Sam"),
        person(2, EARLY_CAREER, department="Sales", name="Ana"),
    ]
    wishes = [WishInput(100, 1, 1, 0), WishInput(101, 2, 2, 0)]
    round_input = make_round(people, wishes, [SkillInput(200, 2, 1, 2), SkillInput(201, 1, 2, 1)])
    (match,) = solve_round(round_input).matches
    assert explain(match, round_input, reader_id=2).startswith(
        "an exchange: Sam teaches you Excel, you teach Sam social media; you are confident in social media; "
        "Sam can show the basics of Excel; junior teaches senior: you are early career, Sam is senior"
    )
    assert describe_match(match, round_input) == (
        "Ana (early career, Sales) and Sam (senior, Sales) swap social media and Excel: "
        "an exchange: each teaches the other; Ana is confident in social media; "
        "Sam can show the basics of Excel; junior teaches senior"
    )


def test_explain_mentions_time_zones_and_takes_stage_names():
    people = [
        person(1, SENIOR, department="Sales", offset=LONDON),
        person(2, MID_CAREER, department=None, offset=NEW_YORK, name="Ana"),
    ]
    round_input = make_round(people, [WishInput(100, 1, 1, waited_days=1)], [(2, 1)])
    (match,) = solve_round(round_input).matches
    stages = ("new", "established", "leader", "board")
    assert explain(match, round_input, reader_id=1, stage_names=stages) == (
        "Ana is confident in social media; junior teaches senior: Ana is established, you are leader; "
        "you asked for it yesterday; your working days overlap by 3 hours"
    )
    assert describe_match(match, round_input, stage_names=stages).startswith(
        "Ana (established) teaches P1 (leader, Sales) social media: "
    )


# --------------------------------------------------------------------------------------------
# Determinism, baselines, pruning


def test_same_round_in_any_order_gives_the_same_result():
    for seed in range(5):
        round_input = random_round_input(random.Random(seed), n_people=30, n_topics=4)
        expected = solve_round(round_input)
        shuffled = shuffled_copy(round_input, random.Random(seed + 100))
        assert solve_round(shuffled) == expected


def test_equal_teachers_are_chosen_the_same_way_whatever_the_order():
    people = [person(1, SENIOR)] + [person(i, EARLY_CAREER) for i in range(2, 12)]
    round_input = make_round(people, [(1, 1)], [(i, 1) for i in range(2, 12)])
    chosen = {
        solve_round(shuffled_copy(round_input, random.Random(seed))).proposals[0].teacher_id
        for seed in range(10)
    }
    assert len(chosen) == 1


def test_greedy_can_be_strictly_worse_than_optimal():
    # Greedy gives the executive the early-career teacher (the single best pair), which leaves
    # the senior with nobody; the optimum gives the executive the mid-career teacher instead.
    people = [
        person(1, EXECUTIVE),
        person(2, SENIOR),
        person(3, EARLY_CAREER),
        person(4, MID_CAREER),
    ]
    round_input = make_round(people, [(1, 1), (2, 2)], [(3, 1), (3, 2), (4, 1)])
    optimal, greedy = solve_round(round_input), greedy_round(round_input)
    assert pairs_of(greedy) == {(1, 3, 1)}
    assert pairs_of(optimal) == {(1, 4, 1), (2, 3, 2)}
    assert greedy.total_score < optimal.total_score


def test_random_round_respects_every_rule_and_repeats_with_the_seed():
    for seed in range(10):
        round_input = random_round_input(random.Random(seed), n_people=25, n_topics=3)
        result = random_round(round_input, random.Random(seed))
        assert_feasible(round_input, result)
        assert result == random_round(round_input, random.Random(seed))
        assert result.total_score <= solve_round(round_input).total_score


def test_fewer_candidates_per_wish_stay_feasible_and_score_no_more():
    round_input = random_round_input(random.Random(3), n_people=60, n_topics=3)
    full = solve_round(round_input, candidates_per_wish=EVERYONE)
    for k in (1, 2, 5):
        pruned = solve_round(round_input, candidates_per_wish=k)
        assert_feasible(round_input, pruned)
        assert pruned.total_score <= full.total_score
        assert len(build_candidates(round_input, candidates_per_wish=k)) <= k * len(round_input.wishes)


def test_excluded_top_teachers_do_not_crowd_out_the_next_best():
    # The three best teachers for 1 taught them before; with one candidate per wish the
    # candidate must still be the best teacher left.
    people = [person(1, EXECUTIVE), person(2, EARLY_CAREER), person(3, EARLY_CAREER)]
    people += [person(4, EARLY_CAREER), person(5, MID_CAREER), person(6, SENIOR)]
    past = {(1, 2, 1), (1, 3, 1), (1, 4, 1)}
    round_input = make_round(people, [(1, 1)], [(i, 1) for i in range(2, 7)], past_pairs=past)
    assert pairs_of(solve_round(round_input, candidates_per_wish=1)) == {(1, 5, 1)}


def test_each_wish_keeps_its_best_scoring_candidates():
    for seed in range(5):
        round_input = random_round_input(random.Random(seed), n_people=80, n_topics=3)
        allowed: dict[int, list[int]] = defaultdict(list)
        for wish, _skill, score in allowed_edges(round_input):
            allowed[wish.id].append(score)
        for k in (1, 3):
            candidates = build_candidates(round_input, candidates_per_wish=k)
            kept: dict[int, list[int]] = defaultdict(list)
            for wish_id, score in zip(candidates.wish_ids, candidates.scores, strict=True):
                kept[int(wish_id)].append(int(score))
            assert {w: sorted(scores) for w, scores in kept.items()} == {
                w: sorted(scores)[-k:] for w, scores in allowed.items()
            }


# --------------------------------------------------------------------------------------------
# Optimality


def test_optimal_on_200_small_random_rounds_by_brute_force():
    rng = random.Random(2026)
    for _ in range(200):
        round_input = random_round_input(rng, n_people=rng.randint(3, 7), n_topics=3)
        result = solve_round(round_input, candidates_per_wish=EVERYONE)
        assert_feasible(round_input, result)
        assert result.total_score == brute_force_best(round_input)


def test_optimal_on_medium_random_rounds_like_networkx():
    rng = random.Random(7)
    for n_people in (40, 60, 80):
        round_input = random_round_input(rng, n_people=n_people, n_topics=5)
        result = solve_round(round_input, candidates_per_wish=EVERYONE)
        assert_feasible(round_input, result)
        assert result.total_score == networkx_best(round_input)


def test_scores_match_an_independent_reference_on_random_pairs():
    rng = random.Random(11)
    for _ in range(20):
        round_input = random_round_input(rng, n_people=12, n_topics=3)
        for wish, skill, _score in allowed_edges(round_input):
            breakdown = score_pair(round_input, wish, skill)
            assert breakdown.total == reference_score(round_input, wish, skill)
        candidates = build_candidates(round_input, candidates_per_wish=EVERYONE)
        skills = {s.id: s for s in round_input.skills}
        wishes = {w.id: w for w in round_input.wishes}
        for wish_id, skill_id, score in zip(
            candidates.wish_ids, candidates.skill_ids, candidates.scores, strict=True
        ):
            assert score == reference_score(round_input, wishes[wish_id], skills[skill_id])


# --------------------------------------------------------------------------------------------
# Helpers: random rounds and independent references


def random_round_input(rng: random.Random, *, n_people: int, n_topics: int) -> RoundInput:
    ids = rng.sample(range(1, 10 * n_people + 1), n_people)  # ids need not be dense or ordered
    departments = ["Sales", "Finance", "Data", None]
    people = [
        PersonInput(
            id=person_id,
            name=f"P{person_id}",
            career_stage=rng.randrange(4),
            department=rng.choice(departments),
            teaching_slots=rng.choice([0, 1, 1, 2]),
            can_learn=rng.random() < 0.85,
            utc_offset_minutes=rng.choice([LONDON, 60, NEW_YORK, SINGAPORE, 330]),
        )
        for person_id in ids
    ]
    wishes, skills = [], []
    topics = range(1, n_topics + 1)
    for p in people:
        for topic in rng.sample(topics, rng.randint(0, min(3, n_topics))):
            requested = rng.choice(ids) if rng.random() < 0.2 else None
            wishes.append(WishInput(len(wishes) + 1, p.id, topic, rng.choice([0, 10, 42, 100]), requested))
        for topic in rng.sample(topics, rng.randint(1, min(2, n_topics))):
            skills.append(SkillInput(1000 + len(skills), p.id, topic, rng.randint(1, 3)))
    pair_count = max(1, n_people // 4)
    random_pairs = [frozenset(rng.sample(ids, 2)) for _ in range(pair_count)] if n_people > 1 else []
    return RoundInput(
        people={p.id: p for p in people},
        wishes=wishes,
        skills=skills,
        topic_names={t: f"topic {t}" for t in range(1, n_topics + 1)},
        past_pairs={(w.person_id, rng.choice(ids), w.topic_id) for w in rng.sample(wishes, len(wishes) // 4)},
        blocked_pairs=set(random_pairs[: pair_count // 2]),
        current_pairs=set(random_pairs[pair_count // 2 :]),
        recent_partners={frozenset(rng.sample(ids, 2)) for _ in range(pair_count)} if n_people > 1 else set(),
        strict_reverse=rng.random() < 0.2,
    )


def shuffled_copy(round_input: RoundInput, rng: random.Random) -> RoundInput:
    people = list(round_input.people.values())
    wishes, skills = list(round_input.wishes), list(round_input.skills)
    for items in (people, wishes, skills):
        rng.shuffle(items)
    return replace(round_input, people={p.id: p for p in people}, wishes=wishes, skills=skills)


def allowed_edges(round_input: RoundInput) -> list[tuple[WishInput, SkillInput, int]]:
    """Every (wish, skill) the rules allow, with its score: written from the rules, not from
    the module's own filters."""
    edges = []
    for wish in round_input.wishes:
        learner = round_input.people[wish.person_id]
        if not learner.can_learn:
            continue
        for skill in round_input.skills:
            teacher = round_input.people[skill.person_id]
            pair = frozenset((learner.id, teacher.id))
            repeat = (learner.id, teacher.id, wish.topic_id) in round_input.past_pairs or (
                pair in round_input.recent_partners
            )
            if (
                skill.topic_id != wish.topic_id
                or teacher.id == learner.id
                or teacher.teaching_slots == 0
                or (repeat and wish.requested_teacher_id != teacher.id)
                or pair in round_input.blocked_pairs
                or pair in round_input.current_pairs
                or (round_input.strict_reverse and teacher.career_stage >= learner.career_stage)
            ):
                continue
            edges.append((wish, skill, reference_score(round_input, wish, skill)))
    return edges


def brute_force_best(round_input: RoundInput) -> int:
    """The best total over every feasible set of allowed edges: each learner takes one of their
    edges or none, each teacher at most their slots (depth-first over learners)."""
    by_learner: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for wish, skill, score in allowed_edges(round_input):
        by_learner[wish.person_id].append((skill.person_id, score))
    learners = list(by_learner)
    free = {p.id: p.teaching_slots for p in round_input.people.values()}

    def best_from(position: int) -> int:
        if position == len(learners):
            return 0
        best = best_from(position + 1)  # this learner stays unmatched
        for teacher_id, score in by_learner[learners[position]]:
            if free[teacher_id] > 0:
                free[teacher_id] -= 1
                best = max(best, score + best_from(position + 1))
                free[teacher_id] += 1
        return best

    return best_from(0)


def networkx_best(round_input: RoundInput) -> int:
    """networkx's exact general matching on learner nodes against teacher-slot nodes."""
    best: dict[tuple[int, int], int] = {}
    for wish, skill, score in allowed_edges(round_input):
        key = (wish.person_id, skill.person_id)
        best[key] = max(score, best.get(key, -1))
    graph = nx.Graph()
    for (learner_id, teacher_id), score in best.items():
        for slot in range(round_input.people[teacher_id].teaching_slots):
            graph.add_edge(("learner", learner_id), ("slot", teacher_id, slot), weight=score)
    matching = nx.max_weight_matching(graph)
    return sum(graph.edges[u, v]["weight"] for u, v in matching)


def assert_feasible(round_input: RoundInput, result: RoundResult) -> None:
    allowed = {(w.id, s.id) for w, s, _ in allowed_edges(round_input)}
    teaching: dict[int, int] = defaultdict(int)
    learners = [p.learner_id for p in result.proposals]
    assert len(learners) == len(set(learners)), "a learner learns at most one topic"
    for proposal in result.proposals:
        assert (proposal.wish_id, proposal.skill_id) in allowed
        assert_consistent(round_input, proposal)
        teaching[proposal.teacher_id] += 1
    for teacher_id, count in teaching.items():
        assert count <= round_input.people[teacher_id].teaching_slots
    proposed = {p.wish_id for p in result.proposals}
    assert proposed.isdisjoint(result.unmatched)
    assert proposed | set(result.unmatched) == {w.id for w in round_input.wishes}


def assert_consistent(round_input: RoundInput, proposal: Proposal) -> None:
    wish = next(w for w in round_input.wishes if w.id == proposal.wish_id)
    skill = next(s for s in round_input.skills if s.id == proposal.skill_id)
    assert (proposal.learner_id, proposal.teacher_id) == (wish.person_id, skill.person_id)
    assert proposal.topic_id == wish.topic_id == skill.topic_id
    assert proposal.score == proposal.breakdown.total == reference_score(round_input, wish, skill)


def reference_score(round_input: RoundInput, wish: WishInput, skill: SkillInput) -> int:
    """The score from the documented rules, in exact fractions."""
    weights = round_input.weights
    learner, teacher = round_input.people[wish.person_id], round_input.people[skill.person_id]
    gap = learner.career_stage - teacher.career_stage
    if gap > 0:
        career = weights.reverse_per_stage * gap
    else:
        career = weights.same_stage if gap == 0 else weights.traditional
    departments = (learner.department, teacher.department)
    cross = weights.cross_department if None not in departments and len(set(departments)) == 2 else 0
    overlap = reference_overlap(learner.utc_offset_minutes, teacher.utc_offset_minutes)
    hours = round_half_up(Fraction(weights.working_hours * overlap, 8 * 60))
    level = weights.teacher_level * (skill.level - 1)
    requested = weights.requested_teacher if wish.requested_teacher_id == teacher.id else 0
    capped = min(wish.waited_days, weights.waiting_cap_days)
    waiting = round_half_up(Fraction(weights.waiting * capped, weights.waiting_cap_days))
    return weights.match + career + cross + hours + level + requested + waiting


def reference_overlap(offset_a: int, offset_b: int) -> int:
    """Minutes in both 09:00-17:00 local days, by intersecting the intervals in UTC."""
    start_a = 9 * 60 - offset_a
    best = 0
    for day in (-2, -1, 0, 1, 2):
        start_b = 9 * 60 - offset_b + day * 24 * 60
        best = max(best, min(start_a, start_b) + 8 * 60 - max(start_a, start_b))
    return best


def round_half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))
