"""Presentation: stored data turned into what the pages and the exports show (Streamlit-free).

- ``format``: costs, token counts, durations, ages, clock times, CSV cells.
- ``markdown``: untrusted model/user text made safe to draw as Markdown.
- ``conversation``: what the chat page (and a session's transcript) shows: badges, titles, footers, errors.
- ``export``: one session as Markdown or JSON.

Only pages, the CLI and benches import this package; ``assistant.sessions``, ``assistant.usage``
and the chat core never do.
"""
