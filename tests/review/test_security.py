"""Every permission boundary of the console: no login, wrong role, CSRF, escaping, redirects."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.helpers.sample_conversations import SCRIPT_TEXT
from tests.review.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, AGENT_EMAIL, form_csrf_token, log_in

PAGES = ["/", "/conversations/kb-en", "/agents", "/dashboard"]
APIS = [
    ("GET", "/api/me"),
    ("GET", "/api/conversations"),
    ("GET", "/api/conversations/kb-en"),
    ("GET", "/api/agents"),
    ("POST", "/api/agents"),
    ("GET", "/api/dashboard"),
    ("POST", "/api/translations"),
    ("DELETE", "/api/translations/1"),
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_a_visitor_to_the_login_page(client: TestClient, path: str):
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


@pytest.mark.parametrize("method,path", APIS)
def test_the_api_answers_401_without_login(client: TestClient, method: str, path: str):
    response = client.request(method, path, json={})
    assert response.status_code == 401
    assert "Log in" in response.json()["error"]


def test_a_wrong_password_does_not_log_in(client: TestClient):
    response = log_in(client, AGENT_EMAIL, "not-the-password")
    assert response.status_code == 401
    assert "Wrong email or password" in response.text
    assert client.get("/api/me").status_code == 401


def test_login_without_the_forms_csrf_token_is_refused(client: TestClient):
    client.get("/login")
    response = client.post("/login", data={"email": AGENT_EMAIL, "password": "agent-password-1"})
    assert response.status_code == 403
    assert client.get("/api/me").status_code == 401


def test_an_agent_logs_in_and_lands_where_they_were_going(client: TestClient):
    response = log_in(client, AGENT_EMAIL, "agent-password-1", next_path="/conversations/mt-pt")
    assert response.status_code == 303 and response.headers["location"] == "/conversations/mt-pt"
    me = client.get("/api/me").json()
    assert (me["email"], me["role"], me["language"]) == (AGENT_EMAIL, "agent", "en")


@pytest.mark.parametrize("target", ["//evil.example/steal", "/\\evil.example", "https://evil.example/"])
def test_login_never_redirects_to_another_site(client: TestClient, target: str):
    response = log_in(client, AGENT_EMAIL, "agent-password-1", next_path=target)
    assert response.headers["location"] == "/"


def test_the_session_changes_at_login(client: TestClient):
    before = form_csrf_token(client)
    log_in(client, AGENT_EMAIL, "agent-password-1")
    assert form_csrf_token(client, "/") != before


@pytest.mark.parametrize("method,path", [("GET", "/agents"), ("GET", "/api/agents"), ("POST", "/api/agents")])
def test_an_agent_cannot_manage_agents(agent_client: TestClient, method: str, path: str):
    token = form_csrf_token(agent_client, "/")
    response = agent_client.request(method, path, json={"email": "x@example.com"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 403
    assert "admin role" in response.text


def test_creating_an_agent_needs_the_csrf_token(admin_client: TestClient):
    new = {"email": "new@example.com", "password": "new-password-1", "role": "agent", "language": "pt"}
    assert admin_client.post("/api/agents", json=new).status_code == 403
    assert admin_client.post("/api/agents", json=new, headers={"X-CSRF-Token": "forged"}).status_code == 403
    token = form_csrf_token(admin_client, "/")
    created = admin_client.post("/api/agents", json=new, headers={"X-CSRF-Token": token})
    assert created.status_code == 201 and created.json()["language"] == "pt"
    emails = [a["email"] for a in admin_client.get("/api/agents").json()["agents"]]
    assert "new@example.com" in emails


def test_the_agents_form_needs_the_csrf_token(admin_client: TestClient):
    form = {"email": "form@example.com", "password": "form-password-1", "role": "agent", "language": "en"}
    assert admin_client.post("/agents", data=form).status_code == 403
    assert admin_client.post("/agents", data={**form, "csrf_token": "forged"}).status_code == 403
    token = form_csrf_token(admin_client, "/agents")
    assert admin_client.post("/agents", data={**form, "csrf_token": token}).status_code == 303
    assert "form@example.com" in admin_client.get("/agents").text


def test_a_bad_new_agent_gets_an_error_naming_the_fix(admin_client: TestClient):
    token = form_csrf_token(admin_client, "/")
    bad = {"email": "bad@example.com", "password": "short", "role": "agent"}
    response = admin_client.post("/api/agents", json=bad, headers={"X-CSRF-Token": token})
    assert response.status_code == 400 and "at least 10 characters" in response.json()["error"]


def test_logout_needs_the_csrf_token_and_ends_the_session(agent_client: TestClient):
    assert agent_client.post("/logout").status_code == 403
    assert agent_client.get("/api/me").status_code == 200
    token = form_csrf_token(agent_client, "/")
    assert agent_client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert agent_client.get("/api/me").status_code == 401


def test_a_script_from_a_customer_is_shown_as_text(agent_client: TestClient):
    for path in ("/conversations/script-en", "/?channel=rest"):
        page = agent_client.get(path).text
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page
    assert "<b>Which order?</b>" not in agent_client.get("/conversations/script-en").text
    turns = agent_client.get("/api/conversations/script-en").json()["turns"]
    assert turns[0]["text"] == SCRIPT_TEXT


def test_a_visitor_cannot_post_a_translation_form(client: TestClient):
    response = client.post("/conversations/mt-pt/translations", data={"event_id": "1", "text": "Olá"})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_translation_corrections_need_the_csrf_token(agent_client: TestClient):
    body = {"sender_id": "mt-pt", "event_id": 1, "text": "Qual é o número do seu pedido?"}
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        response = agent_client.post("/api/translations", json=body, headers=headers)
        assert response.status_code == 403 and "CSRF" in response.json()["error"]
    for data in ({"event_id": "1", "text": "Olá"}, {"event_id": "1", "text": "Olá", "csrf_token": "forged"}):
        assert agent_client.post("/conversations/mt-pt/translations", data=data).status_code == 403


def test_only_an_admin_withdraws_a_translation_correction(translating_client: TestClient, console_translations):
    client = translating_client
    entry = console_translations.memory.add_translation("Thanks for waiting.", "Obrigado pela espera.", "en", "pt")
    log_in(client, AGENT_EMAIL, "agent-password-1")
    token = form_csrf_token(client, "/")
    response = client.delete(f"/api/translations/{entry.id}", headers={"X-CSRF-Token": token})
    assert response.status_code == 403 and "admin role" in response.json()["error"]
    client.post("/logout", data={"csrf_token": token})
    log_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    token = form_csrf_token(client, "/")
    assert client.delete(f"/api/translations/{entry.id}").status_code == 403  # no CSRF token
    assert client.delete(f"/api/translations/{entry.id}", headers={"X-CSRF-Token": token}).status_code == 200
    assert client.delete(f"/api/translations/{entry.id}", headers={"X-CSRF-Token": token}).status_code == 404
    assert console_translations.memory.entries(source_language="en", target_language="pt", kind="human") == []


def test_the_dashboard_never_puts_numbers_into_its_page_as_script(agent_client: TestClient):
    page = agent_client.get("/dashboard?language=%3Cscript%3Ex%3C/script%3E").text
    assert "<script>x" not in page
    assert 'data-api="/api/dashboard?language=%3Cscript%3Ex%3C%2Fscript%3E"' in page
