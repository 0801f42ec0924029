"""A hand-off across two Rasa replicas sharing PostgreSQL and the Redis lock store, with the
console in its own process: a widget's socket on one replica receives, live and once, the
agent's message sent through the other replica's API; and while one replica is restarted, no
message is lost or duplicated."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa
import yaml

from bot.serving.processes import BotStack, free_port
from tests.conftest import PROJECT_DIR
from tests.helpers.channel_clients import SocketIOCustomer
from tests.helpers.demo_domain import authored
from tests.helpers.handoff_stack import RASA_TOKEN, ConsoleAgent, start_console
from tests.helpers.rasa_server import send, tracker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REPLY = "Order 10045 is on its way; I added a voucher of $10.00 to your account."


@pytest.fixture(scope="module")
def replicas(demo_model, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("handoff-replicas")
    name = f"bridge_handoff_replicas_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    database_url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    shared = {"BRIDGE_HANDOFF_DB_URL": database_url, "BRIDGE_HANDOFF_CLAIM_MINUTES": "60"}
    stacks = []
    for index in range(2):
        action_port = free_port()
        endpoints = yaml.safe_load((PROJECT_DIR / "endpoints.yml").read_text())
        endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{action_port}/webhook"
        endpoints["tracker_store"] = {
            "type": "SQL",
            "dialect": "postgresql",
            "url": "127.0.0.1",
            "port": 5432,
            "db": name,
            "username": "postgres",
        }
        endpoints["lock_store"] = {"type": "redis", "url": "127.0.0.1", "port": 6379, "db": 1}
        path = tmp_path / f"endpoints-{index}.yml"
        path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
        # The channels find the shared Redis (socket.io's client manager) in BRIDGE_ENDPOINTS.
        env = {"BRIDGE_SHOP_DB_URL": f"sqlite:///{tmp_path / 'shop.db'}", "BRIDGE_ENDPOINTS": str(path), **shared}
        stack = BotStack.on_free_port(
            PROJECT_DIR, demo_model, path, action_port, tmp_path / f"logs-{index}", env, RASA_TOKEN
        )
        stack.start()
        stacks.append(stack)
    console_port = free_port()
    console = start_console(tmp_path, console_port, database_url, [s.rasa_url for s in stacks], shared)
    try:
        yield stacks, f"http://127.0.0.1:{console_port}", database_url
    finally:
        console.stop()
        for stack in stacks:
            stack.stop()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_widget_on_one_replica_gets_the_agent_message_sent_through_the_other_once(replicas, domain):
    (first, second), console_url, _ = replicas
    # The console reaches the replicas in the order of BRIDGE_RASA_URLS: the first one answers
    # the agent, and the customer's socket is on the second.
    customer = SocketIOCustomer(second.rasa_url)
    try:
        customer.say("Quero falar com um atendente humano, por favor", "pt")
        texts = customer.wait_for_texts(2, settle=2)
        waiting = authored(domain, "utter_handoff_wait_time", "pt", handoff_wait_minutes="5")
        assert len(texts) == 2 and texts[1] == waiting  # the bot's replies, each once

        admin = ConsoleAgent(console_url, "admin@handoff.example", "admin-password-1")
        body = {"email": "live@handoff.example", "password": "agent-password-1", "role": "agent", "language": "en"}
        assert admin.post("/api/agents", body).status_code == 201
        agent = ConsoleAgent(console_url, body["email"], body["password"])
        ticket = agent.waiting_ticket(customer.session_id)
        assert agent.post(f"/api/handoffs/{ticket['ticket_id']}/claim").status_code == 201
        late = "O pedido 10045 não chegou"
        customer.say(late)
        agent.wait_for_message(ticket["ticket_id"], "customer", late)

        sent = agent.post(f"/api/handoffs/{ticket['ticket_id']}/messages", {"text": REPLY})
        assert sent.status_code == 201, sent.text
        delivered = sent.json()
        assert delivered["language"] == "pt" and delivered["route"].startswith(("mt:", "memory"))
        assert "10045" in delivered["text"] and delivered["text"] != REPLY
        texts = customer.wait_for_texts(3, settle=2)
        pushed = texts.count(delivered["text"])
        stored = [
            e["text"]
            for e in tracker(first, customer.session_id)["events"]
            if e["event"] == "bot" and e["metadata"].get("utter_action") == "utter_agent_message"
        ]
        print(
            f"agent messages stored: {len(stored)}, distinct {len(set(stored))}, pushed live to the socket on "
            f"the other replica: {pushed}; socket texts: {len(texts)}"
        )
        assert (len(stored), pushed, len(texts)) == (1, 1, 3)

        assert agent.post(f"/api/handoffs/{ticket['ticket_id']}/hand-back", {}).status_code == 200
        texts = customer.wait_for_texts(4, settle=2)
        assert texts[3:] == [authored(domain, "utter_handoff_returned", "pt")]
        customer.say("Esqueci minha senha e agora não consigo entrar na conta")
        texts = customer.wait_for_texts(5, settle=2)
        assert texts[4:] == [authored(domain, "utter_password_reset", "pt")]  # the bot again, once
    finally:
        customer.close()


def restart(stack: BotStack, name: str = "rasa server") -> None:
    served = next(p for p in stack.processes if p.name == name)
    served.stop()
    served.start(stack.project_dir, served_environment(stack))
    deadline = time.monotonic() + 300
    while not served.is_ready():
        assert served.process.poll() is None and time.monotonic() < deadline, f"see {served.log_path}"
        time.sleep(0.5)


def served_environment(stack: BotStack) -> dict[str, str]:
    from bot.project import project_environment

    return project_environment(stack.project_dir, stack.env)


def test_a_handoff_survives_a_replica_restart_without_losing_or_repeating_a_message(replicas, domain):
    (first, second), console_url, _ = replicas
    sender = f"replica-pt-{uuid.uuid4().hex[:8]}"
    send(first, sender, "Quero falar com um atendente humano, por favor", {"language": "pt"})
    admin = ConsoleAgent(console_url, "admin@handoff.example", "admin-password-1")
    body = {"email": "replica@handoff.example", "password": "agent-password-1", "role": "agent", "language": "en"}
    assert admin.post("/api/agents", body).status_code == 201
    agent = ConsoleAgent(console_url, body["email"], body["password"])
    ticket = agent.waiting_ticket(sender)
    assert agent.post(f"/api/handoffs/{ticket['ticket_id']}/claim").status_code == 201

    customer_texts = [f"Mensagem número {n} sobre o pedido 10045" for n in range(6)]
    for index, text in enumerate(customer_texts[:3]):  # one replica, then the other
        assert send((first, second)[index % 2], sender, text) == []
    stopped = next(p for p in first.processes if p.name == "rasa server")
    stopped.stop()
    try:
        sent = agent.post(f"/api/handoffs/{ticket['ticket_id']}/messages", {"text": REPLY})
        assert sent.status_code == 201, sent.text  # the console used the replica that answers
        for text in customer_texts[3:]:
            assert send(second, sender, text) == []
    finally:
        restart(first)
    assert agent.post(f"/api/handoffs/{ticket['ticket_id']}/hand-back", {}).status_code == 200
    assert send(first, sender, "Esqueci minha senha e agora não consigo entrar na conta") == [
        authored(domain, "utter_password_reset", "pt")
    ]

    events = tracker(second, sender)["events"]
    said = Counter(e["text"] for e in events if e["event"] == "user")
    agent_messages = [
        e for e in events if e["event"] == "bot" and e["metadata"].get("utter_action") == "utter_agent_message"
    ]
    print(
        f"customer messages stored: {sum(said.values())}, distinct {len(said)}; agent messages: {len(agent_messages)}"
    )
    assert all(said[text] == 1 for text in customer_texts) and len(said) == len(customer_texts) + 2
    assert len(agent_messages) == 1 and "10045" in agent_messages[0]["text"]
    assert [e["event"] for e in events if e["event"] in ("pause", "resume")] == ["pause", "resume"]
