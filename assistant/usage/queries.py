"""Old home of the usage queries, kept only as a forwarding module: import :mod:`assistant.usage.ledger`.

The queries were split along their sections (``periods``, ``rollups``, ``percentiles``,
``dashboard``, ``ledger``, ``whatif``; the costs CSV is :func:`assistant.views.usage.costs_csv`).
Two importers outside this change still use this path (``assistant/chat/service.py`` for
``spend_today``, ``tests/test_chat_on_every_store.py`` for ``session_usage``); once they import
:mod:`assistant.usage.ledger`, delete this module.
"""

from assistant.usage.ledger import session_usage, spend_today

__all__ = ["session_usage", "spend_today"]
