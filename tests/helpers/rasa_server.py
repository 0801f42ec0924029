"""Talks to a running Rasa server as a channel would: REST messages in, the tracker out."""

from __future__ import annotations

import json
import urllib.request


def post(url: str, payload: dict) -> object:
    """POSTs `payload` as JSON and returns the decoded JSON reply."""
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def send(stack, sender: str, text: str, metadata: dict | None = None) -> list[str]:
    """Sends one customer turn through the REST channel; returns the texts of the bot's replies."""
    payload = {"sender": sender, "message": text, **({"metadata": metadata} if metadata else {})}
    return [reply["text"] for reply in post(f"{stack.rasa_url}/webhooks/rest/webhook", payload) if "text" in reply]


def tracker(stack, sender: str) -> dict:
    """The conversation's tracker as the server's HTTP API returns it (with the stack's token, if any)."""
    token = getattr(stack, "rasa_token", None)
    url = f"{stack.rasa_url}/conversations/{sender}/tracker" + (f"?token={token}" if token else "")
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())
