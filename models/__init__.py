"""Every model, imported here so Alembic's autogenerate and the schema check see them all."""

from models import slack_oauth  # noqa: F401  (slack_sdk's OAuth tables join the metadata)
from models.base import Base, utcnow
from models.delivery import OutboxMessage, OutboxStatus, ProcessedEvent
from models.learning_log import EntryStatus, LearningLog, LearningLogEntry, LogStatus
from models.lunch import (
    HostConsent,
    LunchFeedback,
    LunchSession,
    LunchSignup,
    LunchStatus,
    LunchSuggestion,
    SignupStatus,
)
from models.pairing import (
    Answer,
    MatchingRound,
    MeetingHalves,
    Pairing,
    PairingFeedback,
    PairingMeeting,
    PairingStatus,
)
from models.people import CareerStage, PairingBlock, Person
from models.pulse import MonthlySummary, PulseAnswer
from models.topics import (
    NOTE_MAX_LENGTH,
    TOPIC_MAX_LENGTH,
    Skill,
    SkillLevel,
    Topic,
    Wish,
    WishStatus,
)
from models.work import PendingWork
from models.workspace import ProgrammeSettings, Workspace

__all__ = [
    "NOTE_MAX_LENGTH",
    "TOPIC_MAX_LENGTH",
    "Answer",
    "Base",
    "CareerStage",
    "EntryStatus",
    "HostConsent",
    "LearningLog",
    "LearningLogEntry",
    "LogStatus",
    "LunchFeedback",
    "LunchSession",
    "LunchSignup",
    "LunchStatus",
    "LunchSuggestion",
    "MatchingRound",
    "MeetingHalves",
    "MonthlySummary",
    "OutboxMessage",
    "OutboxStatus",
    "Pairing",
    "PairingBlock",
    "PairingFeedback",
    "PairingMeeting",
    "PairingStatus",
    "PendingWork",
    "Person",
    "ProcessedEvent",
    "ProgrammeSettings",
    "PulseAnswer",
    "SignupStatus",
    "Skill",
    "SkillLevel",
    "Topic",
    "Wish",
    "WishStatus",
    "Workspace",
    "utcnow",
]
