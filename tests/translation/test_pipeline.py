"""memory -> MT -> fallback with the real Bergamot engine; spans survive any model."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.translation.base import BackendError, Pair, TranslationBackend, TranslationConfigError, create_backend
from bot.translation.pipeline import TranslationPipeline
from bot.translation.protection import SpanProtector

ANSWER = (
    "Thanks for contacting Cobalt Shop! Your order #10045 has shipped.\n"
    "\n"
    "- Track it at https://shop.example.com/track/10045\n"
    "- Questions? Write to help@cobalt.example\n"
    "1. Your refund of $49.90 arrives within 5 business days."
)


class ScramblingBackend(TranslationBackend):
    """A model that loses and invents tokens, as small or badly fine-tuned models do."""

    def __init__(self, name: str = "scrambler", pairs: Sequence[Pair] = (("en", "de"),)) -> None:
        super().__init__(name)
        self._pairs = list(pairs)

    @property
    def pairs(self) -> Sequence[Pair]:
        return self._pairs

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        return [f"X7 {text.upper().replace('X1', '')} X2 X2" for text in texts]


class BrokenBackend(ScramblingBackend):
    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        raise BackendError("engine crashed")


@pytest.fixture(scope="module")
def bergamot():
    return create_backend("bergamot", {"type": "bergamot"})


@pytest.fixture
def pipeline(bergamot, tmp_path):
    from bot.translation.memory import TranslationMemory

    protector = SpanProtector(["Cobalt Shop"])
    memory = TranslationMemory(f"sqlite:///{tmp_path / 'tm.db'}", protector)
    return TranslationPipeline([bergamot], protector, memory)


def test_english_answer_reaches_a_portuguese_reader_with_spans_and_layout_intact(pipeline):
    result = pipeline.translate(ANSWER, "en", "pt")
    print(result.text)
    assert result.path == "mt:bergamot" and result.text_language == "pt"
    for span in ["Cobalt Shop", "#10045", "https://shop.example.com/track/10045", "help@cobalt.example", "$49.90"]:
        assert result.text.count(span) == 1
    lines = result.text.split("\n")
    assert lines[1] == "" and lines[2].startswith("- ") and lines[3].startswith("- ") and lines[4].startswith("1. ")
    assert "enviado" in lines[0]


def test_second_request_comes_from_the_cache_and_serves_other_order_numbers(pipeline):
    first = pipeline.translate("Your order 10045 has shipped.", "en", "pt")
    again = pipeline.translate("Your order 20077 has shipped.", "en", "pt")
    assert (again.path, again.cached) == ("mt:bergamot", True)
    assert again.text == first.text.replace("10045", "20077")


def test_agent_correction_is_used_instead_of_machine_translation(pipeline):
    pipeline.translate("Your order 10045 has shipped.", "en", "pt")
    pipeline.memory.add_translation("Your order 10045 has shipped.", "Sua encomenda 10045 já saiu!", "en", "pt")
    result = pipeline.translate("Your order 31337 has shipped.", "en", "pt")
    assert (result.path, result.text) == ("memory", "Sua encomenda 31337 já saiu!")


def test_no_pair_falls_back_to_the_pivot_language(pipeline):
    english = pipeline.translate("O pedido 10045 foi enviado.", "pt", "ko")
    assert (english.path, english.text_language) == ("fallback", "en")
    assert "10045" in english.text and "order" in english.text.lower()
    untouched = pipeline.translate("Order 10045 has shipped.", "en", "ko")
    assert (untouched.path, untouched.text) == ("fallback", "Order 10045 has shipped.")


def test_pivot_route_goes_through_english(bergamot):
    pipeline = TranslationPipeline([bergamot, ScramblingBackend("de-model", [("en", "de")])], SpanProtector())
    assert [(s.backend.name, s.source, s.target) for s in pipeline.route("pt", "de")] == [
        ("bergamot", "pt", "en"),
        ("de-model", "en", "de"),
    ]
    result = pipeline.translate("O pedido 10045 foi enviado.", "pt", "de")
    assert result.path == "mt:bergamot+de-model" and result.text.count("10045") == 1


def test_spans_survive_a_model_that_drops_and_invents_tokens():
    pipeline = TranslationPipeline([ScramblingBackend()], SpanProtector(["Cobalt Shop"]))
    result = pipeline.translate("Order {order_id} from Cobalt Shop: see https://x.example/a, pay €12.", "en", "de")
    assert result.path == "mt:scrambler"
    for span in ["{order_id}", "Cobalt Shop", "https://x.example/a", "€12"]:
        assert result.text.count(span) == 1
    assert "X2" not in result.text and "X7" not in result.text


def test_a_failing_backend_gives_the_fallback_not_an_error():
    pipeline = TranslationPipeline([BrokenBackend()], SpanProtector())
    assert pipeline.translate("Hello there.", "en", "de").path == "fallback"


def test_bundled_bergamot_pairs_and_config_errors(bergamot):
    assert sorted(bergamot.pairs) == [("en", "pt"), ("pt", "en")]
    with pytest.raises(TranslationConfigError, match="Allowed: bergamot, huggingface, none"):
        create_backend("x", {"type": "deepl"})
    with pytest.raises(TranslationConfigError, match="carries models for en-pt, pt-en only"):
        create_backend("x", {"type": "bergamot", "models": {"en-de": "bundled"}})
    with pytest.raises(TranslationConfigError, match="'english-pt' is not a language pair"):
        create_backend("x", {"type": "bergamot", "models": {"english-pt": "bundled"}})
    with pytest.raises(TranslationConfigError, match="unknown key"):
        TranslationPipeline.from_settings({"memory": "x"})
    assert create_backend("off", {"type": "none"}).pairs == []


def test_missing_or_broken_bergamot_folder_is_an_error_naming_the_folder(tmp_path):
    from bot.translation.base import ModelFolderError

    missing = tmp_path / "deen"
    with pytest.raises(ModelFolderError, match=f"'{missing}' does not exist"):
        create_backend("b", {"type": "bergamot", "models": {"de-en": str(missing)}})
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ["model.deen.intgemm.alphas.bin", "lex.50.50.deen.s2t.bin", "tokenizer.json"]:
        (broken / name).write_bytes(b"not a model")
    with pytest.raises(ModelFolderError, match=f"'{broken}' could not be loaded"):
        create_backend("b", {"type": "bergamot", "models": {"de-en": str(broken)}})
    (broken / "tokenizer.json").unlink()
    with pytest.raises(ModelFolderError, match="lacks tokenizer.json"):
        create_backend("b", {"type": "bergamot", "models": {"de-en": str(broken)}})


def test_an_operator_added_bergamot_folder_is_used_for_its_pair(tmp_path):
    from bot.translation.bergamot import bundled_model_folder

    folder = tmp_path / "my-enpt"
    folder.mkdir()
    for file in bundled_model_folder(("en", "pt")).iterdir():
        (folder / file.name).symlink_to(file)
    backend = create_backend("mine", {"type": "bergamot", "models": {"en-pt": str(folder)}})
    assert backend.pairs == [("en", "pt")] and backend.folder("en", "pt") == folder
    assert "obrigado" in backend.translate_batch(["Thank you!"], "en", "pt")[0].lower()
