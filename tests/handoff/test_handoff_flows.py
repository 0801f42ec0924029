"""Hand-off end to end on real servers: a Korean customer with an English agent (no backend for
the pair), REST with its callback, Slack and Telegram against their fake APIs, two agents
claiming one conversation at once, an agent's take-over, and a ticket nobody claims in time."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from bot.handoff import queue
from bot.handoff.rasa_api import RasaConversations
from bot.handoff.relay import HandoffRelay
from bot.handoff.settings import HandoffSettings
from tests.channels.test_telegram import post_update
from tests.helpers.channel_clients import SocketIOCustomer
from tests.helpers.demo_domain import authored
from tests.helpers.handoff_stack import RASA_TOKEN, SLACK_CUSTOMER
from tests.helpers.rasa_server import send, tracker
from tests.helpers.slack_requests import message_event, post_to_slack_webhook
from tests.helpers.telegram_requests import new_chat_id, text_update

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ENGLISH_REPLY = "I checked order 10045: it ships today, and the refund of $25.00 is on its way."


def agent_email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:6]}@handoff.example"


def test_korean_customer_english_agent_is_warned_and_the_customer_gets_a_korean_notice(handoff_stack, domain):
    customer = SocketIOCustomer(handoff_stack.rasa_url)
    try:
        customer.say("사람 상담원과 직접 이야기하고 싶어요", "ko")
        texts = customer.wait_for_texts(2)
        assert texts[1] == authored(domain, "utter_handoff_wait_time", "ko", handoff_wait_minutes="5")
        agent = handoff_stack.agent(agent_email("en-agent"), "en")
        ticket = agent.waiting_ticket(customer.session_id)
        assert (ticket["language"], ticket["channel"], ticket["reason"]) == ("ko", "socketio", "talk_to_human")
        assert ticket["translated_for_you"] is False
        assert agent.post(f"/api/handoffs/{ticket['ticket_id']}/claim").status_code == 201

        customer.say("주문 10045 배송이 늦어요")
        seen = agent.wait_for_message(ticket["ticket_id"], "customer", "주문 10045 배송이 늦어요")
        assert seen["for_agent"] is None  # no Korean -> English backend: the agent reads the original
        bot_replies = [m for m in agent.messages(ticket["ticket_id"]) if m["kind"] == "bot"]
        assert bot_replies and all(m["for_agent"] is None for m in bot_replies)  # the same for the bot's Korean
        assert len(customer.wait_for_texts(3, timeout=3)) == 2  # the paused bot did not answer

        warned = agent.post(f"/api/handoffs/{ticket['ticket_id']}/messages", {"text": ENGLISH_REPLY})
        assert warned.status_code == 409
        assert "No translation from en to ko" in warned.json()["confirm"]
        assert len(customer.wait_for_texts(3, timeout=2)) == 2  # nothing was sent before confirming

        sent = agent.post(
            f"/api/handoffs/{ticket['ticket_id']}/messages", {"text": ENGLISH_REPLY, "send_untranslated": True}
        )
        assert sent.status_code == 201, sent.text
        notice = authored(domain, "utter_agent_untranslated_notice", "ko")
        assert customer.wait_for_texts(3)[2] == f"{ENGLISH_REPLY}\n{notice}"
        assert (sent.json()["text"], sent.json()["route"]) == (f"{ENGLISH_REPLY}\n{notice}", "fallback")
    finally:
        customer.close()


def test_rest_customer_gets_the_agent_reply_in_portuguese_at_the_callback(handoff_stack, domain):
    sender = f"rest-pt-{uuid.uuid4().hex[:8]}"
    replies = send(handoff_stack, sender, "Quero falar com um atendente humano, por favor", {"language": "pt"})
    assert replies[-1] == authored(domain, "utter_handoff_wait_time", "pt", handoff_wait_minutes="5")
    assert send(handoff_stack, sender, "Meu pedido 10045 chegou quebrado") == []  # paused: no bot reply
    agent = handoff_stack.agent(agent_email("rest-agent"), "en")
    ticket = agent.waiting_ticket(sender)
    assert agent.post(f"/api/handoffs/{ticket['ticket_id']}/claim").status_code == 201
    seen = agent.wait_for_message(ticket["ticket_id"], "customer", "Meu pedido 10045 chegou quebrado")
    assert "10045" in seen["for_agent"]["text"] and seen["for_agent"]["route"].startswith(("mt:", "memory"))
    # The bot's Portuguese replies so far, authored in Portuguese: translated for the agent.
    waiting = next(m for m in agent.messages(ticket["ticket_id"]) if m["text"] == replies[-1])
    assert (waiting["kind"], waiting["language"], waiting["route"]) == ("bot", "pt", "authored")
    for_agent = waiting["for_agent"]
    assert for_agent["route"].startswith(("mt:", "memory")) and for_agent["text"] != waiting["text"]
    assert "5" in for_agent["text"]  # the minutes survive the translation

    sent = agent.post(f"/api/handoffs/{ticket['ticket_id']}/messages", {"text": ENGLISH_REPLY})
    assert sent.status_code == 201, sent.text
    delivered = sent.json()
    assert delivered["route"].startswith(("mt:", "memory")) and "10045" in delivered["text"]
    # A reply written in the agent's language is shown to the agent as written.
    [shown] = [m for m in agent.messages(ticket["ticket_id"]) if m["kind"] == "agent"]
    assert shown["text"] == delivered["text"] and shown["for_agent"] == {"text": ENGLISH_REPLY, "route": "source"}
    deadline = time.monotonic() + 30
    while not any(b["recipient_id"] == sender for b in handoff_stack.callback.bodies) and time.monotonic() < deadline:
        time.sleep(0.2)
    [body] = [b for b in handoff_stack.callback.bodies if b["recipient_id"] == sender]
    assert [m["text"] for m in body["messages"]] == [delivered["text"]]

    assert agent.post(f"/api/handoffs/{ticket['ticket_id']}/hand-back", {}).status_code == 200
    assert send(handoff_stack, sender, "Esqueci minha senha e agora não consigo entrar na conta") == [
        authored(domain, "utter_password_reset", "pt")
    ]
    events = tracker(handoff_stack, sender)["events"]
    kinds = [e["event"] for e in events]
    assert "pause" in kinds and "resume" in kinds
    assert any(e["event"] == "slot" and e["name"] == "handoff_agent" and e["value"] == agent.email for e in events)


def test_slack_customer_gets_the_agent_reply_in_portuguese_in_the_thread_they_wrote_in(handoff_stack, domain):
    channel, thread = f"C{uuid.uuid4().hex[:8].upper()}", f"{time.time() - 60:.6f}"
    body = message_event(
        SLACK_CUSTOMER,
        "<@U0BRIDGEBOT> Quero falar com um atendente humano, por favor",
        channel,
        f"Ev{uuid.uuid4().hex[:10]}",
        type="app_mention",
        channel_type="channel",
        thread_ts=thread,
    )
    assert post_to_slack_webhook(handoff_stack, body)[0] == 200
    handoff = authored(domain, "utter_handoff_wait_time", "pt", handoff_wait_minutes="5")
    assert handoff_stack.slack.wait_for("chat.postMessage", channel=channel, thread_ts=thread, text=handoff)
    agent = handoff_stack.agent(agent_email("slack-agent"), "en")
    ticket = agent.waiting_ticket(SLACK_CUSTOMER)
    assert (ticket["channel"], ticket["language"]) == ("slack", "pt")
    assert agent.post(f"/api/handoffs/{ticket['ticket_id']}/claim").status_code == 201
    sent = agent.post(f"/api/handoffs/{ticket['ticket_id']}/messages", {"text": ENGLISH_REPLY})
    assert sent.status_code == 201, sent.text
    pushed = handoff_stack.slack.wait_for("chat.postMessage", text=sent.json()["text"])
    assert len(pushed) == 1 and "10045" in pushed[0].params["text"]
    # Into the customer's thread, as the bot's replies: not into a direct message.
    assert (pushed[0].params["channel"], pushed[0].params.get("thread_ts")) == (channel, thread)
    assert agent.post(f"/api/handoffs/{ticket['ticket_id']}/hand-back", {"close": True}).status_code == 200
    returned = authored(domain, "utter_handoff_returned", "pt")
    assert handoff_stack.slack.wait_for("chat.postMessage", channel=channel, thread_ts=thread, text=returned)


def test_telegram_customer_gets_the_agent_reply_in_portuguese(handoff_stack, domain):
    chat_id = new_chat_id()
    assert (
        post_update(handoff_stack, text_update(chat_id, "Quero falar com um atendente humano, por favor", "pt"))[0]
        == 200
    )
    handoff = authored(domain, "utter_handoff_wait_time", "pt", handoff_wait_minutes="5")
    assert handoff_stack.telegram.wait_for("sendMessage", chat_id=chat_id, text=handoff)
    agent = handoff_stack.agent(agent_email("telegram-agent"), "en")
    ticket = agent.waiting_ticket(str(chat_id))
    assert (ticket["channel"], ticket["language"]) == ("telegram", "pt")
    assert agent.post(f"/api/handoffs/{ticket['ticket_id']}/claim").status_code == 201
    sent = agent.post(f"/api/handoffs/{ticket['ticket_id']}/messages", {"text": ENGLISH_REPLY})
    assert sent.status_code == 201, sent.text
    pushed = handoff_stack.telegram.wait_for("sendMessage", text=sent.json()["text"])
    assert pushed and str(pushed[0].params["chat_id"]) == str(chat_id) and "10045" in pushed[0].params["text"]


def test_two_agents_claiming_at_once_one_wins_and_the_other_is_told_who(handoff_stack):
    sender = f"rest-race-{uuid.uuid4().hex[:8]}"
    send(handoff_stack, sender, "I want to talk to a human agent please", {"language": "en"})
    first, second = handoff_stack.agent(agent_email("first"), "en"), handoff_stack.agent(agent_email("second"), "de")
    ticket = first.waiting_ticket(sender)
    start, answers = threading.Barrier(2), {}

    def claim(agent) -> None:
        start.wait()
        answers[agent.email] = agent.post(f"/api/handoffs/{ticket['ticket_id']}/claim")

    threads = [threading.Thread(target=claim, args=(agent,)) for agent in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(answer.status_code for answer in answers.values())
    assert statuses == [201, 409]
    winner = next(email for email, answer in answers.items() if answer.status_code == 201)
    loser = next(answer for answer in answers.values() if answer.status_code == 409)
    assert winner in loser.json()["error"]
    holders = [e["value"] for e in tracker(handoff_stack, sender)["events"] if e.get("name") == "handoff_agent"]
    assert holders == [winner]  # the tracker records one take-over


def test_an_agent_takes_a_conversation_over_and_the_bot_stays_quiet_until_the_hand_back(handoff_stack, domain):
    sender = f"rest-takeover-{uuid.uuid4().hex[:8]}"
    assert send(handoff_stack, sender, "Esqueci minha senha e agora não consigo entrar na conta", {"language": "pt"})
    agent = handoff_stack.agent(agent_email("takeover"), "en")
    taken = agent.post("/api/handoffs/take-over", {"sender_id": sender})
    assert taken.status_code == 201, taken.text
    assert send(handoff_stack, sender, "Ainda não consegui entrar") == []  # the bot is paused
    ticket = agent.get(f"/api/handoffs/{taken.json()['ticket_id']}/messages").json()["ticket"]
    assert (ticket["reason"], ticket["status"], ticket["agent_email"]) == ("agent_takeover", "claimed", agent.email)
    assert agent.post(f"/api/handoffs/{ticket['ticket_id']}/hand-back", {}).status_code == 200
    assert send(handoff_stack, sender, "Esqueci minha senha e agora não consigo entrar na conta") == [
        authored(domain, "utter_password_reset", "pt")
    ]


def test_nobody_claiming_in_time_tells_the_customer_and_the_bot_resumes(handoff_stack, domain):
    sender = f"rest-unclaimed-{uuid.uuid4().hex[:8]}"
    send(handoff_stack, sender, "Quero falar com um atendente humano, por favor", {"language": "pt"})
    settings = HandoffSettings(db_url=handoff_stack.queue_url, claim_minutes=15)
    relay = HandoffRelay(
        settings,
        queue.queue_engine(settings.db_url),
        sa.create_engine(f"sqlite:///{handoff_stack.tracker_db}"),
        RasaConversations([handoff_stack.rasa_url], RASA_TOKEN),
    )
    ticket_id = int(tracker(handoff_stack, sender)["slots"]["handoff_ticket_id"])
    assert ticket_id not in relay.expire_unclaimed(queue.utc_now())  # not late yet
    assert ticket_id in relay.expire_unclaimed(queue.utc_now() + dt.timedelta(minutes=16))
    told = [e["text"] for e in tracker(handoff_stack, sender)["events"] if e["event"] == "bot"][-1]
    assert told == authored(domain, "utter_handoff_unavailable", "pt", handoff_ticket_id=str(ticket_id))
    assert send(handoff_stack, sender, "Esqueci minha senha e agora não consigo entrar na conta") == [
        authored(domain, "utter_password_reset", "pt")
    ]
