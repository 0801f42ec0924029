"""Login requirement, roles and CSRF protection for the console's pages and API.

The session (a cookie signed by Starlette's SessionMiddleware) holds the agent's id and a
random CSRF token. Every state-changing request must echo the token, in the `csrf_token`
form field or the `X-CSRF-Token` header; a cross-site page cannot read it, so it cannot
forge such a request. Pages without a session redirect to /login; the API answers 401 JSON.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from bot.review.accounts import Agent, agent_by_id

CSRF_SESSION_KEY = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

Endpoint = Callable[[Request], Awaitable[Response]]


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


async def csrf_is_valid(request: Request) -> bool:
    """Whether a state-changing request carries this session's CSRF token."""
    expected = request.session.get(CSRF_SESSION_KEY)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(CSRF_FIELD)
    return bool(expected) and isinstance(sent, str) and hmac.compare_digest(sent, expected)


def current_agent(request: Request) -> Agent | None:
    agent_id = request.session.get("agent_id")
    return agent_by_id(request.app.state.console_engine, agent_id) if isinstance(agent_id, int) else None


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def requires_login(role: str | None = None) -> Callable[[Endpoint], Endpoint]:
    """Wraps an endpoint: login needed, `role` (if given) needed, CSRF token on unsafe methods."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            agent = current_agent(request)
            if agent is None:
                if _is_api(request):
                    return JSONResponse({"error": "Log in first: POST /login, then send the session cookie."}, 401)
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            if role is not None and agent.role != role:
                return _refuse(request, 403, f"This needs the {role} role; ask an admin.")
            if request.method not in SAFE_METHODS and not await csrf_is_valid(request):
                return _refuse(request, 403, "Missing or wrong CSRF token: reload the page and try again.")
            request.state.agent = agent
            return await endpoint(request)

        return guarded

    return decorate


def _refuse(request: Request, status: int, message: str) -> Response:
    if _is_api(request):
        return JSONResponse({"error": message}, status)
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html", {"message": message}, status_code=status)
