"""Where one Bridge turn spends its time, and where the server's memory goes.

The demo model is loaded in this process as `rasa run` loads it (rasa.core.agent.load_agent
with the demo endpoints: Bridge's translating NLG, a SQLite tracker store, the demo's real
rasa-sdk action server started on a free port), and the scripted conversations of
bench/data/load_conversations.yml are played one turn at a time. Timers wrap the functions
a turn passes through, calling the real ones: every graph node (language detection, intent
classifier, knowledge-base retriever, fallback, policies...), inside them the classifier's
encoder, the retriever's encoder and its FAISS search, and outside them the action server's
HTTP round trip, the NLG and the tracker store. Nested parts are shown under their parent.

Memory: resident memory after each import (torch, TensorFlow, Rasa) and after each graph
component loads, and how many copies of the encoder's weights the loaded server holds.

Usage:
    bridge bench turn_profile [--passes 2] [--cprofile 15]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import gc
import inspect
import io
import logging
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from bench.load import CONVERSATIONS_FILE, endpoints_config, interleaved, load_conversations, sqlite_tracker_store
from bench.report import format_table, write_results

# Word embeddings at least this large are a copy of a multilingual encoder's vocabulary.
ENCODER_VOCABULARY_MIN = 100_000


def resident_mb() -> float:
    """This process's resident memory in MB."""
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Timers:
    """Wraps functions so each call adds its wall time to the current turn's parts."""

    def __init__(self) -> None:
        self.turn: dict[str, float] = defaultdict(float)
        self.turns: list[dict[str, float]] = []
        self._restore: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attribute: str, label: str | Callable[[Any], str]) -> None:
        """Times `owner.attribute`; `label` may be a function of the call's first argument."""
        original = getattr(owner, attribute)
        name = label if callable(label) else (lambda _self, label=label: label)

        if inspect.iscoroutinefunction(original):

            @functools.wraps(original)
            async def timed(*args: Any, **kwargs: Any) -> Any:
                began = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    self.turn[name(args[0] if args else None)] += (time.perf_counter() - began) * 1000
        else:

            @functools.wraps(original)
            def timed(*args: Any, **kwargs: Any) -> Any:
                began = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    self.turn[name(args[0] if args else None)] += (time.perf_counter() - began) * 1000

        setattr(owner, attribute, timed)
        self._restore.append(lambda: setattr(owner, attribute, original))

    def next_turn(self, total_ms: float) -> None:
        self.turn["turn total"] = total_ms
        self.turns.append(dict(self.turn))
        self.turn.clear()

    def restore(self) -> None:
        for undo in reversed(self._restore):
            undo()


def node_label(node: Any) -> str:
    """A graph node by the component it runs (the node names repeat it with a suffix)."""
    return f"node {node._component_class.__name__}.{node._fn_name}"


def instrument(timers: Timers) -> None:
    """Puts timers on the functions a turn passes through (see the module docstring)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.engine.graph import GraphNode
    from rasa.utils.endpoints import EndpointConfig

    from bot.components.multilingual_intent_classifier import MultilingualIntentClassifier
    from bot.knowledge.metadata import MetadataStore
    from bot.knowledge.retriever import AnswerRetriever
    from bot.models.encoder import SentenceEncoder
    from bot.nlg.translating_nlg import TranslatingNLG

    timers.wrap(GraphNode, "__call__", node_label)
    timers.wrap(MultilingualIntentClassifier, "predict_probabilities", "  classifier encoder + head")
    timers.wrap(SentenceEncoder, "_encode", "  sentence encoder pass (e5; shared by the classifier and the retriever)")
    timers.wrap(AnswerRetriever, "search_vectors", "  FAISS search + answer lookup")
    timers.wrap(MetadataStore, "lookup", "    answer lookup (SQLite)")
    timers.wrap(RemoteAction, "run", "custom action (RemoteAction.run)")
    timers.wrap(EndpointConfig, "request", "  action server round trip (HTTP)")
    timers.wrap(RemoteAction, "_validate_action_result", "  check of the action server's answer (jsonschema)")
    timers.wrap(TranslatingNLG, "generate", "NLG (TranslatingNLG.generate)")
    timers.wrap(SQLTrackerStore, "save", "tracker store save (SQLite)")
    timers.wrap(SQLTrackerStore, "retrieve", "tracker store retrieve (SQLite)")


@contextmanager
def action_server(project_dir: Path, work: Path) -> Iterator[int]:
    """The project's rasa-sdk action server, started as `bridge run` starts it; yields its port."""
    from bot.serving.processes import BotStack, free_port

    class ActionServerOnly(BotStack):
        def _commands(self) -> list:
            return [served for served in super()._commands() if served.name == "action server"]

    port = free_port()
    stack = ActionServerOnly(
        project_dir=project_dir,
        model=Path("unused"),
        endpoints=project_dir / "endpoints.yml",
        rasa_port=free_port(),
        action_port=port,
        chat_port=None,
        log_dir=work / "logs",
        env={"BRIDGE_SHOP_DB_URL": f"sqlite:///{work / 'shop.db'}"},
    )
    stack.start()
    try:
        yield port
    finally:
        stack.stop()


def memory_steps(model: Path, endpoints_path: Path) -> tuple[list[list[Any]], Any]:
    """RSS after each import and each component load, and the loaded agent."""
    steps = [["python + bench", resident_mb()]]

    def step(name: str) -> None:
        steps.append([name, resident_mb()])

    import torch  # noqa: F401

    step("import torch")
    import sentence_transformers  # noqa: F401
    import transformers  # noqa: F401

    step("import transformers, sentence-transformers")
    import tensorflow  # noqa: F401

    step("import tensorflow (Rasa imports it for its own components)")
    import rasa.core.agent
    import rasa.engine.recipes.default_components  # noqa: F401
    from rasa.core.utils import AvailableEndpoints
    from rasa.engine.graph import GraphNode

    step("import rasa (agent, default components)")
    # The server is Bridge's Rasa server (bot/serving/rasa_server.py): its fixes are part of a turn.
    from bot.serving.rasa_server import install_serving_fixes

    install_serving_fixes()
    # Logging as `rasa run` sets it up without --debug: no per-turn debug lines.
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.INFO, warn_only_once=True, filter_repeated_logs=True)
    configure_structlog(logging.INFO)
    original = GraphNode._load_component

    def measured_load(node: Any, **kwargs: Any) -> None:
        before = resident_mb()
        original(node, **kwargs)
        steps.append([f"load {node._component_class.__name__}", resident_mb(), resident_mb() - before])

    GraphNode._load_component = measured_load
    try:
        # Rasa installs uvloop's policy, which makes no loop by itself.
        asyncio.set_event_loop(asyncio.new_event_loop())
        agent = asyncio.get_event_loop().run_until_complete(
            rasa.core.agent.load_agent(
                model_path=str(model), endpoints=AvailableEndpoints.read_endpoints(str(endpoints_path))
            )
        )
    finally:
        GraphNode._load_component = original
    step("agent loaded (model, NLG, stores)")
    return steps, agent


def encoder_copies() -> list[dict[str, Any]]:
    """Every word-embedding matrix of an encoder-sized vocabulary alive in this process."""
    import torch

    copies = []
    for thing in gc.get_objects():
        if isinstance(thing, torch.nn.Embedding) and thing.num_embeddings >= ENCODER_VOCABULARY_MIN:
            weight = thing.weight
            copies.append(
                {
                    "rows": thing.num_embeddings,
                    "dim": thing.embedding_dim,
                    "dtype": str(weight.dtype).split(".")[-1],
                    "mb": weight.element_size() * weight.nelement() / 2**20,
                }
            )
    return copies


def module_weights() -> list[dict[str, Any]]:
    """The top-level torch models alive (those not inside another): class, parameters, MB."""
    import torch

    modules = [m for m in gc.get_objects() if isinstance(m, torch.nn.Module)]
    inner = {id(child) for m in modules for child in m.children()}
    found = []
    for module in modules:
        if id(module) in inner:
            continue
        size = sum(p.element_size() * p.nelement() for p in module.parameters())
        if size > 2**20:
            found.append(
                {
                    "model": type(module).__name__,
                    "mb": size / 2**20,
                    "parameters": sum(p.nelement() for p in module.parameters()),
                }
            )
    return sorted(found, key=lambda m: -m["mb"])


async def play(agent: Any, conversations: list, run_id: str, timers: Timers | None) -> int:
    """Plays every conversation once, one turn at a time; returns the number of turns."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    turns = 0
    for number, conversation in enumerate(conversations):
        sender = f"profile-{run_id}-{number}"
        for text in conversation.texts:
            output = CollectingOutputChannel()
            began = time.perf_counter()
            await agent.handle_message(UserMessage(text, output, sender, input_channel="rest"))
            if timers:
                timers.next_turn((time.perf_counter() - began) * 1000)
            if not output.messages:
                raise RuntimeError(f"bench turn_profile: the bot did not answer {text!r}; see the logs.")
            turns += 1
    return turns


def trained_model(project_dir: Path) -> Path:
    """The demo model as `bridge run` gets it, trained by `bridge train` in its own process, so
    this process's memory starts with nothing loaded."""
    from bot.project import model_name, read_config

    subprocess.run([sys.executable, "-m", "bot.cli.main", "train"], cwd=project_dir, check=True)
    return project_dir / "models" / f"{model_name(read_config(project_dir))}.tar.gz"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bridge bench turn_profile", description=__doc__.split("\n")[0])
    parser.add_argument("--passes", type=int, default=2, help="measured passes over the conversations")
    parser.add_argument("--cprofile", type=int, default=15, help="functions of cProfile's list to show (0: none)")
    args = parser.parse_args(argv)

    from bot.offline_env import apply_to_this_process

    apply_to_this_process()
    project = Path.cwd()
    model = trained_model(project)
    conversations = interleaved(load_conversations(CONVERSATIONS_FILE))
    run_id = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as folder, action_server(project, Path(folder)) as port:
        endpoints = Path(folder) / "endpoints.yml"
        config = endpoints_config(
            project / "endpoints.yml", port, sqlite_tracker_store(Path(folder) / "tracker.db"), None
        )
        endpoints.write_text(yaml.safe_dump(config, sort_keys=False))
        steps, agent = memory_steps(model, endpoints)
        loop = asyncio.get_event_loop()
        loop.run_until_complete(play(agent, conversations, f"{run_id}-warm", None))
        steps.append(["after a warm-up pass (lazy loads, caches)", resident_mb()])
        copies, weights = encoder_copies(), module_weights()

        timers = Timers()
        instrument(timers)
        try:
            for number in range(args.passes):
                loop.run_until_complete(play(agent, conversations, f"{run_id}-{number}", timers))
        finally:
            timers.restore()
        profile_text = ""
        if args.cprofile:
            profiler = cProfile.Profile()
            profiler.enable()
            loop.run_until_complete(play(agent, conversations, f"{run_id}-cprofile", None))
            profiler.disable()
            stream = io.StringIO()
            pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(args.cprofile)
            profile_text = stream.getvalue()

    turns = timers.turns
    parts = sorted(
        {part for turn in turns for part in turn}, key=lambda p: -statistics.fmean(t.get(p, 0.0) for t in turns)
    )
    total = statistics.fmean(t["turn total"] for t in turns)
    profile = {
        part: {
            "mean_ms": statistics.fmean(t.get(part, 0.0) for t in turns),
            "median_ms": statistics.median(t.get(part, 0.0) for t in turns),
            "share": statistics.fmean(t.get(part, 0.0) for t in turns) / total,
        }
        for part in parts
    }
    print(
        f"\nOne Bridge turn, {len(turns)} turns in {len({c.language for c in conversations})} languages "
        f"(load average {'/'.join(f'{v:.1f}' for v in os.getloadavg())}):"
    )
    rows = [[part, p["mean_ms"], p["median_ms"], f"{p['share']:.0%}"] for part, p in profile.items()]
    print(format_table(["part (indented: inside the line above)", "mean ms", "median ms", "share"], rows))
    print("\nMemory of the server process:")
    print(format_table(["step", "RSS MB", "component's own MB"], [[*s, *([""] * (3 - len(s)))] for s in steps]))
    print("\nEncoder vocabularies loaded (one per copy of the encoder's weights):")
    print(format_table(["rows", "dim", "dtype", "MB"], [list(c.values()) for c in copies]))
    print("\nTop-level torch models alive:")
    print(format_table(["model", "MB", "parameters"], [list(w.values()) for w in weights]))
    if profile_text:
        print("\ncProfile, one more pass, by own time:\n" + profile_text)
    path = write_results(
        "turn_profile",
        {
            "turns": len(turns),
            "turn_parts_ms": profile,
            "memory_steps_mb": [{"step": s[0], "rss_mb": s[1], "own_mb": s[2] if len(s) > 2 else None} for s in steps],
            "encoder_copies": copies,
            "torch_models": weights,
            "load_average": os.getloadavg(),
        },
    )
    print(f"Results: {path}")
