"""What a bot project says about its languages: read from its config.yml and endpoints.yml.

The command-line tools (`bridge kb`, `bridge translations`) need the same settings as the
running bot: the languages the LanguageDetector speaks, the NLG's source language, and the
translation settings (memory, glossary, backends) of `nlg: translation:` in endpoints.yml.
Reading them here keeps one meaning for each, whoever asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.translation.pipeline import memory_from_settings, protector_from_settings, read_settings
from bot.translation.protection import SpanProtector

CONFIG_FILE = Path("config.yml")
ENDPOINTS_FILE = Path("endpoints.yml")


@dataclass(frozen=True)
class ProjectLanguages:
    """The language settings of one bot project.

    Attributes:
        languages: the languages the bot speaks (LanguageDetector's `supported_languages`).
        source_language: the language the responses are written in (the NLG's `source_language`).
        translation: the NLG's translation settings, read (empty without `translation:`).
    """

    languages: tuple[str, ...]
    source_language: str = "en"
    translation: dict[str, Any] = field(default_factory=dict)

    def protector(self) -> SpanProtector:
        """The span protector the bot uses: built-in patterns plus the glossary."""
        return protector_from_settings(self.translation)

    def memory(self):
        """The bot's translation memory (None when `memory_url` is null or translation is off)."""
        if not self.translation:
            return None
        return memory_from_settings(self.translation, self.protector())


def _yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def read_project_languages(config_file: Path = CONFIG_FILE, endpoints_file: Path = ENDPOINTS_FILE) -> ProjectLanguages:
    """The language settings of the project whose files are given (default: the current folder)."""
    from bot.project import pipeline_steps

    detector = next(iter(pipeline_steps(_yaml(config_file), ["LanguageDetector"])), {})
    if "supported_languages" in detector:
        languages = tuple(detector["supported_languages"])
    else:
        from bot.components.language_detector import LanguageDetector

        languages = tuple(LanguageDetector.get_default_config()["supported_languages"])
    nlg = _yaml(endpoints_file).get("nlg") or {}
    translation = nlg.get("translation")
    return ProjectLanguages(languages, nlg.get("source_language", "en"), read_settings(translation))
