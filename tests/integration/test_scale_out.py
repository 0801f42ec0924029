"""Scale-out: two Rasa replicas on one PostgreSQL tracker store and the Redis lock store.

Docker does not run here, so the replicas are two Rasa processes on two ports with the
production endpoints. A conversation's turns go to the replicas in turn, as a load balancer
without sticky sessions would send them: each turn must find what the previous one (on the
other replica) stored, and the database must hold every turn once, in the order sent, with
the reply in the customer's language. Then twelve conversations at once, one per language.
"""

from __future__ import annotations

import uuid
from collections import Counter
from functools import cache

import pytest
import yaml

from tests.conftest import LANGUAGES, PROJECT_DIR
from tests.helpers.conversation_driver import ConversationDriver, Turn
from tests.helpers.demo_domain import authored
from tests.helpers.postgres import database_url, temporary_database
from tests.helpers.production_stack import production_stack
from tests.helpers.tracker_events import stored_events

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# (intent whose training example the customer sends, the response that answers it)
SMALL_TALK = [("greet", "utter_greet"), ("bot_challenge", "utter_iamabot"), ("thanks", "utter_youre_welcome")]
SMALL_TALK += [("goodbye", "utter_goodbye")]
# A German order lookup across replicas: the second turn only makes sense with the first's state.
ORDER_LOOKUP = [
    ("Hallo, ich hätte eine Frage", "utter_greet", {}),
    ("Wo ist meine Bestellung? Sie ist noch nicht da.", "utter_ask_order_number", {}),
    ("10047", "utter_order_processing", {"order_id": "10047"}),
    ("danke schön", "utter_youre_welcome", {}),
]


@cache
def example(language: str, intent: str) -> str:
    """The longest training example of `intent` in `language` (long texts name their language)."""
    data = yaml.safe_load((PROJECT_DIR / "training_data" / "nlu" / f"{language}.yml").read_text())
    block = next(item for item in data["nlu"] if item.get("intent") == intent)
    return max((line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")), key=len)


@pytest.fixture(scope="module")
def replicas(demo_model, shop_db_url, tmp_path_factory):
    """Two started replicas sharing one new PostgreSQL database; (their URLs, the database URL)."""
    with temporary_database() as database:
        stacks = [
            production_stack(demo_model, database, shop_db_url, tmp_path_factory.mktemp(f"replica-{n}"))
            for n in range(2)
        ]
        try:
            for stack in stacks:
                stack.start()
            yield [stack.rasa_url for stack in stacks], database_url(database)
        finally:
            for stack in stacks:
                stack.stop()


def alternating(urls: list[str], offsets: dict[str, int]):
    """A route sending turn n of a conversation to replica (n + its offset) mod 2."""
    return lambda sender, n: urls[(n + offsets.get(sender, 0)) % len(urls)]


def check_conversation(sender: str, turns: list[Turn], expected: list[str], database: str) -> Counter:
    """Asserts the replies and what the database holds; returns the counts."""
    turns = sorted(turns, key=lambda turn: turn.index)
    events = stored_events(database, sender)
    users = [e["text"] for e in events if e["event"] == "user"]
    bots = [e["text"] for e in events if e["event"] == "bot"]
    sent = [turn.text for turn in turns]
    counts = Counter(
        turns=len(turns),
        answered=sum(turn.answered for turn in turns),
        right_reply=sum(turn.replies == [reply] for turn, reply in zip(turns, expected)),
        stored_user=len(users),
        stored_bot=len(bots),
        lost=len(set(sent) - set(users)),
        twice=len(users) - len(set(users)),
    )
    context = f"{sender}: {dict(counts)}"
    assert counts["answered"] == len(turns), f"{context}; errors {[t.error for t in turns if t.error]}"
    assert [turn.replies for turn in turns] == [[reply] for reply in expected], f"{context}; wrong replies"
    assert users == sent, f"{context}; stored {users}, sent {sent}"
    assert bots == expected, f"{context}; stored bot texts differ from the replies"
    return counts


def test_one_conversation_alternating_between_replicas_keeps_its_state_and_order(replicas, domain):
    urls, database = replicas
    sender = f"scale-de-{uuid.uuid4().hex[:8]}"
    driver = ConversationDriver({sender: [text for text, _, _ in ORDER_LOOKUP]}, route=alternating(urls, {}))
    driver.start()
    driver.join()
    expected = [authored(domain, response, "de", **values) for _, response, values in ORDER_LOOKUP]
    counts = check_conversation(sender, driver.turns, expected, database)
    served = Counter(turn.url for turn in driver.turns)
    assert sorted(served.values()) == [2, 2], f"turns per replica: {dict(served)}"
    print(
        f"\nscale-out, one conversation: {counts['turns']} German turns alternating over 2 replicas "
        f"({served[urls[0]]} + {served[urls[1]]}), {counts['right_reply']}/{counts['turns']} right replies "
        f"(the order number answered on the other replica than its question), {counts['stored_user']} "
        f"stored in order, {counts['lost']} lost, {counts['twice']} twice"
    )


def test_twelve_conversations_at_once_alternating_between_replicas(replicas, domain):
    urls, database = replicas
    senders = {language: f"scale-{language}-{uuid.uuid4().hex[:8]}" for language in LANGUAGES}
    scripts = {senders[language]: [example(language, intent) for intent, _ in SMALL_TALK] for language in LANGUAGES}
    offsets = {sender: n % 2 for n, sender in enumerate(senders.values())}
    driver = ConversationDriver(scripts, route=alternating(urls, offsets))
    driver.start()
    driver.join()
    total = Counter()
    for language, sender in senders.items():
        expected = [authored(domain, response, language) for _, response in SMALL_TALK]
        total += check_conversation(sender, [t for t in driver.turns if t.sender == sender], expected, database)
    served = Counter(turn.url for turn in driver.turns)
    seconds = max(t.finished for t in driver.turns) - min(t.started for t in driver.turns)
    print(
        f"\nscale-out under load: {len(senders)} conversations in {len(senders)} languages at once, "
        f"{total['turns']} turns over 2 replicas ({served[urls[0]]} + {served[urls[1]]}), every conversation "
        f"alternating; {total['right_reply']}/{total['turns']} replies right and in the customer's language, "
        f"{total['stored_user']} user turns stored in order, {total['lost']} lost, {total['twice']} twice; "
        f"{seconds:.1f} s"
    )
    assert total["right_reply"] == total["turns"] == len(senders) * len(SMALL_TALK)
