"""Streamlit code shared by the app script and its pages, none of it a page itself.

``auth_gate``: the sign-in state machine ``streamlit_app.py`` runs before the navigation.
``components``: drawing the chat page and the sessions page share (stored turns, tool steps).
Pages live in ``app_pages/``; ``assistant/`` never imports streamlit, this package does.
"""
