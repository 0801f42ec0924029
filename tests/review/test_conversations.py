"""The conversation list (filters, keyset pages, incremental summaries) and the turn-by-turn view."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.helpers.sample_conversations import customer, day, sample_conversations, save_conversation

SAMPLE_IDS = list(sample_conversations())


def listed(client: TestClient, query: str = "") -> list[str]:
    response = client.get(f"/api/conversations?{query}")
    assert response.status_code == 200, response.text
    return [row["sender_id"] for row in response.json()["conversations"] if row["sender_id"] in SAMPLE_IDS]


def test_the_list_shows_every_conversation_newest_first(agent_client: TestClient):
    assert listed(agent_client) == list(reversed(SAMPLE_IDS))


@pytest.mark.parametrize(
    "query,expected",
    [
        ("language=pt", ["mt-pt"]),
        ("language=es", ["handoff-es"]),
        ("channel=telegram", ["mt-pt"]),
        ("channel=rest", ["script-en", "unsupported-nl", "fallback-en"]),
        ("intent=talk_to_human", ["handoff-es"]),
        ("low_confidence=1", ["fallback-en", "mt-pt"]),
        ("fallback=1", ["fallback-en"]),
        ("handoff=1", ["handoff-es"]),
        ("kb_answer=1", ["kb-en"]),
        ("unsupported_language=1", ["unsupported-nl"]),
        ("from=2026-11-05&to=2026-11-12", ["handoff-es", "fallback-en", "mt-pt"]),
        ("language=en&channel=rest", ["script-en", "fallback-en"]),
    ],
)
def test_each_filter_keeps_the_matching_conversations(agent_client: TestClient, query: str, expected: list[str]):
    assert listed(agent_client, query) == expected


def test_a_bad_filter_value_names_the_expected_form(agent_client: TestClient):
    response = agent_client.get("/api/conversations?from=5-11-2026")
    assert response.status_code == 400 and "YYYY-MM-DD" in response.json()["error"]
    assert agent_client.get("/?limit=0").status_code == 400


def test_pages_follow_each_other_without_gaps_or_repeats(agent_client: TestClient):
    seen, cursor = [], None
    while True:
        page = agent_client.get("/api/conversations", params={"limit": 2, **({"after": cursor} if cursor else {})})
        body = page.json()
        assert len(body["conversations"]) <= 2
        seen += [row["sender_id"] for row in body["conversations"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert [s for s in seen if s in SAMPLE_IDS] == list(reversed(SAMPLE_IDS))
    assert len(seen) == len(set(seen))


def test_the_list_page_links_to_the_next_page_with_the_filters(agent_client: TestClient):
    page = agent_client.get("/?channel=rest&limit=1").text
    assert 'rel="next"' in page and "channel=rest" in page.split('rel="next"')[1].split(">")[0]
    assert "/conversations/script-en" in page


def test_new_events_reach_the_list_without_a_rebuild(agent_client: TestClient, tracker_database):
    assert listed(agent_client, "language=pt") == ["mt-pt"]
    # A later turn of an existing conversation, saved by Rasa's own store, changes its summary.
    save_conversation(
        tracker_database.store,
        "mt-pt",
        [customer("Quero falar com alguém", day("2026-11-05", 60), "telegram", "pt", "talk_to_human", 0.9)],
    )
    response = agent_client.get("/api/conversations?intent=talk_to_human").json()["conversations"]
    assert {row["sender_id"] for row in response} >= {"handoff-es", "mt-pt"}
    turns = {row["sender_id"]: row["turns"] for row in response}
    assert turns["mt-pt"] == 2


def test_the_view_shows_language_intent_and_knowledge_base_per_turn(agent_client: TestClient):
    turns = agent_client.get("/api/conversations/kb-en").json()["turns"]
    first = turns[0]
    assert (first["kind"], first["language"], first["language_method"]) == ("customer", "en", "model")
    assert (first["intent"], first["intent_confidence"]) == ("faq", 0.91)
    assert (first["kb_answer_id"], first["kb_score"], first["kb_answered"]) == ("returns-30-days", 0.83, True)
    page = agent_client.get("/conversations/kb-en").text
    assert "returns-30-days" in page and "score 0.83" in page and "by model" in page


def test_a_translated_reply_shows_next_to_its_source_text_with_its_route(agent_client: TestClient):
    turns = agent_client.get("/api/conversations/mt-pt").json()["turns"]
    bot = next(t for t in turns if t["kind"] == "bot")
    assert (bot["text"], bot["source_text"]) == ("Qual é o número da sua encomenda?", "What is your order number?")
    assert (bot["route"], bot["language"], bot["source_language"]) == ("mt:bergamot", "pt", "en")
    page = agent_client.get("/conversations/mt-pt").text
    assert "mt:bergamot" in page and "source (en)</span>What is your order number?" in page
    assert "by lexicon" in page


def test_an_unsupported_language_turn_says_which_language_was_seen(agent_client: TestClient):
    page = agent_client.get("/conversations/unsupported-nl").text
    assert "unsupported: nl" in page


def test_an_unknown_conversation_is_404(agent_client: TestClient):
    assert agent_client.get("/api/conversations/nobody").status_code == 404
    assert agent_client.get("/conversations/nobody").status_code == 404


def test_the_filter_menus_offer_what_the_conversations_hold(agent_client: TestClient):
    page = agent_client.get("/").text
    for value in ("telegram", "slack", "pt", "es", "talk_to_human", "nlu_fallback"):
        assert f'<option value="{value}"' in page
    assert '<option value="telegram" selected>' in agent_client.get("/?channel=telegram").text
