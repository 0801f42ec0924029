"""The channel's language hint: read from any channel's metadata, reduced to ISO 639-1."""

import pytest

from bot.message_keys import channel_language_hint


@pytest.mark.parametrize(
    "metadata, expected",
    [
        ({"language": "pt-BR"}, "pt"),
        ({"language": "de_DE"}, "de"),
        ({"from": {"language_code": "ko"}}, "ko"),
        ({"message": {"from": {"language_code": "es-MX"}}}, "es"),
        ({"language": ""}, None),
        (None, None),
        ({"language": 3}, None),
    ],
)
def test_channel_language_hint(metadata, expected):
    assert channel_language_hint(metadata) == expected
