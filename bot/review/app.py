"""The console's Starlette application: routes for login, conversations, corrections, the
dashboard and agents.

Pages are Jinja2 templates with autoescaping, so customer text is always rendered as text;
the same data is served as JSON under /api/. Build the app with `create_app(settings)`;
`bridge console` serves it with uvicorn.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.review import accounts, corrections
from bot.review.conversation_list import (
    ConversationFilters,
    FilterError,
    filter_choices,
    list_conversations,
    page_size,
)
from bot.review.dashboard import dashboard
from bot.review.database import create_console_tables, create_engine
from bot.review.handoff import install_handoff
from bot.review.security import csrf_is_valid, csrf_token, current_agent, requires_login
from bot.review.settings import ConsoleSettings
from bot.review.summaries import refresh_summaries
from bot.review.transcript import load_transcript
from bot.review.translations import ConsoleTranslations, TranslationCorrectionError, is_correctable

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")
# Copied from npm by scripts/setup_web.sh (`make web`), never loaded from a CDN.
CHART_JS = STATIC_DIR / "vendor" / "chart.umd.min.js"
SESSION_COOKIE = "bridge_console"
SESSION_MAX_AGE = 12 * 60 * 60


def create_app(
    settings: ConsoleSettings,
    tracker_engine: Engine | None = None,
    console_engine: Engine | None = None,
    translations: ConsoleTranslations | None = None,
) -> Starlette:
    """The console application; creates its own tables and the first admin if they are missing.

    Example:
        app = create_app(ConsoleSettings.from_environment())
    """
    tracker = tracker_engine or create_engine(settings.tracker_url)
    console = console_engine or (tracker if settings.database_url == settings.tracker_url else None)
    console = console or create_engine(settings.database_url)
    create_console_tables(console)
    accounts.ensure_first_admin(console, settings.admin_email, settings.admin_password)

    environment = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(default=True))
    templates = Jinja2Templates(env=environment)
    templates.env.globals["csrf_token"] = csrf_token
    templates.env.filters["utc"] = _utc
    app = Starlette(
        routes=[
            Route("/login", login_page, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/", conversations_page, methods=["GET"]),
            Route("/conversations/{sender_id:path}/corrections", correct_turn_form, methods=["POST"]),
            Route("/conversations/{sender_id:path}/translations", correct_translation_form, methods=["POST"]),
            Route("/conversations/{sender_id:path}", conversation_page, methods=["GET"]),
            Route("/corrections", corrections_page, methods=["GET"]),
            Route("/dashboard", dashboard_page, methods=["GET"]),
            Route("/agents", agents_page, methods=["GET"]),
            Route("/agents", add_agent_form, methods=["POST"]),
            Route("/api/me", api_me, methods=["GET"]),
            Route("/api/conversations", api_conversations, methods=["GET"]),
            Route("/api/conversations/{sender_id:path}", api_conversation, methods=["GET"]),
            Route("/api/corrections", api_corrections, methods=["GET"]),
            Route("/api/corrections", api_correct_turn, methods=["POST"]),
            Route("/api/translations", api_correct_translation, methods=["POST"]),
            Route("/api/translations/{entry_id:int}", api_withdraw_translation, methods=["DELETE"]),
            Route("/api/dashboard", api_dashboard, methods=["GET"]),
            Route("/api/agents", api_agents, methods=["GET"]),
            Route("/api/agents", api_add_agent, methods=["POST"]),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_MAX_AGE,
                same_site="lax",
                https_only=settings.https_only,
            )
        ],
    )
    app.state.settings = settings
    app.state.tracker_engine = tracker
    app.state.console_engine = console
    app.state.templates = templates
    app.state.refresh_lock = threading.Lock()
    app.state.translations = translations or ConsoleTranslations(settings.translation)
    install_handoff(app, tracker)
    return app


def _utc(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    context.setdefault("agent", getattr(request.state, "agent", None))
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status_code)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(target: str | None) -> str:
    # Only paths on this site: "//evil.example" or "https://..." would send the agent elsewhere.
    # Browsers read a backslash as a slash, so "/\\evil.example" is refused too.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def login_page(request: Request) -> Response:
    if current_agent(request) is not None:
        return RedirectResponse("/", status_code=303)
    return _render(request, "login.html", {"next": _safe_next(request.query_params.get("next")), "error": None})


async def login(request: Request) -> Response:
    form = await request.form()
    target = _safe_next(str(form.get("next") or "/"))
    if not await csrf_is_valid(request):
        context = {"next": target, "error": "The form expired; log in again."}
        return _render(request, "login.html", context, status_code=403)
    engine = request.app.state.console_engine
    email, password = str(form.get("email") or ""), str(form.get("password") or "")
    try:
        agent = await run_in_threadpool(accounts.authenticate, engine, email, password, _client(request))
    except accounts.LoginThrottled as throttled:
        response = _render(request, "login.html", {"next": target, "error": str(throttled)}, status_code=429)
        response.headers["Retry-After"] = str(throttled.retry_after)
        return response
    if agent is None:
        return _render(request, "login.html", {"next": target, "error": "Wrong email or password."}, status_code=401)
    # A fresh session (and CSRF token) at login, so a session id planted before login is worthless.
    request.session.clear()
    request.session["agent_id"] = agent.id
    csrf_token(request)
    return RedirectResponse(target, status_code=303)


@requires_login()
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _refresh(state: Any) -> None:
    """Brings the summary rows up to date with the tracker store (one refresh at a time)."""
    with state.refresh_lock:
        refresh_summaries(state.tracker_engine, state.console_engine, state.settings.handoff_actions)


async def _conversation_page_data(request: Request) -> dict[str, Any]:
    state = request.app.state
    settings: ConsoleSettings = state.settings

    def read() -> dict[str, Any]:
        _refresh(state)
        params = request.query_params
        filters = ConversationFilters.from_query(dict(params))
        page = list_conversations(
            state.console_engine,
            filters,
            settings.low_confidence,
            after=params.get("after") or None,
            limit=page_size(params.get("limit")),
        )
        return {"filters": filters, "page": page}

    return await run_in_threadpool(read)


@requires_login()
async def conversations_page(request: Request) -> Response:
    try:
        data = await _conversation_page_data(request)
    except FilterError as error:
        return _render(request, "error.html", {"message": str(error)}, status_code=400)
    data["choices"] = await run_in_threadpool(filter_choices, request.app.state.console_engine)
    return _render(request, "conversations.html", data)


@requires_login()
async def api_conversations(request: Request) -> Response:
    try:
        data = await _conversation_page_data(request)
    except FilterError as error:
        return JSONResponse({"error": str(error)}, 400)
    page = data["page"]
    return JSONResponse({"conversations": page.rows, "next": page.next_cursor})


async def _transcript(request: Request):
    return await run_in_threadpool(load_transcript, request.app.state.tracker_engine, request.path_params["sender_id"])


def _translated_turns(request: Request, turns: list[Any]) -> dict[str, dict[int, Any]]:
    """For each customer turn its text in the agent's language; for each bot reply whether it
    can be corrected and the agents' correction the next customer gets."""
    translations: ConsoleTranslations = request.app.state.translations
    language = request.state.agent.language
    found: dict[str, dict[int, Any]] = {"agent_text": {}, "correctable": {}, "corrected": {}}
    for turn in turns:
        if turn.kind == "customer":
            found["agent_text"][turn.event_id] = translations.for_agent(
                turn.text, turn.language or turn.language_detected, language
            )
        elif turn.kind == "bot":
            found["correctable"][turn.event_id] = is_correctable(turn)
            found["corrected"][turn.event_id] = translations.correction_of(turn)
    return found


async def _conversation_view(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    turns = await _transcript(request)
    if turns is None:
        return _render(request, "error.html", {"message": "No conversation with this id."}, status_code=404)
    sender_id = request.path_params["sender_id"]
    engine = request.app.state.console_engine
    made = await run_in_threadpool(corrections.list_corrections, engine, False, sender_id)
    context = {
        "sender_id": sender_id,
        "turns": turns,
        "corrections": {(c.event_id, c.kind): c for c in made},
        "intents": (await run_in_threadpool(filter_choices, engine))["intent"],
        "error": error,
        **(await run_in_threadpool(_translated_turns, request, turns)),
    }
    return _render(request, "conversation.html", context, status_code=status_code)


@requires_login()
async def conversation_page(request: Request) -> Response:
    return await _conversation_view(request)


def _store_correction(request: Request, sender_id: str, event_id: Any, kind: Any, right: Any):
    try:
        event = int(event_id)
    except (TypeError, ValueError):
        raise corrections.CorrectionError(f"'event_id' must be the id of a customer turn, not {event_id!r}.") from None
    state = request.app.state
    return corrections.correct_turn(
        state.tracker_engine,
        state.console_engine,
        sender_id,
        event,
        str(kind or ""),
        None if right is None else str(right),
        request.state.agent.id,
    )


async def _json_object(request: Request) -> dict[str, Any] | None:
    """The request's JSON body if it is an object, else None (the caller says what to send)."""
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _back_to_turn(sender_id: str, event_id: Any) -> Response:
    # Sender ids come from channels and may hold any character: quote it for the Location header.
    return RedirectResponse(f"/conversations/{quote(sender_id)}#event-{quote(str(event_id))}", 303)


@requires_login()
async def correct_turn_form(request: Request) -> Response:
    form = await request.form()
    sender_id = request.path_params["sender_id"]
    try:
        await run_in_threadpool(
            _store_correction, request, sender_id, form.get("event_id"), form.get("kind"), form.get("right_value")
        )
    except corrections.CorrectionError as error:
        return await _conversation_view(request, error=str(error), status_code=400)
    return _back_to_turn(sender_id, form.get("event_id"))


@requires_login()
async def api_correct_turn(request: Request) -> Response:
    body = await _json_object(request)
    if body is None:
        return JSONResponse({"error": "Send a JSON object: {sender_id, event_id, kind, right_value}."}, 400)
    try:
        made = await run_in_threadpool(
            _store_correction,
            request,
            str(body.get("sender_id") or ""),
            body.get("event_id"),
            body.get("kind"),
            body.get("right_value"),
        )
    except corrections.CorrectionError as error:
        return JSONResponse({"error": str(error)}, 400)
    return JSONResponse(asdict(made), 201)


@requires_login()
async def api_corrections(request: Request) -> Response:
    pending = await run_in_threadpool(corrections.list_corrections, request.app.state.console_engine)
    return JSONResponse({"pending": [asdict(c) for c in pending]})


@requires_login()
async def corrections_page(request: Request) -> Response:
    pending = await run_in_threadpool(corrections.list_corrections, request.app.state.console_engine)
    return _render(request, "corrections.html", {"pending": pending})


@requires_login()
async def api_conversation(request: Request) -> Response:
    turns = await _transcript(request)
    if turns is None:
        return JSONResponse({"error": "No conversation with this id."}, 404)
    extra = await run_in_threadpool(_translated_turns, request, turns)
    listed = []
    for turn in turns:
        item = asdict(turn)
        if turn.kind == "customer":
            agent_text = extra["agent_text"][turn.event_id]
            item["agent_translation"] = asdict(agent_text) if agent_text else None
        elif turn.kind == "bot":
            corrected = extra["corrected"][turn.event_id]
            item["correctable"] = extra["correctable"][turn.event_id]
            item["corrected"] = asdict(corrected) if corrected else None
        listed.append(item)
    return JSONResponse({"sender_id": request.path_params["sender_id"], "turns": listed})


def _store_translation(request: Request, sender_id: str, event_id: Any, text: Any):
    try:
        event = int(event_id)
    except (TypeError, ValueError):
        raise TranslationCorrectionError(f"'event_id' must be the id of a bot reply, not {event_id!r}.") from None
    if not isinstance(text, str):
        raise TranslationCorrectionError("'text' must be the corrected translation, as a string.")
    state = request.app.state
    return state.translations.correct_reply(state.tracker_engine, sender_id, event, text, request.state.agent.email)


@requires_login()
async def correct_translation_form(request: Request) -> Response:
    form = await request.form()
    sender_id = request.path_params["sender_id"]
    try:
        await run_in_threadpool(_store_translation, request, sender_id, form.get("event_id"), form.get("text"))
    except TranslationCorrectionError as error:
        return await _conversation_view(request, error=str(error), status_code=400)
    return _back_to_turn(sender_id, form.get("event_id"))


@requires_login()
async def api_correct_translation(request: Request) -> Response:
    body = await _json_object(request)
    if body is None:
        return JSONResponse({"error": "Send a JSON object: {sender_id, event_id, text}."}, 400)
    try:
        entry = await run_in_threadpool(
            _store_translation, request, str(body.get("sender_id") or ""), body.get("event_id"), body.get("text")
        )
    except TranslationCorrectionError as error:
        return JSONResponse({"error": str(error)}, 400)
    return JSONResponse({"entry": {**asdict(entry), "updated_at": entry.updated_at.isoformat()}}, 201)


@requires_login(role="admin")
async def api_withdraw_translation(request: Request) -> Response:
    entry_id = request.path_params["entry_id"]
    if not await run_in_threadpool(request.app.state.translations.withdraw, entry_id):
        return JSONResponse({"error": f"No translation memory entry {entry_id}."}, 404)
    return JSONResponse({"deleted": entry_id})


async def _dashboard_data(request: Request) -> dict[str, Any]:
    state = request.app.state

    def read() -> dict[str, Any]:
        _refresh(state)
        filters = ConversationFilters.from_query(dict(request.query_params))
        return {"filters": filters, "numbers": dashboard(state.console_engine, filters, state.settings.low_confidence)}

    return await run_in_threadpool(read)


@requires_login()
async def api_dashboard(request: Request) -> Response:
    try:
        data = await _dashboard_data(request)
    except FilterError as error:
        return JSONResponse({"error": str(error)}, 400)
    return JSONResponse({"filters": data["filters"].as_query(), **data["numbers"]})


@requires_login()
async def dashboard_page(request: Request) -> Response:
    try:
        data = await _dashboard_data(request)
    except FilterError as error:
        return _render(request, "error.html", {"message": str(error)}, status_code=400)
    data["choices"] = await run_in_threadpool(filter_choices, request.app.state.console_engine)
    data["chart_js_missing"] = not CHART_JS.is_file()
    return _render(request, "dashboard.html", data)


@requires_login()
async def api_me(request: Request) -> Response:
    return JSONResponse(asdict(request.state.agent))


@requires_login(role="admin")
async def agents_page(request: Request) -> Response:
    listed = await run_in_threadpool(accounts.list_agents, request.app.state.console_engine)
    return _render(request, "agents.html", {"agents": listed, "error": None, "roles": accounts.ROLES})


@requires_login(role="admin")
async def add_agent_form(request: Request) -> Response:
    form = await request.form()
    engine = request.app.state.console_engine
    try:
        await run_in_threadpool(
            accounts.create_agent,
            engine,
            str(form.get("email") or ""),
            str(form.get("password") or ""),
            str(form.get("role") or "agent"),
            str(form.get("language") or "en"),
        )
    except accounts.AccountError as error:
        listed = await run_in_threadpool(accounts.list_agents, engine)
        context = {"agents": listed, "error": str(error), "roles": accounts.ROLES}
        return _render(request, "agents.html", context, status_code=400)
    return RedirectResponse("/agents", status_code=303)


@requires_login(role="admin")
async def api_agents(request: Request) -> Response:
    listed = await run_in_threadpool(accounts.list_agents, request.app.state.console_engine)
    return JSONResponse({"agents": [asdict(a) for a in listed]})


@requires_login(role="admin")
async def api_add_agent(request: Request) -> Response:
    body = await _json_object(request)
    if body is None:
        return JSONResponse({"error": "Send a JSON object: {email, password, role, language}."}, 400)
    try:
        agent = await run_in_threadpool(
            accounts.create_agent,
            request.app.state.console_engine,
            str(body.get("email") or ""),
            str(body.get("password") or ""),
            str(body.get("role") or "agent"),
            str(body.get("language") or "en"),
        )
    except accounts.AccountError as error:
        return JSONResponse({"error": str(error)}, 400)
    return JSONResponse(asdict(agent), 201)
