"""Rows of a model's word-embedding matrix, read from its safetensors file as texts need them.

e5's vocabulary has 250,037 rows of 384 floats, 366 MB, and a text uses a few dozen of them.
Loaded the usual way the matrix is memory-mapped, but every row a text touches maps whole
neighbourhoods of the file around it (the kernel's read-around and fault-around), and a server
that has seen a few hundred messages held 150-190 MB of it, more as customers write more
words. Reading just the rows a batch uses with `os.pread` keeps none of the matrix in the
process: the file stays in the operating system's page cache, shared by every process, and
a lookup of a message's rows costs a few microseconds each.

The file is found through the folder's safetensors index (a sharded checkpoint) or its
single model.safetensors, and read per the format's header: an 8-byte little-endian header
size, a JSON header giving each tensor's dtype, shape and byte offsets, then the data.

Example:
    >>> rows = EmbeddingRows.find(folder, "embeddings.word_embeddings.weight")
    >>> rows.lookup(torch.tensor([[0, 41, 2]])).shape
    torch.Size([1, 3, 384])
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

INDEX_FILE = "model.safetensors.index.json"
SINGLE_FILE = "model.safetensors"


class EmbeddingRows:
    """Reads float32 rows of one (rows, width) tensor of a safetensors file."""

    def __init__(self, path: Path, data_start: int, rows: int, width: int) -> None:
        self.path = path
        self.rows = rows
        self.width = width
        self._start = data_start
        self._row_bytes = 4 * width
        self._fd = os.open(path, os.O_RDONLY)

    @classmethod
    def find(cls, folder: str | os.PathLike, tensor_suffix: str) -> EmbeddingRows | None:
        """The rows of the tensor whose name ends with `tensor_suffix` in `folder`'s weights, or
        None when no safetensors file there holds it as a float32 matrix."""
        folder = Path(folder)
        index = folder / INDEX_FILE
        if index.is_file():
            files = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        else:
            files = [SINGLE_FILE]
        for name in files:
            path = folder / name
            if not path.is_file():
                continue
            header, data_start = _read_header(path)
            for tensor, entry in header.items():
                if tensor.endswith(tensor_suffix) and entry["dtype"] == "F32" and len(entry["shape"]) == 2:
                    rows, width = entry["shape"]
                    return cls(path, data_start + entry["data_offsets"][0], rows, width)
        return None

    def lookup(self, ids: Any) -> Any:
        """A float32 tensor of shape ids.shape + (width,): row `i` for each id `i` (a torch
        LongTensor)."""
        import torch

        unique, inverse = torch.unique(ids, return_inverse=True)
        table = np.empty((len(unique), self.width), dtype=np.float32)
        for i, row in enumerate(unique.tolist()):
            if not 0 <= row < self.rows:
                raise IndexError(f"token id {row} is outside the vocabulary of {self.rows} rows in {self.path}")
            data = os.pread(self._fd, self._row_bytes, self._start + row * self._row_bytes)
            table[i] = np.frombuffer(data, dtype="<f4")
        return torch.from_numpy(table)[inverse]

    def matches(self, weight: Any) -> bool:
        """Whether the rows read equal those of `weight` (the loaded matrix) at both ends and the
        middle: the file is the one the model was loaded from."""
        import torch

        if tuple(weight.shape) != (self.rows, self.width):
            return False
        probe = torch.tensor([0, self.rows // 2, self.rows - 1])
        return bool(torch.equal(self.lookup(probe), weight.detach()[probe].to(torch.float32)))


def _read_header(path: Path) -> tuple[dict[str, Any], int]:
    """The JSON header of a safetensors file (without its metadata) and where its data starts."""
    with open(path, "rb") as file:
        (size,) = struct.unpack("<Q", file.read(8))
        header = json.loads(file.read(size))
    header.pop("__metadata__", None)
    return header, 8 + size
