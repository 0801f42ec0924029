"""Inference settings: thread count restored, bfloat16 only where asked or native."""

import pytest
import torch

from bot.models.cpu_inference import cpu_has_native_bfloat16, cpu_inference, uses_bfloat16


def test_threads_apply_inside_and_are_restored_after():
    torch.set_num_threads(2)
    with cpu_inference(threads=1, precision="float32"):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


def test_threads_are_restored_when_prediction_fails():
    torch.set_num_threads(2)
    with pytest.raises(RuntimeError):
        with cpu_inference(threads=1, precision="float32"):
            raise RuntimeError("model failed")
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("precision, expected", [("float32", torch.float32), ("bfloat16", torch.bfloat16)])
def test_precision_decides_the_dtype_of_matrix_products(precision, expected):
    layer = torch.nn.Linear(8, 4)
    with cpu_inference(threads=1, precision=precision):
        assert layer(torch.ones(2, 8)).dtype == expected


def test_auto_uses_bfloat16_exactly_where_the_cpu_has_it():
    assert uses_bfloat16("auto") == cpu_has_native_bfloat16()
    assert uses_bfloat16("bfloat16") and not uses_bfloat16("float32")


def test_unknown_precision_lists_the_choices():
    with pytest.raises(ValueError, match=r"'auto', 'bfloat16', 'float32'.*'int8'"):
        uses_bfloat16("int8")
