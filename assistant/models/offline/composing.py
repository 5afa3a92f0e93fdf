"""Composing the answer: markdown built from this turn's tool results, or what the model can do."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from assistant.dates import long_day, short_day
from assistant.inputs import fold_for_search
from assistant.markdown_text import literal
from assistant.models.offline.days import (
    WEEKDAYS,
    days_of,
    named_date,
    named_month,
    next_week,
    out_of_reach,
    this_week,
    times_in,
)
from assistant.models.offline.deciding import (
    WEEKDAY_WORDS,
    Intents,
    best_meeting,
    detect_intents,
    note_text,
    refers_to_soonest,
    save_command,
)
from assistant.models.offline.names import (
    AGENDA_TOOL,
    BUDGET_TOOL,
    MEETINGS_TOOL,
    PREP_QUESTIONS_HEADING,
    ROCKS_TOOL,
    SAVE_TOOL,
)
from assistant.models.offline.people_time import people_time
from assistant.models.offline.questions import attendee_text, prep_questions
from assistant.models.offline.reading import Context
from assistant.tool_errors import readable_tool_error

_HELP_TEXT = (
    "I can help you get ready for your meetings. Try asking me to:\n\n"
    '- **list your meetings** - "What meetings do I have this week?"\n'
    '- **prepare you for one** - "Prepare me for the Acme QBR"\n'
    '- **draft an agenda** - "Prepare an agenda for the Acme QBR"\n'
    '- **check the budget** - "How is our budget tracking?"\n'
    '- **review priorities** - "What is the status of our big rocks?"\n'
    '- **save a prep note** - "Save a note: I want to close the renewal"\n'
    '- **read your notes back** - "What did I note for the Acme QBR?"'
)


def _format_time_range(meeting: dict[str, Any]) -> str:
    start_raw, end_raw = str(meeting.get("start", "")), str(meeting.get("end", ""))
    try:
        start = datetime.fromisoformat(start_raw)
    except ValueError:
        return start_raw
    if meeting.get("all_day"):  # a date, not a time: "00:00-00:00 (4320 min)" said nothing
        days = days_of(meeting)
        return short_day(start) + (f" to {short_day(days[-1])}" if len(days) > 1 else "") + ", all day"
    text = f"{short_day(start)}, {start:%H:%M}"
    try:
        end = datetime.fromisoformat(end_raw)
    except ValueError:
        end = None
    if end is not None and end.date() != start.date():  # "08:00-17:00 (3420 min)" read as one day
        return text + f" to {short_day(end)}, {end:%H:%M}"
    if end is not None and end > start:  # a deadline (no length) is one time: "10:00", not "10:00-10:00"
        text += "-" + end.strftime("%H:%M")
    minutes = meeting.get("duration_minutes")
    if minutes:
        text += f" ({minutes} min)"
    return text


def _tool_today(data: dict[str, Any]) -> date | None:
    """The user's date as the meetings tool gave it ("Saturday 2026-12-05"), if it did."""
    try:
        return date.fromisoformat(str(data.get("today", "")).split()[-1])
    except (ValueError, IndexError):
        return None


def _meetings_on(n: int, when: str) -> str:
    """``"1 meeting on Monday 07 December"``, ``"No meetings next week, …"``."""
    return f"{n or 'No'} meeting{'' if n == 1 else 's'} {when}"


def _asked_day(user_text: str, data: dict[str, Any]) -> tuple[str, date] | None:
    """("tomorrow,", its date) when the user asked about today, tomorrow or a weekday ("on", the next
    such day, today included) and the tool gave today's date."""
    lowered = user_text.lower()
    today = _tool_today(data)
    if today is None:
        return None
    if (named := named_date(lowered, today)) is not None:  # "Sunday 13 December": the 13th
        return "on", named
    if "today" in lowered or "tomorrow" in lowered:
        return ("today,", today) if "today" in lowered else ("tomorrow,", today + timedelta(days=1))
    weekdays = WEEKDAY_WORDS.findall(lowered)  # the last: "Prepare me for Monday Standup, Thursday at 09:00"
    if not weekdays:
        return None
    return "on", today + timedelta(days=(WEEKDAYS.index(weekdays[-1]) - today.weekday()) % 7)


def _week_asked(user_text: str) -> str | None:
    lowered = user_text.lower()
    return "next week" if "next week" in lowered else "this week" if "this week" in lowered else None


def _on_asked_day(
    user_text: str, data: dict[str, Any], meetings: list[dict[str, Any]], summary: str, days: int
) -> tuple[list[dict[str, Any]], str]:
    """The meetings and summary for the day asked about ("today", "tomorrow", a weekday), the month
    ("in May"), this week (to Sunday) or next week, else as they are; only the first of them for
    "my next meeting"; none, saying so, for a day or month past the ``days`` the calendar was read.

    The tool lists the next 24 or 48 hours; an answer about tomorrow keeps tomorrow's meetings.
    """
    asked, today, period, when = _asked_day(user_text, data), _tool_today(data), None, ""
    if asked is None and today is not None and (period := named_month(user_text.lower(), today)) is not None:
        when = f"in {period[0]:%B %Y}"
    elif asked is None and today is not None and (week := _week_asked(user_text)) is not None:
        period = next_week(today) if week == "next week" else this_week(today)
        when = f"{week}, {short_day(period[0])} to {short_day(period[1])}"
    first_asked = asked[1] if asked else period[0] if period else None
    if today is not None and first_asked is not None and (far := out_of_reach(first_asked, today, days)):
        return [], far
    if asked is not None:
        word, day = asked
        meetings = [m for m in meetings if day in days_of(m)]
        summary = _meetings_on(len(meetings), f"{word} {long_day(day)}")
    elif period is not None:
        meetings = [m for m in meetings if any(period[0] <= d <= period[1] for d in days_of(m))]
        summary = _meetings_on(len(meetings), when)
    if meetings and refers_to_soonest(user_text.lower()):
        return meetings[:1], "Your next meeting" + (f" {asked[0]} {long_day(asked[1])}" if asked else "") + ":"
    return meetings, summary


def _meeting_line(meeting: dict[str, Any]) -> str:
    line = f"- **{literal(meeting.get('title', 'Untitled meeting'))}** - {_format_time_range(meeting)}"
    extras = [literal(meeting[key]) for key in ("type", "location") if meeting.get(key)]
    attendees = meeting.get("attendees")
    if isinstance(attendees, list) and attendees:
        count = meeting.get("attendee_count")  # a big meeting's tool result names only some
        n = count if isinstance(count, int) and count > len(attendees) else len(attendees)
        extras.append(f"{n} attendee{'s' if n != 1 else ''}")
    if extras:
        line += " · " + " · ".join(extras)
    return line


def _label(item: dict[str, Any]) -> str:
    for key in ("name", "title", "area", "initiative", "category", "label"):
        if item.get(key):
            return str(item[key])
    return ""


_HIDDEN_KEYS = frozenset({"id", "currency", "url", "source"})


# Amounts in a tool result item that carries a ``currency`` (the budget tool's areas).
_MONEY_KEYS = frozenset({"annual_budget", "spent_ytd", "plan_ytd", "forecast", "remaining", "forecast_variance"})
_CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def _money(value: float, currency: str) -> str:
    """An amount as a reader skims it: ``$18.5M``, ``$6M``, ``$3.05M``, ``$3.0M`` (3,000,400), ``€950k``,
    ``$12.5k``, ``$1.1k``, ``2.4M CHF``."""
    size = abs(value)
    if size >= 1_000_000:
        # only a whole number of millions drops its decimals: "$3M" beside "$2.6M" read as exact; to
        # the nearest $10k, as the gaps are told: "$3.6M" (3.65M) beside "$4.8M" (4.75M) left
        # "$4.2M budget, $4.8M forecast, +$550k" not adding up, rounded down once and up once
        text = f"{size / 1_000_000:.2f}"
        text = (f"{size / 1_000_000:.0f}" if size % 1_000_000 == 0 else text.removesuffix("0")) + "M"
    elif size >= 1_000:
        # three significant digits: a $1,000 budget forecast at $1,100 read "$1k" twice beside its +10%
        thousands = size / 1_000
        text = f"{thousands:.{2 if thousands < 10 else 1 if thousands < 100 else 0}f}"
        text = (text.rstrip("0").rstrip(".") if "." in text else text) + "k"
    else:
        text = f"{size:,.0f}"
    sign = "-" if value < 0 else ""
    symbol = _CURRENCY_SIGNS.get(currency.upper())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def _scalar(value: str | int | float, key: str = "", currency: str | None = None) -> str:
    if currency and key in _MONEY_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _money(float(value), currency)
    if isinstance(value, float) and abs(value) >= 1000:
        return f"{value:,.0f}"
    if isinstance(value, int) and abs(value) >= 10000:
        return f"{value:,}"
    return str(value)


# How a field of a budget area or a big rock reads in a sentence ("{}" is the value as shown).
_PHRASES = {
    "status": "{}",
    "progress_pct": "{}% done",
    "target_date": "due {}",
    "due_date": "due {}",
    "annual_budget": "{} annual budget",
    "spent_ytd": "{} spent so far",
    "plan_ytd": "{} planned by now",
    "forecast": "{} forecast",
    "remaining": "{} left",
    "forecast_variance": "forecast {} against budget",
    "owner": "owned by {}",
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _phrase(key: str, value: str | int | float, currency: str | None) -> str:
    """One field as words: ``at risk``, ``62% done``, ``due 19 Jan 2027``, ``$18.5M annual budget``."""
    if key == "status" and isinstance(value, str):
        text = value.replace("_", " ")
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
            text = f"{day.day} {day:%b %Y}"
        except ValueError:
            text = value
    elif key == "forecast_variance" and currency and isinstance(value, (int, float)):
        text = ("+" if value > 0 else "") + _money(float(value), currency)
    else:
        text = _scalar(value, key, currency)
    if isinstance(value, str):  # an owner, a status: the user's text, not Markdown
        text = literal(text)
    phrase = _PHRASES.get(key)
    return phrase.format(text) if phrase else f"{key.replace('_', ' ')} {text}"


def _prose(fields: list[tuple[str, str | int | float]], currency: str | None) -> str:
    """The fields of one item as a clause a reader expects, the owner last."""
    words = [_phrase(k, v, currency) for k, v in fields if k != "owner"]
    owner = [_phrase(k, v, currency) for k, v in fields if k == "owner"]
    return ", ".join(words) + ("; " if words and owner else "") + "".join(owner)


def _render_generic(data: dict[str, Any], limit: int = 6) -> list[str]:
    """Bullet lines for the list-valued fields of a tool result (budget, big rocks)."""
    lines: list[str] = []
    for key, value in data.items():
        if key == "summary" or not isinstance(value, list) or not value:
            continue
        heading = key.replace("_", " ").capitalize()
        lines.append(f"\n**{heading}**")
        for item in value[:limit]:
            if isinstance(item, dict):
                label = _label(item)
                currency = str(item["currency"]) if isinstance(item.get("currency"), str) else None
                shown = [
                    (k, v)
                    for k, v in item.items()
                    if isinstance(v, (str, int, float))
                    and not isinstance(v, bool)
                    and str(v).strip()  # a field left empty ("summary", "owned by") is left out
                    and str(v) != label
                    and k not in _HIDDEN_KEYS
                    and not k.endswith("_id")
                ][: 5 if currency else 4]  # a budget area's fifth is its forecast (it was on no line)
                details = _prose(shown, currency)
                lines.append(f"- **{literal(label)}** - {details}" if label else f"- {details}")
            else:
                lines.append(f"- {literal(item)}")
        if len(value) > limit:
            lines.append(f"- ...and {len(value) - limit} more")
    return lines


# A budget area the user asked about, told whole: the list's four fields left out its forecast.
_AREA_FIELDS = ("annual_budget", "spent_ytd", "plan_ytd", "forecast", "forecast_variance", "owner")


def _areas_named(user_text: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The budget areas the text names ("How does the budget look for marketing?"), when it names
    some but not all; [] otherwise (the whole budget is the answer)."""
    areas = [a for a in data.get("areas") or [] if isinstance(a, dict)]
    said = set(re.findall(r"[^\W_]+", fold_for_search(user_text)))
    named = [
        a for a in areas if any(len(w) > 2 and w in said for w in re.findall(r"[^\W_]+", fold_for_search(_label(a))))
    ]
    return named if len(named) < len(areas) or len(areas) == 1 else []


def _area_lines(area: dict[str, Any]) -> str:
    """One area with its forecast and what it is against budget, and its notes."""
    currency = str(area["currency"]) if isinstance(area.get("currency"), str) else None
    shown = [(k, area[k]) for k in _AREA_FIELDS if isinstance(area.get(k), (str, int, float)) and area.get(k) != ""]
    line = f"- **{literal(_label(area))}** - {_prose(shown, currency)}"
    if area.get("notes"):
        line += f"\n  - Notes: {literal(str(area['notes']))}"
    return line


_ASK_FOR_THE_NOTE = (
    "What should the note say? Write it after the command, e.g. "
    "*Save a note for the Acme QBR: push for a decision on the renewal*."
)


def _meetings_answer(
    context: Context, intents: Intents, asked: dict[str, Any], data: dict[str, Any], summary: str, focus: Any
) -> tuple[list[str], dict[str, Any] | None]:
    """The sections a listing asked with ``asked`` adds to the answer, and the meeting in focus (or ``focus``)."""
    meetings, query = [m for m in data.get("meetings") or [] if isinstance(m, dict)], asked.get("query")
    days = int(asked["days_ahead"]) if isinstance(asked.get("days_ahead"), int) else 0
    said = save_command(context.user_text) if intents.save else context.user_text  # a note's days are its own
    meetings, summary = _on_asked_day(said, data, meetings, summary, days)
    if not meetings:
        return [summary or "You have no meetings in that period."], focus
    if intents.agenda or intents.save:
        return [], focus  # the agenda / saved note is the answer; the list was only a lookup
    if query or "prep" in context.user_text.lower():
        focus = best_meeting(meetings, str(query or context.user_text))
        if focus is None or not (query or len(meetings) == 1):
            focus = None
    sections = []
    later = _later_occurrences(meetings, focus, summary)
    if focus is None or (len(meetings) > 1 and later is None):
        lines = [(summary or f"You have {len(meetings)} upcoming meetings") + times_in(data), ""]
        lines += [_meeting_line(m) for m in meetings]
        sections.append("\n".join(lines))
    if focus is not None:
        sections.append(_meeting_details(focus) + (later or ""))
    if intents.meeting_cost:  # "what do my meetings cost": their people's time, not the budget
        sections.append(people_time(meetings, data))
    return sections, focus


_AT_RISK = re.compile(r"\b(?:at[- ]risk|off[- ]track|behind|slipping|in trouble)\b", re.I)


def _rocks_at_risk(data: dict[str, Any], summary: str) -> list[str]:
    """ "Which of my big rocks is at risk?": the initiatives at risk or off track, not all of them."""
    rocks = [r for r in data.get("initiatives") or [] if isinstance(r, dict)]
    flagged = [r for r in rocks if r.get("status") in ("at_risk", "off_track")]
    lines = ["**Big rocks status**", "", summary or "No summary available."]
    if not flagged:
        return [*lines, "", "None of them is at risk or off track."]
    return lines + _render_generic({"initiatives": flagged})


_DEMO_LABELS = {
    BUDGET_TOOL: "*Demo data: these figures are the demo company's. Upload your own budget on My context.*",
    ROCKS_TOOL: "*Demo data: these initiatives are the demo company's. Add your own big rocks on My context.*",
}


def _demo_label(tool: str, data: dict[str, Any]) -> list[str]:
    """The line saying a budget or big rocks answer is the demo's (it read as the executive's own)."""
    return ["", _DEMO_LABELS[tool]] if tool in _DEMO_LABELS and data.get("source") == "demo data" else []


def _later_occurrences(meetings: list[dict[str, Any]], focus: dict[str, Any] | None, summary: str) -> str | None:
    """``"\n- Then: Mon 14 Dec, Mon 21 Dec, Mon 28 Dec and 1 more ..."`` when every meeting listed is an
    occurrence of the focused one's series (the listing of them all said the same line five times),
    else None."""
    if focus is None or len(meetings) < 2:
        return None
    if not all(m.get("recurring") and m.get("title") == focus.get("title") for m in meetings):
        return None
    days = [d[0] for m in meetings if m is not focus and (d := days_of(m))]
    shown = ", ".join(short_day(d) for d in days[:3])
    more = f" and {len(days) - 3} more" if len(days) > 3 else ""
    period = re.search(r" in the next \d+ days?$", summary)
    return f"\n- Then: {shown}{more}{period.group(0) if period else ''}"


def compose_answer(context: Context) -> str:
    """The markdown answer once this turn's tools have answered (or the help text without them).

    Args:
        context: The conversation as read for this call.

    Returns:
        The answer's text.
    """
    intents = detect_intents(context)
    if intents.save and not note_text(context.user_text) and not context.turn_outcomes:
        return _ASK_FOR_THE_NOTE
    if not context.turn_outcomes:
        if not intents.any:
            return _HELP_TEXT
        return "I couldn't find the tools I need for that right now. " + _HELP_TEXT

    sections: list[str] = []
    focus: dict[str, Any] | None = None
    for outcome in context.turn_outcomes:
        if not outcome.ok or outcome.data is None:
            reason = readable_tool_error(outcome.text) or "no details"
            sections.append(f"I couldn't get that from `{outcome.name or 'a tool'}`: {reason}")
            continue
        data = outcome.data
        summary = literal(str(data.get("summary", "")).strip())  # may quote a meeting's title
        if outcome.name == MEETINGS_TOOL:
            listed, focus = _meetings_answer(context, intents, outcome.input, data, summary, focus)
            sections += listed
        elif outcome.name == AGENDA_TOOL and intents.recall:
            sections.append(_notes_answer(data))
        elif outcome.name == AGENDA_TOOL:
            markdown = str(data.get("markdown", "")).strip()
            meeting = data.get("meeting") if isinstance(data.get("meeting"), dict) else None
            if not markdown:
                items = [i for i in data.get("items") or [] if isinstance(i, dict)]
                markdown = "\n".join(
                    f"- {i.get('start', '')}-{i.get('end', '')} **{literal(i.get('title', ''))}**"
                    + (f" ({literal(i['owner'])})" if i.get("owner") else "")
                    for i in items
                )
            sections.append("\n\n".join(part for part in (summary, markdown) if part))
            if meeting is not None:
                focus = meeting
        elif outcome.name == SAVE_TOOL:
            total = data.get("total_notes_for_meeting")
            text = summary or "Saved your prep note."
            if text[-1:] not in ".!?":
                text += "."
            if isinstance(total, int):
                text += f" You now have {total} prep note{'s' if total != 1 else ''} for this meeting."
            sections.append(text)
        elif outcome.name == BUDGET_TOOL and (asked := _areas_named(context.user_text, data)):
            lines = ["**Budget context**", "", *(_area_lines(area) for area in asked)]
            sections.append("\n".join(lines + _demo_label(outcome.name, data)))
        elif outcome.name == ROCKS_TOOL and _AT_RISK.search(context.user_text):
            sections.append("\n".join(_rocks_at_risk(data, summary) + _demo_label(outcome.name, data)))
        else:
            title = "**Budget context**" if outcome.name == BUDGET_TOOL else "**Big rocks status**"
            if outcome.name not in (BUDGET_TOOL, ROCKS_TOOL):
                title = f"**{outcome.name}**"
            lines = [title, "", summary or "No summary available.", *_render_generic(data)]
            sections.append("\n".join(lines + _demo_label(outcome.name, data)))

    if focus is not None and (questions := prep_questions(focus, _answered_topics(context))):
        sections.append(
            f"**{PREP_QUESTIONS_HEADING} {literal(focus.get('title', 'this meeting'))}:**\n\n"
            + "\n".join(f"{i}. {q}" for i, q in enumerate(questions, start=1))
        )
    return "\n\n".join(section.strip() for section in sections if section.strip())


def _answered_topics(context: Context) -> list[str]:
    """The topics of the notes saved for the meeting this turn's agenda drafted: a prep question one
    of them answers is not asked again."""
    agendas = [o.data for o in context.turn_outcomes if o.name == AGENDA_TOOL and o.data]
    return [str(n.get("topic", "")) for data in agendas for n in data.get("prep_notes") or [] if isinstance(n, dict)]


def _notes_answer(data: dict[str, Any]) -> str:
    """The prep notes saved for the agenda's meeting, as "What did I note for the QBR?" asks."""
    meeting: dict[str, Any] = data["meeting"] if isinstance(data.get("meeting"), dict) else {}
    title = literal(str(meeting.get("title") or "this meeting"))
    days = days_of(meeting)
    when = f" on {short_day(days[0])}" if days else ""  # which occurrence of a series
    notes = [n for n in data.get("prep_notes") or [] if isinstance(n, dict)]
    if not notes:
        return f"You have no prep notes for {title}{when} yet. Save one with *Save a note for {title}: ...*."
    lines = [f"**Your prep notes for {title}**{when}:", ""]
    lines += [f"- **{literal(str(n.get('topic', '')))}:** {literal(str(n.get('response', '')))}" for n in notes]
    lines += ["", "They are in the meeting's agenda as your talking points."]
    return "\n".join(lines)


def _meeting_details(meeting: dict[str, Any]) -> str:
    lines = [f"**{literal(meeting.get('title', 'This meeting'))}** - {_format_time_range(meeting)}"]
    attendees = meeting.get("attendees")
    if isinstance(attendees, list) and attendees:
        more = meeting.get("attendees_not_listed")
        tail = f" and {more} more" if isinstance(more, int) and more > 0 else ""
        # "Müller, Jürgen" (Outlook's directory order) is one person: commas between people made two of each
        between = "; " if any("," in str(a.get("name", "")) for a in attendees if isinstance(a, dict)) else ", "
        lines.append("- Attendees: " + between.join(literal(attendee_text(a)) for a in attendees) + tail)
    if meeting.get("location"):
        lines.append(f"- Location: {literal(meeting['location'])}")
    if meeting.get("description"):
        lines.append(f"- About: {literal(meeting['description'])}")
    return "\n".join(lines)
