"""Load benchmark: many customers at once on real Rasa servers, Bridge's pipeline against Rasa's.

Served the way `bridge run` serves the demo bot (bot/serving/processes.py): real `rasa run`
processes, the demo's rasa-sdk action server and endpoints (Bridge's translating NLG), so a
turn costs what a customer's turn costs. Three set-ups, one after the other in the same run:

  * bridge        the demo model (config.yml), one Rasa process, SQLite tracker store
  * bridge-2      the same model in two Rasa processes sharing a PostgreSQL tracker store
                  (a scratch database) and the Redis lock store; each customer sticks to one
  * rasa-default  Rasa's default pipeline and policies (bench/data/rasa_default_config.yml,
                  what `rasa init` writes) trained on the same training_data/, served like
                  `bridge`: the baseline every ratio is against

Customers replay bench/data/load_conversations.yml (12 languages, multi-turn) over the REST
channel, each waiting for the answer before the next turn, at each --senders level for
--duration seconds after a warm-up conversation per language. Reported per level: p50, p95
and p99 latency, turns per second, errors (HTTP error, time-out) and turns the bot did not
answer; per process the peak resident memory (the kernel's high-water mark, start-up
included) and its proportional share (PSS); the one-sender ratio Bridge / default; and the
goals, met or missed. `--ratio-rounds N` also serves bridge and rasa-default side by side
and alternates one-sender bursts between them, for a ratio the machine's changing load
does not tilt. The servers' logs stay in var/bench-load/<run>/.

Usage:
    bridge bench load [--senders 1,8,32] [--duration 30] [--variants bridge,bridge-2,rasa-default]
                      [--default-epochs N] [--ratio-rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import itertools
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.report import format_table, write_results
from bot.serving import scratch_database

DATA_DIR = Path(__file__).parent / "data"
CONVERSATIONS_FILE = DATA_DIR / "load_conversations.yml"
DEFAULT_CONFIG_FILE = DATA_DIR / "rasa_default_config.yml"
VARIANTS = ("bridge", "bridge-2", "rasa-default")
BASELINE = "rasa-default"
REST_PATH = "/webhooks/rest/webhook"
# A turn slower than this counts as an error: a customer has given up long before.
TURN_TIMEOUT_S = 120.0
REDIS = {"host": "127.0.0.1", "port": 6379}
# Goals of Bridge issue #20: Bridge against the default pipeline measured in the same run.
GOAL_ONE_SENDER_RATIO = 1.5
GOAL_RSS_MB = 2048.0


class LoadBenchError(ValueError):
    """The benchmark's input (conversations file, arguments) cannot be used; says what to fix."""


@dataclass(frozen=True)
class Conversation:
    """One scripted customer conversation: its language and the texts typed, in order."""

    language: str
    texts: tuple[str, ...]


def load_conversations(path: Path = CONVERSATIONS_FILE) -> list[Conversation]:
    """The conversations of `path`: `conversations: {language: [[text, ...], ...]}`.

    Raises:
        LoadBenchError: naming the language and conversation that is not a list of texts.
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    by_language = data.get("conversations") if isinstance(data, dict) else None
    if not isinstance(by_language, dict) or not by_language:
        raise LoadBenchError(f"{path}: expected `conversations:` mapping languages to lists of conversations.")
    found = []
    for language, conversations in by_language.items():
        if not isinstance(conversations, list) or not conversations:
            raise LoadBenchError(f"{path}: `{language}` must list conversations (lists of customer texts).")
        for number, texts in enumerate(conversations, start=1):
            if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t.strip() for t in texts):
                raise LoadBenchError(
                    f"{path}: conversation {number} of `{language}` must be a non-empty list of non-empty texts "
                    f'(quote a text YAML would read as a number, e.g. "10052").'
                )
            found.append(Conversation(str(language), tuple(texts)))
    return found


def interleaved(conversations: Sequence[Conversation]) -> list[Conversation]:
    """The conversations reordered so consecutive ones are in different languages."""
    by_language: dict[str, list[Conversation]] = {}
    for conversation in conversations:
        by_language.setdefault(conversation.language, []).append(conversation)
    rounds = itertools.zip_longest(*by_language.values())
    return [conversation for round_ in rounds for conversation in round_ if conversation is not None]


# ---------------------------------------------------------------------------------------------
# Customers


@dataclass
class TurnResult:
    """One customer turn: how long the answer took and whether it came."""

    language: str
    latency_ms: float
    finished: float  # time.monotonic() when the answer (or the failure) came
    error: str | None = None  # HTTP status or exception; None when the server answered
    answered: bool = False  # the bot sent at least one text


async def _send(session: Any, url: str, sender: str, text: str) -> tuple[str | None, bool]:
    """POSTs one REST turn; returns (error, answered)."""
    import aiohttp

    try:
        async with session.post(url + REST_PATH, json={"sender": sender, "message": text}) as response:
            if response.status != 200:
                return f"HTTP {response.status}", False
            replies = await response.json()
            return None, any("text" in reply for reply in replies)
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return type(error).__name__, False


async def _customer(
    session: Any,
    url: str,
    conversations: Iterator[Conversation],
    deadline: float,
    sender_prefix: str,
    results: list[TurnResult],
) -> None:
    """Plays conversations one after the other until `deadline`, each under a new sender id.

    The turn in progress at the deadline is finished and counted, as a customer would get it.
    """
    for number, conversation in enumerate(conversations):
        sender = f"{sender_prefix}-{number}"
        for text in conversation.texts:
            if time.monotonic() >= deadline:
                return
            began = time.monotonic()
            error, answered = await _send(session, url, sender, text)
            now = time.monotonic()
            results.append(TurnResult(conversation.language, (now - began) * 1000, now, error, answered))


async def drive(
    route: Callable[[int], str],
    senders: int,
    duration_s: float,
    conversations: Sequence[Conversation],
    run_id: str,
) -> tuple[list[TurnResult], float]:
    """Runs `senders` customers at once for `duration_s`; customer i talks to `route(i)`.

    Customer i starts at the i-th conversation, so customers talking at the same time speak
    different languages. Returns every turn and the wall time from start to the last answer.
    """
    import aiohttp

    if senders < 1 or duration_s <= 0:
        raise LoadBenchError(f"senders must be >= 1 and duration > 0 (got {senders}, {duration_s}).")
    results: list[TurnResult] = []
    timeout = aiohttp.ClientTimeout(total=TURN_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        began = time.monotonic()
        deadline = began + duration_s
        customers = [
            _customer(
                session,
                route(i),
                itertools.islice(itertools.cycle(conversations), i, None),
                deadline,
                f"load-{run_id}-{senders}-{i}",
                results,
            )
            for i in range(senders)
        ]
        await asyncio.gather(*customers)
    elapsed = max((r.finished for r in results), default=time.monotonic()) - began
    return results, elapsed


async def warm_up(urls: Sequence[str], conversations: Sequence[Conversation], run_id: str) -> None:
    """Plays each conversation once on every server, one turn at a time: first turns load
    what the servers load lazily, and are not measured."""
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT_S)) as session:
        for number, url in enumerate(urls):
            results: list[TurnResult] = []
            await _customer(session, url, iter(conversations), float("inf"), f"warm-{run_id}-{number}", results)
            failed = [r.error for r in results if r.error]
            if failed:
                raise LoadBenchError(f"{url} failed {len(failed)} warm-up turns ({', '.join(sorted(set(failed)))}).")


def summarize(results: Sequence[TurnResult], elapsed_s: float) -> dict[str, Any]:
    """Latency percentiles of the answered turns, turns per second, errors and unanswered turns."""
    served = [r.latency_ms for r in results if r.error is None]
    percentiles = np.percentile(served, [50, 95, 99]) if served else [float("nan")] * 3
    return {
        "turns": len(results),
        "p50_ms": float(percentiles[0]),
        "p95_ms": float(percentiles[1]),
        "p99_ms": float(percentiles[2]),
        "turns_per_s": len(served) / elapsed_s if elapsed_s > 0 else 0.0,
        "errors": sum(r.error is not None for r in results),
        "unanswered": sum(r.error is None and not r.answered for r in results),
        "error_kinds": sorted({r.error for r in results if r.error}),
    }


# ---------------------------------------------------------------------------------------------
# Models


def default_pipeline_config(epochs: int | None = None, path: Path = DEFAULT_CONFIG_FILE) -> str:
    """Rasa's default config as YAML text; `epochs` replaces every component's and policy's
    epochs (quick runs), None keeps `rasa init`'s."""
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    if epochs is not None:
        if epochs < 1:
            raise LoadBenchError(f"--default-epochs must be at least 1 (got {epochs}).")
        for step in [*config["pipeline"], *config["policies"]]:
            if "epochs" in step:
                step["epochs"] = epochs
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def train_default_model(project_dir: Path, epochs: int | None, models_dir: Path) -> Path:
    """Rasa's default pipeline trained on the project's training data, reused while neither the
    config text nor the training inputs changed."""
    import subprocess
    import sys

    from bot.cli.training import inputs_hash
    from bot.project import DATA_DIR as TRAINING_DATA
    from bot.project import DOMAIN_DIR, project_environment

    config_text = default_pipeline_config(epochs)
    name = yaml.safe_load(config_text)["assistant_id"] + (f"-{epochs}-epochs" if epochs else "")
    model, stamp = models_dir / f"{name}.tar.gz", models_dir / f"{name}.inputs-sha256"
    current = hashlib.sha256((config_text + inputs_hash(project_dir, "rasa-default")).encode()).hexdigest()
    if model.is_file() and stamp.is_file() and stamp.read_text().strip() == current:
        print(f"bench load: {model} is up to date; not retraining.", flush=True)
        return model
    models_dir.mkdir(parents=True, exist_ok=True)
    config_path = models_dir / f"{name}.config.yml"
    config_path.write_text(config_text, encoding="utf-8")
    print(f"bench load: training Rasa's default pipeline into {model} ...", flush=True)
    command = [sys.executable, "-m", "rasa", "train", "--config", str(config_path), "--domain", DOMAIN_DIR]
    command += ["--data", TRAINING_DATA, "--out", str(models_dir), "--fixed-model-name", name]
    subprocess.run(command, cwd=project_dir, env=project_environment(project_dir), check=True)
    stamp.write_text(current + "\n")
    return model


def train_bridge_model() -> Path:
    """The demo model exactly as `bridge run` gets it: `bridge train` in the current folder
    (retrains only when an input changed; translates the responses ahead)."""
    from bot.cli.main import cmd_train

    return cmd_train(argparse.Namespace())


# ---------------------------------------------------------------------------------------------
# Servers


def endpoints_config(base: Path, action_port: int, tracker_store: dict, lock_store: dict | None) -> dict:
    """The project's endpoints (NLG, translation) with this run's action server and stores."""
    endpoints = yaml.safe_load(Path(base).read_text(encoding="utf-8"))
    endpoints["action_endpoint"] = {"url": f"http://127.0.0.1:{action_port}/webhook"}
    endpoints["tracker_store"] = tracker_store
    if lock_store:
        endpoints["lock_store"] = lock_store
    return endpoints


def sqlite_tracker_store(path: Path) -> dict:
    return {"type": "SQL", "dialect": "sqlite", "db": str(path)}


def postgres_tracker_store(database: str) -> dict:
    return {
        "type": "SQL",
        "dialect": "postgresql",
        "url": scratch_database.HOST,
        "port": scratch_database.PORT,
        "db": database,
        "username": scratch_database.USER,
    }


def redis_lock_store(key_prefix: str) -> dict:
    return {"type": "redis", "url": REDIS["host"], "port": REDIS["port"], "db": 1, "key_prefix": key_prefix}


def process_memory_mb(pid: int) -> dict[str, float]:
    """Memory of a process and its descendants in MB: resident now (VmRSS), the peak (VmHWM,
    the kernel's high-water mark since the process started) and the proportional share
    (Pss: shared pages such as torch's libraries split among the processes that map them, so
    the Pss of several processes adds up to what they take together)."""
    total = {"rss_mb": 0.0, "peak_rss_mb": 0.0, "pss_mb": 0.0}
    for member in [pid, *_descendants(pid)]:
        try:
            status = _kilobytes(Path(f"/proc/{member}/status").read_text())
            rollup = _kilobytes(Path(f"/proc/{member}/smaps_rollup").read_text())
        except OSError:  # ended meanwhile
            continue
        total["rss_mb"] += status.get("VmRSS", 0) / 1024
        total["peak_rss_mb"] += status.get("VmHWM", 0) / 1024
        total["pss_mb"] += rollup.get("Pss", 0) / 1024
    return total


def _kilobytes(text: str) -> dict[str, int]:
    """The "Name:   123 kB" lines of a /proc file."""
    found = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            found[name] = int(value.split()[0])
    return found


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found += [int(child), *_descendants(int(child))]
    return found


@dataclass
class Deployment:
    """The running servers of one set-up: the Rasa servers' URLs and every served process."""

    rasa_urls: list[str]
    processes: dict[str, Any] = field(default_factory=dict)  # label -> ServedProcess

    def memory(self) -> dict[str, dict[str, float]]:
        return {label: process_memory_mb(p.process.pid) for label, p in self.processes.items()}


@contextlib.contextmanager
def deploy(variant: str, model: Path, project_dir: Path, work: Path, run_id: str) -> Iterator[Deployment]:
    """Starts the set-up `variant` on free loopback ports; stops it (and drops its database) after."""
    from bot.serving.processes import BotStack, free_port

    class ReplicaStack(BotStack):
        """Another Rasa server of the same bot, using the first stack's action server."""

        @property
        def serves_actions(self) -> bool:
            return False

    folder = work / variant
    folder.mkdir(parents=True, exist_ok=True)
    action_port = free_port()
    env = {"BRIDGE_SHOP_DB_URL": f"sqlite:///{folder / 'shop.db'}"}

    def stack(kind: type[BotStack], name: str, endpoints: dict) -> BotStack:
        path = folder / f"endpoints-{name}.yml"
        path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
        return kind.on_free_port(project_dir, model, path, action_port, folder / f"logs-{name}", env)

    with contextlib.ExitStack() as cleanup:
        base = project_dir / "endpoints.yml"
        if variant == "bridge-2":
            database = cleanup.enter_context(scratch_database.scratch_database("bench_load"))
            shared = endpoints_config(
                base, action_port, postgres_tracker_store(database), redis_lock_store(f"bench_load_{run_id}:")
            )
            stacks = [stack(BotStack, "replica-1", shared), stack(ReplicaStack, "replica-2", shared)]
        elif variant in VARIANTS:
            stacks = [
                stack(
                    BotStack,
                    "replica-1",
                    endpoints_config(base, action_port, sqlite_tracker_store(folder / "tracker.db"), None),
                )
            ]
        else:
            raise LoadBenchError(f"Unknown variant {variant!r}; choose from {', '.join(VARIANTS)}.")
        # One after the other: the replicas would otherwise race to create the tracker tables.
        for number, one in enumerate(stacks, start=1):
            print(f"bench load: starting {variant} Rasa server {number} of {len(stacks)} ...", flush=True)
            cleanup.callback(one.stop)
            one.start(timeout=900)
        deployment = Deployment([one.rasa_url for one in stacks])
        for number, one in enumerate(stacks, start=1):
            for served in one.processes:
                label = "rasa" if served.name == "rasa server" else "actions"
                deployment.processes[f"{label}-{number}" if label == "rasa" else label] = served
        yield deployment


def alternating_one_sender(
    routes: dict[str, Callable[[int], str]],
    rounds: int,
    burst_s: float,
    conversations: Sequence[Conversation],
    run_id: str,
) -> dict[str, Any]:
    """One customer at a time, alternating between the set-ups in short bursts (the order
    flips every round), so a change in the machine's load hits every set-up alike.

    Returns each set-up's p50 over all bursts and the ratio of the first to the second.
    """
    latencies: dict[str, list[float]] = {name: [] for name in routes}
    for number in range(rounds):
        order = list(routes) if number % 2 == 0 else list(reversed(routes))
        for name in order:
            results, _ = asyncio.run(drive(routes[name], 1, burst_s, conversations, f"{run_id}-ab{number}-{name}"))
            latencies[name] += [r.latency_ms for r in results if r.error is None]
    p50 = {name: float(np.percentile(values, 50)) for name, values in latencies.items()}
    first, second = list(routes)
    return {
        "rounds": rounds,
        "burst_s": burst_s,
        "turns": {n: len(v) for n, v in latencies.items()},
        "p50_ms": p50,
        "ratio_p50": p50[first] / p50[second],
    }


# ---------------------------------------------------------------------------------------------
# Report


def goals(levels: dict[str, dict[int, dict]], memory: dict[str, dict[str, dict]]) -> list[dict[str, Any]]:
    """Issue #20's goals, each met or missed, from the measured levels and memory.

    Bridge's best set-up counts for throughput and p95 ("two processes count"); the
    one-sender turn compares one Bridge process with the default's.
    """
    baseline = levels.get(BASELINE, {})
    found = []
    at8 = {name: levels[name][8] for name in ("bridge", "bridge-2") if 8 in levels.get(name, {})}
    if 8 in baseline and at8:
        name, best = min(at8.items(), key=lambda item: item[1]["p95_ms"])
        found.append(_goal("8 senders: p95 <= default's", name, best["p95_ms"], baseline[8]["p95_ms"], at_most=True))
        name, best = max(at8.items(), key=lambda item: item[1]["turns_per_s"])
        found.append(
            _goal(
                "8 senders: turns/s >= default's", name, best["turns_per_s"], baseline[8]["turns_per_s"], at_most=False
            )
        )
    if 1 in baseline and 1 in levels.get("bridge", {}):
        ratio = levels["bridge"][1]["p50_ms"] / baseline[1]["p50_ms"]
        found.append(_goal("1 sender: turn (p50) / default's", "bridge", ratio, GOAL_ONE_SENDER_RATIO, at_most=True))
    for variant in ("bridge", "bridge-2"):
        peaks = [m["peak_rss_mb"] for label, m in memory.get(variant, {}).items() if label.startswith("rasa")]
        if peaks:
            found.append(_goal("peak RSS MB of a Rasa process", variant, max(peaks), GOAL_RSS_MB, at_most=True))
    return found


def _goal(name: str, variant: str, measured: float, limit: float, at_most: bool) -> dict[str, Any]:
    met = measured <= limit if at_most else measured >= limit
    return {"goal": name, "variant": variant, "measured": measured, "limit": limit, "met": bool(met)}


def print_report(levels: dict, memory: dict, load: dict, found_goals: list[dict]) -> None:
    rows = [
        [
            variant,
            senders,
            s["turns"],
            s["p50_ms"],
            s["p95_ms"],
            s["p99_ms"],
            s["turns_per_s"],
            s["errors"],
            s["unanswered"],
            load[variant][senders],
        ]
        for variant, by_senders in levels.items()
        for senders, s in by_senders.items()
    ]
    headers = [
        "set-up",
        "senders",
        "turns",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "turns/s",
        "errors",
        "unanswered",
        "load avg",
    ]
    print("\n" + format_table(headers, rows))
    memory_rows = [
        [variant, label, round(m["peak_rss_mb"]), round(m["rss_mb"]), round(m["pss_mb"])]
        for variant, processes in memory.items()
        for label, m in processes.items()
    ]
    print("\n" + format_table(["set-up", "process", "peak RSS MB", "RSS at end MB", "PSS at end MB"], memory_rows))
    if found_goals:
        goal_rows = [
            [g["goal"], g["variant"], g["measured"], g["limit"], "met" if g["met"] else "MISSED"] for g in found_goals
        ]
        print("\n" + format_table(["goal", "set-up", "measured", "limit", ""], goal_rows))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bridge bench load", description=__doc__.split("\n")[0])
    parser.add_argument("--senders", default="1,8,32", help="comma-separated numbers of customers at once")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds each senders level runs")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"set-ups to serve, of {', '.join(VARIANTS)}")
    parser.add_argument(
        "--default-epochs",
        type=int,
        default=None,
        help="epochs of DIET, ResponseSelector and TED in the default pipeline (rasa init: 100)",
    )
    parser.add_argument("--conversations", type=Path, default=CONVERSATIONS_FILE, help="conversations to replay")
    parser.add_argument(
        "--ratio-rounds",
        type=int,
        default=0,
        help="also serve bridge and rasa-default side by side and alternate one-sender bursts this many times",
    )
    args = parser.parse_args(argv)
    try:
        senders_levels = [int(n) for n in args.senders.split(",")]
    except ValueError:
        raise SystemExit(f"bench load: --senders takes numbers like 1,8,32 (got {args.senders!r}).") from None
    variants = [v for v in args.variants.split(",") if v]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown or not variants or min(senders_levels) < 1 or args.duration <= 0:
        raise SystemExit(
            f"bench load: choose --variants from {', '.join(VARIANTS)} (got {args.variants!r}), senders >= 1 and a "
            f"positive --duration."
        )
    try:
        conversations = interleaved(load_conversations(args.conversations))
    except LoadBenchError as error:
        raise SystemExit(f"bench load: {error}") from None

    from bot.offline_env import apply_to_this_process

    apply_to_this_process()
    project = Path.cwd()
    models = {}
    if BASELINE in variants:
        models[BASELINE] = train_default_model(project, args.default_epochs, project / "models")
    if {"bridge", "bridge-2"} & set(variants):
        models["bridge"] = models["bridge-2"] = train_bridge_model()
    run_id = uuid.uuid4().hex[:10]
    warmup = list({c.language: c for c in conversations}.values())
    levels: dict[str, dict[int, dict]] = {}
    memory: dict[str, dict[str, dict]] = {}
    load: dict[str, dict[int, str]] = {}
    # The servers' logs stay in var/ after the run: a failed turn is explained there.
    work = project / "var" / "bench-load" / run_id
    print(f"bench load: servers' logs in {work}", flush=True)
    for variant in variants:
        with deploy(variant, models[variant], project, work, run_id) as deployment:
            urls = deployment.rasa_urls
            route = lambda i, urls=urls: urls[i % len(urls)]  # noqa: E731
            print(f"bench load: {variant}: warm-up, one conversation per language ...", flush=True)
            asyncio.run(warm_up(urls, warmup, f"{run_id}-{variant}-warm-up"))
            levels[variant], load[variant] = {}, {}
            for senders in senders_levels:
                results, elapsed = asyncio.run(
                    drive(route, senders, args.duration, conversations, f"{run_id}-{variant}")
                )
                levels[variant][senders] = summarize(results, elapsed)
                load[variant][senders] = "/".join(f"{v:.1f}" for v in os.getloadavg())
                print(f"bench load: {variant} at {senders} senders: {levels[variant][senders]}", flush=True)
            memory[variant] = deployment.memory()
    one_sender = (
        levels["bridge"][1]["p50_ms"] / levels[BASELINE][1]["p50_ms"]
        if 1 in levels.get("bridge", {}) and 1 in levels.get(BASELINE, {})
        else None
    )
    if one_sender is not None:
        print(f"\none sender, Bridge turn / default turn (p50): {one_sender:.2f}x")
    alternating = None
    if args.ratio_rounds > 0 and {"bridge", BASELINE} <= set(variants):
        with (
            deploy("bridge", models["bridge"], project, work / "side-by-side", run_id) as bridge,
            deploy(BASELINE, models[BASELINE], project, work / "side-by-side", run_id) as baseline,
        ):
            routes = {}
            for name, deployment in (("bridge", bridge), (BASELINE, baseline)):
                asyncio.run(warm_up(deployment.rasa_urls, warmup, f"{run_id}-ab-{name}-warm-up"))
                routes[name] = lambda i, url=deployment.rasa_urls[0]: url
            alternating = alternating_one_sender(routes, args.ratio_rounds, 10.0, conversations, run_id)
        print(
            f"one sender, alternating {args.ratio_rounds} rounds of 10 s bursts, Bridge / default (p50): "
            f"{alternating['ratio_p50']:.2f}x ({alternating['p50_ms']})"
        )
    found_goals = goals(levels, memory)
    if alternating:
        found_goals.append(
            _goal(
                "1 sender, alternating: p50 / default's",
                "bridge",
                alternating["ratio_p50"],
                GOAL_ONE_SENDER_RATIO,
                True,
            )
        )
    print_report(levels, memory, load, found_goals)
    path = write_results(
        "load",
        {
            "duration_s": args.duration,
            "default_epochs": args.default_epochs or 100,
            "conversations": len(conversations),
            "languages": sorted({c.language for c in conversations}),
            "stores": {
                "bridge": "SQLite tracker store, in-memory lock store",
                "bridge-2": "PostgreSQL tracker store, Redis lock store, each sender on one replica",
                "rasa-default": "SQLite tracker store, in-memory lock store",
            },
            "levels": {v: {str(n): s for n, s in by.items()} for v, by in levels.items()},
            "load_average": {v: {str(n): a for n, a in by.items()} for v, by in load.items()},
            "memory_mb": memory,
            "one_sender_ratio_p50": one_sender,
            "one_sender_alternating": alternating,
            "goals": found_goals,
        },
    )
    print(f"\nResults: {path}")
