"""ISO 639-1 codes of the languages Bridge speaks by default, and their own names."""

DEMO_LANGUAGES: list[str] = ["en", "es", "pt", "fr", "de", "it", "ru", "zh", "ja", "ko", "ar", "hi"]

# Each language's name in that language: what a customer who reads it recognises.
NATIVE_NAMES: dict[str, str] = {
    "en": "English",
    "es": "Español",
    "pt": "Português",
    "fr": "Français",
    "de": "Deutsch",
    "it": "Italiano",
    "ru": "Русский",
    "zh": "中文",
    "ja": "日本語",
    "ko": "한국어",
    "ar": "العربية",
    "hi": "हिन्दी",
}


# FLORES-200 / NLLB codes (language plus script) of the same languages: the names of the
# FLORES data files and the language tokens NLLB models expect.
FLORES_CODES: dict[str, str] = {
    "en": "eng_Latn",
    "es": "spa_Latn",
    "pt": "por_Latn",
    "fr": "fra_Latn",
    "de": "deu_Latn",
    "it": "ita_Latn",
    "ru": "rus_Cyrl",
    "zh": "zho_Hans",
    "ja": "jpn_Jpan",
    "ko": "kor_Hang",
    "ar": "arb_Arab",
    "hi": "hin_Deva",
}


def native_name(code: str) -> str:
    """The language's own name, or its code when Bridge has no name for it."""
    return NATIVE_NAMES.get(code, code)
