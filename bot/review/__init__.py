"""The support team's review console: transcripts of every conversation, for logged-in agents.

A Starlette web application (`bridge console`) that reads the same SQL tracker store as Rasa
and keeps its own tables (agents, login failures, per-conversation summaries) next to it.
"""
