"""End to end: a real Rasa server and action server answer REST messages in 12 languages."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.helpers.demo_domain import authored
from tests.helpers.rasa_server import send, tracker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# One request per language, each a different intent, none copied from the training data.
REQUESTS = [
    ("en", "How many days does standard shipping usually take?", "delivery_time", "utter_delivery_time"),
    ("es", "Quiero devolver unas zapatillas que compré el mes pasado", "return_request", "utter_return_request"),
    ("pt", "Esqueci minha senha e agora não consigo entrar na conta", "password_reset", "utter_password_reset"),
    ("fr", "Quels moyens de paiement est-ce que vous acceptez ?", "payment_methods", "utter_payment_methods"),
    ("de", "Ich möchte meine Bestellung bitte stornieren", "cancel_order", "utter_cancel_order"),
    ("it", "Mi serve la fattura per l'acquisto che ho fatto", "request_invoice", "utter_request_invoice"),
    ("ru", "Как зарегистрироваться в вашем магазине?", "create_account", "utter_create_account"),
    ("zh", "我想注销我的账户，删除所有数据", "delete_account", "utter_delete_account"),
    ("ja", "返品した商品の返金はいつ振り込まれますか？", "refund_status", "utter_refund_status"),
    ("ko", "카드 결제가 자꾸 실패해요", "payment_problem", "utter_payment_problem"),
    ("ar", "أريد تغيير عنوان التوصيل لطلبي", "change_delivery_address", "utter_change_delivery_address"),
    ("hi", "क्या मैं किसी बॉट से बात कर रहा हूँ?", "bot_challenge", "utter_iamabot"),
]


@pytest.mark.parametrize("language, text, intent, response", REQUESTS, ids=[r[0] for r in REQUESTS])
def test_each_language_gets_the_right_answer_in_its_own_language(bot_stack, domain, language, text, intent, response):
    sender = f"it-{language}-{uuid.uuid4().hex[:8]}"
    replies = send(bot_stack, sender, text)
    state = tracker(bot_stack, sender)
    parse = state["latest_message"]
    print(
        f"[{language}] {text!r} -> intent={parse['intent']['name']} "
        f"({parse['intent']['confidence']:.2f}) reply={replies!r}"
    )
    assert parse["intent"]["name"] == intent
    assert parse["language"] == language
    assert state["slots"]["language"] == language
    assert replies == [authored(domain, response, language)]


def test_japanese_order_status_comes_from_the_orders_table_in_japanese(bot_stack, domain):
    sender = f"it-ja-order-{uuid.uuid4().hex[:8]}"
    replies = send(bot_stack, sender, "注文番号10045の配送状況を教えてください")
    print(f"[ja] order 10045 -> {replies!r}")
    assert replies == [authored(domain, "utter_order_shipped", "ja", order_id="10045", delivery_date="2026-12-03")]


def test_order_number_alone_keeps_the_conversation_language(bot_stack, domain):
    sender = f"it-de-order-{uuid.uuid4().hex[:8]}"
    assert send(bot_stack, sender, "Wo ist meine Bestellung? Sie ist noch nicht da.") == [
        authored(domain, "utter_ask_order_number", "de")
    ]
    replies = send(bot_stack, sender, "10047")
    assert replies == [authored(domain, "utter_order_processing", "de", order_id="10047")]


def test_handoff_opens_a_ticket_and_answers_in_korean(bot_stack, domain, shop_db_url):
    sender = f"it-ko-human-{uuid.uuid4().hex[:8]}"
    replies = send(bot_stack, sender, "사람 상담원과 직접 이야기하고 싶어요")
    # The bot_stack's action server keeps its tickets in the shop database (no BRIDGE_HANDOFF_DB_URL).
    engine = sa.create_engine(shop_db_url)
    with engine.connect() as connection:
        ticket = connection.execute(
            sa.text("SELECT ticket_id, language FROM handoff_tickets WHERE sender_id = :s"), {"s": sender}
        ).one()
    assert ticket.language == "ko"
    assert replies == [
        authored(domain, "utter_handoff", "ko", ticket_id=str(ticket.ticket_id)),
        authored(domain, "utter_handoff_wait_time", "ko", handoff_wait_minutes="5"),
    ]


def test_bot_messages_record_language_and_translation_path(bot_stack):
    sender = f"it-fr-meta-{uuid.uuid4().hex[:8]}"
    send(bot_stack, sender, "Comment est-ce que je peux créer un compte chez vous ?")
    bot_events = [e for e in tracker(bot_stack, sender)["events"] if e["event"] == "bot"]
    assert bot_events and all(e["metadata"]["language"] == "fr" for e in bot_events)
    assert all(e["metadata"]["translation"] == "authored" for e in bot_events)
