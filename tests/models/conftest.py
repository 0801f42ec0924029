"""Fixtures of the model tests: tiny encoders the tests build (tests/helpers/tiny_encoder.py)."""

from tests.helpers.tiny_encoder import tiny_bert, tiny_xlmr  # noqa: F401 (fixtures)
