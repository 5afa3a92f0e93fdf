"""Names the offline model shares with the Meeting Coordinator's tools and with its own answers."""

from __future__ import annotations

MEETINGS_TOOL = "get_upcoming_meetings"
SAVE_TOOL = "save_prep_response"
AGENDA_TOOL = "generate_meeting_agenda"
BUDGET_TOOL = "get_budget_context"
ROCKS_TOOL = "get_big_rocks_status"

PREP_QUESTIONS_HEADING = "Prep questions for"
"""Heading of the prep questions in an answer; a later user message replying to them is saved as a prep note."""
