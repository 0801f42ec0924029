"""What an agent does with a hand-off, from the console: claim, read, write, hand back.

Each step changes the conversation only through Rasa's HTTP API (bot/handoff/rasa_api.py) and
the queue only through conditional UPDATEs (bot/handoff/queue.py), so any console process can
serve any agent. An agent's message becomes two slots (its text and language) and the
`utter_agent_message` response, which Rasa's NLG (bot/nlg/translating_nlg.py) translates into
the customer's language exactly as it does the bot's own replies and sends on the customer's
channel; the bot event it records (metadata: route, source text, `handoff_agent`) is what the
agent is shown as delivered. The customer's messages, and the bot's replies unless their source
text is in the agent's language, are read from the tracker store and translated for the agent
through the same pipeline (memory first).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import asdict, dataclass
from typing import Any

import requests
from sqlalchemy.engine import Engine

from bot.handoff import queue
from bot.handoff.rasa_api import RasaConversations, RasaUnavailable
from bot.handoff.settings import HandoffSettings
from bot.review.accounts import Agent
from bot.review.transcript import BotTurn, CustomerTurn, load_transcript
from bot.translation.pipeline import PATH_FALLBACK, TranslationPipeline

logger = logging.getLogger(__name__)

AGENT_MESSAGE = "utter_agent_message"
RETURNED_MESSAGE = "utter_handoff_returned"
UNAVAILABLE_MESSAGE = "utter_handoff_unavailable"
AGENT_TAKEOVER = "agent_takeover"
REST_CHANNELS = ("rest", "bridge_rest")
# The route of a reply shown to the agent as its source text (written in the agent's language).
SOURCE_TEXT = "source"


class HandoffError(ValueError):
    """The agent cannot do this now; the message says why and what to do."""


class NeedsConfirmation(HandoffError):
    """No translation backend for the pair: the agent must confirm sending untranslated."""


@dataclass(frozen=True)
class Delivered:
    """An agent's message as the customer received it."""

    text: str
    language: str | None
    route: str
    source_text: str
    source_language: str | None


def _slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


LISTEN = {"event": "action", "name": "action_listen"}


class HandoffRelay:
    """The agent's side of the hand-off, shared by every console route."""

    def __init__(
        self,
        settings: HandoffSettings,
        queue_engine: Engine,
        tracker_engine: Engine,
        rasa: RasaConversations,
        translation: dict[str, Any] | None = None,
    ) -> None:
        """:param translation: the bot's `nlg: translation:` settings (None: no translation);
        the pipeline is built on first use, so a console that never hands off loads no model."""
        self.settings = settings
        self.queue_engine = queue_engine
        self.tracker_engine = tracker_engine
        self.rasa = rasa
        self.translation = translation
        self._pipeline: TranslationPipeline | None = None
        self._pipeline_lock = threading.Lock()

    @property
    def pipeline(self) -> TranslationPipeline | None:
        """The bot's translation pipeline: the same memory, glossary and backends."""
        if self._pipeline is None and self.translation:
            with self._pipeline_lock:
                if self._pipeline is None:
                    self._pipeline = TranslationPipeline.from_settings(self.translation)
        return self._pipeline

    # Languages -------------------------------------------------------------------------

    def can_translate(self, source: str | None, target: str | None) -> bool:
        """Whether a text in `source` reaches a `target` reader translated (or needs nothing)."""
        if not source or not target or source == target:
            return True
        return self.pipeline is not None and self.pipeline.route(source, target) is not None

    def _for_agent(self, text: str, source: str | None, agent: Agent) -> dict[str, Any] | None:
        """The customer's text in the agent's language, or None when no backend has the pair."""
        if not source or source == agent.language or self.pipeline is None:
            return None
        found = self.pipeline.remembered(text, source, agent.language)
        if found is None and self.pipeline.route(source, agent.language) is None:
            return None
        found = found or self.pipeline.translate(text, source, agent.language)
        if found.path == PATH_FALLBACK:
            return None
        return {"text": found.text, "route": found.path}

    # The queue -------------------------------------------------------------------------

    def queue(self, agent: Agent) -> list[dict[str, Any]]:
        """Open tickets for the queue page: language, channel, waiting time, reason, holder,
        and whether the agent's language pair has a translation backend."""
        now = queue.utc_now()
        rows = []
        for ticket in queue.open_tickets(self.queue_engine):
            row = self._ticket_dict(ticket, now)
            row["translated_for_you"] = self.can_translate(ticket.language, agent.language)
            rows.append(row)
        return rows

    @staticmethod
    def _ticket_dict(ticket: queue.Ticket, now: dt.datetime | None = None) -> dict[str, Any]:
        row = asdict(ticket)
        for key in ("created_at", "claimed_at", "finished_at"):
            row[key] = row[key].isoformat() + "Z" if row[key] else None
        row["waiting_seconds"] = ticket.waiting_seconds(now)
        return row

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        return self._ticket_dict(queue.get_ticket(self.queue_engine, ticket_id))

    def claim(self, ticket_id: int, agent: Agent) -> bool:
        """True when this agent now holds the ticket; the tracker records who took over."""
        ticket = queue.get_ticket(self.queue_engine, ticket_id)
        if not queue.claim(self.queue_engine, ticket_id, agent.id, agent.email):
            return False
        try:
            self.rasa.append_events(ticket.sender_id, [_slot("handoff_agent", agent.email)])
        except RasaUnavailable:
            queue.release(self.queue_engine, ticket_id, agent.id)  # the claim stands only if recorded
            raise
        return True

    def take_over(self, sender_id: str, agent: Agent) -> int:
        """The agent takes a conversation from the bot; returns the ticket the agent holds."""
        active = queue.active_ticket_for(self.queue_engine, sender_id)
        if active is None:
            turns = load_transcript(self.tracker_engine, sender_id)
            if turns is None:
                raise HandoffError(f"There is no conversation {sender_id!r}.")
            said = [t for t in turns if isinstance(t, CustomerTurn)]
            languages = [t.language for t in turns if getattr(t, "language", None)]
            ticket_id = queue.open_ticket(
                self.queue_engine,
                sender_id,
                languages[-1] if languages else None,
                AGENT_TAKEOVER,
                said[-1].text if said else None,
                channel=said[-1].channel if said else None,
            )
            self.rasa.append_events(sender_id, [_slot("handoff_ticket_id", str(ticket_id)), {"event": "pause"}])
        else:
            ticket_id = active.ticket_id
        if not self.claim(ticket_id, agent):
            holder = queue.get_ticket(self.queue_engine, ticket_id).agent_email
            raise HandoffError(f"{holder or 'Another agent'} already holds this conversation.")
        return ticket_id

    # The conversation ------------------------------------------------------------------

    def _held(self, ticket_id: int, agent: Agent) -> queue.Ticket:
        ticket = queue.get_ticket(self.queue_engine, ticket_id)
        if ticket.status != queue.CLAIMED or ticket.agent_id != agent.id:
            holder = f"held by {ticket.agent_email}" if ticket.status == queue.CLAIMED else ticket.status
            raise HandoffError(f"Ticket {ticket_id} is {holder}; claim it from the queue first.")
        return ticket

    def messages(self, ticket_id: int, agent: Agent, after: int = 0) -> list[dict[str, Any]]:
        """The conversation's messages after event `after`, each way, with translations for
        the agent (customer turns) and routes (bot and agent turns)."""
        ticket = queue.get_ticket(self.queue_engine, ticket_id)
        turns = load_transcript(self.tracker_engine, ticket.sender_id) or []
        shown = []
        for turn in turns:
            if turn.event_id <= after:
                continue
            if isinstance(turn, CustomerTurn):
                language = turn.language or ticket.language
                shown.append(
                    {
                        "event_id": turn.event_id,
                        "timestamp": turn.timestamp,
                        "kind": "customer",
                        "text": turn.text,
                        "language": language,
                        "for_agent": self._for_agent(turn.text, language, agent),
                    }
                )
            elif isinstance(turn, BotTurn):
                shown.append(
                    {
                        "event_id": turn.event_id,
                        "timestamp": turn.timestamp,
                        "kind": "agent" if turn.response == AGENT_MESSAGE else "bot",
                        "text": turn.text,
                        "language": turn.language,
                        "route": turn.route,
                        "source_text": turn.source_text,
                        "source_language": turn.source_language,
                        "for_agent": self._reply_for_agent(turn, agent),
                    }
                )
        return shown

    def _reply_for_agent(self, turn: BotTurn, agent: Agent) -> dict[str, Any] | None:
        """A bot (or agent) reply in the agent's language: its source text when that is in the
        agent's language, else the source text translated as customer text is (memory first);
        None when the customer received it in the agent's language or no backend has the pair."""
        source_language = turn.source_language or turn.language
        if not turn.language or turn.language == agent.language:
            return None
        if source_language == agent.language:
            return {"text": turn.source_text or turn.text, "route": SOURCE_TEXT}
        return self._for_agent(turn.source_text or turn.text, source_language, agent)

    def send(self, ticket_id: int, agent: Agent, text: str, untranslated_ok: bool = False) -> Delivered:
        """Sends the agent's text to the customer in the customer's language.

        Raises NeedsConfirmation when no backend translates the agent's language into the
        customer's and `untranslated_ok` is False.
        """
        text = (text or "").strip()
        if not text:
            raise HandoffError("Write a message first.")
        ticket = self._held(ticket_id, agent)
        if not untranslated_ok and not self.can_translate(agent.language, ticket.language):
            raise NeedsConfirmation(
                f"No translation from {agent.language} to {ticket.language} is set up: the customer will get "
                f"your text as you wrote it, with a short notice in {ticket.language}. Send anyway?"
            )
        self.rasa.append_events(
            ticket.sender_id,
            [
                _slot("handoff_agent", agent.email),
                _slot("handoff_agent_language", agent.language),
                _slot("handoff_agent_text", text),
            ],
        )
        answer = self.rasa.execute(ticket.sender_id, AGENT_MESSAGE)
        self.rasa.append_events(ticket.sender_id, [_slot("handoff_agent_text", None)])
        self._report_to_rest_callback(ticket, answer.get("messages"))
        # Rasa's execute answer carries the tracker as it was before the action: read the stored one.
        sent = [
            t
            for t in load_transcript(self.tracker_engine, ticket.sender_id) or []
            if isinstance(t, BotTurn) and t.response == AGENT_MESSAGE
        ]
        if not sent:
            raise HandoffError("Rasa ran the agent message but recorded no reply; see the Rasa server's log.")
        last = sent[-1]
        return Delivered(last.text, last.language, last.route, last.source_text or text, last.source_language)

    def _report_to_rest_callback(self, ticket: queue.Ticket, messages: list[dict[str, Any]] | None) -> None:
        """REST customers have no open connection: their messages go to the callback URL."""
        if ticket.channel not in REST_CHANNELS or not messages:
            return
        if not self.settings.rest_callback_url:
            logger.warning(
                "An agent replied to a REST conversation but BRIDGE_HANDOFF_REST_CALLBACK_URL is not set: "
                "the reply is stored in the tracker only."
            )
            return
        body = {"recipient_id": ticket.sender_id, "messages": messages}
        answer = requests.post(self.settings.rest_callback_url, json=body, timeout=30)
        if answer.status_code >= 400:
            raise HandoffError(
                f"The message is stored, but the REST callback {self.settings.rest_callback_url} answered "
                f"HTTP {answer.status_code}; the customer has not been told."
            )

    def hand_back(self, ticket_id: int, agent: Agent, close: bool = False) -> None:
        """Ends the agent's turn: the bot answers again, in the customer's language."""
        ticket = self._held(ticket_id, agent)
        if not queue.finish(self.queue_engine, ticket_id, queue.CLOSED if close else queue.RETURNED, agent.id):
            raise HandoffError(f"Ticket {ticket_id} changed meanwhile; reload the queue.")
        self._resume(ticket.sender_id, RETURNED_MESSAGE)

    def _resume(self, sender_id: str, message: str) -> None:
        self.rasa.append_events(sender_id, [{"event": "resume"}])
        self.rasa.execute(sender_id, message)
        # The customer's next turn follows a listen, as it does after any bot turn.
        self.rasa.append_events(sender_id, [LISTEN])

    def expire_unclaimed(self, now: dt.datetime | None = None) -> list[int]:
        """Tells customers nobody claimed in time that nobody is free, and lets the bot resume.
        Safe to run in every console process: finishing is conditional, one process wins."""
        if not self.settings.claim_minutes:
            return []
        cutoff = (now or queue.utc_now()) - dt.timedelta(minutes=self.settings.claim_minutes)
        expired = []
        for ticket in queue.unclaimed_since(self.queue_engine, cutoff):
            if queue.finish(self.queue_engine, ticket.ticket_id, queue.UNAVAILABLE):
                self._resume(ticket.sender_id, UNAVAILABLE_MESSAGE)
                expired.append(ticket.ticket_id)
        return expired
