"""The dashboard's numbers, checked against conversations the tests saved through Rasa's own store,
on SQLite and on PostgreSQL: exact counts per day, the top lists, and the list's filters."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.review.conftest import DASHBOARD_FROM, DASHBOARD_TO

OCTOBER = f"from={DASHBOARD_FROM}&to={DASHBOARD_TO}"
DAYS = ["2026-10-01", "2026-10-02", "2026-10-03"]


@pytest.fixture
def numbers(agent_client: TestClient, dashboard_database):
    def read(query: str = "") -> dict:
        response = agent_client.get(f"/api/dashboard?{OCTOBER}&{query}")
        assert response.status_code == 200, response.text
        return response.json()

    return read


def test_every_number_of_three_days_of_traffic(numbers):
    found = numbers()
    assert found["days"] == DAYS
    assert found["conversations"] == [2, 2, 2]
    assert found["contained"] == [2, 1, 2]
    assert found["handoff"] == [0, 1, 0] and found["fallback"] == [0, 1, 0]
    assert found["containment_rate"] == [1.0, 0.5, 1.0]
    assert found["fallback_rate"] == [0.0, 0.5, 0.0] and found["handoff_rate"] == [0.0, 0.5, 0.0]
    assert found["totals"] == {
        "conversations": 6,
        "contained": 5,
        "fallback": 1,
        "handoff": 1,
        "containment_rate": 0.8333,
        "fallback_rate": 0.1667,
        "handoff_rate": 0.1667,
        "replies": 9,
    }
    assert found["top_intents"] == [
        {"value": "unsupported_language", "count": 3},
        {"value": "faq", "count": 2},
        {"value": "greet", "count": 1},
        {"value": "nlu_fallback", "count": 1},
        {"value": "order_status", "count": 1},
        {"value": "talk_to_human", "count": 1},
    ]
    assert found["top_kb_answers"] == [{"value": "gift-003", "count": 1}, {"value": "returns-30-days", "count": 1}]
    assert found["unsupported_languages"] == [{"value": "ko", "count": 2}, {"value": "nl", "count": 1}]
    assert found["routes"] == [
        {"value": "authored", "count": 5},
        {"value": "mt:bergamot", "count": 2},
        {"value": "fallback", "count": 1},
        {"value": "memory", "count": 1},
    ]
    assert found["routes_per_day"] == {
        "authored": [2, 1, 2],
        "mt:bergamot": [2, 0, 0],
        "fallback": [0, 0, 1],
        "memory": [0, 1, 0],
    }


def test_a_language_filter_counts_only_that_languages_conversations(numbers):
    found = numbers("language=pt")
    assert found["conversations"] == [1, 1, 0] and found["handoff"] == [0, 1, 0]
    assert found["totals"]["containment_rate"] == 0.5
    assert found["routes"] == [{"value": "mt:bergamot", "count": 2}, {"value": "memory", "count": 1}]
    assert found["unsupported_languages"] == []


def test_a_channel_filter_and_a_shorter_range(agent_client: TestClient, numbers):
    found = numbers("channel=rest")
    assert found["conversations"] == [1, 2, 1]
    assert found["top_kb_answers"] == [{"value": "returns-30-days", "count": 1}]
    one_day = agent_client.get("/api/dashboard?from=2026-10-03&to=2026-10-03").json()
    assert one_day["days"] == ["2026-10-03"] and one_day["conversations"] == [2]
    assert one_day["unsupported_languages"] == [{"value": "ko", "count": 2}, {"value": "nl", "count": 1}]


def test_days_without_traffic_count_zero(agent_client: TestClient, dashboard_database):
    found = agent_client.get("/api/dashboard?from=2026-09-29&to=2026-10-01").json()
    assert found["days"] == ["2026-09-29", "2026-09-30", "2026-10-01"]
    assert found["conversations"] == [0, 0, 2] and found["containment_rate"] == [None, None, 1.0]


def test_new_conversations_reach_the_dashboard_without_a_rebuild(agent_client: TestClient, dashboard_database):
    from tests.helpers.sample_conversations import action, customer, day, save_conversation

    before = agent_client.get("/api/dashboard?from=2026-10-04&to=2026-10-04").json()["totals"]
    sender = f"dash-new-{before['conversations']}"
    save_conversation(
        dashboard_database.store,
        sender,
        [
            customer("Quiero hablar con alguien", day("2026-10-04", 60), "rest", "es", "talk_to_human", 0.9),
            action("action_handoff_to_human", day("2026-10-04", 61)),
        ],
    )
    after = agent_client.get("/api/dashboard?from=2026-10-04&to=2026-10-04").json()["totals"]
    assert after["conversations"] == before["conversations"] + 1
    assert after["handoff"] == before["handoff"] + 1


def test_the_page_shows_the_totals_and_loads_chart_js_from_the_console(agent_client: TestClient, dashboard_database):
    page = agent_client.get(f"/dashboard?{OCTOBER}&language=pt")
    assert page.status_code == 200
    assert '<div class="value" id="total-conversations">2</div>' in page.text
    assert '<div class="value" id="total-containment">50.0%</div>' in page.text
    assert 'src="/static/vendor/chart.umd.min.js"' in page.text and "cdn" not in page.text.lower()
    assert 'data-api="/api/dashboard?language=pt&amp;from=2026-10-01&amp;to=2026-10-03"' in page.text
    assert agent_client.get("/static/dashboard.js").status_code == 200


def test_a_bad_date_names_the_expected_form(agent_client: TestClient):
    response = agent_client.get("/api/dashboard?from=yesterday")
    assert response.status_code == 400 and "YYYY-MM-DD" in response.json()["error"]
    assert agent_client.get("/dashboard?to=2026-13-01").status_code == 400
