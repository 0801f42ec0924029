"""Identifies the language of one customer turn among the languages a bot speaks.

The evidence is weighed from the cheapest and surest to the most statistical:

1. What carries no language is removed (links, emails, @mentions, order numbers, emoji,
   "ok"/"lol"); nothing left means no evidence.
2. The writing system decides where it belongs to one supported language (Hangul, kana,
   Devanagari, Arabic, Cyrillic), and proves an unsupported language where it belongs to
   none (Thai, Greek, Hebrew...) or shows letters the supported language never uses.
3. Short turns made of common chat words ("danke", "sí", "obrigado") are decided by the
   chat lexicon.
4. lingua, restricted to the supported languages of the text's script, ranks the rest; in
   Latin script, how often each language uses the turn's words (wordfreq's lists) weighs in,
   which settles words that several languages could spell alike ("texto", "justice").
5. A turn with enough text is screened by lingua over all its languages; when it is
   clearly in a language the bot does not speak, and langdetect agrees, the turn is
   reported as unsupported instead of being forced into a supported language.

A turn whose best guess is not clearly ahead is reported as undecided, with its best
candidate, so the caller keeps the conversation's language; a channel hint (the page or
app language) decides only among candidates that are close.

Example:
    >>> identifier = LanguageIdentifier(["en", "de", "ko"])
    >>> identifier.identify("Wo ist meine Bestellung?").language
    'de'
    >>> identifier.identify("10045 👍").decided
    False
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.language.detectors import Ranking, langdetect_ranking, lingua_ranking, preload_lingua
from bot.language.evidence import (
    MARKER_ONLY_SCRIPTS,
    SCRIPT_LANGUAGES,
    dominant_script,
    linguistic_words,
    marker_languages,
)
from bot.language.lexicon import is_neutral, lexicon_votes
from bot.language.word_frequencies import languages_with_lists, share_of_common_words, word_log_likelihoods
from bot.language.word_frequencies import preload as preload_word_frequencies

# How a turn's language was decided; stored with the turn so transcripts explain it.
METHOD_SCRIPT = "script"
METHOD_LEXICON = "lexicon"
METHOD_MODEL = "model"
METHOD_HINT = "hint"
METHOD_NO_EVIDENCE = "no_evidence"
METHOD_WEAK_EVIDENCE = "weak_evidence"
METHOD_UNSUPPORTED = "unsupported"

DETECTOR_LEXICON = "lexicon"
DETECTOR_SCRIPT = "script"
DETECTOR_LINGUA = "lingua"
DETECTOR_LANGDETECT = "langdetect"
DETECTOR_WORD_FREQUENCY = "word_frequency"
KNOWN_DETECTORS = (DETECTOR_LEXICON, DETECTOR_SCRIPT, DETECTOR_LINGUA, DETECTOR_LANGDETECT, DETECTOR_WORD_FREQUENCY)

# Scripts without spaces between words: their letter count, not word count, measures text.
_UNSPACED_SCRIPTS = ("han", "kana", "thai")
SCREEN_MAX_LETTERS = 100
# A word used at least once in 100,000 words of a language is common in it (zipf 4: "order",
# "rebate", "updating" in English).
COMMON_WORD_FREQUENCY = 1e-5


@dataclass(frozen=True)
class LanguageGuess:
    """What the identifier concluded about one turn.

    Attributes:
        language: a supported ISO 639-1 code, or None when the turn does not decide one
            (too little evidence, or a language the bot does not speak).
        confidence: 0..1, how strongly the evidence supports the conclusion.
        method: how it was decided (script, lexicon, model, hint, no_evidence,
            weak_evidence, unsupported).
        best_candidate: the most likely supported language, even when undecided.
        supported: False when the turn is clearly in a language the bot does not speak.
        detected: that unsupported language's code (else the best candidate).
    """

    language: str | None
    confidence: float
    method: str
    best_candidate: str | None = None
    supported: bool = True
    detected: str | None = None

    @property
    def decided(self) -> bool:
        """True when the turn is clear enough to set (or switch) the conversation language."""
        return self.language is not None


@dataclass(frozen=True)
class IdentifierSettings:
    """How much evidence each decision needs. Defaults were tuned on FLORES-200 dev text.

    Attributes:
        detectors: evidence sources in use (see KNOWN_DETECTORS).
        min_confidence: the model's confidence a turn needs to be decided...
        min_margin: ...and how far ahead of the runner-up it must be; candidates closer
            than this to the best are a tie that a channel hint may break.
        lingua_low_accuracy: lingua's trigram-only mode for the supported languages.
        lexicon_max_words: turns of at most this many words may be decided by the lexicon.
        lexicon_weight: how much each common chat word adds to its languages' scores.
        word_frequency_weight: the exponent of the word-frequency likelihood (0 = unused)...
        single_word_frequency_weight: ...and its exponent on a turn of a single word, where
            lingua's letter model has the least to go on.
        detect_unsupported: screen turns for languages the bot does not speak.
        unsupported_min_words: a turn needs this many words to be screened...
        unsupported_min_letters: ...and this many letters...
        unsupported_min_confidence: ...and lingua's confidence in the unsupported language...
        unsupported_max_common_share: ...and no supported language may use this share of
            its words or more commonly (above 1 = no such check).
        script_min_letters: letters of an unsupported script that prove it (Thai, Greek...).
    """

    detectors: tuple[str, ...] = KNOWN_DETECTORS
    min_confidence: float = 0.8
    min_margin: float = 0.3
    lingua_low_accuracy: bool = False
    lexicon_max_words: int = 3
    lexicon_weight: float = 1.0
    word_frequency_weight: float = 1.0
    single_word_frequency_weight: float = 2.0
    detect_unsupported: bool = True
    unsupported_min_words: int = 3
    unsupported_min_letters: int = 12
    unsupported_min_confidence: float = 0.7
    unsupported_max_common_share: float = 0.6
    script_min_letters: int = 3


@dataclass
class _Evidence:
    words: list[str]
    letters: str
    script: str
    letter_count: int
    candidates: list[str]


class LanguageIdentifier:
    """Identifies the language of short customer turns among a fixed set of languages.

    Args:
        supported_languages: ISO 639-1 codes the bot speaks.
        settings: evidence thresholds and detectors (IdentifierSettings defaults if None).
    """

    def __init__(self, supported_languages: Sequence[str], settings: IdentifierSettings | None = None) -> None:
        self.supported_languages = list(supported_languages)
        self.settings = settings or IdentifierSettings()
        self._by_script = self._supported_by_script(self.supported_languages)

    @staticmethod
    def _supported_by_script(supported: Sequence[str]) -> dict[str, list[str]]:
        """Supported languages per script; a language no script claims is written in Latin."""
        by_script = {script: [c for c in codes if c in supported] for script, codes in SCRIPT_LANGUAGES.items()}
        non_latin = {code for codes in by_script.values() for code in codes}
        by_script["latin"] = [code for code in supported if code not in non_latin]
        return by_script

    def preload(self) -> None:
        """Loads the statistical models now instead of on the first customer turn."""
        if DETECTOR_LINGUA in self.settings.detectors:
            preload_lingua(self._by_script["latin"] or self.supported_languages, self.settings.lingua_low_accuracy)
        if DETECTOR_WORD_FREQUENCY in self.settings.detectors:
            preload_word_frequencies(self._by_script["latin"])
        if self.settings.detect_unsupported:
            preload_lingua((), low_accuracy=True)
            if DETECTOR_LANGDETECT in self.settings.detectors:
                langdetect_ranking("preload")

    def identify(self, text: str, hint: str | None = None) -> LanguageGuess:
        """Decides the language of `text`; `hint` (a channel's language) breaks near-ties."""
        words = [word for word in linguistic_words(text) if not is_neutral(word)]
        if not words:
            return LanguageGuess(None, 0.0, METHOD_NO_EVIDENCE)
        letters = " ".join(words)
        script = dominant_script(letters)
        evidence = _Evidence(words, letters, script.script, script.letters, list(self.supported_languages))
        by_script = DETECTOR_SCRIPT in self.settings.detectors
        if by_script and script.script == "latin":
            evidence.candidates = self._by_script["latin"] or evidence.candidates
        elif by_script and script.script != "other":
            guess = self._by_writing_system(evidence)
            if guess is not None:
                return guess
        unsupported = self._screen_unsupported(evidence)
        if unsupported is not None:
            return unsupported
        if by_script and script.script != "latin" and len(evidence.candidates) == 1:
            code = evidence.candidates[0]
            return LanguageGuess(code, 1.0, METHOD_SCRIPT, code, detected=code)
        if DETECTOR_LEXICON in self.settings.detectors and script.script == "latin":
            guess = self._by_lexicon(evidence)
            if guess is not None:
                return guess
        return self._by_model(evidence, hint)

    def _by_writing_system(self, evidence: _Evidence) -> LanguageGuess | None:
        """Proves an unsupported language by its script or letters; else narrows candidates."""
        supported = self._by_script.get(evidence.script, [])
        written_in = SCRIPT_LANGUAGES.get(evidence.script, ())
        if not supported:
            if evidence.letter_count >= self.settings.script_min_letters:
                return LanguageGuess(None, 1.0, METHOD_UNSUPPORTED, None, supported=False, detected=written_in[0])
            return LanguageGuess(None, 0.0, METHOD_NO_EVIDENCE)
        markers = [code for code in marker_languages(evidence.letters) if code in written_in and code not in supported]
        if markers:
            # One such letter proves the language, but one short word is not enough to
            # tell the customer we cannot read them.
            if len(evidence.words) >= 2 or evidence.letter_count >= self.settings.unsupported_min_letters:
                return LanguageGuess(None, 1.0, METHOD_UNSUPPORTED, supported[0], supported=False, detected=markers[0])
            return LanguageGuess(None, 0.0, METHOD_WEAK_EVIDENCE, supported[0], detected=markers[0])
        evidence.candidates = supported
        return None

    def _screenable(self, evidence: _Evidence) -> bool:
        """Whether the turn has enough text, in a script other languages share, to screen."""
        settings = self.settings
        if not settings.detect_unsupported or evidence.script in _UNSPACED_SCRIPTS + tuple(MARKER_ONLY_SCRIPTS):
            return False
        return (
            len(evidence.words) >= settings.unsupported_min_words
            and evidence.letter_count >= settings.unsupported_min_letters
        )

    def _screen_unsupported(self, evidence: _Evidence) -> LanguageGuess | None:
        """An unsupported guess when lingua over all languages (and langdetect) say so clearly."""
        if not self._screenable(evidence):
            return None
        # A hundred letters are enough to recognise a language; more only costs time.
        ranking = lingua_ranking(evidence.letters[:SCREEN_MAX_LETTERS], (), low_accuracy=True)
        top = ranking[0][0]
        # Close relatives (Indonesian and Malay, Bosnian and Croatian) share the vote: what
        # counts is how sure lingua is that the turn is in none of the supported languages.
        confidence = sum(score for code, score in ranking if code not in self.supported_languages)
        if top in self.supported_languages or confidence < self.settings.unsupported_min_confidence:
            return None
        if self._mostly_common_words(evidence):
            return None
        if DETECTOR_LANGDETECT in self.settings.detectors:
            second_opinion = langdetect_ranking(evidence.letters[:SCREEN_MAX_LETTERS])
            if not second_opinion or second_opinion[0][0] in self.supported_languages:
                return None
        best = next((code for code, _ in ranking if code in evidence.candidates), None)
        return LanguageGuess(None, confidence, METHOD_UNSUPPORTED, best, supported=False, detected=top)

    def _mostly_common_words(self, evidence: _Evidence) -> bool:
        """Whether a supported language uses most of the turn's words commonly: short, typo-
        ridden English ("help updating order 00123842") looks Dutch or Tswana to a trigram
        model, but every word of it is everyday English."""
        share = self.settings.unsupported_max_common_share
        if DETECTOR_WORD_FREQUENCY not in self.settings.detectors or share > 1.0:
            return False
        # At least: "acn i order from Hungary" has 3 everyday English words of 5, exactly 0.6.
        return any(
            share_of_common_words(evidence.words, code, COMMON_WORD_FREQUENCY) >= share for code in evidence.candidates
        )

    def _by_lexicon(self, evidence: _Evidence) -> LanguageGuess | None:
        """Decides a short turn made only of common chat words of one language."""
        if len(evidence.words) > self.settings.lexicon_max_words:
            return None
        votes = lexicon_votes(evidence.words, evidence.candidates, chat_only=True)
        best = max(votes.values(), default=0)
        if best < len(evidence.words):
            return None  # some word is not a chat word: let the model judge the whole turn
        leaders = [code for code, count in votes.items() if count == best]
        if len(leaders) == 1:
            return LanguageGuess(leaders[0], 0.9, METHOD_LEXICON, leaders[0], detected=leaders[0])
        # A word several languages use ("si", "no"): only those stay candidates.
        evidence.candidates = leaders
        return None

    def _by_model(self, evidence: _Evidence, hint: str | None) -> LanguageGuess:
        """lingua's ranking among the candidates, decided only when clearly ahead."""
        if DETECTOR_LINGUA in self.settings.detectors:
            ranking = lingua_ranking(evidence.letters, evidence.candidates, self.settings.lingua_low_accuracy)
        else:
            ranking = self._langdetect_among(evidence.letters, evidence.candidates)
        if not ranking:
            return LanguageGuess(None, 0.0, METHOD_NO_EVIDENCE)
        if DETECTOR_LEXICON in self.settings.detectors and self.settings.lexicon_weight:
            ranking = self._with_lexicon(ranking, evidence.words)
        model_ranking = ranking
        if DETECTOR_WORD_FREQUENCY in self.settings.detectors and evidence.script == "latin":
            ranking = self._with_word_frequencies(ranking, evidence.words)
        (best, best_score) = ranking[0]
        # Word frequencies choose the best candidate. Switching the conversation also needs
        # the character model to be sure on its own: "Order" is a frequent English word, yet
        # customers of every language send it as a label.
        if self._is_clear(ranking) and self._is_clear(model_ranking) and model_ranking[0][0] == best:
            return LanguageGuess(best, best_score, METHOD_MODEL, best, detected=best)
        close = {code: score for code, score in ranking if best_score - score < self.settings.min_margin}
        if hint in close:
            return LanguageGuess(hint, close[hint], METHOD_HINT, best, detected=best)
        return LanguageGuess(None, best_score, METHOD_WEAK_EVIDENCE, best, detected=best)

    def _is_clear(self, ranking: Ranking) -> bool:
        """Whether the best language is confident enough and far enough ahead of the next."""
        runner_up = ranking[1][1] if len(ranking) > 1 else 0.0
        return ranking[0][1] >= self.settings.min_confidence and ranking[0][1] - runner_up >= self.settings.min_margin

    def _with_lexicon(self, ranking: Ranking, words: Sequence[str]) -> Ranking:
        """The model's ranking with each common chat word as extra evidence for its languages.

        Each word multiplies a language's score by e**lexicon_weight; on customer requests
        this decides far more turns at the same precision (FLORES + NLU dev data).
        """
        votes = lexicon_votes(words, [code for code, _ in ranking])
        return _normalised(
            {code: score * math.exp(self.settings.lexicon_weight * votes[code]) for code, score in ranking}
        )

    def _with_word_frequencies(self, ranking: Ranking, words: Sequence[str]) -> Ranking:
        """The model's ranking times P(words | language) ** word_frequency_weight, renormalised.

        A single word takes single_word_frequency_weight: on one word lingua's letters have
        the least to go on, so the lists count more (chosen on FLORES dev text, never on
        the test sets).

        Only when every ranked language has a frequency list: a language without one would
        otherwise be favoured for lacking the evidence.
        """
        weight = self.settings.word_frequency_weight if len(words) > 1 else self.settings.single_word_frequency_weight
        codes = [code for code, _ in ranking]
        if not weight or not set(codes) <= languages_with_lists():
            return ranking
        likelihoods = word_log_likelihoods(words, codes)
        logs = {code: math.log(max(score, 1e-12)) + weight * likelihoods[code] for code, score in ranking}
        top = max(logs.values())
        return _normalised({code: math.exp(value - top) for code, value in logs.items()})

    @staticmethod
    def _langdetect_among(letters: str, candidates: Sequence[str]) -> Ranking:
        """langdetect's ranking restricted to `candidates`, renormalised."""
        scores = {code: p for code, p in langdetect_ranking(letters) if code in candidates}
        return _normalised(scores) if sum(scores.values()) else []


def _normalised(scores: dict[str, float]) -> Ranking:
    """`scores` divided by their sum, best first."""
    total = sum(scores.values()) or 1.0
    return sorted(((code, score / total) for code, score in scores.items()), key=lambda item: item[1], reverse=True)
