"""A realistic sample organisation for the offline demo and the benchmarks (seeded, repeatable)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import ProgrammeDefaults
from bot.services import learning, profiles
from bot.services.profiles import ProfileInput
from models import CareerStage, Person, SkillLevel

DEPARTMENTS = (
    "Finance",
    "Marketing",
    "Engineering",
    "Sales",
    "People & HR",
    "Operations",
    "Legal",
    "Support",
)
TIMEZONES = (
    ("Europe/London", 0),
    ("Europe/London", 0),
    ("Europe/Berlin", 3600),
    ("America/New_York", -18000),
    ("Asia/Kolkata", 19800),
    ("Africa/Lagos", 3600),
)
# Digital know-how juniors tend to teach, and experience seniors tend to teach.
DIGITAL_TOPICS = (
    "Social media",
    "Smartphone apps",
    "Video calls",
    "Canva",
    "TikTok",
    "Online safety",
    "LinkedIn posts",
    "AI chatbots",
    "Spreadsheets",
    "Excel pivot tables",
    "Podcasting",
    "Instagram",
    "Slack shortcuts",
)
EXPERIENCE_TOPICS = (
    "Negotiation",
    "Public speaking",
    "Leading a team",
    "Budgeting",
    "Stakeholder management",
    "Career planning",
    "Giving feedback",
    "Writing a business case",
)
FIRST_NAMES = (
    "Priya",
    "George",
    "Amara",
    "Lukas",
    "Mei",
    "Diego",
    "Fatima",
    "Tom",
    "Aisha",
    "Kenji",
    "Sofia",
    "Olu",
    "Hannah",
    "Raj",
    "Elena",
    "Marcus",
    "Zainab",
    "Liam",
    "Chloe",
    "Arjun",
    "Ines",
    "Samuel",
    "Yara",
    "Noah",
    "Grace",
    "Mateo",
    "Leila",
    "Ben",
    "Nadia",
    "Oscar",
)
LAST_NAMES = (
    "Shah",
    "Miller",
    "Okafor",
    "Becker",
    "Chen",
    "Alvarez",
    "Khan",
    "Walsh",
    "Bello",
    "Sato",
    "Rossi",
    "Adeyemi",
    "Schmidt",
    "Patel",
    "Novak",
    "Brown",
)
STAGE_WEIGHTS = (
    (CareerStage.EARLY, 0.35),
    (CareerStage.MID, 0.3),
    (CareerStage.SENIOR, 0.25),
    (CareerStage.EXECUTIVE, 0.1),
)
# A few wishes typed the way people type them: they join the right topic.
TYPED_VARIANTS = {"Social media": ("social-media", "Socail media", " social  media "), "Canva": ("canva",)}


@dataclass(frozen=True)
class SamplePerson:
    user_id: str
    name: str
    stage: CareerStage
    department: str
    tz: str
    tz_offset: int
    capacity: int
    skills: tuple[tuple[str, SkillLevel], ...]
    wishes: tuple[str, ...]
    wish_age_days: int


def generate(count: int, *, rng: random.Random) -> list[SamplePerson]:
    people = []
    stages, weights = zip(*STAGE_WEIGHTS, strict=True)
    for index in range(count):
        stage = rng.choices(stages, weights)[0]
        junior = stage in (CareerStage.EARLY, CareerStage.MID)
        teach_pool, learn_pool = (
            (DIGITAL_TOPICS, EXPERIENCE_TOPICS) if junior else (EXPERIENCE_TOPICS, DIGITAL_TOPICS)
        )
        skills = [
            (topic, rng.choice(list(SkillLevel))) for topic in rng.sample(teach_pool, rng.randint(1, 3))
        ]
        if rng.random() < 0.25:  # some people teach across the divide too
            skills.append((rng.choice(learn_pool), SkillLevel.BASICS))
        wishes = rng.sample(learn_pool, rng.randint(1, 3))
        wishes = [
            rng.choice(TYPED_VARIANTS[w]) if w in TYPED_VARIANTS and rng.random() < 0.5 else w for w in wishes
        ]
        taught = {topic for topic, _level in skills}
        tz, offset = rng.choice(TIMEZONES)
        people.append(
            SamplePerson(
                user_id=f"U{index + 1:04d}DEMO",
                name=f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {rng.choice(LAST_NAMES)}",
                stage=stage,
                department=rng.choice(DEPARTMENTS),
                tz=tz,
                tz_offset=offset,
                capacity=rng.choices((1, 2, 3), (0.7, 0.25, 0.05))[0],
                skills=tuple((t, lvl) for t, lvl in skills),
                wishes=tuple(w for w in wishes if w not in taught),
                wish_age_days=rng.randint(0, 40),
            )
        )
    return people


def load(
    session: Session, *, team_id: str, people: list[SamplePerson], defaults: ProgrammeDefaults, now: datetime
) -> list[Person]:
    """Store the sample people through the same services the Slack commands use."""
    stored = []
    for sample in people:
        person = profiles.get_or_create_person(
            session, team_id=team_id, slack_user_id=sample.user_id, defaults=defaults
        )
        profiles.apply_slack_user(
            person, {"real_name": sample.name, "tz": sample.tz, "tz_offset": sample.tz_offset}, now=now
        )
        # Known to Flipside since their first wish, on the caller's clock (the demo's runs behind).
        person.created_at = now - timedelta(days=sample.wish_age_days)
        profiles.save_profile(
            session, person, ProfileInput(sample.stage, sample.department, sample.capacity, False), now=now
        )
        for topic, level in sample.skills:
            learning.add_skills(session, person, topic, level=level, now=now)
        if sample.wishes:
            learning.add_wishes(
                session, person, ", ".join(sample.wishes), now=now - timedelta(days=sample.wish_age_days)
            )
        stored.append(person)
    return stored
