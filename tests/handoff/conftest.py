"""The hand-off stack shared by this folder's end-to-end tests (started once per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.handoff_stack import HandoffStack, start_handoff_stack


@pytest.fixture(scope="session")
def handoff_stack(demo_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HandoffStack]:
    stack = start_handoff_stack(demo_model, tmp_path_factory.mktemp("handoff-stack"))
    yield stack
    stack.stop()
