"""Translation memory in SQL: agent entries win, entries are shared, PostgreSQL works too."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from bot.translation.base import TranslationConfigError
from bot.translation.memory import HUMAN, MACHINE, TranslationMemory
from bot.translation.protection import SpanProtector

POSTGRES_URL = "postgresql://root@127.0.0.1:5432/test"
PROTECTOR = SpanProtector(["Cobalt Shop"])


def postgres_available() -> bool:
    try:
        with sa.create_engine(POSTGRES_URL).connect():
            return True
    except sa.exc.SQLAlchemyError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def memory_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'tm.db'}"
    if not postgres_available():
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not answering; start it (scripts/services.sh).")
    return POSTGRES_URL


@pytest.fixture
def pair():
    """A language pair no other test uses, so runs against the shared PostgreSQL never collide."""
    tag = uuid.uuid4().hex[:6]
    return f"en{tag}", f"pt{tag}"


def test_agent_correction_wins_over_the_cached_machine_translation(memory_url, pair):
    memory = TranslationMemory(memory_url, PROTECTOR)
    key = memory.key("Order 10045 has shipped.")
    memory.store_machine(key, "A ordem ⟦1⟧ foi enviada.", *pair, backend="bergamot")
    assert memory.lookup(key, *pair).kind == MACHINE

    memory.add_translation("Order 10045 has shipped.", "Seu pedido 10045 foi enviado.", *pair, author="ana")
    entry = memory.lookup(memory.key("Order 20077 has shipped."), *pair)
    assert (entry.kind, entry.origin, entry.author) == (HUMAN, "agent", "ana")
    assert entry.restore(memory.key("Order 20077 has shipped."), PROTECTOR) == "Seu pedido 20077 foi enviado."


def test_a_second_correction_replaces_the_first_and_other_processes_see_it(memory_url, pair):
    writer, reader = TranslationMemory(memory_url, PROTECTOR), TranslationMemory(memory_url, PROTECTOR)
    writer.add_translation("Thanks for shopping at Cobalt Shop!", "Obrigado por comprar na Cobalt Shop!", *pair)
    writer.add_translation(
        "Thanks for shopping at Cobalt Shop!", "Valeu por comprar na Cobalt Shop!", *pair, author="bia"
    )
    entry = reader.lookup(reader.key("Thanks for shopping at Cobalt Shop!"), *pair)
    assert entry.target_key == "Valeu por comprar na ⟦1⟧!"
    assert [e.id for e in reader.entries(*pair)] == [entry.id]
    assert reader.delete_entry(entry.id)
    assert reader.lookup(reader.key("Thanks for shopping at Cobalt Shop!"), *pair) is None


def test_concurrent_writers_of_the_same_text_do_not_fail(memory_url, pair):
    memories = [TranslationMemory(memory_url, PROTECTOR) for _ in range(4)]
    key = memories[0].key("Your refund is on its way.")

    def store(memory: TranslationMemory) -> None:
        memory.store_machine(key, "Seu reembolso está a caminho.", *pair, backend="bergamot")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(store, memories))
    assert len(memories[0].entries(*pair)) == 1


def test_a_correction_must_keep_the_protected_spans(memory_url, pair):
    memory = TranslationMemory(memory_url, PROTECTOR)
    with pytest.raises(ValueError, match="missing: \\['10045'\\]"):
        memory.add_translation("Order 10045 has shipped.", "Seu pedido foi enviado.", *pair)
    with pytest.raises(ValueError, match="non-empty"):
        memory.add_translation("Order 10045 has shipped.", "  ", *pair)


def test_repeated_spans_keep_their_positions(tmp_path):
    memory = TranslationMemory(f"sqlite:///{tmp_path / 'tm.db'}", PROTECTOR)
    memory.add_translation("Pay $5 now, then $7 later.", "Depois $7, agora $5.", "en", "pt")
    key = memory.key("Pay $5 now, then $7 later.")
    assert memory.lookup(key, "en", "pt").target_key == "Depois ⟦2⟧, agora ⟦1⟧."


def test_an_unreachable_database_is_a_clear_start_up_error():
    with pytest.raises(TranslationConfigError, match="translation.memory_url"):
        TranslationMemory("postgresql://nobody@127.0.0.1:1/none", PROTECTOR)
