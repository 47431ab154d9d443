"""The weekly matching round: pair learners' open wishes with teachers' skills, exactly.

Pure domain code: plain frozen dataclasses in, plain dataclasses out; no Slack, no database.

Capacity rules (chosen so the problem stays bipartite and can be solved exactly):
- a person LEARNS at most one topic per round (one of their wishes), and only if `can_learn`;
- a person TEACHES at most `teaching_slots` pairs per round;
- a person may learn in one pair and teach in another in the same round;
- never a self pair, never a pair in `blocked_pairs` or `current_pairs`; never a repeat of
  `past_pairs` (learner, teacher, topic) nor of `recent_partners` (paired on any topic within the
  programme's repeat window), unless the learner asked for that teacher by name; in
  `strict_reverse` mode the teacher must be at an earlier career stage than the learner.

Formulation: rows are learners, columns are teacher capacity slots (a teacher with two free slots
owns two identical columns), and every row has one private dummy column meaning "not matched this
round". Each learner-teacher edge carries the best score over the learner's wishes that teacher
can teach. scipy's sparse Jonker-Volgenant solver (LAPJVsp) then finds the maximum total score.
Candidate lists are first pruned to the best `candidates_per_wish` teachers per wish (a requested
teacher is always among them when allowed); the optimum is exact over the kept candidates.

A two-way exchange (A learns from B, and B learns from A) is the two mirror edges chosen together:
it takes both people's learning row and one teaching slot of each, exactly what the two one-way
edges take, and it scores the sum of its two directions. So the assignment stays a plain bipartite
one and the solver stays exact; `RoundResult.matches` then presents mirror edges as one exchange.

Scores are whole points. LAPJVsp grows a shortest-path tree per row and scans every column once
per distinct path length it reaches; integer sums make equal lengths exactly equal, so it
reaches few distinct ones. With fractional scores the same 10,000-person round took over four
times longer to solve.
"""

from __future__ import annotations

import enum
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import csr_array
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

EARLY_CAREER, MID_CAREER, SENIOR, EXECUTIVE = range(4)
CAREER_STAGES = range(EARLY_CAREER, EXECUTIVE + 1)
DEFAULT_STAGE_NAMES = ("early career", "mid-career", "senior", "executive")
SKILL_LEVELS = range(1, 4)  # 1 basics, 2 confident, 3 expert

MINUTES_PER_DAY = 24 * 60
WORKDAY_MINUTES = 8 * 60  # 09:00-17:00 local

DEFAULT_CANDIDATES_PER_WISH = 40
# Real edges weigh score + DUMMY_WEIGHT, dummy columns DUMMY_WEIGHT. Every row takes exactly one
# column, so the constant adds the same to every full matching and the optimum is unchanged; it
# exists because scipy drops explicit zeros from sparse matrices, and a score can be 0.
DUMMY_WEIGHT = 1
# Candidate keys are int32 with the score above a tie-break; scores stay below this many points.
_KEY_BITS = 30
_MAX_TOTAL_POINTS = 2**14
_NOT_ALLOWED_KEY = np.int32(-(2**30))  # any key below zero: real scores are >= 0
_NO_ONE: frozenset[int] = frozenset()
# Score matrices are built in row chunks of about this many entries to bound memory.
_CHUNK_ENTRIES = 1 << 19
_RANDOM_TEACHER_ATTEMPTS = 20


class UnmatchedReason(enum.StrEnum):
    """Why a wish got no teacher this round, in the order the checks are made."""

    NO_TEACHER = "no_teacher"  # nobody else has that skill
    ALL_EXCLUDED = "all_excluded"  # every teacher is a past, blocked or current partner
    STRICT_REVERSE = "strict_reverse"  # strict mode, and no allowed teacher is more junior
    TEACHERS_BUSY = "teachers_busy"  # candidates existed, their capacity went to others
    LEARNING_ANOTHER = "learning_another"  # learner got another wish, or cannot learn now


@dataclass(frozen=True)
class ScoreWeights:
    """What each quality of a pair is worth, in whole points; every term is zero or positive.

    A pair scores `match` + a career term + the others; an unmatched wish scores 0, so any
    allowed pair beats none. Scaled terms are rounded half up to whole points: with the
    defaults, working hours move in 2-hour steps and waiting in 3-week steps.
    """

    match: int = 4  # any pairing beats leaving the wish open
    reverse_per_stage: int = 8  # per career stage the teacher is BELOW the learner
    same_stage: int = 2  # peers teaching peers
    traditional: int = 0  # senior teaches junior: allowed, earns nothing extra
    cross_department: int = 4  # both departments known and different
    working_hours: int = 4  # at full overlap of the two 09:00-17:00 days, pro rata below
    teacher_level: int = 1  # per level above basics (confident 1, expert 2)
    requested_teacher: int = 40  # the learner asked for this teacher by name: beats every other term
    waiting: int = 4  # at waiting_cap_days and beyond, pro rata below
    waiting_cap_days: int = 84  # 12 weeks

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"ScoreWeights.{name} must be a whole number >= 0, got {value!r}")
        if self.waiting_cap_days == 0:
            raise ValueError("ScoreWeights.waiting_cap_days must be positive")
        if self.max_total() >= _MAX_TOTAL_POINTS:
            raise ValueError("ScoreWeights are too large")

    def max_total(self) -> int:
        stages = max(CAREER_STAGES)
        career = max(self.reverse_per_stage * stages, self.same_stage, self.traditional)
        level = self.teacher_level * (max(SKILL_LEVELS) - 1)
        return (
            self.match + career + self.cross_department + self.working_hours + level
            + self.requested_teacher + self.waiting
        )  # fmt: skip


@dataclass(frozen=True)
class PersonInput:
    id: int
    name: str
    career_stage: int  # 0 early career, 1 mid, 2 senior, 3 executive
    department: str | None
    teaching_slots: int  # free capacity to TEACH this round
    can_learn: bool  # False while already in an active learning pairing
    utc_offset_minutes: int

    def __post_init__(self) -> None:
        if self.career_stage not in CAREER_STAGES:
            raise ValueError(f"person {self.id}: career_stage {self.career_stage} is not 0-3")
        if self.teaching_slots < 0:
            raise ValueError(f"person {self.id}: teaching_slots must not be negative")


@dataclass(frozen=True)
class WishInput:
    id: int
    person_id: int
    topic_id: int
    waited_days: int
    requested_teacher_id: int | None = None  # a colleague the learner asked for by name

    def __post_init__(self) -> None:
        if self.waited_days < 0:
            raise ValueError(f"wish {self.id}: waited_days must not be negative")


@dataclass(frozen=True)
class SkillInput:
    id: int
    person_id: int
    topic_id: int
    level: int  # 1 basics, 2 confident, 3 expert

    def __post_init__(self) -> None:
        if self.level not in SKILL_LEVELS:
            raise ValueError(f"skill {self.id}: level {self.level} is not 1-3")


@dataclass(frozen=True)
class RoundInput:
    """Everything one round needs. Treat it as immutable: lookups are derived once and cached."""

    people: Mapping[int, PersonInput]
    wishes: Sequence[WishInput]
    skills: Sequence[SkillInput]
    topic_names: Mapping[int, str] = field(default_factory=dict)
    past_pairs: AbstractSet[tuple[int, int, int]] = frozenset()  # (learner, teacher, topic)
    blocked_pairs: AbstractSet[frozenset[int]] = frozenset()  # never pair these two
    # Paired on any topic within the repeat window: not again, unless the learner asks by name.
    recent_partners: AbstractSet[frozenset[int]] = frozenset()
    current_pairs: AbstractSet[frozenset[int]] = frozenset()  # paired now; not again now
    strict_reverse: bool = False
    weights: ScoreWeights = ScoreWeights()

    @cached_property
    def index(self) -> RoundIndex:
        return RoundIndex.build(self)


@dataclass(frozen=True)
class ScoreBreakdown:
    """The points of one pair, term by term."""

    match: int
    career: int
    cross_department: int
    working_hours: int
    teacher_level: int
    requested_teacher: int
    waiting: int

    @property
    def total(self) -> int:
        return (
            self.match + self.career + self.cross_department + self.working_hours
            + self.teacher_level + self.requested_teacher + self.waiting
        )  # fmt: skip


@dataclass(frozen=True)
class Proposal:
    """One direction: the owner of `skill_id` teaches `topic_id` to the owner of `wish_id`."""

    wish_id: int
    skill_id: int
    learner_id: int
    teacher_id: int
    topic_id: int
    score: float
    breakdown: ScoreBreakdown

    @property
    def requested(self) -> bool:
        return self.breakdown.requested_teacher > 0


@dataclass(frozen=True)
class Match:
    """What two people are offered: one direction, or an exchange of two (`back` is the teacher
    learning from the learner). An exchange is one pairing, one proposal each."""

    main: Proposal
    back: Proposal | None = None

    @property
    def score(self) -> float:
        return self.main.score + (self.back.score if self.back else 0)


@dataclass(frozen=True)
class RoundResult:
    proposals: list[Proposal]  # one per direction, ordered by wish id
    unmatched: dict[int, UnmatchedReason]  # wish id -> why it got no teacher

    @property
    def total_score(self) -> float:
        return float(sum(proposal.score for proposal in self.proposals))

    @cached_property
    def matches(self) -> list[Match]:
        """The proposals as people receive them: mirror directions (A teaches B, B teaches A)
        become one exchange led by the direction with the lower wish id. A person learns once
        per round, so a direction has at most one mirror."""
        by_people = {(p.learner_id, p.teacher_id): p for p in self.proposals}
        matches = []
        for proposal in self.proposals:
            mirror = by_people.get((proposal.teacher_id, proposal.learner_id))
            if mirror is None:
                matches.append(Match(proposal))
            elif proposal.wish_id < mirror.wish_id:
                matches.append(Match(proposal, mirror))
        return matches


@dataclass(frozen=True, eq=False)
class CandidateSet:
    """Scored candidate edges, at most one per (wish, teacher), the best `candidates_per_wish`
    per wish. Stored compactly as int32 positions in the round's index, so 10,000 people's
    two million candidates take 24 MB; the id properties expand them on demand.
    `reasons` holds the wishes of learners who can learn that got no candidate at all."""

    index: RoundIndex
    wish_ranks: np.ndarray  # positions in index.wishes
    teacher_entries: np.ndarray  # positions in index.teacher_* (one skill per topic, teacher)
    scores: np.ndarray  # points
    reasons: dict[int, UnmatchedReason]

    def __len__(self) -> int:
        return len(self.wish_ranks)

    @property
    def wish_ids(self) -> np.ndarray:
        return self.index.wish_ids[self.wish_ranks]

    @property
    def skill_ids(self) -> np.ndarray:
        return self.index.teacher_skill_ids[self.teacher_entries]

    @property
    def learner_rows(self) -> np.ndarray:
        return self.index.wish_person_rows[self.wish_ranks]

    @property
    def teacher_rows(self) -> np.ndarray:
        return self.index.teacher_rows[self.teacher_entries]

    @property
    def learner_ids(self) -> np.ndarray:
        return self.index.person_ids[self.learner_rows]

    @property
    def teacher_ids(self) -> np.ndarray:
        return self.index.person_ids[self.teacher_rows]


# --------------------------------------------------------------------------------------------
# Lookups


@dataclass(frozen=True, eq=False)  # holds arrays: == would be ambiguous
class RoundIndex:
    """Canonically ordered views of a RoundInput: people by id, wishes by id, teachers by topic
    and person. The same round given in any order builds the same matrices and gets the same
    answer. Arrays serve the vectorised search, dicts the per-pair code."""

    person_ids: np.ndarray  # ascending; a person's row in the arrays below
    position: dict[int, int]  # person id -> row
    stage: np.ndarray
    department: np.ndarray  # codes in sorted department order, -1 for unknown
    utc_offset: np.ndarray
    slots: np.ndarray
    can_learn: np.ndarray
    has_exclusions: np.ndarray  # has blocked, current, past or recent partners as a learner
    wishes: list[WishInput]  # sorted by id; a wish's rank is its position here
    wish_ids: np.ndarray
    wish_person_rows: np.ndarray
    wish_topic_ids: np.ndarray
    wish_waited_days: np.ndarray
    wish_requested_rows: np.ndarray  # person row of the requested teacher, -1 for none
    # One entry per (topic, teacher): their highest-level skill (lowest id on a tie), sorted
    # by topic then person; topic_teachers gives each topic's slice.
    teacher_skill_ids: np.ndarray
    teacher_rows: np.ndarray
    teacher_levels: np.ndarray
    topic_teachers: dict[int, slice]
    teachers_by_topic: dict[int, list[SkillInput]]  # the same entries, as skills
    wishes_by_id: dict[int, WishInput]
    wishes_by_person: dict[int, list[WishInput]]
    skills_by_id: dict[int, SkillInput]
    skills_by_person: dict[int, list[SkillInput]]
    excluded_partners: dict[int, set[int]]  # blocked or currently paired, both directions
    past_teachers: dict[tuple[int, int], set[int]]  # (learner, topic) -> former teachers
    recent_partners: dict[int, set[int]]  # paired within the repeat window, both directions
    longest_wait: dict[int, dict[int, int]]  # person -> topic -> longest wait of an open wish

    @classmethod
    def build(cls, round_input: RoundInput) -> RoundIndex:
        people = [round_input.people[person_id] for person_id in sorted(round_input.people)]
        position = {p.id: row for row, p in enumerate(people)}
        departments = sorted({p.department for p in people if p.department is not None})
        department_code = {name: code for code, name in enumerate(departments)}
        wishes = sorted(round_input.wishes, key=lambda wish: wish.id)
        skills = sorted(round_input.skills, key=lambda skill: skill.id)
        _check_people_known(round_input.people, [*wishes, *skills])

        wishes_by_person: dict[int, list[WishInput]] = defaultdict(list)
        longest_wait: dict[int, dict[int, int]] = defaultdict(dict)
        for wish in wishes:
            wishes_by_person[wish.person_id].append(wish)
            waits = longest_wait[wish.person_id]
            waits[wish.topic_id] = max(wish.waited_days, waits.get(wish.topic_id, 0))
        skills_by_person: dict[int, list[SkillInput]] = defaultdict(list)
        for skill in skills:
            skills_by_person[skill.person_id].append(skill)
        excluded_partners: dict[int, set[int]] = defaultdict(set)
        for pair in (*round_input.blocked_pairs, *round_input.current_pairs):
            for person_id in pair:
                excluded_partners[person_id].update(pair - {person_id})
        past_teachers: dict[tuple[int, int], set[int]] = defaultdict(set)
        for learner_id, teacher_id, topic_id in round_input.past_pairs:
            past_teachers[learner_id, topic_id].add(teacher_id)
        recent_partners: dict[int, set[int]] = defaultdict(set)
        for pair in round_input.recent_partners:
            for person_id in pair:
                recent_partners[person_id].update(pair - {person_id})
        has_exclusions = np.zeros(len(people), dtype=bool)
        excluded_learners = {*excluded_partners, *recent_partners, *(learner for learner, _ in past_teachers)}
        has_exclusions[[position[p] for p in excluded_learners if p in position]] = True

        teachers = _TeacherTable.build(skills, position)
        return cls(
            person_ids=_column((p.id for p in people), len(people)),
            position=position,
            stage=_column((p.career_stage for p in people), len(people)),
            department=_column((department_code.get(p.department, -1) for p in people), len(people)),
            utc_offset=_column((p.utc_offset_minutes for p in people), len(people)),
            slots=_column((p.teaching_slots for p in people), len(people)),
            can_learn=_column((p.can_learn for p in people), len(people), dtype=bool),
            has_exclusions=has_exclusions,
            wishes=wishes,
            wish_ids=_column((w.id for w in wishes), len(wishes)),
            wish_person_rows=_column((position[w.person_id] for w in wishes), len(wishes)),
            wish_topic_ids=_column((w.topic_id for w in wishes), len(wishes)),
            wish_waited_days=_column((w.waited_days for w in wishes), len(wishes)),
            wish_requested_rows=_column(
                (position.get(w.requested_teacher_id, -1) for w in wishes), len(wishes)
            ),
            teacher_skill_ids=teachers.skill_ids,
            teacher_rows=teachers.rows,
            teacher_levels=teachers.levels,
            topic_teachers=teachers.by_topic,
            teachers_by_topic={
                topic_id: [skills[i] for i in teachers.skill_ranks[where]]
                for topic_id, where in teachers.by_topic.items()
            },
            wishes_by_id={wish.id: wish for wish in wishes},
            wishes_by_person=dict(wishes_by_person),
            skills_by_id={skill.id: skill for skill in skills},
            skills_by_person=dict(skills_by_person),
            excluded_partners=dict(excluded_partners),
            past_teachers=dict(past_teachers),
            recent_partners=dict(recent_partners),
            longest_wait=dict(longest_wait),
        )

    def is_allowed(self, round_input: RoundInput, wish: WishInput, skill: SkillInput) -> bool:
        """May this skill's owner teach this wish's topic to its owner at all (capacity aside)?"""
        teacher_id, learner_id = skill.person_id, wish.person_id
        if teacher_id == learner_id or teacher_id in self.excluded_partners.get(learner_id, ()):
            return False
        repeat = teacher_id in self.past_teachers.get(
            (learner_id, skill.topic_id), ()
        ) or teacher_id in self.recent_partners.get(learner_id, ())
        if repeat and wish.requested_teacher_id != teacher_id:
            return False
        if round_input.strict_reverse:
            learner, teacher = round_input.people[learner_id], round_input.people[teacher_id]
            return teacher.career_stage < learner.career_stage
        return True


@dataclass(frozen=True, eq=False)
class _TeacherTable:
    """Each teacher's best skill per topic, as arrays sorted by (topic, person row)."""

    skill_ranks: np.ndarray  # positions in the id-sorted skills
    skill_ids: np.ndarray
    rows: np.ndarray
    levels: np.ndarray
    by_topic: dict[int, slice]

    @classmethod
    def build(cls, skills: list[SkillInput], position: dict[int, int]) -> _TeacherTable:
        n = len(skills)
        if n == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty, empty, empty, {})
        ids = _column((s.id for s in skills), n)
        topics = _column((s.topic_id for s in skills), n)
        rows = _column((position[s.person_id] for s in skills), n)
        levels = _column((s.level for s in skills), n)
        order = np.lexsort((ids, -levels, rows, topics))
        topics, rows = topics[order], rows[order]
        first = np.r_[True, (topics[1:] != topics[:-1]) | (rows[1:] != rows[:-1])]
        best = order[first]
        topic_ids, starts = np.unique(topics[first], return_index=True)
        stops = np.r_[starts[1:], len(best)]
        return cls(
            skill_ranks=best,
            skill_ids=ids[best],
            rows=rows[first],
            levels=levels[best],
            by_topic={
                int(topic): slice(int(start), int(stop))
                for topic, start, stop in zip(topic_ids, starts, stops, strict=True)
            },
        )


def _column(values: Iterable[int | bool], count: int, dtype: type = np.int64) -> np.ndarray:
    return np.fromiter(values, dtype=dtype, count=count)


def _check_people_known(people: Mapping[int, PersonInput], items: Iterable[WishInput | SkillInput]) -> None:
    for item in items:
        if item.person_id not in people:
            kind = type(item).__name__
            raise ValueError(f"{kind} {item.id} belongs to unknown person {item.person_id}")


# --------------------------------------------------------------------------------------------
# Scoring. The same integer expressions serve the proposals' breakdowns and the vectorised
# candidate search, so an edge weight and its breakdown always agree exactly.


def working_hours_overlap_minutes(offset_a: ArrayLike, offset_b: ArrayLike) -> np.ndarray:
    """Minutes both people are inside their local 09:00-17:00, from their UTC offsets."""
    difference = np.abs(np.subtract(offset_a, offset_b)) % MINUTES_PER_DAY
    shift = np.minimum(difference, MINUTES_PER_DAY - difference)  # round the clock either way
    return np.maximum(WORKDAY_MINUTES - shift, 0)


def _pro_rata(points: int, numerator: np.ndarray, denominator: int) -> np.ndarray:
    """points * numerator / denominator, rounded half up, in exact integer arithmetic."""
    return (2 * points * numerator + denominator) // (2 * denominator)


def _career_points(weights: ScoreWeights, learner_stage: ArrayLike, teacher_stage: ArrayLike) -> np.ndarray:
    gap = np.subtract(learner_stage, teacher_stage)
    reverse = weights.reverse_per_stage * gap
    return np.where(gap > 0, reverse, np.where(gap == 0, weights.same_stage, weights.traditional))


def _pair_points(
    weights: ScoreWeights,
    learner: tuple[ArrayLike, ArrayLike, ArrayLike],
    teacher: tuple[ArrayLike, ArrayLike, ArrayLike],
    level: ArrayLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The terms fixed by who the two people are and the teacher's level: career, department,
    working hours, level. `learner` and `teacher` are (stage, department code, utc offset),
    as scalars or broadcastable arrays."""
    learner_stage, learner_department, learner_offset = learner
    teacher_stage, teacher_department, teacher_offset = teacher
    career = _career_points(weights, learner_stage, teacher_stage)
    both_known = np.minimum(learner_department, teacher_department) >= 0  # -1 is unknown
    different = np.logical_and(both_known, np.not_equal(learner_department, teacher_department))
    cross = weights.cross_department * different
    overlap = working_hours_overlap_minutes(learner_offset, teacher_offset)
    hours = _pro_rata(weights.working_hours, overlap, WORKDAY_MINUTES)
    level_points = weights.teacher_level * (np.asarray(level) - 1)
    return career, cross, hours, level_points


def _waiting_points(weights: ScoreWeights, waited_days: ArrayLike) -> np.ndarray:
    capped = np.minimum(waited_days, weights.waiting_cap_days)
    return _pro_rata(weights.waiting, capped, weights.waiting_cap_days)


def _requested_points(weights: ScoreWeights, wish: WishInput, teacher_id: int) -> int:
    return weights.requested_teacher if wish.requested_teacher_id == teacher_id else 0


def score_pair(round_input: RoundInput, wish: WishInput, skill: SkillInput) -> ScoreBreakdown:
    """Score the owner of `skill` teaching `wish` to its owner. Constraints are not checked here."""
    return score_pairs(round_input, [(wish, skill)])[0]


def score_pairs(
    round_input: RoundInput, pairs: Sequence[tuple[WishInput, SkillInput]]
) -> list[ScoreBreakdown]:
    """score_pair for many pairs at once, with the person terms computed as arrays."""
    weights, index = round_input.weights, round_input.index
    learners = np.array([index.position[wish.person_id] for wish, _ in pairs], dtype=np.int64)
    teachers = np.array([index.position[skill.person_id] for _, skill in pairs], dtype=np.int64)
    career, cross, hours, level = _pair_points(
        weights,
        (index.stage[learners], index.department[learners], index.utc_offset[learners]),
        (index.stage[teachers], index.department[teachers], index.utc_offset[teachers]),
        np.array([skill.level for _, skill in pairs], dtype=np.int64),
    )
    waiting = _waiting_points(weights, np.array([w.waited_days for w, _ in pairs], dtype=np.int64))
    return [
        ScoreBreakdown(
            match=weights.match,
            career=career_pts,
            cross_department=cross_pts,
            working_hours=hours_pts,
            teacher_level=level_pts,
            requested_teacher=_requested_points(weights, wish, skill.person_id),
            waiting=waiting_pts,
        )
        for (wish, skill), career_pts, cross_pts, hours_pts, level_pts, waiting_pts in zip(
            pairs,
            career.tolist(),
            cross.tolist(),
            hours.tolist(),
            level.tolist(),
            waiting.tolist(),
            strict=True,
        )
    ]


# --------------------------------------------------------------------------------------------
# Candidates


def build_candidates(
    round_input: RoundInput, *, candidates_per_wish: int = DEFAULT_CANDIDATES_PER_WISH
) -> CandidateSet:
    """Score every (open wish, teacher) pair topic by topic and keep the best per wish."""
    if candidates_per_wish < 1:
        raise ValueError("candidates_per_wish must be at least 1")
    context = _SearchContext.build(round_input)
    chunks: list[_EdgeChunk] = []
    reasons: dict[int, UnmatchedReason] = {}
    for topic_id, wish_ranks in context.open_wishes_by_topic().items():
        block = _TopicBlock.build(context, topic_id, wish_ranks)
        block_chunks, block_reasons = block.best_candidates(candidates_per_wish)
        chunks.extend(block_chunks)
        reasons.update(block_reasons)
    return _candidate_set(round_input.index, chunks, reasons)


@dataclass(frozen=True, eq=False)
class _SearchContext:
    """Per-round arrays for the vectorised search.

    Candidates are ranked by int32 keys: the score in the high bits (negative when the pair
    is not allowed), a tie-break in the `tie_bits` low bits. int32 keys halve the memory the
    search streams through, and argpartition runs faster on them than on int64.
    """

    round_input: RoundInput
    tie_bits: int
    profile: np.ndarray  # person row -> profile code; one code per (stage, department, offset)
    profile_values: np.ndarray  # profile code -> (stage, department, offset)
    person_hash: np.ndarray  # person row -> int32 tie-break in the low `tie_bits` bits

    @classmethod
    def build(cls, round_input: RoundInput) -> _SearchContext:
        index = round_input.index
        triples = np.stack([index.stage, index.department, index.utc_offset], axis=1)
        profile_values, profile = np.unique(triples, axis=0, return_inverse=True)
        tie_bits = _KEY_BITS - round_input.weights.max_total().bit_length()
        return cls(
            round_input=round_input,
            tie_bits=tie_bits,
            profile=profile.reshape(-1),
            profile_values=profile_values,
            person_hash=_hash_bits(index.person_ids, tie_bits, salt=2),
        )

    def open_wishes_by_topic(self) -> dict[int, np.ndarray]:
        """Ranks (positions in index.wishes) of the wishes of people who can learn now."""
        index = self.round_input.index
        ranks = np.flatnonzero(index.can_learn[index.wish_person_rows])
        topics = index.wish_topic_ids[ranks]
        order = np.argsort(topics, kind="stable")
        ranks, topics = ranks[order], topics[order]
        if len(ranks) == 0:
            return {}
        topic_ids, starts = np.unique(topics, return_index=True)
        stops = np.r_[starts[1:], len(ranks)]
        return {
            int(topic): ranks[start:stop] for topic, start, stop in zip(topic_ids, starts, stops, strict=True)
        }

    def points_key(self, points: np.ndarray | int) -> np.ndarray:
        """Points moved above the tie-break bits, as int32 to add to keys."""
        return np.left_shift(points, self.tie_bits).astype(np.int32)


@dataclass(frozen=True, eq=False)
class _EdgeChunk:
    wish_ranks: np.ndarray
    teacher_entries: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True, eq=False)
class _TopicBlock:
    """All open wishes on one topic (rows) against everyone with that skill (columns)."""

    context: _SearchContext
    topic_id: int
    wish_ids: np.ndarray  # sorted by learner profile, then id
    wish_ranks: np.ndarray  # positions in index.wishes
    learner_rows: np.ndarray  # person rows of the learners
    waiting: np.ndarray  # waiting points per wish
    wish_hash: np.ndarray
    first_teacher_entry: int  # columns are index.teacher_* entries from here on
    teacher_rows: np.ndarray  # person rows of the teachers, ascending
    levels: np.ndarray
    requested_columns: np.ndarray  # per row, the column of the teacher asked for by name, or -1
    excluded_rows: np.ndarray  # (row, column) cells that may never be paired
    excluded_columns: np.ndarray

    @classmethod
    def build(cls, context: _SearchContext, topic_id: int, wish_ranks: np.ndarray) -> _TopicBlock:
        round_input = context.round_input
        index = round_input.index
        learner_rows = index.wish_person_rows[wish_ranks]
        # Rows of one profile sit together, so a chunk of rows needs few profile rows.
        order = np.lexsort((wish_ranks, context.profile[learner_rows]))
        wish_ranks, learner_rows = wish_ranks[order], learner_rows[order]
        teachers = index.topic_teachers.get(topic_id, slice(0, 0))
        teacher_rows = index.teacher_rows[teachers]
        wish_ids = index.wish_ids[wish_ranks]
        waiting = _waiting_points(round_input.weights, index.wish_waited_days[wish_ranks])
        excluded_rows, excluded_columns = _excluded_cells(
            index, topic_id, wish_ranks, learner_rows, teacher_rows
        )
        requested_columns = _columns_of(teacher_rows, index.wish_requested_rows[wish_ranks])
        return cls(
            context=context,
            topic_id=topic_id,
            wish_ids=wish_ids,
            wish_ranks=wish_ranks,
            learner_rows=learner_rows,
            waiting=waiting.astype(np.int32),
            wish_hash=_hash_bits(wish_ids, context.tie_bits, salt=1),
            first_teacher_entry=teachers.start,
            teacher_rows=teacher_rows,
            levels=index.teacher_levels[teachers],
            requested_columns=requested_columns,
            excluded_rows=excluded_rows,
            excluded_columns=excluded_columns,
        )

    def best_candidates(
        self, candidates_per_wish: int
    ) -> tuple[list[_EdgeChunk], dict[int, UnmatchedReason]]:
        n_rows, n_columns = len(self.wish_ids), len(self.teacher_rows)
        if n_columns == 0:
            return [], {int(wish_id): UnmatchedReason.NO_TEACHER for wish_id in self.wish_ids}
        exclusions_per_row = np.bincount(self.excluded_rows, minlength=n_rows)
        has_candidate = np.zeros(n_rows, dtype=bool)
        chunks = []
        rows_per_chunk = max(1, _CHUNK_ENTRIES // n_columns)
        for start in range(self._first_hopeful_row(), n_rows, rows_per_chunk):
            rows = slice(start, min(start + rows_per_chunk, n_rows))
            places = candidates_per_wish + int(exclusions_per_row[rows].max())
            keys, columns = self._keys(rows, places)
            chunk, found = self._best_keys(rows, keys, columns, candidates_per_wish)
            chunks.append(chunk)
            has_candidate[rows] = found
        return chunks, self._reasons(has_candidate)

    def _first_hopeful_row(self) -> int:
        """Rows before this one cannot have a candidate: nobody has a free slot, or in strict
        mode no teacher with one is more junior. Rows are sorted by profile, which starts with
        the career stage, so those rows come first and are skipped in one go."""
        index = self.context.round_input.index
        with_slots = self.teacher_rows[index.slots[self.teacher_rows] > 0]
        if len(with_slots) == 0:
            return len(self.wish_ids)
        if not self.context.round_input.strict_reverse:
            return 0
        youngest = index.stage[with_slots].min()
        return int(np.searchsorted(index.stage[self.learner_rows], youngest, side="right"))

    def _keys(self, rows: slice, places: int) -> tuple[np.ndarray, np.ndarray]:
        """Keys of these rows against the columns that can make their best `places`, and those
        columns. Without the waiting points: they are the same along a row, so they cannot
        change its ranking and are added after selection.

        The low bits hold the teacher's hash XOR the wish's hash. Equal scores are common, and
        if every learner ranked equal teachers alike they would all keep the same few as
        candidates; this way each wish sees its own deterministic order among equals.
        """
        profiles, inverse = np.unique(self.context.profile[self.learner_rows[rows]], return_inverse=True)
        # Learners who share a profile score every teacher alike (apart from a request by
        # name), so the person terms are computed once per profile, then copied to rows.
        base_keys = self._base_keys(profiles)
        requested = self.requested_columns[rows]
        columns = self._columns_within_reach(base_keys, places, requested)
        keys = base_keys[:, columns][inverse.reshape(-1)]
        column_of = np.full(len(self.teacher_rows), -1)
        column_of[columns] = np.arange(len(columns))
        asking = np.flatnonzero(requested >= 0)
        # A forbidden key stays below zero with the bonus added: the bonus never lifts it.
        bonus = self.context.points_key(self.context.round_input.weights.requested_teacher)
        keys[asking, column_of[requested[asking]]] += bonus
        in_rows = (self.excluded_rows >= rows.start) & (self.excluded_rows < rows.stop)
        excluded_columns = column_of[self.excluded_columns[in_rows]]
        kept = excluded_columns >= 0
        excluded_rows = self.excluded_rows[in_rows][kept] - rows.start
        keys[excluded_rows, excluded_columns[kept]] = _NOT_ALLOWED_KEY
        keys ^= self.wish_hash[rows, None]
        return keys, columns

    def _columns_within_reach(self, base_keys: np.ndarray, places: int, requested: np.ndarray) -> np.ndarray:
        """The columns that can be among the best `places` for some profile, and the requested
        teachers. For a profile, at least `places` columns score at least its cut (the
        places-th best person terms); with at most `places` - candidates_per_wish of them
        excluded for any row, a column below the cut can never be a candidate unless a request
        lifts it. Skipping them saves a third of the work on a large round; the result is the
        same."""
        n_columns = base_keys.shape[1]
        if places >= n_columns:
            return np.arange(n_columns)
        scores = base_keys >> self.context.tie_bits
        cut = np.partition(scores, n_columns - places, axis=1)[:, n_columns - places]
        within = (scores >= cut[:, None]).any(axis=0)
        within[requested[requested >= 0]] = True
        return np.flatnonzero(within)

    def _base_keys(self, profiles: np.ndarray) -> np.ndarray:
        """Keys of the person terms per learner profile and teacher, teacher hash included."""
        index = self.context.round_input.index
        weights = self.context.round_input.weights
        values = self.context.profile_values[profiles]
        learner = (values[:, 0:1], values[:, 1:2], values[:, 2:3])
        rows = self.teacher_rows
        teacher = (index.stage[rows], index.department[rows], index.utc_offset[rows])
        career, cross, hours, level = _pair_points(weights, learner, teacher, self.levels)
        base = weights.match + career + cross + hours + level
        allowed = np.broadcast_to(index.slots[rows] > 0, base.shape)
        if self.context.round_input.strict_reverse:
            allowed = allowed & (teacher[0] < learner[0])
        keys = self.context.points_key(base) | self.context.person_hash[rows]
        return np.where(allowed, keys, _NOT_ALLOWED_KEY)

    def _best_keys(
        self, rows: slice, keys: np.ndarray, columns: np.ndarray, candidates_per_wish: int
    ) -> tuple[_EdgeChunk, np.ndarray]:
        n_columns = keys.shape[1]
        if n_columns > candidates_per_wish:
            kth = n_columns - candidates_per_wish
            best_columns = np.argpartition(keys, kth, axis=1)[:, kth:]
        else:
            best_columns = np.broadcast_to(np.arange(n_columns), keys.shape)
        best_scores = np.take_along_axis(keys, best_columns, axis=1) >> self.context.tie_bits
        usable = best_scores >= 0
        picked_rows, picks = np.nonzero(usable)
        picked_columns = columns[best_columns[picked_rows, picks]]
        chunk = _EdgeChunk(
            wish_ranks=self.wish_ranks[rows][picked_rows].astype(np.int32),
            teacher_entries=(self.first_teacher_entry + picked_columns).astype(np.int32),
            scores=best_scores[picked_rows, picks] + self.waiting[rows][picked_rows],
        )
        return chunk, usable.any(axis=1)

    def _reasons(self, has_candidate: np.ndarray) -> dict[int, UnmatchedReason]:
        index = self.context.round_input.index
        n_rows, n_columns = len(self.wish_ids), len(self.teacher_rows)
        learner_stage = index.stage[self.learner_rows]
        teacher_stage = index.stage[self.teacher_rows]
        excluded_rows, excluded_columns = self.excluded_rows, self.excluded_columns
        is_self = self.teacher_rows[excluded_columns] == self.learner_rows[excluded_rows]
        others = n_columns - np.bincount(excluded_rows[is_self], minlength=n_rows)
        allowed = n_columns - np.bincount(excluded_rows, minlength=n_rows)
        if self.context.round_input.strict_reverse:
            junior = np.searchsorted(np.sort(teacher_stage), learner_stage, side="left")
            excluded_junior = teacher_stage[excluded_columns] < learner_stage[excluded_rows]
            allowed_junior = junior - np.bincount(excluded_rows[excluded_junior], minlength=n_rows)
        else:
            allowed_junior = allowed
        reasons = {}
        for row in np.flatnonzero(~has_candidate):
            if others[row] == 0:
                reason = UnmatchedReason.NO_TEACHER
            elif allowed[row] == 0:
                reason = UnmatchedReason.ALL_EXCLUDED
            elif allowed_junior[row] == 0:
                reason = UnmatchedReason.STRICT_REVERSE
            else:  # teachers exist and may teach, but none has a free slot
                reason = UnmatchedReason.TEACHERS_BUSY
            reasons[int(self.wish_ids[row])] = reason
        return reasons


def _columns_of(teacher_rows: np.ndarray, person_rows: np.ndarray) -> np.ndarray:
    """The column of each person among the (ascending) teacher rows, -1 if not a teacher."""
    if len(teacher_rows) == 0:
        return np.full(len(person_rows), -1)
    at = np.minimum(np.searchsorted(teacher_rows, person_rows), len(teacher_rows) - 1)
    return np.where((person_rows >= 0) & (teacher_rows[at] == person_rows), at, -1)


def _excluded_cells(
    index: RoundIndex,
    topic_id: int,
    wish_ranks: np.ndarray,
    learner_rows: np.ndarray,
    teacher_rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) cells of a topic block that may never be paired: the learner themself,
    blocked and current partners, and repeats (past on this topic, or recent on any) other
    than the teacher the wish asks for by name."""
    rows: list[int] = []
    columns: list[int] = []
    if len(teacher_rows):
        # Self pairs, vectorised: teacher_rows is ascending, so binary search finds a learner
        # who also teaches the topic.
        at = np.minimum(np.searchsorted(teacher_rows, learner_rows), len(teacher_rows) - 1)
        self_rows = np.flatnonzero(teacher_rows[at] == learner_rows)
        rows, columns = self_rows.tolist(), at[self_rows].tolist()
    column_of = {row: column for column, row in enumerate(teacher_rows.tolist())}
    for row in np.flatnonzero(index.has_exclusions[learner_rows]).tolist():
        learner_id = int(index.person_ids[learner_rows[row]])
        repeats = index.past_teachers.get((learner_id, topic_id), _NO_ONE) | index.recent_partners.get(
            learner_id, _NO_ONE
        )
        requested = index.wishes[int(wish_ranks[row])].requested_teacher_id
        partners = index.excluded_partners.get(learner_id, _NO_ONE) | (repeats - {requested})
        for partner in partners - {learner_id}:
            column = column_of.get(index.position.get(partner, -1))
            if column is not None:
                rows.append(row)
                columns.append(column)
    return np.array(rows, dtype=np.int64), np.array(columns, dtype=np.int64)


def _hash_bits(ids: np.ndarray, bits: int, *, salt: int) -> np.ndarray:
    """A well-mixed hash of integer ids in `bits` bits, as int32 (the splitmix64 finaliser)."""
    mixed = ids.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15 * salt % 2**64)
    mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (mixed >> np.uint64(64 - bits)).astype(np.int32)


def _candidate_set(
    index: RoundIndex, chunks: list[_EdgeChunk], reasons: dict[int, UnmatchedReason]
) -> CandidateSet:
    def joined(name: str) -> np.ndarray:
        parts = [getattr(chunk, name) for chunk in chunks]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)

    return CandidateSet(
        index=index,
        wish_ranks=joined("wish_ranks"),
        teacher_entries=joined("teacher_entries"),
        scores=joined("scores"),
        reasons=reasons,
    )


# --------------------------------------------------------------------------------------------
# Solving


def solve_round(
    round_input: RoundInput, *, candidates_per_wish: int = DEFAULT_CANDIDATES_PER_WISH
) -> RoundResult:
    """The round with the maximum total score (exact over the kept candidates)."""
    candidates = build_candidates(round_input, candidates_per_wish=candidates_per_wish)
    return solve_candidates(round_input, candidates)


def solve_candidates(round_input: RoundInput, candidates: CandidateSet) -> RoundResult:
    chosen = _max_weight_assignment(round_input, candidates)
    return _round_result(
        round_input, _proposals_from_candidates(round_input, candidates, chosen), candidates.reasons
    )


@dataclass(frozen=True, eq=False)
class _Edges:
    """Candidate edges reduced to one per (learner, teacher), sorted by (row, teacher): rows
    number the learners in the solver's order, teachers are numbered 0.. in id order."""

    candidate: np.ndarray  # index into the CandidateSet
    row: np.ndarray
    teacher: np.ndarray
    score: np.ndarray
    teacher_rows: np.ndarray  # teacher number -> person row
    n_rows: int


def _max_weight_assignment(round_input: RoundInput, candidates: CandidateSet) -> np.ndarray:
    """Indices of the candidate edges in a maximum-score assignment of learners to slots."""
    if len(candidates) == 0:
        return np.zeros(0, dtype=np.int64)
    edges = _best_edge_per_learner_and_teacher(round_input.index, candidates)
    n_teachers = len(edges.teacher_rows)
    # More slot columns than distinct candidate learners could never be filled.
    learners_per_teacher = np.bincount(edges.teacher, minlength=n_teachers)
    capacity = np.minimum(round_input.index.slots[edges.teacher_rows], learners_per_teacher)
    matrix, n_slots = _slot_matrix(edges, capacity)
    matched_rows, matched_columns = min_weight_full_bipartite_matching(matrix, maximize=True)

    real = matched_columns < n_slots
    slot_owner = np.repeat(np.arange(n_teachers), capacity)
    edge_keys = edges.row * n_teachers + edges.teacher  # ascending, as edges are sorted
    matched_keys = matched_rows[real] * n_teachers + slot_owner[matched_columns[real]]
    return edges.candidate[np.searchsorted(edge_keys, matched_keys)]


def _slot_matrix(edges: _Edges, capacity: np.ndarray) -> tuple[csr_array, int]:
    """The sparse biadjacency matrix, built row by row without sorting: each edge once per
    slot of its teacher, then the row's private dummy column.

    A teacher's slot columns carry identical weights, so which of them the solver picks is
    irrelevant: every assignment of at most `capacity` learners to a teacher maps onto
    distinct slots. Weights are score + DUMMY_WEIGHT, dummies DUMMY_WEIGHT (see there).
    """
    n_rows = edges.n_rows
    first_slot = np.cumsum(capacity) - capacity
    n_slots = int(capacity.sum())
    copies = capacity[edges.teacher]
    n_real = int(copies.sum())
    entry_edge = np.repeat(np.arange(len(copies), dtype=np.int32), copies)
    slot_in_teacher = np.arange(n_real) - np.repeat(np.cumsum(copies) - copies, copies)
    real_per_row = np.bincount(edges.row, weights=copies, minlength=n_rows).astype(np.int64)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(real_per_row + 1, out=indptr[1:])
    is_dummy = np.zeros(n_real + n_rows, dtype=bool)
    is_dummy[indptr[1:] - 1] = True  # last in its row: real entries come in row order
    indices = np.empty(n_real + n_rows, dtype=np.int32)
    indices[~is_dummy] = first_slot[edges.teacher[entry_edge]] + slot_in_teacher
    indices[is_dummy] = n_slots + np.arange(n_rows)
    data = np.full(n_real + n_rows, DUMMY_WEIGHT, dtype=np.float64)
    data[~is_dummy] += edges.score[entry_edge]
    shape = (n_rows, n_slots + n_rows)
    return csr_array((data, indices, indptr.astype(np.int32)), shape=shape), n_slots


def _best_edge_per_learner_and_teacher(index: RoundIndex, candidates: CandidateSet) -> _Edges:
    """A learner learns one topic, so of several wishes one teacher could serve only the best
    matters: highest score, then lowest wish id (a wish and a teacher fix the skill)."""
    n_people = len(index.person_ids)
    learner_rows, teacher_rows = candidates.learner_rows, candidates.teacher_rows
    row_of_person, n_rows = _rows_by_best_score(learner_rows, candidates.scores, n_people)
    pair = row_of_person[learner_rows] * n_people + teacher_rows
    order = _argsort_small_keys(pair, bound=n_rows * n_people)
    sorted_pair = pair[order]
    starts = np.flatnonzero(np.r_[True, sorted_pair[1:] != sorted_pair[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    keep = np.ones(len(order), dtype=bool)
    # Few pairs come up twice; rank only the members of those groups.
    shared, shared_sizes = starts[sizes > 1], sizes[sizes > 1]
    if len(shared):
        group_starts = np.cumsum(shared_sizes) - shared_sizes
        members = np.repeat(shared - group_starts, shared_sizes) + np.arange(shared_sizes.sum())
        edges = order[members]
        worse = (_MAX_TOTAL_POINTS - candidates.scores[edges].astype(np.int64)) * len(index.wishes)
        worse += candidates.wish_ranks[edges]  # unique in a pair: one skill per wish and teacher
        keep[members] = worse == np.repeat(np.minimum.reduceat(worse, group_starts), shared_sizes)
    best = order[keep]
    teacher_present = np.zeros(n_people, dtype=bool)
    teacher_present[teacher_rows[best]] = True
    return _Edges(
        candidate=best,
        row=sorted_pair[keep] // n_people,
        teacher=(np.cumsum(teacher_present) - 1)[teacher_rows[best]],
        score=candidates.scores[best],
        teacher_rows=np.flatnonzero(teacher_present),
        n_rows=n_rows,
    )


def _argsort_small_keys(keys: np.ndarray, *, bound: int) -> np.ndarray:
    """A stable argsort of non-negative keys below `bound`. Sorting key * n + position as plain
    values is about twice as fast as argsort, when that fits in an int64."""
    n = len(keys)
    if bound * max(n, 1) >= 2**62:
        return np.argsort(keys, kind="stable")
    return np.sort(keys * n + np.arange(n)) % n


def _rows_by_best_score(
    learner_rows: np.ndarray, scores: np.ndarray, n_people: int
) -> tuple[np.ndarray, int]:
    """The solver's row of each person with candidates (-1 for the others): learners with the
    best top score first, then by id. LAPJVsp settles rows in order, and this order measured
    about twice as fast as by id on a 10,000-person round; it is canonical, so results stay
    deterministic."""
    # Candidates come in runs of one wish (one learner); the maximum per run is cheap, and
    # leaves a scatter over runs rather than over all candidates.
    runs = np.flatnonzero(np.r_[True, learner_rows[1:] != learner_rows[:-1]])
    best = np.full(n_people, -1, dtype=np.int64)
    np.maximum.at(best, learner_rows[runs], np.maximum.reduceat(scores, runs))
    learners = np.flatnonzero(best >= 0)
    order = learners[np.lexsort((learners, -best[learners]))]
    row_of_person = np.full(n_people, -1, dtype=np.int64)
    row_of_person[order] = np.arange(len(order))
    return row_of_person, len(order)


def _proposals_from_candidates(
    round_input: RoundInput, candidates: CandidateSet, chosen: np.ndarray
) -> list[Proposal]:
    index = round_input.index
    pairs = [
        (index.wishes[rank], index.skills_by_id[skill_id])
        for rank, skill_id in zip(
            candidates.wish_ranks[chosen].tolist(),
            index.teacher_skill_ids[candidates.teacher_entries[chosen]].tolist(),
            strict=True,
        )
    ]
    return make_proposals(round_input, pairs)


def make_proposals(round_input: RoundInput, pairs: Sequence[tuple[WishInput, SkillInput]]) -> list[Proposal]:
    """Proposals for these (wish, skill) pairs, scored; constraints are not checked here."""
    return [
        Proposal(
            wish_id=wish.id,
            skill_id=skill.id,
            learner_id=wish.person_id,
            teacher_id=skill.person_id,
            topic_id=wish.topic_id,
            score=float(breakdown.total),
            breakdown=breakdown,
        )
        for (wish, skill), breakdown in zip(pairs, score_pairs(round_input, pairs), strict=True)
    ]


def _round_result(
    round_input: RoundInput,
    proposals: list[Proposal],
    reasons_without_candidates: Mapping[int, UnmatchedReason],
) -> RoundResult:
    proposals = sorted(proposals, key=lambda p: p.wish_id)
    matched_wishes = {p.wish_id for p in proposals}
    learning = {p.learner_id for p in proposals}
    unmatched: dict[int, UnmatchedReason] = {}
    for wish in round_input.index.wishes:
        if wish.id in matched_wishes:
            continue
        if not round_input.people[wish.person_id].can_learn:
            unmatched[wish.id] = UnmatchedReason.LEARNING_ANOTHER
        elif wish.id in reasons_without_candidates:
            unmatched[wish.id] = reasons_without_candidates[wish.id]
        elif wish.person_id in learning:
            unmatched[wish.id] = UnmatchedReason.LEARNING_ANOTHER
        else:
            unmatched[wish.id] = UnmatchedReason.TEACHERS_BUSY
    return RoundResult(proposals=proposals, unmatched=unmatched)


# --------------------------------------------------------------------------------------------
# Baselines, for the benchmark and the tests


def greedy_round(
    round_input: RoundInput,
    *,
    candidates: CandidateSet | None = None,
    candidates_per_wish: int = DEFAULT_CANDIDATES_PER_WISH,
) -> RoundResult:
    """Take the best remaining candidate edge while it fits: fast, not optimal."""
    if candidates is None:
        candidates = build_candidates(round_input, candidates_per_wish=candidates_per_wish)
    index = round_input.index
    order = np.lexsort((candidates.skill_ids, candidates.wish_ids, -candidates.scores))
    free_slots = dict(zip(index.person_ids.tolist(), index.slots.tolist(), strict=True))
    learners, teachers = candidates.learner_ids.tolist(), candidates.teacher_ids.tolist()
    learning: set[int] = set()
    chosen = []
    for edge in order.tolist():
        learner_id, teacher_id = learners[edge], teachers[edge]
        if learner_id in learning or free_slots[teacher_id] == 0:
            continue
        learning.add(learner_id)
        free_slots[teacher_id] -= 1
        chosen.append(edge)
    proposals = _proposals_from_candidates(round_input, candidates, np.array(chosen, dtype=np.int64))
    return _round_result(round_input, proposals, candidates.reasons)


def random_round(
    round_input: RoundInput, rng: random.Random, *, candidates: CandidateSet | None = None
) -> RoundResult:
    """What a coffee bot does: learners in random order, each wish in random order gets a
    random allowed teacher of the topic with a free slot. Scores are computed only to compare.
    `candidates` (any size) only supplies the reasons of wishes nobody could take."""
    index = round_input.index
    free_slots = dict(zip(index.person_ids.tolist(), index.slots.tolist(), strict=True))
    learners = [pid for pid in sorted(index.wishes_by_person) if round_input.people[pid].can_learn]
    rng.shuffle(learners)
    pairs = []
    for learner_id in learners:
        wishes = list(index.wishes_by_person[learner_id])
        rng.shuffle(wishes)
        for wish in wishes:
            skill = _random_teacher(round_input, wish, free_slots, rng)
            if skill is not None:
                free_slots[skill.person_id] -= 1
                pairs.append((wish, skill))
                break
    if candidates is None:
        candidates = build_candidates(round_input, candidates_per_wish=1)
    return _round_result(round_input, make_proposals(round_input, pairs), candidates.reasons)


def _random_teacher(
    round_input: RoundInput, wish: WishInput, free_slots: dict[int, int], rng: random.Random
) -> SkillInput | None:
    """Uniform among the allowed teachers with a free slot. Sampling first keeps popular
    topics cheap; the full scan only runs when sampling keeps missing."""
    index = round_input.index
    teachers = index.teachers_by_topic.get(wish.topic_id, [])

    def fits(skill: SkillInput) -> bool:
        return free_slots[skill.person_id] > 0 and index.is_allowed(round_input, wish, skill)

    for _ in range(min(_RANDOM_TEACHER_ATTEMPTS, len(teachers))):
        skill = teachers[rng.randrange(len(teachers))]
        if fits(skill):
            return skill
    fitting = [skill for skill in teachers if fits(skill)]
    return rng.choice(fitting) if fitting else None


# --------------------------------------------------------------------------------------------
# Why, in words. Phrases, never points: people are told what made the match, not its score.
# Plain text: escape it before it goes into mrkdwn.

_LEVEL_WORDS = {1: "can show the basics of", 2: "is confident in", 3: "is an expert in"}
_YOUR_LEVEL_WORDS = {1: "can show the basics of", 2: "are confident in", 3: "are an expert in"}


@dataclass(frozen=True)
class _Words:
    """Names and descriptions of a round's people and topics, for one reader (None: a third
    person, such as the admin's dry run)."""

    round_input: RoundInput
    reader_id: int | None
    stage_names: Sequence[str]

    def name(self, person_id: int) -> str:
        return "you" if person_id == self.reader_id else self.round_input.people[person_id].name

    def about(self, person_id: int) -> str:
        person = self.round_input.people[person_id]
        stage = _stage_name(person.career_stage, self.stage_names)
        return (
            f"{person.name} ({stage}, {person.department})"
            if person.department
            else f"{person.name} ({stage})"
        )

    def topic(self, topic_id: int) -> str:
        return _topic_name(self.round_input.topic_names, topic_id)


def reasons(
    match: Match,
    round_input: RoundInput,
    *,
    reader_id: int | None,
    notes: Mapping[int, str] | None = None,
    stage_names: Sequence[str] = DEFAULT_STAGE_NAMES,
) -> list[str]:
    """Why these two, as phrases for `reader_id` (either side) or for a third person (None):
    a request by name, an exchange, the teacher's skill and level, junior-teaches-senior,
    another department, the learner's note (wish id -> note), the wait, working hours."""
    words = _Words(round_input, reader_id, stage_names)
    people = round_input.people
    main, back = match.main, match.back
    learner, teacher = main.learner_id, main.teacher_id
    phrases = []
    for proposal in (main, back) if back else (main,):
        if proposal.requested:
            asker, asked = proposal.learner_id, proposal.teacher_id
            if asker == reader_id:
                phrases.append(f"you asked for {words.name(asked)} by name")
            else:
                phrases.append(f"{words.name(asker)} asked for {words.name(asked)} by name")
    if back is not None:
        phrases.append(_exchange_phrase(words, main, back))
    for proposal in (main, back) if back else (main,):
        phrases.append(_skill_phrase(words, proposal))
    career = _career_phrase(words, people[learner], people[teacher], either_way=back is not None)
    if career:
        phrases.append(career)
    departments = (people[learner].department, people[teacher].department)
    if None not in departments and departments[0] != departments[1]:
        other = teacher if reader_id == learner else learner
        phrases.append(
            "other department"
            if reader_id is None
            else f"other department: {words.name(other)} is in {people[other].department}"
        )
    for proposal in (main, back) if back else (main,):
        note = (notes or {}).get(proposal.wish_id)
        if note and proposal.learner_id != reader_id:
            phrases.append(f"{people[proposal.learner_id].name}'s note: \u201c{note}\u201d")
    wish = round_input.index.wishes_by_id[main.wish_id]
    if reader_id == learner:
        phrases.append(f"you asked for it {_time_ago(wish.waited_days)}")
    elif reader_id is None and wish.waited_days >= 14:
        phrases.append(
            f"{people[learner].name} has waited {_time_ago(wish.waited_days).removesuffix(' ago')}"
        )
    overlap = int(
        working_hours_overlap_minutes(people[learner].utc_offset_minutes, people[teacher].utc_offset_minutes)
    )
    whose = "your" if reader_id is not None else "their"
    if overlap == 0:
        phrases.append(f"{whose} working hours do not overlap, so plan around time zones")
    elif overlap < WORKDAY_MINUTES:
        phrases.append(f"{whose} working days overlap by {_hours(overlap)}")
    return phrases


def explain(
    match: Match,
    round_input: RoundInput,
    *,
    reader_id: int | None,
    notes: Mapping[int, str] | None = None,
    stage_names: Sequence[str] = DEFAULT_STAGE_NAMES,
) -> str:
    """The reasons as one line, e.g. for the learner: "Priya is an expert in social media;
    junior teaches senior: Priya is early career, you are senior; you asked for it 3 weeks ago"."""
    return "; ".join(reasons(match, round_input, reader_id=reader_id, notes=notes, stage_names=stage_names))


def describe_match(
    match: Match,
    round_input: RoundInput,
    *,
    notes: Mapping[int, str] | None = None,
    stage_names: Sequence[str] = DEFAULT_STAGE_NAMES,
) -> str:
    """A pair in the third person, for the dry run and the demo: "Ana (early career, Design)
    teaches Raj (senior, Finance) Figma: junior teaches senior; other department; ..."."""
    words = _Words(round_input, None, stage_names)
    main, back = match.main, match.back
    if back is None:
        teacher, learner = words.about(main.teacher_id), words.about(main.learner_id)
        head = f"{teacher} teaches {learner} {words.topic(main.topic_id)}"
    else:
        head = (
            f"{words.about(main.teacher_id)} and {words.about(main.learner_id)} swap "
            f"{words.topic(main.topic_id)} and {words.topic(back.topic_id)}"
        )
    why = explain(match, round_input, reader_id=None, notes=notes, stage_names=stage_names)
    return f"{head}: {why}"


def _exchange_phrase(words: _Words, main: Proposal, back: Proposal) -> str:
    if words.reader_id is None:
        return "an exchange: each teaches the other"
    giver = main if main.teacher_id == words.reader_id else back  # the direction the reader teaches
    taker = back if giver is main else main
    return (
        f"an exchange: {words.name(taker.teacher_id)} teaches you {words.topic(taker.topic_id)}, "
        f"you teach {words.name(giver.learner_id)} {words.topic(giver.topic_id)}"
    )


def _skill_phrase(words: _Words, proposal: Proposal) -> str:
    level = words.round_input.index.skills_by_id[proposal.skill_id].level
    if proposal.teacher_id == words.reader_id:
        return f"you {_YOUR_LEVEL_WORDS[level]} {words.topic(proposal.topic_id)}"
    return f"{words.name(proposal.teacher_id)} {_LEVEL_WORDS[level]} {words.topic(proposal.topic_id)}"


def _career_phrase(
    words: _Words, learner: PersonInput, teacher: PersonInput, *, either_way: bool
) -> str | None:
    stage = lambda person: _stage_name(person.career_stage, words.stage_names)  # noqa: E731
    if teacher.career_stage == learner.career_stage:
        return "peers" if words.reader_id is None else f"peers: you are both {stage(learner)}"
    junior, senior = sorted((learner, teacher), key=lambda person: person.career_stage)
    if not either_way and junior is not teacher:
        return None  # senior teaches junior: allowed, and no reason in itself
    if words.reader_id is None:
        return "junior teaches senior"
    be = lambda person: "you are" if person.id == words.reader_id else f"{person.name} is"  # noqa: E731
    return f"junior teaches senior: {be(junior)} {stage(junior)}, {be(senior)} {stage(senior)}"


def _topic_name(topic_names: Mapping[int, str], topic_id: int) -> str:
    return topic_names.get(topic_id, f"topic {topic_id}")


def _stage_name(stage: int, stage_names: Sequence[str]) -> str:
    return stage_names[stage] if 0 <= stage < len(stage_names) else f"stage {stage}"


def _time_ago(days: int) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    return f"{days // 7} weeks ago"


def _hours(minutes: int) -> str:
    hours = minutes / 60
    text = f"{hours:g}" if hours == int(hours) else f"{hours:.1f}"
    return f"{text} hour" if hours == 1 else f"{text} hours"
