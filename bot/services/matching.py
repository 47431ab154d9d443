"""The weekly matching round: pair learners' open wishes with teachers' skills, exactly.

Pure domain code: plain frozen dataclasses in, plain dataclasses out; no Slack, no database.

Capacity rules (chosen so the problem stays bipartite and can be solved exactly):
- a person LEARNS at most one topic per round (one of their wishes), and only if `can_learn`;
- a person TEACHES at most `teaching_slots` pairs per round;
- a person may learn in one pair and teach in another in the same round;
- never a self pair, never a repeat of `past_pairs` (learner, teacher, topic), never a pair in
  `blocked_pairs` or `current_pairs`; in `strict_reverse` mode the teacher must be at an earlier
  career stage than the learner.

Formulation: rows are learners, columns are teacher capacity slots (a teacher with two free slots
owns two identical columns), and every row has one private dummy column meaning "not matched this
round". Each learner-teacher edge carries the best score over the learner's wishes that teacher
can teach; scipy's sparse Jonker-Volgenant solver (LAPJVsp) then finds the maximum total score.
Candidate lists are pruned to the best `candidates_per_wish` teachers per wish first, which is
what keeps 10,000 people inside a few seconds; the optimum is exact over the kept candidates.
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
from scipy.sparse import csr_array
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

EARLY_CAREER, MID_CAREER, SENIOR, EXECUTIVE = range(4)
CAREER_STAGES = range(EARLY_CAREER, EXECUTIVE + 1)
DEFAULT_STAGE_NAMES = ("early career", "mid-career", "senior", "executive")
SKILL_LEVELS = range(1, 4)  # 1 basics, 2 confident, 3 expert

MINUTES_PER_DAY = 24 * 60
WORKDAY_MINUTES = 8 * 60  # 09:00-17:00 local

DEFAULT_CANDIDATES_PER_WISH = 40
# Real edges carry score + DUMMY_WEIGHT and dummy columns carry DUMMY_WEIGHT alone. Every row
# takes exactly one column, so the constant adds the same amount to every full matching and the
# optimum is unchanged; it exists only so that no stored weight is zero, because scipy treats
# explicit zeros in sparse matrices inconsistently (its docs ask for non-zero weights).
DUMMY_WEIGHT = 1.0
# Equal scores are common (the terms are discrete), and if every learner ranked equal teachers
# the same way they would all keep the same few as candidates. A hash of the (wish, teacher) ids
# breaks those ties differently per wish; it is far below any real score difference and only
# orders candidates, it never enters an edge weight.
_TIE_BREAK_SCALE = 1e-7 / 2**32
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
    """How much each quality of a pair is worth; every term is zero or positive.

    A pair scores `match` + career term + the scaled terms below; leaving a wish unmatched
    scores 0, so any allowed pair beats none.
    """

    match: float = 1.0  # any pairing beats leaving the wish open
    reverse_per_stage: float = 2.0  # per career stage the teacher is BELOW the learner
    same_stage: float = 0.5  # peers teaching peers
    traditional: float = 0.0  # senior teaches junior: allowed, earns nothing extra
    cross_department: float = 1.0  # both departments known and different
    working_hours: float = 1.0  # times the share of the 09:00-17:00 day both are at work
    teacher_level: float = 0.5  # times 0 (basics), 0.5 (confident), 1 (expert)
    two_way_exchange: float = 1.5  # the learner can teach the teacher something they wish for
    waiting: float = 1.0  # times waited_days / waiting_cap_days, capped at 1
    waiting_cap_days: int = 84  # 12 weeks

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value < 0:
                raise ValueError(f"ScoreWeights.{name} must not be negative, got {value}")
        if self.waiting_cap_days <= 0:
            raise ValueError("ScoreWeights.waiting_cap_days must be positive")


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
    people: Mapping[int, PersonInput]
    wishes: Sequence[WishInput]
    skills: Sequence[SkillInput]
    topic_names: Mapping[int, str] = field(default_factory=dict)
    past_pairs: AbstractSet[tuple[int, int, int]] = frozenset()  # (learner, teacher, topic)
    blocked_pairs: AbstractSet[frozenset[int]] = frozenset()
    current_pairs: AbstractSet[frozenset[int]] = frozenset()
    strict_reverse: bool = False
    weights: ScoreWeights = ScoreWeights()

    @cached_property
    def index(self) -> RoundIndex:
        """Lookups derived once per round (cached: the input is frozen)."""
        return RoundIndex.build(self)


@dataclass(frozen=True)
class ScoreBreakdown:
    """The terms of one pair's score; `total` adds them in the solver's order."""

    match: float
    career: float
    cross_department: float
    working_hours: float
    teacher_level: float
    two_way_exchange: float
    waiting: float

    @property
    def total(self) -> float:
        base = self.match + self.career + self.cross_department + self.working_hours
        return base + self.teacher_level + self.two_way_exchange + self.waiting


@dataclass(frozen=True)
class Proposal:
    wish_id: int
    skill_id: int
    learner_id: int
    teacher_id: int
    topic_id: int
    score: float
    breakdown: ScoreBreakdown
    exchange_skill_id: int | None  # the learner's skill the teacher wishes for
    exchange_topic_id: int | None


@dataclass(frozen=True)
class RoundResult:
    proposals: list[Proposal]
    unmatched: dict[int, UnmatchedReason]  # wish id -> why it got no teacher

    @property
    def total_score(self) -> float:
        return sum(proposal.score for proposal in self.proposals)


@dataclass(frozen=True, eq=False)
class CandidateSet:
    """Scored candidate edges, one per (wish, teacher), best `candidates_per_wish` per wish.

    Parallel arrays, so the solver can build its sparse matrix without Python loops.
    `reasons` holds the wishes that got no candidate at all, and why.
    """

    wish_ids: np.ndarray
    skill_ids: np.ndarray
    learner_ids: np.ndarray
    teacher_ids: np.ndarray
    scores: np.ndarray
    reasons: dict[int, UnmatchedReason]

    def __len__(self) -> int:
        return len(self.wish_ids)


# --------------------------------------------------------------------------------------------
# Lookups


@dataclass(frozen=True)
class RoundIndex:
    """Canonically ordered views of a RoundInput: everything sorted by id, so the same round
    given in any order builds the same matrices and gets the same answer."""

    person_ids: np.ndarray
    position: dict[int, int]  # person id -> row in the person arrays
    stage: np.ndarray
    department: np.ndarray  # codes in sorted department order, -1 for unknown
    utc_offset: np.ndarray
    slots: np.ndarray
    can_learn: np.ndarray
    wishes: list[WishInput]  # sorted by id
    wishes_by_id: dict[int, WishInput]
    wishes_by_person: dict[int, list[WishInput]]
    skills_by_person: dict[int, list[SkillInput]]
    teachers_by_topic: dict[int, list[SkillInput]]  # best skill per person, by person id
    excluded_partners: dict[int, set[int]]  # blocked or currently paired, both directions
    past_teachers: dict[tuple[int, int], set[int]]  # (learner, topic) -> former teachers

    @classmethod
    def build(cls, round_input: RoundInput) -> RoundIndex:
        people = [round_input.people[person_id] for person_id in sorted(round_input.people)]
        departments = sorted({p.department for p in people if p.department is not None})
        department_code = {name: code for code, name in enumerate(departments)}
        wishes = sorted(round_input.wishes, key=lambda wish: wish.id)
        skills = sorted(round_input.skills, key=lambda skill: skill.id)
        _check_people_known(round_input.people, [*wishes, *skills])

        wishes_by_person: dict[int, list[WishInput]] = defaultdict(list)
        for wish in wishes:
            wishes_by_person[wish.person_id].append(wish)
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

        return cls(
            person_ids=np.array([p.id for p in people], dtype=np.int64),
            position={p.id: row for row, p in enumerate(people)},
            stage=np.array([p.career_stage for p in people], dtype=np.int64),
            department=np.array([department_code.get(p.department, -1) for p in people], dtype=np.int64),
            utc_offset=np.array([p.utc_offset_minutes for p in people], dtype=np.int64),
            slots=np.array([p.teaching_slots for p in people], dtype=np.int64),
            can_learn=np.array([p.can_learn for p in people], dtype=bool),
            wishes=wishes,
            wishes_by_id={wish.id: wish for wish in wishes},
            wishes_by_person=dict(wishes_by_person),
            skills_by_person=dict(skills_by_person),
            teachers_by_topic=_best_skill_per_teacher(skills),
            excluded_partners=dict(excluded_partners),
            past_teachers=dict(past_teachers),
        )

    def is_allowed(self, round_input: RoundInput, learner_id: int, skill: SkillInput) -> bool:
        """May this skill's owner teach this learner this topic at all (capacity aside)?"""
        teacher_id = skill.person_id
        if teacher_id == learner_id or teacher_id in self.excluded_partners.get(learner_id, ()):
            return False
        if teacher_id in self.past_teachers.get((learner_id, skill.topic_id), ()):
            return False
        if round_input.strict_reverse:
            learner, teacher = round_input.people[learner_id], round_input.people[teacher_id]
            return teacher.career_stage < learner.career_stage
        return True


def _check_people_known(people: Mapping[int, PersonInput], items: Iterable[WishInput | SkillInput]) -> None:
    for item in items:
        if item.person_id not in people:
            kind = type(item).__name__
            raise ValueError(f"{kind} {item.id} belongs to unknown person {item.person_id}")


def _best_skill_per_teacher(skills: Sequence[SkillInput]) -> dict[int, list[SkillInput]]:
    """Per topic, each teacher's highest-level skill (lowest id on a tie), ordered by person."""
    best: dict[tuple[int, int], SkillInput] = {}
    for skill in skills:  # sorted by id, so the first of equal levels wins
        key = (skill.topic_id, skill.person_id)
        if key not in best or skill.level > best[key].level:
            best[key] = skill
    by_topic: dict[int, list[SkillInput]] = defaultdict(list)
    for (topic_id, _person_id), skill in sorted(best.items()):
        by_topic[topic_id].append(skill)
    return dict(by_topic)


# --------------------------------------------------------------------------------------------
# Scoring: one set of numpy expressions serves both the vectorised candidate search and the
# per-proposal breakdown, so an edge weight and its breakdown total agree to the last bit.


def _career_term(weights: ScoreWeights, learner_stage, teacher_stage):
    gap = np.subtract(learner_stage, teacher_stage)
    reverse = weights.reverse_per_stage * gap
    return np.where(gap > 0, reverse, np.where(gap == 0, weights.same_stage, weights.traditional))


def working_hours_overlap_minutes(offset_a, offset_b):
    """Minutes both people are inside their local 09:00-17:00, from their UTC offsets."""
    difference = np.abs(np.subtract(offset_a, offset_b)) % MINUTES_PER_DAY
    shift = np.minimum(difference, MINUTES_PER_DAY - difference)  # round the clock either way
    return np.maximum(WORKDAY_MINUTES - shift, 0)


def _pair_terms(weights: ScoreWeights, learner, teacher, level):
    """The terms that depend only on who the two people are and the teacher's level.

    `learner` and `teacher` are (stage, department code, utc offset) triples of scalars or
    broadcastable arrays.
    """
    learner_stage, learner_department, learner_offset = learner
    teacher_stage, teacher_department, teacher_offset = teacher
    career = _career_term(weights, learner_stage, teacher_stage)
    different = np.not_equal(learner_department, teacher_department)
    both_known = np.logical_and(
        np.greater_equal(learner_department, 0), np.greater_equal(teacher_department, 0)
    )
    cross = weights.cross_department * np.logical_and(different, both_known)
    overlap = working_hours_overlap_minutes(learner_offset, teacher_offset)
    hours = weights.working_hours * (overlap / WORKDAY_MINUTES)
    level_term = weights.teacher_level * ((np.asarray(level) - 1) / (max(SKILL_LEVELS) - 1))
    return career, cross, hours, level_term


def _base_score(weights: ScoreWeights, learner, teacher, level):
    career, cross, hours, level_term = _pair_terms(weights, learner, teacher, level)
    return weights.match + career + cross + hours + level_term


def _waiting_term(weights: ScoreWeights, waited_days):
    capped = np.minimum(waited_days, weights.waiting_cap_days)
    return weights.waiting * (capped / weights.waiting_cap_days)


def find_exchange(
    round_input: RoundInput, learner_id: int, teacher_id: int, topic_id: int
) -> SkillInput | None:
    """The learner's skill on a topic the teacher has an open wish for (not the topic being
    taught), or None. Best = highest level, then the teacher's longest wait, then lowest
    topic id and skill id."""
    index = round_input.index
    teacher_waits: dict[int, int] = {}
    for wish in index.wishes_by_person.get(teacher_id, ()):
        if wish.topic_id != topic_id:
            teacher_waits[wish.topic_id] = max(wish.waited_days, teacher_waits.get(wish.topic_id, 0))
    options = [
        skill for skill in index.skills_by_person.get(learner_id, ()) if skill.topic_id in teacher_waits
    ]
    if not options:
        return None
    return min(
        options,
        key=lambda s: (-s.level, -teacher_waits[s.topic_id], s.topic_id, s.id),
    )


def score_pair(
    round_input: RoundInput, wish: WishInput, skill: SkillInput
) -> tuple[ScoreBreakdown, SkillInput | None]:
    """Score the owner of `skill` teaching `wish` to its owner; returns the breakdown and the
    exchange skill that earned the two-way bonus, if any. Constraints are not checked here."""
    weights = round_input.weights
    learner = round_input.people[wish.person_id]
    teacher = round_input.people[skill.person_id]
    index = round_input.index
    career, cross, hours, level = _pair_terms(
        weights, _profile(index, learner.id), _profile(index, teacher.id), skill.level
    )
    exchange = find_exchange(round_input, learner.id, teacher.id, wish.topic_id)
    breakdown = ScoreBreakdown(
        match=float(weights.match),
        career=float(career),
        cross_department=float(cross),
        working_hours=float(hours),
        teacher_level=float(level),
        two_way_exchange=float(weights.two_way_exchange * (exchange is not None)),
        waiting=float(_waiting_term(weights, wish.waited_days)),
    )
    return breakdown, exchange


def _profile(index: RoundIndex, person_id: int) -> tuple[int, int, int]:
    row = index.position[person_id]
    return int(index.stage[row]), int(index.department[row]), int(index.utc_offset[row])


# --------------------------------------------------------------------------------------------
# Candidates


def build_candidates(
    round_input: RoundInput, *, candidates_per_wish: int = DEFAULT_CANDIDATES_PER_WISH
) -> CandidateSet:
    """Score every allowed (wish, teacher) pair topic by topic, keep the best per wish."""
    if candidates_per_wish < 1:
        raise ValueError("candidates_per_wish must be at least 1")
    index = round_input.index
    context = _CandidateContext.build(round_input)
    wishes_by_topic: dict[int, list[WishInput]] = defaultdict(list)
    for wish in index.wishes:
        if index.can_learn[index.position[wish.person_id]]:
            wishes_by_topic[wish.topic_id].append(wish)

    chunks: list[_EdgeChunk] = []
    reasons: dict[int, UnmatchedReason] = {}
    for topic_id in sorted(wishes_by_topic):
        block = _TopicBlock.build(round_input, context, topic_id, wishes_by_topic[topic_id])
        block_chunks, block_reasons = block.best_candidates(candidates_per_wish)
        chunks.extend(block_chunks)
        reasons.update(block_reasons)
    return _candidate_set(chunks, reasons)


@dataclass(frozen=True)
class _CandidateContext:
    """Per-round arrays for the vectorised search: person profiles and topic membership."""

    profile: np.ndarray  # person row -> learner profile code
    profile_values: np.ndarray  # profile code -> (stage, department, offset)
    topic_row: dict[int, int]  # topic id -> row in wished_by
    wished_by: np.ndarray  # (topics + 1, people) bool; the last row stays False (padding)
    skill_topic_rows: np.ndarray  # (people, max skills) topic rows, padded with the last row

    @classmethod
    def build(cls, round_input: RoundInput) -> _CandidateContext:
        index = round_input.index
        triples = np.stack([index.stage, index.department, index.utc_offset], axis=1)
        profile_values, profile = np.unique(triples, axis=0, return_inverse=True)
        topic_ids = sorted({w.topic_id for w in index.wishes} | set(index.teachers_by_topic))
        topic_row = {topic_id: row for row, topic_id in enumerate(topic_ids)}
        padding = len(topic_ids)
        wished_by = np.zeros((padding + 1, len(index.person_ids)), dtype=bool)
        for wish in index.wishes:
            wished_by[topic_row[wish.topic_id], index.position[wish.person_id]] = True
        most_skills = max((len(s) for s in index.skills_by_person.values()), default=0)
        skill_topic_rows = np.full((len(index.person_ids), max(most_skills, 1)), padding)
        for person_id, skills in index.skills_by_person.items():
            rows = [topic_row[skill.topic_id] for skill in skills]
            skill_topic_rows[index.position[person_id], : len(rows)] = rows
        return cls(
            profile=profile.reshape(-1),
            profile_values=profile_values,
            topic_row=topic_row,
            wished_by=wished_by,
            skill_topic_rows=skill_topic_rows,
        )


@dataclass(frozen=True)
class _EdgeChunk:
    wish_ids: np.ndarray
    skill_ids: np.ndarray
    learner_ids: np.ndarray
    teacher_ids: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True)
class _TopicBlock:
    """All open wishes on one topic (rows) against everyone with that skill (columns)."""

    round_input: RoundInput
    context: _CandidateContext
    topic_id: int
    wishes: list[WishInput]  # sorted by learner profile, then id
    learner_rows: np.ndarray  # person rows of the learners
    teachers: list[SkillInput]
    teacher_rows: np.ndarray  # person rows of the teachers
    excluded_rows: np.ndarray  # (row, column) pairs that may never be matched
    excluded_columns: np.ndarray

    @classmethod
    def build(
        cls,
        round_input: RoundInput,
        context: _CandidateContext,
        topic_id: int,
        wishes: list[WishInput],
    ) -> _TopicBlock:
        index = round_input.index
        position = index.position
        wishes = sorted(wishes, key=lambda w: (context.profile[position[w.person_id]], w.id))
        teachers = index.teachers_by_topic.get(topic_id, [])
        column_of = {skill.person_id: column for column, skill in enumerate(teachers)}
        excluded_rows: list[int] = []
        excluded_columns: list[int] = []
        for row, wish in enumerate(wishes):
            learner_id = wish.person_id
            partners = {learner_id}
            partners |= index.excluded_partners.get(learner_id, set())
            partners |= index.past_teachers.get((learner_id, topic_id), set())
            columns = [column_of[p] for p in partners if p in column_of]
            excluded_rows.extend([row] * len(columns))
            excluded_columns.extend(columns)
        return cls(
            round_input=round_input,
            context=context,
            topic_id=topic_id,
            wishes=wishes,
            learner_rows=np.array([position[w.person_id] for w in wishes], dtype=np.int64),
            teachers=teachers,
            teacher_rows=np.array([position[s.person_id] for s in teachers], dtype=np.int64),
            excluded_rows=np.array(excluded_rows, dtype=np.int64),
            excluded_columns=np.array(excluded_columns, dtype=np.int64),
        )

    def best_candidates(
        self, candidates_per_wish: int
    ) -> tuple[list[_EdgeChunk], dict[int, UnmatchedReason]]:
        if not self.teachers:
            return [], {wish.id: UnmatchedReason.NO_TEACHER for wish in self.wishes}
        has_candidate = np.zeros(len(self.wishes), dtype=bool)
        chunks = []
        rows_per_chunk = max(1, _CHUNK_ENTRIES // len(self.teachers))
        for start in range(0, len(self.wishes), rows_per_chunk):
            stop = min(start + rows_per_chunk, len(self.wishes))
            chunk, found = self._best_in_rows(start, stop, candidates_per_wish)
            chunks.append(chunk)
            has_candidate[start:stop] = found
        return chunks, self._reasons(has_candidate)

    def _best_in_rows(self, start: int, stop: int, candidates_per_wish: int) -> tuple[_EdgeChunk, np.ndarray]:
        scores = self._scores(start, stop)
        keys = scores + self._tie_breaks(start, stop) * _TIE_BREAK_SCALE
        n_columns = scores.shape[1]
        if n_columns > candidates_per_wish:
            kth = n_columns - candidates_per_wish
            best_columns = np.argpartition(keys, kth, axis=1)[:, kth:]
        else:
            best_columns = np.broadcast_to(np.arange(n_columns), scores.shape)
        best_scores = np.take_along_axis(scores, best_columns, axis=1)
        usable = np.isfinite(best_scores)
        rows, picks = np.nonzero(usable)
        columns = best_columns[rows, picks]
        index = self.round_input.index
        learner_ids = index.person_ids[self.learner_rows[start:stop][rows]]
        teacher_skill_ids = np.array([s.id for s in self.teachers], dtype=np.int64)
        wish_ids = np.array([w.id for w in self.wishes[start:stop]], dtype=np.int64)
        chunk = _EdgeChunk(
            wish_ids=wish_ids[rows],
            skill_ids=teacher_skill_ids[columns],
            learner_ids=learner_ids,
            teacher_ids=index.person_ids[self.teacher_rows[columns]],
            scores=best_scores[rows, picks],
        )
        return chunk, usable.any(axis=1)

    def _scores(self, start: int, stop: int) -> np.ndarray:
        """Exact scores of rows start:stop against all columns; -inf where not allowed."""
        weights = self.round_input.weights
        profiles, inverse = np.unique(
            self.context.profile[self.learner_rows[start:stop]], return_inverse=True
        )
        # Learners who share a profile score every teacher alike (apart from the exchange),
        # so the pair terms are computed once per profile and then copied to rows.
        scores = self._base_by_profile(profiles)[inverse.reshape(-1)]
        scores += weights.two_way_exchange * self._exchange(start, stop)
        waited = np.array([w.waited_days for w in self.wishes[start:stop]])
        scores += _waiting_term(weights, waited)[:, None]
        in_rows = (self.excluded_rows >= start) & (self.excluded_rows < stop)
        scores[self.excluded_rows[in_rows] - start, self.excluded_columns[in_rows]] = -np.inf
        return scores

    def _base_by_profile(self, profiles: np.ndarray) -> np.ndarray:
        index = self.round_input.index
        values = self.context.profile_values[profiles]
        learner = (values[:, 0:1], values[:, 1:2], values[:, 2:3])
        rows = self.teacher_rows
        teacher = (index.stage[rows], index.department[rows], index.utc_offset[rows])
        levels = np.array([s.level for s in self.teachers])
        base = _base_score(self.round_input.weights, learner, teacher, levels)
        allowed = np.broadcast_to(index.slots[rows] > 0, base.shape)
        if self.round_input.strict_reverse:
            allowed = allowed & (teacher[0] < learner[0])
        return np.where(allowed, base, -np.inf)

    def _exchange(self, start: int, stop: int) -> np.ndarray:
        """Does each learner have a skill on some other topic each teacher wishes for?"""
        wished_by = self.context.wished_by[:, self.teacher_rows]
        wished_by[self.context.topic_row[self.topic_id]] = False  # not the topic being taught
        skill_rows = self.context.skill_topic_rows[self.learner_rows[start:stop]]
        exchange = wished_by[skill_rows[:, 0]]
        for column in range(1, skill_rows.shape[1]):
            exchange |= wished_by[skill_rows[:, column]]
        return exchange

    def _tie_breaks(self, start: int, stop: int) -> np.ndarray:
        """A per-wish rotation of the teachers' hashed order (uint32 addition wraps)."""
        wish_ids = np.array([w.id for w in self.wishes[start:stop]], dtype=np.int64)
        teacher_ids = self.round_input.index.person_ids[self.teacher_rows]
        return _hash32(wish_ids, salt=1)[:, None] + _hash32(teacher_ids, salt=2)[None, :]

    def _reasons(self, has_candidate: np.ndarray) -> dict[int, UnmatchedReason]:
        index = self.round_input.index
        n_teachers = len(self.teachers)
        learner_stage = index.stage[self.learner_rows]
        teacher_stage = index.stage[self.teacher_rows]
        n_rows = len(self.wishes)
        excluded = np.bincount(self.excluded_rows, minlength=n_rows)
        is_self = (
            index.person_ids[self.teacher_rows[self.excluded_columns]]
            == index.person_ids[self.learner_rows[self.excluded_rows]]
        )
        others = n_teachers - np.bincount(self.excluded_rows[is_self], minlength=n_rows)
        allowed = n_teachers - excluded
        if self.round_input.strict_reverse:
            junior = np.searchsorted(np.sort(teacher_stage), learner_stage, side="left")
            excluded_junior = teacher_stage[self.excluded_columns] < (learner_stage[self.excluded_rows])
            allowed_junior = junior - np.bincount(self.excluded_rows[excluded_junior], minlength=n_rows)
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
            reasons[self.wishes[row].id] = reason
        return reasons


def _hash32(ids: np.ndarray, *, salt: int) -> np.ndarray:
    """A well-mixed 32-bit hash of integer ids (splitmix64 finaliser)."""
    mixed = ids.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15 * salt % 2**64)
    mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (mixed >> np.uint64(32)).astype(np.uint32)


def _candidate_set(chunks: list[_EdgeChunk], reasons: dict[int, UnmatchedReason]) -> CandidateSet:
    def joined(name: str, dtype: type) -> np.ndarray:
        parts = [getattr(chunk, name) for chunk in chunks]
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    return CandidateSet(
        wish_ids=joined("wish_ids", np.int64),
        skill_ids=joined("skill_ids", np.int64),
        learner_ids=joined("learner_ids", np.int64),
        teacher_ids=joined("teacher_ids", np.int64),
        scores=joined("scores", np.float64),
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
    proposals = [_proposal_from_candidate(round_input, candidates, edge) for edge in chosen]
    return _round_result(round_input, proposals, candidates.reasons)


def _max_weight_assignment(round_input: RoundInput, candidates: CandidateSet) -> list[int]:
    """Indices of the candidate edges in a maximum-score assignment of learners to slots."""
    if len(candidates) == 0:
        return []
    edges = _best_edge_per_learner_and_teacher(candidates)
    learners, edge_row = np.unique(candidates.learner_ids[edges], return_inverse=True)
    teachers, edge_teacher = np.unique(candidates.teacher_ids[edges], return_inverse=True)
    index = round_input.index
    teacher_slots = index.slots[[index.position[int(t)] for t in teachers]]
    # More slot columns than distinct candidate learners could never be filled.
    capacity = np.minimum(teacher_slots, np.bincount(edge_teacher, minlength=len(teachers)))
    first_slot = np.cumsum(capacity) - capacity
    n_slots = int(capacity.sum())

    # Each learner-teacher edge is repeated once per slot of the teacher. The slot columns of
    # one teacher carry identical weights, so which of them the solver picks is irrelevant:
    # every assignment of at most `capacity` learners to a teacher maps onto distinct slots.
    copies = capacity[edge_teacher]
    edge_of_entry = np.repeat(np.arange(len(edges)), copies)
    slot_of_entry = np.arange(len(edge_of_entry)) - np.repeat(np.cumsum(copies) - copies, copies)
    n_rows = len(learners)
    rows = np.concatenate([edge_row[edge_of_entry], np.arange(n_rows)])
    columns = np.concatenate(
        [first_slot[edge_teacher][edge_of_entry] + slot_of_entry, n_slots + np.arange(n_rows)]
    )
    weights = np.concatenate(
        [candidates.scores[edges][edge_of_entry] + DUMMY_WEIGHT, np.full(n_rows, DUMMY_WEIGHT)]
    )
    matrix = csr_array((weights, (rows, columns)), shape=(n_rows, n_slots + n_rows))
    matched_rows, matched_columns = min_weight_full_bipartite_matching(matrix, maximize=True)

    real = matched_columns < n_slots
    slot_owner = np.repeat(np.arange(len(teachers)), capacity)
    # `edges` is sorted by (learner, teacher), so (row, teacher) keys are sorted too.
    edge_keys = edge_row * len(teachers) + edge_teacher
    wanted = matched_rows[real] * len(teachers) + slot_owner[matched_columns[real]]
    return [int(edges[k]) for k in np.searchsorted(edge_keys, wanted)]


def _best_edge_per_learner_and_teacher(candidates: CandidateSet) -> np.ndarray:
    """A learner learns one topic, so of several wishes one teacher could serve only the best
    matters: highest score, then lowest wish id and skill id."""
    order = np.lexsort(
        (
            candidates.skill_ids,
            candidates.wish_ids,
            -candidates.scores,
            candidates.teacher_ids,
            candidates.learner_ids,
        )
    )
    learners = candidates.learner_ids[order]
    teachers = candidates.teacher_ids[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (learners[1:] != learners[:-1]) | (teachers[1:] != teachers[:-1])
    return order[first]


def _proposal_from_candidate(round_input: RoundInput, candidates: CandidateSet, edge: int) -> Proposal:
    index = round_input.index
    wish = index.wishes_by_id[int(candidates.wish_ids[edge])]
    skill = _skill_by_id(round_input, int(candidates.teacher_ids[edge]), candidates, edge)
    return make_proposal(round_input, wish, skill)


def _skill_by_id(round_input: RoundInput, teacher_id: int, candidates: CandidateSet, edge: int) -> SkillInput:
    skill_id = int(candidates.skill_ids[edge])
    return next(s for s in round_input.index.skills_by_person[teacher_id] if s.id == skill_id)


def make_proposal(round_input: RoundInput, wish: WishInput, skill: SkillInput) -> Proposal:
    breakdown, exchange = score_pair(round_input, wish, skill)
    return Proposal(
        wish_id=wish.id,
        skill_id=skill.id,
        learner_id=wish.person_id,
        teacher_id=skill.person_id,
        topic_id=wish.topic_id,
        score=breakdown.total,
        breakdown=breakdown,
        exchange_skill_id=exchange.id if exchange else None,
        exchange_topic_id=exchange.topic_id if exchange else None,
    )


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
    """Take the best-scoring remaining candidate edge while it fits: fast, not optimal."""
    if candidates is None:
        candidates = build_candidates(round_input, candidates_per_wish=candidates_per_wish)
    order = np.lexsort((candidates.skill_ids, candidates.wish_ids, -candidates.scores))
    free_slots = dict(
        zip(round_input.index.person_ids.tolist(), round_input.index.slots.tolist(), strict=True)
    )
    learning: set[int] = set()
    proposals = []
    for edge in order.tolist():
        learner_id = int(candidates.learner_ids[edge])
        teacher_id = int(candidates.teacher_ids[edge])
        if learner_id in learning or free_slots[teacher_id] == 0:
            continue
        learning.add(learner_id)
        free_slots[teacher_id] -= 1
        proposals.append(_proposal_from_candidate(round_input, candidates, edge))
    return _round_result(round_input, proposals, candidates.reasons)


def random_round(
    round_input: RoundInput, rng: random.Random, *, candidates: CandidateSet | None = None
) -> RoundResult:
    """What a coffee bot does: learners in random order, each wish gets a random allowed
    teacher of the topic who still has a free slot. Scores are computed only to compare."""
    index = round_input.index
    free_slots = dict(zip(index.person_ids.tolist(), index.slots.tolist(), strict=True))
    learners = [pid for pid in sorted(index.wishes_by_person) if round_input.people[pid].can_learn]
    rng.shuffle(learners)
    proposals = []
    for learner_id in learners:
        wishes = list(index.wishes_by_person[learner_id])
        rng.shuffle(wishes)
        for wish in wishes:
            skill = _random_teacher(round_input, wish, free_slots, rng)
            if skill is not None:
                free_slots[skill.person_id] -= 1
                proposals.append(make_proposal(round_input, wish, skill))
                break
    if candidates is None:  # only for the reasons of wishes nobody could take
        candidates = build_candidates(round_input, candidates_per_wish=1)
    return _round_result(round_input, proposals, candidates.reasons)


def _random_teacher(
    round_input: RoundInput, wish: WishInput, free_slots: dict[int, int], rng: random.Random
) -> SkillInput | None:
    """Uniform among the allowed teachers with a free slot. Sampling first keeps popular
    topics cheap; the full scan only runs when sampling keeps missing."""
    teachers = round_input.index.teachers_by_topic.get(wish.topic_id, [])

    def fits(skill: SkillInput) -> bool:
        return free_slots[skill.person_id] > 0 and round_input.index.is_allowed(
            round_input, wish.person_id, skill
        )

    for _ in range(min(_RANDOM_TEACHER_ATTEMPTS, len(teachers))):
        skill = teachers[rng.randrange(len(teachers))]
        if fits(skill):
            return skill
    fitting = [skill for skill in teachers if fits(skill)]
    return rng.choice(fitting) if fitting else None


# --------------------------------------------------------------------------------------------
# Explanations


def explain(
    proposal: Proposal,
    round_input: RoundInput,
    stage_names: Sequence[str] = DEFAULT_STAGE_NAMES,
) -> str:
    """One sentence for the learner: why this teacher, e.g. "Priya (early career, Marketing)
    can teach social media; you asked for it 3 weeks ago; you are in Finance; Priya also wants
    to learn Excel, which you teach"."""
    people, topics = round_input.people, round_input.topic_names
    learner, teacher = people[proposal.learner_id], people[proposal.teacher_id]
    wish = round_input.index.wishes_by_id[proposal.wish_id]
    stage = _stage_name(teacher.career_stage, stage_names)
    about_teacher = f"{stage}, {teacher.department}" if teacher.department else stage
    topic = topics.get(proposal.topic_id, f"topic {proposal.topic_id}")
    parts = [
        f"{teacher.name} ({about_teacher}) can teach {topic}",
        f"you asked for it {_time_ago(wish.waited_days)}",
    ]
    if learner.department and learner.department != teacher.department:
        parts.append(f"you are in {learner.department}")
    overlap = int(working_hours_overlap_minutes(learner.utc_offset_minutes, teacher.utc_offset_minutes))
    if overlap == 0:
        parts.append("your working hours do not overlap, so plan around time zones")
    elif overlap < WORKDAY_MINUTES:
        parts.append(f"your working days overlap by {_hours(overlap)}")
    if proposal.exchange_topic_id is not None:
        exchange_topic = topics.get(proposal.exchange_topic_id, f"topic {proposal.exchange_topic_id}")
        parts.append(f"{teacher.name} also wants to learn {exchange_topic}, which you teach")
    return "; ".join(parts)


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
