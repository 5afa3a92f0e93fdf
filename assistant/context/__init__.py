"""What the agent knows about one user: their calendar, budget, big rocks and meeting types.

Streamlit-free. :mod:`assistant.context.meetings` holds the meeting model every calendar
source produces; :mod:`assistant.context.sources` the :class:`CalendarSource` interface the
tools read through (demo file, ICS, Google Calendar).
"""
