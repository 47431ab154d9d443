"""One database, three readers: the admin's App Home, `python -m bot report` and the CSV export show
the same figures, because they read the same ones (bot/services/figures.py)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from bot.cli.admin import report_text
from bot.services import figures
from bot.services.export import export_csv
from bot.views.report import shown
from models import CareerStage, PairingStatus, PulseAnswer, SignupStatus, WishStatus, utcnow
from tests.services.test_insights import Org
from tests.test_home_flow import open_home


def fill(flipside) -> None:
    """A little of everything, some this month and some before (relative to now: App Home reads now)."""
    now = utcnow()
    with flipside.db.transaction() as session:
        org = Org(session)
        ana = org.person("UANA", stage=CareerStage.EARLY, department="Marketing")
        ben = org.person("UBEN", stage=CareerStage.EXECUTIVE, department="Finance")
        cai = org.person("UCAI", stage=CareerStage.SENIOR, department="Finance")
        dee = org.person("UDEE", stage=CareerStage.MID, department="IT")
        org.skill(ana, "TikTok")
        org.skill(dee, "Excel")
        for person, topic, days in ((ben, "TikTok", 2), (cai, "Negotiation", 300), (ben, "Excel", 40)):
            org.wish(person, topic, at=now - timedelta(days=days))
        org.wish(
            ana, "Excel", at=now - timedelta(days=70), status=WishStatus.MET, closed=now - timedelta(days=1)
        )
        org.round(now - timedelta(days=3))
        recent = org.pairing(ben, ana, "TikTok", at=now - timedelta(hours=30), reverse=True, cross=True)
        older = org.pairing(ben, dee, "Excel", at=now - timedelta(days=45), status=PairingStatus.COMPLETED)
        org.pairing(cai, dee, "Excel", at=now - timedelta(hours=20), status=PairingStatus.DECLINED)
        for days in (40, 38, 35):
            org.meeting(older, at=now - timedelta(days=days), rating=4)
        org.meeting(recent, at=now - timedelta(hours=5), rating=5)
        for person, rating in ((ben, 5), (ana, 4)):
            org.add(
                PulseAnswer(
                    team_id="T1",
                    pairing_id=older.id,
                    person_id=person.id,
                    number=1,
                    asked_at=now - timedelta(days=10),
                    answered_at=now - timedelta(hours=2),
                    rating=rating,
                )
            )
        lunch = org.lunch(ana, "TikTok basics", at=now - timedelta(hours=4))
        org.signup(lunch, ben)
        org.signup(lunch, cai, SignupStatus.CANCELLED)
        org.lunch_feedback(lunch, ben, 4)


def home_fields(view: dict) -> dict[str, str]:
    fields = {}
    for block in view["blocks"]:
        for field in block.get("fields") or []:
            label, _, value = field["text"].partition("\n")
            fields[label.strip("*")] = value
    return fields


def test_app_home_report_and_export_show_the_same_figures(flipside):
    fill(flipside)
    view = open_home(flipside, "UADMIN")  # this month, the default period
    as_of = utcnow()
    with flipside.db.transaction() as session:
        text = report_text(session, "T1", "month", as_of)
        files = export_csv(session, team_id="T1", as_of=as_of)
        kinds = {
            row.key: row.kind
            for row in figures.programme_figures(
                session, team_id="T1", period=figures.Period.MONTH, as_of=as_of
            ).rows()
        }
    exported = [r for r in csv.DictReader(io.StringIO(files["figures.csv"].decode("utf-8-sig")))]
    assert {r["period"] for r in exported} == {"month", "90_days", "all_time"}
    month = {r["figure"]: r for r in exported if r["period"] == "month"}
    report_lines = {
        line[2:38].strip(): line[38:].split() for line in text.splitlines() if line.startswith("  ")
    }
    home = home_fields(view)

    def number(raw: str) -> float | int | None:
        return None if raw == "" else float(raw) if "." in raw else int(raw)

    assert len(month) == len(kinds) >= 20
    for key, row in month.items():
        now, before = (
            shown(kinds[key], number(row["value"])),
            shown(kinds[key], number(row["previous_value"])),
        )
        assert " ".join(report_lines[row["label"]]).startswith(f"{now} {before}"), (
            key,
            report_lines[row["label"]],
        )
        if row["label"] in home:
            assert home[row["label"]].split(" (was ")[0].rstrip(" ▲▼") == now, (key, home[row["label"]])
            compared = now != before and "-" not in (now, before)
            assert (f"(was {before})" in home[row["label"]]) == compared, key
    assert len(home) == 7  # the headline figures are all there
    assert month["pairs_proposed"]["value"] == "2" and month["pulse_answers"]["value"] == "2"
    assert month["lunch_seats"]["value"] == "1" and re.search(r"Negotiation\s+1 / 0", text)
