"""PostgreSQL for tests: throw-away databases on the machine's server, and a private server
the fault tests may restart without disturbing anyone else's tests.

The machine's PostgreSQL (127.0.0.1:5432, trust auth, user postgres) is shared by every test
session on it, so a test that restarts PostgreSQL gets a cluster of its own: the same
PostgreSQL binaries, initialised in a temporary folder, listening on a free loopback port,
restarted with `pg_ctl restart` as the packaged service script restarts the shared one.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from bot.serving.scratch_database import HOST, PORT, USER, scratch_database

SHARED_PORT = PORT


def database_url(name: str, port: int = SHARED_PORT) -> str:
    """The SQLAlchemy URL of database `name` on loopback."""
    return f"postgresql://{USER}@{HOST}:{port}/{name}"


def temporary_database(port: int = SHARED_PORT) -> AbstractContextManager[str]:
    """A new empty database (its name), dropped afterwards even if connections remain."""
    return scratch_database("bridge_test", port)


def _binary(name: str) -> str:
    """A PostgreSQL server program (initdb, pg_ctl) from Debian's versioned folder or PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    if not found[-1]:
        raise FileNotFoundError(f"{name} not found: install PostgreSQL's server package (postgresql)")
    return found[-1]


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of one test on `port`: start, restart, stop.

    PostgreSQL refuses to run as root, so as root its programs run as the postgres user.
    """

    port: int
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bridge-pg-")))

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def _run(self, *command: str) -> None:
        as_postgres = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []
        # Output goes to a file: a started server inherits pg_ctl's descriptors, and a pipe
        # would keep this call waiting for the server to exit.
        with (self.folder / "pg_ctl.log").open("ab") as log:
            subprocess.run([*as_postgres, *command], check=True, stdout=log, stderr=log, timeout=120)

    def _pg_ctl(self, action: str, *options: str) -> None:
        log = ("-l", str(self.folder / "postgres.log")) if action != "stop" else ()
        self._run(_binary("pg_ctl"), action, "-D", str(self.data), "-w", "-t", "60", *log, *options)

    def start(self) -> None:
        """Initialises the cluster (trust auth on loopback, user postgres) and starts it."""
        if os.geteuid() == 0:
            shutil.chown(self.folder, USER)
        if not self.data.exists():
            self._run(_binary("initdb"), "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        self._pg_ctl("start", "-o", options)

    def restart(self) -> None:
        """Restarts the server ("fast": every open connection is cut, as in a real restart)."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        """Stops the server if it runs and removes its folder."""
        try:
            self._pg_ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.folder, ignore_errors=True)
