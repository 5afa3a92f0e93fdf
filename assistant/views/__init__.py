"""Presentation: stored data turned into what the pages and the exports show (Streamlit-free).

- ``format``: costs, token counts, durations, ages, clock times, CSV cells; the ``Metric`` of a metric row.
- ``markdown``: untrusted model/user text made safe to draw as Markdown.
- ``conversation``: what the chat page (and a session's transcript) shows: badges, titles, footers, errors.
- ``sessions``: the sessions table and a session's detail (scoping, filter, paging, rows, access).
- ``usage``: the cost dashboard's and the what-if section's tables (each also its CSV).
- ``export``: one session as Markdown or JSON.

Only pages, the CLI and benches import this package; ``assistant.sessions``, ``assistant.usage``
and the chat core never do.
"""
