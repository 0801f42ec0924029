"""However the process that started the servers ends, they end with it and free their ports.

The parent here is what `bridge run` is: a Python process holding a started BotStack (the
tiny bot's Rasa server). It is stopped the ways `bridge run` can be: SIGKILL (or the out-of-
memory killer), SIGTERM and Ctrl-C (SIGINT) with nothing left to clean up in the parent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.project import offline_environment
from bot.serving.processes import free_port, port_is_taken

pytestmark = [pytest.mark.slow, pytest.mark.integration]

PARENT = """
import sys, time
from pathlib import Path
from bot.serving.processes import BotStack

project = Path(sys.argv[1])
stack = BotStack(project, project / "models" / "tiny.tar.gz", project / "endpoints.yml", int(sys.argv[2]),
                 int(sys.argv[3]), None, project / "logs")
stack.start(timeout=180)
print(stack.processes[-1].process.pid, flush=True)
time.sleep(600)
"""


def process_is_gone(pid: int) -> bool:
    """True once `pid` exited (a zombie waiting for a dead parent's reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state == "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_the_servers_stop_and_free_their_ports_when_their_parent_is_stopped(tiny_bot, how):
    rasa_port = free_port()
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tiny_bot), str(rasa_port), str(free_port())],
        env=offline_environment({"PYTHONPATH": os.environ.get("PYTHONPATH", "")}),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        rasa_pid = int(parent.stdout.readline())
        assert port_is_taken(rasa_port)
        os.kill(parent.pid, how)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (port_is_taken(rasa_port) or not process_is_gone(rasa_pid)):
            time.sleep(0.5)
        assert process_is_gone(rasa_pid), f"the Rasa server {rasa_pid} outlived its parent"
        assert not port_is_taken(rasa_port)
    finally:
        parent.kill()
        parent.wait()
