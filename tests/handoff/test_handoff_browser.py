"""The hand-off in real headless Chromium: a Portuguese customer in Bridge's web widget and an
English agent in the console, each in a window of their own, against a real Rasa server.

The agent reads the customer's Portuguese in English as it arrives (no reload), writes in
English; the customer reads Portuguese with the order number intact; after the hand-back the
bot answers in Portuguese again. The conversation is written side by side, with routes, to
$BRIDGE_HANDOFF_ARTIFACTS (default var/test-artifacts/handoff) with screenshots of both views.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.test_chat_widget import BridgeWidgetPage, browser  # noqa: F401 (the fixture)
from tests.conftest import PROJECT_DIR
from tests.helpers.demo_domain import authored
from tests.helpers.handoff_stack import ConsoleAgent
from tests.helpers.rasa_server import tracker

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

ARTIFACTS = Path(os.environ.get("BRIDGE_HANDOFF_ARTIFACTS") or PROJECT_DIR / "var" / "test-artifacts" / "handoff")
ASK_FOR_PERSON = "Quero falar com um atendente humano, por favor"
DAMAGED = "Meu pedido 10045 chegou com a caixa amassada e o produto quebrado."
AGENT_REPLY = "I am sorry about order 10045. I will send you a new one today at no cost."
THANKS = "Obrigado! Quando o novo produto vai chegar?"
AFTER_HAND_BACK = "Esqueci minha senha e agora não consigo entrar na conta"


class AgentConsolePage:
    """The console as the agent uses it, in the browser."""

    def __init__(self, window, console_url: str) -> None:
        self.browser = window
        self.url = console_url

    def log_in(self, email: str, password: str) -> None:
        self.browser.get(f"{self.url}/login?next=/handoffs")
        self.browser.find_element("name", "email").send_keys(email)
        self.browser.find_element("name", "password").send_keys(password)
        self.browser.find_element("css selector", "form button, form [type=submit]").click()

    def texts(self, selector: str) -> list[str]:
        script = "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText.trim())"
        return self.browser.execute_script(script, selector)


def wait(window, condition, seconds: float = 90):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(window, seconds, poll_frequency=0.3).until(condition)


def side_by_side(messages: list[dict]) -> str:
    """The conversation as the agent's API gives it: both languages and the route of each message."""
    lines = [
        "| # | from | customer sees (pt) | agent sees (en) | route |",
        "|---|------|--------------------|-----------------|-------|",
    ]
    for m in messages:
        for_agent = m["for_agent"] or {}
        if m["kind"] == "customer":
            theirs, ours = m["text"], for_agent.get("text", "(no translation)")
            route = for_agent.get("route", "-") + " (pt->en, for the agent)"
        else:
            theirs, ours = m["text"], for_agent.get("text", m["source_text"])
            route = f"{m['route']} ({m['source_language']}->{m['language']})"
            route += f"; for the agent: {for_agent.get('route', '-')}"
        cell = [str(m["event_id"]), m["kind"], theirs.replace("\n", " "), ours.replace("\n", " "), route]
        lines.append("| " + " | ".join(part.replace("|", "\\|") for part in cell) + " |")
    return "\n".join(lines) + "\n"


def test_portuguese_customer_and_english_agent_each_read_their_own_language(handoff_stack, browser, domain):  # noqa: F811
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    customer = BridgeWidgetPage(browser)
    customer.open(handoff_stack.bot.chat_url, "pt")
    customer_window = browser.current_window_handle
    customer.send(ASK_FOR_PERSON)
    texts = customer.wait_for_bot_texts(2)
    assert texts[-1] == authored(domain, "utter_handoff_wait_time", "pt", handoff_wait_minutes="5")
    session_id = customer.session_id()
    customer.send(DAMAGED)

    email = "ana.agent@handoff.example"
    handoff_stack.agent(email, "en")  # created by the admin, as in the console's Agents page
    browser.switch_to.new_window("window")
    agent_window = browser.current_window_handle
    agent = AgentConsolePage(browser, handoff_stack.console_url)
    agent.log_in(email, "agent-password-1")
    wait(browser, lambda b: "pt" in agent.texts("tr.ticket td.language"))
    cells = agent.texts("tr.ticket td")
    assert "socketio" in cells and "talk_to_human" in cells
    browser.save_screenshot(str(ARTIFACTS / "queue.png"))
    browser.find_element("css selector", "tr.ticket button.claim").click()
    wait(browser, lambda b: "/handoffs/" in b.current_url)
    ticket_id = int(browser.current_url.rstrip("/").rsplit("/", 1)[-1])
    browser.execute_script("window.bridgeSamePage = true")  # gone if the page ever reloads

    # The Portuguese messages, in English for the agent.
    wait(browser, lambda b: any("10045" in t for t in agent.texts(".turn.customer .for-agent")))
    english = [t for t in agent.texts(".turn.customer .for-agent") if "10045" in t][0]
    assert "order" in english.lower()
    # The bot's own Portuguese replies, in English for the agent too.
    wait(browser, lambda b: len(agent.texts(".turn.bot .for-agent")) >= 2)
    assert not set(agent.texts(".turn.bot .for-agent")) & set(texts)
    assert DAMAGED in agent.texts(".turn.customer .original")

    browser.find_element("css selector", "#handoff-compose textarea").send_keys(AGENT_REPLY)
    browser.find_element("css selector", "#handoff-compose button.send").click()
    wait(browser, lambda b: any(AGENT_REPLY == t for t in agent.texts(".turn.agent .source")))
    delivered = agent.texts(".turn.agent .delivered")[-1]
    assert "10045" in delivered and delivered != AGENT_REPLY

    browser.switch_to.window(customer_window)
    customer.wait(lambda b: delivered in customer.bot_texts())
    customer.send(THANKS)

    browser.switch_to.window(agent_window)
    wait(browser, lambda b: THANKS in agent.texts(".turn.customer .original"))
    assert browser.execute_script("return window.bridgeSamePage === true")  # it arrived live
    browser.save_screenshot(str(ARTIFACTS / "agent-conversation.png"))
    browser.find_element("css selector", "#handoff-compose button.hand-back").click()

    browser.switch_to.window(customer_window)
    returned = authored(domain, "utter_handoff_returned", "pt")
    customer.wait(lambda b: returned in customer.bot_texts())
    customer.send(AFTER_HAND_BACK)
    customer.wait(lambda b: authored(domain, "utter_password_reset", "pt") in customer.bot_texts())
    browser.save_screenshot(str(ARTIFACTS / "customer-widget.png"))

    messages = ConsoleAgent(handoff_stack.console_url, email, "agent-password-1").messages(ticket_id)
    (ARTIFACTS / "transcript_pt_en.md").write_text(side_by_side(messages), encoding="utf-8")
    agent_turns = [m for m in messages if m["kind"] == "agent"]
    assert [(m["source_text"], m["language"], m["source_language"]) for m in agent_turns] == [(AGENT_REPLY, "pt", "en")]
    assert agent_turns[0]["route"].startswith(("mt:", "memory"))
    events = tracker(handoff_stack, session_id)["events"]
    assert any(e["event"] == "slot" and e["name"] == "handoff_agent" and e["value"] == email for e in events)
    assert [e["event"] for e in events if e["event"] in ("pause", "resume")] == ["pause", "resume"]
