"""The demo bot's domain and the authored reply texts the tests expect from it."""

from __future__ import annotations

from pathlib import Path

from rasa.shared.core.domain import Domain

DEMO_DOMAIN_DIR = Path(__file__).resolve().parents[2] / "training_data" / "domain"


def load_demo_domain() -> Domain:
    """The demo bot's domain (every file under training_data/domain)."""
    return Domain.load(str(DEMO_DOMAIN_DIR))


def authored(domain: Domain, response: str, language: str, **values: str) -> str:
    """The response's authored text in `language`, placeholders filled."""
    for variant in domain.responses[response]:
        if any(c["name"] == "language" and c["value"] == language for c in variant.get("condition", [])):
            return variant["text"].format(**values) if values else variant["text"]
    raise KeyError(f"{response} has no {language} variant")
