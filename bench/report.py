"""Shared output of every benchmark: a plain-text table on stdout and a JSON file."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS_DIR = Path("results") / "bench"


def format_table(headers: Sequence[str], rows: list[Sequence[Any]]) -> str:
    """A fixed-width table; floats are shown with up to 4 significant decimals."""

    def cell(value: Any) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def write_results(name: str, results: dict[str, Any], output_dir: Path = RESULTS_DIR) -> Path:
    """Writes results with when and where they were measured; returns the file path."""
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"{name}.json"
    payload = {
        "benchmark": name,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
        **results,
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2))
    return path
