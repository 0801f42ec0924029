"""Agents correct intents and knowledge-base answers; `bridge export corrections` writes training data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from starlette.testclient import TestClient

from bot.cli.main import main
from tests.review.conftest import form_csrf_token


def customer_event_id(client: TestClient, sender_id: str) -> int:
    turns = client.get(f"/api/conversations/{sender_id}").json()["turns"]
    return next(t["event_id"] for t in turns if t["kind"] == "customer")


def bot_event_id(client: TestClient, sender_id: str) -> int:
    turns = client.get(f"/api/conversations/{sender_id}").json()["turns"]
    return next(t["event_id"] for t in turns if t["kind"] == "bot")


def test_an_agent_corrects_an_intent_from_the_conversation_page(agent_client: TestClient):
    event_id = customer_event_id(agent_client, "mt-pt")
    form = {"event_id": str(event_id), "kind": "intent", "right_value": "talk_to_human"}
    assert agent_client.post("/conversations/mt-pt/corrections", data=form).status_code == 403
    token = form_csrf_token(agent_client, "/conversations/mt-pt")
    saved = agent_client.post("/conversations/mt-pt/corrections", data={**form, "csrf_token": token})
    assert saved.status_code == 303 and saved.headers["location"] == f"/conversations/mt-pt#event-{event_id}"
    assert "intent corrected to <strong>talk_to_human</strong>" in agent_client.get("/conversations/mt-pt").text
    pending = agent_client.get("/api/corrections").json()["pending"]
    assert [(c["kind"], c["wrong_value"], c["right_value"], c["language"]) for c in pending] == [
        ("intent", "order_status", "talk_to_human", "pt")
    ]
    assert "Onde está a minha encomenda?" in agent_client.get("/corrections").text


def test_correcting_again_replaces_the_earlier_correction(agent_client: TestClient):
    token = form_csrf_token(agent_client, "/")
    event_id = customer_event_id(agent_client, "fallback-en")
    for right in ("greet", "order_status"):
        body = {"sender_id": "fallback-en", "event_id": event_id, "kind": "intent", "right_value": right}
        assert agent_client.post("/api/corrections", json=body, headers={"X-CSRF-Token": token}).status_code == 201
    assert [c["right_value"] for c in agent_client.get("/api/corrections").json()["pending"]] == ["order_status"]


def test_a_knowledge_base_answer_is_marked_wrong_with_the_right_answer(agent_client: TestClient):
    token = form_csrf_token(agent_client, "/")
    body = {"sender_id": "kb-en", "event_id": customer_event_id(agent_client, "kb-en"), "kind": "kb_answer"}
    response = agent_client.post(
        "/api/corrections", json={**body, "right_value": "returns-60-days"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 201
    assert (response.json()["wrong_value"], response.json()["right_value"]) == ("returns-30-days", "returns-60-days")
    assert "right answer <strong>returns-60-days</strong>" in agent_client.get("/conversations/kb-en").text


@pytest.mark.parametrize(
    "change,message",
    [
        ({"kind": "spelling"}, "choose one of: intent, kb_answer"),
        ({"right_value": ""}, "Pick the right intent"),
        ({"right_value": "<b>x</b>"}, "is not an intent or answer id"),
        ({"sender_id": "kb-en"}, "is not a customer turn of conversation kb-en"),
        ({"event_id": "seven"}, "must be the id of a customer turn"),
    ],
)
def test_a_bad_correction_is_refused_with_the_fix(agent_client: TestClient, change: dict, message: str):
    token = form_csrf_token(agent_client, "/")
    body = {"sender_id": "mt-pt", "event_id": customer_event_id(agent_client, "mt-pt"), "kind": "intent"}
    body = {**body, "right_value": "greet", **change}
    response = agent_client.post("/api/corrections", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 400 and message in response.json()["error"]


def test_a_bot_turn_cannot_be_corrected_as_a_customer_turn(agent_client: TestClient):
    token = form_csrf_token(agent_client, "/")
    body = {"sender_id": "mt-pt", "event_id": bot_event_id(agent_client, "mt-pt"), "kind": "intent", "right_value": "x"}
    assert agent_client.post("/api/corrections", json=body, headers={"X-CSRF-Token": token}).status_code == 400


def test_corrections_need_a_login_and_the_csrf_token(client: TestClient, agent_client: TestClient):
    body = {"sender_id": "mt-pt", "event_id": 1, "kind": "intent", "right_value": "greet"}
    assert agent_client.post("/api/corrections", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    client.cookies.clear()
    assert client.post("/api/corrections", json=body).status_code == 401
    assert client.get("/api/corrections").status_code == 401
    assert client.get("/corrections").status_code == 303


def test_export_writes_rasa_nlu_yaml_and_knowledge_base_questions(
    agent_client: TestClient, tracker_database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    token = form_csrf_token(agent_client, "/")
    for sender_id, kind, right in (
        ("mt-pt", "intent", "talk_to_human"),
        ("script-en", "intent", "order_status"),
        ("kb-en", "kb_answer", "returns-60-days"),
    ):
        body = {"sender_id": sender_id, "event_id": customer_event_id(agent_client, sender_id), "kind": kind}
        agent_client.post("/api/corrections", json={**body, "right_value": right}, headers={"X-CSRF-Token": token})
    monkeypatch.setenv("BRIDGE_CONSOLE_TRACKER_URL", tracker_database.url)
    main(["export", "corrections", "--output", str(tmp_path)])
    assert "3 corrections written" in capsys.readouterr().out

    examples = RasaYAMLReader().read(tmp_path / "nlu.yml").intent_examples
    found = {(m.get("intent"), m.get("text")) for m in examples}
    assert ("talk_to_human", "Onde está a minha encomenda?") in found
    assert ("order_status", "<script>alert('pwned')</script> where is my order?") in found
    kb = yaml.safe_load((tmp_path / "knowledge_base.yml").read_text(encoding="utf-8"))
    assert kb["questions"] == [
        {"answer_id": "returns-60-days", "question": "How long do I have to return shoes?", "language": "en"}
    ]
    assert agent_client.get("/api/corrections").json()["pending"] == []
    main(["export", "corrections", "--output", str(tmp_path / "again")])
    assert "0 corrections written" in capsys.readouterr().out
    main(["export", "corrections", "--output", str(tmp_path / "all"), "--all"])
    assert "3 corrections written" in capsys.readouterr().out
