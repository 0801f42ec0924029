"""Several customers talking to Rasa servers over REST at once, every turn recorded.

Each conversation runs in its own thread and sends its turns one after the other, as a
customer waits for the answer before typing again; the conversations run side by side. A
`route` picks the server of each turn, so one conversation can hop between replicas. A turn
that fails (server gone, HTTP error, time-out) is recorded and the customer moves on after a
short pause, so a test can break a server in the middle and count what was answered.

Example:
    >>> driver = ConversationDriver({"c1": ["hello", "thanks"]}, route=lambda sender, n: url)
    >>> driver.start(); driver.join()
    >>> [turn.replies for turn in driver.turns]
    [['Hi!'], ["You're welcome!"]]
"""

from __future__ import annotations

import threading
import time
import urllib.error
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tests.helpers.rasa_server import post

RETRY_PAUSE = 0.3  # seconds a customer waits after a failed turn before the next one


@dataclass
class Turn:
    """One customer message and what came back."""

    sender: str
    index: int
    text: str
    url: str
    started: float
    finished: float = 0.0
    replies: list[str] | None = None  # None when the turn got no answer
    error: str | None = None

    @property
    def answered(self) -> bool:
        return self.replies is not None

    @property
    def tag(self) -> str:
        """Names the turn in the message's metadata (`turn`), when the driver tags turns."""
        return f"{self.sender}/{self.index}"


@dataclass
class ConversationDriver:
    """Runs `conversations` ({sender: its texts}) concurrently against the servers `route` names.

    `route(sender, turn_index)` returns a Rasa server's base URL. Texts may be an endless
    iterator: `stop()` ends every conversation after its current turn. With `tag_turns`, each
    message carries its `Turn.tag` as metadata `turn` (a channel that passes metadata on, such
    as Bridge's REST channel, stores it with the message), so repeated texts stay tellable apart.
    """

    conversations: dict[str, Iterable[str]]
    route: Callable[[str, int], str]
    tag_turns: bool = False
    turns: list[Turn] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for sender, texts in self.conversations.items():
            thread = threading.Thread(target=self._talk, args=(sender, texts), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = sum(thread.is_alive() for thread in self._threads)
        assert not alive, f"{alive} conversation(s) still running after {timeout} s"

    def answered(self, after: float = 0.0) -> list[Turn]:
        """The answered turns that started at or after `after` (time.monotonic())."""
        with self._lock:
            return [turn for turn in self.turns if turn.answered and turn.started >= after]

    def wait_for_answers(self, count: int, after: float = 0.0, timeout: float = 300.0) -> None:
        """Blocks until `count` turns that started after `after` were answered."""
        deadline = time.monotonic() + timeout
        while len(self.answered(after)) < count:
            assert time.monotonic() < deadline, (
                f"only {len(self.answered(after))} of {count} turns answered in {timeout} s"
            )
            time.sleep(0.1)

    def _talk(self, sender: str, texts: Iterable[str]) -> None:
        for index, text in enumerate(texts):
            if self._stop.is_set():
                return
            url = self.route(sender, index)
            turn = Turn(sender, index, text, url, started=time.monotonic())
            try:
                payload = {"sender": sender, "message": text}
                if self.tag_turns:
                    payload["metadata"] = {"turn": turn.tag}
                answer = post(f"{url}/webhooks/rest/webhook", payload)
                turn.replies = [reply["text"] for reply in answer if "text" in reply]
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as error:
                turn.error = f"{type(error).__name__}: {error}"
            turn.finished = time.monotonic()
            with self._lock:
                self.turns.append(turn)
            if not turn.answered:
                time.sleep(RETRY_PAUSE)
