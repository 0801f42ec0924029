"""The console's hand-off pages and API: the queue, the agent's live conversation view.

Routes (all need a logged-in agent; POSTs the CSRF token in the X-CSRF-Token header):

    GET  /handoffs                          the queue page (refreshes itself)
    GET  /handoffs/{id}                     the agent's conversation view (new messages appear live)
    GET  /api/handoffs                      open tickets: language, channel, waiting time, reason
    POST /api/handoffs/take-over            {"sender_id"}: the agent takes a conversation from the bot
    POST /api/handoffs/{id}/claim           201 when this agent now holds it, 409 when another does
    GET  /api/handoffs/{id}/messages?after= messages after an event id, customer turns translated
    POST /api/handoffs/{id}/messages        {"text", "send_untranslated"}: 201 with what the customer
                                            got; 409 {"confirm"} when no backend has the pair
    POST /api/handoffs/{id}/hand-back       {"close": false}: the bot answers again

The page polls the messages endpoint, so every console process serves it from the tracker
store alone. `install_handoff(app, tracker_engine)` adds them to the console (bot/review/app.py),
with the relay and a background task that tells customers nobody claimed in time that nobody is
free (bot/handoff/settings.py has the settings).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import asdict
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.handoff import queue
from bot.handoff.rasa_api import RasaConversations, RasaUnavailable
from bot.handoff.relay import HandoffError, HandoffRelay, NeedsConfirmation
from bot.handoff.settings import HandoffSettings
from bot.review.security import requires_login

logger = logging.getLogger(__name__)

EXPIRY_CHECK_SECONDS = 15
STATIC_DIR = Path(__file__).with_name("static")


def install_handoff(app: Starlette, tracker_engine, endpoints: Path = Path("endpoints.yml")) -> None:
    """Adds the hand-off's routes, its script and its expiry task to the console app."""
    relay = start_handoff(app, HandoffSettings.from_environment(), tracker_engine, endpoints)
    app.router.routes.extend([*handoff_routes(), Mount("/handoff-static", StaticFiles(directory=STATIC_DIR))])

    served = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(scope_app):
        async with served(scope_app) as state:
            expiry = asyncio.get_running_loop().create_task(expire_unclaimed_forever(relay))
            try:
                yield state
            finally:
                expiry.cancel()

    app.router.lifespan_context = lifespan


def start_handoff(
    app: Starlette, settings: HandoffSettings, tracker_engine, endpoints: Path = Path("endpoints.yml")
) -> HandoffRelay:
    """Builds the relay (queue engine, Rasa client, the bot's translation pipeline) on `app`."""
    from bot.translation.project_settings import read_project_languages

    translation = read_project_languages(endpoints_file=endpoints).translation
    relay = HandoffRelay(
        settings,
        queue.queue_engine(settings.db_url),
        tracker_engine,
        RasaConversations(settings.rasa_urls, settings.rasa_token),
        translation or None,
    )
    app.state.handoff = relay
    return relay


async def expire_unclaimed_forever(relay: HandoffRelay) -> None:
    """Every few seconds, releases tickets nobody claimed in time (runs beside the console)."""
    while True:
        try:
            expired = await run_in_threadpool(relay.expire_unclaimed)
            if expired:
                logger.info(f"Hand-off tickets {expired} were not claimed in time; the bot resumed.")
        except (RasaUnavailable, HandoffError) as error:
            logger.warning(f"Could not release unclaimed hand-offs yet: {error}")
        await asyncio.sleep(EXPIRY_CHECK_SECONDS)


def handoff_routes() -> list[Route]:
    """The hand-off's routes, for the console's route list."""
    return [
        Route("/handoffs", queue_page, methods=["GET"]),
        Route("/handoffs/{ticket_id:int}", conversation_page, methods=["GET"]),
        Route("/api/handoffs", api_queue, methods=["GET"]),
        Route("/api/handoffs/take-over", api_take_over, methods=["POST"]),
        Route("/api/handoffs/{ticket_id:int}/claim", api_claim, methods=["POST"]),
        Route("/api/handoffs/{ticket_id:int}/messages", api_messages, methods=["GET"]),
        Route("/api/handoffs/{ticket_id:int}/messages", api_send, methods=["POST"]),
        Route("/api/handoffs/{ticket_id:int}/hand-back", api_hand_back, methods=["POST"]),
    ]


def _relay(request: Request) -> HandoffRelay:
    return request.app.state.handoff


def _render(request: Request, name: str, context: dict) -> Response:
    context.setdefault("agent", request.state.agent)
    return request.app.state.templates.TemplateResponse(request, name, context)


async def _with_body(request: Request, call) -> Response:
    """Runs `call(body)` guarded, once the request's body is a JSON object (else 400)."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JSONResponse({"error": "Send a JSON object."}, 400)
    return await _guarded(call, body)


async def _guarded(call, *args) -> Response:
    """Runs a relay call in the thread pool; its errors become clear JSON answers."""
    try:
        return await run_in_threadpool(call, *args)
    except NeedsConfirmation as error:
        return JSONResponse({"confirm": str(error)}, 409)
    except queue.TicketError as error:
        return JSONResponse({"error": str(error)}, 404)
    except HandoffError as error:
        return JSONResponse({"error": str(error)}, 409)
    except RasaUnavailable as error:
        return JSONResponse({"error": f"{error} Nothing was sent; try again."}, 503)


@requires_login()
async def queue_page(request: Request) -> Response:
    return _render(request, "handoff_queue.html", {})


@requires_login()
async def conversation_page(request: Request) -> Response:
    ticket_id = request.path_params["ticket_id"]
    try:
        ticket = await run_in_threadpool(_relay(request).ticket, ticket_id)
    except queue.TicketError as error:
        return request.app.state.templates.TemplateResponse(
            request, "error.html", {"message": str(error), "agent": request.state.agent}, status_code=404
        )
    return _render(request, "handoff_conversation.html", {"ticket": ticket})


@requires_login()
async def api_queue(request: Request) -> Response:
    rows = await run_in_threadpool(_relay(request).queue, request.state.agent)
    return JSONResponse({"tickets": rows})


@requires_login()
async def api_take_over(request: Request) -> Response:
    relay, agent = _relay(request), request.state.agent

    def take_over(body: dict) -> Response:
        sender_id = str(body.get("sender_id") or "")
        if not sender_id:
            raise HandoffError('Send {"sender_id": "<conversation id>"}.')
        return JSONResponse({"ticket_id": relay.take_over(sender_id, agent)}, 201)

    return await _with_body(request, take_over)


@requires_login()
async def api_claim(request: Request) -> Response:
    relay, agent, ticket_id = _relay(request), request.state.agent, request.path_params["ticket_id"]

    def claim() -> Response:
        if relay.claim(ticket_id, agent):
            return JSONResponse({"ticket_id": ticket_id, "agent": agent.email}, 201)
        holder = queue.get_ticket(relay.queue_engine, ticket_id)
        return JSONResponse(
            {"error": f"Ticket {ticket_id} is {holder.status} ({holder.agent_email or 'nobody'})."}, 409
        )

    return await _guarded(claim)


@requires_login()
async def api_messages(request: Request) -> Response:
    relay, agent, ticket_id = _relay(request), request.state.agent, request.path_params["ticket_id"]
    try:
        after = int(request.query_params.get("after") or 0)
    except ValueError:
        return JSONResponse({"error": "'after' must be an event id (a whole number)."}, 400)

    def read() -> Response:
        ticket = relay.ticket(ticket_id)
        return JSONResponse(
            {
                "ticket": ticket,
                "agent_language": agent.language,
                "translated_for_customer": relay.can_translate(agent.language, ticket["language"]),
                "messages": relay.messages(ticket_id, agent, after),
            }
        )

    return await _guarded(read)


@requires_login()
async def api_send(request: Request) -> Response:
    relay, agent, ticket_id = _relay(request), request.state.agent, request.path_params["ticket_id"]

    def send(body: dict) -> Response:
        delivered = relay.send(ticket_id, agent, str(body.get("text") or ""), bool(body.get("send_untranslated")))
        return JSONResponse(asdict(delivered), 201)

    return await _with_body(request, send)


@requires_login()
async def api_hand_back(request: Request) -> Response:
    relay, agent, ticket_id = _relay(request), request.state.agent, request.path_params["ticket_id"]

    def hand_back(body: dict) -> Response:
        relay.hand_back(ticket_id, agent, close=bool(body.get("close")))
        return JSONResponse({"ticket_id": ticket_id, "status": "closed" if body.get("close") else "returned"})

    return await _with_body(request, hand_back)
