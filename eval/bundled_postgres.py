"""A real PostgreSQL with pgvector for the tests marked postgres and eval.engines: the server bundled by the
pgserver wheel (PostgreSQL 16 + pgvector), on 127.0.0.1 in a temporary folder, stopped after."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eval.ports import POSTGRES_PORTS, free_port

SERVER_USER = "pgserver"  # PostgreSQL refuses to run as root; pgserver makes this user for it


@dataclass(frozen=True)
class _ServerUser:
    """Who runs the PostgreSQL binaries: a non-root user when we are root (None: ourselves)."""

    user: int | None = None
    group: int | None = None

    def run(self, command: list[str], check: bool = True) -> None:
        """Run a PostgreSQL binary as this user, its output captured."""
        subprocess.run(command, check=check, capture_output=True, user=self.user, group=self.group)


def _as_server_user() -> _ServerUser:
    """The user to run PostgreSQL binaries as: ourselves, or a made one when we are root."""
    if os.geteuid() != 0:
        return _ServerUser()
    from pgserver.utils import ensure_user_exists

    entry = ensure_user_exists(SERVER_USER)
    assert entry is not None
    return _ServerUser(entry.pw_uid, entry.pw_gid)


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a PostgreSQL server in a temporary folder; yield its URL; stop it and delete the folder."""
    from pgserver._commands import POSTGRES_BIN_PATH

    folder = Path(tempfile.mkdtemp(prefix="verbatim-postgres-"))
    run_as = _as_server_user()
    if run_as.user is not None and run_as.group is not None:
        os.chmod(folder, 0o755)
        os.chown(folder, run_as.user, run_as.group)
    data, log = folder / "data", folder / "server.log"
    port = free_port(POSTGRES_PORTS)  # an OS-picked one, or from VERBATIM_POSTGRES_PORTS
    pg_ctl = str(POSTGRES_BIN_PATH / "pg_ctl")
    try:
        run_as.run(
            [
                str(POSTGRES_BIN_PATH / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ]
        )
        options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off"
        run_as.run([pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"])
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            run_as.run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], check=False)
        shutil.rmtree(folder, ignore_errors=True)
