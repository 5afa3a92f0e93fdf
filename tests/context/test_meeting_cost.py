"""Meeting cost: attendee-hours × hourly rate per kind of attendee, with a one-line label."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assistant.config import Settings
from assistant.context.meeting_cost import MeetingRates, format_duration, meeting_cost
from assistant.context.meetings import Attendee, Meeting

ME = "ada@corp.com"
START = datetime(2025, 3, 11, 14, 0, tzinfo=UTC)


def meeting(attendees: list[Attendee], minutes: int = 60, *, all_day: bool = False) -> Meeting:
    return Meeting(
        id="m1",
        title="Weekly sync",
        start=START,
        end=START + timedelta(minutes=minutes),
        duration_minutes=minutes,
        attendees=attendees,
        type="meeting",
        location="",
        description="",
        all_day=all_day,
    )


def colleague(i: int, **kw: object) -> Attendee:
    return Attendee(name=f"Colleague {i}", email=f"c{i}@corp.com", **kw)  # type: ignore[arg-type]


def test_five_people_for_an_hour_at_the_default_rates() -> None:
    cost = meeting_cost(
        meeting([colleague(i) for i in range(4)]), user_email=ME, internal_domains=[], rates=MeetingRates()
    )
    assert cost.total_usd == 730  # you $250 + 4 × $120
    assert cost.label == "$730 of people's time (5 people × 1 h)"
    assert [(line.kind, line.people, line.cost_usd) for line in cost.lines] == [("you", 1, 250), ("internal", 4, 480)]


def test_defaults_match_the_settings_defaults() -> None:
    fields = Settings.model_fields
    assert MeetingRates() == MeetingRates(
        you_usd=fields["meeting_rate_you_usd"].default,
        internal_usd=fields["meeting_rate_internal_usd"].default,
        external_usd=fields["meeting_rate_external_usd"].default,
    )


def test_external_time_is_free_by_default_and_the_label_says_so() -> None:
    people = [colleague(1), Attendee(name="Dana", email="dana@acme.com"), Attendee(name="Kev", org="Acme Corp")]
    cost = meeting_cost(meeting(people, minutes=90), user_email=ME, internal_domains=[], rates=MeetingRates())
    assert cost.total_usd == 555  # 1.5 h × ($250 + $120)
    assert cost.label == "$555 of people's time (4 people × 1 h 30 min, external time not counted)"
    priced = meeting_cost(
        meeting(people, minutes=90), user_email=ME, internal_domains=[], rates=MeetingRates(external_usd=100)
    )
    assert priced.total_usd == 855 and priced.label == "$855 of people's time (4 people × 1 h 30 min)"
    assert [line.kind for line in priced.lines] == ["you", "internal", "external"]


def test_declined_attendees_and_your_own_entry_are_not_counted() -> None:
    people = [
        colleague(1),
        colleague(2, response="declined"),
        Attendee(name="Ada", email="ADA@corp.com", response="accepted"),
    ]
    cost = meeting_cost(meeting(people, minutes=30), user_email=ME, internal_domains=[], rates=MeetingRates())
    assert cost.people == 2 and cost.total_usd == 185
    assert cost.label == "$185 of people's time (2 people × 30 min)"


def test_configured_internal_domains_and_rates() -> None:
    people = [Attendee(name="Lena", email="lena@corp-eu.com")]
    rates = MeetingRates(you_usd=400, internal_usd=200, external_usd=50)
    assert meeting_cost(meeting(people), user_email=ME, internal_domains=[], rates=rates).total_usd == 450
    assert meeting_cost(meeting(people), user_email=ME, internal_domains=["corp-eu.com"], rates=rates).total_usd == 600


def test_alone_and_all_day() -> None:
    alone = meeting_cost(meeting([], minutes=45), user_email=ME, internal_domains=[], rates=MeetingRates())
    assert alone.label == "$188 of people's time (1 person × 45 min)"
    day = meeting_cost(
        meeting([colleague(1)], minutes=1440, all_day=True), user_email=ME, internal_domains=[], rates=MeetingRates()
    )
    assert not day.priced and day.total_usd == 0 and day.label == "All-day event: no meeting cost"


def test_big_meetings_read_with_thousands_separators() -> None:
    cost = meeting_cost(
        meeting([colleague(i) for i in range(40)], minutes=60), user_email=ME, internal_domains=[], rates=MeetingRates()
    )
    assert cost.label == "$5,050 of people's time (41 people × 1 h)"
    assert format_duration(120) == "2 h" and format_duration(5) == "5 min"
