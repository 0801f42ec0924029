"""Benchmark of the review console's conversation list at scale (default 100,000 conversations).

A SQLite tracker store (or --db-url, e.g. a scratch PostgreSQL database) is filled with
synthetic conversations: every event is made with Rasa's own event classes and serialised
with `Event.as_dict()` into the `events` table that Rasa's SQLTrackerStore creates, exactly
the columns its `save` writes, but inserted in bulk (saving 100,000 trackers one by one
through the store would take far longer than the measurement). Languages, channels, intents,
confidences, fallbacks, hand-offs and knowledge-base answers are mixed so every filter
matches a realistic share.

Measured, each as the median and worst of --repeats requests through the in-process test
client (HTTP handling, session check, refresh check, SQL and JSON): the first page, a page
deep into the list (following cursors), and each filter. Also: the one-off build of the
summary rows from scratch and an incremental refresh after one new conversation, and the
dashboard's JSON (all days, one language, one week of one channel).

Usage:
    bridge bench console [--conversations 100000] [--repeats 7] [--db-url URL]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import format_table, write_results

LANGUAGES = ["en", "es", "pt", "fr", "de", "it", "ru", "zh", "ja", "ar"]
CHANNELS = ["socketio", "rest", "slack", "telegram"]
INTENTS = ["order_status", "faq", "greet", "talk_to_human", "cancel_order", "nlu_fallback", "unsupported_language"]
BENCH_PASSWORD = "bench-password-1"


def fill(store: Any, conversations: int, seed: int = 7) -> int:
    """Bulk-inserts `conversations` synthetic conversations into Rasa's events table; returns events."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    rng = random.Random(seed)
    start = time.time() - 90 * 86400
    table = store.SQLEvent.__table__
    rows: list[dict[str, Any]] = []
    total = 0
    with store.engine.begin() as connection:
        for n in range(conversations):
            sender = f"bench-{n:07d}"
            at = start + n * (90 * 86400 / conversations)
            language = rng.choice(LANGUAGES)
            for turn in range(rng.randint(1, 3)):
                intent = rng.choices(INTENTS, weights=[30, 25, 20, 5, 10, 7, 3])[0]
                confidence = round(rng.uniform(0.3, 1.0), 3)
                parse = {
                    "language": None if intent == "unsupported_language" else language,
                    "language_confidence": 0.95,
                    "language_method": "model",
                    "language_supported": intent != "unsupported_language",
                    "knowledge_base": {
                        "answered": intent == "faq",
                        "answer_id": f"kb-{rng.randint(1, 300)}",
                        "score": 0.8,
                    },
                }
                events = [
                    UserUttered(
                        f"message {n} {turn}",
                        intent={"name": intent, "confidence": confidence},
                        parse_data=parse,
                        input_channel=CHANNELS[n % len(CHANNELS)],
                        timestamp=at + turn * 20,
                    ),
                    ActionExecuted(
                        {"nlu_fallback": "action_default_fallback", "talk_to_human": "action_handoff_to_human"}.get(
                            intent, "utter_answer"
                        ),
                        timestamp=at + turn * 20 + 1,
                    ),
                    BotUttered(
                        "reply",
                        metadata={"language": language, "translation": "authored"},
                        timestamp=at + turn * 20 + 1,
                    ),
                ]
                for event in events:
                    data = event.as_dict()
                    rows.append(
                        {
                            "sender_id": sender,
                            "type_name": event.type_name,
                            "timestamp": data.get("timestamp"),
                            "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
                            "action_name": data.get("name"),
                            "data": json.dumps(data),
                        }
                    )
            if len(rows) >= 20000:
                connection.execute(table.insert(), rows)
                total += len(rows)
                rows = []
        if rows:
            connection.execute(table.insert(), rows)
            total += len(rows)
    return total


def timed(client: Any, url: str, repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"bench console: {url} answered {response.status_code}: {response.text[:200]}")
    body = response.json()
    # A list request counts its conversations, a dashboard request its days.
    rows = len(body["conversations"]) if "conversations" in body and isinstance(body["conversations"], list) else 0
    if "days" in body:
        rows = len(body["days"])
    return {"median_ms": statistics.median(times), "max_ms": max(times), "rows": rows}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bridge bench console", description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000, help="synthetic conversations to create")
    parser.add_argument("--repeats", type=int, default=7, help="requests per measured URL")
    parser.add_argument("--db-url", default=None, help="an empty scratch database instead of a temporary SQLite file")
    args = parser.parse_args(argv)

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from sqlalchemy.engine import make_url
    from starlette.testclient import TestClient

    from bot.review.accounts import create_agent
    from bot.review.app import create_app
    from bot.review.settings import ConsoleSettings
    from bot.review.summaries import refresh_summaries
    from tests.helpers.sample_conversations import customer, save_conversation

    folder = tempfile.TemporaryDirectory(prefix="bench-console-")
    url = args.db_url or f"sqlite:///{Path(folder.name) / 'tracker.db'}"
    parsed = make_url(url)
    store = SQLTrackerStore(
        Domain.empty(),
        dialect=parsed.get_backend_name(),
        host=parsed.host,
        port=parsed.port,
        db=parsed.database,
        username=parsed.username,
        password=parsed.password,
    )
    began = time.perf_counter()
    events = fill(store, args.conversations)
    fill_s = time.perf_counter() - began
    print(f"bench console: {args.conversations} conversations, {events} events written in {fill_s:.1f} s", flush=True)

    settings = ConsoleSettings(tracker_url=url, database_url=url, secret_key="bench")
    app = create_app(settings)
    engine = app.state.console_engine
    began = time.perf_counter()
    refresh_summaries(app.state.tracker_engine, engine, settings.handoff_actions)
    build_s = time.perf_counter() - began
    if parsed.get_backend_name() == "postgresql":
        # PostgreSQL plans from table statistics, which autovacuum gathers some time after a bulk
        # load; a running console has them, so measure with them.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    save_conversation(store, "bench-new", [customer("one more", time.time(), "rest", "en", "greet", 0.9)])
    began = time.perf_counter()
    refreshed = refresh_summaries(app.state.tracker_engine, engine, settings.handoff_actions)
    incremental_ms = (time.perf_counter() - began) * 1000

    create_agent(engine, "bench@example.com", BENCH_PASSWORD)
    rows: list[list[Any]] = []
    measured: dict[str, dict[str, float]] = {}
    with TestClient(app, follow_redirects=False) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"email": "bench@example.com", "password": BENCH_PASSWORD, "csrf_token": token})
        cursor = None
        for _ in range(20):
            cursor = client.get("/api/conversations" + (f"?after={cursor}" if cursor else "")).json()["next"]
        week_start, week_end = (time.strftime("%Y-%m-%d", time.gmtime(time.time() - d * 86400)) for d in (47, 40))
        urls = {
            "first page": "/api/conversations",
            "page 21 (cursor)": f"/api/conversations?after={cursor}",
            "language=pt": "/api/conversations?language=pt",
            "channel=slack": "/api/conversations?channel=slack",
            "intent=talk_to_human": "/api/conversations?intent=talk_to_human",
            "low_confidence": "/api/conversations?low_confidence=1",
            "fallback": "/api/conversations?fallback=1",
            "handoff": "/api/conversations?handoff=1",
            "kb_answer": "/api/conversations?kb_answer=1",
            "unsupported_language": "/api/conversations?unsupported_language=1",
            "date range (1 week)": f"/api/conversations?from={week_start}&to={week_end}",
            "language=ja&handoff": "/api/conversations?language=ja&handoff=1",
            "dashboard (all days)": "/api/dashboard",
            "dashboard language=pt": "/api/dashboard?language=pt",
            "dashboard 1 week, channel=slack": f"/api/dashboard?from={week_start}&to={week_end}&channel=slack",
            "HTML page": "/",
        }
        for name, target in urls.items():
            if name == "HTML page":
                began = time.perf_counter()
                for _ in range(args.repeats):
                    client.get(target)
                result = {
                    "median_ms": (time.perf_counter() - began) * 1000 / args.repeats,
                    "max_ms": float("nan"),
                    "rows": 50,
                }
            else:
                result = timed(client, target, args.repeats)
            measured[name] = result
            rows.append([name, result["rows"], result["median_ms"], result["max_ms"]])
    print(format_table(["request", "rows", "median ms", "max ms"], rows))
    print(
        f"summary build from scratch: {build_s:.1f} s; "
        f"incremental refresh ({refreshed} conversations): {incremental_ms:.1f} ms"
    )
    path = write_results(
        "console",
        {
            "conversations": args.conversations,
            "events": events,
            "database": parsed.get_backend_name(),
            "summary_build_s": build_s,
            "incremental_refresh_ms": incremental_ms,
            "requests": measured,
        },
    )
    print(f"bench console: results in {path}")
    folder.cleanup()
