"""What a meeting costs in people's time: attendee-hours × an hourly rate per kind of attendee.

Rates come from settings (US dollars per hour; defaults in brackets):

- you: ``MEETING_RATE_YOU_USD`` (250)
- an internal colleague: ``MEETING_RATE_INTERNAL_USD`` (120)
- an external attendee: ``MEETING_RATE_EXTERNAL_USD`` (0)

External time is not the company's cost, so it is $0 unless a deployment says otherwise;
the label then says external time is not counted. Internal means an email in the user's own
domain or ``INTERNAL_DOMAINS`` (see :func:`assistant.context.classify.is_external`).
Declined attendees are not counted. An all-day event is not priced (it is a day marker
more often than a meeting). The figure is shown beside the AI cost of the meeting's prep.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from assistant.context.classify import attending_others, internal_domains_of, is_external
from assistant.context.meetings import Meeting

AttendeeKind = Literal["you", "internal", "external"]


class _RateSettings(Protocol):
    @property
    def meeting_rate_you_usd(self) -> float: ...
    @property
    def meeting_rate_internal_usd(self) -> float: ...
    @property
    def meeting_rate_external_usd(self) -> float: ...


@dataclass(frozen=True)
class MeetingRates:
    """Hourly rates in US dollars per kind of attendee."""

    you_usd: float = 250.0
    internal_usd: float = 120.0
    external_usd: float = 0.0

    @classmethod
    def from_settings(cls, settings: _RateSettings) -> MeetingRates:
        """The rates configured in ``Settings`` (``MEETING_RATE_*_USD``)."""
        return cls(
            you_usd=settings.meeting_rate_you_usd,
            internal_usd=settings.meeting_rate_internal_usd,
            external_usd=settings.meeting_rate_external_usd,
        )

    def rate(self, kind: AttendeeKind) -> float:
        """The hourly rate for ``kind``."""
        return {"you": self.you_usd, "internal": self.internal_usd, "external": self.external_usd}[kind]

    def describe(self) -> str:
        """The rates in words: ``"you $250/h, internal colleagues $120/h, external attendees not counted"``."""
        external = (
            f"external attendees {format_usd(self.external_usd)}/h"
            if self.external_usd
            else ("external attendees not counted")
        )
        return f"you {format_usd(self.you_usd)}/h, internal colleagues {format_usd(self.internal_usd)}/h, {external}"


@dataclass(frozen=True)
class CostLine:
    """One kind of attendee in the breakdown.

    Attributes:
        kind: ``you``, ``internal`` or ``external``.
        people: How many of them attend.
        hours: Hours each spends in the meeting.
        rate_usd: Hourly rate.
        cost_usd: ``people × hours × rate_usd``.
    """

    kind: AttendeeKind
    people: int
    hours: float
    rate_usd: float
    cost_usd: float


@dataclass(frozen=True)
class MeetingCost:
    """The cost of a meeting in people's time.

    Attributes:
        total_usd: Sum of the breakdown.
        people: Everyone counted, you included.
        hours: Length of the meeting in hours.
        lines: Breakdown per kind of attendee (kinds with nobody left out).
        label: One line, e.g. ``"$730 of people's time (5 people × 1 h)"``.
        priced: False for an all-day event, which is not priced.
    """

    total_usd: float
    people: int
    hours: float
    lines: list[CostLine]
    label: str
    priced: bool = True


def format_duration(minutes: int) -> str:
    """``"30 min"``, ``"1 h"``, ``"1 h 30 min"``."""
    hours, rest = divmod(max(0, minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" if not rest else f"{hours} h {rest} min"


def format_usd(amount: float) -> str:
    """Whole dollars with thousands separators (``"$1,230"``); cents only under $10."""
    if 0 < amount < 10 and round(amount) != amount:
        return f"${amount:,.2f}"
    return f"${amount:,.0f}"


def meeting_cost(
    meeting: Meeting, *, user_email: str | None, internal_domains: Iterable[str], rates: MeetingRates
) -> MeetingCost:
    """Attendee-hours × hourly rate for ``meeting``, with a breakdown and a one-line label.

    Args:
        meeting: The meeting (its attendees are the people besides you).
        user_email: Your email: its domain is internal, and an attendee entry for you is not
            counted twice.
        internal_domains: ``Settings.internal_domains``.
        rates: :meth:`MeetingRates.from_settings`.

    Returns:
        The cost; an all-day event is not priced (``priced=False``, $0).
    """
    if meeting.all_day:
        return MeetingCost(0.0, 0, 0.0, [], "All-day event: no meeting cost", priced=False)
    internal = internal_domains_of(meeting, user_email, internal_domains)
    others = attending_others(meeting, user_email)
    external_count = sum(1 for a in others if is_external(a, internal))
    counts: dict[AttendeeKind, int] = {"you": 1, "internal": len(others) - external_count, "external": external_count}
    hours = meeting.duration_minutes / 60
    lines = [
        CostLine(kind, n, hours, rates.rate(kind), round(n * hours * rates.rate(kind), 2))
        for kind, n in counts.items()
        if n
    ]
    total = round(sum(line.cost_usd for line in lines), 2)
    people = sum(counts.values())
    label = (
        f"{format_usd(total)} of people's time ({people} {'person' if people == 1 else 'people'} × "
        f"{format_duration(meeting.duration_minutes)})"
    )
    if external_count and rates.external_usd == 0:
        label = label[:-1] + ", external time not counted)"
    return MeetingCost(total, people, hours, lines, label)
