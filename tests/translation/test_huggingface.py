"""Hugging Face seq2seq backend, on tiny random Marian and NLLB models the tests build themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.translation.base import BackendError, ModelFolderError, TranslationConfigError, create_backend
from bot.translation.pipeline import TranslationPipeline
from bot.translation.protection import SpanProtector
from tests.helpers.tiny_translation_models import build_tiny_marian, build_tiny_nllb

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_marian(tmp_path_factory) -> Path:
    return build_tiny_marian(tmp_path_factory.mktemp("tiny-marian"))


def backend(folder: Path, **settings):
    return create_backend("tiny", {"type": "huggingface", "model_path": str(folder), "pairs": ["en-pt"], **settings})


def test_loads_from_the_folder_and_translates_in_batches(tiny_marian):
    model = backend(tiny_marian, batch_size=2, max_new_tokens=8)
    assert model.family == "marian" and model.device == "cpu"
    texts = ["your order has shipped", "", "thanks for shopping", "please visit", "reset password"]
    outputs = model.translate_batch(texts, "en", "pt")
    assert len(outputs) == 5 and outputs[1] == ""
    assert all(outputs[i] for i in (0, 2, 3, 4))
    # Batched generation gives the same output as one text at a time.
    assert outputs[0] == model.translate_batch(["your order has shipped"], "en", "pt")[0]


def test_protected_spans_come_back_through_the_pipeline(tiny_marian):
    pipeline = TranslationPipeline([backend(tiny_marian, max_new_tokens=8)], SpanProtector(["Cobalt Shop"]))
    text = "Your order 10045 has shipped.\n- Thanks for shopping at Cobalt Shop!\n- Visit https://x.example/a"
    result = pipeline.translate(text, "en", "pt")
    assert result.path == "mt:tiny"
    for span in ["10045", "Cobalt Shop", "https://x.example/a"]:
        assert result.text.count(span) == 1
    assert [line[:2] for line in result.text.split("\n")[1:]] == ["- ", "- "]


def test_errors_name_the_folder_or_the_setting(tiny_marian, tmp_path):
    with pytest.raises(ModelFolderError, match=f"'{tmp_path / 'nope'}' does not exist"):
        backend(tmp_path / "nope")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    with pytest.raises(ModelFolderError, match=f"'{broken}' could not be loaded"):
        backend(broken)
    with pytest.raises(TranslationConfigError, match="exactly one pair"):
        create_backend("tiny", {"type": "huggingface", "model_path": str(tiny_marian), "pairs": ["en-pt", "en-de"]})
    with pytest.raises(TranslationConfigError, match="device: 'tpu' is not allowed"):
        backend(tiny_marian, device="tpu")
    with pytest.raises(TranslationConfigError, match="pairs: required"):
        create_backend("tiny", {"type": "huggingface", "model_path": str(tiny_marian)})
    with pytest.raises(BackendError, match="not configured for en-de"):
        backend(tiny_marian).translate_batch(["hi"], "en", "de")


def test_an_nllb_folder_translates_any_configured_pair_and_names_a_missing_language(tmp_path):
    folder = build_tiny_nllb(tmp_path / "tiny-nllb")
    model = create_backend(
        "nllb",
        {
            "type": "huggingface",
            "model_path": str(folder),
            "pairs": ["en-pt", "pt-de"],
            "max_new_tokens": 8,
            "batch_size": 2,
        },
    )
    assert model.family == "nllb"
    outputs = model.translate_batch(["your order has shipped", "", "thanks for shopping"], "en", "pt")
    assert outputs[1] == "" and outputs[0] and outputs[2]
    assert model.translate_batch(["seu pedido foi enviado"], "pt", "de")[0]
    with pytest.raises(TranslationConfigError, match="has no language token for 'ko' \\(looked for 'kor_Hang'\\)"):
        create_backend("nllb", {"type": "huggingface", "model_path": str(folder), "pairs": ["en-ko"]})
