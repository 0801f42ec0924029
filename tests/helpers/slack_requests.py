"""Events API requests signed the way Slack signs them, for tests of the Slack channel."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from tests.channels.conftest import SLACK_SIGNING_SECRET


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """X-Slack-Signature as Slack computes it: v0=HMAC-SHA256(secret, "v0:<ts>:<body>")."""
    return "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()


def post_to_slack_webhook(
    channel_stack,
    body: bytes,
    content_type: str = "application/json",
    secret: str | None = SLACK_SIGNING_SECRET,
    age_seconds: int = 0,
    extra_headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    timestamp = str(int(time.time()) - age_seconds)
    headers = {"Content-Type": content_type, **(extra_headers or {})}
    if secret is not None:
        headers |= {
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack_signature(secret, timestamp, body),
        }
    request = urllib.request.Request(f"{channel_stack.rasa_url}/webhooks/slack/webhook", body, headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def message_event(user: str, text: str, channel: str, event_id: str, **event: object) -> bytes:
    """An Events API `event_callback` for a direct message, as Slack sends it."""
    ts = f"{time.time():.6f}"
    payload = {
        "token": "unused-verification-token",
        "team_id": "T0TEST",
        "api_app_id": "A0TEST",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0TEST", "user_id": "U0BRIDGEBOT", "is_bot": True}],
        "event": {
            "type": "message",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
            **event,
        },
    }
    return json.dumps(payload).encode()
