"""Topics in demand and the nudges to colleagues who could teach them."""

from __future__ import annotations

from datetime import timedelta

from bot.services import learning
from bot.services.lunch import demand
from models import CareerStage, SkillLevel
from tests.services.lunch.factories import NOW, TEAM, demand_for, new_session, person


def test_suggestions_go_to_the_most_junior_teacher_once_a_month(db):
    with db.transaction() as session:
        demand_for(
            session,
            "Canva",
            3,
            [
                ("USENIOR", CareerStage.SENIOR, SkillLevel.EXPERT),
                ("UEARLYBASIC", CareerStage.EARLY, SkillLevel.BASICS),
                ("UEARLYEXPERT", CareerStage.EARLY, SkillLevel.EXPERT),
            ],
        )
        demand_for(
            session, "Excel", 2, [("UEXCEL", CareerStage.EARLY, SkillLevel.EXPERT)]
        )  # under the threshold
        demand_for(session, "Golf", 5, [])  # nobody can teach it
        [pick] = demand.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW)
        assert (pick.topic.display_name, pick.teacher.slack_user_id, pick.wishers) == (
            "Canva",
            "UEARLYEXPERT",
            3,
        )
        # Re-run the same week: nothing; next week: someone else (nobody twice in a month).
        assert demand.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW + timedelta(hours=1)) == []
        [second] = demand.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW + timedelta(days=7))
        assert second.teacher.slack_user_id == "UEARLYBASIC"
        [back] = demand.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW + timedelta(days=31))
        assert back.teacher.slack_user_id == "UEARLYEXPERT"


def test_no_suggestion_when_a_session_is_already_planned(db):
    with db.transaction() as session:
        demand_for(session, "Canva", 3, [("UTEACH", CareerStage.EARLY, SkillLevel.EXPERT)])
        demand_for(session, "Golf", 1, [])  # in demand, not planned: the list is not empty by accident
        host = person(session, "UHOST")
        new_session(session, host, topic="canva")
        assert demand.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW) == []
        wanted = demand.topics_in_demand(session, team_id=TEAM, now=NOW)
        assert [d.topic.display_name for d in wanted] == ["Golf"]


def test_one_nudge_per_teacher_per_run_and_a_teacher_is_not_asked_about_their_own_wish(db):
    with db.transaction() as session:
        demand_for(session, "Canva", 3, [("UBOTH", CareerStage.EARLY, SkillLevel.EXPERT)])
        demand_for(session, "TikTok", 4, [("UBOTH", CareerStage.EARLY, SkillLevel.EXPERT)])
        picks = demand.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW)
        assert [pick.topic.display_name for pick in picks] == ["TikTok"]
        learning.add_skills(session, person(session, "UWCAN0"), "Canva", now=NOW)  # a wisher who can teach
        picks = demand.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW + timedelta(days=8))
        assert [(p.topic.display_name, p.teacher.slack_user_id) for p in picks] == [("Canva", "UBOTH")]


def test_announcing_a_suggested_topic_links_the_suggestion(db):
    with db.transaction() as session:
        demand_for(session, "Canva", 3, [("UTEACH", CareerStage.EARLY, SkillLevel.EXPERT)])
        [pick] = demand.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW)
        teacher = pick.teacher
        lunch = new_session(session, teacher, topic="Canva")
        assert pick.suggestion.session_id == lunch.id
        assert (
            demand.suggestion_for(session, person=teacher, suggestion_id=pick.suggestion.id)
            is pick.suggestion
        )
        assert (
            demand.suggestion_for(session, person=person(session, "UX"), suggestion_id=pick.suggestion.id)
            is None
        )
