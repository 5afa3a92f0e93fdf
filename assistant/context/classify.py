"""Meeting types: classification rules and prep lead times (overrides: :mod:`~assistant.context.type_overrides`).

The rules live in a data file the deployment edits (``data/meeting_types.toml``, or
``MEETING_TYPES_FILE``): each type has a label, a prep lead time, title keywords, a question
bank and note-taking sections, and an ordered list of rules maps a meeting to a type from the
calendar's own label, title keywords, attendees' email domains, the number of attendees and
recurrence. The first matching rule wins; a meeting no rule matches gets ``default_type``.

A user can override a meeting's type; the override is stored per user in
``meeting_overrides`` keyed by the meeting id, or by its ``series_id`` for every occurrence
of a recurring series (the meeting's own id wins over its series).

Calendar text (titles, attendee names) is only matched here, never executed or rendered.
"""

from __future__ import annotations

import logging
import re
import threading
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.context.meetings import Attendee, Meeting
from assistant.inputs import not_utf8

logger = logging.getLogger(__name__)

TYPE_ID_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
_TYPE_ID = re.compile(TYPE_ID_PATTERN)


class MeetingTypesError(ValueError):
    """The meeting types file is missing or malformed; the message names the file and the entry."""


class MeetingTypeStorageError(ValueError):
    """The user's meeting-type overrides could not be read or written; the message says what to do."""


class MeetingType(BaseModel):
    """One ``[types.<id>]`` table of the meeting types file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1, max_length=60)
    prep_lead_hours: float = Field(ge=0, le=24 * 14)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    questions: list[str] = Field(min_length=1, max_length=20)
    template_sections: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("keywords", "questions", "template_sections")
    @classmethod
    def _no_blank_entries(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(item.split()) for item in value]
        if any(not item for item in cleaned):
            raise ValueError("entries must not be empty")
        return cleaned


class Rule(BaseModel):
    """One ``[[rules]]`` entry: a target type and conditions that must all hold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    calendar_type: list[str] | None = None
    title: Literal["keywords"] | list[str] | None = None
    external: bool | None = None
    min_others: int | None = Field(default=None, ge=0)
    max_others: int | None = Field(default=None, ge=0)
    recurring: bool | None = None

    @model_validator(mode="after")
    def _has_a_condition(self) -> Rule:
        conditions = (self.calendar_type, self.title, self.external, self.min_others, self.max_others, self.recurring)
        if all(c is None for c in conditions):
            raise ValueError(
                "a rule needs at least one condition (calendar_type, title, external, min_others, "
                "max_others or recurring)"
            )
        if self.min_others is not None and self.max_others is not None and self.min_others > self.max_others:
            raise ValueError("min_others is larger than max_others, so the rule can never match")
        return self


def _word_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    """A case-insensitive pattern matching any of ``words`` as whole words (spaces flexible)."""
    parts = [r"\s+".join(re.escape(w) for w in word.split()) for word in words if word.strip()]
    if not parts:
        return None
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


class MeetingTypes(BaseModel):
    """The loaded meeting types file: the types by id, the ordered rules and the default type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_type: str
    types: dict[str, MeetingType] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_references(self) -> MeetingTypes:
        for type_id in self.types:
            if not _TYPE_ID.fullmatch(type_id):
                raise ValueError(
                    f"types.{type_id}: a type id must be lowercase letters, digits or '_' (at most 32 characters)"
                )
        known = ", ".join(self.types)
        if self.default_type not in self.types:
            raise ValueError(f"default_type: unknown type {self.default_type!r} (known: {known})")
        for index, rule in enumerate(self.rules):
            if rule.type not in self.types:
                raise ValueError(f"rules.{index}.type: unknown type {rule.type!r} (known: {known})")
            if rule.title == "keywords" and not self.types[rule.type].keywords:
                raise ValueError(f"rules.{index}.title: type {rule.type!r} has no keywords to match")
        return self

    def label(self, type_id: str) -> str:
        """The label of ``type_id`` (the default type's label for an id the file no longer has)."""
        return self.get(type_id).label

    def get(self, type_id: str) -> MeetingType:
        """The type ``type_id``, or the default type for an id the file does not define."""
        return self.types.get(type_id) or self.types[self.default_type]

    def known(self, type_id: str) -> bool:
        """Whether the file defines ``type_id``."""
        return type_id in self.types

    def prep_lead_time(self, type_id: str) -> timedelta:
        """How long before the meeting its prep window opens."""
        return timedelta(hours=self.get(type_id).prep_lead_hours)

    @cached_property
    def _title_patterns(self) -> list[re.Pattern[str] | None]:
        patterns: list[re.Pattern[str] | None] = []
        for rule in self.rules:
            if rule.title == "keywords":
                patterns.append(_word_pattern(self.types[rule.type].keywords))
            elif rule.title is not None:
                patterns.append(_word_pattern(rule.title))
            else:
                patterns.append(None)
        return patterns

    def first_match(self, facts: MeetingFacts) -> str:
        """The type of the first rule ``facts`` satisfy, else the default type."""
        for rule, pattern in zip(self.rules, self._title_patterns, strict=True):
            if _matches(rule, pattern, facts):
                return rule.type
        return self.default_type


@dataclass(frozen=True)
class MeetingFacts:
    """What the rules look at, computed once per meeting."""

    title: str
    calendar_type: str
    others: int
    any_external: bool
    recurring: bool


def _matches(rule: Rule, title_pattern: re.Pattern[str] | None, facts: MeetingFacts) -> bool:
    if rule.calendar_type is not None and facts.calendar_type not in {c.strip().lower() for c in rule.calendar_type}:
        return False
    if rule.title is not None and (title_pattern is None or not title_pattern.search(facts.title)):
        return False
    if rule.external is not None and rule.external != facts.any_external:
        return False
    if rule.min_others is not None and facts.others < rule.min_others:
        return False
    if rule.max_others is not None and facts.others > rule.max_others:
        return False
    return rule.recurring is None or rule.recurring == facts.recurring


def _describe(path: Path, error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(p) for p in item.get("loc", ()))
        message = str(item.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return f"Meeting types file {path} is malformed: " + "; ".join(parts) + "."


_cache_lock = threading.Lock()
_cache: dict[Path, tuple[int, int, MeetingTypes]] = {}


def parse_meeting_types(raw: dict[str, Any], path: Path) -> MeetingTypes:
    """Validate a parsed meeting types document.

    Args:
        raw: The parsed TOML document.
        path: The file it came from (named in errors).

    Returns:
        The meeting types.

    Raises:
        MeetingTypesError: If an entry is invalid (the message names the file and the entry).
    """
    try:
        return MeetingTypes.model_validate(raw)
    except ValidationError as e:
        raise MeetingTypesError(_describe(path, e)) from e


def load_meeting_types(path: Path) -> MeetingTypes:
    """Read the meeting types file, cached by path and modification time.

    Args:
        path: The file (``Settings.resolved_meeting_types_file``).

    Returns:
        The validated meeting types; an edited file is read again on the next call.

    Raises:
        MeetingTypesError: If the file is missing, not TOML, or an entry is invalid.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError as e:
        raise MeetingTypesError(
            f"Meeting types file {path} is missing; restore data/meeting_types.toml or fix MEETING_TYPES_FILE."
        ) from e
    except OSError as e:
        raise MeetingTypesError(f"Meeting types file {path} cannot be read: {e.strerror or e}.") from e
    key = path.resolve()
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2]
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise MeetingTypesError(f"Meeting types file {path} is not valid TOML: {e}.") from e
    except UnicodeDecodeError as e:  # saved by an editor in a Windows encoding
        raise MeetingTypesError(f"Meeting types file {path} {not_utf8(e)}.") from e
    except OSError as e:
        raise MeetingTypesError(f"Meeting types file {path} cannot be read: {e.strerror or e}.") from e
    types = parse_meeting_types(raw, path)
    logger.info("path=<%s>, types=<%d>, rules=<%d> | loaded meeting types", path, len(types.types), len(types.rules))
    with _cache_lock:
        _cache[key] = (stat.st_mtime_ns, stat.st_size, types)
    return types


def prep_lead_time(type_id: str, types: MeetingTypes) -> timedelta:
    """How long before a meeting of ``type_id`` its prep window opens.

    Args:
        type_id: A type id (an id the file no longer defines gets the default type's lead time).
        types: The loaded meeting types.

    Returns:
        The lead time.
    """
    return types.prep_lead_time(type_id)


# --- attendees ------------------------------------------------------------------------


def internal_domain_set(user_email: str | None, internal_domains: Iterable[str]) -> frozenset[str]:
    """The email domains counted as internal: the user's own plus the configured ones.

    Args:
        user_email: The signed-in user's email (None when unknown).
        internal_domains: ``Settings.internal_domains``.

    Returns:
        Lower-cased domains.
    """
    domains = {d.strip().lower().lstrip("@") for d in internal_domains if d.strip()}
    own = _domain(user_email)
    if own:
        domains.add(own)
    return frozenset(domains)


def _domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower() or None


def is_you(attendee: Attendee, user_email: str | None) -> bool:
    """Whether this attendee entry is the user themself (some calendars list the user too, an
    imported file perhaps under another address: the source marks it ``you``)."""
    if attendee.you:
        return True
    return bool(user_email and attendee.email and attendee.email.strip().lower() == user_email.strip().lower())


def internal_domains_of(meeting: Meeting, user_email: str | None, internal_domains: Iterable[str]) -> frozenset[str]:
    """:func:`internal_domain_set` with the domain of each entry the calendar marks as you: Ada's
    colleagues are internal in her own calendar even when she signed in under another address."""
    yours = {_domain(a.email) for a in meeting.attendees if a.you}
    return internal_domain_set(user_email, internal_domains) | {d for d in yours if d}


def is_external(attendee: Attendee, internal: frozenset[str]) -> bool:
    """Whether an attendee is outside the company.

    An attendee with an email is external when its domain is not internal; one without an
    email is external when the calendar names their organisation (the demo calendar's
    ``org``), and internal otherwise.

    Args:
        attendee: The attendee.
        internal: :func:`internal_domain_set`.
    """
    domain = _domain(attendee.email)
    if domain is not None:
        return domain not in internal
    return bool(attendee.org)


def attending_others(meeting: Meeting, user_email: str | None) -> list[Attendee]:
    """The people in the meeting besides the user, declined attendees left out.

    Args:
        meeting: The meeting.
        user_email: The user's email, so an attendee entry for the user is not counted twice.
    """
    return [a for a in meeting.attendees if a.response != "declined" and not is_you(a, user_email)]


def meeting_facts(meeting: Meeting, *, user_email: str | None, internal_domains: Iterable[str]) -> MeetingFacts:
    """What the rules look at for ``meeting``.

    Args:
        meeting: The meeting.
        user_email: The user's email (its domain is internal).
        internal_domains: Other internal domains.
    """
    internal = internal_domains_of(meeting, user_email, internal_domains)
    others = attending_others(meeting, user_email)
    return MeetingFacts(
        title=" ".join(meeting.title.split()),
        calendar_type=" ".join(meeting.type.split()).lower(),
        others=len(others),
        any_external=any(is_external(a, internal) for a in others),
        recurring=meeting.series_id is not None,
    )


def classify(meeting: Meeting, *, user_email: str | None, internal_domains: Iterable[str], rules: MeetingTypes) -> str:
    """The type id the rules give ``meeting`` (overrides not considered; see :func:`effective_type`).

    Args:
        meeting: The meeting.
        user_email: The user's email (its domain is internal; None when unknown).
        internal_domains: ``Settings.internal_domains``.
        rules: The loaded meeting types.

    Returns:
        A type id defined in ``rules``.
    """
    return rules.first_match(meeting_facts(meeting, user_email=user_email, internal_domains=internal_domains))


def effective_type(
    meeting: Meeting,
    overrides: dict[str, str],
    *,
    user_email: str | None,
    internal_domains: Iterable[str],
    rules: MeetingTypes,
) -> str:
    """The user's override for the meeting, else for its series, else the rules' type.

    An override naming a type the file no longer defines is ignored.

    Args:
        meeting: The meeting.
        overrides: :func:`overrides` for the user.
        user_email: The user's email.
        internal_domains: ``Settings.internal_domains``.
        rules: The loaded meeting types.

    Returns:
        A type id defined in ``rules``.
    """
    for key in (meeting.id, meeting.series_id):
        chosen = overrides.get(key) if key else None
        if chosen is not None and rules.known(chosen):
            return chosen
    return classify(meeting, user_email=user_email, internal_domains=internal_domains, rules=rules)
