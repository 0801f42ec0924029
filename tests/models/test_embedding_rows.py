"""Word-embedding rows read from a safetensors file: the rows the matrix holds, and clear errors."""

import json

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

from bot.models.embedding_rows import EmbeddingRows

NAME = "embeddings.word_embeddings.weight"


@pytest.fixture
def matrix():
    return np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)


def test_rows_are_read_as_the_matrix_holds_them(tmp_path, matrix):
    save_file(
        {"embeddings.LayerNorm.weight": np.ones(8, np.float32), NAME: matrix}, str(tmp_path / "model.safetensors")
    )
    rows = EmbeddingRows.find(tmp_path, NAME)
    ids = torch.tensor([[3, 0, 49], [3, 3, 7]])
    np.testing.assert_array_equal(rows.lookup(ids).numpy(), matrix[ids.numpy()])
    assert rows.matches(torch.from_numpy(matrix))
    assert not rows.matches(torch.from_numpy(matrix[::-1].copy()))


def test_a_sharded_checkpoint_is_searched_through_its_index(tmp_path, matrix):
    save_file({"encoder.weight": np.ones(4, np.float32)}, str(tmp_path / "a.safetensors"))
    save_file({"bert." + NAME: matrix}, str(tmp_path / "b.safetensors"))
    index = {"weight_map": {"encoder.weight": "a.safetensors", "bert." + NAME: "b.safetensors"}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    rows = EmbeddingRows.find(tmp_path, NAME)
    np.testing.assert_array_equal(rows.lookup(torch.tensor([5])).numpy(), matrix[[5]])


def test_an_id_outside_the_vocabulary_is_named(tmp_path, matrix):
    save_file({NAME: matrix}, str(tmp_path / "model.safetensors"))
    with pytest.raises(IndexError, match="token id 50 is outside the vocabulary of 50 rows"):
        EmbeddingRows.find(tmp_path, NAME).lookup(torch.tensor([1, 50]))


def test_weights_without_the_matrix_give_none(tmp_path):
    save_file({NAME: np.ones((4, 2), np.float16)}, str(tmp_path / "model.safetensors"))
    assert EmbeddingRows.find(tmp_path, NAME) is None  # not float32
    assert EmbeddingRows.find(tmp_path / "nowhere", NAME) is None
