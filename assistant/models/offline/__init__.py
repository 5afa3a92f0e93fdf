"""Offline demo model: a deterministic, scripted strands ``Model`` that needs no network.

It reads the latest user text, makes real tool calls for the Meeting Coordinator's tools,
and, once the tool results are back, answers in markdown built from them. Same
conversation in, same events out: no randomness and no wall-clock time in the text.

Intent rules (case-insensitive keywords in the latest user text; several may apply and
then several tools are called in one message; only tools present in ``tool_specs`` are
ever called):

- **agenda** (``agenda``) -> ``generate_meeting_agenda(meeting_id)``. The meeting id comes
  from the most recent ``get_upcoming_meetings`` result in the conversation (best title
  match with the user's words, else the first meeting). When no such result exists yet,
  ``get_upcoming_meetings`` is called first and the agenda in the next model call.
- **save** (``save``, ``note``, ``remember``, ``my answer``, ``prep note``), or a reply to a
  prep question this model asked in its previous answer -> ``save_prep_response(meeting_id,
  topic, response)``: the meeting the command names ("Save a note for the Globex QBR: ...")
  wins, looked up first when no listing holds it (none found: nothing is saved); else it is
  found as for the agenda (the meeting named in the previous answer wins); the topic is the
  question asked about that meeting, the response is the user's text.
- **meetings** (``meeting``, ``calendar``, ``schedule``, ``week``, ``upcoming``, ``prepare``,
  ``prep``, ``today``, ``tomorrow``, a weekday, a date such as "13 December", a kind of
  meeting: ``1:1``, ``QBR``, ``sync``, ``all-hands``, ``interview``...) ->
  ``get_upcoming_meetings(days_ahead, query)``; ``query`` holds the words after
  "for"/"about"/"with"/"coming to"/"attending" up to a second question ("... and what do they
  care about?"), less the words naming a day and filler words ("prepare me for the Acme QBR"
  -> "Acme QBR"; "my 1:1 with Dana" -> "1:1 Dana"; "prep me for tomorrow" -> none);
  ``days_ahead`` reaches a date named (from the prompt's "Today is ..."), else is 1 for today,
  2 for tomorrow, 14 for next week, 30 for a month, 7 for a week, else 30 when a meeting is
  named and 7 when none is. Skipped when the agenda or save rule already covers the request.
  An answer about a date, today, tomorrow or a weekday lists that day's meetings only, one
  about this week those up to Sunday, one about next week that week's (Monday to Sunday).
- **read notes back** ("what did I note", "my notes", "notes have I saved") ->
  ``generate_meeting_agenda(meeting_id)`` for the meeting named, found as for the agenda; the
  answer lists that meeting's saved notes (``prep_notes``), or says it has none.
- **budget** (``budget``, ``spend``, ``cost``, ``forecast``) -> ``get_budget_context(area)``,
  with ``area`` from "budget for <area>"; an answer about the areas the text names ("How does
  the budget look for marketing?") tells those alone, with their forecast and notes.
- **big rocks** (``big rock``, ``priorit``, ``initiative``, ``okr``, ``strategy``,
  ``strategic``) -> ``get_big_rocks_status()``.

Each tool is called at most once per user turn, and after three rounds of tool calls the
model answers with what it has. Without a recognised intent it explains what it can do.

The modules follow the steps of one call: :mod:`.reading` (the conversation),
:mod:`.deciding` (intents and tool calls), :mod:`.composing` (the answer), :mod:`.usage`
(the token estimate) and :mod:`.model` (the strands ``Model`` streaming it all).
"""

from assistant.models.offline.model import OfflineConfig, OfflineModel, split_chunks

__all__ = ["OfflineConfig", "OfflineModel", "split_chunks"]
