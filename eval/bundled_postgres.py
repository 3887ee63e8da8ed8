"""A real PostgreSQL with pgvector for the tests marked postgres and eval.engines: the server bundled by the
pgserver wheel (PostgreSQL 16 + pgvector), on 127.0.0.1 in a temporary folder, stopped after."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eval.ports import POSTGRES_PORTS, free_port

SERVER_USER = "pgserver"  # PostgreSQL refuses to run as root; pgserver makes this user for it


def _as_server_user() -> dict[str, object]:
    """subprocess arguments that run a PostgreSQL binary as a non-root user when we are root."""
    if os.geteuid() != 0:
        return {}
    from pgserver.utils import ensure_user_exists

    entry = ensure_user_exists(SERVER_USER)
    assert entry is not None
    return {"user": entry.pw_uid, "group": entry.pw_gid}


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a PostgreSQL server in a temporary folder; yield its URL; stop it and delete the folder."""
    from pgserver._commands import POSTGRES_BIN_PATH

    folder = Path(tempfile.mkdtemp(prefix="verbatim-postgres-"))
    run_as = _as_server_user()
    if run_as:
        os.chmod(folder, 0o755)
        os.chown(folder, int(run_as["user"]), int(run_as["group"]))  # type: ignore[call-overload]
    data, log = folder / "data", folder / "server.log"
    port = free_port(POSTGRES_PORTS)  # an OS-picked one, or from VERBATIM_POSTGRES_PORTS
    pg_ctl = str(POSTGRES_BIN_PATH / "pg_ctl")
    try:
        subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            **run_as,  # type: ignore[arg-type]
        )
        options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off"
        subprocess.run(
            [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
            check=True,
            capture_output=True,
            **run_as,  # type: ignore[arg-type]
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                **run_as,  # type: ignore[arg-type]
            )
        shutil.rmtree(folder, ignore_errors=True)
