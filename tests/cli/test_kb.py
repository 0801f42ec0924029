"""`bridge kb build/add/remove/info/search` as a user runs them."""

from __future__ import annotations

import json

import pytest

from bot.cli.main import main

pytestmark = pytest.mark.slow


def write(path, *records):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def record(entry_id, question, answer):
    return {
        "id": entry_id,
        "questions": [question],
        "answer": answer,
        "language": "en",
        "updated_at": "2024-01-01T00:00:00Z",
    }


def kb_command(tmp_path, encoder_dir) -> list[str]:
    """`bridge kb` on a store in tmp_path. No endpoints file: these tests are about the
    store, and must not translate into the project's own translation memory."""
    return ["kb", "--store", str(tmp_path / "kb"), "--encoder", str(encoder_dir), "--endpoints", str(tmp_path / "none")]


def test_build_add_remove_round_trip(tmp_path, encoder_dir, capsys):
    store = kb_command(tmp_path, encoder_dir)
    source = write(
        tmp_path / "a.jsonl",
        record("gift", "Do you sell gift cards?", "Yes."),
        record("wool", "How to wash wool?", "Cold."),
    )
    main([*store, "build", str(source)])
    assert "2 answers, 2 questions, index flat" in capsys.readouterr().out
    main([*store, "add", str(write(tmp_path / "b.jsonl", record("ship", "Do you ship to Canada?", "Yes, to Canada.")))])
    assert "3 answers, 3 questions" in capsys.readouterr().out
    main([*store, "search", "envoyez-vous au Canada ?", "-k", "1"])
    assert "ship" in capsys.readouterr().out
    main([*store, "remove", "wool"])
    assert "2 answers" in capsys.readouterr().out
    main([*store, "info"])
    info = json.loads(capsys.readouterr().out)
    assert info["entries"] == 2 and len(info["centred_languages"]) == 12


def test_user_errors_exit_with_one_clear_line(tmp_path, encoder_dir):
    store = kb_command(tmp_path, encoder_dir)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(SystemExit, match="missing required field"):
        main([*store, "build", str(bad)])
    with pytest.raises(SystemExit, match="No knowledge base in .* Build it with `bridge kb build"):
        main([*store, "remove", "x"])
    good = write(tmp_path / "good.jsonl", record("gift", "Do you sell gift cards?", "Yes."))
    with pytest.raises(SystemExit, match="bridge kb: Calibration data '.*no-nlu' not found"):
        main([*store, "--calibration", str(tmp_path / "no-nlu"), "build", str(good)])
