"""Benchmark: the language the bot answers in, turn by turn, in scripted conversations.

Replays bench/data/langid_conversations.yml (short turns, order numbers, emoji, switches,
channel hints, turns in languages the bot does not speak) through the LanguageIdentifier
and the conversation rule the bot follows (bot.language.conversation: decided turns set
the language, undecided ones keep it, a hint sets the start). A turn is right when the
conversation's language after it is the expected one and, for an unsupported turn, when
it was recognised as such. Every wrong turn is listed.

Usage:
    bridge bench langid_conversations [--data FILE]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import yaml

from bench.report import format_table, write_results
from bot.language.codes import DEMO_LANGUAGES
from bot.language.conversation import ConversationLanguage
from bot.language.identifier import LanguageIdentifier

DATA_FILE = Path(__file__).resolve().parent / "data" / "langid_conversations.yml"
DEFAULT_LANGUAGE = "en"


def load_conversations(path: Path) -> list[dict[str, Any]]:
    """The scripted conversations; each has a name, an optional hint and its turns."""
    conversations = yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]
    for conversation in conversations:
        for turn in conversation["turns"]:
            if turn.get("language") not in DEMO_LANGUAGES:
                raise SystemExit(
                    f"{path}: turn {turn!r} of '{conversation['name']}' needs a language in {DEMO_LANGUAGES}."
                )
    return conversations


def replay(conversations: list[dict[str, Any]], identifier: LanguageIdentifier) -> dict[str, Any]:
    """Runs every conversation; returns counts, the wrong turns and the time per turn."""
    errors: list[dict[str, Any]] = []
    turns = switches = unsupported = unsupported_right = 0
    elapsed = 0.0
    for conversation in conversations:
        state = ConversationLanguage(DEFAULT_LANGUAGE, conversation.get("hint"))
        previous = state.language
        for turn in conversation["turns"]:
            hint = turn.get("hint") or conversation.get("hint")
            start = time.perf_counter()
            guess = identifier.identify(turn["text"], hint)
            elapsed += time.perf_counter() - start
            language = state.update(guess, turn.get("hint"))
            expected_unsupported = bool(turn.get("unsupported"))
            right = language == turn["language"] and (not guess.supported) == expected_unsupported
            turns += 1
            switches += turn["language"] != previous
            unsupported += expected_unsupported
            unsupported_right += expected_unsupported and not guess.supported
            previous = turn["language"]
            if not right:
                errors.append(
                    {
                        "conversation": conversation["name"],
                        "text": turn["text"],
                        "expected": turn["language"],
                        "got": language,
                        "expected_unsupported": expected_unsupported,
                        "method": guess.method,
                        "detected": guess.detected,
                        "confidence": round(guess.confidence, 3),
                    }
                )
    return {
        "conversations": len(conversations),
        "turns": turns,
        "switches": switches,
        "unsupported_turns": unsupported,
        "unsupported_recognised": unsupported_right,
        "accuracy": 100 * (turns - len(errors)) / max(turns, 1),
        "ms_per_turn": 1000 * elapsed / max(turns, 1),
        "errors": errors,
    }


def main(argv: list[str]) -> None:
    """Runs the benchmark, prints the tables and writes results/bench/langid_conversations.json."""
    parser = argparse.ArgumentParser(prog="bridge bench langid_conversations", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA_FILE, help="scripted conversations (YAML)")
    args = parser.parse_args(argv)
    identifier = LanguageIdentifier(DEMO_LANGUAGES)
    identifier.preload()
    result = replay(load_conversations(args.data), identifier)
    print("Conversation language after each turn (bridge LanguageIdentifier + slot rule)")
    print(
        format_table(
            ["conversations", "turns", "language switches", "unsupported turns recognised", "accuracy %", "ms/turn"],
            [
                [
                    result["conversations"],
                    result["turns"],
                    result["switches"],
                    f"{result['unsupported_recognised']}/{result['unsupported_turns']}",
                    f"{result['accuracy']:.2f}",
                    f"{result['ms_per_turn']:.3f}",
                ]
            ],
        )
    )
    if result["errors"]:
        print("\nWrong turns:")
        print(
            format_table(
                ["conversation", "text", "expected", "got", "method", "detected"],
                [
                    [
                        e["conversation"],
                        e["text"],
                        e["expected"] + (" (unsupported)" if e["expected_unsupported"] else ""),
                        e["got"],
                        e["method"],
                        e["detected"],
                    ]
                    for e in result["errors"]
                ],
            )
        )
    print(f"written to {write_results('langid_conversations', result)}")
