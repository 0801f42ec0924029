"""Rasa graph component: answers from the knowledge base of historical support answers.

Where it sits and why. The pipeline runs LanguageDetector -> MultilingualIntentClassifier
-> KnowledgeBaseRetriever -> FallbackClassifier. The classifier is trained on what the
knowledge base answers as the intent `intent_name` (knowledge_base_question;
bot/knowledge/training_importer.py adds the stored questions to the training data), so
routing is the classifier's: Rasa's FAQ convention of a retrieval intent with a selector
that picks the response. This component is the selector. It answers a turn when

  * the classifier's top intent is `intent_name` or one of `takeover_intents`
    (out_of_scope: "not one of our intents" is what the knowledge base is for), or the
    classifier is unsure (top confidence below `takeover_below`), and
  * the best answer's score (question and answer similarity blended, see
    bot/knowledge/retriever.py) is at least `threshold`, and it leads the next answer by
    `ambiguity_margin` (two near-tied answers mean the words matched, not the need);
or when the message is a near-duplicate of a historical question (question similarity at least
`near_duplicate_score`) and the classifier is below `keep_intent_above`.

Where both fit (the classifier gives both the knowledge-base intent and one of the bot's own
intents at least `both_fit_above`), `priority` is the company's choice: "classifier" lets
the higher of the two win, "intents" gives the turn to the bot's own intent (its actions
and responses), "knowledge_base" to a good enough historical answer.

When the classifier routes to the knowledge base but no answer is good enough, the turn keeps
the intent with `answered: false`, and the action declines (asks to rephrase, offers a human):
the bot says it does not know rather than send the nearest wrong answer.

It then sets the dedicated intent `intent_name` (knowledge_base_question) and scales the
classifier's ranking by (1 - confidence) below it, so the FallbackClassifier that follows
sees one clear winner. The confidence maps the score from [threshold, 1] onto
[TAKEOVER_CONFIDENCE, 1]: a score is a similarity, not a probability, and
TAKEOVER_CONFIDENCE sits near the share of its answers the decision rule gets right in each
language (`bridge bench kb` measures it). A rule maps the intent to
action_answer_from_knowledge_base, which sends the answer. When the knowledge base has
nothing close enough, the message is left alone: a weak classification still falls back to
nlu_fallback (the bot asks to rephrase or offers a human), out_of_scope stays out_of_scope.

Every message gets the property `knowledge_base` (in the parse data, hence in the
transcript): the best answer's id, score, text and language, whether it was used, the route
and the classifier's own intent, and the top hits, so reviewers see what the knowledge base
offered even when it stayed silent.

Running it after the classifier (instead of as a separate policy or an action that always
searches) keeps one decision point in NLU, costs one embedding per turn (the encoder is
shared with the classifier), and leaves stories and rules unchanged.

The index is not part of the trained model: it lives in a store folder (`store_dir`) that
`bridge kb build/add/remove` maintain, so answers change without retraining and the running
bot picks up a new commit on its next turn. On a fresh clone the store does not exist yet;
the component then builds it from `source` when it is loaded (quick for a source of the demo's size).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.message_keys import LANGUAGE
from bot.models.encoder import DEFAULT_ENCODER_DIR

logger = logging.getLogger(__name__)

# Intent confidence of an answer at exactly the threshold: above the FallbackClassifier's
# threshold, near the share of answers the decision rule got right (see module docstring).
TAKEOVER_CONFIDENCE = 0.8

KNOWLEDGE_BASE = "knowledge_base"
# Who gets a turn both the knowledge base and one of the bot's own intents fit.
PRIORITIES = ("classifier", "intents", "knowledge_base")


class KnowledgeBaseLoadError(RuntimeError):
    """The knowledge-base store exists but its index or metadata cannot be read."""


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class KnowledgeBaseRetriever(GraphComponent):
    """Retrieves historical answers and takes over turns the intents don't cover."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # Folder of the knowledge base store (manifest, FAISS index, SQLite metadata).
            "store_dir": "var/knowledge_base",
            # SQLAlchemy URL of the metadata; null = $BRIDGE_KB_DB_URL, else SQLite in store_dir.
            "db_url": None,
            # Source file or folder built into the store when the store does not exist yet;
            # null = never build here (then `bridge kb build` must have run).
            "source": "knowledge_base",
            # Local encoder folder; must be the one the store was built with.
            "model_path": str(DEFAULT_ENCODER_DIR),
            # torch CPU threads for the encoder (shared with the intent classifier).
            "threads": 2,
            # Rasa NLU file or folder with per-language examples: their centroids make
            # retrieval work across languages (null = uncentred vectors). Used when building.
            "calibration": "training_data/nlu",
            # Share of the answer text's similarity in an answer's score (0 = questions only).
            "answer_weight": 0.35,
            # Weight of the answer classifier's log-probability in an answer's score (0 = off):
            # a classifier over the store's own vectors that tells neighbouring answers apart
            # (bot/knowledge/answer_classifier.py; bench answers measured it on its dev split).
            "classifier_weight": 0.3,
            # Minimum score of the best answer for the bot to answer with it (bench/kb.py
            # shows how answered-correctly / answered-wrongly / declined move with it).
            "threshold": 0.42,
            # Take over only when the classifier's top confidence is below this ...
            "takeover_below": 0.6,
            # ... or its top intent is one of these.
            "takeover_intents": ["out_of_scope"],
            # The best answer must beat the second best by this much (else it is a guess).
            "ambiguity_margin": 0.02,
            # A match at least this close is a near-duplicate of a historical question ...
            "near_duplicate_score": 0.85,
            # ... and takes over unless the classifier is at least this sure of its intent.
            "keep_intent_above": 0.9,
            # Intent of the knowledge base: trained on its questions (KnowledgeBaseImporter)
            # and set when it answers; a rule maps it to action_answer_from_knowledge_base.
            "intent_name": "knowledge_base_question",
            # Who gets a turn both fit (see module docstring): "classifier" (the higher
            # confidence), "intents" (the bot's own intent) or "knowledge_base".
            "priority": "classifier",
            # Both fit when the knowledge-base intent and the best other intent each have at
            # least this confidence.
            "both_fit_above": 0.2,
            # How many hits the message's `knowledge_base` property lists (at least 2: the
            # runner-up decides ambiguity).
            "top_k": 3,
        }

    def __init__(self, config: dict[str, Any], retriever: Any = None) -> None:
        self._validate(config)
        self.config = config
        self.retriever = retriever

    @staticmethod
    def _validate(config: dict[str, Any]) -> None:
        name = "KnowledgeBaseRetriever"
        for key in ("store_dir", "model_path", "intent_name"):
            if not isinstance(config.get(key), str) or not config[key]:
                raise ValueError(f"{name}: '{key}' must be a non-empty string, got {config.get(key)!r}.")
        for key in ("db_url", "source", "calibration"):
            if config.get(key) is not None and (not isinstance(config[key], str) or not config[key]):
                raise ValueError(f"{name}: '{key}' must be a string or null, got {config.get(key)!r}.")
        for key in (
            "threshold",
            "takeover_below",
            "near_duplicate_score",
            "keep_intent_above",
            "ambiguity_margin",
            "both_fit_above",
            "answer_weight",
            "classifier_weight",
        ):
            value = config.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: '{key}' must be a number between 0 and 1, got {value!r}.")
        for key, least in (("threads", 1), ("top_k", 2)):
            value = config.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name}: '{key}' must be an integer >= {least}, got {value!r}.")
        if config.get("priority") not in PRIORITIES:
            raise ValueError(f"{name}: 'priority' must be one of {list(PRIORITIES)}, got {config.get('priority')!r}.")
        intents = config.get("takeover_intents")
        if not isinstance(intents, list) or not all(isinstance(i, str) for i in intents):
            raise ValueError(f"{name}: 'takeover_intents' must be a list of intent names, got {intents!r}.")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KnowledgeBaseRetriever:
        """Opens the store (building it from `source` if it does not exist yet)."""
        return cls(config, cls.open_retriever(config))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> KnowledgeBaseRetriever:
        """Same as `create` (the component keeps no state in the model), and loads the encoder
        now, so that a missing or corrupt encoder folder or index stops the server at start-up
        instead of failing every customer's turn."""
        from bot.models.encoder import load_encoder

        component = cls.create(config, model_storage, resource, execution_context)
        load_encoder(config["model_path"], config["threads"])
        return component

    @staticmethod
    def open_retriever(config: dict[str, Any]):
        """An AnswerRetriever over the configured store; refuses a mismatched encoder."""
        from bot.knowledge.retriever import AnswerRetriever
        from bot.knowledge.source import load_entries, source_fingerprint
        from bot.knowledge.store import KnowledgeBaseNotBuiltError, KnowledgeBaseStore, is_outdated
        from bot.models.encoder import EncoderNotFoundError

        KnowledgeBaseRetriever._validate(config)
        store = KnowledgeBaseStore(config["store_dir"], db_url=config["db_url"], calibration=config["calibration"])
        manifest = store.manifest()
        if is_outdated(manifest) and config["source"]:
            logger.info(f"KnowledgeBaseRetriever: {config['store_dir']} has an older format; rebuilding it")
            manifest = None
        if manifest is None:
            if config["source"] is None:
                store.require_manifest()  # raises, naming `bridge kb build`
            logger.info(f"KnowledgeBaseRetriever: building {config['store_dir']} from {config['source']}")
            store.build(load_entries(config["source"]), config["model_path"], config["threads"])
        elif config["source"] and manifest.get("source") != source_fingerprint(load_entries(config["source"])):
            # Not rebuilt automatically: `bridge kb add` may have added answers on purpose.
            logger.warning(
                f"KnowledgeBaseRetriever: {config['store_dir']} differs from {config['source']} (edited "
                f"since the last build, or extended with `bridge kb add`). Run `bridge kb build` to rebuild it."
            )
        retriever = AnswerRetriever(
            store, config["model_path"], config["threads"], config["answer_weight"], config["classifier_weight"]
        )
        try:
            return retriever.open()
        except (EncoderNotFoundError, KnowledgeBaseNotBuiltError):
            raise
        except (OSError, RuntimeError) as error:  # faiss raises RuntimeError on a truncated index
            raise KnowledgeBaseLoadError(
                f"KnowledgeBaseRetriever: the knowledge base in '{config['store_dir']}' cannot be opened "
                f"({type(error).__name__}: {error}). Rebuild it with `bridge kb build`."
            ) from error

    @staticmethod
    def is_confident(hits: list[Any], config: dict[str, Any]) -> bool:
        """Whether the best hit is close enough and clearly ahead of the runner-up."""
        if not hits or hits[0].score < config["threshold"]:
            return False
        return len(hits) < 2 or hits[0].score - hits[1].score >= config["ambiguity_margin"]

    def route(self, message: Message, question_score: float) -> str:
        """Who gets the turn: "knowledge_base" (the classifier's top intent is the knowledge
        base's: answer if an answer is good enough, else decline), "either" (answer only if an
        answer is good enough, else the classifier's intent stays) or "intent" (the bot's own
        intent, whatever the knowledge base has)."""
        config = self.config
        kb_intent = config["intent_name"]
        intent = message.get(INTENT) or {}
        if not intent.get("name"):
            return "either"
        ranking = message.get(INTENT_RANKING_KEY) or [intent]
        kb = next((float(r.get("confidence") or 0.0) for r in ranking if r.get("name") == kb_intent), 0.0)
        other = next((r for r in ranking if r.get("name") not in (kb_intent, *config["takeover_intents"])), None)
        other_confidence = float(other.get("confidence") or 0.0) if other else 0.0
        both_fit = min(kb, other_confidence) >= config["both_fit_above"]
        if both_fit and config["priority"] == "intents":
            return "intent"
        if intent["name"] == kb_intent:
            return "knowledge_base"
        if both_fit and config["priority"] == "knowledge_base":
            return "either"
        confidence = float(intent.get("confidence") or 0.0)
        if question_score >= config["near_duplicate_score"] and confidence < config["keep_intent_above"]:
            return "either"
        if intent["name"] in config["takeover_intents"] or confidence < config["takeover_below"]:
            return "either"
        return "intent"

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds `knowledge_base` to each message, and the KB intent where it answers."""
        texts = [m.get(TEXT) or "" for m in messages]
        wanted = [i for i, text in enumerate(texts) if text.strip() and not text.startswith("/")]
        if not wanted:
            return messages
        results = self.retriever.search(
            [texts[i] for i in wanted], k=self.config["top_k"], languages=[messages[i].get(LANGUAGE) for i in wanted]
        )
        for i, hits in zip(wanted, results):
            message = messages[i]
            best = hits[0] if hits else None
            confident = self.is_confident(hits, self.config)
            route = self.route(message, best.question_score if best else 0.0)
            answered = confident and route != "intent"
            message.set(
                KNOWLEDGE_BASE,
                {
                    "answered": answered,
                    "route": route,
                    # What the classifier said before this component (reviewers, bench answers).
                    "classifier_intent": dict(message.get(INTENT) or {}) or None,
                    "answer_id": best.entry_id if best else None,
                    "score": round(best.score, 4) if best else None,
                    "answer": best.answer if best else None,
                    "answer_language": best.language if best else None,
                    "hits": [h.to_dict() for h in hits],
                },
                add_to_output=True,
            )
            if answered:
                self._set_intent(message, best.score)
            elif route == "intent":
                self._drop_intent(message)
            # route "knowledge_base" without a good answer keeps the intent: the action declines.
        return messages

    def takeover_confidence(self, score: float) -> float:
        """The intent confidence of a turn the knowledge base answers with `score`."""
        threshold = self.config["threshold"]
        share = (score - threshold) / (1.0 - threshold) if threshold < 1.0 else 1.0
        return float(min(1.0, TAKEOVER_CONFIDENCE + (1.0 - TAKEOVER_CONFIDENCE) * max(0.0, share)))

    def _set_intent(self, message: Message, score: float) -> None:
        """Makes the knowledge-base intent the clear winner, its confidence from the answer's score."""
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != self.config["intent_name"]]
        confidence = self.takeover_confidence(score)
        new_intent = {"name": self.config["intent_name"], "confidence": confidence}
        scaled = [{**r, "confidence": float(r.get("confidence") or 0.0) * (1.0 - confidence)} for r in ranking]
        message.set(INTENT, new_intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [new_intent, *scaled], add_to_output=True)

    def _drop_intent(self, message: Message) -> None:
        """Gives a turn the knowledge-base intent topped to the bot's own intents: it leaves the
        ranking and the others share its confidence, so the best of them is the intent."""
        ranking = message.get(INTENT_RANKING_KEY) or []
        kept = [r for r in ranking if r.get("name") != self.config["intent_name"]]
        if not ranking or ranking[0].get("name") != self.config["intent_name"] or not kept:
            return
        rest = sum(float(r.get("confidence") or 0.0) for r in kept) or 1.0
        scaled = [{**r, "confidence": float(r.get("confidence") or 0.0) / rest} for r in kept]
        message.set(INTENT, scaled[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, scaled, add_to_output=True)
