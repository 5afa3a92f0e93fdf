"""Which budget areas and big rocks a meeting from an outside calendar is about: a distinctive
word of their name in its title or description, or their owner among its attendees; common
words ("team", "review") and short ones match nothing; what the calendar named is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from assistant.context.big_rocks import BigRock
from assistant.context.budget import BudgetStatus
from assistant.context.meetings import Attendee, Meeting
from assistant.context.related import with_related

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def area(id: str, name: str, owner: str = "") -> BudgetStatus:
    figures: dict[str, Any] = {
        "currency": "USD",
        "annual_budget": 100.0,
        "spent_ytd": 50.0,
        "plan_ytd": 50.0,
        "forecast": 100.0,
        "remaining": 50.0,
        "utilisation_pct": 50.0,
        "ytd_vs_plan_pct": 0.0,
        "forecast_variance": 0.0,
        "forecast_variance_pct": 0.0,
        "flags": [],
        "needs_attention": False,
        "notes": "",
    }
    return BudgetStatus(id=id, name=name, owner=owner, **figures)


def rock(id: str, name: str, owner: str = "") -> BigRock:
    return BigRock(
        id=id,
        name=name,
        owner=owner,
        status="on_track",
        progress_pct=50,
        target_date=None,
        summary="",
        risks=[],
        milestones=[],
    )


BUDGET = [
    area("cloud-infrastructure", "Cloud Infrastructure", "Priya Raman (CTO)"),
    area("marketing", "Marketing", "Rachel Kim (CMO)"),
    area("team-offsites", "Team offsites"),
]
ROCKS = [rock("launch", "Launch Platform v3", "Priya Raman"), rock("eu-expansion", "EU expansion")]


def meeting(title: str, description: str = "", attendees: tuple[str, ...] = (), **extra: Any) -> Meeting:
    return Meeting(
        id="m1",
        title=title,
        start=START,
        end=START + timedelta(hours=1),
        duration_minutes=60,
        attendees=[Attendee(name=name) for name in attendees],
        type="other",
        location="",
        description=description,
        source="ics_file",
        **extra,
    )


def test_a_distinctive_word_of_a_name_in_the_title_or_description_relates_it() -> None:
    related = with_related(meeting("Infrastructure costs", "and the PLATFORM rollout"), BUDGET, ROCKS)
    assert (related.budget_areas, related.related_rocks) == (["cloud-infrastructure"], ["launch"])


def test_the_owner_among_the_attendees_relates_their_areas_and_rocks() -> None:
    related = with_related(meeting("Weekly 1:1", attendees=("priya raman", "Ada")), BUDGET, ROCKS)
    assert (related.budget_areas, related.related_rocks) == (["cloud-infrastructure"], ["launch"])


def test_common_and_short_words_relate_nothing_and_the_meeting_is_returned_as_it_is() -> None:
    """ "Team review" matched every area or rock named with "team" or "review"; "EU" is too short to tell."""
    plain = meeting("Team launch review: EU plan sync")
    assert with_related(plain, BUDGET, ROCKS) is plain


def test_what_the_calendar_named_is_kept_and_matches_are_capped() -> None:
    named = meeting("Cloud infrastructure", related_rocks=["eu-expansion"])
    assert with_related(named, BUDGET, ROCKS) is named
    many = [area(f"cloud-{i}", f"Cloud region {i}") for i in range(6)]
    assert len(with_related(meeting("Cloud migration"), many, []).budget_areas) == 4


def test_an_owner_invited_by_address_only_relates_their_areas_and_rocks() -> None:
    """An invitation without a name (ATTENDEE:mailto:priya.raman@example.com) lists the attendee
    as "priya.raman": her budget review came with no item for the area she owns."""
    invited = [Attendee(name="priya.raman", email="priya.raman@example.com"), Attendee(name="ada", email="ada@x.io")]
    related = with_related(
        meeting("Budget review with Finance").model_copy(update={"attendees": invited}), BUDGET, ROCKS
    )
    assert (related.budget_areas, related.related_rocks) == (["cloud-infrastructure"], ["launch"])
    initials = [Attendee(name="pr", email="pr@example.com")]
    plain = meeting("Budget review with Finance").model_copy(update={"attendees": initials})
    assert with_related(plain, BUDGET, ROCKS) is plain


def test_a_named_rock_the_user_no_longer_has_is_left_out_and_matching_takes_over_when_none_is_left() -> None:
    """A demo meeting naming a rock the user's own list does not hold printed "Meeting refers to
    unknown big rock" in its materials and related nothing."""
    both = meeting("Roadmap", related_rocks=["launch", "gone"], budget_areas=["marketing", "old-area"])
    kept = with_related(both, BUDGET, ROCKS)
    assert (kept.related_rocks, kept.budget_areas) == (["launch"], ["marketing"])
    unknown = with_related(meeting("EU expansion review", related_rocks=["gone"]), BUDGET, ROCKS)
    assert (unknown.related_rocks, unknown.budget_areas) == (["eu-expansion"], [])
    nothing = with_related(meeting("Roadmap", budget_areas=["old-area"]), BUDGET, ROCKS)
    assert (nothing.related_rocks, nothing.budget_areas) == ([], [])
