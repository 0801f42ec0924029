"""The load benchmark's own logic: its conversations, the customers it simulates, what it reports."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bench.load import (
    DEFAULT_CONFIG_FILE,
    Conversation,
    LoadBenchError,
    TurnResult,
    alternating_one_sender,
    default_pipeline_config,
    drive,
    endpoints_config,
    goals,
    interleaved,
    load_conversations,
    process_memory_mb,
    redis_lock_store,
    sqlite_tracker_store,
    summarize,
)
from tests.conftest import PROJECT_DIR

DEMO_LANGUAGES = {"en", "es", "pt", "fr", "de", "it", "ru", "zh", "ja", "ko", "ar", "hi"}


def test_the_shipped_conversations_cover_every_demo_language_with_an_order_lookup() -> None:
    conversations = load_conversations()
    assert {c.language for c in conversations} == DEMO_LANGUAGES
    for language in DEMO_LANGUAGES:
        own = [c for c in conversations if c.language == language]
        assert len(own) >= 2
        assert all(any("100" in text for text in c.texts) for c in own), language
        assert all(len(c.texts) >= 4 for c in own)


def test_an_unquoted_order_number_is_refused_with_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / "conversations.yml"
    path.write_text("conversations:\n  en:\n    - [Hi, 10052]\n")
    with pytest.raises(LoadBenchError, match=r"conversation 1 of `en`.*quote"):
        load_conversations(path)


def test_a_file_without_conversations_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "conversations.yml"
    path.write_text("turns: []\n")
    with pytest.raises(LoadBenchError, match="conversations"):
        load_conversations(path)


def test_interleaving_puts_different_languages_side_by_side() -> None:
    conversations = interleaved(load_conversations())
    languages = [c.language for c in conversations]
    assert sorted(languages) == sorted(c.language for c in load_conversations())
    assert all(a != b for a, b in zip(languages, languages[1:]))


def test_summary_leaves_failed_turns_out_of_the_latencies_but_counts_them() -> None:
    results = [TurnResult("en", float(ms), 0.0, None, True) for ms in range(1, 101)]
    results += [TurnResult("de", 90_000.0, 0.0, "HTTP 500"), TurnResult("de", 5.0, 0.0, None, False)]
    summary = summarize(results, elapsed_s=10.0)
    assert summary["turns"] == 102
    assert summary["errors"] == 1 and summary["error_kinds"] == ["HTTP 500"]
    assert summary["unanswered"] == 1
    assert 50 <= summary["p50_ms"] <= 52
    assert 95 <= summary["p95_ms"] <= 97
    assert summary["p99_ms"] < 1000  # the failed turn's time is not a latency
    assert summary["turns_per_s"] == pytest.approx(10.1)


def test_the_default_pipeline_is_what_rasa_init_writes_and_epochs_can_be_cut() -> None:
    config = yaml.safe_load(default_pipeline_config())
    names = [step["name"] for step in config["pipeline"]]
    assert names == [
        "WhitespaceTokenizer",
        "RegexFeaturizer",
        "LexicalSyntacticFeaturizer",
        "CountVectorsFeaturizer",
        "CountVectorsFeaturizer",
        "DIETClassifier",
        "EntitySynonymMapper",
        "ResponseSelector",
        "FallbackClassifier",
    ]
    assert {s["name"]: s.get("epochs") for s in config["policies"]}["TEDPolicy"] == 100
    quick = yaml.safe_load(default_pipeline_config(epochs=5))
    assert [s["epochs"] for s in [*quick["pipeline"], *quick["policies"]] if "epochs" in s] == [5, 5, 5]
    with pytest.raises(LoadBenchError, match="at least 1"):
        default_pipeline_config(epochs=0)
    assert yaml.safe_load(DEFAULT_CONFIG_FILE.read_text())["pipeline"][4]["analyzer"] == "char_wb"


def test_endpoints_keep_the_projects_nlg_and_use_this_runs_servers_and_stores(tmp_path: Path) -> None:
    endpoints = endpoints_config(
        PROJECT_DIR / "endpoints.yml", 5999, sqlite_tracker_store(tmp_path / "t.db"), redis_lock_store("run:")
    )
    assert endpoints["nlg"] == yaml.safe_load((PROJECT_DIR / "endpoints.yml").read_text())["nlg"]
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:5999/webhook"
    assert endpoints["tracker_store"]["db"] == str(tmp_path / "t.db")
    assert endpoints["lock_store"]["type"] == "redis" and endpoints["lock_store"]["key_prefix"] == "run:"


def _level(p95: float, rate: float, p50: float = 50.0) -> dict:
    return {"p50_ms": p50, "p95_ms": p95, "turns_per_s": rate}


def test_goals_count_the_better_bridge_set_up_against_the_default() -> None:
    levels = {
        "bridge": {1: _level(120, 10, p50=80), 8: _level(900, 15)},
        "bridge-2": {8: _level(400, 30)},
        "rasa-default": {1: _level(70, 20, p50=40), 8: _level(440, 40)},
    }
    memory = {"bridge": {"rasa-1": {"peak_rss_mb": 3500.0}, "actions": {"peak_rss_mb": 9000.0}}}
    found = {(g["goal"], g["variant"]): g for g in goals(levels, memory)}
    assert found[("8 senders: p95 <= default's", "bridge-2")]["met"]
    assert not found[("8 senders: turns/s >= default's", "bridge-2")]["met"]
    ratio = found[("1 sender: turn (p50) / default's", "bridge")]
    assert ratio["measured"] == pytest.approx(2.0) and not ratio["met"]
    rss = found[("peak RSS MB of a Rasa process", "bridge")]
    assert rss["measured"] == 3500.0 and not rss["met"]  # the action server does not count


def test_memory_of_a_process_and_its_children() -> None:
    alone = process_memory_mb(os.getpid())
    assert 0 < alone["rss_mb"] <= alone["peak_rss_mb"]
    assert 0 < alone["pss_mb"] <= alone["rss_mb"] + 1


@pytest.fixture
def rest_server() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A small HTTP server on a free port that answers like Rasa's REST channel and records
    (sender, text); a message "fail" gets HTTP 500, "silent" an empty answer."""
    from aiohttp import web

    received: list[tuple[str, str]] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append((body["sender"], body["message"]))
        await asyncio.sleep(0.05)
        if body["message"] == "fail":
            return web.Response(status=500)
        return web.json_response([] if body["message"] == "silent" else [{"text": "ok"}])

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", received
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.run_until_complete(runner.cleanup())


def test_customers_talk_at_once_each_turn_after_the_last_answer(rest_server) -> None:
    url, received = rest_server
    conversations = [Conversation("en", ("hi", "fail", "bye")), Conversation("de", ("hallo", "silent"))]
    results, elapsed = asyncio.run(drive(lambda i: url, 3, 0.5, conversations, "t"))
    summary = summarize(results, elapsed)
    assert summary["turns"] == len(received) > 6
    assert summary["errors"] == sum(text == "fail" for _, text in received) > 0
    assert summary["unanswered"] == sum(text == "silent" for _, text in received) > 0
    # Each conversation has its own sender, and its turns arrive in order.
    by_sender: dict[str, list[str]] = {}
    for sender, text in received:
        by_sender.setdefault(sender, []).append(text)
    scripts = {c.texts for c in conversations}
    assert all(
        tuple(texts) == next(s for s in scripts if s[0] == texts[0])[: len(texts)] for texts in by_sender.values()
    )
    assert len({sender.rsplit("-", 2)[1] for sender in by_sender}) == 3  # three customers
    # Customers wait for each other only on the server: one alone would get about 10 answers.
    assert summary["turns"] > 15


def test_customers_follow_their_route_and_a_server_that_is_gone_counts_as_errors(rest_server) -> None:
    url, received = rest_server
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        gone = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nobody listens once the probe closes
    conversations = [Conversation("en", ("hi", "bye"))]
    results, elapsed = asyncio.run(drive(lambda i: url if i == 0 else gone, 2, 0.3, conversations, "r"))
    assert {sender.rsplit("-", 2)[1] for sender, _ in received} == {"0"}
    failed = [r for r in results if r.error]
    assert failed and all(r.error == "ClientConnectorError" for r in failed)
    assert summarize(results, elapsed)["turns"] == len(received) + len(failed)


def test_no_customers_is_refused() -> None:
    with pytest.raises(LoadBenchError, match="senders must be"):
        asyncio.run(drive(lambda i: "http://127.0.0.1:1", 0, 1.0, [Conversation("en", ("hi",))], "t"))


def test_alternating_bursts_measure_each_set_up_and_their_ratio(rest_server) -> None:
    url, received = rest_server
    routes = {"bridge": lambda i: url, "rasa-default": lambda i: url}
    found = alternating_one_sender(routes, 2, 0.3, [Conversation("en", ("hi", "bye"))], "ab")
    assert found["turns"]["bridge"] > 2 and found["turns"]["rasa-default"] > 2
    assert sum(found["turns"].values()) == len(received)
    assert found["ratio_p50"] == pytest.approx(found["p50_ms"]["bridge"] / found["p50_ms"]["rasa-default"])
    assert 0.5 < found["ratio_p50"] < 2  # the same server on both sides
