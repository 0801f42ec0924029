"""A sentence-transformers model that is not moved again to the device it is already on.

`SentenceTransformer.encode` calls `self.to(device)` on every call, and torch's `Module.to`
walks every layer and parameter even when nothing moves: for a 12-layer encoder that walk
costs a noticeable part of embedding one customer message. Bridge loads its encoder on the
CPU once per process (bot/models/encoder.py) and never moves it, so a move to the device the
model is already on returns at once; any other `to` (another device, a dtype) is torch's own.

Imported only where the model is loaded: importing it imports sentence-transformers.
"""

from __future__ import annotations

from typing import Any

import torch
from sentence_transformers import SentenceTransformer


class ResidentSentenceTransformer(SentenceTransformer):
    """SentenceTransformer whose `to(device)` is free when the model is already there."""

    def to(self, *args: Any, **kwargs: Any) -> ResidentSentenceTransformer:
        if not kwargs and len(args) == 1 and isinstance(args[0], (str, torch.device)):
            if _same_device(torch.device(args[0]), self.device):
                return self
        return super().to(*args, **kwargs)


def _same_device(wanted: torch.device, current: torch.device) -> bool:
    # "cuda" means the current CUDA device, whose index only torch knows: left to torch.
    return wanted.type == current.type and (wanted.index == current.index or wanted.type == "cpu")
