"""Serves the embeddable chat widget and a demo shop page using it, pointed at a Rasa server.

The widget (static/bridge-widget.js) talks to the server's socket.io channel; its socket.io
client and rasa-webchat's bundle (for static/webchat.html) are copied from npm into
static/vendor/ by scripts/setup_web.sh.

Usage:
    python -m bot.web.chat_page --port 8080 --rasa-url http://127.0.0.1:5005
"""

from __future__ import annotations

import argparse
import functools
import json
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
SOCKET_IO_CLIENT = STATIC_DIR / "vendor" / "socket.io.min.js"


class ChatPageHandler(SimpleHTTPRequestHandler):
    """Static files from STATIC_DIR, plus /config.json telling the widget where Rasa is."""

    def __init__(self, *args, rasa_url: str, **kwargs) -> None:
        self.rasa_url = rasa_url
        super().__init__(*args, directory=str(STATIC_DIR), **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/config.json":
            body = json.dumps({"rasaUrl": self.rasa_url}).encode()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args) -> None:  # quiet: customers' paths are not logged
        pass


def serve(port: int, rasa_url: str, host: str = "127.0.0.1") -> None:
    """Serves the page until interrupted."""
    if not SOCKET_IO_CLIENT.is_file():
        print(
            f"chat page: {SOCKET_IO_CLIENT} is missing, so the widget cannot connect; run `bash scripts/setup_web.sh`.",
            flush=True,
        )
    handler = functools.partial(ChatPageHandler, rasa_url=rasa_url)
    with ThreadingHTTPServer((host, port), handler) as server:
        server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    args = parser.parse_args()
    serve(args.port, args.rasa_url, args.host)


if __name__ == "__main__":
    main()
