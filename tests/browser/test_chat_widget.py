"""The chat page in real headless Chromium: a customer types, the reply shows in their language."""

from __future__ import annotations

import shutil
import tempfile

import pytest
from rasa.shared.core.domain import Domain

from tests.conftest import PROJECT_DIR
from tests.helpers.demo_domain import authored

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("Chromium and chromedriver are needed: `apt-get install chromium chromium-driver` (scripts/services.sh does it).")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="bridge-chromium-")
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(driver), options=options)
    yield session
    session.quit()
    shutil.rmtree(profile, ignore_errors=True)


def bot_replies(browser):
    return [item.text for item in browser.find_elements("css selector", "#chat-log li.bot")]


def test_customer_chats_in_italian_through_the_widget(bot_stack, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    domain = Domain.load(str(PROJECT_DIR / "training_data" / "domain"))
    browser.get(bot_stack.chat_url)
    browser.find_element("id", "chat-input").send_keys("Quali metodi di pagamento accettate?")
    browser.find_element("id", "chat-send").click()
    WebDriverWait(browser, 60).until(lambda b: bot_replies(b))
    assert bot_replies(browser) == [authored(domain, "utter_payment_methods", "it")]
    assert browser.find_element("id", "chat-error").is_displayed() is False


def test_too_long_message_is_refused_with_a_clear_error_and_kept(bot_stack, browser):
    browser.get(bot_stack.chat_url)
    box = browser.find_element("id", "chat-input")
    browser.execute_script("arguments[0].removeAttribute('maxlength'); arguments[0].value = 'a'.repeat(2500);", box)
    browser.find_element("id", "chat-send").click()
    error = browser.find_element("id", "chat-error")
    assert error.is_displayed()
    assert "at most 2000 characters" in error.text
    assert len(box.get_attribute("value")) == 2500
    assert bot_replies(browser) == []
