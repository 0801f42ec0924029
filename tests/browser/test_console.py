"""The review console in real headless Chromium, on the conversations of the real demo bot.

Customers talk to the real Rasa server (its TranslatingNLG with Bergamot and the translation
memory) through the REST channel; the console runs as `bridge run` starts it, on the same
endpoints file. An agent logs in, filters the list by language, reads a Portuguese
conversation in English, corrects an intent and a translation (the next customer gets the
corrected text), and reads the dashboard's charts. Screenshots land in
var/test-artifacts/browser/ (BRIDGE_SCREENSHOTS=DIR puts them in DIR instead).
"""

from __future__ import annotations

import os
import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from bot.project import project_environment
from bot.serving.processes import console_process, free_port
from tests.browser.test_chat_widget import ARTIFACTS, browser  # noqa: F401 (the Chromium fixture)
from tests.conftest import PROJECT_DIR
from tests.helpers.rasa_server import send, tracker

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

ADMIN_EMAIL, ADMIN_PASSWORD = "lead@example.com", "lead-password-1"
PT_KB_QUESTION = "Onde posso consultar o saldo do meu cartão-presente?"
BALANCE_URL = "https://shop.example.com/gift-cards/balance"
EN_TEXT = "I want to cancel my order please"
KO_HANDOFF = "사람 상담원과 직접 이야기하고 싶어요"
WAIT_SECONDS = 60


def screenshot(browser, name: str) -> Path:  # noqa: F811
    folder = Path(os.environ.get("BRIDGE_SCREENSHOTS") or ARTIFACTS)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def wait(browser, condition, seconds: float = WAIT_SECONDS):  # noqa: F811
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds).until(condition)


class ConsoleServer:
    """The console process on the bot stack's endpoints file, and an API session logged in as its admin."""

    def __init__(self, stack, log_dir: Path) -> None:
        self.process = console_process(stack.endpoints, free_port(), log_dir)
        self.url = self.process.ready_url.removesuffix("login")
        env = {"BRIDGE_CONSOLE_ADMIN_EMAIL": ADMIN_EMAIL, "BRIDGE_CONSOLE_ADMIN_PASSWORD": ADMIN_PASSWORD}
        self.process.start(PROJECT_DIR, project_environment(PROJECT_DIR, env))
        deadline = time.monotonic() + 120
        while not self.process.is_ready():
            assert self.process.process.poll() is None, f"the console stopped; see {self.process.log_path}"
            assert time.monotonic() < deadline, f"the console did not answer; see {self.process.log_path}"
            time.sleep(0.3)
        self.api = requests.Session()
        page = self.api.get(f"{self.url}login", timeout=10).text
        form = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": self.csrf_token(page)}
        assert self.api.post(f"{self.url}login", data=form, timeout=10).status_code == 200

    @staticmethod
    def csrf_token(page: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def get(self, path: str) -> dict:
        response = self.api.get(f"{self.url}{path.lstrip('/')}", timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def delete(self, path: str) -> int:
        token = self.csrf_token(self.api.get(self.url, timeout=10).text)
        return self.api.delete(f"{self.url}{path.lstrip('/')}", headers={"X-CSRF-Token": token}, timeout=10).status_code


@pytest.fixture(scope="module")
def console(bot_stack, tmp_path_factory):
    server = ConsoleServer(bot_stack, tmp_path_factory.mktemp("console-logs"))
    yield server
    server.process.stop()


@pytest.fixture(scope="module")
def customers(bot_stack) -> dict[str, str]:
    """Three customers who talked to the bot: language -> conversation id."""
    senders = {language: f"console-{language}-{uuid.uuid4().hex[:8]}" for language in ("pt", "en")}
    send(bot_stack, senders["pt"], PT_KB_QUESTION)
    send(bot_stack, senders["en"], EN_TEXT)
    return senders


@pytest.fixture
def agent(browser, console):  # noqa: F811
    """The browser with the admin logged in through the login form."""
    browser.get(f"{console.url}login")
    browser.find_element("css selector", "input[name=email]").send_keys(ADMIN_EMAIL)
    browser.find_element("css selector", "input[name=password]").send_keys(ADMIN_PASSWORD)
    browser.find_element("css selector", "form[action='/login'] button").click()
    wait(browser, lambda b: b.find_elements("css selector", "table.conversations"))
    return browser


def listed_ids(browser) -> list[str]:  # noqa: F811
    script = "return Array.from(document.querySelectorAll('table.conversations tbody a')).map(a => a.innerText)"
    return browser.execute_script(script)


def language_column(browser) -> list[str]:  # noqa: F811
    script = "return Array.from(document.querySelectorAll('table.conversations tbody td:nth-child(4)'))"
    return browser.execute_script(script + ".map(cell => cell.innerText)")


def test_an_agent_filters_by_language_and_reads_a_portuguese_customer_in_english(agent, console, customers):
    from selenium.webdriver.support.ui import Select

    assert {customers["pt"], customers["en"]} <= set(listed_ids(agent))
    screenshot(agent, "console-conversation-list")
    Select(agent.find_element("css selector", "select[name=language]")).select_by_value("pt")
    agent.find_element("css selector", "form.filters button").click()
    wait(agent, lambda b: "language=pt" in b.current_url)
    shown = listed_ids(agent)
    assert customers["pt"] in shown and customers["en"] not in shown
    assert set(language_column(agent)) == {"pt"}

    agent.find_element("link text", customers["pt"]).click()
    wait(agent, lambda b: b.find_elements("css selector", ".turn.customer"))
    customer_turn = agent.find_element("css selector", ".turn.customer")
    assert customer_turn.find_element("css selector", ".text").text == PT_KB_QUESTION
    translated = customer_turn.find_element("css selector", ".translated").text
    assert "pt→en by mt:bergamot" in translated and "balance" in translated.lower()
    reply = agent.find_element("css selector", ".turn.bot")
    assert reply.find_element("css selector", ".flag.route").text in ("mt:bergamot", "memory")
    assert BALANCE_URL in reply.find_element("css selector", ".source").text  # the English source text
    screenshot(agent, "console-conversation-pt")


def test_an_agent_corrects_an_intent(agent, console, customers):
    agent.get(f"{console.url}conversations/{customers['en']}")
    form = agent.find_element("css selector", "form.intent-fix")
    form.find_element("css selector", "input[name=right_value]").send_keys("order_status")
    form.find_element("css selector", "button").click()
    wait(agent, lambda b: b.find_elements("css selector", ".correction"))
    assert "intent corrected to order_status" in agent.find_element("css selector", ".correction").text
    pending = console.get("/api/corrections")["pending"]
    assert any(c["sender_id"] == customers["en"] and c["right_value"] == "order_status" for c in pending)


def kb_reply(bot_stack, sender: str) -> tuple[list[str], dict]:
    replies = send(bot_stack, sender, PT_KB_QUESTION)
    events = [e for e in tracker(bot_stack, sender)["events"] if e["event"] == "bot"]
    answers = [e for e in events if e["metadata"].get("utter_action") == "utter_knowledge_base_answer"]
    assert answers, f"the knowledge base did not answer; replies: {replies}"
    return replies, answers[-1]["metadata"]


def test_a_translation_corrected_in_the_console_is_what_the_next_customer_reads(agent, console, customers, bot_stack):
    turns = console.get(f"/api/conversations/{customers['pt']}")["turns"]
    reply = next(t for t in turns if t["kind"] == "bot" and t["correctable"])
    corrected = f"Consulte o saldo do cartão-presente em {BALANCE_URL} com o número e o PIN do cartão."
    agent.get(f"{console.url}conversations/{customers['pt']}")
    bot_turn = agent.find_element("css selector", f"#event-{reply['event_id']}")
    bot_turn.find_element("css selector", "details.fix summary").click()
    box = bot_turn.find_element("css selector", "textarea[name=text]")
    box.clear()
    box.send_keys(corrected)
    bot_turn.find_element("css selector", "details.fix button").click()
    wait(agent, lambda b: b.find_elements("css selector", f"#event-{reply['event_id']} .corrected"))
    shown = agent.find_element("css selector", f"#event-{reply['event_id']} .corrected").text
    assert corrected in shown and ADMIN_EMAIL in shown
    entry_id = console.get(f"/api/conversations/{customers['pt']}")["turns"]
    entry_id = next(t for t in entry_id if t["event_id"] == reply["event_id"])["corrected"]["entry_id"]
    try:
        replies, metadata = kb_reply(bot_stack, f"console-next-{uuid.uuid4().hex[:8]}")
        assert replies[-1] == corrected and metadata["translation"] == "memory"
    finally:
        assert console.delete(f"/api/translations/{entry_id}") == 200
    replies, metadata = kb_reply(bot_stack, f"console-after-{uuid.uuid4().hex[:8]}")
    assert metadata["translation"] != "memory" and replies[-1] != corrected


def chart_data(browser, canvas_id: str) -> dict:  # noqa: F811
    return browser.execute_script(
        "const chart = Chart.getChart(arguments[0]);"
        "return {labels: chart.data.labels, datasets: chart.data.datasets.map(d => ({label: d.label, data: d.data}))};",
        canvas_id,
    )


def canvas_is_drawn(browser, canvas_id: str) -> bool:  # noqa: F811
    return browser.execute_script(
        "const c = document.getElementById(arguments[0]); const blank = document.createElement('canvas');"
        "blank.width = c.width; blank.height = c.height; return c.width > 0 && c.toDataURL() !== blank.toDataURL();",
        canvas_id,
    )


def test_the_dashboard_charts_count_the_conversations_customers_had(agent, console, bot_stack):
    today = datetime.now(timezone.utc).date().isoformat()
    query = f"from={today}&to={today}&channel=rest"
    before = console.get(f"/api/dashboard?{query}")
    handoff_sender = f"console-ko-{uuid.uuid4().hex[:8]}"
    send(bot_stack, handoff_sender, KO_HANDOFF)
    after = console.get(f"/api/dashboard?{query}")
    assert after["totals"]["conversations"] == before["totals"]["conversations"] + 1
    assert after["totals"]["handoff"] == before["totals"]["handoff"] + 1
    assert after["totals"]["contained"] == before["totals"]["contained"]
    counts = {item["value"]: item["count"] for item in after["top_intents"]}
    earlier = {item["value"]: item["count"] for item in before["top_intents"]}
    assert counts["talk_to_human"] == earlier.get("talk_to_human", 0) + 1

    agent.get(f"{console.url}dashboard?{query}")
    wait(agent, lambda b: b.execute_script("return document.body.dataset.chartsReady === 'true'"))
    assert agent.find_element("id", "total-conversations").text == str(after["totals"]["conversations"])
    conversations = chart_data(agent, "chart-conversations")
    assert conversations["labels"] == [today]
    assert conversations["datasets"][0]["data"] == [after["totals"]["conversations"]]
    assert conversations["datasets"][1]["data"] == [after["totals"]["contained"]]
    intents = chart_data(agent, "chart-intents")
    assert dict(zip(intents["labels"], intents["datasets"][0]["data"])) == {
        item["value"]: item["count"] for item in after["top_intents"]
    }
    routes = chart_data(agent, "chart-routes")
    assert {d["label"]: d["data"] for d in routes["datasets"]} == after["routes_per_day"]
    rates = chart_data(agent, "chart-rates")
    assert rates["datasets"][2]["data"] == [round(after["handoff_rate"][0] * 1000) / 10]
    for canvas in ("chart-conversations", "chart-rates", "chart-intents", "chart-kb", "chart-routes"):
        assert canvas_is_drawn(agent, canvas), canvas

    week_ago = (datetime.now(timezone.utc).date() - timedelta(days=6)).isoformat()
    agent.set_window_size(1280, 1500)  # the whole page in one screenshot
    agent.get(f"{console.url}dashboard?from={week_ago}&to={today}")
    wait(agent, lambda b: b.execute_script("return document.body.dataset.chartsReady === 'true'"))
    assert len(chart_data(agent, "chart-conversations")["labels"]) == 7
    screenshot(agent, "console-dashboard")
    agent.set_window_size(1280, 900)

    agent.get(f"{console.url}conversations/{handoff_sender}")
    assert "no translation backend for ko->en" in agent.find_element("css selector", ".translated.none").text
    screenshot(agent, "console-conversation-ko")
