"""Both chat widgets in real headless Chromium against the real Rasa server's socket.io channel.

Bridge's own widget (bot/web/static/bridge-widget.js) and rasa-webchat, embedded unchanged
(bot/web/static/webchat.html), are driven through the same customer steps: conversations in
Spanish, Chinese and Arabic, a message the server pushes (with buttons, one clicked), and a
reload that keeps the conversation. Screenshots land in var/test-artifacts/browser/.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR
from tests.helpers.demo_domain import authored

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

ARTIFACTS = PROJECT_DIR / "var" / "test-artifacts" / "browser"
VENDOR = PROJECT_DIR / "bot" / "web" / "static" / "vendor"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    # A page in a window the test is not looking at (the agent's console beside the customer's
    # widget) keeps its timers running, as on a person's screen.
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
]
CONVERSATIONS = [
    ("es", "Quiero devolver unas zapatillas que compré el mes pasado", "utter_return_request"),
    ("zh", "我想注销我的账户，删除所有数据", "utter_delete_account"),
    ("ar", "أريد تغيير عنوان التوصيل لطلبي", "utter_change_delivery_address"),
]
REPLY_SECONDS = 60


class BridgeWidgetPage:
    """The demo page with Bridge's widget."""

    name = "bridge-widget"
    path = ""

    def __init__(self, browser) -> None:
        self.browser = browser

    def open(self, chat_url: str, language: str) -> None:
        self.browser.get(f"{chat_url}{self.path}?lang={language}")
        self.wait(lambda b: b.find_elements("css selector", ".bridge-launcher"))
        if not self.browser.find_element("css selector", ".bridge-panel").is_displayed():
            self.browser.find_element("css selector", ".bridge-launcher").click()
        self.wait(lambda b: self.session_id())

    def wait(self, condition, seconds: float = REPLY_SECONDS):
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.browser, seconds).until(condition)

    def session_id(self) -> str:
        return self.browser.execute_script(
            "return window.BridgeWidget && BridgeWidget.instance && BridgeWidget.instance.sessionId"
        )

    def send(self, text: str) -> None:
        box = self.browser.find_element("css selector", ".bridge-form input")
        box.send_keys(text)
        self.browser.find_element("css selector", ".bridge-send").click()

    def visible_texts(self, selector: str) -> list[str]:
        """The rendered text of every element matching `selector`, read in one script call.

        Reading element by element races the widget's re-rendering (React replaces
        rasa-webchat's nodes as messages arrive), which leaves stale element references.
        """
        script = "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText.trim())"
        return [text for text in self.browser.execute_script(script, selector) if text]

    def bot_texts(self) -> list[str]:
        return self.visible_texts(".bridge-bot .bridge-text")

    def bot_message_elements(self):
        return self.browser.find_elements("css selector", ".bridge-bot .bridge-text")

    def buttons(self):
        return self.browser.find_elements("css selector", ".bridge-bot .bridge-button")

    def wait_for_bot_texts(self, count: int) -> list[str]:
        self.wait(lambda b: len(self.bot_texts()) >= count)
        return self.bot_texts()


class RasaWebchatPage(BridgeWidgetPage):
    """rasa-webchat, embedded as its README shows, pointed at the same server."""

    name = "rasa-webchat"
    path = "webchat.html"

    def open(self, chat_url: str, language: str) -> None:
        self.browser.get(f"{chat_url}{self.path}?lang={language}")
        self.wait(lambda b: b.find_elements("css selector", ".rw-launcher, .rw-conversation-container"))
        if not self.browser.find_elements("css selector", ".rw-conversation-container"):
            self.browser.find_element("css selector", ".rw-launcher").click()
        self.wait(lambda b: self.session_id())

    def session_id(self) -> str:
        stored = self.browser.execute_script("return localStorage.getItem('chat_session')")
        return (json.loads(stored) or {}).get("session_id") if stored else None

    def send(self, text: str) -> None:
        box = self.browser.find_element("css selector", ".rw-new-message")
        box.send_keys(text)
        self.browser.find_element("css selector", ".rw-send").click()

    def bot_message_elements(self):
        return self.browser.find_elements("css selector", ".rw-response .rw-markdown, .rw-response")

    def bot_texts(self) -> list[str]:
        return self.visible_texts(".rw-response")

    def buttons(self):
        return self.browser.find_elements("css selector", ".rw-reply")


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail(
            "Chromium and chromedriver are needed: `apt-get install chromium chromium-driver` "
            "(`make services` does it)."
        )
    if not (VENDOR / "socket.io.min.js").is_file() or not (VENDOR / "rasa-webchat.js").is_file():
        pytest.fail(f"The widget's bundled libraries are missing from {VENDOR}: run `bash scripts/setup_web.sh`.")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="bridge-chromium-")
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(driver), options=options)
    yield session
    session.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(params=[BridgeWidgetPage, RasaWebchatPage], ids=["bridge-widget", "rasa-webchat"])
def page(request, browser):
    return request.param(browser)


def screenshot(browser, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def push_from_server(stack, session_id: str, text: str, buttons: list[dict[str, str]]) -> None:
    """What an agent's late reply does: a bot message appended to the conversation and sent out on socket.io."""
    event = {"event": "bot", "text": text, "data": {"buttons": buttons}}
    request = urllib.request.Request(
        f"{stack.rasa_url}/conversations/{session_id}/tracker/events?output_channel=socketio&execute_side_effects=true",
        json.dumps(event).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200


@pytest.mark.parametrize("language, text, response", CONVERSATIONS, ids=[c[0] for c in CONVERSATIONS])
def test_a_customer_gets_the_answer_in_their_language(bot_stack, page, domain, language, text, response):
    page.open(bot_stack.chat_url, language)
    page.send(text)
    replies = page.wait_for_bot_texts(1)
    screenshot(page.browser, f"{page.name}-{language}-conversation")
    assert replies[-1] == authored(domain, response, language)
    if language == "ar" and page.name == BridgeWidgetPage.name:  # rasa-webchat has no right-to-left layout
        direction = page.browser.execute_script(
            "return getComputedStyle(arguments[0]).direction", page.bot_message_elements()[-1]
        )
        assert direction == "rtl"


def test_a_pushed_message_appears_and_its_button_sends_the_payload(bot_stack, page, domain):
    page.open(bot_stack.chat_url, "es")
    pushed = "Un agente le escribe: ¿le ayudo con el pago? Más en https://shop.example.com/ayuda <b>gracias</b>"
    push_from_server(
        bot_stack, page.session_id(), pushed, [{"title": "Métodos de pago", "payload": "/payment_methods"}]
    )
    page.wait(lambda b: page.buttons())
    screenshot(page.browser, f"{page.name}-pushed-message")
    shown = page.bot_texts()[-1]
    assert "Un agente le escribe" in shown and "<b>gracias</b>" in shown  # shown as text, never as HTML
    links = [a.get_attribute("href") for a in page.browser.find_elements("css selector", "a[href^='https://shop']")]
    assert links == ["https://shop.example.com/ayuda"]
    before = len(page.bot_texts())
    page.buttons()[0].click()
    replies = page.wait_for_bot_texts(before + 1)
    screenshot(page.browser, f"{page.name}-button-clicked")
    assert replies[-1] == authored(domain, "utter_payment_methods", "es")


def test_the_conversation_survives_a_reload(bot_stack, page, domain):
    page.open(bot_stack.chat_url, "es")
    page.send("Quiero devolver unas zapatillas que compré el mes pasado")
    first_reply = page.wait_for_bot_texts(1)[-1]
    session = page.session_id()
    page.browser.refresh()
    page.open(bot_stack.chat_url, "es")
    assert page.session_id() == session
    page.wait(lambda b: page.bot_texts())
    assert first_reply in page.bot_texts()
    page.send("¿Qué métodos de pago aceptan?")
    replies = page.wait_for_bot_texts(2)
    screenshot(page.browser, f"{page.name}-after-reload")
    assert replies[-1] == authored(domain, "utter_payment_methods", "es")


def restart_rasa_server(stack) -> None:
    """Stops the stack's Rasa server and starts it again with the same command, waiting until it answers."""
    import time

    from bot.offline_env import offline_environment

    server = next(p for p in stack.processes if p.name == "rasa server")
    server.stop()
    server.start(stack.project_dir, offline_environment({**stack.env, "PYTHONPATH": str(stack.project_dir)}))
    deadline = time.monotonic() + 300
    while not server.is_ready():
        assert server.process.poll() is None and time.monotonic() < deadline, f"see {server.log_path}"
        time.sleep(0.5)


def test_the_widget_reconnects_after_the_server_restarts(bot_stack, browser, domain):
    page = BridgeWidgetPage(browser)
    page.open(bot_stack.chat_url, "es")
    session = page.session_id()
    server = next(p for p in bot_stack.processes if p.name == "rasa server")
    server.stop()
    page.wait(lambda b: b.find_element("css selector", ".bridge-status").is_displayed())
    screenshot(browser, "bridge-widget-reconnecting")
    restart_rasa_server(bot_stack)
    page.wait(lambda b: not b.find_element("css selector", ".bridge-status").is_displayed(), seconds=90)
    assert page.session_id() == session
    page.send("¿Qué métodos de pago aceptan?")
    replies = page.wait_for_bot_texts(1)
    screenshot(browser, "bridge-widget-reconnected")
    assert replies[-1] == authored(domain, "utter_payment_methods", "es")
