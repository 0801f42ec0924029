"""Very common short chat words per language, for turns too short for a statistical model.

"danke", "sí", "obrigado" or "ciao" are a whole turn in chat, and a character model sees
too little of them to be sure. These hand-written lists say which languages use each such
word; a word listed under several languages ("no", "si") only narrows the choice. Chat
words may decide a short turn alone; common function words only add evidence to the
statistical model's ranking.
Words that carry no language at all in chat ("ok", "lol", "hmm") are listed separately so
that a turn made only of them keeps the conversation's language.

The lists favour words customers actually send to a support bot: yes/no, thanks, please,
greetings, agreement, and the function words of a short request. Only the demo languages
written in Latin script need it; other scripts are decided by their writing system.

Example:
    >>> chat_word_languages("danke")
    frozenset({'de'})
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

# Carry no language in chat: acknowledgements, fillers, laughter, brand-like words.
NEUTRAL_WORDS: frozenset[str] = frozenset(
    "ok okay okey oki okk k kk okidoki hm hmm hmmm mm mmm ah aha ahh oh ohh eh ehm uh uhm "
    "wow lol xd haha hahaha hehe hihi ps re fyi bot chatbot email mail app online ".split()
)

# Whole chat turns on their own: yes/no, thanks, please, greetings, agreement. A turn made
# only of these is decided by them. Lower case, with and without skipped accents.
CHAT_WORDS: dict[str, str] = {
    "en": "yes yeah yep yup no nope sure thanks thank thx ty please pls plz hi hello hey bye goodbye "
    "cheers great good fine cool perfect alright sorry",
    "es": "sí si no vale bueno buena buenas buenos gracias muchas favor hola adiós adios hasta luego "
    "perfecto claro genial bien disculpa perdón perdon",
    "pt": "sim não nao obrigado obrigada obg brigado valeu favor olá ola oi tchau até ate logo "
    "perfeito claro certo beleza legal bom boa bem desculpa desculpe",
    "fr": "oui ouais non si merci beaucoup bcp s'il plaît plait svp bonjour bonsoir salut coucou "
    "revoir parfait bien d'accord daccord génial genial super désolé desole pardon",
    "de": "ja jo jep nein nee danke dankeschön schön vielen dank bitte hallo servus moin tschüss tschüs "
    "tschuess tschau guten tag morgen abend gut genau klar alles stimmt perfekt super doch "
    "entschuldigung",
    "it": "sì si no grazie mille favore prego ciao buongiorno buonasera salve arrivederci perfetto "
    "certo bene va benissimo ottimo scusa scusi",
}

# Function words and support vocabulary: common in requests, but shared with product
# names and labels ("Order 10046" from a Japanese customer), so they only add evidence
# to the model's judgement and never decide a turn alone.
COMMON_WORDS: dict[str, str] = {
    "en": "a the and is are was my me you your i im i'm it this that what where when why how can "
    "could would will want need help order not don't dont didn't didnt did have has of to for "
    "with on in from just still yet already again ago today tomorrow yesterday agent human",
    "es": "a me es el la los las un una son está esta estoy mi mis tu yo que qué quiero necesito "
    "dónde donde cuándo cuando cómo como por porque pedido ayuda y pero muy también tambien "
    "todavía todavia ya hoy mañana manana ayer días dias de del con sin para en lo le nada eso "
    "esto agente persona",
    "pt": "me o os a as um uma é e eu meu minha você voce vc que quero preciso onde quando como por "
    "porque pedido ajuda mas muito também tambem tb ainda já ja hoje amanhã amanha ontem dia "
    "dias noite tarde de do da dos das com sem para pra no na em isso isto nada atendente",
    "fr": "me à a le la les un une est sont je j'ai tu vous mon ma mes que qui quoi où ou quand "
    "comment pourquoi commande aide et mais très tres aussi encore déjà deja aujourd'hui "
    "demain hier de du des avec sans pour dans en ce c'est cest pas rien conseiller",
    "de": "es der die das ein eine ist sind ich bin du sie mein meine meinen wo wann wie warum was "
    "bestellung hilfe und aber sehr auch noch schon heute gestern mit ohne für fuer in im "
    "nicht kein keine nichts mitarbeiter",
    "it": "a o me il lo la gli le un una è e sono io tu mio mia che cosa dove quando come perché "
    "perche ordine aiuto voglio ma molto anche ancora già gia oggi domani ieri di del della "
    "con senza in non niente per operatore",
}


def _build_index(lexicon: dict[str, str]) -> dict[str, frozenset[str]]:
    index: dict[str, set] = {}
    for language, words in lexicon.items():
        for word in words.split():
            index.setdefault(word, set()).add(language)
    return {word: frozenset(languages) for word, languages in index.items()}


@lru_cache(maxsize=1)
def _chat_index() -> dict[str, frozenset[str]]:
    return _build_index(CHAT_WORDS)


@lru_cache(maxsize=1)
def _full_index() -> dict[str, frozenset[str]]:
    merged = {code: f"{CHAT_WORDS.get(code, '')} {COMMON_WORDS.get(code, '')}" for code in {*CHAT_WORDS, *COMMON_WORDS}}
    return _build_index(merged)


def chat_word_languages(word: str) -> frozenset[str]:
    """The languages in which `word` (any case) is a whole chat turn; empty when none."""
    return _chat_index().get(word.lower(), frozenset())


def is_neutral(word: str) -> bool:
    """True for chat words that carry no language ("ok", "lol", "hmm")."""
    return word.lower() in NEUTRAL_WORDS


def lexicon_votes(words: Iterable[str], languages: Iterable[str], chat_only: bool = False) -> dict[str, int]:
    """How many of `words` each of `languages` lists (chat words only, or common words too)."""
    index = _chat_index() if chat_only else _full_index()
    votes = {language: 0 for language in languages}
    for word in words:
        for language in index.get(word.lower(), ()):
            if language in votes:
                votes[language] += 1
    return votes
