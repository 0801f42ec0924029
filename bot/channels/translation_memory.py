"""HTTP API of the translation memory, for agents and the review console.

A Rasa input channel only in the sense that the Rasa server serves its routes: it never
sends messages to the bot. Routes, under /webhooks/translation_memory/:

    GET    /                      {"status": "ok"} (no token needed)
    GET    /entries               newest entries; query: source, target, kind (human|machine), limit
    POST   /entries               add or correct a translation (JSON below); 201 + the entry
    DELETE /entries/<id>          remove an entry; 404 if there is none

    POST body: {"source_text": "Your order 10045 has shipped.", "translation": "Seu pedido
                10045 foi enviado.", "source_language": "en", "target_language": "pt",
                "author": "agent-7"}

An added translation wins over machine translation for that text from the next reply on,
in every server process sharing the memory's database; protected spans (order numbers,
links, product names) must appear unchanged in the translation, else the answer is a 400
that names them. Every call except the status needs `Authorization: Bearer <token>` with
the token in $BRIDGE_AGENT_TOKEN; without that variable the routes answer 503 and say so.

credentials.yml:

    bot.channels.translation_memory.TranslationMemoryInput:
      endpoints: endpoints.yml     # where nlg.translation names the memory and glossary

$BRIDGE_ENDPOINTS, when set, names the endpoints file instead (the Docker image sets it to
endpoints.production.yml, the file its Rasa server runs with).
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.translation.memory import HUMAN, MACHINE, MemoryEntry, TranslationMemory

TOKEN_ENV = "BRIDGE_AGENT_TOKEN"
ENDPOINTS_ENV = "BRIDGE_ENDPOINTS"
MAX_LIMIT = 1000
MAX_TEXT_CHARS = 10_000
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def entry_to_dict(entry: MemoryEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "source_language": entry.source_language,
        "target_language": entry.target_language,
        "kind": entry.kind,
        "source": entry.source_key,
        "translation": entry.target_key,
        "origin": entry.origin,
        "author": entry.author,
        "updated_at": entry.updated_at.isoformat() + "Z",
    }


def memory_from_endpoints(endpoints: Path) -> TranslationMemory:
    """The translation memory that the TranslatingNLG of `endpoints` uses."""
    from rasa.shared.utils.io import read_yaml

    from bot.translation.pipeline import memory_from_settings, protector_from_settings, read_settings

    if not endpoints.is_file():
        raise ValueError(
            f"TranslationMemoryInput: endpoints file '{endpoints}' not found; set `endpoints` in credentials.yml "
            f"or ${ENDPOINTS_ENV}."
        )
    nlg = (read_yaml(endpoints.read_text(encoding="utf-8")) or {}).get("nlg") or {}  # ${VARS} substituted
    settings = read_settings(nlg.get("translation"))
    memory = memory_from_settings(settings, protector_from_settings(settings))
    if memory is None:
        raise ValueError(f"TranslationMemoryInput: {endpoints} turns the translation memory off (memory_url: null).")
    return memory


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


class TranslationMemoryInput(InputChannel):
    """Serves the translation memory API (see module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "translation_memory"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TranslationMemoryInput:
        credentials = credentials or {}
        return cls(Path(os.environ.get(ENDPOINTS_ENV) or credentials.get("endpoints") or "endpoints.yml"))

    def __init__(self, endpoints: Path) -> None:
        self.memory = memory_from_endpoints(endpoints)

    def _refusal(self, request: Request) -> HTTPResponse | None:
        """A 503/401 response if the request may not use the API, else None."""
        token = os.environ.get(TOKEN_ENV)
        if not token:
            return _error(503, f"The translation memory API is off: set {TOKEN_ENV} for the Rasa server to turn it on.")
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return _error(401, "Missing or wrong token: send the header 'Authorization: Bearer <token>'.")
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        api = Blueprint("translation_memory_api", __name__)

        @api.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @api.route("/entries", methods=["GET"])
        async def list_entries(request: Request) -> HTTPResponse:
            refused = self._refusal(request)
            if refused:
                return refused
            kind = request.args.get("kind")
            if kind not in (None, HUMAN, MACHINE):
                return _error(400, f"'kind' must be '{HUMAN}' or '{MACHINE}', got {kind!r}.")
            try:
                limit = int(request.args.get("limit", 100))
            except ValueError:
                return _error(400, f"'limit' must be a whole number, got {request.args.get('limit')!r}.")
            if not 1 <= limit <= MAX_LIMIT:
                return _error(400, f"'limit' must be between 1 and {MAX_LIMIT}, got {limit}.")
            entries = self.memory.entries(request.args.get("source"), request.args.get("target"), kind, limit)
            return response.json({"entries": [entry_to_dict(e) for e in entries]})

        @api.route("/entries", methods=["POST"])
        async def add_entry(request: Request) -> HTTPResponse:
            refused = self._refusal(request)
            if refused:
                return refused
            try:
                body = request.json
            except Exception:  # sanic raises its own error type for unparsable JSON
                body = None
            if not isinstance(body, dict):
                return _error(
                    400,
                    "The body must be a JSON object with source_text, translation, source_language, target_language.",
                )
            problems = [
                f"'{key}' must be a non-empty string of at most {MAX_TEXT_CHARS} characters"
                for key in ("source_text", "translation", "source_language", "target_language")
                if not isinstance(body.get(key), str) or not body[key].strip() or len(body[key]) > MAX_TEXT_CHARS
            ]
            problems += [
                f"'{key}' must be an ISO 639 code like 'pt', got {body[key]!r}"
                for key in ("source_language", "target_language")
                if isinstance(body.get(key), str) and body[key].strip() and not LANGUAGE_CODE.match(body[key])
            ]
            if body.get("author") is not None and not isinstance(body["author"], str):
                problems.append("'author' must be a string")
            if problems:
                return _error(400, "; ".join(problems) + ".")
            if body["source_language"] == body["target_language"]:
                return _error(400, "source_language and target_language must differ.")
            try:
                entry = self.memory.add_translation(
                    body["source_text"],
                    body["translation"],
                    body["source_language"],
                    body["target_language"],
                    author=body.get("author"),
                )
            except ValueError as error:
                return _error(400, str(error))
            return response.json({"entry": entry_to_dict(entry)}, status=201)

        @api.route("/entries/<entry_id:int>", methods=["DELETE"])
        async def delete_entry(request: Request, entry_id: int) -> HTTPResponse:
            refused = self._refusal(request)
            if refused:
                return refused
            if not self.memory.delete_entry(entry_id):
                return _error(404, f"No translation memory entry with id {entry_id}.")
            return response.json({"deleted": entry_id})

        return api
